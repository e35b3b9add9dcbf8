using System.Globalization;
using System.Text.Json;
using EventSnn.Snn;
using EventSnn.Workloads;

namespace EventSnn.Cli.Commands;

/// <summary><c>eventsnn bench step</c>: steps per second and allocations of inference or online FPTT learning.</summary>
internal sealed class BenchStepCommand : Command
{
    public override string Name => "bench step";

    public override string Summary => "Measure network steps per second (inference or online FPTT learning) and allocations per step";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        new("hidden", "N", "LTC neurons (default 256)"),
        new("inputs", "D", "input channels (default 2048)"),
        new("density", "p", "fraction of inputs spiking per step (default 0.02)"),
        new("chunk-length", "L", "FPTT chunk length: one update per chunk (default 10)") { Aliases = ["chunk"] },
        new("batch", "B", "streams per step (default 1)"),
        new("outputs", "C", "readout classes (default 10)"),
        new("learn", null, "online FPTT learning instead of inference"),
        new("norm", "none|running|layer", "input-current normalisation of the layer (default none)"),
        new("seconds", "s", "timed window (default 5)"),
        new("warmup", "s", "warm-up before timing (default 1)"),
        new("seed", "s", "seed (default 1)"),
        new("backend", "name", "engine backend: managed (default) or torch (TorchSharp, libtorch CPU)"),
        new("threads", "n", "torch backend: intra-op threads (default: libtorch's default); managed backend with --learn: data-parallel training threads at --batch > 1, threads sharing each parameter update at batch 1 (default 1)"),
        new("json", null, "print one JSON object"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        var o = new StepBenchmarkOptions
        {
            Hidden = Positive(args, "hidden", 256),
            Inputs = Positive(args, "inputs", 2048),
            Density = args.GetDouble("density", 0.02),
            Chunk = Positive(args, "chunk-length", 10),
            Batch = Positive(args, "batch", 1),
            Outputs = Positive(args, "outputs", 10),
            Learn = args.Has("learn"),
            Norm = ParseNorm(args.Get("norm")),
            Seconds = args.GetDouble("seconds", 5),
            WarmupSeconds = args.GetDouble("warmup", 1),
            Seed = args.GetLong("seed", 1),
        };
        if (o.Density is < 0 or > 1)
        {
            throw new UsageException("--density must be within [0, 1]");
        }

        if (o.Seconds <= 0)
        {
            throw new UsageException("--seconds must be positive");
        }

        string backend = args.Get("backend") ?? "managed";
        int threads = args.GetInt("threads", 0);
        if (threads < 0)
        {
            throw new UsageException("--threads must be >= 0");
        }

        using IStepBenchmarkTarget target = CreateTarget(backend, o, threads);
        StepBenchmarkResult r = StepBenchmark.Run(target, o);
        if (args.Has("json"))
        {
            stdout.WriteLine(ToJson(r));
        }
        else
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(o.Learn ? "online FPTT learning" : "inference")} ({r.Backend}): hidden {o.Hidden}, inputs {o.Inputs}, density {o.Density}, chunk {o.Chunk}, batch {o.Batch}, norm {o.Norm.ToString().ToLowerInvariant()}"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.StepsPerSecond:F0} steps/s ({r.StepsPerCpuSecond:F0} per CPU second), {r.AllocatedBytesPerStep:F1} bytes allocated per step, {r.Steps} steps in {r.Seconds:F1} s"));
        }

        return CommandRunner.Ok;
    }

    /// <summary>The benchmark target of <paramref name="backend"/> ("managed" or "torch").</summary>
    internal static IStepBenchmarkTarget CreateTarget(string backend, StepBenchmarkOptions o, int threads) => backend switch
    {
        "managed" when o.Learn && o.Batch > 1 => new ManagedBatchStepTarget(o, Math.Max(1, threads)),
        "managed" => new ManagedStepTarget(o, o.Learn ? Math.Max(1, threads) : 1),
        "torch" => new EventSnn.Workloads.TorchStepTarget(o, threads),
        _ => throw new UsageException($"unknown backend '{backend}' (available: managed, torch)"),
    };

    internal static string ToJson(StepBenchmarkResult r)
    {
        StepBenchmarkOptions o = r.Options;
        var line = new BenchStepJson(
            r.Backend,
            o.Learn ? "learn" : "inference",
            o.Hidden,
            o.Inputs,
            o.Density,
            o.Chunk,
            o.Batch,
            o.Outputs,
            o.Norm.ToString().ToLowerInvariant(),
            Math.Round(r.StepsPerSecond, 1),
            Math.Round(r.StepsPerCpuSecond, 1),
            r.AllocatedBytesPerStep,
            r.Steps,
            Math.Round(r.Seconds, 3));
        return System.Text.Json.JsonSerializer.Serialize(line, CliJsonContext.Default.BenchStepJson);
    }

    internal static InputNormKind ParseNorm(string? text) => text switch
    {
        null or "none" => InputNormKind.None,
        "running" => InputNormKind.Running,
        "layer" => InputNormKind.Layer,
        "batch" or "timestep" => throw new UsageException($"--norm {text} normalises with per-timestep statistics, for offline training; the step benchmark streams (none, running or layer)"),
        _ => throw new UsageException($"--norm must be none, running or layer (got '{text}')"),
    };

    private static int Positive(ParsedArgs args, string name, int fallback)
    {
        int v = args.GetInt(name, fallback);
        return v >= 1 ? v : throw new UsageException($"--{name} must be a positive integer (got {v})");
    }
}
