using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Transforms.Tests;

/// <summary>Helpers for running transforms over small hand-made event arrays.</summary>
internal static class Ev
{
    public static EventBatch Batch(params DvsEvent[] events) => EventSnn.Testing.EventArrays.Batch(events);

    /// <summary>Applies the transform of <paramref name="spec"/> to <paramref name="events"/> as one sample.</summary>
    public static DvsEvent[] Run(string spec, SensorGeometry geometry, ulong seed, params DvsEvent[] events) =>
        Run(TransformSpec.Parse(spec), geometry, seed, events);

    public static DvsEvent[] Run(EventTransform transform, SensorGeometry geometry, ulong seed, params DvsEvent[] events)
    {
        using EventBatch input = Batch(events);
        using EventBatch output = transform.Apply(input, geometry, seed);
        return output.ToArray();
    }

    /// <summary>Time-ordered random events on a small sensor.</summary>
    public static DvsEvent[] Random(int seed, int count, int width, int height, int maxStep) => EventSnn.Testing.EventArrays.Random(seed, count, width, height, maxStep);

    /// <summary>n events at one place and time.</summary>
    public static DvsEvent[] Same(int n, DvsEvent e) => Enumerable.Repeat(e, n).ToArray();
}

public class EventTransformTests
{
    private static readonly SensorGeometry Small = new(10, 8);

    [Fact]
    public void Time_skew_multiplies_adds_and_truncates_toward_zero()
    {
        DvsEvent[] events = [new(0, 1, 2, true), new(1000, 3, 4, false), new(2001, 5, 6, true), new(-5, 7, 7, false)];
        Assert.Equal(
            [new(100, 1, 2, true), new(1600, 3, 4, false), new(3101, 5, 6, true), new(92, 7, 7, false)],
            Ev.Run("time-skew:1.5:100", Small, 0, events));

        // 1001 x 0.5 - 1000 = -499.5 -> -499 (toward zero, as NumPy casts), 3 x 0.5 - 1000 = -998.5 -> -998
        Assert.Equal([-499L, -998L], Ev.Run("time-skew:0.5:-1000", Small, 0, new(1001, 0, 0, true), new(3, 0, 0, true)).Select(e => e.T));
    }

    [Fact]
    public void Time_skew_ranges_draw_one_coefficient_per_sample_from_the_seed()
    {
        DvsEvent[] events = [new(1_000_000, 0, 0, true), new(3_000_000, 0, 0, true)];
        var coefficients = new HashSet<double>();
        for (ulong seed = 0; seed < 20; seed++)
        {
            DvsEvent[] a = Ev.Run("time-skew:1..2", Small, seed, events);
            double c = a[0].T / 1e6;
            Assert.InRange(c, 1, 2);
            Assert.InRange(a[1].T - (3 * a[0].T), 0, 3); // the same coefficient for every event of the sample (each truncated)
            Assert.Equal(a, Ev.Run("time-skew:1..2", Small, seed, events));
            coefficients.Add(Math.Round(c, 6));
        }

        Assert.True(coefficients.Count > 15);
    }

    [Fact]
    public void Flips_map_x_to_W_minus_1_minus_x_and_y_to_H_minus_1_minus_y()
    {
        var g = new SensorGeometry(10, 4);
        DvsEvent[] events = [new(7, 0, 0, true), new(8, 9, 3, false), new(9, 10, 0, true)]; // the last is off the sensor
        Assert.Equal([new(7, 9, 0, true), new(8, 0, 3, false)], Ev.Run("flip-lr", g, 0, events));
        Assert.Equal([new(7, 0, 3, true), new(8, 9, 0, false)], Ev.Run("flip-ud", g, 0, events));
        Assert.Equal([new(7, 0, 0, true), new(8, 9, 3, false)], Ev.Run("flip-lr:0", g, 0, events));
        Assert.Equal([new(7, 9, 3, true), new(8, 0, 0, false)], Ev.Run("flip-lr,flip-ud", g, 0, events));
    }

