using System.Runtime.CompilerServices;
using EventSnn.Events;

namespace EventSnn.Pipeline;

/// <summary>
/// Background-activity filter with Tonic's <c>denoise</c> semantics: for each event the pixel's
/// memory is set to <c>t + filterTime</c>, then the event is kept when one of its four direct
/// neighbours (left, right, up, down; not itself) holds a memory greater than <c>t</c>, i.e.
/// a neighbour fired within the last <c>filterTime</c> us. Memories start at
/// <c>filterTime</c> as in Tonic (so events before <c>filterTime</c> pass). Events outside
/// the sensor are dropped and counted. O(1) per event, allocation-free.
/// </summary>
public sealed class DenoiseStage : IEventStage
{
    private readonly long[] _memory;
    private readonly int _stride;

    /// <summary>Creates the filter for a sensor of <paramref name="geometry"/>.</summary>
    public DenoiseStage(SensorGeometry geometry, long filterTimeUs = 10_000)
    {
        if (!geometry.IsKnown)
        {
            throw new ArgumentException("sensor geometry must be known", nameof(geometry));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(filterTimeUs);
        Geometry = geometry;
        FilterTimeUs = filterTimeUs;
        _stride = geometry.Width + 2;
        _memory = new long[_stride * (geometry.Height + 2)];
        Reset();
    }

    /// <summary>Sensor size.</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>Temporal neighbourhood in us.</summary>
    public long FilterTimeUs { get; }

    /// <summary>Events dropped as noise so far.</summary>
    public long Dropped { get; private set; }

    /// <summary>Events dropped because they lay outside the sensor.</summary>
    public long OutOfBounds { get; private set; }

    /// <inheritdoc />
    public void Reset()
    {
        // the border ring never counts as a recent neighbour
        Array.Fill(_memory, long.MinValue);
        for (int y = 0; y < Geometry.Height; y++)
        {
            _memory.AsSpan(((y + 1) * _stride) + 1, Geometry.Width).Fill(FilterTimeUs);
        }
    }

    /// <inheritdoc />
    public SensorGeometry OutputGeometry(SensorGeometry input) => input;

    /// <inheritdoc />
    [SkipLocalsInit]
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
        long[] mem = _memory;
        int stride = _stride;
        uint width = (uint)Geometry.Width, height = (uint)Geometry.Height;
        long ft = FilterTimeUs;
        int kept = 0;
        long outside = 0;
        for (int i = 0; i < n; i++)
        {
            uint x = xi[i], y = yi[i];
            if (x >= width || y >= height)
            {
                outside++;
                continue;
            }

            long t = ti[i];
            int idx = ((int)(y + 1) * stride) + (int)x + 1;
            mem[idx] = t + ft;
            bool keep = (mem[idx - 1] > t) | (mem[idx + 1] > t) | (mem[idx - stride] > t) | (mem[idx + stride] > t);
            to[kept] = t;
            xo[kept] = (ushort)x;
            yo[kept] = (ushort)y;
            po[kept] = pi[i];
            kept += keep ? 1 : 0;
        }

        output.SetCount(kept);
        OutOfBounds += outside;
        Dropped += n - kept - outside;
    }
}

public static partial class EventPipeline
{
    /// <summary>Background-activity denoise with Tonic's semantics (see <see cref="DenoiseStage"/>).</summary>
    public static IObservable<EventBatch> Denoise(this IObservable<EventBatch> source, SensorGeometry geometry, long filterTimeUs = 10_000) =>
        source.Through(() => new DenoiseStage(geometry, filterTimeUs));
}
