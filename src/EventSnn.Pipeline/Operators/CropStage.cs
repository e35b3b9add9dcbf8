using EventSnn.Events;

namespace EventSnn.Pipeline;

/// <summary>
/// Region of interest: keeps events with <c>x0 &lt;= x &lt; x0 + width</c> and
/// <c>y0 &lt;= y &lt; y0 + height</c> and maps them to <c>(x - x0, y - y0)</c>, like Tonic's
/// crop. <see cref="Center"/> gives Tonic's <c>CenterCrop</c> offsets.
/// </summary>
public sealed class CropStage : IEventStage
{
    /// <summary>Creates a crop box.</summary>
    public CropStage(int x0, int y0, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(x0);
        ArgumentOutOfRangeException.ThrowIfNegative(y0);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        X0 = x0;
        Y0 = y0;
        Width = width;
        Height = height;
    }

    /// <summary>Left edge.</summary>
    public int X0 { get; }

    /// <summary>Top edge.</summary>
    public int Y0 { get; }

    /// <summary>Box width.</summary>
    public int Width { get; }

    /// <summary>Box height.</summary>
    public int Height { get; }

    /// <summary>Events dropped so far.</summary>
    public long Dropped { get; private set; }

    /// <summary>A centred box of <paramref name="width"/> x <paramref name="height"/>: offsets (W - w) / 2, (H - h) / 2.</summary>
    public static CropStage Center(SensorGeometry geometry, int width, int height)
    {
        if (width > geometry.Width || height > geometry.Height)
        {
            throw new ArgumentException("crop larger than the sensor");
        }

        return new CropStage((geometry.Width - width) / 2, (geometry.Height - height) / 2, width, height);
    }

    /// <inheritdoc />
    public void Reset()
    {
    }

    /// <inheritdoc />
    public SensorGeometry OutputGeometry(SensorGeometry input) => new(Width, Height);

    /// <inheritdoc />
    public void Process(EventBatch input, EventBatch output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        int n = input.Count;
        long[] ti = input.T, to = output.T;
        ushort[] xi = input.X, yi = input.Y, xo = output.X, yo = output.Y;
        byte[] pi = input.P, po = output.P;
        int x0 = X0, y0 = Y0;
        uint w = (uint)Width, h = (uint)Height;
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            uint x = (uint)(xi[i] - x0), y = (uint)(yi[i] - y0);
            to[kept] = ti[i];
            xo[kept] = (ushort)x;
            yo[kept] = (ushort)y;
            po[kept] = pi[i];
            kept += (x < w) & (y < h) ? 1 : 0;
        }

        output.SetCount(kept);
        Dropped += n - kept;
    }
}

public static partial class EventPipeline
{
    /// <summary>Keeps a region of interest and shifts it to the origin (see <see cref="CropStage"/>).</summary>
    public static IObservable<EventBatch> Crop(this IObservable<EventBatch> source, int x0, int y0, int width, int height) =>
        source.Through(() => new CropStage(x0, y0, width, height));
}
