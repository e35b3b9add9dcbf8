using System.Globalization;
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

        var fields = new List<(string Key, object Value)> { ("benchmark", "pipeline"), ("sensor", "346x260") };
        if (!args.Has("skip-throughput"))
        {
            string sourceFormat = args.Get("source-format") ?? "aedat2";
            IntPtr affinity = BenchSupport.PinToOneCore();
            ThroughputResult t;
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
                    fields.Add(("source", "memory"));
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
                    fields[1] = ("sensor", geometry.ToString());
                    fields.Add(("source", generated is null ? file : "generated " + sourceFormat + " file"));
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

            fields.Add(("events_per_second", Math.Round(t.EventsPerSecond)));
            fields.Add(("events_per_cpu_second", Math.Round(t.EventsPerCpuSecond)));
            fields.Add(("throughput_repeats", t.Repeats));
            fields.Add(("throughput_events", t.Events));
            fields.Add(("throughput_events_after_denoise", t.EventsAfterDenoise));
            fields.Add(("throughput_steps", t.Steps));
            fields.Add(("throughput_seconds", Math.Round(t.Seconds, 4)));
        }

        if (!args.Has("skip-latency"))
        {
            LatencyResult l = PipelineBenchmark.Latency(seconds, rate);
            fields.Add(("latency_p99_ms", Math.Round(l.P99Ms, 4)));
            fields.Add(("latency_p50_ms", Math.Round(l.P50Ms, 4)));
            fields.Add(("latency_max_ms", Math.Round(l.MaxMs, 4)));
            fields.Add(("latency_target_events_per_second", l.TargetEventsPerSecond));
            fields.Add(("latency_achieved_events_per_second", Math.Round(l.AchievedEventsPerSecond)));
            fields.Add(("latency_events_sent", l.EventsSent));
            fields.Add(("latency_events_received", l.EventsReceived));
            fields.Add(("latency_lost_datagrams", l.LostDatagrams));
            fields.Add(("latency_steps", l.Steps));
        }

        if (args.Has("json"))
        {
            JsonLine.Write(stdout, w =>
            {
                foreach ((string key, object value) in fields)
                {
                    switch (value)
                    {
                        case long l: w.WriteNumber(key, l); break;
                        case int i: w.WriteNumber(key, i); break;
                        case double d: w.WriteNumber(key, d); break;
                        default: w.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture)); break;
                    }
                }
            });
        }
        else
        {
            foreach ((string key, object value) in fields)
            {
                stdout.WriteLine((key.Replace('_', ' ') + ":").PadRight(40) + Convert.ToString(value, CultureInfo.InvariantCulture));
            }
        }

        return CommandRunner.Ok;
    }
}
