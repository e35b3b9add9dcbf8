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
    private const int Patterns = 256;
    private readonly TorchNetwork _network;
    private readonly TorchState _state;
    private readonly TorchFpttLearner? _learner;
    private readonly int[][] _indices;
    private readonly int[][] _offsets;
    private readonly int[][] _labels;
    private readonly float[] _output;
    private readonly int _previousThreads;
    private int _next;

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
        _network = new TorchNetwork(new NetworkConfig
        {
            InputSize = options.Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = options.Hidden, InputNorm = options.Norm }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = options.Outputs },
            Seed = options.Seed,
        });
        _state = _network.CreateState(options.Batch);
        _output = new float[options.Batch * options.Outputs];
        if (options.Learn)
        {
            _learner = new TorchFpttLearner(_network, new TorchOptimizerOptions { LearningRate = 1e-3 }, new FpttOptions(), options.Batch, Math.Max(1, options.Chunk)) { AutoUpdate = true };
        }

        // the same pool as ManagedStepTarget (same generator, same order of draws)
        (_indices, _offsets, _labels) = StepBenchmark.InputPool(options, Patterns);
    }

    /// <inheritdoc/>
    public string Backend => "torch";

    /// <summary>torch intra-op threads used.</summary>
    public int Threads { get; }

    /// <inheritdoc/>
    public void Step()
    {
        int p = _next;
        _next = (_next + 1) % Patterns;
        var input = new StepInput<float>(_indices[p], _offsets[p]);
        if (_learner is null)
        {
            _network.Step(input, _state, _output);
        }
        else
        {
            _learner.Observe(input, new StepTarget<float>(_labels[p], 1.0), _state, _output);
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
