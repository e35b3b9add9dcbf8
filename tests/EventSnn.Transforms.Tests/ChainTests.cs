using EventSnn.Events;

namespace EventSnn.Transforms.Tests;

/// <summary>The chain against hand-computed steps on small event arrays: every binning, value, pooling and polarity mode, truncation and padding.</summary>
public class ChainTests
{
    private static readonly Preprocessing Audio8 = new()
    {
        Input = InputKind.Audio,
        Channels = 8,
        Polarity = PolarityMode.Merge,
        Binning = BinningKind.Time,
        BinUs = 10,
        Value = ValueKind.Count,
    };

    [Fact]
    public void Time_bins_of_the_SHD_reference_binary_with_truncation_and_padding()
    {
        long[] t = [0, 10, 3999, 4000, 999_999, 1_000_000, 20];
        ushort[] u = [1, 1, 5, 2, 3, 4, 700];
        (List<StepRecord> steps, Preprocessor chain) = Steps.Spikes(PreprocessingPresets.ShdReference, t, u, start: 0);
        Assert.Equal(250, steps.Count);
        Assert.Equal([1, 5], steps[0].Active);
        Assert.Equal([1f, 1f], steps[0].Values);
        Assert.Equal([2], steps[1].Active);
        Assert.Equal([3], steps[249].Active);
        Assert.Equal(4, steps.Sum(s => s.Active.Length));
        Assert.Equal(1, chain.Truncated); // the spike at exactly 1 s falls after the last bin
        Assert.Equal(1, chain.Dropped); // channel 700 of 700
        Assert.Equal(5, chain.Events);
        Assert.Equal(Enumerable.Range(0, 250), steps.Select(s => s.Index));
        Assert.Equal([249], steps.Select((s, i) => (s, i)).Where(x => x.s.EndsSample).Select(x => x.i));
        Assert.Equal((996_000L, 1_000_000L), (steps[249].StartUs, steps[249].EndUs));

        Assert.Equal([2f, 1f], Steps.Spikes(PreprocessingPresets.ShdReference with { Value = ValueKind.Count }, t, u, 0).Steps[0].Values);
        Assert.Equal([MathF.Log(3), MathF.Log(2)], Steps.Spikes(PreprocessingPresets.ShdReference with { Value = ValueKind.LogCount }, t, u, 0).Steps[0].Values);
        Assert.Equal([2f, 1f], Steps.Spikes(PreprocessingPresets.ShdReference with { Value = ValueKind.Mean }, t, u, 0).Steps[0].Values); // pool 1
    }

    [Fact]
    public void Time_bins_count_late_events_into_the_open_bin_and_end_at_the_last_event()
    {
        (List<StepRecord> steps, Preprocessor chain) = Steps.Spikes(Audio8, [5, 25, 12, 31], [0, 1, 2, 3], start: 0);
        Assert.Equal(4, steps.Count);
        Assert.Equal([0], steps[0].Active);
        Assert.Empty(steps[1].Active);
        Assert.Equal([1, 2], steps[2].Active); // 12 arrived after 25: counted into bin 2
        Assert.Equal([3], steps[3].Active);
        Assert.Equal(1, chain.Late);
        Assert.Equal([(0L, 10L), (10, 20), (20, 30), (30, 40)], steps.Select(s => (s.StartUs, s.EndUs)));
        Assert.Equal([false, false, false, true], steps.Select(s => s.EndsSample));
        Assert.Equal([1, 0, 2, 1], steps.Select(s => s.Events));
    }

    [Fact]
    public void Time_bins_of_a_sample_with_a_known_end_cover_it_and_drop_later_events()
    {
        (List<StepRecord> steps, Preprocessor chain) = Steps.Spikes(Audio8, [100, 101, 140], [0, 0, 1], start: 100, end: 135);
        Assert.Equal(4, steps.Count); // ceil(35 / 10)
        Assert.Equal([0], steps[0].Active);
        Assert.Equal([2f], steps[0].Values);
        Assert.All(steps.Skip(1), s => Assert.Empty(s.Active));
        Assert.Equal((130L, 140L), (steps[3].StartUs, steps[3].EndUs));
        Assert.True(steps[3].EndsSample);
        Assert.Equal(1, chain.OutsideSample);
    }

    [Fact]
    public void Time_bins_start_at_the_first_event_when_no_start_is_given()
    {
        (List<StepRecord> steps, _) = Steps.Spikes(Audio8, [1003, 1015], [4, 5]);
        Assert.Equal([(1003L, 1013L), (1013, 1023)], steps.Select(s => (s.StartUs, s.EndUs)));
        Assert.Equal([4], steps[0].Active);
        Assert.Equal([5], steps[1].Active);
    }