    [Fact]
    public void Random_flips_flip_whole_samples_about_p_of_the_time_and_repeat_per_seed()
    {
        var g = new SensorGeometry(10, 4);
        DvsEvent[] events = [new(1, 2, 1, true), new(2, 3, 1, true)];
        int flipped = 0;
        for (ulong seed = 0; seed < 1000; seed++)
        {
            DvsEvent[] a = Ev.Run("random-flip-lr", g, seed, events);
            bool f = a[0].X == 7;
            Assert.Equal(f ? 6 : 3, a[1].X); // both events or neither
            Assert.Equal(a, Ev.Run("random-flip-lr", g, seed, events));
            flipped += f ? 1 : 0;
        }

        Assert.InRange(flipped, 440, 560); // p = 0.5, sd ~16
        int ud = 0;
        for (ulong seed = 0; seed < 1000; seed++)
        {
            ud += Ev.Run("random-flip-ud:0.2", g, seed, events)[0].Y == 2 ? 1 : 0;
        }

        Assert.InRange(ud, 150, 250); // p = 0.2, sd ~13
    }

    [Fact]
    public void Center_crop_takes_Tonics_offsets_and_pads_when_larger_than_the_sensor()
    {
        // 10 x 8 sensor, 4 x 4 box: offsets (10 - 4) // 2 = 3, (8 - 4) // 2 = 2
        DvsEvent[] kept = Ev.Run("center-crop:4", Small, 0, new(1, 3, 2, true), new(2, 6, 5, false), new(3, 7, 2, true), new(4, 2, 4, true));
        Assert.Equal([new(1, 0, 0, true), new(2, 3, 3, false)], kept);
        Assert.Equal(new SensorGeometry(4, 4), TransformSpec.Parse("center-crop:4").OutputGeometry(Small));

        // 4 x 4 sensor, 7 x 6 box: offsets floor(-3 / 2) = -2, floor(-2 / 2) = -1 (padding)
        var four = new SensorGeometry(4, 4);
        Assert.Equal([new(1, 2, 1, true), new(2, 5, 4, true)], Ev.Run("center-crop:7x6", four, 0, new(1, 0, 0, true), new(2, 3, 3, true)));
        Assert.Equal(new SensorGeometry(7, 6), TransformSpec.Parse("center-crop:7x6").OutputGeometry(four));

        Assert.Equal((45, 2), (CropStage.Center(SensorGeometry.Davis346, 256, 256).X0, CropStage.Center(SensorGeometry.Davis346, 256, 256).Y0));
    }

    [Fact]
    public void Crop_keeps_a_box_and_moves_it_to_the_origin_and_random_crop_stays_inside()
    {
        Assert.Equal(
            [new(1, 0, 0, true), new(2, 2, 1, false)],
            Ev.Run("crop:3x2:1:1", Small, 0, new(1, 1, 1, true), new(2, 3, 2, false), new(3, 4, 1, true), new(4, 0, 1, true)));

        // every pixel of a 10 x 8 sensor, random 4 x 3 boxes: 12 events survive, one box per sample
        var all = new List<DvsEvent>();
        for (int y = 0; y < 8; y++)
        {
            for (int x = 0; x < 10; x++)
            {
                all.Add(new DvsEvent((y * 10) + x, (ushort)x, (ushort)y, true));
            }
        }

        var corners = new HashSet<long>();
        for (ulong seed = 0; seed < 50; seed++)
        {
            DvsEvent[] kept = Ev.Run("random-crop:4x3", Small, seed, [.. all]);
            Assert.Equal(12, kept.Length);
            Assert.All(kept, e => Assert.True(e.X < 4 && e.Y < 3));
            long corner = kept[0].T; // the box's top-left pixel, x0 in [0, 6), y0 in [0, 5)
            Assert.InRange(corner % 10, 0, 5);
            Assert.InRange(corner / 10, 0, 4);
            corners.Add(corner);
        }

        Assert.True(corners.Count > 10);
    }

