using System.Globalization;
using System.Text.Json;
using EventSnn.Workloads;

namespace EventSnn.Cli.Commands;

/// <summary>
/// <c>eventsnn bench backends</c>: in one run, the step benchmark of the managed engine and of
/// the TorchSharp backend (1 and 2 intra-op threads) for streaming inference and online FPTT
/// learning at batch 1 and FPTT training at a larger batch, with managed/torch throughput ratios;
/// the managed engine's learning rows also with 2 threads.
/// </summary>
internal sealed class BenchBackendsCommand : Command
{
    public override string Name => "bench backends";

    public override string Summary => "Compare managed and TorchSharp throughput (batch 1 inference and online FPTT learning, batch-64 FPTT training; the managed engine's learning also with 2 threads) in one run";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        new("hidden", "N", "LTC neurons (default 256)"),
        new("inputs", "D", "input channels (default 2048)"),
        new("density", "p", "fraction of inputs spiking per step (default 0.02)"),
        new("chunk-length", "L", "FPTT chunk length (default 10)") { Aliases = ["chunk"] },
        new("outputs", "C", "readout classes (default 10)"),
        new("norm", "none|running|layer", "input-current normalisation of the layer (default none)"),
        new("train-batch", "B", "batch of the training comparison (default 64)"),
        new("seconds", "s", "timed window per measurement (default 3)"),
        new("warmup", "s", "warm-up per measurement (default 1)"),
        new("seed", "s", "seed (default 1)"),
        new("repeats", "n", "measurements per cell, the fastest kept (default 1; use 3 on a shared machine)") { Aliases = ["repeat"] },
        new("json", null, "print one JSON object"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        var baseOptions = new StepBenchmarkOptions
        {
            Hidden = Positive(args, "hidden", 256),
            Inputs = Positive(args, "inputs", 2048),
            Density = args.GetDouble("density", 0.02),
            Chunk = Positive(args, "chunk-length", 10),
            Outputs = Positive(args, "outputs", 10),
            Seconds = args.GetDouble("seconds", 3),
            WarmupSeconds = args.GetDouble("warmup", 1),
            Seed = args.GetLong("seed", 1),
            Norm = BenchStepCommand.ParseNorm(args.Get("norm")),
        };
        if (baseOptions.Density is < 0 or > 1 || baseOptions.Seconds <= 0)
        {
            throw new UsageException("--density must be within [0, 1] and --seconds positive");
        }

        int trainBatch = Positive(args, "train-batch", 64);
        int repeat = Positive(args, "repeats", 1);
        (string Scenario, bool Learn, int Batch)[] scenarios =
        [
            ("streaming inference", false, 1),
            ("online FPTT learning", true, 1),
            ("FPTT training", true, trainBatch),
        ];

        string loadBefore = LoadAverage();
        var rows = new List<Row>();
        foreach ((string scenario, bool learn, int batch) in scenarios)
        {
            StepBenchmarkOptions o = baseOptions with { Learn = learn, Batch = batch };
            Cell managed = Measure("managed", o, 0, repeat);
            Cell torch1 = Measure("torch", o, 1, repeat);
            Cell torch2 = Measure("torch", o, 2, repeat);

            // the managed engine's learning also with 2 threads: at batch 1 both share every step's
            // gathers, gate products and gradients and the update; a training batch is split into slices
            Cell? managed2 = learn ? Measure("managed", o, 2, repeat) : null;
            rows.Add(new Row(scenario, learn, batch, managed.StepsPerSecond, torch1.StepsPerSecond, torch2.StepsPerSecond, managed.CpuShare, torch1.CpuShare, torch2.CpuShare, managed2));
        }

        string loadAfter = LoadAverage();
        if (args.Has("json"))
        {
            stdout.WriteLine(ToJson(baseOptions, repeat, rows, loadBefore, loadAfter));
            return CommandRunner.Ok;
        }

        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"hidden {baseOptions.Hidden}, inputs {baseOptions.Inputs}, density {baseOptions.Density}, chunk {baseOptions.Chunk}, outputs {baseOptions.Outputs}, norm {baseOptions.Norm.ToString().ToLowerInvariant()}; load average {loadBefore} -> {loadAfter}"));
        stdout.WriteLine("| scenario | batch | managed steps/s | torch 1 thread steps/s | torch 2 threads steps/s | managed/torch (1 thread) | managed/torch (2 threads) | CPU share managed / torch1 / torch2 |");
        stdout.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (Row r in rows)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Scenario} | {r.Batch} | {r.Managed:F0} | {r.Torch1:F0} | {r.Torch2:F0} | {r.Managed / r.Torch1:F2} | {r.Managed / r.Torch2:F2} | {r.ManagedCpu:F2} / {r.Torch1Cpu:F2} / {r.Torch2Cpu:F2} |"));
            if (r.Managed2 is Cell m2)
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Scenario}, managed 2 threads | {r.Batch} | {m2.StepsPerSecond:F0} | | {r.Torch2:F0} | | {m2.StepsPerSecond / r.Torch2:F2} | {m2.CpuShare:F2} / - / {r.Torch2Cpu:F2} |"));
            }
        }

        return CommandRunner.Ok;
    }

    /// <summary>
    /// The fastest of <paramref name="repeat"/> runs, with its CPU share (process CPU seconds per
    /// wall second: about 1 for an uncontended single-threaded run, up to 2 with two busy threads;
    /// much less means other processes took the cores and the number is pessimistic).
    /// </summary>
    private static Cell Measure(string backend, StepBenchmarkOptions o, int threads, int repeat)
    {
        Cell best = default;
        for (int i = 0; i < repeat; i++)
        {
            using IStepBenchmarkTarget target = BenchStepCommand.CreateTarget(backend, o, threads);
            StepBenchmarkResult r = StepBenchmark.Run(target, o);
            if (r.StepsPerSecond > best.StepsPerSecond)
            {
                best = new Cell(r.StepsPerSecond, r.StepsPerCpuSecond > 0 ? r.StepsPerSecond / r.StepsPerCpuSecond : 0);
            }
        }

        return best;
    }

    private static string ToJson(StepBenchmarkOptions o, int repeat, List<Row> rows, string loadBefore, string loadAfter)
    {
        var json = new BenchBackendsRowJson[rows.Count];
        for (int i = 0; i < json.Length; i++)
        {
            Row r = rows[i];
            json[i] = new BenchBackendsRowJson(
                r.Scenario,
                r.Learn ? "learn" : "inference",
                r.Batch,
                Math.Round(r.Managed, 1),
                Math.Round(r.Torch1, 1),
                Math.Round(r.Torch2, 1),
                Math.Round(r.Managed / r.Torch1, 3),
                Math.Round(r.Managed / r.Torch2, 3),
                Math.Round(r.ManagedCpu, 2),
                Math.Round(r.Torch1Cpu, 2),
                Math.Round(r.Torch2Cpu, 2))
            {
                Managed2ThreadsStepsPerSecond = r.Managed2 is Cell m ? Math.Round(m.StepsPerSecond, 1) : null,
                RatioManaged2ThreadsOverTorch2Threads = r.Managed2 is Cell m2 ? Math.Round(m2.StepsPerSecond / r.Torch2, 3) : null,
                Managed2ThreadsCpuShare = r.Managed2 is Cell m3 ? Math.Round(m3.CpuShare, 2) : null,
            };
        }

        var line = new BenchBackendsJson(o.Hidden, o.Inputs, o.Density, o.Chunk, o.Outputs, o.Norm.ToString().ToLowerInvariant(), o.Seconds, repeat, loadBefore, loadAfter, json);
        return System.Text.Json.JsonSerializer.Serialize(line, CliJsonContext.Default.BenchBackendsJson);
    }

    private static string LoadAverage()
    {
        try
        {
            string[] parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return parts.Length >= 3 ? $"{parts[0]} {parts[1]} {parts[2]}" : "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    private static int Positive(ParsedArgs args, string name, int fallback)
    {
        int v = args.GetInt(name, fallback);
        return v >= 1 ? v : throw new UsageException($"--{name} must be a positive integer (got {v})");
    }

    private sealed record Row(string Scenario, bool Learn, int Batch, double Managed, double Torch1, double Torch2, double ManagedCpu, double Torch1Cpu, double Torch2Cpu, Cell? Managed2);

    private readonly record struct Cell(double StepsPerSecond, double CpuShare);
}
