using System.Buffers;
using EventSnn.Events;
using MathNet.Numerics.Distributions;

namespace EventSnn.Datasets.Dvs;

/// <summary>Parameters of the <see cref="DvsEmulator"/> (defaults close to v2e's "clean" preset).</summary>
public sealed record DvsEmulatorOptions
{
    /// <summary>Mean ON contrast threshold in log-intensity units.</summary>
    public double OnThreshold { get; init; } = 0.2;

    /// <summary>Mean OFF contrast threshold in log-intensity units (positive number).</summary>
    public double OffThreshold { get; init; } = 0.2;

    /// <summary>Standard deviation of the per-pixel threshold mismatch (Gaussian), log units.</summary>
    public double ThresholdSigma { get; init; } = 0.03;

    /// <summary>Smallest threshold a pixel can get after mismatch.</summary>
    public double MinThreshold { get; init; } = 0.02;

    /// <summary>Refractory period: a pixel emits no event within this many microseconds of its last one.</summary>
    public long RefractoryUs { get; init; } = 100;

    /// <summary>Background activity (leak) rate per pixel in Hz: spurious ON events.</summary>
    public double LeakRateHz { get; init; } = 0.1;

    /// <summary>Shot noise rate per pixel in Hz: spurious events of random polarity.</summary>
    public double ShotNoiseRateHz { get; init; } = 0.05;

    /// <summary>Offset added to intensities in [0, 1] before the logarithm (sets the dark floor).</summary>
    public double LogEpsilon { get; init; } = 1e-2;

    /// <summary>Upper bound on events one pixel emits per frame interval (guards against degenerate input).</summary>
    public int MaxEventsPerPixelPerFrame { get; init; } = 64;
}

/// <summary>
/// Emulates a dynamic vision sensor from intensity frames, in the manner of ESIM and v2e:
/// each pixel memorises a log-intensity reference; when the log intensity, interpolated
/// linearly between consecutive frames, has moved by k x its threshold, the pixel emits k
/// events whose timestamps fall where the interpolated signal crosses each level. Thresholds
/// differ per pixel (Gaussian mismatch), a refractory period drops events too close to the
/// pixel's previous one, and background activity (ON leak events) and shot noise (random
/// polarity) are added as Poisson processes. Deterministic for a seed.
/// <para>Feed frames with <see cref="Frame(ReadOnlySpan{float}, long)"/> (the first frame only
/// sets the references) and drain events, ordered by time, with <see cref="Read"/>.</para>
/// </summary>
public sealed class DvsEmulator : IDisposable
{
    private readonly DvsEmulatorOptions _options;
    private readonly int _pixels;
    private readonly float[] _reference;
    private readonly float[] _lastLog;
    private readonly float[] _current;
    private readonly float[] _linear;
    private readonly float[] _onThreshold;
    private readonly float[] _offThreshold;
    private readonly long[] _lastEvent;
    private readonly float[] _byteLog = new float[256];
    private readonly Random _random;
    private long[] _t = [];
    private int[] _code = [];
    private int _start;
    private int _count;
    private long _lastFrameUs;
    private bool _initialised;

    /// <summary>Creates an emulator for a sensor of the given size.</summary>
    public DvsEmulator(SensorGeometry geometry, DvsEmulatorOptions? options = null, int seed = 0)
    {
        if (!geometry.IsKnown)
        {
            throw new ArgumentException("geometry must be known", nameof(geometry));
        }

        Geometry = geometry;
        _options = options ?? new DvsEmulatorOptions();
        _pixels = geometry.PixelCount;
        _reference = new float[_pixels];
        _lastLog = new float[_pixels];
        _current = new float[_pixels];
        _linear = new float[_pixels];
        Array.Fill(_linear, float.NaN);
        _onThreshold = new float[_pixels];
        _offThreshold = new float[_pixels];
        _lastEvent = new long[_pixels];
        _random = new Random(seed);
        double sigma = _options.ThresholdSigma;
        for (int i = 0; i < _pixels; i++)
        {
            double on = sigma > 0 ? Normal.Sample(_random, _options.OnThreshold, sigma) : _options.OnThreshold;
            double off = sigma > 0 ? Normal.Sample(_random, _options.OffThreshold, sigma) : _options.OffThreshold;
            _onThreshold[i] = (float)Math.Max(_options.MinThreshold, on);
            _offThreshold[i] = (float)Math.Max(_options.MinThreshold, off);
        }

        for (int v = 0; v < 256; v++)
        {
            _byteLog[v] = (float)Math.Log((v / 255.0) + _options.LogEpsilon);
        }

        Array.Fill(_lastEvent, long.MinValue / 2);
    }

