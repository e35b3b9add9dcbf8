using EventSnn.Events;

namespace EventSnn.Datasets.Loaders;

/// <summary>Reference binnings of the public datasets into time steps.</summary>
public static class Binning
{
    /// <summary>
    /// SHD/SSC reference binning: spikes (times in microseconds, units = channels) into
    /// <paramref name="steps"/> bins of <paramref name="binSeconds"/> (default 250 x 4 ms = 1 s),
    /// binary (a channel is 1 in a bin when it spiked at least once); spikes after the last
    /// bin are dropped. Units at or above <paramref name="channels"/> are rejected.
    /// </summary>
    public static SpikeSequence Shd(ReadOnlySpan<long> timesUs, ReadOnlySpan<ushort> units, int label, int steps = 250, double binSeconds = 0.004, int channels = 700, bool binary = true, string? id = null)
    {
        var dense = new float[steps * channels];
        AccumulateShd(timesUs, units, dense, steps, binSeconds, channels, binary);
        return SpikeSequence.FromDense(dense, steps, channels, label, id);
    }

    /// <summary>Adds spikes to a dense steps x channels grid (see <see cref="Shd"/>); for samples read in chunks.</summary>
    public static void AccumulateShd(ReadOnlySpan<long> timesUs, ReadOnlySpan<ushort> units, Span<float> dense, int steps, double binSeconds, int channels, bool binary)
    {
        if (timesUs.Length != units.Length)
        {
            throw new ArgumentException($"{timesUs.Length} times but {units.Length} units");
        }

        long binUs = Math.Max(1, (long)Math.Round(binSeconds * 1e6));
        for (int i = 0; i < timesUs.Length; i++)
        {
            long t = timesUs[i];
            if (t < 0)
            {
                continue; // negative times cannot be binned
            }

            long bin = t / binUs;
            if (bin >= steps)
            {
                continue;
            }

            int u = units[i];
            if (u >= channels)
            {
                throw new ArgumentOutOfRangeException(nameof(units), $"unit {u} is not below {channels} channels");
            }

            ref float cell = ref dense[(int)(bin * channels) + u];
            cell = binary ? 1 : cell + 1;
        }
    }

    /// <summary>
    /// DVS128 Gesture reference frames: the events are cut into <paramref name="frames"/>
    /// slices holding equal numbers of events, and each slice is counted per polarity and
    /// average-pooled over <paramref name="pool"/> x <paramref name="pool"/> pixels (128 x 128 / 4 ->
    /// 2 x 32 x 32; a value is the mean event count of its pixels, as the reference's 4x4 average pooling).
    /// Feature index = polarity * (h * w) + y * w + x with polarity 0 = OFF, 1 = ON.
    /// </summary>
    public static SpikeSequence EqualCountFrames(ReadOnlySpan<DvsEvent> events, SensorGeometry geometry, int frames, int pool, int label, string? id = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frames, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pool, 1);
        int w = (geometry.Width + pool - 1) / pool, h = (geometry.Height + pool - 1) / pool;
        int features = 2 * w * h;
        var dense = new float[frames * features];
        int n = events.Length;
        float share = 1f / (pool * pool);
        for (int i = 0; i < n; i++)
        {
            DvsEvent e = events[i];
            if (!geometry.Contains(e.X, e.Y))
            {
                continue;
            }

            int frame = (int)((long)i * frames / n);
            int f = ((e.On ? 1 : 0) * w * h) + ((e.Y / pool) * w) + (e.X / pool);
            dense[(frame * features) + f] += share;
        }

        return SpikeSequence.FromDense(dense, frames, features, label, id);
    }

    /// <summary>
    /// Time-binned event frames (N-MNIST and similar): events from <paramref name="startUs"/> into
    /// <paramref name="steps"/> bins of <paramref name="binUs"/>, counted per polarity and pixel
    /// (pooled by <paramref name="pool"/>). Events outside the window are dropped.
    /// </summary>
    public static SpikeSequence TimeFrames(ReadOnlySpan<DvsEvent> events, SensorGeometry geometry, long startUs, long binUs, int steps, int pool, int label, string? id = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(binUs, 1);
        int w = (geometry.Width + pool - 1) / pool, h = (geometry.Height + pool - 1) / pool;
        int features = 2 * w * h;
        var dense = new float[steps * features];
        foreach (DvsEvent e in events)
        {
            long bin = (e.T - startUs) / binUs;
            if (e.T < startUs || bin >= steps || !geometry.Contains(e.X, e.Y))
            {
                continue;
            }

            int f = ((e.On ? 1 : 0) * w * h) + ((e.Y / pool) * w) + (e.X / pool);
            dense[(bin * features) + f] += 1;
        }

        return SpikeSequence.FromDense(dense, steps, features, label, id);
    }
}
