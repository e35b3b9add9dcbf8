using EventSnn.Events;

namespace EventSnn.Pipeline.Tests;

public class TimeStepTests
{
    private static readonly TimeStepLayout Layout = new(2, 3, 4);

    [Fact]
    public void Layout_indexes_channel_major_like_Tonic_frames()
    {
        using var step = new TimeStep(new TimeStepOptions { Layout = Layout });
        using EventBatch b = Ev.Batch(new DvsEvent(0, 3, 2, true), new DvsEvent(0, 1, 0, false), new DvsEvent(0, 9, 9, true));
        Assert.Equal(1, step.AddEvents(b, 0, 3)); // (9,9) is outside
        // ON (channel 1) at y=2, x=3 -> 12 + 2*4 + 3 = 23; OFF at y=0, x=1 -> 1
        Assert.Equal([23, 1], step.Active.ToArray());
        Assert.Equal(2, step.EventCount);
        Assert.Equal(24, step.Frame.Length);
        step.SortActive();
        Assert.Equal([1, 23], step.Active.ToArray());
    }

    [Fact]
    public void Copies_between_dense_and_sparse_steps_keep_the_spikes()
    {
        using var dense = new TimeStep(new TimeStepOptions { Layout = Layout });
        using EventBatch b = Ev.Batch(new DvsEvent(5, 0, 0, true), new DvsEvent(6, 0, 0, true), new DvsEvent(7, 2, 1, false));
        dense.Reset(4, 0, 10);
        dense.AddEvents(b, 0, 3);
        using var sparse = new TimeStep(new TimeStepOptions { Layout = Layout, Content = TimeStepContent.Sparse | TimeStepContent.Events });
        dense.CopyTo(sparse);
        Assert.Equal((4L, 0L, 10L, 3), (sparse.Index, sparse.StartUs, sparse.EndUs, sparse.EventCount));
        Assert.Equal(dense.Active.ToArray(), sparse.Active.ToArray());
        using var back = new TimeStep(new TimeStepOptions { Layout = Layout, Mode = FrameMode.Binary });
        sparse.CopyTo(back);
        Assert.Equal(1f, back.Frame[12]);
        Assert.Equal(2f, dense.Frame[12]);
        Assert.Throws<ArgumentException>(() => dense.CopyTo(new TimeStep(new TimeStepOptions { Layout = new TimeStepLayout(1, 3, 4) })));
    }

    [Fact]
    public void Raw_events_are_kept_when_asked_and_grow_past_the_initial_capacity()
    {
        using var step = new TimeStep(new TimeStepOptions { Layout = Layout, Content = TimeStepContent.Events });
        DvsEvent[] events = Ev.Random(1, 5000, 4, 3, 2);
        using EventBatch b = Ev.Batch(events);
        step.AddEvents(b, 0, 2500);
        step.AddEvents(b, 2500, 2500);
        Assert.Equal(events, step.Events!.ToArray());
        step.ClearValues();
        Assert.Equal(0, step.Events.Count);
        Assert.Equal(0, step.ActiveCount);
    }
}
