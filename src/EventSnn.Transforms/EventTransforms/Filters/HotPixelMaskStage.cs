using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Drops every event of masked ("hot") pixels, like Tonic's <c>DropPixel</c>. The mask is given
/// as coordinates; or found per batch as Tonic finds it per sample (the pixels of the batch whose
/// event count exceeds <c>frequencyHz x (t_last - t_first) x 1e-6</c>, Tonic's
/// <c>identify_hot_pixel</c> rule, lose all their events of the batch); or learned over a stream:
/// with a calibration period the stage passes events through while counting them per pixel for
/// the first <c>calibrationUs</c> of event time, then masks the pixels whose count exceeds
/// <c>frequencyHz x calibrationUs x 1e-6</c> and drops their events from then on.
/// </summary>
public sealed class HotPixelMaskStage : IEventStage
{
    private readonly bool[] _mask;
    private readonly int[]? _counts;
    private readonly double _frequencyHz;
    private readonly long _calibrationUs;
    private readonly bool _perBatch;
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

    /// <summary>Tonic's per-sample rule: in every batch, drops the events of the pixels whose count exceeds <paramref name="frequencyHz"/> x the batch's duration.</summary>
    public HotPixelMaskStage(SensorGeometry geometry, double frequencyHz)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frequencyHz);
        Geometry = Check(geometry);
        _mask = [];
        _counts = new int[geometry.PixelCount];
        _frequencyHz = frequencyHz;
        _perBatch = true;
    }

    /// <summary>Sensor size.</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>Number of masked pixels (per batch: the hot pixels of the last batch).</summary>
    public int MaskedPixels { get; private set; }

    /// <summary>True while the stage is still learning its mask.</summary>
    public bool Calibrating => _calibrating;

    /// <summary>Events dropped so far (masked or outside the sensor).</summary>
    public long Dropped { get; private set; }

    /// <summary>True when pixel (x, y) is masked (always false for the per-batch rule).</summary>
    public bool IsMasked(int x, int y) => !_perBatch && Geometry.Contains(x, y) && _mask[(y * Geometry.Width) + x];

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
        if (_counts is not null && !_perBatch)
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
        if (_perBatch)
        {
            ProcessPerBatch(input, output);
            return;
        }

        var map = new MaskMap { Stage = this, Width = (uint)Geometry.Width, Height = (uint)Geometry.Height };
        int kept = EventLoop.Run(input, output, ref map);
        Dropped += input.Count - kept;
    }

    /// <summary>Tonic's identify_hot_pixel + drop_pixel over one batch: count, drop the pixels above the rate, clear the counts touched.</summary>
    private void ProcessPerBatch(EventBatch input, EventBatch output)
    {
        int n = input.Count;
        ReadOnlySpan<long> t = input.Timestamps;
        ReadOnlySpan<ushort> xs = input.Xs, ys = input.Ys;
        int[] counts = _counts!;
        uint width = (uint)Geometry.Width, height = (uint)Geometry.Height;
        for (int i = 0; i < n; i++)
        {
            uint x = xs[i], y = ys[i];
            if (x < width && y < height)
            {
                counts[(int)(y * width) + (int)x]++;
            }
        }

        var map = new RateMap { Counts = counts, Width = width, Height = height, Limit = n == 0 ? 0 : _frequencyHz * (t[n - 1] - t[0]) * 1e-6 };
        int kept = EventLoop.Run(input, output, ref map);
        int hot = 0;
        for (int i = 0; i < n; i++)
        {
            uint x = xs[i], y = ys[i];
            if (x < width && y < height)
            {
                ref int c = ref counts[(int)(y * width) + (int)x];
                hot += c > map.Limit ? 1 : 0;
                c = 0;
            }
        }

        MaskedPixels = hot;
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

    /// <summary>Drops events off the sensor and of masked pixels; counts events while calibrating.</summary>
    private struct MaskMap : IEventMap
    {
        public HotPixelMaskStage Stage;
        public uint Width;
        public uint Height;

        public readonly bool Map(ref long t, ref ushort x, ref ushort y, ref byte p)
        {
            if (x >= Width || y >= Height)
            {
                return false;
            }

            int idx = (int)((y * Width) + x);
            if (Stage._calibrating)
            {
                Stage.Calibrate(t, idx);
            }

            return !Stage._mask[idx];
        }
    }

    /// <summary>Drops events off the sensor and of the pixels whose count in the batch is above the limit.</summary>
    private struct RateMap : IEventMap
    {
        public int[] Counts;
        public uint Width;
        public uint Height;
        public double Limit;

        public readonly bool Map(ref long t, ref ushort x, ref ushort y, ref byte p) =>
            x < Width && y < Height && Counts[(int)((y * Width) + x)] <= Limit;
    }
}

