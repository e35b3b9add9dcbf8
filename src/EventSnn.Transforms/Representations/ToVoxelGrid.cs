using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Tonic's <c>ToVoxelGrid(n_time_bins)</c> (the event volume of Zhu et al. 2019): each event's
/// time is scaled to <c>ts = n (t - t_first) / (t_last - t_first)</c> (first and last events of the
/// sample, which is expected in time order) and its polarity (+1 ON, -1 OFF) is split between
/// the two nearest bins: <c>pol (1 - (ts - floor ts))</c> to bin floor(ts) and
/// <c>pol (ts - floor ts)</c> to bin floor(ts) + 1, each only when that bin is below n — so, as in
/// Tonic, the last event (ts = n) adds nothing. Output n x 1 x height x width (float32; Tonic
/// float64). Where Tonic divides by zero (all events at one time) every event goes wholly to bin
/// 0; events outside the sensor are left out. Allocation-free per event with
/// <see cref="Apply(EventView, Span{float})"/>.
/// </summary>
public sealed class ToVoxelGrid
{
    /// <summary>Creates the representation.</summary>
    public ToVoxelGrid(SensorGeometry sensor, int nTimeBins)
    {
        if (!sensor.IsKnown)
        {
            throw new ArgumentException("sensor geometry must be known", nameof(sensor));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nTimeBins);
        Sensor = sensor;
        NTimeBins = nTimeBins;
    }

    /// <summary>Sensor size.</summary>
    public SensorGeometry Sensor { get; }

    /// <summary>Number of time bins (Tonic's n_time_bins).</summary>
    public int NTimeBins { get; }

    /// <summary>Elements of the grid (bins x height x width).</summary>
    public int Length => NTimeBins * Sensor.PixelCount;

    /// <summary>Writes the grid into <paramref name="grid"/> (length <see cref="Length"/>; cleared first).</summary>
    public void Apply(EventView events, Span<float> grid)
    {
        if (grid.Length != Length)
        {
            throw new ArgumentException($"the grid holds {Length} values", nameof(grid));
        }

        grid.Clear();
        int n = events.Count;
        if (n == 0)
        {
            return;
        }

        ReadOnlySpan<long> t = events.T;
        ReadOnlySpan<ushort> xs = events.X, ys = events.Y;
        ReadOnlySpan<byte> ps = events.P;
        int w = Sensor.Width, h = Sensor.Height, plane = w * h, bins = NTimeBins;
        long t0 = t[0];
        double span = t[n - 1] - t0;
        for (int i = 0; i < n; i++)
        {
            int x = xs[i], y = ys[i];
            if (x >= w || y >= h)
            {
                continue;
            }

            double ts = span == 0 ? 0 : bins * (double)(t[i] - t0) / span;
            long bin = (long)ts; // truncation, as NumPy's astype(int)
            double dt = ts - bin;
            double pol = ps[i] != 0 ? 1 : -1;
            int pixel = (y * w) + x;
            if (bin >= 0 && bin < bins)
            {
                grid[((int)bin * plane) + pixel] += (float)(pol * (1.0 - dt));
            }

            if (bin + 1 >= 0 && bin + 1 < bins)
            {
                grid[((int)(bin + 1) * plane) + pixel] += (float)(pol * dt);
            }
        }
    }

    /// <summary>The grid as a tensor n_time_bins x 1 x height x width.</summary>
    public EventTensor<float> Apply(EventView events)
    {
        var tensor = new EventTensor<float>(NTimeBins, 1, Sensor.Height, Sensor.Width);
        Apply(events, tensor.Data);
        return tensor;
    }
}
