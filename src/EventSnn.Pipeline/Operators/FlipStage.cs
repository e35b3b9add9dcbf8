using EventSnn.Events;

namespace EventSnn.Pipeline;

/// <summary>
/// Mirrors events: left-right (<c>x' = W - 1 - x</c>, Tonic's FlipLR) and/or up-down
/// (<c>y' = H - 1 - y</c>, Tonic's FlipUD). Events outside the sensor are dropped.
/// </summary>
public sealed class FlipStage : IEventStage
{
    /// <summary>Creates the stage.</summary>
    public FlipStage(SensorGeometry geometry, bool leftRight, bool upDown)
    {
        if (!geometry.IsKnown)
        {
            throw new ArgumentException("sensor geometry must be known", nameof(geometry));
        }

        Geometry = geometry;
        LeftRight = leftRight;
        UpDown = upDown;
    }

    /// <summary>Sensor size.</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>Mirror x.</summary>
    public bool LeftRight { get; }

    /// <summary>Mirror y.</summary>
    public bool UpDown { get; }

    /// <inheritdoc />
    public void Reset()
    {
    }

    /// <inheritdoc />
    public SensorGeometry OutputGeometry(SensorGeometry input) => input;

    /// <inheritdoc />
    public void Process(EventBatch input, EventBatch output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        int n = input.Count;
        long[] ti = input.T, to = output.T;
        ushort[] xi = input.X, yi = input.Y, xo = output.X, yo = output.Y;
        byte[] pi = input.P, po = output.P;
        int w = Geometry.Width, h = Geometry.Height;
        int xm = LeftRight ? w - 1 : 0, ym = UpDown ? h - 1 : 0;
        int xs = LeftRight ? -1 : 1, ys = UpDown ? -1 : 1;
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            int x = xi[i], y = yi[i];
            to[kept] = ti[i];
            xo[kept] = (ushort)(xm + (xs * x));
            yo[kept] = (ushort)(ym + (ys * y));
            po[kept] = pi[i];
            kept += ((uint)x < (uint)w) & ((uint)y < (uint)h) ? 1 : 0;
        }

        output.SetCount(kept);
    }
}

public static partial class EventPipeline
{
    /// <summary>Mirror left-right (Tonic's FlipLR).</summary>
    public static IObservable<EventBatch> FlipLeftRight(this IObservable<EventBatch> source, SensorGeometry geometry) =>
        source.Through(() => new FlipStage(geometry, leftRight: true, upDown: false));

    /// <summary>Mirror up-down (Tonic's FlipUD).</summary>
    public static IObservable<EventBatch> FlipUpDown(this IObservable<EventBatch> source, SensorGeometry geometry) =>
        source.Through(() => new FlipStage(geometry, leftRight: false, upDown: true));
}