    [Fact]
    public void Count_bins_close_every_k_events_keep_the_partial_last_truncate_and_pad()
    {
        Preprocessing p = Audio8 with { Binning = BinningKind.Count, BinEvents = 3 };
        long[] t = [0, 1, 2, 3, 4, 5, 6];
        ushort[] ch = [0, 1, 0, 2, 2, 2, 7];
        (List<StepRecord> steps, _) = Steps.Spikes(p, t, ch);
        Assert.Equal(3, steps.Count);
        Assert.Equal([[0, 1], [2], [7]], steps.Select(s => s.Active));
        Assert.Equal([[2f, 1f], [3f], [1f]], steps.Select(s => s.Values));
        Assert.Equal([(0L, 3L), (3, 6), (6, 7)], steps.Select(s => (s.StartUs, s.EndUs)));
        Assert.Equal([false, false, true], steps.Select(s => s.EndsSample));

        (List<StepRecord> cut, Preprocessor chain) = Steps.Spikes(p with { MaxSteps = 2 }, t, ch);
        Assert.Equal(2, cut.Count);
        Assert.True(cut[1].EndsSample);
        Assert.Equal(1, chain.Truncated);

        (List<StepRecord> padded, _) = Steps.Spikes(p with { MaxSteps = 4, Pad = true }, t, ch);
        Assert.Equal(4, padded.Count);
        Assert.Empty(padded[3].Active);
        Assert.Equal([false, false, false, true], padded.Select(s => s.EndsSample));
    }

    [Fact]
    public void Equal_count_frames_split_events_evenly_and_average_the_pooled_pixels()
    {
        // the DVS128 Gesture reference frames on an 8 x 8 sensor pooled 4 x 4: 2 x 2 x 2 features
        Preprocessing p = PreprocessingPresets.DvsGesture.ForSensor(8, 8) with { Pooling = 4, Frames = 2 };
        DvsEvent[] ev =
        [
            new(0, 0, 0, true), new(1, 3, 3, true), new(2, 4, 0, false), new(3, 7, 7, true),
            new(100, 0, 4, false), new(200, 5, 5, true), new(300, 1, 1, true), new(400, 6, 2, false),
        ];
        (List<StepRecord> steps, _) = Steps.Dvs(p, ev, start: 0, end: 1000);
        Assert.Equal(2, steps.Count);
        Assert.Equal(8, p.Features);

        // frame 0: OFF (1,0) -> 1; ON (0,0) twice -> 4 + 0; ON (1,1) -> 4 + 3
        Assert.Equal([1, 4, 7], steps[0].Active);
        Assert.Equal([1f / 16, 2f / 16, 1f / 16], steps[0].Values);

        // frame 1: OFF (0,1) -> 2; ON (1,1) -> 7; ON (0,0) -> 4; OFF (1,0) -> 1
        Assert.Equal([1, 2, 4, 7], steps[1].Active);
        Assert.Equal(0.5f, Steps.Dense(steps, 8).Sum(), 5);
        Assert.Equal([(0L, 4L), (100, 401)], steps.Select(s => (s.StartUs, s.EndUs)));
        Assert.Equal([false, true], steps.Select(s => s.EndsSample));

        // 5 events into 3 frames: floor(i * 3 / 5) = 0, 0, 1, 1, 2
        (List<StepRecord> three, _) = Steps.Spikes(Audio8 with { Binning = BinningKind.EqualCountFrames, Frames = 3 }, [0, 1, 2, 3, 4], [0, 0, 0, 0, 0]);
        Assert.Equal([2, 2, 1], three.Select(s => s.Events));
    }

    [Fact]
    public void Equal_time_frames_over_a_known_span_or_the_events_span()
    {
        Preprocessing p = Audio8 with { Binning = BinningKind.EqualTimeFrames, Frames = 4 };
        int[][] expected = [[0, 1], [2], [], [3]];

        (List<StepRecord> known, _) = Steps.Spikes(p, [0, 24, 25, 99], [0, 1, 2, 3], start: 0, end: 100);
        Assert.Equal(expected, known.Select(s => s.Active));
        Assert.Equal([(0L, 25L), (25, 50), (50, 75), (75, 100)], known.Select(s => (s.StartUs, s.EndUs)));

        (List<StepRecord> endUnknown, _) = Steps.Spikes(p, [0, 24, 25, 99], [0, 1, 2, 3], start: 0);
        Assert.Equal(known, endUnknown, StepComparer.Instance);

        // span [10, 51): frame = floor((t - 10) * 4 / 41)
        (List<StepRecord> both, _) = Steps.Spikes(p, [10, 20, 30, 50], [0, 1, 2, 3]);
        Assert.Equal(expected, both.Select(s => s.Active));
        Assert.Equal([(10L, 21L), (21, 31), (31, 41), (41, 51)], both.Select(s => (s.StartUs, s.EndUs)));
        Assert.Equal([false, false, false, true], both.Select(s => s.EndsSample));
    }

