using EventSnn.Datasets.Dvs;
using EventSnn.Events;

namespace EventSnn.Datasets.Mnist;

/// <summary>
/// Sequential MNIST (S-MNIST) and permuted sequential MNIST (PS-MNIST): an image read pixel
/// by pixel (784 steps for 28 x 28), optionally in a fixed seeded permutation, and a spike
/// encoding of that sequence by threshold crossings (after Bellec et al. 2018's 80 input neurons).
/// </summary>
public static class SequentialMnist
{
    /// <summary>Channels of the spike encoding: 39 up-crossing, 39 down-crossing, 1 "ink" and 1 end-of-sequence neuron.</summary>
    public const int SpikeChannels = 80;

    private const int Thresholds = 39;

    /// <summary>The fixed pixel order of PS-MNIST for a seed (a permutation of 0..pixels-1).</summary>
    public static int[] Permutation(int pixels, int seed)
    {
        int[] order = new int[pixels];
        for (int i = 0; i < pixels; i++)
        {
            order[i] = i;
        }

        new Random(Seeds.Derive(seed, 0x5053)).Shuffle(order);
        return order;
    }

    /// <summary>Writes the pixel sequence of <paramref name="image"/> (intensities in [0, 1]) in the given order (null = row-major).</summary>
    public static void Sequence(ReadOnlySpan<byte> image, int[]? permutation, Span<float> destination)
    {
        for (int t = 0; t < image.Length; t++)
        {
            destination[t] = image[permutation is null ? t : permutation[t]] / 255f;
        }
    }

    /// <summary>
    /// Encodes a pixel sequence as spikes, one time step per <paramref name="stepUs"/> microseconds:
    /// channel j (0..38) fires when the value crosses threshold (j + 1) / 40 upwards,
    /// channel 39 + j when it crosses it downwards, channel 78 fires at every step whose value
    /// is at least 0.5, channel 79 at the last step. Times are in microseconds.
    /// </summary>
    public static void EncodeSpikes(ReadOnlySpan<float> sequence, long stepUs, List<long> times, List<ushort> units)
    {
        ArgumentNullException.ThrowIfNull(times);
        ArgumentNullException.ThrowIfNull(units);
        float previous = 0;
        for (int t = 0; t < sequence.Length; t++)
        {
            float value = sequence[t];
            long time = t * stepUs;
            for (int j = 0; j < Thresholds; j++)
            {
                float th = (j + 1) / (float)(Thresholds + 1);
                if (previous < th && value >= th)
                {
                    times.Add(time);
                    units.Add((ushort)j);
                }
                else if (previous >= th && value < th)
                {
                    times.Add(time);
                    units.Add((ushort)(Thresholds + j));
                }
            }

            if (value >= 0.5f)
            {
                times.Add(time);
                units.Add(2 * Thresholds);
            }

            if (t == sequence.Length - 1)
            {
                times.Add(time);
                units.Add((2 * Thresholds) + 1);
            }

            previous = value;
        }
    }
}

/// <summary>Options of the N-MNIST-like saccade recording.</summary>
public sealed record SaccadeOptions
{
    /// <summary>Duration of each of the three saccades in milliseconds.</summary>
    public double SaccadeMs { get; init; } = 100;

    /// <summary>Rendering rate of the moving digit.</summary>
    public double FrameRateHz { get; init; } = 1000;

    /// <summary>Largest displacement along each axis in pixels (the 34 x 34 frame leaves 6 px of room around a 28 x 28 digit).</summary>
    public double Amplitude { get; init; } = 5.5;

    /// <summary>Intensity of the monitor's black.</summary>
    public float Black { get; init; } = 0.04f;

    /// <summary>Intensity of a full-white digit pixel.</summary>
    public float White { get; init; } = 0.9f;

    /// <summary>The sensor model (ATIS-like thresholds, a little noise).</summary>
    public DvsEmulatorOptions Emulator { get; init; } = new()
    {
        OnThreshold = 0.35,
        OffThreshold = 0.35,
        ThresholdSigma = 0.05,
        RefractoryUs = 1000,
        LeakRateHz = 0.2,
        ShotNoiseRateHz = 0.1,
    };
}

