using System.Diagnostics;
using System.Text.Json;
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
        new("batch", "n", "events per batch (default 65536, the library's default batch)"),
        new("all-cores", null, "do not pin the process (default: pinned to one core, to n cores with --threads n)"),
        ReaderOptionParsing.Threads,
        .. ReaderOptionParsing.Specs,
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        int repeat = args.GetPositiveInt("repeats", 3);
        int batchSize = args.GetPositiveInt("batch", EventBatch.DefaultCapacity);
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
                double[] eachRate = new double[r.DecodeSecondsEach.Length];
                for (int i = 0; i < eachRate.Length; i++)
                {
                    eachRate[i] = r.Events / r.DecodeSecondsEach[i];
                }

                var line = new BenchDecodeJson(
                    path,
                    EventFormats.Name(r.Format),
                    r.Events,
                    r.Bytes,
                    r.DecodeSeconds,
                    r.EventsPerSecond,
                    r.ReadSeconds,
                    r.ReadBytesPerSecond,
                    r.DecodeBytesPerSecond,
                    r.DecodeBytesPerSecond / r.ReadBytesPerSecond,
                    options.DecodeThreads,
                    repeat,
                    eachRate,
                    BenchSupport.PeakRssBytes());
                stdout.WriteLine(JsonSerializer.Serialize(line, CliJsonContext.Default.BenchDecodeJson));
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

/// <summary>
/// The <c>bench decode --json</c> line: the file, its format, events and bytes, the fastest decode pass
/// (seconds, events/s, bytes/s), the plain read of the same file, decode over read, the decode threads,
/// the passes and every pass's events/s, and the process's peak RSS.
/// </summary>
internal sealed record BenchDecodeJson(
    string File,
    string Format,
    long Events,
    long Bytes,
    double Seconds,
    double EventsPerSecond,
    double ReadSeconds,
    double ReadBytesPerSecond,
    double DecodeBytesPerSecond,
    double DecodeToReadRatio,
    int Threads,
    int Repeat,
    IReadOnlyList<double> EventsPerSecondEach,
    long PeakRssBytes);
