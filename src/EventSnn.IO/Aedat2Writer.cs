using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Writes jAER AEDAT 2.0 files (DVS128 or DAVIS address layout) that <see cref="Aedat2Reader"/>
/// and jAER read back: header '#!AER-DAT2.0', '# AEChip: &lt;class&gt;', '#End Of ASCII Header'
/// (CRLF line ends), then big-endian int32 address + int32 timestamp records.
/// </summary>
/// <remarks>
/// Coordinates are encoded with the inverse of the reader's convention (see
/// <see cref="JaerAddress"/>). Timestamps are stored modulo 2^32 (jAER's int32 wrap); the
/// reader recovers them exactly when the first is below 2^32 and consecutive records differ
/// by less than 2^31 us, so the writer accepts exactly those (non-negative times, first below
/// 2^32, steps below 2^31 us either way) and throws <see cref="FormatLimitException"/> for
/// anything else before writing any record of the batch. Triggers become external-input records (DAVIS address 0x400,
/// DVS128 address 0x8000; jAER files do not carry the edge kind) and are merged with the
/// events of a batch in timestamp order. The AEChip class is chosen from the layout and
/// sensor size (DVS128, DAVIS240C, Davis346B, Davis640, Davis128, Davis208PixelParade); a
/// DAVIS of unknown size writes <c>eu.seebetter.ini.chips.DavisChip</c> and stores the raw
/// (unmirrored) coordinates; other sizes have no class (<see cref="ChipClassFor"/> is null) and
/// are refused.
/// </remarks>
public sealed class Aedat2Writer : IEventWriter
{
    private const long FirstLimit = 1L << 32;
    private const long StepLimit = 1L << 31;

    private readonly OutputBuffer _out;
    private readonly bool _mirror;
    private readonly int _xBase;
    private readonly int _yBase;
    private bool _started;
    private long _lastT;

    /// <summary>Creates (or overwrites) a file.</summary>
    public Aedat2Writer(string path, JaerChip chip, SensorGeometry geometry, string? aeChipClass = null)
        : this(ReaderFiles.Create(path), chip, geometry, aeChipClass, leaveOpen: false)
    {
    }

    /// <summary>Writes to a stream.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="chip">Address layout.</param>
    /// <param name="geometry">Sensor size (DVS128 is always 128 x 128).</param>
    /// <param name="aeChipClass">AEChip class name for the header; null picks one from the layout and size.</param>
    /// <param name="leaveOpen">True to keep <paramref name="stream"/> open on dispose.</param>
    public Aedat2Writer(Stream stream, JaerChip chip, SensorGeometry geometry, string? aeChipClass = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (chip is not (JaerChip.Dvs128 or JaerChip.Davis))
        {
            throw new ArgumentOutOfRangeException(nameof(chip), chip, "The address layout must be Dvs128 or Davis.");
        }

        Chip = chip;
        if (chip == JaerChip.Dvs128)
        {
            geometry = SensorGeometry.Dvs128;
        }

        string className = aeChipClass ?? ChipClassFor(chip, geometry)
            ?? throw new FormatLimitException(EventFormat.Aedat2, $"AEDAT 2.0 has no jAER chip class for a {geometry.Width} x {geometry.Height} sensor (jAER knows {KnownSizes}).");
        if (aeChipClass is not null && JaerAddress.TryParseChip(aeChipClass, out JaerChip parsed, out SensorGeometry parsedGeometry)
            && parsed == chip && parsedGeometry.IsKnown)
        {
            geometry = parsedGeometry;
        }

        Geometry = geometry;
        AeChipClass = className;
        _mirror = geometry.IsKnown;
        _xBase = geometry.Width - 1;
        _yBase = geometry.Height - 1;
        _out = new OutputBuffer(stream, leaveOpen);
        WriteHeader();
    }

    /// <summary>The sensor sizes with a jAER chip class, for messages.</summary>
    public static string KnownSizes => "128 x 128 DVS128, 240 x 180 DAVIS240C, 346 x 260 Davis346B, 640 x 480 Davis640, 208 x 192 Davis208PixelParade";

    /// <summary>The address layout written.</summary>
    public JaerChip Chip { get; }

    /// <summary>The sensor size used to encode coordinates.</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>The AEChip class written in the header.</summary>
    public string AeChipClass { get; }

    /// <summary>Events written so far.</summary>
    public long EventsWritten { get; private set; }

    /// <summary>Triggers written so far.</summary>
    public long TriggersWritten { get; private set; }

