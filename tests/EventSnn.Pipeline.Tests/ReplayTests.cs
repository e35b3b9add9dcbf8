using System.Reactive.Concurrency;
using System.Reactive.Linq;
using EventSnn.Events;
using EventSnn.IO;
using Microsoft.Reactive.Testing;

namespace EventSnn.Pipeline.Tests;

public class ReplayTests
{
    private static readonly DvsEvent[] Five = Ev.AtTimes(0, 500, 1500, 2500, 2600);

    private static IList<Recorded<System.Reactive.Notification<long[]>>> Run(TestScheduler scheduler, ReplayOptions options, DvsEvent[]? events = null, int chunk = 1 << 16)
    {
        DvsEvent[] ev = events ?? Five;
        ITestableObserver<long[]> observer = scheduler.Start(
            () => EventReplay.Replay(() => new FakeDvsReader(ev, chunk), options, scheduler).Select(b => b.Timestamps.ToArray()),
            created: 100,
            subscribed: 200,
            disposed: long.MaxValue);
        return observer.Messages;
    }

    [Fact]
    public void Real_time_pacing_emits_each_slice_when_its_last_event_is_due()
    {
        var scheduler = new TestScheduler();
        var messages = Run(scheduler, new ReplayOptions { Pacing = ReplayPacing.RealTime, SliceUs = 1000 });

        // subscription at 200 ticks; the replay starts at 201; 1 us = 10 ticks
        Assert.Equal([201 + 5000L, 201 + 15000L, 201 + 26000L, 201 + 26000L], messages.Select(m => m.Time));
        Assert.Equal([0L, 500L], messages[0].Value.Value);
        Assert.Equal([1500L], messages[1].Value.Value);
        Assert.Equal([2500L, 2600L], messages[2].Value.Value);
        Assert.Equal(System.Reactive.NotificationKind.OnCompleted, messages[3].Value.Kind);
    }

    [Fact]
    public void Speed_factor_compresses_event_time()
    {
        var scheduler = new TestScheduler();
        var messages = Run(scheduler, new ReplayOptions { Pacing = ReplayPacing.Scaled, Speed = 2, SliceUs = 1000 });
        Assert.Equal([201 + 2500L, 201 + 7500L, 201 + 13000L, 201 + 13000L], messages.Select(m => m.Time));
    }

    [Fact]
    public void Slices_never_cross_reader_batches_and_keep_order()
    {
        var scheduler = new TestScheduler();
        DvsEvent[] events = Ev.AtTimes(0, 100, 200, 300, 400, 5000);
        var messages = Run(scheduler, new ReplayOptions { Pacing = ReplayPacing.RealTime, SliceUs = 10_000 }, events, chunk: 4);
        Assert.Equal([0L, 100L, 200L, 300L], messages[0].Value.Value);
        Assert.Equal([400L, 5000L], messages[1].Value.Value);
        Assert.Equal([201 + 3000L, 201 + 50000L], messages.Take(2).Select(m => m.Time));
    }

    [Fact]
    public void As_fast_as_possible_emits_everything_at_once_in_virtual_time()
    {
        var scheduler = new TestScheduler();
        var messages = Run(scheduler, ReplayOptions.Default, chunk: 2);
        Assert.Equal(4, messages.Count);
        Assert.All(messages, m => Assert.Equal(201L, m.Time));
        Assert.Equal(Five.Select(e => e.T), messages.Take(3).SelectMany(m => m.Value.Value));
    }

    [Fact]
    public void Looping_shifts_each_pass_after_the_previous_one()
    {
        var scheduler = new TestScheduler();
        var messages = Run(scheduler, new ReplayOptions { Loop = true, MaxPasses = 3 });
        long[] all = messages.Where(m => m.Value.HasValue).SelectMany(m => m.Value.Value).ToArray();
        long period = 2600 + 1;
        long[] expected = [.. Five.Select(e => e.T), .. Five.Select(e => e.T + period), .. Five.Select(e => e.T + (2 * period))];
        Assert.Equal(expected, all);
    }

