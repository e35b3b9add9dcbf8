using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Pipeline.Tests;

public class FilterTests
{
    private static DvsEvent[] Run(IEventStage stage, params DvsEvent[] events)
    {
        using EventBatch input = Ev.Batch(events);
        using var output = new EventBatch(Math.Max(1, events.Length));
        stage.Process(input, output);
        return output.ToArray();
    }

    [Fact]
    public void Denoise_keeps_events_with_a_recent_direct_neighbour_hand_computed()
    {
        var stage = new DenoiseStage(new SensorGeometry(5, 5), filterTimeUs: 100);
        DvsEvent[] kept = Run(
            stage,
            new(1000, 2, 2, true),  // no neighbour yet: dropped
            new(1050, 3, 2, true),  // (2,2) memory 1100 > 1050: kept
            new(1200, 2, 2, false), // (3,2) memory 1150 < 1200, own pixel does not count: dropped
            new(1250, 2, 3, true),  // (2,2) memory 1300 > 1250: kept
            new(1400, 3, 3, true),  // (2,3) memory 1350 < 1400; diagonal (2,2) is not a neighbour: dropped
            new(1420, 4, 4, true)); // (3,3)? not adjacent... (4,3) and (3,4) never fired: dropped
        Assert.Equal([1050L, 1250L], kept.Select(e => e.T));
        Assert.Equal(4, stage.Dropped);
    }

    [Fact]
    public void Denoise_memory_starts_at_the_filter_time_like_Tonic()
    {
        // Tonic initialises the memory to filter_time, so isolated events before it pass
        var stage = new DenoiseStage(new SensorGeometry(5, 5), filterTimeUs: 100);
        Assert.Equal([10L], Run(stage, new DvsEvent(10, 2, 2, true), new DvsEvent(150, 0, 4, true)).Select(e => e.T));
    }

    [Fact]
    public void Denoise_matches_a_direct_transcription_of_Tonic_on_random_events()
    {
        var geometry = new SensorGeometry(6, 4);
        DvsEvent[] events = Ev.Random(3, 3000, 6, 4, 40);
        var stage = new DenoiseStage(geometry, 200);
        var kept = new List<DvsEvent>();
        Ev.InRandomBatches(events, 9, b =>
        {
            using var o = new EventBatch(b.Capacity);
            stage.Process(b, o);
            kept.AddRange(o.ToArray());
        });

        // Tonic's loop with the sensor size as width/height
        long[,] mem = new long[6, 4];
        for (int x = 0; x < 6; x++)
        {
            for (int y = 0; y < 4; y++)
            {
                mem[x, y] = 200;
            }
        }

        var expected = new List<DvsEvent>();
        foreach (DvsEvent e in events)
        {
            int x = e.X, y = e.Y;
            mem[x, y] = e.T + 200;
            if ((x > 0 && mem[x - 1, y] > e.T) || (x < 5 && mem[x + 1, y] > e.T) || (y > 0 && mem[x, y - 1] > e.T) || (y < 3 && mem[x, y + 1] > e.T))
            {
                expected.Add(e);
            }
        }

        Assert.Equal(expected, kept);
        Assert.InRange(kept.Count, 1, events.Length - 1);
    }

    [Fact]
    public void Denoise_stays_exact_across_hours_of_event_time_and_epoch_timestamps()
    {
        var stage = new DenoiseStage(new SensorGeometry(5, 5), filterTimeUs: 100);
        long epoch = 1_700_000_000_000_000; // Unix time in us, as DV writes it
        long hour = 3_600_000_000;
        DvsEvent[] kept = Run(
            stage,
            new(epoch, 2, 2, true),               // nothing before: dropped (the initial memory is long past)
            new(epoch + 50, 3, 2, true),          // neighbour 50 us ago: kept
            new(epoch + (2 * hour), 2, 2, true),  // two hours later (memory base moves): dropped
            new(epoch + (2 * hour) + 99, 2, 3, true),  // kept
            new(epoch + (5 * hour), 3, 3, true),  // dropped
            new(epoch + (5 * hour) + 100, 3, 4, true)); // exactly filter time: memory t+100 is not > t+100: dropped
        Assert.Equal([epoch + 50, epoch + (2 * hour) + 99], kept.Select(e => e.T));
    }

