using EventSnn.Events;

namespace EventSnn.IO;

/// <summary>Packet compression of an AEDAT 4.0 file or DV network stream (IOHeader.compression).</summary>
public enum Aedat4Compression
{
    /// <summary>Payloads are stored as they are.</summary>
    None = 0,
    /// <summary>Each payload is one LZ4 frame (fast level).</summary>
    Lz4 = 1,
    /// <summary>Each payload is one LZ4 frame (high-compression level).</summary>
    Lz4High = 2,
    /// <summary>Each payload is one zstd frame (default level).</summary>
    Zstd = 3,
    /// <summary>Each payload is one zstd frame (high level).</summary>
    ZstdHigh = 4,
}

/// <summary>What a DV stream carries, from its typeIdentifier.</summary>
public enum Aedat4StreamType
{
    /// <summary>A type this library does not decode (packets are skipped).</summary>
    Unknown = 0,
    /// <summary>"EVTS": polarity events.</summary>
    Events,
    /// <summary>"FRME": intensity frames.</summary>
    Frames,
    /// <summary>"IMUS": inertial measurement samples.</summary>
    Imu,
    /// <summary>"TRIG": triggers and special signals.</summary>
    Triggers,
}

/// <summary>
/// One output stream declared in the IOHeader's infoNode XML: stream id (the streamId of
/// its packets), type identifier (EVTS, FRME, IMUS, TRIG, ...), sensor size where given,
/// the producing source (camera name) and the output's name.
/// </summary>
public sealed record Aedat4StreamInfo(int Id, string TypeIdentifier, SensorGeometry Geometry, string Source = "", string Name = "")
{
    /// <summary>The stream type from <see cref="TypeIdentifier"/>.</summary>
    public Aedat4StreamType Type => Aedat4Names.TypeOf(TypeIdentifier);

    /// <summary>Timestamp offset (tsOffset attribute, microseconds) when declared.</summary>
    public long? TimestampOffset { get; init; }
}

/// <summary>
/// An intensity frame from an AEDAT 4.0 "FRME" packet. <see cref="Pixels"/> points into
/// the reader's pooled decode buffer and is valid only during the callback that receives
/// the frame: copy it to keep it.
/// </summary>
/// <param name="StreamId">Stream the frame came from.</param>
/// <param name="T">Central timestamp (exposure midpoint), microseconds.</param>
/// <param name="StartOfFrame">Start-of-frame timestamp.</param>
/// <param name="EndOfFrame">End-of-frame timestamp.</param>
/// <param name="StartOfExposure">Start-of-exposure timestamp.</param>
/// <param name="EndOfExposure">End-of-exposure timestamp.</param>
/// <param name="Format">OpenCV type code: 0 = 8UC1 gray, 16 = 8UC3 BGR, 24 = 8UC4 BGRA.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="PositionX">X of the frame's top-left corner on the sensor.</param>
/// <param name="PositionY">Y of the frame's top-left corner on the sensor.</param>
/// <param name="Pixels">Pixel bytes, row by row (OpenCV layout).</param>
/// <param name="Exposure">Exposure duration in microseconds (0 when not given).</param>
/// <param name="Source">DV frame source code (0 undefined, 1 sensor, ...).</param>
public readonly record struct Aedat4Frame(
    int StreamId,
    long T,
    long StartOfFrame,
    long EndOfFrame,
    long StartOfExposure,
    long EndOfExposure,
    byte Format,
    short Width,
    short Height,
    short PositionX,
    short PositionY,
    ReadOnlyMemory<byte> Pixels,
    long Exposure = 0,
    sbyte Source = 0);

/// <summary>
/// One entry of an AEDAT 4.0 FileDataTable: where a packet's payload starts (after its
/// 8-byte header), its stream and size, and (when the writer filled them in) the number
/// of elements and the first/last timestamps.
/// </summary>
public readonly record struct Aedat4TableEntry(long ByteOffset, int StreamId, int Size, long NumElements, long TimestampStart, long TimestampEnd);