    [Fact]
    public void Downsample_pools_or_multiplies_as_Tonic()
    {
        Assert.Equal([new(0, 0, 0, true), new(1, 1, 2, false)], Ev.Run("downsample:4", SensorGeometry.Dvs128, 0, new(0, 3, 3, true), new(1, 7, 8, false)));
        Assert.Equal([new(1, 0, 2, true)], Ev.Run("downsample:0.25:0.001", SensorGeometry.Dvs128, 0, new DvsEvent(1999, 3, 9, true)));
        Assert.Equal([new(5, 6, 8, true)], Ev.Run("downsample:spatial_factor=2", SensorGeometry.Dvs128, 0, new DvsEvent(5, 3, 4, true)));

        // Tonic's target_size: factors 10 / 40 and 5 / 20
        var sensor = new SensorGeometry(40, 20);
        Assert.Equal([new(5, 9, 4, true)], Ev.Run("downsample:target_size=10x5", sensor, 0, new DvsEvent(5, 39, 19, true)));
        Assert.Equal(new SensorGeometry(10, 5), TransformSpec.Parse("downsample:target_size=10x5").OutputGeometry(sensor));
        Assert.Equal(new SensorGeometry(87, 65), TransformSpec.Parse("downsample:4").OutputGeometry(SensorGeometry.Davis346));
    }

    [Fact]
    public void Drop_pixel_drops_listed_pixels_or_Tonics_hot_pixels_of_the_sample()
    {
        var g = new SensorGeometry(4, 4);
        Assert.Equal([new(3, 1, 0, true)], Ev.Run("drop-pixel:1/1;2/0", g, 0, new(1, 1, 1, true), new(2, 2, 0, true), new(3, 1, 0, true)));

        // (3,3) fires 11 times over 1 s; (1,1) once. Tonic's rule: count > f x 1 s
        var events = new List<DvsEvent>();
        for (int i = 0; i <= 10; i++)
        {
            events.Add(new DvsEvent(i * 100_000, 3, 3, true));
        }

        events.Insert(5, new DvsEvent(450_000, 1, 1, false));
        Assert.Equal([450_000L], Ev.Run("drop-pixel:hot_pixel_frequency=10", g, 0, [.. events]).Select(e => e.T));
        Assert.Equal(12, Ev.Run("drop-pixel:11", g, 0, [.. events]).Length); // 11 is not above 11
        Assert.Equal([450_000L], Ev.Run("drop-pixel:10", g, 0, [.. events]).Select(e => e.T)); // a lone number is the frequency
    }

    [Fact]
    public void Polarity_transforms_and_crop_time()
    {
        DvsEvent[] events = [new(5, 1, 1, true), new(10, 2, 2, false), new(20, 3, 3, true), new(21, 3, 3, false)];
        Assert.All(Ev.Run("merge-polarities", Small, 0, events), e => Assert.False(e.On));
        Assert.Equal([false, true, false, true], Ev.Run("flip-polarity", Small, 0, events).Select(e => e.On));
        Assert.Equal([5L, 20L], Ev.Run("only-on", Small, 0, events).Select(e => e.T));
        Assert.Equal([10L, 21L], Ev.Run("only-off", Small, 0, events).Select(e => e.T));
        Assert.Equal([10L, 20L], Ev.Run("crop-time:10:20", Small, 0, events).Select(e => e.T));
        Assert.Equal([20L, 21L], Ev.Run("crop-time:20", Small, 0, events).Select(e => e.T));
    }

    [Fact]
    public void Denoise_and_refractory_period_transforms_run_the_filter_stages()
    {
        DvsEvent[] kept = Ev.Run(
            "denoise:100",
            new SensorGeometry(5, 5),
            0,
            new(1000, 2, 2, true),   // no neighbour yet: dropped
            new(1050, 3, 2, true),   // (2,2) fired 50 us ago: kept
            new(1200, 2, 2, false),  // (3,2) fired 150 us ago: dropped
            new(1250, 2, 3, true),   // (2,2) 50 us ago: kept
            new(1400, 3, 3, true),   // (2,3) 150 us ago, (2,2) is diagonal: dropped
            new(1420, 4, 4, true));  // dropped
        Assert.Equal([1050L, 1250L], kept.Select(e => e.T));

        kept = Ev.Run("refractory-period:100", new SensorGeometry(4, 4), 0, new(0, 1, 1, true), new(5, 2, 2, true), new(150, 1, 1, true), new(200, 1, 1, true), new(301, 1, 1, true), new(350, 1, 1, false));
        Assert.Equal([5L, 150L, 301L], kept.Select(e => e.T));
    }

