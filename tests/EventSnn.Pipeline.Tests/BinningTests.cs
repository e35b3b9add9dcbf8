using System.Reactive.Linq;
using EventSnn.Events;

namespace EventSnn.Pipeline.Tests;

public class BinningTests
{
    private static readonly TimeStepOptions Small = new() { Layout = new TimeStepLayout(2, 1, 8) };

    private static List<StepSnapshot> BinTime(DvsEvent[] events, TimeWindowOptions windows, TimeStepOptions? steps = null, int batchSeed = -1)
    {
        var result = new List<StepSnapshot>();
        using var binner = new TimeBinner(windows, steps ?? Small);
        void Emit(TimeStep s) => result.Add(StepSnapshot.Of(s));
        if (batchSeed < 0)
        {
            using EventBatch batch = Ev.Batch(events);
            binner.Push(batch, Emit);
        }
        else
        {
            Ev.InRandomBatches(events, batchSeed, b => binner.Push(b, Emit));
        }

        binner.Complete(Emit);
        return result;
    }

    [Fact]
    public void Time_windows_without_include_incomplete_drop_the_overhang_like_Tonic()
    {
        // t = 0..9, window 5: Tonic gives floor((9 - 0 - 5) / 5) + 1 = 1 slice, [0, 5)
        List<StepSnapshot> steps = BinTime(Ev.AtTimes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), new TimeWindowOptions { WindowUs = 5 });
        Assert.Single(steps);
        Assert.Equal((0L, 5L, 5), (steps[0].StartUs, steps[0].EndUs, steps[0].EventCount));
        Assert.True(steps[0].IsComplete);
    }

    [Fact]
    public void Time_windows_with_include_incomplete_add_the_trailing_window()
    {
        // ceil((9 - 5) / 5) + 1 = 2 slices: [0, 5) and [5, 10)
        List<StepSnapshot> steps = BinTime(Ev.AtTimes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), new TimeWindowOptions { WindowUs = 5, IncludeIncomplete = true });
        Assert.Equal(2, steps.Count);
        Assert.Equal((5L, 10L, 5, false), (steps[1].StartUs, steps[1].EndUs, steps[1].EventCount, steps[1].IsComplete));
    }

    [Fact]
    public void Event_exactly_at_the_last_window_end_is_excluded_as_in_Tonic()
    {
        // t = 0..10, window 5: both modes give [0,5) and [5,10); the event at 10 is in neither
        long[] times = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        foreach (bool include in new[] { false, true })
        {
            List<StepSnapshot> steps = BinTime(Ev.AtTimes(times), new TimeWindowOptions { WindowUs = 5, IncludeIncomplete = include });
            Assert.Equal([5, 5], steps.Select(s => s.EventCount));
        }
    }

    [Fact]
    public void Overlapping_windows_hand_computed()
    {
        // window 4, overlap 2 (stride 2), t = 0..9
        DvsEvent[] events = Ev.AtTimes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        List<StepSnapshot> complete = BinTime(events, new TimeWindowOptions { WindowUs = 4, StrideUs = 2 });
        Assert.Equal([0L, 2L, 4L], complete.Select(s => s.StartUs));
        Assert.All(complete, s => Assert.Equal(4, s.EventCount));

        List<StepSnapshot> all = BinTime(events, new TimeWindowOptions { WindowUs = 4, StrideUs = 2, IncludeIncomplete = true });
        Assert.Equal([0L, 2L, 4L, 6L], all.Select(s => s.StartUs));
        Assert.Equal(4, all[3].EventCount); // 6, 7, 8, 9
        Assert.False(all[3].IsComplete);
    }

    [Fact]
    public void Stream_shorter_than_a_window_still_gives_one_window()
    {
        List<StepSnapshot> steps = BinTime(Ev.AtTimes(0, 1, 2), new TimeWindowOptions { WindowUs = 5 });
        Assert.Single(steps);
        Assert.Equal(3, steps[0].EventCount);
    }

    [Fact]
    public void Gaps_emit_empty_windows_in_order()
    {
        List<StepSnapshot> steps = BinTime(Ev.AtTimes(0, 1, 12), new TimeWindowOptions { WindowUs = 5 });
        Assert.Equal([0L, 5L], steps.Select(s => s.StartUs));
        Assert.Equal([2, 0], steps.Select(s => s.EventCount));
        Assert.Equal([0L, 1L], steps.Select(s => s.Index));
    }

    [Fact]
    public void Gap_guard_skips_absurd_timestamp_jumps_and_counts_them()
    {
        using var binner = new TimeBinner(new TimeWindowOptions { WindowUs = 1000, MaxEmptyWindowsPerGap = 10 }, Small);
        var starts = new List<long>();
        using EventBatch batch = Ev.Batch(Ev.AtTimes(0, 5, 1L << 40));
        binner.Push(batch, s => starts.Add(s.StartUs));
        Assert.Equal([0L], starts);
        Assert.Equal((1L << 40) / 1000 - 1, binner.SkippedWindows);
    }

    [Fact]
    public void Explicit_start_time_emits_leading_empty_windows_and_drops_earlier_events()
    {
        List<StepSnapshot> steps = BinTime(Ev.AtTimes(-3, 12, 13, 25), new TimeWindowOptions { WindowUs = 10, StartUs = 0 });
        Assert.Equal([0L, 10L], steps.Select(s => s.StartUs));
        Assert.Equal([0, 2], steps.Select(s => s.EventCount));
    }

    [Fact]
    public void Frames_count_events_per_polarity_channel_and_list_active_inputs_once()
    {
        DvsEvent[] events =
        [
            new(0, 1, 0, true), new(1, 1, 0, true), new(2, 1, 0, false), new(3, 7, 0, true), new(9, 0, 0, true),
        ];
        List<StepSnapshot> steps = BinTime(events, new TimeWindowOptions { WindowUs = 5 }, new TimeStepOptions { Layout = new TimeStepLayout(2, 1, 8) });
        StepSnapshot s = Assert.Single(steps);
        // channel 0 (OFF) at x=1 -> index 1; channel 1 (ON) at x=1 -> 8 + 1 = 9, x=7 -> 15
        Assert.Equal(1f, s.Frame[1]);
        Assert.Equal(2f, s.Frame[9]);
        Assert.Equal(1f, s.Frame[15]);
        Assert.Equal(4f, s.Frame.Sum());
        Assert.Equal([9, 1, 15], s.Active);
    }

    [Fact]
    public void Binary_merged_frames_and_sparse_only_steps()
    {
        DvsEvent[] events = [new(0, 2, 0, true), new(1, 2, 0, false), new(2, 3, 0, true)];
        List<StepSnapshot> binary = BinTime(events, new TimeWindowOptions { WindowUs = 5 }, new TimeStepOptions { Layout = new TimeStepLayout(1, 1, 8), Mode = FrameMode.Binary });
        Assert.Equal([0f, 0f, 1f, 1f, 0f, 0f, 0f, 0f], binary[0].Frame);

        List<StepSnapshot> sparse = BinTime(events, new TimeWindowOptions { WindowUs = 5 }, new TimeStepOptions { Layout = new TimeStepLayout(1, 1, 8), Content = TimeStepContent.Sparse });
        Assert.Empty(sparse[0].Frame);
        Assert.Equal([2, 3], sparse[0].Active);
        Assert.Equal(3, sparse[0].EventCount);
    }

    [Fact]
    public void Reused_steps_are_cleared_between_windows()
    {
        DvsEvent[] events = [new(0, 1, 0, true), new(6, 2, 0, true), new(11, 3, 0, true), new(16, 3, 0, true)];
        List<StepSnapshot> steps = BinTime(events, new TimeWindowOptions { WindowUs = 5 });
        Assert.Equal(3, steps.Count);
        Assert.Equal([9], steps[0].Active);
        Assert.Equal([10], steps[1].Active);
        Assert.Equal([11], steps[2].Active);
        Assert.All(steps, s => Assert.Equal(1f, s.Frame.Sum()));
    }

    [Theory]
    [InlineData(1, 50, 0, false)]
    [InlineData(2, 50, 0, true)]
    [InlineData(3, 40, 10, false)]
    [InlineData(4, 40, 10, true)]
    [InlineData(5, 30, 29, true)]
    [InlineData(6, 7, 3, false)]
    [InlineData(7, 1000, 0, true)]
    public void Streaming_time_windows_match_Tonic_slice_by_time_for_any_batching(int seed, long window, long overlap, bool include)
    {
        DvsEvent[] events = Ev.Random(seed, 500, 8, 1, 5);
        long[] t = events.Select(e => e.T).ToArray();
        List<(int Start, int End)> reference = EventSnn.Testing.TonicTranscription.SliceByTime(t, window, overlap, include);
        List<StepSnapshot> steps = BinTime(events, new TimeWindowOptions { WindowUs = window, StrideUs = window - overlap, IncludeIncomplete = include }, batchSeed: seed);
        Assert.Equal(reference.Count, steps.Count);
        for (int k = 0; k < steps.Count; k++)
        {
            Assert.Equal(reference[k].End - reference[k].Start, steps[k].EventCount);
            Assert.Equal(t[0] + (k * (window - overlap)), steps[k].StartUs);
        }
    }

    private static List<StepSnapshot> BinCount(int n, CountWindowOptions windows, int batchSeed = 1)
    {
        DvsEvent[] events = Ev.AtTimes(Enumerable.Range(0, n).Select(i => (long)i * 10).ToArray());
        var result = new List<StepSnapshot>();
        using var binner = new CountBinner(windows, Small);
        Ev.InRandomBatches(events, batchSeed, b => binner.Push(b, s => result.Add(StepSnapshot.Of(s))));
        binner.Complete(s => result.Add(StepSnapshot.Of(s)));
        return result;
    }

    [Fact]
    public void Count_windows_hand_computed()
    {
        // N = 10, count 4: [0,4) [4,8); include adds [8,10)
        Assert.Equal([4, 4], BinCount(10, new CountWindowOptions { EventCount = 4 }).Select(s => s.EventCount));
        List<StepSnapshot> inc = BinCount(10, new CountWindowOptions { EventCount = 4, IncludeIncomplete = true });
        Assert.Equal([4, 4, 2], inc.Select(s => s.EventCount));
        Assert.Equal((80L, 91L, false), (inc[2].StartUs, inc[2].EndUs, inc[2].IsComplete));

        // overlap 2: starts 0, 2, 4, 6
        Assert.Equal(4, BinCount(10, new CountWindowOptions { EventCount = 4, Overlap = 2 }).Count);
        Assert.Equal([4, 4, 4, 4, 3], BinCount(11, new CountWindowOptions { EventCount = 4, Overlap = 2, IncludeIncomplete = true }).Select(s => s.EventCount));

        // fewer events than the count: one window of all of them
        Assert.Equal([3], BinCount(3, new CountWindowOptions { EventCount = 4 }).Select(s => s.EventCount));
    }

    [Theory]
    [InlineData(17, 5, 0, false)]
    [InlineData(17, 5, 0, true)]
    [InlineData(100, 9, 4, true)]
    [InlineData(100, 9, 8, false)]
    [InlineData(33, 40, 0, false)]
    public void Count_windows_match_Tonic_slice_by_event_count(int n, int count, int overlap, bool include)
    {
        List<(int Start, int End)> reference = EventSnn.Testing.TonicTranscription.SliceByEventCount(n, count, overlap, include);
        List<StepSnapshot> steps = BinCount(n, new CountWindowOptions { EventCount = count, Overlap = overlap, IncludeIncomplete = include }, batchSeed: n);
        Assert.Equal(reference.Select(r => r.End - r.Start), steps.Select(s => s.EventCount));
        Assert.Equal(reference.Select(r => r.Start * 10L), steps.Select(s => s.StartUs));
    }

    [Fact]
    public void Segment_time_bins_follow_Tonic_integer_division()
    {
        // t = 0..10, 3 bins: window = 10 // 3 = 3 -> [0,3) [3,6) [6,9); 9 and 10 fall out (Tonic)
        using EventBatch batch = Ev.Batch(Ev.AtTimes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
        using var scratch = new TimeStep(Small);
        var got = new List<(long, long, int)>();
        new SegmentBinning { BinCount = 3 }.Bin(batch, scratch, s => got.Add((s.StartUs, s.EndUs, s.EventCount)));
        Assert.Equal([(0L, 3L, 3), (3L, 6L, 3), (6L, 9L, 3)], got);

        got.Clear();
        new SegmentBinning { BinCount = 3, Kind = SegmentBinKind.EventBins }.Bin(batch, scratch, s => got.Add((s.StartUs, s.EndUs, s.EventCount)));
        Assert.Equal([(0L, 3L, 3), (3L, 6L, 3), (6L, 9L, 3)], got); // 11 // 3 = 3 events per bin
    }

    [Fact]
    public void Rx_operators_bin_a_replayed_stream()
    {
        DvsEvent[] events = Ev.Random(11, 2000, 8, 1, 3);
        var counts = new List<int>();
        EventReplay.Replay(() => new FakeDvsReader(events, chunk: 97), scheduler: System.Reactive.Concurrency.ImmediateScheduler.Instance)
            .BinByTime(new TimeWindowOptions { WindowUs = 100 }, Small)
            .Subscribe(s => counts.Add(s.EventCount));
        long[] t = events.Select(e => e.T).ToArray();
        Assert.Equal(EventSnn.Testing.TonicTranscription.SliceByTime(t, 100, 0, false).Select(r => r.End - r.Start), counts);

        int segments = 0;
        EventReplay.Replay(() => new FakeDvsReader(events, chunk: 97), scheduler: System.Reactive.Concurrency.ImmediateScheduler.Instance)
            .BinSegment(new SegmentBinning { BinCount = 5 }, Small)
            .Subscribe(_ => segments++);
        Assert.Equal(5, segments);
    }
}
