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
        .. ReaderOptionParsing.Specs,
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string path = args.Positional(0, "<file>");
        ReaderOptions options = ReaderOptionParsing.From(args);
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
            fields.Add(("t_first", stats.TFirst));
            fields.Add(("t_last", stats.TLast));
            fields.Add(("t_min", stats.Events == 0 ? 0L : stats.TMin));
            fields.Add(("t_max", stats.Events == 0 ? 0L : stats.TMax));
            fields.Add(("x_max", stats.XMax));
            fields.Add(("y_max", stats.YMax));
            fields.Add(("sum_x", stats.SumX));
            fields.Add(("sum_y", stats.SumY));
            fields.Add(("duration_us", stats.DurationUs));
            fields.Add(("triggers", stats.Triggers));
            AddFormatDetails(reader, fields);
        }
        else if (reader is ISpikeReader spikes)
        {
            var stats = new SpikeStatistics();
            EventReaders.Drain(spikes, stats);
            fields.Add(("channels", spikes.Channels > 0 ? spikes.Channels : stats.ChannelMax + 1));
            fields.Add(("ears", spikes.Ears));
            fields.Add(("events", stats.Events));
            fields.Add(("on", stats.On));
            fields.Add(("t_first", stats.TFirst));
            fields.Add(("t_last", stats.TLast));
            fields.Add(("channel_max", stats.ChannelMax));
            fields.Add(("duration_us", stats.DurationUs));
        }

        fields.Add(("bytes_read", reader.Position));
        fields.Add(("warnings", reader.Warnings.Count));
        Print(fields, json, stdout);
        foreach (FormatWarning w in reader.Warnings)
        {
            stderr.WriteLine($"warning: {path}: {w}");
        }

        return CommandRunner.Ok;
    }

    /// <summary>tcp://host:port (DV AEDAT4 stream) or udp://host:port (jAER, bound locally): the same fields as for files.</summary>
    private static int InspectLive(string address, ParsedArgs args, ReaderOptions options, bool json, TextWriter stdout, TextWriter stderr)
    {
        double seconds = args.GetDouble("duration", 0);
        if (seconds < 0)
        {
            throw new UsageException("option --duration: must be positive");
        }

        using var cts = new CancellationTokenSource();
        void OnCancel(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true;
            cts.Cancel();
        }

        Console.CancelKeyPress += OnCancel;
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
            r = LiveInspect.Run(address, live, cts.Token);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }
        finally
        {
            Console.CancelKeyPress -= OnCancel;
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
            ("t_first", stats.TFirst),
            ("t_last", stats.TLast),
            ("t_min", stats.Events == 0 ? 0L : stats.TMin),
            ("t_max", stats.Events == 0 ? 0L : stats.TMax),
            ("x_max", stats.XMax),
            ("y_max", stats.YMax),
            ("sum_x", stats.SumX),
            ("sum_y", stats.SumY),
            ("duration_us", stats.DurationUs),
            ("triggers", stats.Triggers),
            ("packets", r.Counters.Packets),
            ("bytes_read", r.Counters.BytesReceived),
            ("warnings", r.Counters.MalformedPackets),
            ("source", r.Source),
            ("lost_datagrams", r.Counters.LostDatagrams),
        };
        Print(fields, json, stdout);
        return CommandRunner.Ok;
    }

    private static void AddFormatDetails(IEventReader reader, List<(string, object)> fields)
    {
        if (reader is Aedat4Reader a4)
        {
            fields.Add(("compression", (int)a4.Compression));
            fields.Add(("packets", a4.PacketsRead));
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
        Print(fields, json, stdout);
        return CommandRunner.Ok;
    }

    private static void Print(List<(string Key, object Value)> fields, bool json, TextWriter stdout)
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

        int width = fields.Max(f => f.Key.Length) + 2;
        foreach ((string key, object value) in fields)
        {
            string text = value switch
            {
                long l => l.ToString("N0", CultureInfo.InvariantCulture),
                int i => i.ToString("N0", CultureInfo.InvariantCulture),
                _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
            };
            if (key is "t_first" or "t_last" or "t_min" or "t_max")
            {
                text = Convert.ToString(value, CultureInfo.InvariantCulture) + " us";
            }
            else if (key == "duration_us")
            {
                text = string.Create(CultureInfo.InvariantCulture, $"{Convert.ToInt64(value, CultureInfo.InvariantCulture) / 1e6:0.######} s");
            }

            stdout.WriteLine((key.Replace('_', ' ') + ":").PadRight(width) + text);
        }
    }

    internal static void WriteValue(Utf8JsonWriter w, string key, object value)
    {
        switch (value)
        {
            case long l: w.WriteNumber(key, l); break;
            case int i: w.WriteNumber(key, i); break;
            case double d: w.WriteNumber(key, d); break;
            case bool b: w.WriteBoolean(key, b); break;
            default: w.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture)); break;
        }
    }
}
