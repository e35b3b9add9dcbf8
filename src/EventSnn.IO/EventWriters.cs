using EventSnn.Events;

namespace EventSnn.IO;

/// <summary>Creates a writer for a DVS event format.</summary>
public static class EventWriters
{
    /// <summary>Event formats with a writer and a reader (what they write reads back the same).</summary>
    public static IReadOnlyList<EventFormat> Writable { get; } =
        [EventFormat.Aedat4, EventFormat.Aedat2, EventFormat.Aedat3, EventFormat.Evt2, EventFormat.Evt21, EventFormat.Evt3, EventFormat.Dat, EventFormat.NMnist];

    /// <summary>Export formats: event arrays for other tools (CSV text, NumPy .npy, HDF5 datasets), written but not read.</summary>
    public static IReadOnlyList<EventFormat> Exports { get; } = [EventFormat.Csv, EventFormat.Npy, EventFormat.Hdf5];

    /// <summary>True when <paramref name="format"/> needs the event count before the first event (<see cref="Create(EventFormat, Stream, SensorGeometry, Aedat4Compression, bool, bool, long?)"/>).</summary>
    public static bool NeedsEventCount(EventFormat format) => format == EventFormat.Hdf5;

    /// <summary>The usual file extension of a format (without the dot).</summary>
    public static string Extension(EventFormat format) => format switch
    {
        EventFormat.Aedat4 => "aedat4",
        EventFormat.Aedat2 or EventFormat.Aedat3 => "aedat",
        EventFormat.Evt2 or EventFormat.Evt21 or EventFormat.Evt3 => "raw",
        EventFormat.Dat => "dat",
        EventFormat.NMnist => "bin",
        EventFormat.Shd => "h5",
        EventFormat.Csv => "csv",
        EventFormat.Npy => "npy",
        EventFormat.Hdf5 => "h5",
        _ => "bin",
    };

    /// <summary>What <paramref name="format"/> can hold (address fields, time range, bytes per event).</summary>
    /// <exception cref="ArgumentException"><paramref name="format"/> has no DVS event writer.</exception>
    public static WriterLimits Limits(EventFormat format) => WriterLimits.For(format);

    /// <summary>
    /// Creates <paramref name="path"/> and a writer for <paramref name="format"/>.
    /// <paramref name="compression"/> applies to AEDAT4; <paramref name="triggers"/> declares
    /// an AEDAT4 trigger stream (other formats always carry triggers where they can);
    /// <paramref name="eventCount"/> is the number of events to come, required by HDF5
    /// (<see cref="NeedsEventCount"/>) and checked by NPY when given.
    /// </summary>
    public static IEventWriter Create(EventFormat format, string path, SensorGeometry geometry, Aedat4Compression compression = Aedat4Compression.Lz4, bool triggers = true, long? eventCount = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        CheckWritable(format);
        var stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        try
        {
            return Create(format, stream, geometry, compression, triggers, leaveOpen: false, eventCount);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A writer for <paramref name="format"/> on <paramref name="stream"/> (AEDAT4 appends its
    /// table only when the stream can seek; NPY patches its count into the header on a seekable
    /// stream; HDF5 needs a seekable stream and <paramref name="eventCount"/>). The sensor must fit
    /// the format (<see cref="WriterLimits.CheckGeometry"/>), else <see cref="FormatLimitException"/>.
    /// </summary>
    public static IEventWriter Create(EventFormat format, Stream stream, SensorGeometry geometry, Aedat4Compression compression = Aedat4Compression.Lz4, bool triggers = true, bool leaveOpen = false, long? eventCount = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WriterLimits limits = CheckWritable(format);
        if (limits.CheckGeometry(geometry) is { } problem)
        {
            throw new FormatLimitException(format, problem);
        }

        return format switch
        {
            EventFormat.Aedat4 => new Aedat4Writer(stream, new Aedat4WriterOptions { Compression = compression, Geometry = geometry, Triggers = triggers, LeaveOpen = leaveOpen }),
            EventFormat.Aedat2 => new Aedat2Writer(stream, geometry == SensorGeometry.Dvs128 ? JaerChip.Dvs128 : JaerChip.Davis, geometry, leaveOpen: leaveOpen),
            EventFormat.Aedat3 => new Aedat31Writer(stream, geometry, leaveOpen: leaveOpen),
            EventFormat.Evt2 => new Evt2Writer(stream, geometry, leaveOpen),
            EventFormat.Evt21 => new Evt21Writer(stream, geometry, leaveOpen),
            EventFormat.Evt3 => new Evt3Writer(stream, geometry, leaveOpen),
            EventFormat.Dat => new DatWriter(stream, geometry, leaveOpen),
            EventFormat.Csv => new CsvWriter(stream, leaveOpen),
            EventFormat.Npy => new NpyWriter(stream, eventCount, leaveOpen),
            EventFormat.Hdf5 => new Hdf5EventWriter(stream, geometry, eventCount ?? throw new ArgumentException("HDF5 needs the event count up front", nameof(eventCount)), leaveOpen),
            _ => new NMnistWriter(stream, leaveOpen),
        };
    }

    /// <summary>Parses an AEDAT4 compression name: lz4, lz4-high, zstd, zstd-high, none.</summary>
    public static Aedat4Compression ParseCompression(string name) => name.Trim().ToLowerInvariant() switch
    {
        "lz4" => Aedat4Compression.Lz4,
        "lz4-high" or "lz4_high" or "lz4high" => Aedat4Compression.Lz4High,
        "zstd" => Aedat4Compression.Zstd,
        "zstd-high" or "zstd_high" or "zstdhigh" => Aedat4Compression.ZstdHigh,
        "none" => Aedat4Compression.None,
        _ => throw new ArgumentException($"unknown compression '{name}' (lz4, lz4-high, zstd, zstd-high, none)", nameof(name)),
    };

    private static WriterLimits CheckWritable(EventFormat format) =>
        Writable.Contains(format) || Exports.Contains(format) ? WriterLimits.For(format) : throw new ArgumentException($"no DVS event writer for {EventFormats.Name(format)}", nameof(format));
}
