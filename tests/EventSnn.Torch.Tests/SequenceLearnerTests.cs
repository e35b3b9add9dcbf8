using System.Text.Json.Nodes;
using EventSnn.Snn;
using EventSnn.Snn.Classification;
using EventSnn.Torch.Native;
using TorchSharp;
using EventSnn.Transforms;

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
    [InlineData(SequenceTrainingMethod.Fptt, false)]
    [InlineData(SequenceTrainingMethod.Bptt, false)]
    [InlineData(SequenceTrainingMethod.Fptt, true)]
    [InlineData(SequenceTrainingMethod.Bptt, true)]
    public void Torch_and_managed_trainers_report_the_same_losses(SequenceTrainingMethod method, bool recipe)
    {
        List<ILabelledSequence> train = Data(6, 1), test = Data(2, 2);
        SequenceTrainerOptions options = recipe
            ? Recipe(method, InputNormKind.Batch) with { Epochs = 2 }
            : Options(method, epochs: 3, lr: 1e-2);
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

    /// <summary>
    /// The whole recipe batch by batch against <see cref="ManagedBatchLearner"/>: two layers with
    /// input normalisation, spike dropout (the same masks), gate-bias initialisation, per-step losses
    /// with linear weighting and the oracle term, mean decision readout, Adamax with weight decay.
    /// Batch losses, training decisions and updates agree; afterwards the exported weights and
    /// running statistics, and the torch learner's checkpoint keeps the running statistics.
    /// </summary>
    [Theory]
    [InlineData(SequenceTrainingMethod.Fptt, InputNormKind.Batch)]
    [InlineData(SequenceTrainingMethod.Fptt, InputNormKind.Running)]
    [InlineData(SequenceTrainingMethod.Fptt, InputNormKind.Timestep)]
    [InlineData(SequenceTrainingMethod.Bptt, InputNormKind.Layer)]
    [InlineData(SequenceTrainingMethod.Bptt, InputNormKind.Running)]
    public void Recipe_batches_match_the_managed_learner(SequenceTrainingMethod method, InputNormKind norm)
    {
        SequenceTrainerOptions options = Recipe(method, norm);
        SequenceLearnerSetup setup = SequenceLearnerSetup.From(options, Inputs, Classes, Steps);
        var managed = new ManagedBatchLearner(setup);
        using var learner = new TorchSequenceLearner(setup);
        Assert.Equal(TorchOptimizerKind.Adamax, learner.Trainer.Learner.OptimizerOptions.Kind);
        Assert.Equal(options.WeightDecay, learner.Trainer.Learner.OptimizerOptions.WeightDecay);
        var rng = new Random(5);
        int correct = 0;
        for (int batch = 0; batch < 4; batch++)
        {
            float[] x = Dense(setup, rng);
            int[] y = new int[setup.Batch];
            for (int b = 0; b < y.Length; b++)
            {
                y[b] = rng.Next(Classes);
            }

            BatchOutcome m = managed.TrainBatch(x, y, 10 + batch, default);
            BatchOutcome t = learner.TrainBatch(x, y, 10 + batch, default);
            Assert.Equal(m.Loss, t.Loss, 1e-5 * Math.Max(1, Math.Abs(m.Loss)));
            Assert.Equal(m.Correct, t.Correct);
            Assert.Equal(m.Updates, t.Updates);
            Assert.False(t.Diverged);
            Assert.True(t.Complete);
            correct += t.Correct;
        }

        Assert.True(correct > 0, "no correct training decision at all: the accuracy comparison proves little");
        managed.EndEpoch();
        learner.EndEpoch();
        var a = new Network<float>(setup.Network);
        var b2 = new Network<float>(setup.Network);
        managed.ExportWeights(a);
        learner.ExportWeights(b2);
        Assert.Equal(norm is InputNormKind.Running or InputNormKind.Batch or InputNormKind.Timestep ? 4 : 0, b2.Buffers.Count);
        for (int p = 0; p < a.Parameters.Count; p++)
        {
            AssertClose(b2.Parameters[p].Data, a.Parameters[p].Data, 1e-4, a.Parameters[p].Name);
        }

        for (int i = 0; i < a.Buffers.Count; i++)
        {
            AssertClose(b2.Buffers[i].Data, a.Buffers[i].Data, 1e-5, a.Buffers[i].Name);
        }

        string path = Path.Combine(Path.GetTempPath(), "eventsnn-torch-recipe-" + Guid.NewGuid().ToString("N")[..8] + ".esnn");
        try
        {
            learner.Save(path, new JsonObject { ["epoch"] = 1 });
            Network<float> loaded = Checkpoint.LoadNetwork<float>(path);
            for (int i = 0; i < b2.Buffers.Count; i++)
            {
                Assert.Equal(b2.Buffers[i].Data, loaded.Buffers[i].Data);
            }

            // and back into a fresh torch learner
            using var again = new TorchSequenceLearner(setup);
            again.Load(path);
            var c = new Network<float>(setup.Network);
            again.ExportWeights(c);
            for (int i = 0; i < b2.Buffers.Count; i++)
            {
                Assert.Equal(b2.Buffers[i].Data, c.Buffers[i].Data);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(SequenceTrainingMethod.Fptt)]
    [InlineData(SequenceTrainingMethod.Bptt)]
    public void A_cancelled_batch_stops_between_chunks_like_the_managed_learner(SequenceTrainingMethod method)
    {
        SequenceLearnerSetup setup = SequenceLearnerSetup.From(Recipe(method, InputNormKind.Layer), Inputs, Classes, Steps);
        var managed = new ManagedBatchLearner(setup);
        using var learner = new TorchSequenceLearner(setup);
        float[] x = Dense(setup, new Random(6));
        int[] y = new int[setup.Batch];
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        BatchOutcome m = managed.TrainBatch(x, y, 1, cancelled.Token);
        BatchOutcome t = learner.TrainBatch(x, y, 1, cancelled.Token);
        Assert.Equal(m.Complete, t.Complete);
        Assert.Equal(method == SequenceTrainingMethod.Bptt, t.Complete); // BPTT is one chunk: nothing to stop between
        Assert.Equal(m.Updates, t.Updates);
        Assert.Equal(1, t.Updates);
        Assert.Equal(m.Correct, t.Correct);
        Assert.Equal(m.Loss, t.Loss, 1e-5 * Math.Max(1, Math.Abs(m.Loss)));
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

    private static void AssertClose(float[] actual, float[] expected, double tolerance, string what)
    {
        double diff = 0, scale = 1e-30;
        for (int i = 0; i < expected.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }

        Assert.True(diff / scale <= tolerance, $"{what}: relative error {diff / scale:E3} > {tolerance:E1}");
    }

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

        // the losses and decisions these tests count updates and divergences for: one loss per chunk end, the last step decides
        Loss = LossPlacement.ChunkEnd,
        Decision = DecisionReadout.Last,
        Schedule = LearningRateScheduleKind.Constant,
    };

    /// <summary>The training recipe with everything on (the learning rate is moderate: the comparison is of the first batches).</summary>
    private static SequenceTrainerOptions Recipe(SequenceTrainingMethod method, InputNormKind norm) => new()
    {
        Method = method,
        Epochs = 1,
        LayerSizes = [10, 8],
        InputNorm = norm,
        NormGain = 0.8,
        Dropout = 0.2,
        TauBiasInit = -0.3,
        Loss = LossPlacement.EveryStep,
        Weighting = LossWeighting.Linear,
        Oracle = true,
        Decision = DecisionReadout.Mean,
        Optimizer = OptimizerKind.Adamax,
        WeightDecay = 1e-3,
        Batch = 6,
        Chunks = 3,
        LearningRate = 5e-3,
        Seed = 3,
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
