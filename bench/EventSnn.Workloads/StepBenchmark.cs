using System.Diagnostics;

using EventSnn.Snn;
using EventSnn.Snn.Classification;

namespace EventSnn.Workloads;

/// <summary>Something that advances a network by one time step per call (inference or online learning).</summary>
public interface IStepBenchmarkTarget : IDisposable
{
    /// <summary>Backend name, e.g. "managed".</summary>
    string Backend { get; }

    /// <summary>Advances every stream by one time step (learning targets update per chunk inside).</summary>
    void Step();
}

/// <summary>Settings of the step benchmark.</summary>
public sealed record StepBenchmarkOptions
{
    /// <summary>LTC neurons.</summary>
    public int Hidden { get; init; } = 256;

    /// <summary>Input channels.</summary>
    public int Inputs { get; init; } = 2048;

    /// <summary>Fraction of inputs active per step (sparse binary input).</summary>
    public double Density { get; init; } = 0.02;

    /// <summary>FPTT chunk length (learning: one update per chunk).</summary>
    public int Chunk { get; init; } = 10;

    /// <summary>Streams per step.</summary>
    public int Batch { get; init; } = 1;

    /// <summary>Readout classes.</summary>
    public int Outputs { get; init; } = 10;

    /// <summary>Online FPTT learning instead of inference.</summary>
    public bool Learn { get; init; }

    /// <summary>Normalisation of the layer's input current (streaming kinds: none, running, layer).</summary>
    public InputNormKind Norm { get; init; } = InputNormKind.None;

    /// <summary>Timed window in seconds.</summary>
    public double Seconds { get; init; } = 5;

    /// <summary>Warm-up in seconds before the timed window.</summary>
    public double WarmupSeconds { get; init; } = 1;

    /// <summary>Seed.</summary>
    public long Seed { get; init; } = 1;
}

/// <summary>Result of the step benchmark.</summary>
public sealed record StepBenchmarkResult
{
    /// <summary>Settings.</summary>
    public required StepBenchmarkOptions Options { get; init; }

    /// <summary>Backend.</summary>
    public required string Backend { get; init; }

    /// <summary>Time steps per wall-clock second.</summary>
    public double StepsPerSecond { get; init; }

    /// <summary>Time steps per second of process CPU time (less sensitive to other load on the machine).</summary>
    public double StepsPerCpuSecond { get; init; }

    /// <summary>Managed bytes allocated on the benchmark thread per step in the timed window.</summary>
    public double AllocatedBytesPerStep { get; init; }

    /// <summary>Steps in the timed window.</summary>
    public long Steps { get; init; }

    /// <summary>Wall-clock seconds of the timed window.</summary>
    public double Seconds { get; init; }
}

