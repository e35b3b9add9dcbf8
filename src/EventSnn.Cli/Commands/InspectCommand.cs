using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;

namespace EventSnn.Cli.Commands;

/// <summary>`eventsnn inspect &lt;file&gt;`: format, geometry and statistics of a recording.</summary>
internal sealed class InspectCommand : Command
{
    public override string Name => "inspect";

    public override string Summary => "show the format, sensor size and event statistics of a recording";

    public override string Arguments => "<file | tcp://host:port | udp://host:port>";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("json", null, "print one JSON object"),
        new("duration", "seconds", "live streams: stop after this long (default: until the peer closes, or Ctrl+C)"),
        ReaderOptionParsing.Threads,
        .. ReaderOptionParsing.Specs,
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string path = args.Positional(0, "<file>");
        ReaderOptions options = ReaderOptionParsing.From(args, threads: true);
        bool json = args.Has("json");
        if (LiveInspect.IsLiveAddress(path))
        {
            return InspectLive(path, args, options, json, stdout, stderr);
        }

        EventFormat format = EventReaders.ResolveFormat(path, options);
        if (format == EventFormat.Shd)
        {
            return InspectShd(path, options, json, stdout);
        }

        using IEventReader reader = EventReaders.Open(path, options with { Format = format });
        string formatName = EventFormats.Name(format);
        string? jsonLine = null;
        var text = new List<(string Label, string Text)> { ("file", path), ("format", InspectText.FormatTitle(reader)) };
        if (reader is IDvsEventReader dvs)
        {
            var stats = new EventStatistics();
            EventReaders.Drain(dvs, stats);
            SensorGeometry g = dvs.Geometry;
            bool inferred = !g.IsKnown;
            if (inferred)
            {
                g = new SensorGeometry(stats.XMax + 1, stats.YMax + 1);
            }

            var line = new InspectDvsJson(
                formatName,
                g.Width,
                g.Height,
                inferred ? "inferred" : "header",
                stats.Events,
                stats.On,
                stats.Events - stats.On,
                stats.TFirst,
                stats.TLast,
                stats.Events == 0 ? 0L : stats.TMin,
                stats.Events == 0 ? 0L : stats.TMax,
                stats.XMax,
                stats.YMax,
                stats.SumX,
                stats.SumY,
                stats.DurationUs,
                stats.DurationUs / 1e6,
                InspectText.RateOrNull(stats.Events, stats.DurationUs),
                stats.Triggers);
            InspectText.AddSensor(text, g, inferred, reader is Aedat2Reader { ChipInferred: true } ? "from the chip assumed for the file, --chip to change" : "from the file header");
            InspectText.AddEvents(text, stats.Events, stats.On, stats.TFirst, stats.TLast, stats.DurationUs, "events");
            line = AddFormatDetails(reader, line, text);
            text.Add(("triggers", InspectText.Count(stats.Triggers)));
            line = line with { BytesRead = reader.Position, Warnings = reader.Warnings.Count };
            jsonLine = json ? JsonSerializer.Serialize(line, CliJsonContext.Default.InspectDvsJson) : null;
        }
        else if (reader is ISpikeReader spikes)
        {
            var stats = new SpikeStatistics();
            EventReaders.Drain(spikes, stats);
            int channels = spikes.Channels > 0 ? spikes.Channels : stats.ChannelMax + 1;
            var line = new InspectSpikesJson(
                formatName,
                channels,
                spikes.Ears,
                stats.Events,
                stats.On,
                stats.Events - stats.On,
                stats.TFirst,
                stats.TLast,
                stats.ChannelMax,
                stats.DurationUs,
                stats.DurationUs / 1e6,
                InspectText.RateOrNull(stats.Events, stats.DurationUs),
                reader.Position,
                reader.Warnings.Count);
            jsonLine = json ? JsonSerializer.Serialize(line, CliJsonContext.Default.InspectSpikesJson) : null;
            text.Add(("channels", string.Create(CultureInfo.InvariantCulture, $"{channels} x {spikes.Ears} ear{(spikes.Ears == 1 ? string.Empty : "s")}{(spikes.Channels > 0 ? string.Empty : " (inferred from the largest address)")}")));
            InspectText.AddEvents(text, stats.Events, stats.On, stats.TFirst, stats.TLast, stats.DurationUs, "spikes");
        }

        if (json)
        {
            jsonLine ??= JsonSerializer.Serialize(new InspectReaderJson(formatName, reader.Position, reader.Warnings.Count), CliJsonContext.Default.InspectReaderJson);
        }

        text.Add(("bytes read", InspectText.Bytes(reader.Position)));
        text.Add(("warnings", reader.Warnings.Count == 0 ? "none" : string.Create(CultureInfo.InvariantCulture, $"{reader.Warnings.Count} (below, on stderr)")));
        Print(jsonLine, text, json, stdout);
        foreach (FormatWarning w in reader.Warnings)
        {
            stderr.WriteLine($"warning: {path}: {w}");
        }

