using System.Globalization;
using System.Text.Json;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Cli.Commands;

/// <summary>`eventsnn inspect &lt;file&gt;`: format, geometry and statistics of a recording.</summary>
internal sealed class InspectCommand : Command
{
    public override string Name => "inspect";

    public override string Summary => "show the format, sensor size and event statistics of a recording";

    public override string Arguments => "<file>";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("json", null, "print one JSON object"),
        .. ReaderOptionParsing.Specs,
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string path = args.Positional(0, "<file>");
        ReaderOptions options = ReaderOptionParsing.From(args);
        bool json = args.Has("json");
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