    [Fact]
    public void Drop_event_drops_int_p_n_plus_half_events_each_equally_likely()
    {
        DvsEvent[] ten = Enumerable.Range(0, 10).Select(i => new DvsEvent(i, (ushort)i, 0, true)).ToArray();
        Assert.Equal(7, Ev.Run("drop-event:0.25", Small, 1, ten).Length); // int(2.5 + 0.5) = 3 dropped
        Assert.Equal(8, Ev.Run("drop-event:0.24", Small, 1, ten).Length); // int(2.4 + 0.5) = 2
        Assert.Equal(10, Ev.Run("drop-event:0", Small, 1, ten).Length);
        Assert.Empty(Ev.Run("drop-event:1", Small, 1, ten));

        int[] dropped = new int[10];
        for (ulong seed = 0; seed < 1000; seed++)
        {
            DvsEvent[] kept = Ev.Run("drop-event:0.3", Small, seed, ten);
            Assert.Equal(7, kept.Length);
            Assert.Equal(kept.OrderBy(e => e.T), kept); // order kept
            foreach (DvsEvent e in ten.Except(kept))
            {
                dropped[e.X]++;
            }
        }

        Assert.All(dropped, d => Assert.InRange(d, 240, 360)); // 0.3 x 1000 per position, sd ~14.5

        // a range draws p per sample: 100 events keep 50..100
        DvsEvent[] hundred = Enumerable.Range(0, 100).Select(i => new DvsEvent(i, 0, 0, true)).ToArray();
        var counts = new HashSet<int>();
        for (ulong seed = 0; seed < 40; seed++)
        {
            int n = Ev.Run("drop-event:0..0.5", Small, seed, hundred).Length;
            Assert.InRange(n, 50, 100);
            counts.Add(n);
        }

        Assert.True(counts.Count > 10);
    }

