using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Writes Prophesee RAW EVT 3.0: a '%' header ('% evt 3.0', '% format EVT3;height=H;width=W',
/// '% geometry WxH', '% end'), then 16-bit words encoded relative to a state, like a Gen4 sensor:
/// TIME_HIGH (t[23:12], with gaps and 24-bit wraps bridged for <see cref="Evt3Reader"/>) and
/// TIME_LOW (t[11:0]) when the time changes, ADDR_Y when the row changes, then either ADDR_X
/// for a single event or, for a run of at least <see cref="MinVectorRun"/> consecutive events
/// with the same time, row and polarity and increasing x within 32 columns, VECT_BASE_X followed
/// by the full VECT_12 + VECT_12 + VECT_8 pattern (32 pixels, as OpenEB expects; sensors narrower
/// than 32 columns get ADDR_X words only, since a vector would reach past their edge). Triggers become
/// EXT_TRIGGER words merged in time order. Timestamps must be non-negative and non-decreasing;
/// x and y must fit 11 bits, trigger ids 4 bits.
/// </summary>
public sealed class Evt3Writer : IEventWriter
{
    /// <summary>Shortest run written as a vector (4 words) rather than single ADDR_X words.</summary>
    public const int MinVectorRun = 4;

    private const long Range = 1L << 12;
    private readonly OutputBuffer _out;
    private readonly int _vectorLimit;
    private readonly bool _vectors;
    private TimeHighPlan _plan;
    private bool _timeSet;
    private long _time;
    private int _low;
    private int _y = -1;
    private long _lastT;

    /// <summary>Starts an EVT 3.0 stream and writes its header.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="geometry">Sensor size written to the header (may be unknown).</param>
    /// <param name="leaveOpen">True to leave <paramref name="stream"/> open on dispose.</param>
    public Evt3Writer(Stream stream, SensorGeometry geometry, bool leaveOpen = false)
    {
        _out = new OutputBuffer(stream, leaveOpen);
        Geometry = geometry;
        // vectors cover base..base+31 and must stay inside the sensor (OpenEB checks base + 32 <= width):
        // a sensor narrower than 32 columns gets single ADDR_X words only
        _vectorLimit = geometry.IsKnown ? Math.Min(geometry.Width, 2048) : 2048;
        _vectors = _vectorLimit >= 32;
        _out.Bytes(PropheseeHeader.BuildRaw("3.0", "EVT3", geometry));
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
    public static Evt3Writer Create(string path, SensorGeometry geometry) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 0), geometry);

    /// <summary>Appends the events and triggers of <paramref name="batch"/>.</summary>
    /// <exception cref="ArgumentException">A timestamp goes backwards or is negative, or an address or trigger id does not fit.</exception>
    public void Write(EventBatch batch)
    {
        ObjectDisposedException.ThrowIf(_out.IsDisposed, this);
        WriterSupport.Validate(batch, _lastT, 2047, 2047, 15, EventFormat.Evt3, "EVT 3.0");
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

            SetTime(t);
            int y = ys[i];
            if (y != _y)
            {
                _out.U16((uint)y); // ADDR_Y (type 0x0), system type 0
                _y = y;
            }

            int x = xs[i];
            uint pol = ps[i] != 0 ? 1u : 0u;
            int baseX = x + 32 <= _vectorLimit ? x : Math.Max(0, _vectorLimit - 32);
            int j = i + 1;
            uint mask = 1u << (x - baseX);
            if (_vectors && x - baseX < 32)
            {
                int lastX = x;
                while (j < ts.Length && ts[j] == t && ys[j] == y && (ps[j] != 0 ? 1u : 0u) == pol && xs[j] > lastX && xs[j] < baseX + 32)
                {
                    lastX = xs[j];
                    mask |= 1u << (lastX - baseX);
                    j++;
                }
            }

            if (j - i >= MinVectorRun)
            {
                _out.U16((0x3u << 12) | (pol << 11) | (uint)baseX);
                _out.U16((0x4u << 12) | (mask & 0xFFF));
                _out.U16((0x4u << 12) | ((mask >> 12) & 0xFFF));
                _out.U16((0x5u << 12) | ((mask >> 24) & 0xFF));
                i = j;
            }
            else
            {
                _out.U16((0x2u << 12) | (pol << 11) | (uint)x);
                i++;
            }

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

    private void SetTime(long t)
    {
        if (_timeSet && t == _time)
        {
            return;
        }

        long high = t >> 12;
        int low = (int)(t & 0xFFF);
        bool forceLow = !_timeSet;
        if (!_plan.Started || high != _plan.Current)
        {
            while (_plan.Next(high, Range, out long value))
            {
                _out.U16((0x8u << 12) | (uint)(value & (Range - 1)));
            }

            forceLow = true; // readers reset TIME_LOW when TIME_HIGH changes
        }

        if (forceLow || low != _low)
        {
            _out.U16((0x6u << 12) | (uint)low);
            _low = low;
        }

        _time = t;
        _timeSet = true;
    }

    private void WriteTrigger(in TriggerEvent trigger)
    {
        SetTime(trigger.T);
        _out.U16((0xAu << 12) | ((uint)trigger.Data << 8) | WriterSupport.TriggerValue(trigger.Kind));
        _lastT = trigger.T;
        TriggersWritten++;
    }
}
