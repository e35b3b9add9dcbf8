using EventSnn.Snn;

namespace EventSnn.Snn.Tests;

/// <summary>The streaming path (B = 1, update per chunk) allocates nothing in steady state.</summary>
public class AllocationTests
{
    [Fact]
    public void Online_fptt_learning_and_inference_allocate_nothing_per_step_after_warm_up()
    {
        var net = new Network<float>(new NetworkConfig
        {
            InputSize = 200,
            Layers = [new LayerConfig { Size = 32 }, new LayerConfig { Model = NeuronModel.Alif, Size = 16 }],
            Readout = new ReadoutConfig { Size = 4 },
        });
        var opt = new Adam<float>(net.Parameters, 1e-3);
        var learner = new FpttLearner<float>(net, opt, new FpttOptions(), 1, 10) { AutoUpdate = true };
        NetworkState<float> state = net.CreateState(1);
        NetworkState<float> inference = net.CreateState(1);
        var rng = new SnnRandom(3);
        int[][] inputs = new int[64][];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = [rng.NextInt(200), rng.NextInt(200), rng.NextInt(200), rng.NextInt(200)];
        }

        int[] label = [2];
        var output = new float[4];

        void Run(int steps, int offset)
        {
            for (int t = 0; t < steps; t++)
            {
                int[] x = inputs[(t + offset) % inputs.Length];
                learner.Observe(StepInput.Spikes<float>(x), new StepTarget<float>(label, 1.0), state, output);
                net.Step(StepInput.Spikes<float>(x), inference, output);
            }
        }

        Run(1000, 0); // warm-up: tiered JIT, lazily created scratch, index buffers
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(500, 7);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.True(opt.StepCount >= 70);
    }

    [Fact]
    public void Learning_with_helper_threads_allocates_nothing_per_step_on_the_calling_thread()
    {
        // large enough for every split: the update, the W_in gather (> 4,096 weights per step), the gates
        var net = new Network<float>(new NetworkConfig
        {
            InputSize = 600,
            Layers = [new LayerConfig { Size = 64, InputNorm = InputNormKind.Layer }],
            Readout = new ReadoutConfig { Size = 4 },
        });
        var opt = new Adam<float>(net.Parameters, 1e-3);
        using var workers = new UpdateWorkers(2);
        var learner = new FpttLearner<float>(net, opt, new FpttOptions(), 1, 10) { AutoUpdate = true, UpdateWorkers = workers };
        NetworkState<float> state = net.CreateState(1);
        var rng = new SnnRandom(4);
        int[][] inputs = new int[16][];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = [.. Enumerable.Range(0, 600).Where(_ => rng.NextDouble() < 0.15)];
        }

        int[] label = [1];
        var output = new float[4];

        void Run(int steps)
        {
            for (int t = 0; t < steps; t++)
            {
                learner.Observe(StepInput.Spikes<float>(inputs[t % inputs.Length]), new StepTarget<float>(label, 1.0), state, output);
            }
        }

        Run(600);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(300);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(90, opt.StepCount);
    }
}
