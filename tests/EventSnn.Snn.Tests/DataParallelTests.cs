using EventSnn.Snn.Classification;

namespace EventSnn.Snn.Tests;

/// <summary>
/// Data-parallel training of the managed engine (SequenceTrainerOptions.Threads): the slices of a
/// batch trained on several threads give the single thread's updates up to float summation order,
/// and the training threads allocate nothing per step.
/// </summary>
public class DataParallelTests
{
    private const int Inputs = 3;
    private const int Classes = 5;
    private const int Steps = 30;

    private static (float[] Inputs, int[] Labels)[] Batches(int count, int batch, int seed)
    {
        var rng = new Random(seed);
        var result = new (float[], int[])[count];
        for (int i = 0; i < count; i++)
        {
            var x = new float[Steps * batch * Inputs];
            for (int j = 0; j < x.Length; j++)
            {
                x[j] = rng.NextDouble() < 0.3 ? (float)(rng.NextDouble() * 2) : 0f;
            }

            var y = new int[batch];
            for (int j = 0; j < batch; j++)
            {
                y[j] = rng.Next(Classes);
            }

            result[i] = (x, y);
        }

        return result;
    }

    private static SequenceTrainerOptions Recipe(string name) => name switch
    {
        // the S-MNIST recipe: per-timestep batch norm, Adamax, a loss at every step, plus dropout
        "fptt-batchnorm-dropout" => new SequenceTrainerOptions
        {
            LayerSizes = [24, 16], InputNorm = InputNormKind.Batch, NormGain = 0.5, Optimizer = OptimizerKind.Adamax,
            Loss = LossPlacement.EveryStep, ChunkLength = 7, Dropout = 0.2, Batch = 9,
        },
        // the S-MNIST runs' recipe: running statistics per timestep, a slow membrane gate
        "fptt-timestep" => new SequenceTrainerOptions
        {
            LayerSizes = [20], InputNorm = InputNormKind.Timestep, NormGain = 1, Optimizer = OptimizerKind.Adamax,
            Loss = LossPlacement.EveryStep, ChunkLength = 7, Batch = 8, TauBiasInit = -5,
        },
        // the same with the recurrent current normalised too (statistics summed over the slices)
        "fptt-timestep-recnorm" => new SequenceTrainerOptions
        {
            LayerSizes = [20, 12], InputNorm = InputNormKind.Timestep, RecurrentNorm = true, NormGain = 0.5, Optimizer = OptimizerKind.Adamax,
            Loss = LossPlacement.EveryStep, ChunkLength = 7, Batch = 8, LearnableSlope = true,
        },
        // the liquid readout (its gate's weights, bias and slope summed over the slices), with dropout
        "fptt-timestep-liquid" => new SequenceTrainerOptions
        {
            LayerSizes = [20], InputNorm = InputNormKind.Timestep, NormGain = 1, Optimizer = OptimizerKind.Adamax,
            Loss = LossPlacement.EveryStep, ChunkLength = 7, Batch = 8, LiquidReadout = true, LearnableSlope = true, Dropout = 0.1,
        },
        // the readout's current normalised per timestep (its sums over the slices), liquid head
        "fptt-timestep-readnorm" => new SequenceTrainerOptions
        {
            LayerSizes = [20], InputNorm = InputNormKind.Timestep, NormGain = 0.5, Optimizer = OptimizerKind.Adamax,
            Loss = LossPlacement.EveryStep, ChunkLength = 7, Batch = 8, LiquidReadout = true, ReadoutNorm = true,
        },
        "fptt-running-oracle" => new SequenceTrainerOptions
        {
            LayerSizes = [20], InputNorm = InputNormKind.Running, Optimizer = OptimizerKind.Adam, ChunkLength = 5, Oracle = true, Batch = 8,
        },
        "bptt-batchnorm" => new SequenceTrainerOptions
        {
            Method = SequenceTrainingMethod.Bptt, LayerSizes = [16, 16], InputNorm = InputNormKind.Batch, Optimizer = OptimizerKind.Adamax,
            Loss = LossPlacement.EveryStep, Batch = 8,
        },
        "tbptt-layernorm" => new SequenceTrainerOptions
        {
            Method = SequenceTrainingMethod.Tbptt, LayerSizes = [16], InputNorm = InputNormKind.Layer, ChunkLength = 6, Batch = 8,
        },
        "eprop-running-dropout" => new SequenceTrainerOptions
        {
            Method = SequenceTrainingMethod.Eprop, LayerSizes = [16, 12], InputNorm = InputNormKind.Running, Dropout = 0.2, ChunkLength = 10, Batch = 9,
        },
        "ostl-layernorm" => new SequenceTrainerOptions
        {
            Method = SequenceTrainingMethod.Ostl, LayerSizes = [20], InputNorm = InputNormKind.Layer, Loss = LossPlacement.EveryStep, ChunkLength = 5, Batch = 8,
        },
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [InlineData("fptt-batchnorm-dropout")]
    [InlineData("fptt-timestep")]
    [InlineData("fptt-timestep-recnorm")]
    [InlineData("fptt-timestep-liquid")]
    [InlineData("fptt-timestep-readnorm")]
    [InlineData("fptt-running-oracle")]
    [InlineData("bptt-batchnorm")]
    [InlineData("tbptt-layernorm")]
    [InlineData("eprop-running-dropout")]
    [InlineData("ostl-layernorm")]
    public void Two_and_three_threads_update_like_one(string recipe)
    {
        SequenceTrainerOptions o = Recipe(recipe);
        using var one = new ManagedBatchLearner(SequenceLearnerSetup.From(o, Inputs, Classes, Steps));
        using var two = new ManagedBatchLearner(SequenceLearnerSetup.From(o with { Threads = 2 }, Inputs, Classes, Steps));
        using var three = new ManagedBatchLearner(SequenceLearnerSetup.From(o with { Threads = 3 }, Inputs, Classes, Steps)); // uneven slices
        Assert.Equal(2, two.Threads);
        int seed = 0;
        foreach ((float[] x, int[] y) in Batches(4, o.Batch, 7))
        {
            BatchOutcome r1 = one.TrainBatch(x, y, seed, default);
            BatchOutcome r2 = two.TrainBatch(x, y, seed, default);
            BatchOutcome r3 = three.TrainBatch(x, y, seed++, default);
            Assert.False(r1.Diverged);
            Assert.Equal(r1.Updates, r2.Updates);
            Assert.Equal(r1.Updates, r3.Updates);
            Assert.Equal(r1.Loss, r2.Loss, 1e-6);
            Assert.Equal(r1.Loss, r3.Loss, 1e-6);
        }

        // a few batches of Adam(ax) steps later the weights, W-bar and running statistics still agree
        AssertClose(one, two);
        AssertClose(one, three);

        // the updates were real: the weights moved away from the initialisation
        var fresh = new Network<float>(one.Network.Config);
        Assert.True(MaxDifference(fresh.Parameters[0].Data, one.Network.Parameters[0].Data) > 1e-3);
    }

    [Fact]
    public void The_training_threads_allocate_nothing_per_batch_after_warm_up()
    {
        SequenceTrainerOptions o = Recipe("fptt-batchnorm-dropout");
        (float[] x, int[] y)[] batches = Batches(2, o.Batch, 3);
        foreach (int threads in new[] { 1, 2 })
        {
            using var learner = new ManagedBatchLearner(SequenceLearnerSetup.From(o with { Threads = threads }, Inputs, Classes, Steps));
            for (int i = 0; i < 60; i++)
            {
                learner.TrainBatch(batches[i % 2].x, batches[i % 2].y, i, default); // warm-up: tiered JIT, events of the barrier
            }

            long before = learner.TrainingAllocatedBytes;
            long callerBefore = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 4; i++)
            {
                learner.TrainBatch(batches[i % 2].x, batches[i % 2].y, 10 + i, default);
            }

            long training = learner.TrainingAllocatedBytes - before;
            long caller = GC.GetAllocatedBytesForCurrentThread() - callerBefore;
            Assert.True(training == 0 && caller == 0, $"{threads} thread(s): the training threads allocated {training} bytes, the caller {caller} bytes");
        }
    }