    [Fact]
    public void Time_jitter_adds_a_normal_deviate_and_truncates_toward_zero()
    {
        var g = new SensorGeometry(2, 2);
        Assert.Equal([new(10, 1, 1, true)], Ev.Run("time-jitter:0", g, 3, new DvsEvent(10, 1, 1, true)));

        DvsEvent[] many = Ev.Same(100_000, new DvsEvent(1_000_000, 1, 1, true));
        double[] d = Ev.Run("time-jitter:1000", g, 3, many).Select(e => e.T - 1_000_000.0).ToArray();
        double mean = d.Average();
        double sd = Math.Sqrt(d.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(mean, -15, 15); // sd of the mean ~3.2
        Assert.InRange(sd, 980, 1020);

        // std 0.4 around 10: t + N lies in (8.4, 11.6); truncation gives 9 below 10 (about half), 10 above
        long[] t = Ev.Run("time-jitter:0.4", g, 5, Ev.Same(10_000, new DvsEvent(10, 1, 1, true))).Select(e => e.T).ToArray();
        Assert.All(t, v => Assert.InRange(v, 8, 11));
        Assert.InRange(t.Count(v => v == 9), 4700, 5300);
        // around -10 truncation goes up: -10.2 -> -10, -9.8 -> -9
        t = Ev.Run("time-jitter:0.4:false", g, 5, Ev.Same(10_000, new DvsEvent(-10, 1, 1, true))).Select(e => e.T).ToArray();
        Assert.InRange(t.Count(v => v == -10), 4700, 5300);
        Assert.InRange(t.Count(v => v == -9), 4000, 5300);
    }

    [Fact]
    public void Time_jitter_clips_negative_times_and_sorts_on_request()
    {
        var g = new SensorGeometry(2, 2);
        DvsEvent[] zeros = Ev.Same(10_000, new DvsEvent(0, 1, 1, true));
        DvsEvent[] clipped = Ev.Run("time-jitter:100", g, 1, zeros); // clip_negative defaults to true (Tonic)
        Assert.All(clipped, e => Assert.True(e.T >= 0));
        Assert.InRange(clipped.Length, 4800, 5300); // P(N(0, 100²) > -1) ~ 0.504
        DvsEvent[] kept = Ev.Run("time-jitter:100:false", g, 1, zeros);
        Assert.Equal(10_000, kept.Length);
        Assert.Contains(kept, e => e.T < 0);

        DvsEvent[] events = Enumerable.Range(0, 500).Select(i => new DvsEvent(i * 10, (ushort)(i % 2), (ushort)(i / 2 % 2), i % 3 == 0)).ToArray();
        DvsEvent[] unsorted = Ev.Run("time-jitter:100:false", g, 7, events);
        DvsEvent[] sorted = Ev.Run("time-jitter:100:false:true", g, 7, events);
        Assert.NotEqual(unsorted.OrderBy(e => e.T), unsorted);
        Assert.Equal(unsorted.OrderBy(e => e.T), sorted); // the same jitter, stably sorted
    }

    [Fact]
    public void Spatial_jitter_draws_the_given_covariance_and_clips_or_clamps()
    {
        var big = new SensorGeometry(65535, 65535);
        DvsEvent[] events = Ev.Same(50_000, new DvsEvent(5, 30_000, 30_000, true));
        DvsEvent[] moved = Ev.Run("spatial-jitter:10000:2500:3000", big, 11, events);
        double[] dx = moved.Select(e => e.X - 30_000.0).ToArray(), dy = moved.Select(e => e.Y - 30_000.0).ToArray();
        double mx = dx.Average(), my = dy.Average();
        Assert.InRange(mx, -2, 2);
        Assert.InRange(my, -1.5, 0.5); // x + d truncates to floor(d) here: mean -0.5
        Assert.InRange(dx.Select(v => (v - mx) * (v - mx)).Average(), 9600, 10400);
        Assert.InRange(dy.Select(v => (v - my) * (v - my)).Average(), 2380, 2620);
        Assert.InRange(dx.Zip(dy, (a, b) => (a - mx) * (b - my)).Average(), 2850, 3150);

        Assert.Equal(events.Take(5), Ev.Run("spatial-jitter:0:0", big, 11, events.Take(5).ToArray()));

        var g = new SensorGeometry(8, 8);
        DvsEvent[] corner = Ev.Same(1000, new DvsEvent(5, 0, 0, true));
        DvsEvent[] clipped = Ev.Run("spatial-jitter:4:4:0:true", g, 2, corner);
        Assert.InRange(clipped.Length, 250, 600); // both shifts must truncate to >= 0
        Assert.All(clipped, e => Assert.True(e.X < 8 && e.Y < 8));
        DvsEvent[] clamped = Ev.Run("spatial-jitter:4:4", g, 2, corner);
        Assert.Equal(1000, clamped.Length);
        Assert.All(clamped, e => Assert.True(e.X < 8 && e.Y < 8));

        TransformException e = Assert.Throws<TransformException>(() => TransformSpec.Parse("spatial-jitter:1:1:0:true").Start(SensorGeometry.Unknown));
        Assert.Contains("needs the sensor size", e.Message);
    }

    [Fact]
    public void Uniform_noise_adds_n_events_on_the_sensor_within_the_time_span_in_time_order()
    {
        var g = new SensorGeometry(16, 12);
        DvsEvent[] events = Enumerable.Range(0, 100).Select(i => new DvsEvent(1000 + (i * 10), (ushort)(i % 16), (ushort)(i % 12), i % 2 == 0)).ToArray();
        DvsEvent[] noisy = Ev.Run("uniform-noise:50", g, 3, events);
        Assert.Equal(150, noisy.Length);
        Assert.Equal(noisy.OrderBy(e => e.T), noisy);
        Assert.All(noisy, e => Assert.True(e.X < 16 && e.Y < 12 && e.T >= 1000 && e.T < 1990 + 1));

        // the sample's events are all there, in their order
        int next = 0;
        foreach (DvsEvent e in noisy)
        {
            next += next < events.Length && e == events[next] ? 1 : 0;
        }

        Assert.Equal(events.Length, next);
        Assert.Contains(noisy, e => e.On);
        Assert.Contains(noisy, e => !e.On && e.T % 10 != 0);
        Assert.Empty(Ev.Run("uniform-noise:50", g, 3));
        Assert.InRange(Ev.Run("uniform-noise:10..20", g, 4, events).Length, 110, 119);

        // an input out of time order comes out sorted, every event kept
        DvsEvent[] shuffled = [.. events.Reverse()];
        DvsEvent[] sorted = Ev.Run("uniform-noise:5", g, 3, shuffled);
        Assert.Equal(sorted.OrderBy(e => e.T), sorted);
        Assert.Empty(events.Except(sorted));
    }

    [Fact]
    public void Compose_applies_in_order_and_threads_the_geometry()
    {
        var line = new SensorGeometry(10, 1);
        DvsEvent[] events = [new(1, 0, 0, true), new(2, 2, 0, true)];
        Assert.Equal([new(1, 3, 0, true), new(2, 1, 0, true)], Ev.Run("crop:4x1,flip-lr", line, 0, events)); // flipped on the 4-wide crop
        Assert.Empty(Ev.Run("flip-lr,crop:4x1", line, 0, events)); // 9, 7 lie outside the box
        Assert.Equal(new SensorGeometry(4, 1), TransformSpec.Parse("crop:4x1,flip-lr").OutputGeometry(line));

        DvsEvent[] times = [new(4, 0, 0, true), new(6, 0, 0, true)];
        Assert.Equal([8L], Ev.Run("time-skew:2,crop-time:0:10", line, 0, times).Select(e => e.T));
        Assert.Equal([8L, 12L], Ev.Run("crop-time:0:10,time-skew:2", line, 0, times).Select(e => e.T));

        var c = new Compose(new Crop(4, 1), new Compose(new RandomFlipLR(1), Compose.None));
        Assert.Equal(2, c.Transforms.Count); // nested compositions are flattened
        Assert.Equal("crop:4x1,flip-lr", c.ToString());
        Assert.Equal(events, Ev.Run(Compose.None, line, 0, events));
    }

    [Fact]
    public void A_seed_fixes_every_draw_and_appending_keeps_the_earlier_draws()
    {
        DvsEvent[] events = Ev.Random(1, 2000, 32, 32, 20);
        var g = new SensorGeometry(32, 32);
        const string spec = "drop-event:0.2,time-jitter:50,spatial-jitter:1,uniform-noise:100,random-flip-lr,shift:4";
        Assert.Equal(Ev.Run(spec, g, 99, events), Ev.Run(spec, g, 99, events));
        Assert.NotEqual(Ev.Run(spec, g, 99, events), Ev.Run(spec, g, 100, events));
        Assert.Equal(
            Ev.Run("drop-event:0.5", g, 5, events).Select(e => e.T),
            Ev.Run("drop-event:0.5,merge-polarities", g, 5, events).Select(e => e.T));
    }

    [Fact]
    public void Unknown_sensor_sizes_are_refused_by_the_transforms_that_need_them()
    {
        foreach (string spec in new[] { "denoise", "flip-lr", "center-crop:4", "uniform-noise:3", "shift:2", "drop-pixel:1/1" })
        {
            TransformException e = Assert.Throws<TransformException>(() => TransformSpec.Parse(spec).Start(SensorGeometry.Unknown));
            Assert.Contains("needs the sensor size", e.Message);
        }

        // and those that do not need it work without
        Assert.Equal([new(10, 0, 0, true)], Ev.Run("crop:2x2,drop-event:0,time-skew:2,downsample:2", SensorGeometry.Unknown, 0, new DvsEvent(5, 1, 1, true), new DvsEvent(6, 3, 0, true)));
    }

    [Theory]
    [InlineData("denoise")]
    [InlineData("refractory-period:100")]
    [InlineData("time-jitter:300:false:true")]
    [InlineData("time-jitter:300:false")]
    [InlineData("spatial-jitter:2:2:1:true")]
    [InlineData("uniform-noise:200")]
    [InlineData("drop-event:0.3")]
    [InlineData("drop-pixel:hot_pixel_frequency=2000")]
    [InlineData("denoise:1000,flip-lr,crop:40x30:3:3,downsample:2,time-skew:1.1")]
    public void Processing_allocates_nothing_once_warm(string spec)
    {
        var g = new SensorGeometry(64, 48);
        DvsEvent[] events = Ev.Random(2, 4000, 64, 48, 5);
        using EventBatch input = Ev.Batch(events);
        IEventStage stage = TransformSpec.Parse(spec).Start(g, 1);
        using var output = new EventBatch(stage.MaxOutputCount(input.Count));
        void Run()
        {
            for (int k = 0; k < 50; k++)
            {
                stage.Reset((ulong)k);
                stage.Process(input, output);
            }
        }

        Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(output.Count > 0);
    }
}