    [Theory]
    [InlineData(ValueKind.Binary, 1f)]
    [InlineData(ValueKind.Count, 3f)]
    [InlineData(ValueKind.LogCount, 1.3862944f)]
    [InlineData(ValueKind.Mean, 0.75f)]
    public void Values_of_three_events_on_one_pooled_cell(ValueKind value, float expected)
    {
        Preprocessing p = PreprocessingPresets.DvsGesture.ForSensor(4, 4) with { Pooling = 2, Frames = 1, Value = value };
        (List<StepRecord> steps, _) = Steps.Dvs(p, [new(0, 0, 0, true), new(1, 1, 0, true), new(2, 1, 1, true)]);
        Assert.Single(steps);
        Assert.Equal([4], steps[0].Active); // ON plane (4 cells) + cell 0
        Assert.Equal(expected, steps[0].Values[0], 6);
    }

    [Fact]
    public void Pooling_maps_pixels_and_channels_to_cells_and_drops_what_is_outside()
    {
        Preprocessing dvs = PreprocessingPresets.DvsGesture.ForSensor(8, 8) with { Pooling = 4, Polarity = PolarityMode.Merge, Frames = 1, Value = ValueKind.Count };
        (List<StepRecord> steps, Preprocessor chain) = Steps.Dvs(dvs, [new(0, 8, 0, true), new(1, 7, 7, false), new(2, 4, 3, true), new(3, 0, 9, true)]);
        Assert.Equal([1, 3], steps[0].Active); // (4,3) -> cell 1; (7,7) -> cell 3
        Assert.Equal(2, chain.Dropped);

        // 10 channels pooled by 3 -> 4 cells (the last holds channel 9 alone)
        Preprocessing audio = Audio8 with { Channels = 10, Pooling = 3, Binning = BinningKind.EqualCountFrames, Frames = 1 };
        Assert.Equal(4, audio.Features);
        (steps, chain) = Steps.Spikes(audio, [0, 1, 2, 3, 4], [0, 2, 3, 9, 10]);
        Assert.Equal([0, 1, 3], steps[0].Active);
        Assert.Equal([2f, 1f, 1f], steps[0].Values);
        Assert.Equal(1, chain.Dropped);
        Assert.Equal([2f / 3, 1f / 3, 1f / 3], Steps.Spikes(audio with { Value = ValueKind.Mean }, [0, 1, 2, 3], [0, 2, 3, 9]).Steps[0].Values);

        var spatial = new SpatialPooling(34, 34, 4);
        int[] cells = new int[3];
        Assert.Equal(1, spatial.Apply([33, 0, 34], [33, 4, 0], cells));
        Assert.Equal([(8 * 9) + 8, 9, -1], cells);
    }

    [Theory]
    [InlineData(PolarityMode.Split, new[] { 1, 2, 3 }, new[] { 1f, 1f, 1f }, 0)]
    [InlineData(PolarityMode.Merge, new[] { 0, 1 }, new[] { 1f, 2f }, 0)]
    [InlineData(PolarityMode.On, new[] { 0, 1 }, new[] { 1f, 1f }, 1)]
    [InlineData(PolarityMode.Off, new[] { 1 }, new[] { 1f }, 2)]
    public void Polarity_modes(PolarityMode mode, int[] active, float[] values, int dropped)
    {
        Preprocessing p = PreprocessingPresets.DvsGesture.ForSensor(2, 1) with { Pooling = 1, Polarity = mode, Frames = 1, Value = ValueKind.Count };
        (List<StepRecord> steps, Preprocessor chain) = Steps.Dvs(p, [new(0, 0, 0, true), new(1, 1, 0, false), new(2, 1, 0, true)]);
        Assert.Equal(active, steps[0].Active);
        Assert.Equal(values, steps[0].Values);
        Assert.Equal(dropped, chain.Dropped);
    }

    [Fact]
    public void An_empty_sample_still_has_a_last_step()
    {
        Assert.Single(Steps.Spikes(Audio8, [], []).Steps, s => s.EndsSample && s.Active.Length == 0);
        List<StepRecord> padded = Steps.Spikes(PreprocessingPresets.Shd.ForChannels(8), [], [], start: 0).Steps;
        Assert.Equal(100, padded.Count);
        Assert.True(padded[^1].EndsSample);
        Assert.Equal(3, Steps.Spikes(Audio8 with { Binning = BinningKind.EqualCountFrames, Frames = 3 }, [], []).Steps.Count);
        Assert.Single(Steps.Spikes(Audio8, [5], [1], start: 0, end: 0).Steps, s => s.EndsSample);
    }

