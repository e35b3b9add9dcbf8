using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Cli.Commands;

/// <summary>`eventsnn convert`: any readable recording to AEDAT4 (or another writable format).</summary>
internal sealed class ConvertCommand : Command
{
    public override string Name => "convert";

    public override string Summary => "convert a recording to AEDAT4 (or --to another format); audio spikes to SHD-layout HDF5";

    public override string Arguments => "<input> <output>";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("compression", "lz4|zstd|none", "AEDAT4 compression (default lz4; also lz4-high, zstd-high)"),
        new("to", "format", "output format (default: from the output's extension; .aedat4 -> aedat4, .h5 -> shd)"),
        new("json", null, "print a JSON summary"),
        .. ReaderOptionParsing.Specs,
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string input = args.Positional(0, "<input>");
        string output = args.Positional(1, "<output>");
        ReaderOptions options = ReaderOptionParsing.From(args);
        EventFormat target = TargetFormat(args.Get("to"), output);
        Aedat4Compression compression;
        try
        {
            compression = EventWriters.ParseCompression(args.Get("compression") ?? "lz4");
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }

        if (Path.GetFullPath(input) == Path.GetFullPath(output))
        {
            throw new UsageException("input and output are the same file");
        }

        EventFormat source = EventReaders.ResolveFormat(input, options);
        options = options with { Format = source };
        long events;
        IReadOnlyList<FormatWarning> warnings;
        if (EventFormats.IsAudio(source))
        {
            (events, warnings) = ConvertSpikes(input, output, target, options);
        }
        else
        {
            (events, warnings) = ConvertEvents(input, output, target, compression, options);
        }

        foreach (FormatWarning w in warnings)
        {
            stderr.WriteLine($"warning: {input}: {w}");
        }

        if (args.Has("json"))
        {
            JsonLine.Write(stdout, w =>
            {
                w.WriteString("input", input);
                w.WriteString("input_format", EventFormats.Name(source));
                w.WriteString("output", output);
                w.WriteString("output_format", EventFormats.Name(target));
                w.WriteNumber("events", events);
                w.WriteNumber("bytes", new FileInfo(output).Length);
                w.WriteNumber("warnings", warnings.Count);
            });
        }
        else
        {
            stdout.WriteLine($"{input} ({EventFormats.Name(source)}) -> {output} ({EventFormats.Name(target)}): {events:N0} events, {new FileInfo(output).Length:N0} bytes");
        }

        return CommandRunner.Ok;
    }

    private static EventFormat TargetFormat(string? to, string output)
    {
        if (to is not null)
        {
            return EventFormats.TryParse(to, out EventFormat f) && (f == EventFormat.Shd || EventWriters.Writable.Contains(f))
                ? f
                : throw new UsageException($"option --to: cannot write '{to}'");
        }

        return Path.GetExtension(output).ToLowerInvariant() switch
        {
            ".h5" or ".hdf5" => EventFormat.Shd,
            ".raw" => EventFormat.Evt3,
            ".dat" => EventFormat.Dat,
            ".bin" => EventFormat.NMnist,
            ".aedat" => EventFormat.Aedat2,
            _ => EventFormat.Aedat4,
        };
    }

    private static (long, IReadOnlyList<FormatWarning>) ConvertEvents(string input, string output, EventFormat target, Aedat4Compression compression, ReaderOptions options)
    {
        if (target == EventFormat.Shd)
        {
            throw new UsageException("DVS events cannot be written as SHD (audio spikes); choose an event format");
        }

        SensorGeometry geometry;
        using (IDvsEventReader probe = EventReaders.OpenDvs(input, options))
        {
            geometry = probe.Geometry;
            if (!geometry.IsKnown)
            {
                // the writer declares the sensor up front: find it with a first pass
                var stats = new EventStatistics();
                EventReaders.Drain(probe, stats);
                geometry = new SensorGeometry(Math.Max(1, stats.XMax + 1), Math.Max(1, stats.YMax + 1));
            }
        }

        using IDvsEventReader reader = EventReaders.OpenDvs(input, options);
        using var batch = new EventBatch();
        long events = 0;
        using (IEventWriter writer = EventWriters.Create(target, output, geometry, compression, triggers: true))
        {
            try
            {
                while (reader.Read(batch))
                {
                    writer.Write(batch);
                    events += batch.Count;
                }
            }
            catch (EventFormatException ex)
            {
                // keep what was accepted: the writer closes the file properly on dispose
                throw new EventFormatException(ex.SourceName, ex.Offset, $"{ex.Problem} ({events:N0} events before it were written to {output})", ex.Field, ex) { IsTruncation = ex.IsTruncation };
            }
        }

        return (events, reader.Warnings);
    }

    private static (long, IReadOnlyList<FormatWarning>) ConvertSpikes(string input, string output, EventFormat target, ReaderOptions options)
    {
        if (target != EventFormat.Shd)
        {
            throw new UsageException("audio spikes can only be written as SHD-layout HDF5 (.h5)");
        }

        if (options.Format == EventFormat.Shd)
        {
            throw new UsageException("the input is already SHD-layout HDF5");
        }

        using var reader = (ISpikeReader)EventReaders.Open(input, options);
        var times = new List<long>();
        var units = new List<ushort>();
        using var batch = new SpikeBatch();
        int channels = Math.Max(1, reader.Channels) * Math.Max(1, reader.Ears);
        while (reader.Read(batch))
        {
            for (int i = 0; i < batch.Count; i++)
            {
                times.Add(batch.T[i]);
                // stereo recordings: right-ear channels follow the left ear's
                units.Add((ushort)((batch.Ear[i] * Math.Max(1, reader.Channels)) + batch.Channel[i]));
            }
        }

        long t0 = times.Count > 0 ? times[0] : 0;
        long[] rel = new long[times.Count];
        for (int i = 0; i < rel.Length; i++)
        {
            rel[i] = times[i] - t0;
        }

        using (ShdWriter writer = ShdWriter.Create(output, channels, keys: null, ShdTimeType.Float32))
        {
            writer.Add(rel, units.ToArray(), label: 0);
        }

        return (times.Count, reader.Warnings);
    }
}