        return CommandRunner.Ok;
    }

    /// <summary>tcp://host:port (DV AEDAT4 stream) or udp://host:port (jAER, bound locally): the same fields as for files.</summary>
    private static int InspectLive(string address, ParsedArgs args, ReaderOptions options, bool json, TextWriter stdout, TextWriter stderr)
    {
        double seconds = args.GetSeconds("duration", 0);
        if (seconds < 0)
        {
            throw new UsageException("option --duration: must be positive");
        }

        LiveInspectResult r;
        try
        {
            var live = new LiveInspectOptions
            {
                Duration = seconds > 0 ? TimeSpan.FromSeconds(seconds) : null,
                Chip = options.Aedat2Chip == "davis" ? JaerChip.Davis : JaerChip.Dvs128,
                Reader = options,
                OnFault = f => stderr.WriteLine("warning: " + f),
            };
            r = LiveInspect.Run(address, live, args.Cancellation);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(CommandRunner.UserMessage(ex));
        }

        EventStatistics stats = r.Statistics;
        SensorGeometry g = r.Geometry;
        bool inferred = !g.IsKnown;
        if (inferred)
        {
            g = new SensorGeometry(stats.XMax + 1, stats.YMax + 1);
        }

        var line = new InspectLiveJson(
            EventFormats.Name(r.Format),
            g.Width,
            g.Height,
            inferred ? "inferred" : "header",
            stats.Events,
            stats.On,
            stats.Events - stats.On,
            stats.TFirst,
            stats.TLast,
            stats.Events == 0 ? 0L : stats.TMin,
            stats.Events == 0 ? 0L : stats.TMax,
            stats.XMax,
            stats.YMax,
            stats.SumX,
            stats.SumY,
            stats.DurationUs,
            stats.DurationUs / 1e6,
            InspectText.RateOrNull(stats.Events, stats.DurationUs),
            stats.Triggers,
            r.Counters.Packets,
            r.Counters.BytesReceived,
            r.Counters.MalformedPackets,
            r.Source,
            r.Counters.LostDatagrams);
        var text = new List<(string Label, string Text)>
        {
            ("source", r.Source),
            ("format", InspectText.FormatTitle(r.Format)),
        };
        InspectText.AddSensor(text, g, inferred, r.Format == EventFormat.Aedat4 ? "from the stream's header" : "from the jAER chip, --chip to change");
        InspectText.AddEvents(text, stats.Events, stats.On, stats.TFirst, stats.TLast, stats.DurationUs, "events");
        text.Add(("triggers", InspectText.Count(stats.Triggers)));
        text.Add(("packets", InspectText.Count(r.Counters.Packets)));
        if (r.Format == EventFormat.Aedat2)
        {
            text.Add(("lost datagrams", InspectText.Count(r.Counters.LostDatagrams)));
        }

        text.Add(("bytes received", InspectText.Bytes(r.Counters.BytesReceived)));
        text.Add(("warnings", r.Counters.MalformedPackets == 0 ? "none" : InspectText.Count(r.Counters.MalformedPackets) + " malformed packets"));
        Print(json ? JsonSerializer.Serialize(line, CliJsonContext.Default.InspectLiveJson) : null, text, json, stdout);
        return CommandRunner.Ok;
    }

    /// <summary>Codec, packets, frames, IMU samples: what the format's reader reports beyond events.</summary>
    private static InspectDvsJson AddFormatDetails(IEventReader reader, InspectDvsJson line, List<(string, string)> text)
    {
        switch (reader)
        {
            case Aedat4Reader a4:
                line = line with
                {
                    Compression = (int)a4.Compression,
                    CompressionName = InspectText.CodecKey(a4.Compression),
                    Packets = a4.PacketsRead,
                    Frames = a4.FramesRead,
                    ImuSamples = a4.ImuSamplesRead,
                };
                text.Add(("compression", InspectText.CodecName(a4.Compression)));
                text.Add(("packets", InspectText.Count(a4.PacketsRead)));
                text.Add(("frames", InspectText.Count(a4.FramesRead)));
                text.Add(("IMU samples", InspectText.Count(a4.ImuSamplesRead)));
                break;
            case Aedat2Reader a2:
                line = line with { CompressionName = "none", ImuSamples = a2.ImuSamples, ApsWordsSkipped = a2.ApsWordsSkipped };
                text.Add(("compression", "none"));
                if (a2.ChipClass is not null)
                {
                    text.Add(("chip", a2.ChipClass));
                }

                text.Add(("IMU samples", InspectText.Count(a2.ImuSamples)));
                if (a2.ApsWordsSkipped > 0)
                {
                    text.Add(("frame words", InspectText.Count(a2.ApsWordsSkipped) + " (APS, skipped)"));
                }

                break;
            case Aedat31Reader a3:
                line = line with { CompressionName = "none", Packets = a3.Counters.Packets, PacketsSkipped = a3.Counters.PacketsSkipped };
                text.Add(("compression", "none"));
                text.Add(("packets", string.Create(CultureInfo.InvariantCulture, $"{InspectText.Count(a3.Counters.Packets)} ({InspectText.Count(a3.Counters.PacketsSkipped)} of other types skipped)")));
                break;
        }

        return line;
    }

    private static int InspectShd(string path, ReaderOptions options, bool json, TextWriter stdout)
    {
        using ShdFile file = ShdFile.Open(path, options);
        var text = new List<(string, string)>
        {
            ("file", path),
            ("format", InspectText.FormatTitle(EventFormat.Shd)),
            ("samples", InspectText.Count(file.Count)),
            ("classes", InspectText.Count(file.Classes)),
            ("channels", InspectText.Count(file.Channels)),
            ("spikes", string.Create(CultureInfo.InvariantCulture, $"{InspectText.Count(file.TotalSpikes)}{(file.Count > 0 ? $" ({file.TotalSpikes / (double)file.Count:0.#} per sample)" : string.Empty)}")),
        };
        Print(json ? JsonSerializer.Serialize(new InspectShdJson("shd", file.Count, file.Classes, file.Channels, file.TotalSpikes), CliJsonContext.Default.InspectShdJson) : null, text, json, stdout);
        return CommandRunner.Ok;
    }

    /// <summary>--json: the serialised line of every field, machine names and raw units; otherwise the user's view in <paramref name="text"/>.</summary>
    private static void Print(string? jsonLine, List<(string Label, string Text)> text, bool json, TextWriter stdout)
    {
        if (json)
        {
            stdout.WriteLine(jsonLine);
            return;
        }

        int width = text.Max(f => f.Label.Length) + 2;
        foreach ((string label, string value) in text)
        {
            stdout.WriteLine((label + ":").PadRight(width) + value);
        }
    }
}

/// <summary>
/// <c>inspect --json</c> of a DVS recording: geometry, event statistics (times in us), the format's
/// own counters (null ones omitted: <c>compression</c>, <c>frames</c> for AEDAT4, <c>aps_words_skipped</c>
/// for AEDAT 2.0, <c>packets_skipped</c> for AEDAT 3.1), bytes read and warnings;
/// <c>event_rate_per_s</c> is null when the recording spans no time.
/// </summary>
internal sealed record InspectDvsJson(
    string Format,
    int Width,
    int Height,
    string GeometrySource,
    long Events,
    long On,
    long Off,
    long TFirst,
    long TLast,
    long TMin,
    long TMax,
    int XMax,
    int YMax,
    long SumX,
    long SumY,
    long DurationUs,
    double DurationS,
    double? EventRatePerS,
    long Triggers,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Compression = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CompressionName = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Packets = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Frames = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? ImuSamples = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? ApsWordsSkipped = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? PacketsSkipped = null,
    long BytesRead = 0,
    int Warnings = 0);

/// <summary><c>inspect --json</c> of a spike recording (NAS, SHD read as a stream): channels and ears, spike statistics, bytes read and warnings.</summary>
internal sealed record InspectSpikesJson(
    string Format,
    int Channels,
    int Ears,
    long Events,
    long On,
    long Off,
    long TFirst,
    long TLast,
    int ChannelMax,
    long DurationUs,
    double DurationS,
    double? EventRatePerS,
    long BytesRead,
    int Warnings);

/// <summary><c>inspect --json</c> of a reader that is neither a DVS nor a spike reader: its format, bytes read and warnings.</summary>
internal sealed record InspectReaderJson(string Format, long BytesRead, int Warnings);

/// <summary><c>inspect --json</c> of a live stream: the DVS fields, then packets, bytes received, malformed packets as warnings, the source and lost datagrams.</summary>
internal sealed record InspectLiveJson(
    string Format,
    int Width,
    int Height,
    string GeometrySource,
    long Events,
    long On,
    long Off,
    long TFirst,
    long TLast,
    long TMin,
    long TMax,
    int XMax,
    int YMax,
    long SumX,
    long SumY,
    long DurationUs,
    double DurationS,
    double? EventRatePerS,
    long Triggers,
    long Packets,
    long BytesRead,
    long Warnings,
    string Source,
    long LostDatagrams);

/// <summary><c>inspect --json</c> of an SHD file: samples, classes, channels and the total spikes as <c>events</c>.</summary>
internal sealed record InspectShdJson(string Format, int Samples, int Classes, int Channels, long Events);