    [Fact]
    public void A_clock_jump_in_an_unbounded_sample_emits_at_most_max_gap_steps_empty_bins()
    {
        // 10 us bins, no max steps, no known end: a 10-hour jump would be 3.6e9 empty bins
        const long hours10 = 36_000_000_000;
        foreach (int gap in new[] { 0, 5, Preprocessing.DefaultMaxGapSteps })
        {
            var seen = new List<StepRecord>();
            var chain = new Preprocessor(Audio8 with { MaxGapSteps = gap }, s => seen.Add(StepRecord.Of(s)));
            chain.BeginSample();
            chain.PushSpikes([100, 115, hours10 + 100, hours10 + 111], [0, 1, 2, 3], [1, 1, 1, 1]);
            chain.EndSample();

            // bins 0 and 1, then `gap` empty bins, then the two bins of the events after the jump
            Assert.Equal(2 + gap + 2, seen.Count);
            Assert.Equal((hours10 / 10) - 2 - gap, chain.SkippedSteps);
            Assert.Equal(4, chain.Events);
            Assert.Equal(4, seen.Sum(s => s.Active.Length));
            StepRecord afterJump = seen[2 + gap];
            Assert.Equal(hours10 + 100, afterJump.StartUs);
            Assert.Equal([2], afterJump.Active);
            Assert.Equal(hours10 + 110, seen[^1].StartUs);
            Assert.True(seen[^1].EndsSample);
            Assert.Equal(seen.Count, seen.Select(s => s.Index).Distinct().Count());
        }

        // a bounded sample keeps every bin (its step count is fixed)
        var bounded = new List<StepRecord>();
        var fixedChain = new Preprocessor(Audio8 with { MaxGapSteps = 2 }, s => bounded.Add(StepRecord.Of(s)));
        fixedChain.BeginSample(0, 200);
        fixedChain.PushSpikes([5, 150], [0, 1], [1, 1]);
        fixedChain.EndSample();
        Assert.Equal(20, bounded.Count);
        Assert.Equal(0, fixedChain.SkippedSteps);
    }

    [Fact]
    public void Streaming_emits_steps_as_they_close()
    {
        var seen = new List<StepRecord>();
        var chain = new Preprocessor(Audio8, s => seen.Add(StepRecord.Of(s)));

        // known end: every bin is emitted as soon as a later event closes it, the last one flagged
        chain.BeginSample(0, 40);
        chain.PushSpikes([1, 2], [0, 1], [1, 1]);
        Assert.Empty(seen);
        chain.PushSpikes([25], [2], [1]);
        Assert.Equal([0, 1], seen.Select(s => s.Index));
        chain.EndSample();
        Assert.Equal([false, false, false, true], seen.Select(s => s.EndsSample));

        // unknown number of steps: the latest step waits for the next one (or the end) to know whether it is the last
        seen.Clear();
        var counted = new Preprocessor(Audio8 with { Binning = BinningKind.Count, BinEvents = 2 }, s => seen.Add(StepRecord.Of(s)));
        counted.BeginSample();
        counted.PushSpikes([0, 1], [0, 1], [1, 1]);
        Assert.Empty(seen);
        counted.PushSpikes([2, 3], [2, 3], [1, 1]);
        Assert.Equal([(0, false)], seen.Select(s => (s.Index, s.EndsSample)));
        counted.EndSample();
        Assert.Equal([(0, false), (1, true)], seen.Select(s => (s.Index, s.EndsSample)));
        Assert.Equal(0, seen[1].Sample);

        // a second sample starts its own steps
        seen.Clear();
        counted.BeginSample();
        counted.PushSpikes([10], [4], [1]);
        counted.EndSample();
        Assert.Equal([(1L, 0, true)], seen.Select(s => (s.Sample, s.Index, s.EndsSample)));
        Assert.Throws<InvalidOperationException>(() => counted.PushSpikes([1], [1], [1])); // no sample open
        counted.BeginSample();
        Assert.Throws<InvalidOperationException>(() => counted.Push([1], [1], [1], [1])); // DVS events into an audio chain
    }

