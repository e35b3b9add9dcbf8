using EventSnn.Snn.Classification;
using EventSnn.Transforms;

namespace EventSnn.Snn.Tests;

public class SequenceTrainerTests
{
    private const int Inputs = 8;
    private const int Classes = 4;
    private const int Steps = 12;

    /// <summary>A sparse test sequence: class c drives inputs 2c and 2c+1 with counts, the rest is noise.</summary>
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

        public int Steps => SequenceTrainerTests.Steps;

        public int Features => Inputs;

        public int Label { get; }

        public int NonZeros { get; }

        public ReadOnlySpan<int> ActiveAt(int step) => _idx[step];

        public ReadOnlySpan<float> ValuesAt(int step) => _val[step];
    }

    /// <summary>A test sample that cancels a token when the evaluation reads it.</summary>
    private sealed class CancellingSequence(ILabelledSequence inner, CancellationTokenSource cts) : ILabelledSequence
    {
        public int Steps => inner.Steps;

        public int Features => inner.Features;

        public int Label => inner.Label;

        public int NonZeros => inner.NonZeros;

        public ReadOnlySpan<int> ActiveAt(int step)
        {
            cts.Cancel();
            return inner.ActiveAt(step);
        }

        public ReadOnlySpan<float> ValuesAt(int step) => inner.ValuesAt(step);
    }

    [Fact]
    public void Stopping_while_testing_a_completed_epoch_keeps_and_saves_it()
    {
        // the interrupt lands in the test-set evaluation after the first epoch: the epoch counts,
        // the checkpoint is written (marked interrupted), and Train returns instead of throwing
        List<ILabelledSequence> train = Data(6, 1);
        using var cts = new CancellationTokenSource();
        List<ILabelledSequence> test = [.. Data(2, 2).Select(s => (ILabelledSequence)new CancellingSequence(s, cts))];
        string path = Path.Combine(Path.GetTempPath(), $"esnn-stop-{Guid.NewGuid():N}.ckpt");
        try
        {
            using var trainer = new SequenceTrainer(Options(SequenceTrainingMethod.Fptt, epochs: 5), Inputs, Classes, Steps);
            var seen = new List<EpochMetrics>();
            TrainingResult r = trainer.Train(train, test, path, seen.Add, cancellation: cts.Token);
            Assert.True(r.Interrupted);
            Assert.Equal(1, trainer.CompletedEpochs);
            Assert.Single(seen);
            Assert.True(seen[0].Interrupted);
            Assert.True(double.IsNaN(seen[0].TestAccuracy));
            CheckpointData saved = Checkpoint.Read(path);
            Assert.Equal(1, saved.Meta["training"]!["epoch"]!.GetValue<int>());
            Assert.True(saved.Meta["training"]!["interrupted"]!.GetValue<bool>());
        }
        finally
        {
            File.Delete(path);
        }
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

    private static SequenceTrainerOptions Options(SequenceTrainingMethod method, int epochs = 6, double lr = 1e-2) => new()
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

    private static bool AllFinite(Network<float> n) => n.Parameters.AllFinite();

    [Theory]
    [InlineData(SequenceTrainingMethod.Fptt)]
    [InlineData(SequenceTrainingMethod.Bptt)]
    public void Trains_above_chance_and_reports_every_epoch(SequenceTrainingMethod method)
    {
        List<ILabelledSequence> train = Data(12, 1), test = Data(6, 2);
        using var trainer = new SequenceTrainer(Options(method), Inputs, Classes, Steps);
        var seen = new List<EpochMetrics>();
        TrainingResult r = trainer.Train(train, test, onEpoch: seen.Add);
        Assert.Equal(6, seen.Count);
        Assert.Equal([1, 2, 3, 4, 5, 6], seen.Select(m => m.Epoch));
        Assert.All(seen, m => Assert.True(double.IsFinite(m.Loss) && m.SamplesPerSecond > 0 && m.Updates > 0 && !m.Interrupted));

        // FPTT: one update per chunk (3) per batch (48 / 8 = 6); BPTT: one per batch
        Assert.Equal(method == SequenceTrainingMethod.Fptt ? 18 : 6, seen[0].Updates);
        Assert.Equal(0, r.Divergences);
        Assert.Equal(seen[^1].TestAccuracy, r.FinalTestAccuracy);
        Assert.True(r.BestTestAccuracy > 0.5, $"best test accuracy {r.BestTestAccuracy} (chance 0.25)");
        Assert.True(seen[^1].Loss < seen[0].Loss, $"loss {seen[0].Loss} -> {seen[^1].Loss}");

        // the reported test accuracy is what Evaluate gives on the final weights
        EvaluationResult e = SequenceTrainer.Evaluate(trainer.CurrentNetwork(), test);
        Assert.Equal(r.FinalTestAccuracy, e.Accuracy);
        Assert.Equal(test.Count, e.Confusion.Sum());
    }

    [Theory]
    [InlineData(SequenceTrainingMethod.Fptt)]
    [InlineData(SequenceTrainingMethod.Bptt)]
    public void Nan_weights_are_detected_rolled_back_and_reported(SequenceTrainingMethod method)
    {
        List<ILabelledSequence> train = Data(6, 1), test = Data(2, 2);
        using var trainer = new SequenceTrainer(Options(method, epochs: 1), Inputs, Classes, Steps);
        var learner = (ManagedBatchLearner)trainer.Learner;
        Parameter<float> w = learner.Network.Parameters[0];
        w.Data[3] = float.NaN;
        w.MarkChanged();
        var seen = new List<EpochMetrics>();
        TrainingResult r = trainer.Train(train, test, onEpoch: seen.Add);
        Assert.Equal(1, seen[0].Divergences);
        Assert.Equal(1, r.Divergences);
        Assert.True(AllFinite(learner.Network), "weights stay finite after the rollback");
        Assert.True(double.IsFinite(seen[0].Loss) && double.IsFinite(seen[0].TestAccuracy));
    }

    [Theory]
    [InlineData(SequenceTrainingMethod.Fptt, 1e6)]
    [InlineData(SequenceTrainingMethod.Bptt, 1e6)]
    [InlineData(SequenceTrainingMethod.Fptt, 1e38)] // weights overflow to ±Inf within one update
    [InlineData(SequenceTrainingMethod.Bptt, 1e38)]
    public void A_huge_learning_rate_diverges_and_is_rolled_back_and_counted(SequenceTrainingMethod method, double lr)
    {
        List<ILabelledSequence> train = Data(8, 1), test = Data(2, 2);
        using var trainer = new SequenceTrainer(Options(method, epochs: 2, lr: lr), Inputs, Classes, Steps);
        var seen = new List<EpochMetrics>();
        TrainingResult r = trainer.Train(train, test, onEpoch: seen.Add);
        Assert.True(r.Divergences > 0, "exploding loss must be detected");
        Assert.Equal(r.Divergences, seen.Sum(m => m.Divergences));
        Assert.True(AllFinite(trainer.CurrentNetwork()));
    }

    [Fact]
    public void Checkpoint_resumes_after_the_saved_epoch_and_interruption_stops_early()
    {
        string dir = Path.Combine(Path.GetTempPath(), "eventsnn-trainer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            List<ILabelledSequence> train = Data(4, 1), test = Data(2, 2);
            string path = Path.Combine(dir, "t.ckpt");
            double firstSeconds;
            using (var first = new SequenceTrainer(Options(SequenceTrainingMethod.Fptt, epochs: 1), Inputs, Classes, Steps))
            {
                first.Train(train, test, path);
                firstSeconds = first.CompletedSeconds;
            }

            CheckpointData data = Checkpoint.Read(path);
            Assert.Equal(1, data.Meta["training"]!["epoch"]!.GetValue<int>());
            Assert.Equal("fptt", data.Meta["training"]!["method"]!.GetValue<string>());
            Assert.True(firstSeconds > 0);
            Assert.Equal(firstSeconds, data.Meta["training"]!["seconds"]!.GetValue<double>());

            using var second = new SequenceTrainer(Options(SequenceTrainingMethod.Fptt, epochs: 3), Inputs, Classes, Steps);
            second.Resume(path);
            Assert.Equal(1, second.CompletedEpochs);
            Assert.Equal(firstSeconds, second.CompletedSeconds); // the first sitting's wall time carries over
            var seen = new List<EpochMetrics>();
            second.Train(train, test, path, seen.Add);
            Assert.Equal([2, 3], seen.Select(m => m.Epoch));
            Assert.Equal(3, Checkpoint.Read(path).Meta["training"]!["epoch"]!.GetValue<int>());
            Assert.True(second.CompletedSeconds > firstSeconds);

            // a BPTT trainer refuses an FPTT checkpoint
            using var bptt = new SequenceTrainer(Options(SequenceTrainingMethod.Bptt), Inputs, Classes, Steps);
            Assert.Throws<CheckpointException>(() => bptt.Resume(path));

            // cancelled before the first batch: nothing trained, the epoch is reported as interrupted and saved
            using var cts = new CancellationTokenSource();
            cts.Cancel();
            using var third = new SequenceTrainer(Options(SequenceTrainingMethod.Fptt, epochs: 3), Inputs, Classes, Steps);
            TrainingResult r = third.Train(train, test, Path.Combine(dir, "c.ckpt"), cancellation: cts.Token);
            Assert.True(r.Interrupted);
            Assert.True(r.Epochs[0].Interrupted);
            Assert.True(File.Exists(Path.Combine(dir, "c.ckpt")));
            Assert.Equal(0, third.CompletedEpochs);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void An_epoch_interrupted_between_batches_resumes_from_the_next_batch_and_equals_the_uninterrupted_run(int threads)
    {
        string dir = Path.Combine(Path.GetTempPath(), "eventsnn-trainer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            // 40 samples in batches of 8: 5 batches per epoch, the interruption lands after batch 3 of epoch 2
            List<ILabelledSequence> train = Data(10, 1), test = Data(2, 2);
            SequenceTrainerOptions options = Options(SequenceTrainingMethod.Fptt, epochs: 3) with { Threads = threads };
            string straight = Path.Combine(dir, "straight.ckpt"), cut = Path.Combine(dir, "cut.ckpt");
            var expected = new List<EpochMetrics>();
            using (var t = new SequenceTrainer(options, Inputs, Classes, Steps))
            {
                t.Train(train, test, straight, expected.Add);
            }

            using var cts = new CancellationTokenSource();
            var first = new List<EpochMetrics>();
            using (var t = new SequenceTrainer(options, Inputs, Classes, Steps))
            {
                TrainingResult r = t.Train(train, test, cut, first.Add, p =>
                {
                    if (p.Epoch == 2 && p.Batch == 3)
                    {
                        cts.Cancel();
                    }
                }, cts.Token);
                Assert.True(r.Interrupted);
                Assert.Equal(1, t.CompletedEpochs);
            }

            Assert.Equal(2, first.Count);
            Assert.True(first[1].Interrupted);
            Assert.Equal(3, first[1].BatchesDone);
            Assert.Equal(5, first[1].Batches);
            Assert.True(double.IsNaN(first[1].TestAccuracy));
            CheckpointData saved = Checkpoint.Read(cut);
            Assert.Equal(1, saved.Meta["training"]!["epoch"]!.GetValue<int>());
            Assert.Equal(3, saved.Meta["training"]!["progress"]!["batches_done"]!.GetValue<int>());
            Assert.Contains("fptt.gradient/layers.0.w_in.weight", saved.Tensors.Keys); // the next chunk's regulariser gradient, as the update left it
            string keep = Path.Combine(dir, "cut-copy.ckpt");
            File.Copy(cut, keep);

            var rest = new List<EpochMetrics>();
            using (var t = new SequenceTrainer(options, Inputs, Classes, Steps))
            {
                t.Resume(cut);
                Assert.Equal(1, t.CompletedEpochs);
                Assert.Equal(3, t.ResumedBatches);
                t.Train(train, test, cut, rest.Add);
                Assert.Equal(0, t.ResumedBatches);
            }

            // epochs 2 and 3 equal the uninterrupted run's to the bit: losses, accuracies, updates, every tensor
            Assert.Equal([2, 3], rest.Select(m => m.Epoch));
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(expected[i + 1].Loss, rest[i].Loss);
                Assert.Equal(expected[i + 1].TrainAccuracy, rest[i].TrainAccuracy);
                Assert.Equal(expected[i + 1].TestAccuracy, rest[i].TestAccuracy);
                Assert.Equal(expected[i + 1].Updates, rest[i].Updates);
                Assert.Equal(5, rest[i].BatchesDone);
            }

            Assert.True(rest[0].Seconds > first[1].Seconds); // the resumed epoch counts the time before the interruption too
            CheckpointData a = Checkpoint.Read(straight), b = Checkpoint.Read(cut);
            Assert.Equal(a.Tensors.Count, b.Tensors.Count);
            string[] differing = [.. a.Tensors.Where(kv => !kv.Value.Data.AsSpan().SequenceEqual(b.Tensors[kv.Key].Data)).Select(kv => kv.Key)];
            Assert.True(differing.Length == 0, "tensors that differ: " + string.Join(", ", differing));

            Assert.Null(b.Meta["training"]!["progress"]);
            Assert.DoesNotContain("fptt.gradient/layers.0.w_in.weight", b.Tensors.Keys); // after W ← W̄ it is recomputed, as in the uninterrupted run
            Assert.False(b.Meta["training"]!["interrupted"]!.GetValue<bool>());

            // a run with another batch size cannot continue that epoch: refused naming the checkpoint
            using var other = new SequenceTrainer(options with { Batch = 4 }, Inputs, Classes, Steps);
            other.Resume(keep);
            CheckpointException refused = Assert.Throws<CheckpointException>(() => other.Train(train, test));
            Assert.Contains(keep, refused.Message, StringComparison.Ordinal);
            Assert.Contains("batches of 4", refused.Message, StringComparison.Ordinal);

            // a progress record that does not fit its checkpoint is refused naming the field
            string bad = Path.Combine(dir, "bad.ckpt");
            other.Learner.Save(bad, new System.Text.Json.Nodes.JsonObject
            {
                ["epoch"] = 1,
                ["method"] = "fptt",
                ["progress"] = new System.Text.Json.Nodes.JsonObject { ["epoch"] = 2, ["batch"] = 8, ["samples"] = 40, ["batches_done"] = 9 },
            });
            using var third = new SequenceTrainer(options, Inputs, Classes, Steps);
            CheckpointException unreadable = Assert.Throws<CheckpointException>(() => third.Resume(bad));
            Assert.Contains("training.progress", unreadable.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Evaluate_is_deterministic_and_counts_the_confusion()
    {
        List<ILabelledSequence> test = Data(5, 4);
        var net = new Network<float>(Options(SequenceTrainingMethod.Fptt).NetworkConfig(Inputs, Classes));
        EvaluationResult a = SequenceTrainer.Evaluate(net, test);
        EvaluationResult b = SequenceTrainer.Evaluate(net, test);
        Assert.Equal(a.Accuracy, b.Accuracy);
        Assert.Equal(a.Loss, b.Loss);
        Assert.Equal(a.Confusion, b.Confusion);
        Assert.Equal(20, a.Samples);
        for (int c = 0; c < Classes; c++)
        {
            Assert.Equal(5, a.Support(c));
        }

        int diagonal = 0;
        for (int c = 0; c < Classes; c++)
        {
            diagonal += a.Confusion[(c * Classes) + c];
        }

        Assert.Equal(diagonal / 20.0, a.Accuracy);
        Assert.True(a.Loss > 0);
    }

    [Fact]
    public void One_evaluation_pass_reports_the_accuracy_of_every_decision_reading()
    {
        List<ILabelledSequence> train = Data(8, 1);
        List<ILabelledSequence> test = Data(6, 9);
        using var trainer = new SequenceTrainer(Options(SequenceTrainingMethod.Fptt, epochs: 1), Inputs, Classes, Steps);
        TrainingResult r = trainer.Train(train, test);
        Network<float> net = trainer.CurrentNetwork();
        EvaluationResult last = SequenceTrainer.Evaluate(net, test, DecisionReadout.Last, 2);
        EvaluationResult mean = SequenceTrainer.Evaluate(net, test, DecisionReadout.Mean);
        EvaluationResult max = SequenceTrainer.Evaluate(net, test, DecisionReadout.Max);

        // every reading of the pass equals a separate evaluation with that reading, whichever was asked for
        foreach (EvaluationResult e in (EvaluationResult[])[last, mean, max])
        {
            Assert.Equal(last.Accuracy, e.ByDecision.Last);
            Assert.Equal(mean.Accuracy, e.ByDecision.Mean);
            Assert.Equal(max.Accuracy, e.ByDecision.Max);
        }

        Assert.False(last.Accuracy == mean.Accuracy && mean.Accuracy == max.Accuracy, "the readings should differ on this data");
        Assert.Equal(r.Epochs[0].TestAccuracy, r.Epochs[0].TestByDecision.Of(trainer.Options.Decision));
        Assert.True(double.IsNaN(SequenceTrainer.Evaluate(net, []).ByDecision.Last));
    }
}