    /// <summary>Sensor size.</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>The options in force.</summary>
    public DvsEmulatorOptions Options => _options;

    /// <summary>Per-pixel ON thresholds (row-major, y * width + x).</summary>
    public ReadOnlySpan<float> OnThresholds => _onThreshold;

    /// <summary>Per-pixel OFF thresholds (row-major).</summary>
    public ReadOnlySpan<float> OffThresholds => _offThreshold;

    /// <summary>Events generated and not yet read.</summary>
    public int Pending => _count - _start;

    /// <summary>Timestamp of the last frame fed (us).</summary>
    public long LastFrameUs => _lastFrameUs;

    /// <summary>Frames fed since the last reset (the first only initialises the references).</summary>
    public long Frames { get; private set; }

    /// <summary>Forgets references and pending events; the next frame initialises the pixels again.</summary>
    public void Reset()
    {
        _initialised = false;
        _start = 0;
        _count = 0;
        Frames = 0;
        Array.Fill(_lastEvent, long.MinValue / 2);
    }

    /// <summary>
    /// Feeds a frame of intensities in [0, 1] (row-major, width x height) taken at
    /// <paramref name="timestampUs"/>. Returns the number of events generated for the interval
    /// since the previous frame.
    /// </summary>
    public int Frame(ReadOnlySpan<float> intensity, long timestampUs)
    {
        CheckLength(intensity.Length);
        float eps = (float)_options.LogEpsilon;
        for (int i = 0; i < _pixels; i++)
        {
            // the logarithm is the costly part: reuse it where the pixel did not change
            float v = Math.Clamp(intensity[i], 0f, 1f);
            if (v != _linear[i])
            {
                _linear[i] = v;
                _current[i] = MathF.Log(v + eps);
            }
        }

        return Advance(timestampUs);
    }

    /// <summary>Feeds an 8-bit frame (0..255 maps to [0, 1]); see <see cref="Frame(ReadOnlySpan{float}, long)"/>.</summary>
    public int Frame(ReadOnlySpan<byte> intensity, long timestampUs)
    {
        CheckLength(intensity.Length);
        for (int i = 0; i < _pixels; i++)
        {
            _current[i] = _byteLog[intensity[i]];
        }

        Array.Fill(_linear, float.NaN);

        return Advance(timestampUs);
    }

    /// <summary>
    /// Clears <paramref name="batch"/> and fills it with pending events in time order.
    /// Returns false when nothing was pending.
    /// </summary>
    public bool Read(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        return Append(batch) > 0;
    }

