using System.Globalization;
using EventSnn.Events;

namespace EventSnn.IO;

/// <summary>
/// What a writable DVS event format can hold: address fields, the time its fields store
/// directly, how later times are reached, and the bytes an event costs at least. Writers enforce
/// these limits batch by batch (<see cref="FormatLimitException"/>); the same figures let a caller
/// check a conversion before it writes anything (<see cref="EventWriters.Limits"/>).
/// </summary>
public sealed record WriterLimits
{
    /// <summary>The format.</summary>
    public required EventFormat Format { get; init; }

    /// <summary>Display name, e.g. "AEDAT 2.0".</summary>
    public required string Name { get; init; }

    /// <summary>Largest x the address fields hold.</summary>
    public required int MaxX { get; init; }

    /// <summary>Largest y the address fields hold.</summary>
    public required int MaxY { get; init; }

    /// <summary>True when timestamps may be negative (AEDAT 4.0 stores int64).</summary>
    public bool NegativeTime { get; init; }

    /// <summary>Timestamps in [0, DirectTimeRange) are stored as they are; <see cref="long.MaxValue"/> when every non-negative time is.</summary>
    public long DirectTimeRange { get; init; } = long.MaxValue;

    /// <summary>
    /// True when times beyond <see cref="DirectTimeRange"/> are still reachable from the start of
    /// the file (counter wraps or overflow markers, <see cref="BridgeBytes"/> per <see cref="BridgeStepUs"/>);
    /// false when the first timestamp must lie inside it (a 32-bit field that only unwraps between records).
    /// </summary>
    public bool BridgesTime { get; init; }

    /// <summary>Time covered by one bridging word or marker (us); 0 when the format does not bridge.</summary>
    public long BridgeStepUs { get; init; }

    /// <summary>Bytes of one bridging word or marker.</summary>
    public int BridgeBytes { get; init; }

    /// <summary>Consecutive records must be less than this far apart (us); <see cref="long.MaxValue"/> when unlimited.</summary>
    public long MaxTimeStep { get; init; } = long.MaxValue;

    /// <summary>Bytes one event costs at least (vectorised or compressed formats: 0).</summary>
    public double MinBytesPerEvent { get; init; }

    /// <summary>True when the format stores triggers.</summary>
    public bool Triggers { get; init; } = true;

    /// <summary>
    /// Null when a sensor of <paramref name="geometry"/> fits the format, else the problem in one
    /// sentence (address fields too narrow; for AEDAT 2.0, no jAER chip class for the size).
    /// <see cref="SensorGeometry.Unknown"/> always fits (the writers then check every event).
    /// </summary>
    public string? CheckGeometry(SensorGeometry geometry)
    {
        if (!geometry.IsKnown)
        {
            return null;
        }

        if (Format == EventFormat.Aedat2)
        {
            if (geometry == SensorGeometry.Dvs128 || Aedat2Writer.ChipClassFor(JaerChip.Davis, geometry) is not null)
            {
                return null;
            }

            return $"{Name} has no jAER chip class for a {Size(geometry)} sensor (jAER knows {Aedat2Writer.KnownSizes})";
        }

        if (geometry.Width - 1 > MaxX || geometry.Height - 1 > MaxY)
        {
            string fields = Format == EventFormat.NMnist
                ? $"x in 0..{MaxX} and y in 0..{MaxY} (y = 240 marks a time overflow)"
                : MaxX == MaxY ? $"x and y in 0..{MaxX}" : $"x in 0..{MaxX} and y in 0..{MaxY}";
            return $"{Name} stores {fields}; the sensor is {Size(geometry)}";
        }

        return null;
    }

    /// <summary>True when a recording starting at <paramref name="firstT"/> is stored without rebasing or bridging.</summary>
    public bool StoresDirectly(long firstT) => firstT >= 0 ? firstT < DirectTimeRange : NegativeTime;

    /// <summary>
    /// Null when a recording whose first timestamp is <paramref name="firstT"/> can be written
    /// with its times kept, else the problem in one sentence.
    /// </summary>
    public string? CheckFirstTime(long firstT)
    {
        if (firstT < 0 && !NegativeTime)
        {
            return $"{Name} stores non-negative timestamps; the first event is at {firstT.ToString("N0", CultureInfo.InvariantCulture)} us";
        }

        if (firstT >= DirectTimeRange && !BridgesTime)
        {
            return $"{Name} stores {Bits(DirectTimeRange)}-bit timestamps (below {DirectTimeRange.ToString("N0", CultureInfo.InvariantCulture)} us); the first event is at {firstT.ToString("N0", CultureInfo.InvariantCulture)} us";
        }

        return null;
    }

