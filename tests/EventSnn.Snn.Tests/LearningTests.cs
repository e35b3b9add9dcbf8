using EventSnn.Snn;
using EventSnn.Snn.Tasks;

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