    /// <summary>Appends pending events to <paramref name="batch"/> until it is full; returns how many.</summary>
    public int Append(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int n = Math.Min(Pending, batch.Remaining);
        int w = Geometry.Width;
        int at = batch.Count;
        long[] bt = batch.T;
        ushort[] bx = batch.X, by = batch.Y;
        byte[] bp = batch.P;
        for (int k = 0; k < n; k++)
        {
            int code = _code[_start + k];
            int pixel = code >> 1;
            bt[at + k] = _t[_start + k];
            bx[at + k] = (ushort)(pixel % w);
            by[at + k] = (ushort)(pixel / w);
            bp[at + k] = (byte)(code & 1);
        }

        batch.SetCount(at + n);
        _start += n;
        if (_start == _count)
        {
            _start = 0;
            _count = 0;
        }

        return n;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_t.Length > 0)
        {
            ArrayPool<long>.Shared.Return(_t);
            ArrayPool<int>.Shared.Return(_code);
            _t = [];
            _code = [];
        }
    }

    private void CheckLength(int length)
    {
        if (length != _pixels)
        {
            throw new ArgumentException($"frame has {length} pixels, the sensor {Geometry} has {_pixels}");
        }
    }

    private int Advance(long t1)
    {
        Frames++;
        if (!_initialised)
        {
            Array.Copy(_current, _reference, _pixels);
            Array.Copy(_current, _lastLog, _pixels);
            _lastFrameUs = t1;
            _initialised = true;
            return 0;
        }

        long t0 = _lastFrameUs;
        if (t1 < t0)
        {
            throw new ArgumentException($"frame timestamp {t1} us goes back before the previous frame ({t0} us)");
        }

        double dt = t1 - t0;
        int segment = _count;
        int maxPerPixel = _options.MaxEventsPerPixelPerFrame;
        for (int i = 0; i < _pixels; i++)
        {
            float now = _current[i];
            float before = _lastLog[i];
            float reference = _reference[i];
            float delta = now - reference;
            float on = _onThreshold[i], off = _offThreshold[i];
            if (delta >= on || -delta >= off)
            {
                bool up = delta > 0;
                float th = up ? on : off;
                int k = (int)Math.Min(MathF.Floor(MathF.Abs(delta) / th), maxPerPixel);
                float step = up ? th : -th;
                float span = now - before;
                for (int j = 1; j <= k; j++)
                {
                    float level = reference + (j * step);
                    double frac = span == 0 ? 1.0 : Math.Clamp((level - before) / span, 0f, 1f);
                    Push(t0 + (long)Math.Round(frac * dt), (i << 1) | (up ? 1 : 0));
                }

                _reference[i] = reference + (k * step);
            }

            _lastLog[i] = now;
        }

        AddNoise(_options.LeakRateHz, t0, dt, alwaysOn: true);
        AddNoise(_options.ShotNoiseRateHz, t0, dt, alwaysOn: false);
        int added = _count - segment;
        if (added > 1)
        {
            Array.Sort(_t, _code, segment, added);
        }

        // refractory filter in time order, compacting the segment in place
        long refractory = _options.RefractoryUs;
        int write = segment;
        for (int k = segment; k < _count; k++)
        {
            int pixel = _code[k] >> 1;
            long t = _t[k];
            if (t - _lastEvent[pixel] < refractory)
            {
                continue;
            }

            _lastEvent[pixel] = t;
            _t[write] = t;
            _code[write] = _code[k];
            write++;
        }

        _count = write;
        _lastFrameUs = t1;
        return write - segment;
    }

    private void AddNoise(double ratePerPixel, long t0, double dt, bool alwaysOn)
    {
        double lambda = ratePerPixel * _pixels * dt * 1e-6;
        if (lambda <= 0)
        {
            return;
        }

        int n = Poisson.Sample(_random, lambda);
        for (int k = 0; k < n; k++)
        {
            int pixel = _random.Next(_pixels);
            long t = t0 + 1 + (long)(_random.NextDouble() * Math.Max(0, dt - 1));
            bool on = alwaysOn || _random.Next(2) == 1;
            Push(t, (pixel << 1) | (on ? 1 : 0));
        }
    }

    private void Push(long t, int code)
    {
        if (_count == _t.Length)
        {
            Grow();
        }

        _t[_count] = t;
        _code[_count] = code;
        _count++;
    }

    private void Grow()
    {
        int size = Math.Max(4096, _t.Length * 2);
        long[] t = ArrayPool<long>.Shared.Rent(size);
        int[] c = ArrayPool<int>.Shared.Rent(size);
        Array.Copy(_t, t, _count);
        Array.Copy(_code, c, _count);
        if (_t.Length > 0)
        {
            ArrayPool<long>.Shared.Return(_t);
            ArrayPool<int>.Shared.Return(_code);
        }

        _t = t;
        _code = c;
    }
}
