using EventSnn.Events;

namespace EventSnn.Pipeline;

/// <summary>
/// Drops every event of masked ("hot") pixels, like Tonic's <c>DropPixel</c>. The mask is given
/// as coordinates, or learned: with a calibration period the stage passes events through while
/// counting them per pixel for the first <c>calibrationUs</c> of event time, then masks the
/// pixels whose count exceeds <c>frequencyHz x duration x 1e-6</c> (Tonic's
/// <c>identify_hot_pixel</c> rule) and drops their events from then on.
/// </summary>
public sealed class HotPixelMaskStage : IEventStage
{
    private readonly bool[] _mask;
    private readonly int[]? _counts;
    private readonly double _frequencyHz;
    private readonly long _calibrationUs;
    private long _calibrationStart = long.MinValue;
    private bool _calibrating;

    /// <summary>Masks the given pixel coordinates.</summary>
    public HotPixelMaskStage(SensorGeometry geometry, IEnumerable<(int X, int Y)> pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        Geometry = Check(geometry);
        _mask = new bool[geometry.PixelCount];
        foreach ((int x, int y) in pixels)
        {
            if (geometry.Contains(x, y))
            {
                _mask[(y * geometry.Width) + x] = true;
                MaskedPixels++;
            }
        }
    }

    /// <summary>Learns the mask from the first <paramref name="calibrationUs"/> of event time.</summary>
    public HotPixelMaskStage(SensorGeometry geometry, double frequencyHz, long calibrationUs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frequencyHz);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(calibrationUs);
        Geometry = Check(geometry);
        _mask = new bool[geometry.PixelCount];
        _counts = new int[geometry.PixelCount];
        _frequencyHz = frequencyHz;
        _calibrationUs = calibrationUs;
        _calibrating = true;
    }

    /// <summary>Sensor size.</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>Number of masked pixels.</summary>
    public int MaskedPixels { get; private set; }

    /// <summary>True while the stage is still learning its mask.</summary>
    public bool Calibrating => _calibrating;

    /// <summary>Events dropped so far (masked or outside the sensor).</summary>
    public long Dropped { get; private set; }

    /// <summary>True when pixel (x, y) is masked.</summary>
    public bool IsMasked(int x, int y) => Geometry.Contains(x, y) && _mask[(y * Geometry.Width) + x];

    /// <summary>
    /// Tonic's <c>identify_hot_pixel</c>: pixels of <paramref name="events"/> whose event count
    /// exceeds <c>frequencyHz x (t_last - t_first) x 1e-6</c>.
    /// </summary>
    public static List<(int X, int Y)> Identify(EventBatch events, SensorGeometry geometry, double frequencyHz)
    {
        ArgumentNullException.ThrowIfNull(events);
        Check(geometry);
        var result = new List<(int, int)>();
        if (events.Count == 0)
        {
            return result;
        }

        int[] counts = new int[geometry.PixelCount];
        for (int i = 0; i < events.Count; i++)
        {
            if (geometry.Contains(events.X[i], events.Y[i]))
            {
                counts[(events.Y[i] * geometry.Width) + events.X[i]]++;
            }
        }

        double limit = frequencyHz * (events.T[events.Count - 1] - events.T[0]) * 1e-6;
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] > limit)
            {
                result.Add((i % geometry.Width, i / geometry.Width));
            }
        }

        return result;
    }

    /// <inheritdoc />
    public void Reset()
    {
        if (_counts is not null)
        {
            Array.Clear(_counts);
            Array.Clear(_mask);
            MaskedPixels = 0;
            _calibrating = true;
            _calibrationStart = long.MinValue;
        }
    }

    /// <inheritdoc />
    public SensorGeometry OutputGeometry(SensorGeometry input) => input;

    /// <inheritdoc />
    public void Process(EventBatch input, EventBatch output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        int n = input.Count;
        if (output.Capacity < n)
        {
            throw new ArgumentException("output batch too small", nameof(output));
        }

        long[] ti = input.T, to = output.T;
        ushort[] xi = input.X, yi = input.Y, xo = output.X, yo = output.Y;
        byte[] pi = input.P, po = output.P;
        bool[] mask = _mask;
        uint width = (uint)Geometry.Width, height = (uint)Geometry.Height;
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            uint x = xi[i], y = yi[i];
            if (x >= width || y >= height)
            {
                continue;
            }

            int idx = (int)(y * width) + (int)x;
            if (_calibrating)
            {
                Calibrate(ti[i], idx);
            }

            to[kept] = ti[i];
            xo[kept] = (ushort)x;
            yo[kept] = (ushort)y;
            po[kept] = pi[i];
            kept += mask[idx] ? 0 : 1;
        }

        output.SetCount(kept);
        Dropped += n - kept;
    }

    private void Calibrate(long t, int idx)
    {
        if (_calibrationStart == long.MinValue)
        {
            _calibrationStart = t;
        }

        if (t - _calibrationStart < _calibrationUs)
        {
            _counts![idx]++;
            return;
        }

        // calibration over: mask the pixels above the rate
        double limit = _frequencyHz * _calibrationUs * 1e-6;
        for (int i = 0; i < _counts!.Length; i++)
        {
            if (_counts[i] > limit)
            {
                _mask[i] = true;
                MaskedPixels++;
            }
        }

        _calibrating = false;
    }

    private static SensorGeometry Check(SensorGeometry geometry) =>
        geometry.IsKnown ? geometry : throw new ArgumentException("sensor geometry must be known", nameof(geometry));
}

public static partial class EventPipeline
{
    /// <summary>Drops the events of the given pixels (see <see cref="HotPixelMaskStage"/>).</summary>
    public static IObservable<EventBatch> MaskPixels(this IObservable<EventBatch> source, SensorGeometry geometry, IReadOnlyCollection<(int X, int Y)> pixels) =>
        source.Through(() => new HotPixelMaskStage(geometry, pixels));

    /// <summary>Learns hot pixels over a calibration period of event time, then drops their events.</summary>
    public static IObservable<EventBatch> MaskHotPixels(this IObservable<EventBatch> source, SensorGeometry geometry, double frequencyHz, long calibrationUs) =>
        source.Through(() => new HotPixelMaskStage(geometry, frequencyHz, calibrationUs));
}