/// <summary>
/// Tonic's <c>DropPixel(coordinates, hot_pixel_frequency)</c>: drops every event of the given
/// pixels, or of the pixels firing above <see cref="HotPixelFrequency"/> Hz over the sample (one
/// processed batch; see <see cref="HotPixelMaskStage"/>). Text form
/// "drop-pixel:&lt;x&gt;/&lt;y&gt;;&lt;x&gt;/&lt;y&gt;..." or "drop-pixel:hot_pixel_frequency=&lt;Hz&gt;" (a lone
/// number is the frequency). Needs the sensor size.
/// </summary>
public sealed class DropPixel : EventTransform
{
    private readonly (int X, int Y)[] _coordinates;

    /// <summary>Drops the events of <paramref name="coordinates"/>.</summary>
    public DropPixel(IEnumerable<(int X, int Y)> coordinates)
    {
        ArgumentNullException.ThrowIfNull(coordinates);
        _coordinates = [.. coordinates];
        foreach ((int x, int y) in _coordinates)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(x);
            ArgumentOutOfRangeException.ThrowIfNegative(y);
        }
    }

    /// <summary>Drops the events of the pixels firing above <paramref name="hotPixelFrequency"/> Hz in a sample.</summary>
    public DropPixel(double hotPixelFrequency)
    {
        if (!(hotPixelFrequency > 0) || !double.IsFinite(hotPixelFrequency))
        {
            throw new ArgumentOutOfRangeException(nameof(hotPixelFrequency), hotPixelFrequency, "must be a positive frequency");
        }

        _coordinates = [];
        HotPixelFrequency = hotPixelFrequency;
    }

    /// <summary>The pixels dropped (empty with a frequency).</summary>
    public IReadOnlyList<(int X, int Y)> Coordinates => _coordinates;

    /// <summary>Tonic's hot_pixel_frequency in Hz, or null.</summary>
    public double? HotPixelFrequency { get; }

    /// <inheritdoc />
    public override string Name => "drop-pixel";

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) =>
        HotPixelFrequency is double f ? new HotPixelMaskStage(Require(geometry), f) : new HotPixelMaskStage(Require(geometry), _coordinates);

    /// <inheritdoc />
    public override string ToString() =>
        HotPixelFrequency is double f ? TransformText.Of(Name, TransformText.Named("hot_pixel_frequency", f))
        : TransformText.Of(Name, TransformText.Coordinates(_coordinates));
}

/// <summary>
/// Hot pixels learned over a stream (see <see cref="HotPixelMaskStage"/>): events pass while each
/// pixel's events are counted over the first <see cref="CalibrationUs"/> us; then the pixels above
/// <see cref="Frequency"/> Hz lose all their events. Text form
/// "mask-hot-pixels:&lt;frequency Hz&gt;:&lt;calibration us&gt;". Needs the sensor size.
/// </summary>
public sealed class MaskHotPixels : EventTransform
{
    /// <summary>Creates the transform.</summary>
    public MaskHotPixels(double frequency, long calibrationUs)
    {
        if (!(frequency > 0) || !double.IsFinite(frequency))
        {
            throw new ArgumentOutOfRangeException(nameof(frequency), frequency, "must be a positive frequency");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(calibrationUs);
        Frequency = frequency;
        CalibrationUs = calibrationUs;
    }

    /// <summary>Rate above which a pixel is hot (Hz).</summary>
    public double Frequency { get; }

    /// <summary>Calibration period (us of event time from the first event).</summary>
    public long CalibrationUs { get; }

    /// <inheritdoc />
    public override string Name => "mask-hot-pixels";

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => new HotPixelMaskStage(Require(geometry), Frequency, CalibrationUs);

    /// <inheritdoc />
    public override string ToString() => TransformText.Of(Name, Frequency, CalibrationUs);
}
