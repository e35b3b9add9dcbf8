using EventSnn.Snn;
using EventSnn.Workloads;

namespace EventSnn.Snn.Tests;

public class LearningTests
{
    [Fact]
    public void Two_runs_with_the_same_seed_give_bit_identical_parameters()
    {
        var o = new AddingTaskOptions { SequenceLength = 20, Batch = 4, Neurons = 16, Iterations = 6, Seed = 5, CurvePoints = 2, CurveEvalSamples = 8, FinalEvalSamples = 8 };
        (float[] a, double ma) = Train(o);
        (float[] b, double mb) = Train(o);
        Assert.Equal(a, b);
        Assert.Equal(ma, mb);
        (float[] c, _) = Train(o with { Seed = 6 });
        Assert.NotEqual(a, c);

        (float[] d, _) = Train(o with { Method = AddingMethod.Bptt });
        (float[] e, _) = Train(o with { Method = AddingMethod.Bptt });
        Assert.Equal(d, e);
    }

    private static (float[] Params, double Mse) Train(AddingTaskOptions o)
    {
        float[]? flat = null;
        AddingTaskResult r = AddingTask.Run(o, null, net => flat = net.Parameters.Flatten());
        return (flat!, r.FinalMse);
    }

    [Fact]
    public void Fptt_learns_the_adding_task_at_T50_well_below_chance()
    {
        var o = new AddingTaskOptions { SequenceLength = 50, Batch = 32, Neurons = 64, Iterations = 300, Seed = 1, CurvePoints = 1, CurveEvalSamples = 32, FinalEvalSamples = 500 };
        AddingTaskResult r = AddingTask.Run(o);
        Assert.True(r.FinalMse < 0.1, $"final MSE {r.FinalMse} (chance 0.167)");
        Assert.Equal(0, r.Divergences);
        Assert.Equal(5, r.ChunkLength);
    }

    [Fact]
    public void Fptt_memory_is_flat_in_sequence_length_at_fixed_chunk_length_and_bptt_grows()
    {
        long Mem(int T, AddingMethod m) => AddingTask.Run(new AddingTaskOptions
        {
            SequenceLength = T, Batch = 2, Neurons = 8, Iterations = 1, Method = m, ChunkLength = m == AddingMethod.Fptt ? 10 : 0,
            CurvePoints = 1, CurveEvalSamples = 2, FinalEvalSamples = 2,
        }).PeakMemoryBytes;
        Assert.Equal(Mem(100, AddingMethod.Fptt), Mem(1000, AddingMethod.Fptt));
        long b100 = Mem(100, AddingMethod.Bptt);
        long b1000 = Mem(1000, AddingMethod.Bptt);
        Assert.True(b1000 > 8 * b100, $"BPTT {b100} -> {b1000}");
    }
}

public class BaselineLearnerTests
{
    private static NetworkConfig Config => new()
    {
        InputSize = 4,
        Layers = [new LayerConfig { Size = 6 }],
        Readout = new ReadoutConfig { Kind = ReadoutKind.Membrane, Size = 1 },
        InitialState = InitialStateMode.Zero,
        Seed = 2,
    };

    [Fact]
    public void Truncated_bptt_updates_every_window_and_equals_bptt_when_the_window_covers_the_sequence()
    {
        var data = new ChunkData<double>(Config, 1, 8, sparse: false, regression: true, new SnnRandom(3));

        var a = new Network<double>(Config);
        var bptt = new BpttLearner<double>(a, new Sgd<double>(a.Parameters, 0.05), 1, 8);
        NetworkState<double> sa = a.CreateState(1);
        GradientCheckTests.Run(bptt, data, sa);
        ChunkReport ra = bptt.EndChunk();

        var b = new Network<double>(Config);
        var sgd = new Sgd<double>(b.Parameters, 0.05);
        var tbptt = new TruncatedBpttLearner<double>(b, sgd, 1, 8);
        NetworkState<double> sb = b.CreateState(1);
        GradientCheckTests.Run(tbptt, data, sb); // window full: updates automatically
        Assert.Equal(1, sgd.StepCount);
        Assert.Equal(ra.Loss, tbptt.LastReport.Loss, 12);
        for (int k = 0; k < a.Parameters.Count; k++)
        {
            Assert.Equal(a.Parameters[k].Data, b.Parameters[k].Data);
        }

        var c = new Network<double>(Config);
        var sgd2 = new Sgd<double>(c.Parameters, 0.05);
        var window = new TruncatedBpttLearner<double>(c, sgd2, 1, 3);
        GradientCheckTests.Run(window, data, c.CreateState(1));
        Assert.Equal(2, sgd2.StepCount); // 8 steps: windows 3 + 3 updated, 2 pending
        Assert.Equal(2, window.StepsRecorded);
        Assert.True(window.EndChunk().Updated);
        Assert.Equal(3, sgd2.StepCount);
    }

    [Fact]
    public void Bptt_clips_to_the_global_norm()
    {
        var data = new ChunkData<double>(Config, 1, 5, sparse: false, regression: true, new SnnRandom(4));
        var reference = new Network<double>(Config);
        var grads = new GradientOnlyLearner<double>(reference, 1, 5);
        GradientCheckTests.Run(grads, data, reference.CreateState(1));
        grads.EndChunk();
        double norm = reference.Parameters.GradientNorm();
        Assert.True(norm > 0.01);

        var net = new Network<double>(Config);
        var bptt = new BpttLearner<double>(net, new Sgd<double>(net.Parameters, 1.0), 1, 5, gradientClip: norm / 4);
        GradientCheckTests.Run(bptt, data, net.CreateState(1));
        ChunkReport r = bptt.EndChunk();
        Assert.Equal(norm, r.GradientNorm, 10);
        double scale = (norm / 4) / (norm + 1e-6);
        for (int k = 0; k < net.Parameters.Count; k++)
        {
            for (int i = 0; i < net.Parameters[k].Length; i++)
            {
                Assert.Equal(reference.Parameters[k].Data[i] - (scale * reference.Parameters[k].Grad[i]), net.Parameters[k].Data[i], 12);
            }
        }

        Assert.All(net.Parameters, p => Assert.All(p.Grad, g => Assert.Equal(0.0, g)));
    }
}