    /// <summary>Writes the events and triggers of a batch, merged in timestamp order.</summary>
    public void Write(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ReadOnlySpan<TriggerEvent> triggers = batch.Triggers.Items;
        int n = batch.Count;
        Validate(batch.Timestamps, batch.Xs, batch.Ys, triggers);
        if (triggers.IsEmpty)
        {
            Encode(batch.T.AsSpan(0, n), batch.X.AsSpan(0, n), batch.Y.AsSpan(0, n), batch.P.AsSpan(0, n));
            return;
        }

        int start = 0;
        int j = 0;
        long[] ts = batch.T;
        for (int i = 0; i < n; i++)
        {
            if (j < triggers.Length && triggers[j].T <= ts[i])
            {
                Encode(ts.AsSpan(start, i - start), batch.X.AsSpan(start, i - start), batch.Y.AsSpan(start, i - start), batch.P.AsSpan(start, i - start));
                start = i;
                while (j < triggers.Length && triggers[j].T <= ts[i])
                {
                    EncodeTrigger(triggers[j++]);
                }
            }
        }

        Encode(ts.AsSpan(start, n - start), batch.X.AsSpan(start, n - start), batch.Y.AsSpan(start, n - start), batch.P.AsSpan(start, n - start));
        while (j < triggers.Length)
        {
            EncodeTrigger(triggers[j++]);
        }
    }

    /// <summary>Writes one event.</summary>
    public void Write(in DvsEvent e)
    {
        Span<long> t = [e.T];
        Span<ushort> x = [e.X];
        Span<ushort> y = [e.Y];
        Span<byte> p = [e.On ? (byte)1 : (byte)0];
        WriteEvents(t, x, y, p);
    }

    /// <summary>Writes events given as struct-of-arrays spans of equal length.</summary>
    public void WriteEvents(ReadOnlySpan<long> t, ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, ReadOnlySpan<byte> p)
    {
        int n = t.Length;
        if (x.Length != n || y.Length != n || p.Length != n)
        {
            throw new ArgumentException("Spans must have equal lengths.", nameof(t));
        }

        Validate(t, x, y, []);
        Encode(t, x, y, p);
    }

    /// <summary>Writes one trigger as an external-input record.</summary>
    public void WriteTrigger(in TriggerEvent trigger)
    {
        Validate([], [], [], [trigger]);
        EncodeTrigger(trigger);
    }

    /// <summary>Writes buffered records to the stream and flushes it.</summary>
    public void Flush() => _out.Flush();

    /// <summary>Flushes and closes the destination (unless leaveOpen).</summary>
    public void Dispose() => _out.Dispose();

    /// <summary>
    /// The jAER AEChip class for a sensor: DVS128 for the DVS128 layout; for DAVIS the class of
    /// its size (DAVIS240C, Davis346B, Davis640, Davis128, Davis208PixelParade), the generic
    /// DavisChip for <see cref="SensorGeometry.Unknown"/>, null for other sizes.
    /// </summary>
    public static string? ChipClassFor(JaerChip chip, SensorGeometry geometry)
    {
        if (chip == JaerChip.Dvs128)
        {
            return "ch.unizh.ini.jaer.chip.retina.DVS128";
        }

        return (geometry.Width, geometry.Height) switch
        {
            (0, 0) => "eu.seebetter.ini.chips.DavisChip",
            (240, 180) => "eu.seebetter.ini.chips.davis.DAVIS240C",
            (346, 260) => "eu.seebetter.ini.chips.davis.Davis346B",
            (640, 480) => "eu.seebetter.ini.chips.davis.Davis640",
            (128, 128) => "eu.seebetter.ini.chips.davis.Davis128",
            (208, 192) => "eu.seebetter.ini.chips.davis.Davis208PixelParade",
            _ => null,
        };
    }

