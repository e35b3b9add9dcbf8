using System.Globalization;
using System.Text.Json;
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
        var fields = new List<(string Key, object Value)> { ("format", EventFormats.Name(format)) };
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

            fields.Add(("width", g.Width));
            fields.Add(("height", g.Height));
            fields.Add(("geometry_source", inferred ? "inferred" : "header"));
            fields.Add(("events", stats.Events));
            fields.Add(("on", stats.On));
            fields.Add(("off", stats.Events - stats.On));
            fields.Add(("t_first", stats.TFirst));
            fields.Add(("t_last", stats.TLast));
            fields.Add(("t_min", stats.Events == 0 ? 0L : stats.TMin));
            fields.Add(("t_max", stats.Events == 0 ? 0L : stats.TMax));
            fields.Add(("x_max", stats.XMax));
            fields.Add(("y_max", stats.YMax));
            fields.Add(("sum_x", stats.SumX));
            fields.Add(("sum_y", stats.SumY));
            fields.Add(("duration_us", stats.DurationUs));
            fields.Add(("duration_s", stats.DurationUs / 1e6));
            fields.Add(("event_rate_per_s", InspectText.RateOrNull(stats.Events, stats.DurationUs)));
            fields.Add(("triggers", stats.Triggers));
            InspectText.AddSensor(text, g, inferred, reader is Aedat2Reader { ChipInferred: true } ? "from the chip assumed for the file, --chip to change" : "from the file header");
            InspectText.AddEvents(text, stats.Events, stats.On, stats.TFirst, stats.TLast, stats.DurationUs, "events");
            AddFormatDetails(reader, fields, text);
            text.Add(("triggers", InspectText.Count(stats.Triggers)));
        }
        else if (reader is ISpikeReader spikes)
        {
            var stats = new SpikeStatistics();
            EventReaders.Drain(spikes, stats);
            int channels = spikes.Channels > 0 ? spikes.Channels : stats.ChannelMax + 1;
            fields.Add(("channels", channels));
            fields.Add(("ears", spikes.Ears));
            fields.Add(("events", stats.Events));
            fields.Add(("on", stats.On));
            fields.Add(("off", stats.Events - stats.On));
            fields.Add(("t_first", stats.TFirst));
            fields.Add(("t_last", stats.TLast));
            fields.Add(("channel_max", stats.ChannelMax));
            fields.Add(("duration_us", stats.DurationUs));
            fields.Add(("duration_s", stats.DurationUs / 1e6));
            fields.Add(("event_rate_per_s", InspectText.RateOrNull(stats.Events, stats.DurationUs)));
            text.Add(("channels", string.Create(CultureInfo.InvariantCulture, $"{channels} x {spikes.Ears} ear{(spikes.Ears == 1 ? string.Empty : "s")}{(spikes.Channels > 0 ? string.Empty : " (inferred from the largest address)")}")));
            InspectText.AddEvents(text, stats.Events, stats.On, stats.TFirst, stats.TLast, stats.DurationUs, "spikes");
        }

        fields.Add(("bytes_read", reader.Position));
        fields.Add(("warnings", reader.Warnings.Count));
        text.Add(("bytes read", InspectText.Bytes(reader.Position)));
        text.Add(("warnings", reader.Warnings.Count == 0 ? "none" : string.Create(CultureInfo.InvariantCulture, $"{reader.Warnings.Count} (below, on stderr)")));
        Print(fields, text, json, stdout);
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

        var fields = new List<(string Key, object Value)>
        {
            ("format", EventFormats.Name(r.Format)),
            ("width", g.Width),
            ("height", g.Height),
            ("geometry_source", inferred ? "inferred" : "header"),
            ("events", stats.Events),
            ("on", stats.On),
            ("off", stats.Events - stats.On),
            ("t_first", stats.TFirst),
            ("t_last", stats.TLast),
            ("t_min", stats.Events == 0 ? 0L : stats.TMin),
            ("t_max", stats.Events == 0 ? 0L : stats.TMax),
            ("x_max", stats.XMax),
            ("y_max", stats.YMax),
            ("sum_x", stats.SumX),
            ("sum_y", stats.SumY),
            ("duration_us", stats.DurationUs),
            ("duration_s", stats.DurationUs / 1e6),
            ("event_rate_per_s", InspectText.RateOrNull(stats.Events, stats.DurationUs)),
            ("triggers", stats.Triggers),
            ("packets", r.Counters.Packets),
            ("bytes_read", r.Counters.BytesReceived),
            ("warnings", r.Counters.MalformedPackets),
            ("source", r.Source),
            ("lost_datagrams", r.Counters.LostDatagrams),
        };
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
        Print(fields, text, json, stdout);
        return CommandRunner.Ok;
    }

    /// <summary>Codec, packets, frames, IMU samples: what the format's reader reports beyond events.</summary>
    private static void AddFormatDetails(IEventReader reader, List<(string, object)> fields, List<(string, string)> text)
    {
        switch (reader)
        {
            case Aedat4Reader a4:
                fields.Add(("compression", (int)a4.Compression));
                fields.Add(("compression_name", InspectText.CodecKey(a4.Compression)));
                fields.Add(("packets", a4.PacketsRead));
                fields.Add(("frames", a4.FramesRead));
                fields.Add(("imu_samples", a4.ImuSamplesRead));
                text.Add(("compression", InspectText.CodecName(a4.Compression)));
                text.Add(("packets", InspectText.Count(a4.PacketsRead)));
                text.Add(("frames", InspectText.Count(a4.FramesRead)));
                text.Add(("IMU samples", InspectText.Count(a4.ImuSamplesRead)));
                break;
            case Aedat2Reader a2:
                fields.Add(("compression_name", "none"));
                fields.Add(("imu_samples", a2.ImuSamples));
                fields.Add(("aps_words_skipped", a2.ApsWordsSkipped));
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
                fields.Add(("compression_name", "none"));
                fields.Add(("packets", a3.Counters.Packets));
                fields.Add(("packets_skipped", a3.Counters.PacketsSkipped));
                text.Add(("compression", "none"));
                text.Add(("packets", string.Create(CultureInfo.InvariantCulture, $"{InspectText.Count(a3.Counters.Packets)} ({InspectText.Count(a3.Counters.PacketsSkipped)} of other types skipped)")));
                break;
        }
    }

    private static int InspectShd(string path, ReaderOptions options, bool json, TextWriter stdout)
    {
        using ShdFile file = ShdFile.Open(path, options);
        var fields = new List<(string, object)>
        {
            ("format", "shd"),
            ("samples", file.Count),
            ("classes", file.Classes),
            ("channels", file.Channels),
            ("events", file.TotalSpikes),
        };
        var text = new List<(string, string)>
        {
            ("file", path),
            ("format", InspectText.FormatTitle(EventFormat.Shd)),
            ("samples", InspectText.Count(file.Count)),
            ("classes", InspectText.Count(file.Classes)),
            ("channels", InspectText.Count(file.Channels)),
            ("spikes", string.Create(CultureInfo.InvariantCulture, $"{InspectText.Count(file.TotalSpikes)}{(file.Count > 0 ? $" ({file.TotalSpikes / (double)file.Count:0.#} per sample)" : string.Empty)}")),
        };
        Print(fields, text, json, stdout);
        return CommandRunner.Ok;
    }

    /// <summary>--json: every field, machine names and raw units; otherwise the user's view in <paramref name="text"/>.</summary>
    private static void Print(List<(string Key, object Value)> fields, List<(string Label, string Text)> text, bool json, TextWriter stdout)
    {
        if (json)
        {
            JsonLine.Write(stdout, w =>
            {
                foreach ((string key, object value) in fields)
                {
                    WriteValue(w, key, value);
                }
            });
            return;
        }

        int width = text.Max(f => f.Label.Length) + 2;
        foreach ((string label, string value) in text)
        {
            stdout.WriteLine((label + ":").PadRight(width) + value);
        }
    }

    internal static void WriteValue(Utf8JsonWriter w, string key, object? value)
    {
        switch (value)
        {
            case null: w.WriteNull(key); break;
            case var n when ReferenceEquals(n, InspectText.Null): w.WriteNull(key); break;
            case long l: w.WriteNumber(key, l); break;
            case int i: w.WriteNumber(key, i); break;
            case double d: w.WriteNumber(key, d); break;
            case bool b: w.WriteBoolean(key, b); break;
            default: w.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture)); break;
        }
    }
}
