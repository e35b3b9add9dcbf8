using EventSnn.Events;

namespace EventSnn.Pipeline;

/// <summary>
/// Spatial pooling / downsampling. With an integer <c>factor</c> k, (x, y) becomes
/// (x / k, y / k) exactly (k x k pooling; frames then count the events of each block). With
/// Tonic's float factors, <c>x' = trunc(x * spatialFactor)</c>, <c>y'</c> likewise and
/// <c>t' = trunc(t * timeFactor)</c> (Tonic's <c>Downsample</c>). No event is dropped.
/// </summary>
public sealed class DownsampleStage : IEventStage
{
    private readonly int _factor;
    private readonly double _spatial;
    private readonly double _time;

    /// <summary>k x k pooling.</summary>
    public DownsampleStage(int factor)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(factor);
        _factor = factor;
        _spatial = 1.0 / factor;
        _time = 1.0;
    }

    /// <summary>Tonic's Downsample with float factors.</summary>
    public DownsampleStage(double spatialFactor, double timeFactor = 1.0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(spatialFactor);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeFactor);
        _factor = 0;
        _spatial = spatialFactor;
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
            : new SensorGeometry((int)((input.Width - 1) * _spatial) + 1, (int)((input.Height - 1) * _spatial) + 1);
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
            double s = _spatial, tf = _time;
            for (int i = 0; i < n; i++)
            {
                xo[i] = (ushort)(int)(xi[i] * s);
                yo[i] = (ushort)(int)(yi[i] * s);
                to[i] = tf == 1.0 ? ti[i] : (long)(ti[i] * tf);
            }
        }

        Array.Copy(input.P, output.P, n);
        output.SetCount(n);
    }
}

public static partial class EventPipeline
{
    /// <summary>k x k spatial pooling (see <see cref="DownsampleStage"/>).</summary>
    public static IObservable<EventBatch> Downsample(this IObservable<EventBatch> source, int factor) =>
        source.Through(() => new DownsampleStage(factor));

    /// <summary>Tonic's Downsample with float spatial and time factors.</summary>
    public static IObservable<EventBatch> Downsample(this IObservable<EventBatch> source, double spatialFactor, double timeFactor = 1.0) =>
        source.Through(() => new DownsampleStage(spatialFactor, timeFactor));
}
