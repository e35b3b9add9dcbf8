using System.Numerics;
using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Writes Prophesee RAW EVT 2.1: a '%' header ('% evt 2.1', '% format EVT21;height=H;width=W',
/// plus ';endianness=legacy' when asked), then 64-bit words. Consecutive events with the same
/// timestamp, row and polarity, strictly increasing x and the same 32-pixel column group share
/// one CD word (base x aligned to 32 plus a validity mask), as the sensor vectorizes; TIME_HIGH
/// words carry time bits 33..6 (gaps and wraps bridged for <see cref="Evt21Reader"/>), triggers
/// become EXT_TRIGGER words merged in time order. Timestamps must be non-negative and
/// non-decreasing; x and y must fit 11 bits.
/// </summary>
public sealed class Evt21Writer : IEventWriter
{
    private const long Range = 1L << 28;
    private readonly OutputBuffer _out;
    private readonly bool _legacy;
    private TimeHighPlan _plan;
    private long _lastT;

    /// <summary>Starts an EVT 2.1 stream and writes its header.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="geometry">Sensor size written to the header (may be unknown).</param>
    /// <param name="leaveOpen">True to leave <paramref name="stream"/> open on dispose.</param>
    /// <param name="legacyWordOrder">True to store each word type-half first and declare 'endianness=legacy'.</param>
    public Evt21Writer(Stream stream, SensorGeometry geometry, bool leaveOpen = false, bool legacyWordOrder = false)
    {
        _out = new OutputBuffer(stream, leaveOpen);
        Geometry = geometry;
        _legacy = legacyWordOrder;
        _out.Bytes(PropheseeHeader.BuildRaw("2.1", "EVT21", geometry, legacyWordOrder ? "endianness=legacy" : null));
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
    public static Evt21Writer Create(string path, SensorGeometry geometry, bool legacyWordOrder = false) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 0), geometry, false, legacyWordOrder);

    /// <summary>Appends the events and triggers of <paramref name="batch"/>.</summary>
    /// <exception cref="ArgumentException">A timestamp goes backwards or is negative, or an address or trigger id does not fit.</exception>
    public void Write(EventBatch batch)
    {
        ObjectDisposedException.ThrowIf(_out.IsDisposed, this);
        WriterSupport.Validate(batch, _lastT, 2047, 2047, 31, EventFormat.Evt21, "EVT 2.1");
        ReadOnlySpan<long> ts = batch.Timestamps;
        ReadOnlySpan<ushort> xs = batch.Xs;
        ReadOnlySpan<ushort> ys = batch.Ys;
        ReadOnlySpan<byte> ps = batch.Polarities;
        ReadOnlySpan<TriggerEvent> triggers = batch.Triggers.Items;
        int ti = 0;
        int i = 0;
        while (i < ts.Length)
        {
            long t = ts[i];
            while (ti < triggers.Length && triggers[ti].T <= t)
            {
                WriteTrigger(triggers[ti++]);
            }

            TimeHigh(t >> 6);
            int y = ys[i];
            bool on = ps[i] != 0;
            int group = xs[i] & ~31;
            uint mask = 1u << (xs[i] - group);
            int lastX = xs[i];
            int j = i + 1;
            while (j < ts.Length && ts[j] == t && ys[j] == y && (ps[j] != 0) == on && xs[j] > lastX && (xs[j] & ~31) == group)
            {
                lastX = xs[j];
                mask |= 1u << (lastX - group);
                j++;
            }

            ulong word = ((ulong)(on ? 1u : 0u) << 60) | ((ulong)(t & 63) << 54) | ((ulong)group << 43) | ((ulong)y << 32) | mask;
            Put(word);
            _lastT = t;
            i = j;
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

    private void Put(ulong word) => _out.U64(_legacy ? BitOperations.RotateLeft(word, 32) : word);

    private void TimeHigh(long high)
    {
        if (_plan.Started && high == _plan.Current)
        {
            return;
        }

        while (_plan.Next(high, Range, out long value))
        {
            Put((0x8UL << 60) | ((ulong)(value & (Range - 1)) << 32));
        }
    }

    private void WriteTrigger(in TriggerEvent trigger)
    {
        long t = trigger.T;
        TimeHigh(t >> 6);
        ulong value = WriterSupport.TriggerValue(trigger.Kind);
        Put((0xAUL << 60) | ((ulong)(t & 63) << 54) | ((ulong)trigger.Data << 40) | (value << 32));
        _lastT = t;
        TriggersWritten++;
    }
}