/// <summary>Backend-agnostic measurement loop: warm up, then time whole chunks of steps.</summary>
public static class StepBenchmark
{
    /// <summary>The benchmark's network: one LTC layer of <see cref="StepBenchmarkOptions.Hidden"/> neurons with the options' input normalisation and a leaky readout.</summary>
    public static NetworkConfig CreateNetworkConfig(StepBenchmarkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new NetworkConfig
        {
            InputSize = options.Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = options.Hidden, InputNorm = options.Norm }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = options.Outputs },
            Seed = options.Seed,
        };
    }

    /// <summary>
    /// The benchmark's input pool, identical for every backend: <paramref name="patterns"/> sparse
    /// binary batches (active indices and B + 1 offsets per pattern, density
    /// <see cref="StepBenchmarkOptions.Density"/>) and a label per sample, drawn from seed + 1.
    /// </summary>
    public static (int[][] Indices, int[][] Offsets, int[][] Labels) InputPool(StepBenchmarkOptions options, int patterns)
    {
        ArgumentNullException.ThrowIfNull(options);
        var rng = new SnnRandom(options.Seed + 1);
        var indices = new int[patterns][];
        var offsets = new int[patterns][];
        var labels = new int[patterns][];
        var list = new List<int>();
        for (int p = 0; p < patterns; p++)
        {
            list.Clear();
            offsets[p] = new int[options.Batch + 1];
            labels[p] = new int[options.Batch];
            for (int b = 0; b < options.Batch; b++)
            {
                for (int j = 0; j < options.Inputs; j++)
                {
                    if (rng.NextDouble() < options.Density)
                    {
                        list.Add(j);
                    }
                }

                offsets[p][b + 1] = list.Count;
                labels[p][b] = rng.NextInt(options.Outputs);
            }

            indices[p] = [.. list];
        }

        return (indices, offsets, labels);
    }

    /// <summary>Runs the benchmark on <paramref name="target"/>.</summary>
    public static StepBenchmarkResult Run(IStepBenchmarkTarget target, StepBenchmarkOptions options)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        int unit = Math.Max(1, options.Chunk);
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < options.WarmupSeconds)
        {
            for (int i = 0; i < unit; i++)
            {
                target.Step();
            }
        }

        using var proc = Process.GetCurrentProcess();
        TimeSpan cpu0 = proc.TotalProcessorTime;
        long alloc0 = GC.GetAllocatedBytesForCurrentThread();
        long steps = 0;
        sw.Restart();
        while (sw.Elapsed.TotalSeconds < options.Seconds)
        {
            for (int i = 0; i < unit; i++)
            {
                target.Step();
            }

            steps += unit;
        }

        double seconds = sw.Elapsed.TotalSeconds;
        long alloc = GC.GetAllocatedBytesForCurrentThread() - alloc0;
        proc.Refresh();
        double cpu = (proc.TotalProcessorTime - cpu0).TotalSeconds;
        return new StepBenchmarkResult
        {
            Options = options,
            Backend = target.Backend,
            StepsPerSecond = steps / seconds,
            StepsPerCpuSecond = cpu > 0 ? steps / cpu : 0,
            AllocatedBytesPerStep = (double)alloc / steps,
            Steps = steps,
            Seconds = seconds,
        };
    }
}

/// <summary>
/// The managed engine as a benchmark target: one LTC layer (Hidden) with a leaky readout
/// (Outputs) and optional input-current normalisation (Norm), sparse binary inputs drawn from a pool of pre-generated patterns of the given
/// density; learning runs FPTT (Adam 1e-3, α 0.1, β 0.5, clip 1) with one update per chunk and a
/// classification target at every step.
/// </summary>
public sealed class ManagedStepTarget : IStepBenchmarkTarget
{
    private readonly Network<float> _network;
    private readonly NetworkState<float> _state;
    private readonly FpttLearner<float>? _learner;
    private readonly StepInputCycle _inputs;
    private readonly float[] _output;
    private readonly UpdateWorkers? _workers;

    /// <summary>Builds the network and the input pool; with <paramref name="updateThreads"/> &gt; 1 a learner's updates are shared by that many threads.</summary>
    public ManagedStepTarget(StepBenchmarkOptions options, int updateThreads = 1)
    {
        ArgumentNullException.ThrowIfNull(options);
        _network = new Network<float>(StepBenchmark.CreateNetworkConfig(options));
        _state = _network.CreateState(options.Batch);
        _output = new float[options.Batch * options.Outputs];
        if (options.Learn)
        {
            var opt = new Adam<float>(_network.Parameters, 1e-3);
            _learner = new FpttLearner<float>(_network, opt, new FpttOptions(), options.Batch, Math.Max(1, options.Chunk)) { AutoUpdate = true };
            if (updateThreads > 1)
            {
                _workers = new UpdateWorkers(updateThreads);
                _learner.UpdateWorkers = _workers;
            }
        }

        _inputs = new StepInputCycle(options);
    }

    /// <inheritdoc/>
    public string Backend => "managed";

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
    public void Dispose() => _workers?.Dispose();
}