/// <summary>Names and codes shared by the AEDAT 4.0 reader and writer.</summary>
internal static class Aedat4Names
{
    public const string FileMagic = "#!AER-DAT4.0\r\n";
    public const int FileMagicLength = 14;

    public static ReadOnlySpan<byte> Magic => "#!AER-DAT4.0\r\n"u8;

    public static ReadOnlySpan<byte> IdEvents => "EVTS"u8;

    public static ReadOnlySpan<byte> IdFrames => "FRME"u8;

    public static ReadOnlySpan<byte> IdImu => "IMUS"u8;

    public static ReadOnlySpan<byte> IdTriggers => "TRIG"u8;

    public static ReadOnlySpan<byte> IdHeader => "IOHE"u8;

    public static ReadOnlySpan<byte> IdTable => "FTAB"u8;

    public static Aedat4StreamType TypeOf(string? identifier) => identifier switch
    {
        "EVTS" => Aedat4StreamType.Events,
        "FRME" => Aedat4StreamType.Frames,
        "IMUS" => Aedat4StreamType.Imu,
        "TRIG" => Aedat4StreamType.Triggers,
        _ => Aedat4StreamType.Unknown,
    };

    public static Aedat4StreamType TypeOf(ReadOnlySpan<byte> identifier)
    {
        if (identifier.SequenceEqual(IdEvents))
        {
            return Aedat4StreamType.Events;
        }

        if (identifier.SequenceEqual(IdTriggers))
        {
            return Aedat4StreamType.Triggers;
        }

        if (identifier.SequenceEqual(IdImu))
        {
            return Aedat4StreamType.Imu;
        }

        return identifier.SequenceEqual(IdFrames) ? Aedat4StreamType.Frames : Aedat4StreamType.Unknown;
    }

    public static string Identifier(Aedat4StreamType type) => type switch
    {
        Aedat4StreamType.Events => "EVTS",
        Aedat4StreamType.Frames => "FRME",
        Aedat4StreamType.Imu => "IMUS",
        Aedat4StreamType.Triggers => "TRIG",
        _ => "????",
    };

    /// <summary>The compression name DV writes in the per-stream "compression" attribute.</summary>
    public static string CompressionName(Aedat4Compression c) => c switch
    {
        Aedat4Compression.None => "NONE",
        Aedat4Compression.Lz4 => "LZ4",
        Aedat4Compression.Lz4High => "LZ4_HIGH",
        Aedat4Compression.Zstd => "ZSTD",
        Aedat4Compression.ZstdHigh => "ZSTD_HIGH",
        _ => "NONE",
    };

    /// <summary>Maps a DV TriggerType code to the canonical kind (the raw code goes to Data).</summary>
    public static TriggerKind KindOf(int dvType) => dvType switch
    {
        0 => TriggerKind.TimestampReset,
        1 => TriggerKind.ExternalRising,
        2 => TriggerKind.ExternalFalling,
        3 => TriggerKind.ExternalPulse,
        4 or 5 => TriggerKind.ExternalGenerator,
        _ => TriggerKind.Other,
    };

    /// <summary>
    /// Maps a canonical trigger back to a DV TriggerType code: the kinds DV has map
    /// directly; generator edges and <see cref="TriggerKind.Other"/> keep their raw code
    /// from Data when it is a DV code; <see cref="TriggerKind.External"/> (edge unknown)
    /// becomes a pulse.
    /// </summary>
    public static sbyte CodeOf(in TriggerEvent trigger) => trigger.Kind switch
    {
        TriggerKind.TimestampReset => 0,
        TriggerKind.ExternalRising => 1,
        TriggerKind.ExternalFalling => 2,
        TriggerKind.ExternalPulse or TriggerKind.External => 3,
        TriggerKind.ExternalGenerator => trigger.Data == 5 ? (sbyte)5 : (sbyte)4,
        _ => trigger.Data is >= sbyte.MinValue and <= sbyte.MaxValue ? (sbyte)trigger.Data : (sbyte)-1,
    };
}
