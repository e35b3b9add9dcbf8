using System.Diagnostics;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Cli.Commands;

/// <summary>`eventsnn bench decode`: decode speed of a file against a plain read of the same file.</summary>
internal sealed class BenchDecodeCommand : Command
{
    public override string Name => "bench decode";

    public override string Summary => "measure decode speed (events/s) against a plain read of the same file, one core";

    public override string Arguments => "<file> | --generate <format>";

    public override int MaxArguments => 1;

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("json", null, "print one JSON object"),
        new("generate", "format", "generate a synthetic file first: evt2, evt3, dat, aedat4, aedat2 (aedat4 uses --compression)"),
        new("events", "n", "events to generate (default 50,000,000)"),
        new("compression", "lz4|zstd|none", "compression of a generated AEDAT4 file (default lz4)") { Choices = CliParser.CompressionNames },
        new("out", "dir", "folder for the generated file (default: the temp folder; the file is deleted afterwards)"),
        new("keep", null, "keep the generated file"),
        new("repeats", "n", "decode passes; the fastest is reported (default 3)") { Aliases = ["repeat"] },
        new("batch", "n", "events per batch (default 262144)"),
        new("all-cores", null, "do not pin the process (default: pinned to one core, to n cores with --threads n)"),
        ReaderOptionParsing.Threads,
        .. ReaderOptionParsing.Specs,
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        int repeat = args.GetPositiveInt("repeats", 3);
        int batchSize = args.GetPositiveInt("batch", 1 << 18);
        ReaderOptions options = ReaderOptionParsing.From(args, threads: true);
        if (!args.Has("all-cores"))
        {
            BenchSupport.PinToCores(Math.Min(options.DecodeThreads, Environment.ProcessorCount));
        }

        string? generate = args.Get("generate");
        string path;
        bool delete = false;
        if (generate is not null)
        {
            long n = args.GetPositiveLong("events", 50_000_000);
            string dir = args.Get("out") ?? Path.GetTempPath();
            Directory.CreateDirectory(dir);
            path = Path.Combine(dir, $"eventsnn-bench-{n}.{SyntheticFiles.Extension(generate)}");
            var sw = Stopwatch.StartNew();
            SyntheticFiles.Write(generate, path, n, args.Get("compression") ?? "lz4");
            stderr.WriteLine($"generated {path} ({new FileInfo(path).Length / 1e6:F1} MB, {n:N0} events) in {sw.Elapsed.TotalSeconds:F1} s");
            delete = !args.Has("keep");
        }
        else
        {
            path = args.Positional(0, "<file>");
        }

        try
        {
            BenchResult r = BenchSupport.MeasureDecode(path, options, repeat, batchSize);
            if (args.Has("json"))
            {
                JsonLine.Write(stdout, w =>
                {
                    w.WriteString("file", path);
                    w.WriteString("format", EventFormats.Name(r.Format));
                    w.WriteNumber("events", r.Events);
                    w.WriteNumber("bytes", r.Bytes);
                    w.WriteNumber("seconds", r.DecodeSeconds);
                    w.WriteNumber("events_per_second", r.EventsPerSecond);
                    w.WriteNumber("read_seconds", r.ReadSeconds);
                    w.WriteNumber("read_bytes_per_second", r.ReadBytesPerSecond);
                    w.WriteNumber("decode_bytes_per_second", r.DecodeBytesPerSecond);
                    w.WriteNumber("decode_to_read_ratio", r.DecodeBytesPerSecond / r.ReadBytesPerSecond);
                    w.WriteNumber("threads", options.DecodeThreads);
                    w.WriteNumber("repeat", repeat);
                    w.WriteStartArray("events_per_second_each");
                    foreach (double s in r.DecodeSecondsEach)
                    {
                        w.WriteNumberValue(r.Events / s);
                    }

                    w.WriteEndArray();
                    w.WriteNumber("peak_rss_bytes", BenchSupport.PeakRssBytes());
                });
            }
            else
            {
                stdout.WriteLine($"{Path.GetFileName(path)} ({EventFormats.Name(r.Format)}): {r.Events:N0} events, {r.Bytes / 1e6:F1} MB");
                stdout.WriteLine($"  decode: {r.DecodeSeconds:F3} s  {r.EventsPerSecond / 1e6:F1} M events/s  {r.DecodeBytesPerSecond / 1e9:F2} GB/s  (fastest of {repeat}, slowest {r.Events / r.DecodeSecondsEach.Max() / 1e6:F1} M events/s, {options.DecodeThreads} thread(s))");
                stdout.WriteLine($"  peak RSS: {BenchSupport.PeakRssBytes() / 1e6:F0} MB");
                stdout.WriteLine($"  plain read: {r.ReadSeconds:F3} s  {r.ReadBytesPerSecond / 1e9:F2} GB/s  (decode/read = {r.DecodeBytesPerSecond / r.ReadBytesPerSecond:P0})");
            }
        }
        finally
        {
            if (delete)
            {
                File.Delete(path);
            }
        }

        return CommandRunner.Ok;
    }
}