/// <summary>
/// Batch FPTT training on the managed engine through the trainer's learner
/// (<see cref="ManagedBatchLearner"/>), data-parallel over <c>threads</c> threads: every
/// <see cref="StepBenchmarkOptions.Chunk"/> calls of <see cref="Step"/> train one chunk of the
/// batch's sequences (the same sparse binary input pool and per-step losses as
/// <see cref="ManagedStepTarget"/>, the inputs handed over as dense step-major rows).
/// </summary>
public sealed class ManagedBatchStepTarget : IStepBenchmarkTarget
{
    private const int Patterns = StepInputCycle.Patterns;
    private readonly ManagedBatchLearner _learner;
    private readonly float[][] _chunks;
    private readonly int[] _labels;
    private int _pending;
    private int _next;

    /// <summary>Builds the learner (and its worker threads) and the input chunks.</summary>
    public ManagedBatchStepTarget(StepBenchmarkOptions options, int threads)
    {
        ArgumentNullException.ThrowIfNull(options);
        NetworkConfig config = StepBenchmark.CreateNetworkConfig(options);
        int chunk = Math.Max(1, options.Chunk);
        var setup = new SequenceLearnerSetup(config, SequenceTrainingMethod.Fptt, options.Batch, chunk, chunk, 1e-3, new FpttOptions(), 1.0, (int)options.Seed)
        {
            Loss = LossPlacement.EveryStep,
            Optimizer = OptimizerKind.Adam,
            Threads = Math.Max(1, threads),
        };
        _learner = new ManagedBatchLearner(setup);
        (int[][] indices, int[][] offsets, int[][] labels) = StepBenchmark.InputPool(options, Patterns);
        _labels = labels[0];
        int rows = options.Batch * options.Inputs;
        _chunks = new float[Patterns / chunk > 0 ? Patterns / chunk : 1][];
        for (int c = 0; c < _chunks.Length; c++)
        {
            float[] x = new float[chunk * rows];
            for (int t = 0; t < chunk; t++)
            {
                int p = ((c * chunk) + t) % Patterns;
                for (int b = 0; b < options.Batch; b++)
                {
                    for (int k = offsets[p][b]; k < offsets[p][b + 1]; k++)
                    {
                        x[(t * rows) + (b * options.Inputs) + indices[p][k]] = 1f;
                    }
                }
            }

            _chunks[c] = x;
        }
    }

    /// <inheritdoc/>
    public string Backend => "managed";

    /// <inheritdoc/>
    public void Step()
    {
        if (++_pending < _learner.Setup.ChunkLength)
        {
            return;
        }

        _pending = 0;
        float[] x = _chunks[_next];
        _next = (_next + 1) % _chunks.Length;
        _learner.TrainBatch(x, _labels, _next, CancellationToken.None);
    }

    /// <inheritdoc/>
    public void Dispose() => _learner.Dispose();
}

/// <summary>
/// The step benchmark's cycle through its pool of <see cref="Patterns"/> sparse binary input
/// patterns (<see cref="StepBenchmark.InputPool"/>): every backend's target draws the same inputs
/// and labels in the same order.
/// </summary>
public sealed class StepInputCycle
{
    /// <summary>Patterns in the pool.</summary>
    public const int Patterns = 256;

    private readonly int[][] _indices;
    private readonly int[][] _offsets;
    private readonly int[][] _labels;
    private int _next;

    /// <summary>Draws the pool for <paramref name="options"/>.</summary>
    public StepInputCycle(StepBenchmarkOptions options) => (_indices, _offsets, _labels) = StepBenchmark.InputPool(options, Patterns);

    /// <summary>The next step's input (one row of active indices per stream) and its labels.</summary>
    public StepInput<float> Next(out int[] labels)
    {
        int p = _next;
        _next = (_next + 1) % Patterns;
        labels = _labels[p];
        return new StepInput<float>(_indices[p], _offsets[p]);
    }
}