/// <summary>
/// N-MNIST-like recordings: a 28 x 28 digit on a dark monitor seen by a 34 x 34 sensor that
/// makes three saccades along the sides of a triangle (like the pan-tilt unit of the original
/// N-MNIST), rendered with bilinear sub-pixel shifts and converted by the <see cref="DvsEmulator"/>.
/// </summary>
public static class NMnistSaccades
{
    /// <summary>Sensor size (34 x 34).</summary>
    public static SensorGeometry Geometry => SensorGeometry.NMnist;

    /// <summary>Records one digit; appends its events (time-ordered, starting near 0 us) to <paramref name="output"/>.</summary>
    public static void Record(ReadOnlySpan<byte> image, int rows, int columns, int seed, SaccadeOptions? options, List<DvsEvent> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        options ??= new SaccadeOptions();
        SensorGeometry g = Geometry;
        using var emulator = new DvsEmulator(g, options.Emulator, seed);
        var frame = new float[g.PixelCount];
        var random = new Random(Seeds.Derive(seed, 0x5ACC));
        double a = options.Amplitude;
        // triangle corners with a little per-recording jitter (the monitor is never placed exactly)
        double jx = (random.NextDouble() - 0.5) * 0.6, jy = (random.NextDouble() - 0.5) * 0.6;
        (double X, double Y)[] corners = [(jx, jy), (a / 2, a), (a, 0), (jx, jy)];
        double offX = ((g.Width - columns) / 2.0) - (a / 2), offY = ((g.Height - rows) / 2.0) - (a / 2);
        int perSaccade = (int)Math.Round(options.SaccadeMs * 1e-3 * options.FrameRateHz);
        double frameUs = 1e6 / options.FrameRateHz;
        using var batch = new EventBatch(1 << 14);
        long k = 0;
        for (int s = 0; s < 3; s++)
        {
            for (int f = s == 0 ? 0 : 1; f <= perSaccade; f++)
            {
                double u = f / (double)perSaccade;
                double e = 0.5 - (0.5 * Math.Cos(Math.PI * u));
                double dx = corners[s].X + ((corners[s + 1].X - corners[s].X) * e);
                double dy = corners[s].Y + ((corners[s + 1].Y - corners[s].Y) * e);
                Render(image, rows, columns, offX + dx, offY + dy, options, frame);
                emulator.Frame(frame, (long)Math.Round(k++ * frameUs));
                while (emulator.Read(batch))
                {
                    for (int i = 0; i < batch.Count; i++)
                    {
                        output.Add(batch[i]);
                    }
                }
            }
        }
    }

    private static void Render(ReadOnlySpan<byte> image, int rows, int columns, double ox, double oy, SaccadeOptions o, Span<float> frame)
    {
        SensorGeometry g = Geometry;
        float range = o.White - o.Black;
        for (int y = 0; y < g.Height; y++)
        {
            double sy = y - oy;
            int y0 = (int)Math.Floor(sy);
            double fy = sy - y0;
            for (int x = 0; x < g.Width; x++)
            {
                double sx = x - ox;
                int x0 = (int)Math.Floor(sx);
                double fx = sx - x0;
                double v = ((1 - fy) * (((1 - fx) * Pixel(image, rows, columns, x0, y0)) + (fx * Pixel(image, rows, columns, x0 + 1, y0))))
                    + (fy * (((1 - fx) * Pixel(image, rows, columns, x0, y0 + 1)) + (fx * Pixel(image, rows, columns, x0 + 1, y0 + 1))));
                frame[(y * g.Width) + x] = o.Black + (range * (float)(v / 255.0));
            }
        }
    }

    private static double Pixel(ReadOnlySpan<byte> image, int rows, int columns, int x, int y) =>
        (uint)x < (uint)columns && (uint)y < (uint)rows ? image[(y * columns) + x] : 0;
}
