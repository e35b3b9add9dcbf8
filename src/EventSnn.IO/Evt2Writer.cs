using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Writes Prophesee RAW EVT 2.0: a '%' header ('% evt 2.0', '% format EVT2;height=H;width=W',
/// '% geometry WxH', '% end'), then one CD word per event, a TIME_HIGH word whenever time bits
/// 33..6 change (long gaps and 34-bit wraps are bridged so <see cref="Evt2Reader"/> restores the
/// full timestamp) and EXT_TRIGGER words for the batch's triggers, merged in time order.
/// Timestamps must be non-negative and non-decreasing; x and y must fit 11 bits.
/// </summary>
public sealed class Evt2Writer : IEventWriter
{
    private const long Range = 1L << 28;
    private readonly OutputBuffer _out;
    private TimeHighPlan _plan;
    private long _lastT;

    /// <summary>Starts an EVT 2.0 stream and writes its header.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="geometry">Sensor size written to the header (may be unknown).</param>
    /// <param name="leaveOpen">True to leave <paramref name="stream"/> open on dispose.</param>
    public Evt2Writer(Stream stream, SensorGeometry geometry, bool leaveOpen = false)
    {
        _out = new OutputBuffer(stream, leaveOpen);
        Geometry = geometry;
        _out.Bytes(PropheseeHeader.BuildRaw("2.0", "EVT2", geometry));
    }

    /// <summary>Sensor size declared in the header.</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>Events written so far.</summary>
    public long EventsWritten { get; private set; }

    /// <summary>Triggers written so far.</summary>
    public long TriggersWritten { get; private set; }

    /// <summary>Bytes written so far (header included).</summary>
    public long BytesWritten => _out.BytesWritten;

    /// <summary>Creates (or overwrites) a file.</summary>
    public static Evt2Writer Create(string path, SensorGeometry geometry) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 0), geometry);

    /// <summary>Appends the events and triggers of <paramref name="batch"/>.</summary>
    /// <exception cref="ArgumentException">A timestamp goes backwards or is negative, or an address or trigger id does not fit.</exception>
    public void Write(EventBatch batch)
    {
        ObjectDisposedException.ThrowIf(_out.IsDisposed, this);
        WriterSupport.Validate(batch, _lastT, 2047, 2047, 31, EventFormat.Evt2, "EVT 2.0");
        ReadOnlySpan<long> ts = batch.Timestamps;
        ReadOnlySpan<ushort> xs = batch.Xs;
        ReadOnlySpan<ushort> ys = batch.Ys;
        ReadOnlySpan<byte> ps = batch.Polarities;
        ReadOnlySpan<TriggerEvent> triggers = batch.Triggers.Items;
        int ti = 0;
        for (int i = 0; i < ts.Length; i++)
        {
            long t = ts[i];
            while (ti < triggers.Length && triggers[ti].T <= t)
            {
                WriteTrigger(triggers[ti++]);
            }

            TimeHigh(t >> 6);
            uint type = ps[i] != 0 ? 1u : 0u;
            _out.U32((type << 28) | ((uint)(t & 63) << 22) | ((uint)xs[i] << 11) | ys[i]);
            _lastT = t;
        }

        while (ti < triggers.Length)
        {
            WriteTrigger(triggers[ti++]);
        }

        EventsWritten += ts.Length;
    }

    /// <summary>Pushes buffered bytes to the stream.</summary>
    public void Flush() => _out.Flush();

    /// <summary>Flushes and releases the buffer (and the stream unless leaveOpen).</summary>
    public void Dispose() => _out.Dispose();

    private void TimeHigh(long high)
    {
        if (_plan.Started && high == _plan.Current)
        {
            return;
        }

        while (_plan.Next(high, Range, out long value))
        {
            _out.U32((0x8u << 28) | (uint)(value & (Range - 1)));
        }
    }

    private void WriteTrigger(in TriggerEvent trigger)
    {
        long t = trigger.T;
        TimeHigh(t >> 6);
        uint value = WriterSupport.TriggerValue(trigger.Kind);
        _out.U32((0xAu << 28) | ((uint)(t & 63) << 22) | ((uint)trigger.Data << 8) | value);
        _lastT = t;
        TriggersWritten++;
    }
}
