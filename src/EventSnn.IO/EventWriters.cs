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

    /// <summary>
    /// Creates <paramref name="path"/> and a writer for <paramref name="format"/>.
    /// <paramref name="compression"/> applies to AEDAT4; <paramref name="triggers"/> declares
    /// an AEDAT4 trigger stream (other formats always carry triggers where they can).
    /// </summary>
    public static IEventWriter Create(EventFormat format, string path, SensorGeometry geometry, Aedat4Compression compression = Aedat4Compression.Lz4, bool triggers = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        return format switch
        {
            EventFormat.Aedat4 => Aedat4Writer.Create(path, new Aedat4WriterOptions { Compression = compression, Geometry = geometry, Triggers = triggers }),
            EventFormat.Aedat2 => new Aedat2Writer(path, geometry == SensorGeometry.Dvs128 ? JaerChip.Dvs128 : JaerChip.Davis, geometry),
            EventFormat.Aedat3 => new Aedat31Writer(path, geometry),
            EventFormat.Evt2 => Evt2Writer.Create(path, geometry),
            EventFormat.Evt21 => Evt21Writer.Create(path, geometry),
            EventFormat.Evt3 => Evt3Writer.Create(path, geometry),
            EventFormat.Dat => DatWriter.Create(path, geometry),
            EventFormat.NMnist => new NMnistWriter(path),
            _ => throw new ArgumentException($"no DVS event writer for {EventFormats.Name(format)}", nameof(format)),
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
}
