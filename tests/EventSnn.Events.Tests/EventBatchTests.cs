using EventSnn.Events;

namespace EventSnn.Events.Tests;

public class EventBatchTests
{
    [Fact]
    public void Add_and_index_round_trip()
    {
        using var b = new EventBatch(4);
        b.Add(10, 1, 2, true);
        b.Add(new DvsEvent(11, 3, 4, false));
        Assert.Equal(2, b.Count);
        Assert.Equal(new DvsEvent(10, 1, 2, true), b[0]);
        Assert.Equal(new DvsEvent(11, 3, 4, false), b[1]);
        Assert.Equal(2, b.Remaining);
        Assert.Throws<ArgumentOutOfRangeException>(() => b[2]);
    }

    [Fact]
    public void Full_batch_refuses_more_events()
    {
        using var b = new EventBatch(1);
        b.Add(1, 0, 0, true);
        Assert.True(b.IsFull);
        Assert.Throws<InvalidOperationException>(() => b.Add(2, 0, 0, true));
    }

    [Fact]
    public void Append_copies_a_range()
    {
        using var a = new EventBatch(8);
        for (int i = 0; i < 5; i++)
        {
            a.Add(i, i, i * 2, i % 2 == 0);
        }

        using var b = new EventBatch(8);
        b.Add(100, 9, 9, false);
        b.Append(a, 1, 3);
        Assert.Equal([new DvsEvent(100, 9, 9, false), new DvsEvent(1, 1, 2, false), new DvsEvent(2, 2, 4, true), new DvsEvent(3, 3, 6, false)], b.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Append(a, 4, 2));
    }

    [Fact]
    public void Clear_forgets_events_and_triggers()
    {
        using var b = new EventBatch(4);
        b.Add(1, 0, 0, true);
        b.Triggers.Add(new TriggerEvent(5, TriggerKind.ExternalRising));
        b.Clear();
        Assert.Equal(0, b.Count);
        Assert.Equal(0, b.Triggers.Count);
    }

    [Fact]
    public void Trigger_buffer_is_bounded_and_counts_drops()
    {
        var t = new TriggerBuffer(2);
        t.Add(new TriggerEvent(1, TriggerKind.External));
        t.Add(new TriggerEvent(2, TriggerKind.External));
        t.Add(new TriggerEvent(3, TriggerKind.External));
        Assert.Equal(2, t.Count);
        Assert.Equal(1, t.Dropped);
        Assert.Equal(2, t[1].T);
    }

    [Fact]
    public void SetCount_is_bounded_by_capacity()
    {
        using var b = new EventBatch(3);
        b.T[0] = 7;
        b.SetCount(1);
        Assert.Equal(7, b[0].T);
        Assert.Throws<ArgumentOutOfRangeException>(() => b.SetCount(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.SetCount(-1));
    }

    [Fact]
    public void Spike_batch_round_trips()
    {
        using var s = new SpikeBatch(2);
        s.Add(5, 699, ear: 1, neuron: 2, on: false);
        Assert.Equal(new AudioSpike(5, 699, 1, 2, false), s[0]);
        Assert.Single(s.ToArray());
    }
}