    /// <summary>
    /// A lower bound of the bytes an output of <paramref name="events"/> events whose times reach
    /// <paramref name="lastT"/> (as written) takes: the events' minimum size plus the words or
    /// markers that bridge the time from 0 (headers not counted).
    /// </summary>
    public long MinimumBytes(long events, long lastT)
    {
        double bytes = Math.Max(0, events) * MinBytesPerEvent;
        if (BridgesTime && BridgeStepUs > 0 && lastT >= DirectTimeRange)
        {
            bytes += (double)((lastT - DirectTimeRange) / BridgeStepUs + 1) * BridgeBytes;
        }

        return bytes >= long.MaxValue ? long.MaxValue : (long)bytes;
    }

    internal static string Size(SensorGeometry g) => $"{g.Width} x {g.Height}";

    private static int Bits(long range) => 63 - (int)long.LeadingZeroCount(range);

    internal static WriterLimits For(EventFormat format) => format switch
    {
        EventFormat.Aedat4 => new() { Format = format, Name = "AEDAT 4.0", MaxX = short.MaxValue, MaxY = short.MaxValue, NegativeTime = true },
        EventFormat.Aedat3 => new() { Format = format, Name = "AEDAT 3.1", MaxX = 0x7FFF, MaxY = 0x7FFF, DirectTimeRange = 1L << 62, MinBytesPerEvent = 8 },
        EventFormat.Aedat2 => new()
        {
            Format = format, Name = "AEDAT 2.0", MaxX = (int)JaerAddress.DavisXMask, MaxY = (int)JaerAddress.DavisYMask,
            DirectTimeRange = 1L << 32, MaxTimeStep = 1L << 31, MinBytesPerEvent = 8,
        },
        EventFormat.Evt2 => new()
        {
            Format = format, Name = "EVT 2.0", MaxX = 2047, MaxY = 2047, DirectTimeRange = 1L << 34,
            BridgesTime = true, BridgeStepUs = 1L << 32, BridgeBytes = 4, MinBytesPerEvent = 4,
        },
        EventFormat.Evt21 => new()
        {
            Format = format, Name = "EVT 2.1", MaxX = 2047, MaxY = 2047, DirectTimeRange = 1L << 34,
            BridgesTime = true, BridgeStepUs = 1L << 32, BridgeBytes = 8,
        },
        EventFormat.Evt3 => new()
        {
            Format = format, Name = "EVT 3.0", MaxX = 2047, MaxY = 2047, DirectTimeRange = 1L << 24,
            BridgesTime = true, BridgeStepUs = 1L << 22, BridgeBytes = 2,
        },
        EventFormat.Dat => new()
        {
            Format = format, Name = "DAT", MaxX = 0x3FFF, MaxY = 0x3FFF, DirectTimeRange = 1L << 32, MaxTimeStep = 1L << 31,
            MinBytesPerEvent = 8, Triggers = false,
        },
        EventFormat.NMnist => new()
        {
            Format = format, Name = "N-MNIST", MaxX = 255, MaxY = 239, DirectTimeRange = NMnistWriter.TimestampLimit,
            BridgesTime = true, BridgeStepUs = NMnistReader.OverflowIncrement, BridgeBytes = NMnistReader.RecordBytes,
            MinBytesPerEvent = NMnistReader.RecordBytes, Triggers = false,
        },
        EventFormat.Csv => new() { Format = format, Name = "CSV", MaxX = ushort.MaxValue, MaxY = ushort.MaxValue, NegativeTime = true, MinBytesPerEvent = 8, Triggers = false },
        EventFormat.Npy => new() { Format = format, Name = "NPY", MaxX = short.MaxValue, MaxY = short.MaxValue, NegativeTime = true, MinBytesPerEvent = NpyWriter.RecordBytes, Triggers = false },
        EventFormat.Hdf5 => new() { Format = format, Name = "HDF5", MaxX = ushort.MaxValue, MaxY = ushort.MaxValue, NegativeTime = true, MinBytesPerEvent = 13, Triggers = false },
        _ => throw new ArgumentException($"no DVS event writer for {EventFormats.Name(format)}", nameof(format)),
    };
}
