using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Spatial pooling / downsampling. With an integer <c>factor</c> k, (x, y) becomes
/// (x / k, y / k) exactly (k x k pooling; frames then count the events of each block). With
/// Tonic's float factors, <c>x' = trunc(x * spatialFactorX)</c>, <c>y' = trunc(y * spatialFactorY)</c>
/// and <c>t' = trunc(t * timeFactor)</c> (Tonic's <c>Downsample</c>). No event is dropped.
/// </summary>
public sealed class DownsampleStage : IEventStage
{
    private readonly int _factor;
    private readonly double _spatialX;
    private readonly double _spatialY;
    private readonly double _time;

    /// <summary>k x k pooling.</summary>
    public DownsampleStage(int factor)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(factor);
        _factor = factor;
        _spatialX = _spatialY = 1.0 / factor;
        _time = 1.0;
    }

    /// <summary>Tonic's Downsample with float factors (one spatial factor for both axes).</summary>
    public DownsampleStage(double spatialFactor, double timeFactor = 1.0)
        : this(spatialFactor, spatialFactor, timeFactor)
    {
    }

    /// <summary>Tonic's Downsample with float factors per axis.</summary>
    public DownsampleStage(double spatialFactorX, double spatialFactorY, double timeFactor)
    {
        Check(spatialFactorX);
        Check(spatialFactorY);
        Check(timeFactor);
        _factor = 0;
        _spatialX = spatialFactorX;
        _spatialY = spatialFactorY;
        _time = timeFactor;
    }

    /// <inheritdoc />
    public void Reset()
    {
    }

    /// <inheritdoc />
    public SensorGeometry OutputGeometry(SensorGeometry input)
    {
        if (!input.IsKnown)
        {
            return input;
        }

        return _factor > 0
            ? new SensorGeometry(((input.Width - 1) / _factor) + 1, ((input.Height - 1) / _factor) + 1)
            : new SensorGeometry((int)((input.Width - 1) * _spatialX) + 1, (int)((input.Height - 1) * _spatialY) + 1);
    }

    /// <inheritdoc />
    public void Process(EventBatch input, EventBatch output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        int n = input.Count;
        long[] ti = input.T, to = output.T;
        ushort[] xi = input.X, yi = input.Y, xo = output.X, yo = output.Y;
        if (_factor > 0)
        {
            int k = _factor;
            Array.Copy(ti, to, n);
            for (int i = 0; i < n; i++)
            {
                xo[i] = (ushort)(xi[i] / k);
                yo[i] = (ushort)(yi[i] / k);
            }
        }
        else
        {
            double sx = _spatialX, sy = _spatialY, tf = _time;
            for (int i = 0; i < n; i++)
            {
                xo[i] = (ushort)Math.Min((int)(xi[i] * sx), ushort.MaxValue);
                yo[i] = (ushort)Math.Min((int)(yi[i] * sy), ushort.MaxValue);
                to[i] = tf == 1.0 ? ti[i] : (long)(ti[i] * tf);
            }
        }

        Array.Copy(input.P, output.P, n);
        output.SetCount(n);
    }

    private static void Check(double factor)
    {
        if (!(factor > 0) || !double.IsFinite(factor))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "factors must be positive and finite");
        }
    }
}

/// <summary>
/// Tonic's <c>Downsample(time_factor, spatial_factor, target_size)</c>: multiplies timestamps by
/// <see cref="TimeFactor"/> and coordinates by <see cref="SpatialFactor"/> (truncating), or, with
/// a <see cref="TargetSize"/>, by target / sensor per axis (then it needs the sensor size). A whole
/// spatial factor k &gt;= 1 given as <see cref="PoolFactor"/> pools k x k blocks (x / k exactly).
/// Text form "downsample:&lt;k&gt;" (pooling), "downsample:&lt;spatial_factor&gt;[:&lt;time_factor&gt;]"
/// with a factor below 1, or "downsample:target_size=WxH". No event is dropped.
/// </summary>
public sealed class Downsample : EventTransform
{
    /// <summary>Tonic's float factors (spatial factor 1 with time factor 1 leaves events unchanged).</summary>
    public Downsample(double spatialFactor = 1, double timeFactor = 1)
    {
        _ = new DownsampleStage(spatialFactor, timeFactor); // validates
        SpatialFactor = spatialFactor;
        TimeFactor = timeFactor;
    }

    private Downsample(int poolFactor, SensorGeometry? targetSize, double timeFactor)
    {
        PoolFactor = poolFactor;
        TargetSize = targetSize;
        SpatialFactor = 1;
        TimeFactor = timeFactor;
    }

    /// <summary>Tonic's spatial_factor (when no pooling factor or target size is given).</summary>
    public double SpatialFactor { get; }

    /// <summary>Tonic's time_factor.</summary>
    public double TimeFactor { get; }

    /// <summary>k of k x k pooling (0: float factors).</summary>
    public int PoolFactor { get; }

    /// <summary>Tonic's target_size, or null.</summary>
    public SensorGeometry? TargetSize { get; }

    /// <inheritdoc />
    public override string Name => "downsample";

    /// <summary>k x k pooling: (x, y) becomes (x / k, y / k).</summary>
    public static Downsample Pool(int factor)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(factor);
        return new Downsample(factor, null, 1);
    }

    /// <summary>Tonic's target_size: spatial factors target / sensor per axis.</summary>
    public static Downsample ToSize(SensorGeometry targetSize, double timeFactor = 1)
    {
        if (!targetSize.IsKnown)
        {
            throw new ArgumentException("target size must be known", nameof(targetSize));
        }

        _ = new DownsampleStage(1, timeFactor); // validates
        return new Downsample(0, targetSize, timeFactor);
    }

    /// <inheritdoc />
    public override SensorGeometry OutputGeometry(SensorGeometry input) =>
        TargetSize is SensorGeometry target ? target : StageFor(input).OutputGeometry(input);

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => StageFor(TargetSize is null ? geometry : Require(geometry));

    /// <inheritdoc />
    public override string ToString() =>
        PoolFactor > 0 ? TransformText.Of(Name, PoolFactor)
        : TargetSize is SensorGeometry target ? TransformText.Of(Name, TransformText.Named("target_size", target), TimeFactor == 1 ? null : TransformText.Named("time_factor", TimeFactor))
        : TransformText.Of(Name, TransformText.Named("spatial_factor", SpatialFactor), TimeFactor == 1 ? null : TransformText.Named("time_factor", TimeFactor));

    private DownsampleStage StageFor(SensorGeometry geometry) =>
        PoolFactor > 0 ? new DownsampleStage(PoolFactor)
        : TargetSize is SensorGeometry target && geometry.IsKnown ? new DownsampleStage((double)target.Width / geometry.Width, (double)target.Height / geometry.Height, TimeFactor)
        : new DownsampleStage(SpatialFactor, TimeFactor);
}
