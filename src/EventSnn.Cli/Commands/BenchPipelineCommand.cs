using System.Text.Json;
using System.Text.Json.Serialization;
using EventSnn.Pipeline;
using EventSnn.Workloads;

namespace EventSnn.Cli.Commands;

/// <summary>
/// `eventsnn bench pipeline`: events_per_second of replay -> denoise -> 1 ms bins -> frames for a
/// 346 x 260 sensor on one thread (synthetic input), and latency_p99_ms from socket to bin for a
/// jAER UDP stream on loopback paced at 10 M events/s.
/// </summary>
internal sealed class BenchPipelineCommand : Command
{
    public override string Name => "bench pipeline";

    public override string Summary => "measure pipeline throughput (replay -> denoise -> 1 ms frames) and socket-to-bin latency";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("json", null, "print one JSON object"),
        new("events", "n", "events of the generated recording for the throughput run (default 8000000)"),
        new("file", "path", "throughput on this recording (a 346x260 sensor expected) instead of a generated one"),
        new("source-format", "format", "format of the generated recording: aedat2 (jAER DAVIS346, default), aedat4, evt2, evt3, dat; 'memory' = no file, events held in memory"),
        new("passes", "n", "passes over the events per run (default 3, after one warm-up pass)"),
        new("repeats", "n", "throughput runs; the best is reported (default 5)"),
        new("seconds", "s", "length of the latency run (default 3)"),
        new("rate", "events/s", "event rate of the latency run (default 10000000)"),
        new("skip-latency", null, "only measure throughput"),
        new("skip-throughput", null, "only measure latency"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        int events = args.GetInt("events", 8_000_000);
        int passes = args.GetInt("passes", 3);
        int repeats = args.GetInt("repeats", 5);
        double seconds = args.GetDouble("seconds", 3);
        double rate = args.GetDouble("rate", 10e6);
        if (events < 1000 || passes < 1 || repeats < 1 || seconds <= 0 || seconds > 600 || rate < 1000 || seconds * rate > 200e6)
        {
            throw new UsageException("--events >= 1000, --passes >= 1, 0 < --seconds <= 600, --rate >= 1000 and seconds x rate <= 2e8");
        }

        string sensor = "346x260";
        string? source = null;
        ThroughputResult? t = null;
        LatencyResult? l = null;
        if (!args.Has("skip-throughput"))
        {
            string sourceFormat = args.Get("source-format") ?? "aedat2";
            IntPtr affinity = BenchSupport.PinToOneCore();
            string? generated = null;
            try
            {
                string? file = args.Get("file");
                if (file is null && sourceFormat != "memory")
                {
                    generated = Path.Combine(Path.GetTempPath(), $"eventsnn-bench-pipeline-{Environment.ProcessId}.{SyntheticFiles.Extension(sourceFormat)}");
                    SyntheticFiles.Write(sourceFormat, generated, events, "lz4", EventSnn.Events.SensorGeometry.Davis346);
                    file = generated;
                }

                if (file is null)
                {
                    t = PipelineBenchmark.Throughput(events, passes, repeats: repeats);
                    source = "memory";
                }
                else
                {
                    var options = new EventSnn.IO.ReaderOptions { BufferBytes = 4 << 20 };
                    long count;
                    EventSnn.Events.SensorGeometry geometry;
                    using (var probe = EventSnn.IO.EventReaders.OpenDvs(file, options))
                    {
                        var stats = new EventSnn.Events.EventStatistics();
                        EventSnn.IO.EventReaders.Drain(probe, stats);
                        count = stats.Events;
                        geometry = probe.Geometry.IsKnown ? probe.Geometry : new EventSnn.Events.SensorGeometry(stats.XMax + 1, stats.YMax + 1);
                    }

                    t = PipelineBenchmark.Throughput(() => EventSnn.IO.EventReaders.OpenDvs(file, options), count, geometry, passes, repeats: repeats);
                    sensor = geometry.ToString();
                    source = generated is null ? file : "generated " + sourceFormat + " file";
                }
            }
            finally
            {
                BenchSupport.RestoreAffinity(affinity);
                if (generated is not null)
                {
                    File.Delete(generated);
                }
            }
        }

        if (!args.Has("skip-latency"))
        {
            l = PipelineBenchmark.Latency(seconds, rate);
        }

        var line = BenchPipelineJson.From(sensor, source, t, l);
        if (args.Has("json"))
        {
            stdout.WriteLine(JsonSerializer.Serialize(line, CliJsonContext.Default.BenchPipelineJson));
        }
        else
        {
            // one "name: value" line per JSON field
            using JsonDocument doc = JsonSerializer.SerializeToDocument(line, CliJsonContext.Default.BenchPipelineJson);
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                string value = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                stdout.WriteLine((p.Name.Replace('_', ' ') + ":").PadRight(40) + value);
            }
        }

        return CommandRunner.Ok;
    }
}

/// <summary>
/// The <c>bench pipeline --json</c> line: the sensor and input source, the throughput run's best
/// events per second (rounded to whole events) and its counts (seconds to 0.0001), the latency run's
/// percentiles (ms, 0.0001) and counts. The throughput fields are omitted with --skip-throughput, the
/// latency fields with --skip-latency.
/// </summary>
internal sealed record BenchPipelineJson(
    string Benchmark,
    string Sensor,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Source,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? EventsPerSecond,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? EventsPerCpuSecond,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? ThroughputRepeats,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? ThroughputEvents,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? ThroughputEventsAfterDenoise,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? ThroughputSteps,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? ThroughputSeconds,
    [property: JsonPropertyName("latency_p99_ms"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? LatencyP99Ms,
    [property: JsonPropertyName("latency_p50_ms"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? LatencyP50Ms,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? LatencyMaxMs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? LatencyTargetEventsPerSecond,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? LatencyAchievedEventsPerSecond,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? LatencyEventsSent,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? LatencyEventsReceived,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? LatencyLostDatagrams,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? LatencySteps)
{
    /// <summary>The line of a run on <paramref name="sensor"/>: <paramref name="t"/> null without a throughput run, <paramref name="l"/> null without a latency run.</summary>
    public static BenchPipelineJson From(string sensor, string? source, ThroughputResult? t, LatencyResult? l) => new(
        "pipeline",
        sensor,
        source,
        t is null ? null : Math.Round(t.EventsPerSecond),
        t is null ? null : Math.Round(t.EventsPerCpuSecond),
        t?.Repeats,
        t?.Events,
        t?.EventsAfterDenoise,
        t?.Steps,
        t is null ? null : Math.Round(t.Seconds, 4),
        l is null ? null : Math.Round(l.P99Ms, 4),
        l is null ? null : Math.Round(l.P50Ms, 4),
        l is null ? null : Math.Round(l.MaxMs, 4),
        l?.TargetEventsPerSecond,
        l is null ? null : Math.Round(l.AchievedEventsPerSecond),
        l?.EventsSent,
        l?.EventsReceived,
        l?.LostDatagrams,
        l?.Steps);
}