    [Fact]
    public void Threads_are_validated_and_the_workers_stop_on_dispose()
    {
        SequenceTrainerOptions o = Recipe("fptt-running-oracle");
        Assert.Throws<ArgumentException>(() => (o with { Threads = 0 }).Validate());
        Assert.Throws<ArgumentException>(() => (o with { Threads = o.Batch + 1 }).Validate());
        var learner = new ManagedBatchLearner(SequenceLearnerSetup.From(o with { Threads = 2 }, Inputs, Classes, Steps));
        (float[] x, int[] y) = Batches(1, o.Batch, 1)[0];
        learner.TrainBatch(x, y, 1, default);
        learner.Dispose();
        learner.Dispose();
        Assert.Throws<ObjectDisposedException>(() => learner.TrainBatch(x, y, 1, default));
    }

    private static void AssertClose(ManagedBatchLearner a, ManagedBatchLearner b)
    {
        ParameterSet<float> pa = a.Network.Parameters, pb = b.Network.Parameters;
        for (int p = 0; p < pa.Count; p++)
        {
            double d = MaxDifference(pa[p].Data, pb[p].Data);
            Assert.True(d <= 1e-4, $"{pa[p].Name}: weights differ by {d:E2}");
            if (a.Fptt is not null)
            {
                double dbar = MaxDifference(a.Fptt.GetAverage(p), b.Fptt!.GetAverage(p));
                Assert.True(dbar <= 1e-4, $"{pa[p].Name}: W-bar differs by {dbar:E2}");
            }
        }

        for (int i = 0; i < a.Network.Buffers.Count; i++)
        {
            double d = MaxDifference(a.Network.Buffers[i].Data, b.Network.Buffers[i].Data);
            Assert.True(d <= 1e-4, $"{a.Network.Buffers[i].Name}: running statistics differ by {d:E2}");
        }
    }

    private static double MaxDifference(float[] a, float[] b)
    {
        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        }

        return max;
    }
}
