namespace EventSnn.Events;

/// <summary>
/// Deterministic generator of sensor-like DVS event streams for benchmarks and tests:
/// a few bars sweeping across the array at different speeds and orientations (ON on the
/// leading edge, OFF on the trailing edge, with one-pixel jitter) over uniform background
/// noise, at a fixed mean event rate. Timestamps never decrease. Fills batches in place
/// with no allocation per event.
/// </summary>
public sealed class SyntheticEventGenerator
{
    private readonly SensorGeometry _geometry;
    private readonly double _usPerEvent;
    private readonly double _noiseFraction;
    private ulong _state;
    private long _index;

    /// <summary>Creates a generator.</summary>
    /// <param name="geometry">Sensor size (events stay inside it).</param>
    /// <param name="eventsPerSecond">Mean event rate; sets the timestamp spacing.</param>
    /// <param name="seed">Seed of the deterministic random source.</param>
    /// <param name="noiseFraction">Fraction of events that are background noise.</param>
    /// <param name="startUs">Timestamp of the first event.</param>
    public SyntheticEventGenerator(SensorGeometry geometry, double eventsPerSecond = 20e6, ulong seed = 1, double noiseFraction = 0.1, long startUs = 0)
    {
        if (!geometry.IsKnown)
        {
            throw new ArgumentException("geometry must be known", nameof(geometry));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(eventsPerSecond, 0);
        _geometry = geometry;
        _usPerEvent = 1e6 / eventsPerSecond;
        _noiseFraction = noiseFraction;
        _state = seed * 0x9E3779B97F4A7C15UL + 0x2545F4914F6CDD1DUL;
        StartUs = startUs;
    }

    /// <summary>Timestamp of the first event.</summary>
    public long StartUs { get; }

    /// <summary>Number of events generated so far.</summary>
    public long Generated => _index;

    /// <summary>Clears <paramref name="batch"/> and fills it with up to <paramref name="count"/> events (all of its capacity by default).</summary>
    public void Fill(EventBatch batch, int count = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        int n = Math.Min(count, batch.Capacity);
        long[] ts = batch.T;
        ushort[] xs = batch.X;
        ushort[] ys = batch.Y;
        byte[] ps = batch.P;
        int w = _geometry.Width, h = _geometry.Height;
        uint noiseThreshold = (uint)(_noiseFraction * uint.MaxValue);
        for (int i = 0; i < n; i++)
        {
            long k = _index++;
            long t = StartUs + (long)(k * _usPerEvent);
            ulong r = Next();
            uint r0 = (uint)r;
            uint r1 = (uint)(r >> 32);
            int x, y;
            bool on;
            if (r0 < noiseThreshold)
            {
                x = (int)(r1 % (uint)w);
                y = (int)((r1 >> 16) % (uint)h);
                on = (r1 & 1) != 0;
            }
            else
            {
                // three bars: vertical fast, vertical slow (opposite way), horizontal
                int bar = (int)(r0 % 3);
                double sec = t * 1e-6;
                int jitter = (int)(r1 & 3) - 1;
                on = (r1 & 4) != 0;
                int edge = on ? 0 : 3;
                switch (bar)
                {
                    case 0:
                        x = Wrap((int)(sec * 400.0) + edge + jitter, w);
                        y = (int)((r1 >> 8) % (uint)h);
                        break;
                    case 1:
                        x = Wrap(w - 1 - (int)(sec * 150.0) - edge + jitter, w);
                        y = (int)((r1 >> 8) % (uint)h);
                        break;
                    default:
                        x = (int)((r1 >> 8) % (uint)w);
                        y = Wrap((int)(sec * 250.0) + edge + jitter, h);
                        break;
                }
            }

            ts[i] = t;
            xs[i] = (ushort)x;
            ys[i] = (ushort)y;
            ps[i] = on ? (byte)1 : (byte)0;
        }

        batch.SetCount(n);
    }

    private static int Wrap(int v, int n)
    {
        int m = v % n;
        return m < 0 ? m + n : m;
    }

    private ulong Next()
    {
        // xorshift64*
        ulong x = _state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        _state = x;
        return x * 0x2545F4914F6CDD1DUL;
    }
}