    /// <summary>
    /// Checks coordinates and the time sequence (events and triggers merged as written) before
    /// anything of a batch is encoded.
    /// </summary>
    private void Validate(ReadOnlySpan<long> t, ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, ReadOnlySpan<TriggerEvent> triggers)
    {
        uint maxX, maxY;
        if (Chip == JaerChip.Dvs128)
        {
            maxX = maxY = 127;
        }
        else if (_mirror)
        {
            maxX = (uint)Geometry.Width - 1;
            maxY = (uint)Geometry.Height - 1;
        }
        else
        {
            maxX = JaerAddress.DavisXMask;
            maxY = JaerAddress.DavisYMask;
        }

        for (int k = 0; k < x.Length; k++)
        {
            if (x[k] > maxX || y[k] > maxY)
            {
                throw new FormatLimitException(EventFormat.Aedat2, $"AEDAT 2.0: event {k} at ({x[k]}, {y[k]}) lies outside the {(Geometry.IsKnown ? Geometry.Width + " x " + Geometry.Height + " sensor" : "address fields")} (x <= {maxX}, y <= {maxY}).");
            }
        }

        bool started = _started;
        long prev = _lastT;
        int i = 0, j = 0;
        while (i < t.Length || j < triggers.Length)
        {
            // the order Write(EventBatch) writes: triggers up to an event's time go before it
            bool trigger = j < triggers.Length && (i >= t.Length || triggers[j].T <= t[i]);
            long ti = trigger ? triggers[j++].T : t[i++];
            if (ti < 0 || (!started && ti >= FirstLimit) || (started && (ti - prev >= StepLimit || prev - ti > StepLimit)))
            {
                string what = trigger ? "trigger" : "event";
                string rule = ti < 0 ? "timestamps must be non-negative"
                    : !started ? "the first timestamp must be below 2^32 us (jAER's 32-bit time)"
                    : $"it is {Math.Abs(ti - prev)} us from the previous record at {prev} us; jAER's 32-bit time unwraps steps below 2^31 us only";
                throw new FormatLimitException(EventFormat.Aedat2, $"AEDAT 2.0: {what} at {ti} us cannot be stored: {rule}.");
            }

            started = true;
            prev = ti;
        }
    }

    private void Encode(ReadOnlySpan<long> t, ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, ReadOnlySpan<byte> p)
    {
        int n = t.Length;
        int i = 0;
        while (i < n)
        {
            Span<byte> free = _out.GetSpan(8);
            int count = Math.Min(free.Length >> 3, n - i);
            EncodeEvents(free, t.Slice(i, count), x.Slice(i, count), y.Slice(i, count), p.Slice(i, count));
            i += count;
        }
    }

    private void EncodeTrigger(in TriggerEvent trigger)
    {
        uint address = Chip == JaerChip.Davis ? JaerAddress.DavisExternalBit : JaerAddress.Dvs128ExternalBit;
        Span<byte> record = _out.GetSpan(8);
        BinaryPrimitives.WriteUInt32BigEndian(record, address);
        BinaryPrimitives.WriteInt32BigEndian(record[4..], unchecked((int)trigger.T));
        _out.Advance(8);
        TriggersWritten++;
        _started = true;
        _lastT = trigger.T;
    }

    /// <summary>Encodes the events into <paramref name="free"/>, which has room for all of them.</summary>
    private void EncodeEvents(Span<byte> free, ReadOnlySpan<long> t, ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, ReadOnlySpan<byte> p)
    {
        int n = t.Length;
        ref byte dst = ref MemoryMarshal.GetReference(free[..(n << 3)]);
        if (Chip == JaerChip.Dvs128)
        {
            for (int i = 0; i < n; i++)
            {
                uint address = JaerAddress.EncodeDvs128(x[i], y[i], p[i] != 0);
                WriteRecord(ref Unsafe.Add(ref dst, i << 3), address, t[i]);
            }
        }
        else if (_mirror)
        {
            for (int i = 0; i < n; i++)
            {
                uint xi = x[i];
                uint yi = y[i];
                uint address = ((uint)(_yBase - (int)yi) << JaerAddress.DavisYShift)
                    | ((uint)(_xBase - (int)xi) << JaerAddress.DavisXShift)
                    | ((uint)(p[i] & 1) << 11);
                WriteRecord(ref Unsafe.Add(ref dst, i << 3), address, t[i]);
            }
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                uint address = JaerAddress.EncodeDavis(x[i], y[i], p[i] != 0, SensorGeometry.Unknown);
                WriteRecord(ref Unsafe.Add(ref dst, i << 3), address, t[i]);
            }
        }

        _out.Advance(n << 3);
        EventsWritten += n;
        if (n > 0)
        {
            _started = true;
            _lastT = t[n - 1];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteRecord(ref byte dst, uint address, long t)
    {
        Unsafe.WriteUnaligned(ref dst, BinaryPrimitives.ReverseEndianness(address));
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, 4), BinaryPrimitives.ReverseEndianness(unchecked((uint)t)));
    }

    private void WriteHeader()
    {
        var sb = new StringBuilder();
        sb.Append("#!AER-DAT2.0\r\n");
        sb.Append("# This is a raw AE data file created by EventSnn\r\n");
        sb.Append("# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event\r\n");
        sb.Append("# Timestamps tick is 1 us\r\n");
        sb.Append("# AEChip: ").Append(AeChipClass).Append("\r\n");
        sb.Append("#End Of ASCII Header\r\n");
        _out.Bytes(Encoding.ASCII.GetBytes(sb.ToString()));
    }
}