    [Fact]
    public void Paced_looping_keeps_pacing_across_passes()
    {
        var scheduler = new TestScheduler();
        var messages = Run(scheduler, new ReplayOptions { Pacing = ReplayPacing.RealTime, Loop = true, MaxPasses = 2, SliceUs = 1000 });
        // pass 2 = the same slices 2601 us later
        Assert.Equal([201 + 5000L, 201 + 15000L, 201 + 26000L, 201 + 26010L + 5000, 201 + 26010L + 15000, 201 + 26010L + 26000], messages.Where(m => m.Value.HasValue).Select(m => m.Time));
    }

    [Fact]
    public void Dispose_stops_a_paced_replay_and_closes_the_reader()
    {
        var scheduler = new TestScheduler();
        FakeDvsReader? reader = null;
        var seen = new List<long>();
        IDisposable sub = EventReplay.Replay(() => reader = new FakeDvsReader(Five), new ReplayOptions { Pacing = ReplayPacing.RealTime }, scheduler)
            .Subscribe(b => seen.AddRange(b.Timestamps.ToArray()));
        scheduler.AdvanceTo(201 + 15000);
        Assert.Equal([0L, 500L, 1500L], seen);
        sub.Dispose();
        scheduler.AdvanceTo(201 + 15001);
        scheduler.Start();
        Assert.Equal(3, seen.Count);
        Assert.True(reader!.Disposed);
    }

    [Fact]
    public void Reader_failures_arrive_as_errors_naming_source_and_position()
    {
        var scheduler = new TestScheduler();
        Exception? error = null;
        EventReplay.Replay(() => new FakeDvsReader(Five, chunk: 2, failAt: 2, name: "broken.aedat4"), scheduler: scheduler)
            .Subscribe(_ => { }, ex => error = ex);
        scheduler.Start();
        var pe = Assert.IsType<PipelineException>(error);
        Assert.Equal("broken.aedat4", pe.SourceName);
        Assert.Equal(32, pe.Position);
        Assert.IsType<IOException>(pe.InnerException);

        // format errors already carry source and offset: passed through unchanged
        var format = new EventFormatException("bad.aedat4", 77, "packet length 2^31");
        EventReplay.Replay(() => new FakeDvsReader(Five, chunk: 2, failAt: 2, failure: format), scheduler: scheduler)
            .Subscribe(_ => { }, ex => error = ex);
        scheduler.Start();
        Assert.Same(format, error);
    }

    [Fact]
    public void Spike_replay_and_SHD_channel_binning()
    {
        AudioSpike[] spikes = [new(0, 5), new(1000, 5), new(4000, 699), new(8100, 3)];
        var steps = new List<StepSnapshot>();
        EventReplay.ReplaySpikes(() => new FakeSpikeReader(spikes, 700), scheduler: ImmediateScheduler.Instance)
            .BinShd()
            .Subscribe(s => steps.Add(StepSnapshot.Of(s)));
        Assert.Equal(2, steps.Count);
        Assert.Equal(700, steps[0].Frame.Length);
        Assert.Equal(2f, steps[0].Frame[5]);
        Assert.Equal([5], steps[0].Active);
        Assert.Equal((4000L, 8000L), (steps[1].StartUs, steps[1].EndUs));
        Assert.Equal([699], steps[1].Active);
    }

    [Fact]
    public void Paced_replay_completes_when_each_slice_fires_before_its_timer_is_recorded()
    {
        // Under CPU load a paced replay falls behind: the next slice's timer is due at once and its
        // action runs on another thread before Schedule has returned to the action that scheduled
        // it. EagerScheduler makes that happen on every other slice, deterministically. The replay
        // used to record the older timer last and dispose the newer one, which stopped the replay
        // without OnCompleted: `eventsnn classify --speed 10` then waited forever.
        DvsEvent[] events = Ev.AtTimes(0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000);
        var scheduler = new EagerScheduler();
        var seen = new List<long>();
        bool completed = false;
        using IDisposable sub = EventReplay.Replay(() => new FakeDvsReader(events), new ReplayOptions { Pacing = ReplayPacing.Scaled, Speed = 10, SliceUs = 1000 }, scheduler)
            .Subscribe(b => seen.AddRange(b.Timestamps.ToArray()), () => completed = true);
        scheduler.Drain();
        Assert.True(scheduler.RanInline > 0);
        Assert.Equal(events.Select(e => e.T), seen);
        Assert.True(completed, "the replay stopped without completing");
    }

