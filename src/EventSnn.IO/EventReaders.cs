using EventSnn.Events;

namespace EventSnn.IO;

/// <summary>Opens the right streaming reader for a file, detecting its format from content.</summary>
public static class EventReaders
{
    /// <summary>
    /// Opens <paramref name="path"/> with the reader for its format (detected from content
    /// unless <see cref="ReaderOptions.Format"/> overrides it). Returns an
    /// <see cref="IDvsEventReader"/> or an <see cref="ISpikeReader"/>.
    /// </summary>
    public static IEventReader Open(string path, ReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= ReaderOptions.Default;
        EventFormat format = ResolveFormat(path, options);
        return format switch
        {
            EventFormat.Aedat2 => new Aedat2Reader(path, options),
            EventFormat.Aedat3 => new Aedat31Reader(path, options),
            EventFormat.Aedat4 => Aedat4Reader.Open(path, options),
            EventFormat.Evt2 => Evt2Reader.Open(path, options),
            EventFormat.Evt21 => Evt21Reader.Open(path, options),
            EventFormat.Evt3 => Evt3Reader.Open(path, options),
            EventFormat.Dat => DatReader.Open(path, options),
            EventFormat.NMnist => new NMnistReader(path, options),
            EventFormat.Nas => new NasReader(path, options),
            EventFormat.Shd => ShdReader.Open(path, options),
            _ => throw new EventFormatException(path, 0, EventFormats.IsExportOnly(format) ? $"{EventFormats.Name(format)} is an export format: EventSnn writes it but does not read it" : "unknown format"),
        };
    }

    /// <summary>
    /// Opens a reader over <paramref name="stream"/> (owned by the reader), detecting the
    /// format from its first bytes unless <see cref="ReaderOptions.Format"/> says it.
    /// <paramref name="sourceName"/> names the input in errors (and gives NAS name hints).
    /// </summary>
    public static IEventReader Open(Stream stream, string sourceName, ReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= ReaderOptions.Default;
        EventFormat format = options.Format;
        if (format == EventFormat.Unknown)
        {
            if (!stream.CanSeek)
            {
                throw new ArgumentException("format detection needs a seekable stream; pass ReaderOptions.Format", nameof(stream));
            }

            long start = stream.Position;
            byte[] head = new byte[(int)Math.Min(FormatDetector.HeadBytes, stream.Length - start)];
            stream.ReadExactly(head);
            stream.Position = start;
            format = FormatDetector.Detect(head, sourceName);
            if (format == EventFormat.Unknown)
            {
                throw new EventFormatException(sourceName, 0, "format not recognised from content; pass the format explicitly");
            }

            options = options with { Format = format };
        }

        return format switch
        {
            EventFormat.Aedat2 => new Aedat2Reader(stream, sourceName, options),
            EventFormat.Aedat3 => new Aedat31Reader(stream, sourceName, options),
            EventFormat.Aedat4 => new Aedat4Reader(stream, sourceName, options),
            EventFormat.Evt2 => new Evt2Reader(stream, sourceName, options),
            EventFormat.Evt21 => new Evt21Reader(stream, sourceName, options),
            EventFormat.Evt3 => new Evt3Reader(stream, sourceName, options),
            EventFormat.Dat => new DatReader(stream, sourceName, options),
            EventFormat.NMnist => new NMnistReader(stream, sourceName, options),
            EventFormat.Nas => new NasReader(stream, sourceName, options),
            EventFormat.Shd => new ShdReader(ShdFile.Open(stream, sourceName, options), ownsFile: true),
            _ => throw new EventFormatException(sourceName, 0, EventFormats.IsExportOnly(format) ? $"{EventFormats.Name(format)} is an export format: EventSnn writes it but does not read it" : "unknown format"),
        };
    }

    /// <summary>Opens a DVS event file; audio formats are an error naming the file.</summary>
    public static IDvsEventReader OpenDvs(string path, ReaderOptions? options = null)
    {
        IEventReader reader = Open(path, options);
        if (reader is IDvsEventReader dvs)
        {
            return dvs;
        }

        string name = EventFormats.Name(reader.Format);
        reader.Dispose();
        throw new EventFormatException(path, 0, $"holds audio spikes ({name}), not DVS events");
    }

    /// <summary>The format to use for <paramref name="path"/>: the override, or the detected one.</summary>
    public static EventFormat ResolveFormat(string path, ReaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: file not found", path);
        }

        if (options.Format != EventFormat.Unknown)
        {
            return options.Format;
        }

        EventFormat detected = FormatDetector.Detect(path);
        if (detected == EventFormat.Unknown)
        {
            throw new EventFormatException(path, 0, "format not recognised from content (no AEDAT/Prophesee/HDF5 header, no known layout); name the format", "format");
        }

        return detected;
    }

    /// <summary>Reads every event of a DVS reader into <paramref name="stats"/> using one pooled batch.</summary>
    public static void Drain(IDvsEventReader reader, EventStatistics stats, int batchCapacity = EventBatch.DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(stats);
        using var batch = new EventBatch(batchCapacity);
        while (reader.Read(batch))
        {
            stats.Add(batch);
        }
    }

    /// <summary>Reads every spike of a spike reader into <paramref name="stats"/>.</summary>
    public static void Drain(ISpikeReader reader, SpikeStatistics stats, int batchCapacity = SpikeBatch.DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(stats);
        using var batch = new SpikeBatch(batchCapacity);
        while (reader.Read(batch))
        {
            stats.Add(batch);
        }
    }
}
