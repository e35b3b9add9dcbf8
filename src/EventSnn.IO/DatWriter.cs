using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Writes Prophesee DAT: a '%' header ('% Data file containing CD events', '% Version 2',
/// '% Width W', '% Height H'), the event type byte (12 EventCD, or 14 for a trigger file) and
/// size byte (8), then 8-byte records: uint32 timestamp and uint32 x | y &lt;&lt; 14 | p &lt;&lt; 28 (CD)
/// or value | id &lt;&lt; 26 (trigger). A CD file holds the batches' events, a trigger file their
/// triggers. Timestamps must be non-negative and non-decreasing, start below 2^32 and never jump
/// by 2^31 us or more (so <see cref="DatReader"/> unwraps the 32-bit field exactly); x and y must
/// fit 14 bits.
/// </summary>
public sealed class DatWriter : IEventWriter
{
    private const long HalfRange = 1L << 31;
    private readonly OutputBuffer _out;
    private long _lastT = -1;

    /// <summary>Starts a DAT stream and writes its header and event type/size bytes.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="geometry">Sensor size written to the header (may be unknown).</param>
    /// <param name="leaveOpen">True to leave <paramref name="stream"/> open on dispose.</param>
    /// <param name="triggerFile">True to write a trigger file (event type 14) from the batches' triggers.</param>
    public DatWriter(Stream stream, SensorGeometry geometry, bool leaveOpen = false, bool triggerFile = false)
    {
        _out = new OutputBuffer(stream, leaveOpen);
        Geometry = geometry;
        IsTriggerFile = triggerFile;
        _out.Bytes(PropheseeHeader.BuildDat(geometry, triggerFile));
        _out.Bytes([triggerFile ? (byte)14 : (byte)12, 8]);
    }

    /// <summary>Sensor size declared in the header.</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>True for a trigger file (event type 14).</summary>
    public bool IsTriggerFile { get; }

    /// <summary>Records written so far (events, or triggers in a trigger file).</summary>
    public long RecordsWritten { get; private set; }

    /// <summary>Bytes written so far (header included).</summary>
    public long BytesWritten => _out.BytesWritten;

    /// <summary>Creates (or overwrites) a file.</summary>
    public static DatWriter Create(string path, SensorGeometry geometry, bool triggerFile = false) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 0), geometry, false, triggerFile);

    /// <summary>Appends the events (or, in a trigger file, the triggers) of <paramref name="batch"/>.</summary>
    /// <exception cref="ArgumentException">A timestamp is negative, goes backwards or jumps too far, or an address or trigger id does not fit.</exception>
    public void Write(EventBatch batch)
    {
        ObjectDisposedException.ThrowIf(_out.IsDisposed, this);
        ArgumentNullException.ThrowIfNull(batch);
        if (IsTriggerFile)
        {
            WriteTriggers(batch.Triggers.Items);
            return;
        }

        ReadOnlySpan<long> ts = batch.Timestamps;
        ReadOnlySpan<ushort> xs = batch.Xs;
        ReadOnlySpan<ushort> ys = batch.Ys;
        ReadOnlySpan<byte> ps = batch.Polarities;
        long prev = _lastT;
        for (int i = 0; i < ts.Length; i++)
        {
            CheckTime(ts[i], prev, i);
            prev = ts[i];
            if (xs[i] > 0x3FFF || ys[i] > 0x3FFF)
            {
                throw new FormatLimitException(EventFormat.Dat, $"DAT: event {i} at ({xs[i]}, {ys[i]}) does not fit 14-bit addresses.");
            }
        }

        for (int i = 0; i < ts.Length; i++)
        {
            uint p = ps[i] != 0 ? 1u : 0u;
            _out.U64((uint)ts[i] | ((ulong)(xs[i] | ((uint)ys[i] << 14) | (p << 28)) << 32));
        }

        if (ts.Length > 0)
        {
            _lastT = ts[^1];
        }

        RecordsWritten += ts.Length;
    }

    /// <summary>Pushes buffered bytes to the stream.</summary>
    public void Flush() => _out.Flush();

    /// <summary>Flushes and releases the buffer (and the stream unless leaveOpen).</summary>
    public void Dispose() => _out.Dispose();

    private static void CheckTime(long t, long prev, int index)
    {
        if (t < 0 || t < prev)
        {
            throw new FormatLimitException(EventFormat.Dat, $"DAT: record {index} has timestamp {t} us after {prev} us; timestamps must be non-negative and non-decreasing.");
        }

        if (prev < 0 ? t >= 1L << 32 : t - prev >= HalfRange)
        {
            throw new FormatLimitException(EventFormat.Dat, $"DAT: record {index} at {t} us cannot be stored in the 32-bit field (the first timestamp must be below 2^32 us and no gap may reach 2^31 us).");
        }
    }

    private void WriteTriggers(ReadOnlySpan<TriggerEvent> triggers)
    {
        long prev = _lastT;
        for (int i = 0; i < triggers.Length; i++)
        {
            CheckTime(triggers[i].T, prev, i);
            prev = triggers[i].T;
            if ((uint)triggers[i].Data > 63)
            {
                throw new FormatLimitException(EventFormat.Dat, $"DAT: trigger {i} has channel id {triggers[i].Data}; the format holds 0..63.");
            }
        }

        foreach (TriggerEvent trigger in triggers)
        {
            uint w = WriterSupport.TriggerValue(trigger.Kind) | ((uint)trigger.Data << 26);
            _out.U64((uint)trigger.T | ((ulong)w << 32));
        }

        if (triggers.Length > 0)
        {
            _lastT = triggers[^1].T;
        }

        RecordsWritten += triggers.Length;
    }
}
