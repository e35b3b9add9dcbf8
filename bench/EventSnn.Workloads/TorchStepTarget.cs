using EventSnn.Snn;
using EventSnn.Torch;
using EventSnn.Torch.Native;
using TorchSharp;

namespace EventSnn.Workloads;

/// <summary>
/// The TorchSharp backend as a step-benchmark target, the exact counterpart of
/// <see cref="ManagedStepTarget"/>: the same network (one LTC layer of Hidden neurons, leaky
/// readout of Outputs classes, the same initial weights), the same pool of sparse binary input
/// patterns and labels (same generator and seed), and for learning the same FPTT settings
/// (Adam 1e-3, α 0.1, β 0.5, clip 1, one update per chunk, a classification target every step).
/// Inference runs under no_grad; learning runs <see cref="TorchFpttLearner"/>.
/// </summary>
public sealed class TorchStepTarget : IStepBenchmarkTarget
{
    private readonly TorchNetwork _network;
    private readonly TorchState _state;
    private readonly TorchFpttLearner? _learner;
    private readonly StepInputCycle _inputs;
    private readonly float[] _output;
    private readonly int _previousThreads;

    /// <summary>Builds the network and the input pool; <paramref name="threads"/> &gt; 0 sets torch's intra-op threads for the target's lifetime.</summary>
    public TorchStepTarget(StepBenchmarkOptions options, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        TorchRuntime.EnsureLoaded();
        _previousThreads = torch.get_num_threads();
        if (threads > 0)
        {
            torch.set_num_threads(threads);
        }

        Threads = torch.get_num_threads();
        _network = new TorchNetwork(StepBenchmark.CreateNetworkConfig(options));
        _state = _network.CreateState(options.Batch);
        _output = new float[options.Batch * options.Outputs];
        if (options.Learn)
        {
            _learner = new TorchFpttLearner(_network, new TorchOptimizerOptions { LearningRate = 1e-3 }, new FpttOptions(), options.Batch, Math.Max(1, options.Chunk)) { AutoUpdate = true };
        }

        // the same input cycle as the managed targets (same generator, same order of draws)
        _inputs = new StepInputCycle(options);
    }

    /// <inheritdoc/>
    public string Backend => "torch";

    /// <summary>torch intra-op threads used.</summary>
    public int Threads { get; }

    /// <inheritdoc/>
    public void Step()
    {
        StepInput<float> input = _inputs.Next(out int[] labels);
        if (_learner is null)
        {
            _network.Step(input, _state, _output);
        }
        else
        {
            _learner.Observe(input, new StepTarget<float>(labels, 1.0), _state, _output);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _learner?.Dispose();
        _state.Dispose();
        _network.Dispose();
        torch.set_num_threads(_previousThreads);
    }
}
