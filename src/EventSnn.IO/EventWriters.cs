using EventSnn.Events;

namespace EventSnn.IO;

/// <summary>Creates a writer for a DVS event format.</summary>
public static class EventWriters
{
    /// <summary>Formats with a DVS event writer.</summary>
    public static IReadOnlyList<EventFormat> Writable { get; } =
        [EventFormat.Aedat4, EventFormat.Aedat2, EventFormat.Aedat3, EventFormat.Evt2, EventFormat.Evt21, EventFormat.Evt3, EventFormat.Dat, EventFormat.NMnist];

    /// <summary>The usual file extension of a format (without the dot).</summary>
    public static string Extension(EventFormat format) => format switch
    {
        EventFormat.Aedat4 => "aedat4",
        EventFormat.Aedat2 or EventFormat.Aedat3 => "aedat",
        EventFormat.Evt2 or EventFormat.Evt21 or EventFormat.Evt3 => "raw",
        EventFormat.Dat => "dat",
        EventFormat.NMnist => "bin",
        EventFormat.Shd => "h5",
        _ => "bin",
    };

    /// <summary>What <paramref name="format"/> can hold (address fields, time range, bytes per event).</summary>
    /// <exception cref="ArgumentException"><paramref name="format"/> has no DVS event writer.</exception>
    public static WriterLimits Limits(EventFormat format) => WriterLimits.For(format);

    /// <summary>
    /// Creates <paramref name="path"/> and a writer for <paramref name="format"/>.
    /// <paramref name="compression"/> applies to AEDAT4; <paramref name="triggers"/> declares
    /// an AEDAT4 trigger stream (other formats always carry triggers where they can).
    /// </summary>
    public static IEventWriter Create(EventFormat format, string path, SensorGeometry geometry, Aedat4Compression compression = Aedat4Compression.Lz4, bool triggers = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        CheckWritable(format);
        var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        try
        {
            return Create(format, stream, geometry, compression, triggers, leaveOpen: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A writer for <paramref name="format"/> on <paramref name="stream"/> (AEDAT4 appends its
    /// table only when the stream can seek). The sensor must fit the format
    /// (<see cref="WriterLimits.CheckGeometry"/>), else <see cref="FormatLimitException"/>.
    /// </summary>
    public static IEventWriter Create(EventFormat format, Stream stream, SensorGeometry geometry, Aedat4Compression compression = Aedat4Compression.Lz4, bool triggers = true, bool leaveOpen = false)
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
        Writable.Contains(format) ? WriterLimits.For(format) : throw new ArgumentException($"no DVS event writer for {EventFormats.Name(format)}", nameof(format));
}