    /// <summary>
    /// Runs every other scheduled action inline, before Schedule returns (a timer that fires at
    /// once on another thread while the scheduling thread is descheduled); queues the others.
    /// </summary>
    private sealed class EagerScheduler : IScheduler
    {
        private readonly Queue<Action> _queue = new();
        private int _scheduled;

        public DateTimeOffset Now => DateTimeOffset.UnixEpoch;

        public int RanInline { get; private set; }

        public IDisposable Schedule<TState>(TState state, Func<IScheduler, TState, IDisposable> action) => Schedule(state, TimeSpan.Zero, action);

        public IDisposable Schedule<TState>(TState state, DateTimeOffset dueTime, Func<IScheduler, TState, IDisposable> action) => Schedule(state, TimeSpan.Zero, action);

        public IDisposable Schedule<TState>(TState state, TimeSpan dueTime, Func<IScheduler, TState, IDisposable> action)
        {
            var item = new System.Reactive.Disposables.BooleanDisposable();
            if (++_scheduled % 2 == 0)
            {
                RanInline++;
                action(this, state);
                return item;
            }

            _queue.Enqueue(() =>
            {
                if (!item.IsDisposed)
                {
                    action(this, state);
                }
            });
            return item;
        }

        public void Drain()
        {
            while (_queue.TryDequeue(out Action? next))
            {
                next();
            }
        }
    }
}

public class FixtureReplayTests
{
    [Fact]
    public void Real_time_replay_of_a_recording_spans_its_duration_in_virtual_time_and_keeps_every_event()
    {
        const string fixture = "shiba24/sample.aedat4";
        var expected = EventSnn.Testing.Fixtures.Expected[fixture];
        long tFirst = expected.GetProperty("t_first").GetInt64(), tLast = expected.GetProperty("t_last").GetInt64();
        var scheduler = new Microsoft.Reactive.Testing.TestScheduler();
        var stats = new EventStatistics();
        long firstAt = -1, lastAt = -1;
        bool completed = false;
        EventReplay.ReplayFile(EventSnn.Testing.Fixtures.Path(fixture), options: new ReplayOptions { Pacing = ReplayPacing.RealTime, SliceUs = 1000 }, scheduler: scheduler)
            .Subscribe(
                b =>
                {
                    stats.Add(b);
                    firstAt = firstAt < 0 ? scheduler.Clock : firstAt;
                    lastAt = scheduler.Clock;
                    Assert.True(b.T[b.Count - 1] - b.T[0] < 1000);
                },
                () => completed = true);
        scheduler.Start();
        Assert.True(completed);
        Assert.Equal(expected.GetProperty("events").GetInt64(), stats.Events);
        Assert.Equal(expected.GetProperty("sum_x").GetInt64(), stats.SumX);
        // the last slice is due (t_last - t_first) us after the start: 10 ticks per us
        Assert.Equal((tLast - tFirst) * 10, lastAt - 1);
        Assert.True(firstAt <= 1 + (1000 * 10));
    }

    [Fact]
    public void Replaying_a_missing_file_fails_with_the_path()
    {
        Exception? error = null;
        EventReplay.ReplayFile("/nonexistent/recording.aedat4", scheduler: System.Reactive.Concurrency.ImmediateScheduler.Instance)
            .Subscribe(_ => { }, ex => error = ex);
        Assert.Contains("/nonexistent/recording.aedat4", error!.Message, StringComparison.Ordinal);
    }
}