    [Fact]
    public void Refractory_period_hand_computed_including_Tonics_initial_memory()
    {
        var stage = new RefractoryPeriodStage(new SensorGeometry(4, 4), 100);
        DvsEvent[] kept = Run(
            stage,
            new(0, 1, 1, true),   // 0 - (-100) = 100, not > 100: dropped (Tonic)
            new(5, 2, 2, true),   // 105 > 100: kept
            new(150, 1, 1, true), // 150 - 0 = 150: kept
            new(200, 1, 1, true), // 50: dropped, memory still updated
            new(301, 1, 1, true), // 101: kept
            new(350, 1, 1, false)); // 49: dropped
        Assert.Equal([5L, 150L, 301L], kept.Select(e => e.T));
        Assert.Equal(3, stage.Dropped);
    }

    [Fact]
    public void Hot_pixels_identified_by_rate_and_masked()
    {
        var geometry = new SensorGeometry(4, 4);
        var events = new List<DvsEvent>();
        for (int i = 0; i <= 100; i++)
        {
            events.Add(new DvsEvent(i * 10_000, 3, 3, true)); // 101 events in 1 s: 101 Hz
        }

        events.Add(new DvsEvent(500_000, 1, 1, true));
        events = [.. events.OrderBy(e => e.T)];
        using EventBatch batch = Ev.Batch([.. events]);
        List<(int X, int Y)> hot = HotPixelMaskStage.Identify(batch, geometry, frequencyHz: 100);
        Assert.Equal([(3, 3)], hot);

        var mask = new HotPixelMaskStage(geometry, hot);
        Assert.Equal([500_000L], Run(mask, [.. events]).Select(e => e.T));

        // learned online over the first 0.5 s: 50 events (0..490 ms) > 60 Hz x 0.5 s = 30
        var learned = new HotPixelMaskStage(geometry, 60, 500_000);
        DvsEvent[] passed = Run(learned, [.. events]);
        Assert.True(learned.IsMasked(3, 3));
        Assert.False(learned.IsMasked(1, 1));
        Assert.Equal(50, passed.Count(e => e.X == 3)); // the calibration events pass, later ones are masked
        Assert.Contains(passed, e => e.X == 1);
    }

    [Fact]
    public void Crop_center_crop_and_flips()
    {
        var crop = new CropStage(1, 1, 2, 2);
        DvsEvent[] kept = Run(crop, new(0, 0, 0, true), new(1, 1, 1, true), new(2, 2, 2, false), new(3, 3, 1, true));
        Assert.Equal([new DvsEvent(1, 0, 0, true), new DvsEvent(2, 1, 1, false)], kept);
        Assert.Equal(new SensorGeometry(2, 2), crop.OutputGeometry(SensorGeometry.Dvs128));

        CropStage center = CropStage.Center(new SensorGeometry(346, 260), 256, 256);
        Assert.Equal((45, 2), (center.X0, center.Y0));

        var flip = new FlipStage(new SensorGeometry(10, 4), leftRight: true, upDown: true);
        Assert.Equal([new DvsEvent(7, 9, 3, true), new DvsEvent(8, 0, 0, false)], Run(flip, new(7, 0, 0, true), new(8, 9, 3, false), new(9, 10, 0, true)));
    }

    [Fact]
    public void Downsample_pools_integer_blocks_and_follows_Tonic_float_factors()
    {
        var pool = new DownsampleStage(4);
        Assert.Equal([new DvsEvent(0, 0, 0, true), new DvsEvent(1, 1, 2, false)], Run(pool, new(0, 3, 3, true), new(1, 7, 8, false)));
        Assert.Equal(new SensorGeometry(87, 65), pool.OutputGeometry(SensorGeometry.Davis346));

        var tonic = new DownsampleStage(spatialFactor: 0.25, timeFactor: 0.001);
        Assert.Equal([new DvsEvent(1, 0, 2, true)], Run(tonic, new DvsEvent(1999, 3, 9, true)));
    }

    [Fact]
    public void Polarity_merge_flip_and_select()
    {
        DvsEvent[] events = [new(0, 1, 1, true), new(1, 2, 2, false)];
        Assert.All(Run(new PolarityStage(PolarityOperation.Merge), events), e => Assert.False(e.On));
        Assert.Equal([false, true], Run(new PolarityStage(PolarityOperation.Flip), events).Select(e => e.On));
        Assert.Equal([0L], Run(new PolarityStage(PolarityOperation.OnlyOn), events).Select(e => e.T));
        Assert.Equal([1L], Run(new PolarityStage(PolarityOperation.OnlyOff), events).Select(e => e.T));
    }

    [Fact]
    public void Stages_drop_events_outside_the_sensor_instead_of_failing()
    {
        var stage = new DenoiseStage(new SensorGeometry(4, 4), 100);
        Assert.Empty(Run(stage, new DvsEvent(0, 400, 2, true), new DvsEvent(1, 2, 65000, true)));
        Assert.Equal(2, stage.OutOfBounds);
    }
}
