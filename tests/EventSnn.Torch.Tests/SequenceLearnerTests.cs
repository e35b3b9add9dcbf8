using EventSnn.Snn;
using EventSnn.Snn.Classification;
using EventSnn.Torch.Native;
using TorchSharp;

namespace EventSnn.Torch.Tests;

/// <summary>
/// <see cref="TorchSequenceLearner"/> behind <see cref="SequenceTrainer"/>: the same per-epoch
/// losses as the managed backend, and the divergence guard (torch-side snapshots) rolls back and
/// counts a NaN weight or an exploding learning rate exactly as the managed backend does.
/// Serial: the learner sets libtorch's process-wide thread count and restores it when disposed.
/// </summary>
[Collection(SerialCollection.Name)]
public class SequenceLearnerTests
{
    private const int Inputs = 8;
    private const int Classes = 4;
    private const int Steps = 12;

    public SequenceLearnerTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData(SequenceTrainingMethod.Fptt)]
    [InlineData(SequenceTrainingMethod.Bptt)]
    public void Torch_and_managed_trainers_report_the_same_losses(SequenceTrainingMethod method)
    {
        List<ILabelledSequence> train = Data(6, 1), test = Data(2, 2);
        SequenceTrainerOptions options = Options(method, epochs: 3, lr: 1e-2);
        TrainingResult managed, viaTorch;
        using (var trainer = new SequenceTrainer(options, Inputs, Classes, Steps))
        {
            managed = trainer.Train(train, test);
        }

        using (var trainer = new SequenceTrainer(options, new TorchSequenceLearner(SequenceLearnerSetup.From(options, Inputs, Classes, Steps))))
        {
            viaTorch = trainer.Train(train, test);
        }

        Assert.Equal(managed.Epochs.Count, viaTorch.Epochs.Count);
        for (int e = 0; e < managed.Epochs.Count; e++)
        {
            Assert.Equal(managed.Epochs[e].Loss, viaTorch.Epochs[e].Loss, 4);
            Assert.Equal(managed.Epochs[e].TestLoss, viaTorch.Epochs[e].TestLoss, 4);
            Assert.Equal(managed.Epochs[e].TrainAccuracy, viaTorch.Epochs[e].TrainAccuracy);
        }

        Assert.Equal(0, viaTorch.Divergences);
    }

    [Theory]
    [InlineData(SequenceTrainingMethod.Fptt)]
    [InlineData(SequenceTrainingMethod.Bptt)]
    public void A_nan_weight_fails_the_snapshot_and_the_rollback_restores_the_last_good_state(SequenceTrainingMethod method)
    {
        SequenceTrainerOptions options = Options(method, epochs: 1, lr: 1e-2);
        SequenceLearnerSetup setup = SequenceLearnerSetup.From(options, Inputs, Classes, Steps);
        using var learner = new TorchSequenceLearner(setup);
        float[] x = Dense(setup, new Random(4));
        int[] y = new int[setup.Batch];
        for (int b = 0; b < y.Length; b++)
        {
            y[b] = b % Classes;
        }

        learner.TrainBatch(x, y, 1, default);
        Assert.True(learner.Snapshot());
        var good = new Network<float>(setup.Network);
        learner.ExportWeights(good);
        float[][] goodAverage = Averages(learner);

        // a second batch moves the weights, then one weight becomes NaN
        learner.TrainBatch(x, y, 2, default);
        using (torch.no_grad())
        {
            learner.Network.Parameters[0].flatten()[3] = torch.tensor(float.NaN);
        }

        Assert.False(learner.Snapshot());
        learner.Rollback();

        var now = new Network<float>(setup.Network);
        learner.ExportWeights(now);
        Assert.True(Finite(now));
        for (int p = 0; p < now.Parameters.Count; p++)
        {
            // FPTT: W ← W̄ of the last good snapshot; BPTT: the last good weights
            float[] want = method == SequenceTrainingMethod.Fptt ? goodAverage[p] : good.Parameters[p].Data;
            Assert.Equal(want, now.Parameters[p].Data);
        }

        if (method == SequenceTrainingMethod.Fptt)
        {
            var fptt = (TorchFpttLearner)Trainer(learner);
            for (int p = 0; p < now.Parameters.Count; p++)
            {
                Assert.All(Values(fptt.Lambda(p)), v => Assert.Equal(0f, v));
            }
        }

        // training goes on from the restored state
        BatchOutcome r = learner.TrainBatch(x, y, 3, default);
        Assert.False(r.Diverged);
        Assert.True(double.IsFinite(r.Loss));
        Assert.True(learner.Snapshot());
    }

    [Theory]
    [InlineData(SequenceTrainingMethod.Fptt, 1e6)]
    [InlineData(SequenceTrainingMethod.Bptt, 1e6)]
    [InlineData(SequenceTrainingMethod.Fptt, 1e30)] // (1e38 is refused by libtorch's Adam: lr / bias correction overflows float)
    [InlineData(SequenceTrainingMethod.Bptt, 1e30)]
    public void A_huge_learning_rate_diverges_and_is_rolled_back_and_counted(SequenceTrainingMethod method, double lr)
    {
        List<ILabelledSequence> train = Data(8, 1), test = Data(2, 2);
        SequenceTrainerOptions options = Options(method, epochs: 2, lr: lr);
        using var trainer = new SequenceTrainer(options, new TorchSequenceLearner(SequenceLearnerSetup.From(options, Inputs, Classes, Steps)));
        var seen = new List<EpochMetrics>();
        TrainingResult r = trainer.Train(train, test, onEpoch: seen.Add);
        Assert.True(r.Divergences > 0, "exploding loss must be detected");
        Assert.Equal(r.Divergences, seen.Sum(m => m.Divergences));
        Assert.True(Finite(trainer.CurrentNetwork()), "weights stay finite after the rollbacks");
    }

    [Fact]
    public void The_learner_uses_one_torch_thread_and_restores_the_setting()
    {
        int before = torch.get_num_threads();
        SequenceTrainerOptions options = Options(SequenceTrainingMethod.Fptt, epochs: 1, lr: 1e-2);
        using (new TorchSequenceLearner(SequenceLearnerSetup.From(options, Inputs, Classes, Steps)))
        {
            Assert.Equal(1, torch.get_num_threads());
        }

        Assert.Equal(before, torch.get_num_threads());
    }

    private static TorchLearner Trainer(TorchSequenceLearner learner) => learner.Trainer.Learner;

    private static float[][] Averages(TorchSequenceLearner learner)
    {
        int n = learner.Network.Parameters.Count;
        var result = new float[n][];
        TorchLearner l = Trainer(learner);
        for (int p = 0; p < n; p++)
        {
            result[p] = l is TorchFpttLearner f ? Values(f.Average(p)) : [];
        }

        return result;
    }

    /// <summary>Every value finite (huge finite weights count: the managed backend's snapshot rule).</summary>
    private static bool Finite(Network<float> network)
    {
        for (int p = 0; p < network.Parameters.Count; p++)
        {
            foreach (float v in network.Parameters[p].Data)
            {
                if (!float.IsFinite(v))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static float[] Values(torch.Tensor t)
    {
        var v = new float[t.numel()];
        TorchState.ToArray(t, v);
        return v;
    }

    private static float[] Dense(SequenceLearnerSetup setup, Random rng)
    {
        var x = new float[setup.Steps * setup.Batch * setup.Network.InputSize];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = rng.NextDouble() < 0.3 ? 1f : 0f;
        }

        return x;
    }

    private static List<ILabelledSequence> Data(int perClass, int seed)
    {
        var rng = new Random(seed);
        var list = new List<ILabelledSequence>();
        for (int k = 0; k < perClass; k++)
        {
            for (int c = 0; c < Classes; c++)
            {
                list.Add(new Sequence(c, rng));
            }
        }

        return list;
    }

    private static SequenceTrainerOptions Options(SequenceTrainingMethod method, int epochs, double lr) => new()
    {
        Method = method,
        Epochs = epochs,
        Hidden = 24,
        Batch = 8,
        Chunks = 3,
        LearningRate = lr,
        Seed = 2,
    };

    /// <summary>A sparse sequence: class c drives inputs 2c and 2c+1 with counts, the rest is noise.</summary>
    private sealed class Sequence : ILabelledSequence
    {
        private readonly int[][] _idx;
        private readonly float[][] _val;

        public Sequence(int label, Random rng)
        {
            Label = label;
            _idx = new int[Steps][];
            _val = new float[Steps][];
            for (int t = 0; t < Steps; t++)
            {
                var idx = new List<int>();
                var val = new List<float>();
                for (int i = 0; i < Inputs; i++)
                {
                    if (rng.NextDouble() < (i / 2 == label ? 0.6 : 0.1))
                    {
                        idx.Add(i);
                        val.Add(1 + rng.Next(3));
                    }
                }

                _idx[t] = [.. idx];
                _val[t] = [.. val];
                NonZeros += idx.Count;
            }
        }

        public int Steps => SequenceLearnerTests.Steps;

        public int Features => Inputs;

        public int Label { get; }

        public int NonZeros { get; }

        public ReadOnlySpan<int> ActiveAt(int step) => _idx[step];

        public ReadOnlySpan<float> ValuesAt(int step) => _val[step];
    }
}
