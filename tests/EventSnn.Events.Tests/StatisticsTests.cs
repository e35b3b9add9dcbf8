using EventSnn.Events;

namespace EventSnn.Events.Tests;

public class StatisticsTests
{
    [Fact]
    public void Statistics_accumulate_across_batches_in_stream_order()
    {
        var stats = new EventStatistics();
        using var b = new EventBatch(4);
        b.Add(50, 3, 4, true);
        b.Add(40, 10, 1, false);
        stats.Add(b);
        b.Clear();
        b.Add(60, 2, 20, true);
        b.Triggers.Add(new TriggerEvent(61, TriggerKind.ExternalRising));
        stats.Add(b);

        Assert.Equal(3, stats.Events);
        Assert.Equal(2, stats.On);
        Assert.Equal(50, stats.TFirst);
        Assert.Equal(60, stats.TLast);
        Assert.Equal(40, stats.TMin);
        Assert.Equal(60, stats.TMax);
        Assert.Equal(10, stats.XMax);
        Assert.Equal(20, stats.YMax);
        Assert.Equal(15, stats.SumX);
        Assert.Equal(25, stats.SumY);
        Assert.Equal(20, stats.DurationUs);
        Assert.Equal(1, stats.Triggers);
    }

    [Fact]
    public void Empty_statistics_report_zero_duration()
    {
        var stats = new EventStatistics();
        using var b = new EventBatch(1);
        stats.Add(b);
        Assert.Equal(0, stats.Events);
        Assert.Equal(0, stats.DurationUs);
        Assert.Equal(-1, stats.XMax);
    }

    [Fact]
    public void Spike_statistics_count_per_channel()
    {
        var stats = new SpikeStatistics(8);
        using var s = new SpikeBatch(4);
        s.Add(1, 3);
        s.Add(2, 3, ear: 1);
        s.Add(3, 7, on: false);
        stats.Add(s);
        Assert.Equal(3, stats.Events);
        Assert.Equal(2, stats.On);
        Assert.Equal(2, stats.PerChannel[3]);
        Assert.Equal(7, stats.ChannelMax);
        Assert.Equal(1, stats.EarMax);
        Assert.Equal(2, stats.DurationUs);
    }

    [Fact]
    public void Synthetic_generator_is_deterministic_in_bounds_and_monotonic()
    {
        var g = new SensorGeometry(346, 260);
        var a = new SyntheticEventGenerator(g, 10e6, seed: 7);
        var b = new SyntheticEventGenerator(g, 10e6, seed: 7);
        using var ba = new EventBatch(10_000);
        using var bb = new EventBatch(10_000);
        a.Fill(ba);
        b.Fill(bb);
        Assert.Equal(ba.ToArray(), bb.ToArray());
        long last = long.MinValue;
        int on = 0;
        for (int i = 0; i < ba.Count; i++)
        {
            DvsEvent e = ba[i];
            Assert.True(g.Contains(e.X, e.Y));
            Assert.True(e.T >= last);
            last = e.T;
            on += e.On ? 1 : 0;
        }

        // 10 M ev/s -> 10,000 events span about 1 ms; both polarities occur
        Assert.InRange(ba[ba.Count - 1].T, 990, 1000);
        Assert.InRange(on, 3000, 7000);
    }
}
