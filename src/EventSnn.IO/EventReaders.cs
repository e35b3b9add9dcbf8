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
            EventFormat.Aedat2 => Aedat2Reader.Open(path, options),
            EventFormat.Aedat3 => Aedat31Reader.Open(path, options),
            EventFormat.Aedat4 => Aedat4Reader.Open(path, options),
            EventFormat.Evt2 => Evt2Reader.Open(path, options),
            EventFormat.Evt21 => Evt21Reader.Open(path, options),
            EventFormat.Evt3 => Evt3Reader.Open(path, options),
            EventFormat.Dat => DatReader.Open(path, options),
            EventFormat.NMnist => NMnistReader.Open(path, options),
            EventFormat.Nas => NasReader.Open(path, options),
            EventFormat.Shd => ShdReader.Open(path, options),
            _ => throw new EventFormatException(path, 0, "unknown format"),
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
            throw new EventFormatException(path, 0, "format not recognised from content (no AEDAT/Prophesee/HDF5 header, no known layout); pass --format <name>");
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
