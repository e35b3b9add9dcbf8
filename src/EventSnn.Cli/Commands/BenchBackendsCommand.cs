using System.Globalization;
using System.Text.Json;
using EventSnn.Snn.Benchmarks;

namespace EventSnn.Cli.Commands;

/// <summary>
/// <c>eventsnn bench backends</c>: in one run, the step benchmark of the managed engine and of
/// the TorchSharp backend (1 and 2 intra-op threads) for streaming inference and online FPTT
/// learning at batch 1 and FPTT training at a larger batch, with managed/torch throughput ratios.
/// </summary>
internal sealed class BenchBackendsCommand : Command
{
    public override string Name => "bench backends";

    public override string Summary => "Compare managed and TorchSharp throughput (batch 1 inference and online FPTT learning, batch-64 FPTT training) in one run";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        new("hidden", "N", "LTC neurons (default 256)"),
        new("inputs", "D", "input channels (default 2048)"),
        new("density", "p", "fraction of inputs spiking per step (default 0.02)"),
        new("chunk", "L", "FPTT chunk length (default 10)"),
        new("outputs", "C", "readout classes (default 10)"),
        new("train-batch", "B", "batch of the training comparison (default 64)"),
        new("seconds", "s", "timed window per measurement (default 3)"),
        new("warmup", "s", "warm-up per measurement (default 1)"),
        new("seed", "s", "seed (default 1)"),
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
            Chunk = Positive(args, "chunk", 10),
            Outputs = Positive(args, "outputs", 10),
            Seconds = args.GetDouble("seconds", 3),
            WarmupSeconds = args.GetDouble("warmup", 1),
            Seed = args.GetLong("seed", 1),
        };
        if (baseOptions.Density is < 0 or > 1 || baseOptions.Seconds <= 0)
        {
            throw new UsageException("--density must be within [0, 1] and --seconds positive");
        }

        int trainBatch = Positive(args, "train-batch", 64);
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
            double managed = Measure("managed", o, 0);
            double torch1 = Measure("torch", o, 1);
            double torch2 = Measure("torch", o, 2);
            rows.Add(new Row(scenario, learn, batch, managed, torch1, torch2));
        }

        string loadAfter = LoadAverage();
        if (args.Has("json"))
        {
            stdout.WriteLine(ToJson(baseOptions, rows, loadBefore, loadAfter));
            return CommandRunner.Ok;
        }

        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"hidden {baseOptions.Hidden}, inputs {baseOptions.Inputs}, density {baseOptions.Density}, chunk {baseOptions.Chunk}, outputs {baseOptions.Outputs}; load average {loadBefore} -> {loadAfter}"));
        stdout.WriteLine("| scenario | batch | managed steps/s | torch 1 thread steps/s | torch 2 threads steps/s | managed/torch (1 thread) | managed/torch (2 threads) |");
        stdout.WriteLine("|---|---|---|---|---|---|---|");
        foreach (Row r in rows)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Scenario} | {r.Batch} | {r.Managed:F0} | {r.Torch1:F0} | {r.Torch2:F0} | {r.Managed / r.Torch1:F2} | {r.Managed / r.Torch2:F2} |"));
        }

        return CommandRunner.Ok;
    }

    private static double Measure(string backend, StepBenchmarkOptions o, int threads)
    {
        using IStepBenchmarkTarget target = BenchStepCommand.CreateTarget(backend, o, threads);
        return StepBenchmark.Run(target, o).StepsPerSecond;
    }

    private static string ToJson(StepBenchmarkOptions o, List<Row> rows, string loadBefore, string loadAfter)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteNumber("hidden", o.Hidden);
            w.WriteNumber("inputs", o.Inputs);
            w.WriteNumber("density", o.Density);
            w.WriteNumber("chunk", o.Chunk);
            w.WriteNumber("outputs", o.Outputs);
            w.WriteNumber("seconds", o.Seconds);
            w.WriteString("load_average_before", loadBefore);
            w.WriteString("load_average_after", loadAfter);
            w.WriteStartArray("rows");
            foreach (Row r in rows)
            {
                w.WriteStartObject();
                w.WriteString("scenario", r.Scenario);
                w.WriteString("mode", r.Learn ? "learn" : "inference");
                w.WriteNumber("batch", r.Batch);
                w.WriteNumber("managed_steps_per_second", Math.Round(r.Managed, 1));
                w.WriteNumber("torch_1thread_steps_per_second", Math.Round(r.Torch1, 1));
                w.WriteNumber("torch_2threads_steps_per_second", Math.Round(r.Torch2, 1));
                w.WriteNumber("ratio_managed_over_torch_1thread", Math.Round(r.Managed / r.Torch1, 3));
                w.WriteNumber("ratio_managed_over_torch_2threads", Math.Round(r.Managed / r.Torch2, 3));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
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

    private sealed record Row(string Scenario, bool Learn, int Batch, double Managed, double Torch1, double Torch2);
}