    [Fact]
    public void Windows_are_aligned_to_the_first_event_and_empty_ones_are_skipped()
    {
        var seen = new List<StepRecord>();
        Preprocessing p = Audio8 with { BinUs = 500 };
        var windows = new WindowedPreprocessor(p, 1000, s => seen.Add(StepRecord.Of(s)));
        windows.PushSpikes([1000, 1500, 2600], [0, 1, 2], [1, 1, 1]);
        Assert.Equal(3, seen.Count); // 2600 closed the first window and the first bin of the second
        windows.PushSpikes([1999, 5100, 9, 5200], [3, 4, 5, 9], [1, 1, 1, 1]); // 1999 is late (window 2000), channel 9 is dropped
        windows.Flush();
        Assert.Equal(
            [(0L, 1000L, 2000L, 0), (0, 1000, 2000, 1), (1, 2000, 3000, 0), (1, 2000, 3000, 1), (2, 5000, 6000, 0), (2, 5000, 6000, 1)],
            seen.Select(s => (s.Sample, s.StartUs - (s.Index * 500), s.StartUs - (s.Index * 500) + 1000, s.Index)));
        Assert.Equal([[0], [1], [], [2, 3], [4, 5], []], seen.Select(s => s.Active));
        Assert.Equal(2, windows.Preprocessor.Late); // 1999 and 9
        Assert.Equal(1, windows.Preprocessor.Dropped);
        Assert.Equal(3, seen.Count(s => s.EndsSample));
        Assert.False(windows.InWindow);
    }

    [Fact]
    public void A_given_origin_keeps_the_window_grid_across_a_restart_and_after_a_flush()
    {
        var seen = new List<StepRecord>();
        Preprocessing p = Audio8 with { BinUs = 500 };

        // a stream restarted mid-way continues on the grid of its first life (origin 500)
        var windows = new WindowedPreprocessor(p, 1000, s => seen.Add(StepRecord.Of(s))) { OriginUs = 500 };
        windows.PushSpikes([1700, 2100], [0, 1], [1, 1]);
        windows.Flush();
        windows.PushSpikes([5200], [2], [1]);
        windows.Flush();
        Assert.Equal([1500L, 4500], seen.Where(s => s.Index == 0).Select(s => s.StartUs)); // [1500, 2500) holds 1700 and 2100
        Assert.Equal(500, windows.OriginUs);

        // without one, the first event sets it
        var fresh = new WindowedPreprocessor(p, 1000, _ => { });
        Assert.Null(fresh.OriginUs);
        fresh.PushSpikes([123], [0], [1]);
        Assert.Equal(123, fresh.OriginUs);
    }

    [Fact]
    public void A_clock_reset_ends_the_open_window_and_windows_start_again_from_the_new_time()
    {
        var seen = new List<StepRecord>();
        Preprocessing p = Audio8 with { BinUs = 500 };
        var windows = new WindowedPreprocessor(p, 1000, s => seen.Add(StepRecord.Of(s))) { ResetUs = 5000 };

        // hours of stream time, then the sensor restarts at 100 us; 7000 is only late (within ResetUs)
        windows.PushSpikes([10_000_000, 10_000_500, 10_001_200, 9_997_000, 100, 600, 1500], [0, 1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 1, 1]);
        windows.Flush();
        Assert.Equal(1, windows.BackwardJumps);
        Assert.Equal([10_000_000L, 10_001_000, 100, 1100], seen.Where(s => s.Index == 0).Select(s => s.StartUs));
        Assert.Equal(4, seen.Count(s => s.EndsSample));
        Assert.Equal(1, windows.Preprocessor.Late); // 9_997_000 fell before its window, within ResetUs
        Assert.True(seen.Count <= 8, "every window has 2 bins: nothing stepped through the gap");
    }

    [Fact]
    public void Bad_calls_are_rejected()
    {
        var chain = new Preprocessor(Audio8, _ => { });
        Assert.Throws<InvalidOperationException>(() => chain.EndSample());
        Assert.Throws<ArgumentException>(() => chain.BeginSample(10, 5));
        chain.BeginSample(0);
        Assert.Throws<ArgumentOutOfRangeException>(() => chain.PushFeatures([0], [8]));
        Assert.Throws<ArgumentException>(() => chain.PushSpikes([0, 1], [0], [1, 1]));
        Assert.Throws<PreprocessingException>(() => new Preprocessor(Audio8 with { BinUs = 0 }, _ => { }));
    }
}

/// <summary>Compares step records by content.</summary>
internal sealed class StepComparer : IEqualityComparer<StepRecord>
{
    public static readonly StepComparer Instance = new();

    public bool Equals(StepRecord? x, StepRecord? y) => x?.Key == y?.Key;

    public int GetHashCode(StepRecord obj) => obj.Key.GetHashCode(StringComparison.Ordinal);
}
