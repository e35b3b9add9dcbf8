using EventSnn.Events;
using EventSnn.Testing;
using EventSnn.Transforms;

namespace EventSnn.Transforms.Tests;

public class RepresentationTests
{
    // 3 x 2 sensor; times 0, 5, 10, 15, 21
    private static readonly DvsEvent[] Five = [new(0, 0, 0, true), new(5, 1, 0, false), new(10, 2, 1, true), new(15, 0, 0, true), new(21, 1, 1, false)];
    private static readonly SensorGeometry Sensor = new(3, 2);

    private static int[] Sums(EventTensor<int> frames)
    {
        int n = frames.Shape[0], size = frames.Data.Length / Math.Max(1, n);
        return Enumerable.Range(0, n).Select(k => frames.Data.AsSpan(k * size, size).ToArray().Sum()).ToArray();
    }

    private static EventTensor<int> Frames(FrameSlicing slicing, params DvsEvent[] events)
    {
        using EventBatch b = Ev.Batch(events);
        return new ToFrame(Sensor, slicing).Apply(b);
    }

    [Fact]
    public void To_frame_counts_each_slice_per_polarity_and_pixel_hand_computed()
    {
        EventTensor<int> f = Frames(FrameSlicing.ByTime(10), Five);
        Assert.Equal([2, 2, 2, 3], f.Shape); // floor((21 - 10) / 10) + 1 = 2 frames: the event at 21 is in no full window
        Assert.Equal(1, f.At(0, 1, 0, 0)); // t=0 ON (0,0)
        Assert.Equal(1, f.At(0, 0, 0, 1)); // t=5 OFF (1,0)
        Assert.Equal(1, f.At(1, 1, 1, 2)); // t=10 ON (2,1)
        Assert.Equal(1, f.At(1, 1, 0, 0)); // t=15 ON (0,0)
        Assert.Equal([2, 2], Sums(f));

        Assert.Equal([2, 2, 1], Sums(Frames(FrameSlicing.ByTime(10, includeIncomplete: true), Five)));
        Assert.Equal([2, 2, 2], Sums(Frames(FrameSlicing.ByTime(10, overlap: 5), Five))); // [0,10) [5,15) [10,20)
        Assert.Equal(1, Frames(FrameSlicing.ByTime(10, overlap: 5), Five).At(1, 0, 0, 1)); // t=5 OFF in the second window
        Assert.Equal([2, 2], Sums(Frames(FrameSlicing.ByEventCount(2), Five)));
        Assert.Equal([2, 2, 1], Sums(Frames(FrameSlicing.ByEventCount(2, includeIncomplete: true), Five)));
        Assert.Equal([2, 2], Sums(Frames(FrameSlicing.ByTimeBins(2), Five))); // window 21 // 2 = 10: Tonic leaves t=21 out
        Assert.Equal([2, 2], Sums(Frames(FrameSlicing.ByEventBins(2), Five))); // 5 // 2 = 2 events a bin
        Assert.Equal([3, 3], Sums(Frames(FrameSlicing.ByEventBins(2, overlap: 0.5), Five))); // int(2 x 1.5) = 3, stride 1

        // empty samples: one zero frame, or one per bin
        Assert.Equal([1, 2, 2, 3], Frames(FrameSlicing.ByTime(10)).Shape);
        Assert.Equal([3, 2, 2, 3], Frames(FrameSlicing.ByTimeBins(3)).Shape);
        Assert.All(Frames(FrameSlicing.ByTimeBins(3)).Data, v => Assert.Equal(0, v));

        // one polarity plane counts both
        using EventBatch b = Ev.Batch(Five);
        EventTensor<int> merged = new ToFrame(Sensor, FrameSlicing.ByEventCount(5), polarities: 1).Apply(b);
        Assert.Equal([1, 1, 2, 3], merged.Shape);
        Assert.Equal(2, merged.At(0, 0, 0, 0));
    }

    [Theory]
    [InlineData(0, 1000.0, 0.0, false)]
    [InlineData(1, 1000.0, 300.0, true)]
    [InlineData(2, 250.0, 100.0, false)]
    public void To_frame_matches_Tonic_by_time(int seed, double window, double overlap, bool include)
    {
        DvsEvent[] events = Ev.Random(seed, 400, 6, 5, 30);
        long[] t = events.Select(e => e.T).ToArray();
        using EventBatch b = Ev.Batch(events);
        EventTensor<int> ours = new ToFrame(new SensorGeometry(6, 5), FrameSlicing.ByTime(window, overlap, include)).Apply(b);
        AssertSame(TonicTranscription.ToFrame(events, 6, 5, TonicTranscription.SliceByTime(t, window, overlap, include)), ours);
    }

    [Theory]
    [InlineData(3, 50, 0, false)]
    [InlineData(4, 37, 10, true)]
    [InlineData(5, 400, 0, false)]
    public void To_frame_matches_Tonic_by_event_count(int seed, int count, int overlap, bool include)
    {
        DvsEvent[] events = Ev.Random(seed, 333, 6, 5, 30);
        using EventBatch b = Ev.Batch(events);
        EventTensor<int> ours = new ToFrame(new SensorGeometry(6, 5), FrameSlicing.ByEventCount(count, overlap, include)).Apply(b);
        AssertSame(TonicTranscription.ToFrame(events, 6, 5, TonicTranscription.SliceByEventCount(events.Length, count, overlap, include)), ours);
    }

    [Theory]
    [InlineData(6, 7, 0.0)]
    [InlineData(7, 10, 0.25)]
    public void To_frame_matches_Tonic_by_bins(int seed, int bins, double overlap)
    {
        DvsEvent[] events = Ev.Random(seed, 321, 6, 5, 30);
        long[] t = events.Select(e => e.T).ToArray();
        using EventBatch b = Ev.Batch(events);
        var g = new SensorGeometry(6, 5);
        AssertSame(TonicTranscription.ToFrame(events, 6, 5, TonicTranscription.SliceByTimeBins(t, bins, overlap)), new ToFrame(g, FrameSlicing.ByTimeBins(bins, overlap)).Apply(b));
        AssertSame(TonicTranscription.ToFrame(events, 6, 5, TonicTranscription.SliceByEventBins(events.Length, bins, overlap)), new ToFrame(g, FrameSlicing.ByEventBins(bins, overlap)).Apply(b));
    }

    [Fact]
    public void Sparse_tensor_lists_the_non_zero_counts_in_row_major_order()
    {
        using EventBatch b = Ev.Batch(Five);
        SparseEventTensor s = new ToSparseTensor(Sensor, FrameSlicing.ByTime(10)).Apply(b);
        Assert.Equal([2, 2, 2, 3], s.Shape);
        Assert.Equal(4, s.NonZeros);
        Assert.Equal([0, 0, 0, 1, /**/ 0, 1, 0, 0, /**/ 1, 1, 0, 0, /**/ 1, 1, 1, 2], s.Indices);
        Assert.Equal([1, 1, 1, 1], s.Values);

        // random events with overlapping windows (counts above 1): the dense form is ToFrame's
        DvsEvent[] events = Ev.Random(8, 2000, 5, 4, 10);
        using EventBatch many = Ev.Batch(events);
        var g = new SensorGeometry(5, 4);
        FrameSlicing slicing = FrameSlicing.ByTime(500, 200, includeIncomplete: true);
        SparseEventTensor sparse = new ToSparseTensor(g, slicing).Apply(many);
        EventTensor<int> dense = new ToFrame(g, slicing).Apply(many);
        Assert.Equal(dense.Data, sparse.ToDense().Data);
        Assert.Equal(dense.Data.Count(v => v != 0), sparse.NonZeros);
        Assert.Contains(sparse.Values, v => v > 1);
        for (int j = 1; j < sparse.NonZeros; j++)
        {
            Assert.True(Compare(sparse.Indices.AsSpan((j - 1) * 4, 4), sparse.Indices.AsSpan(j * 4, 4)) < 0);
        }
    }

    [Fact]
    public void Voxel_grid_splits_each_polarity_between_the_two_nearest_bins_hand_computed()
    {
        // 2 x 1 sensor, 4 bins, times 0, 3, 10: ts = 0, 1.2, 4
        using EventBatch b = Ev.Batch(new(0, 0, 0, true), new(3, 1, 0, false), new(10, 1, 0, true));
        EventTensor<float> grid = new ToVoxelGrid(new SensorGeometry(2, 1), 4).Apply(b);
        Assert.Equal([4, 1, 1, 2], grid.Shape);
        float[] expected =
        [
            1, 0,     // bin 0: the ON event at ts 0, weight 1
            0, -0.8f, // bin 1: the OFF event at ts 1.2, weight 1 - 0.2
            0, -0.2f, // bin 2: its weight 0.2
            0, 0,     // bin 3: the last event (ts = 4 = n) adds nothing, as in Tonic
        ];
        Assert.Equal(expected, grid.Data, (a, c) => Math.Abs(a - c) < 1e-6);

        // all events at one time: wholly into bin 0 (Tonic divides by zero)
        using EventBatch same = Ev.Batch(new(5, 0, 0, true), new(5, 1, 0, false));
        Assert.Equal([1f, -1f, 0f, 0f], new ToVoxelGrid(new SensorGeometry(2, 1), 2).Apply(same).Data);
    }

    [Fact]
    public void Voxel_grid_matches_Tonic_on_random_events()
    {
        DvsEvent[] events = Ev.Random(9, 500, 7, 4, 40);
        using EventBatch b = Ev.Batch(events);
        EventTensor<float> ours = new ToVoxelGrid(new SensorGeometry(7, 4), 6).Apply(b);
        double[,,] tonic = TonicTranscription.ToVoxelGrid(events, 7, 4, 6);
        for (int k = 0; k < 6; k++)
        {
            for (int y = 0; y < 4; y++)
            {
                for (int x = 0; x < 7; x++)
                {
                    Assert.Equal(tonic[k, y, x], ours.At(k, 0, y, x), tolerance: 1e-5);
                }
            }
        }
    }

    [Fact]
    public void Time_surface_decays_from_each_pixels_latest_event_hand_computed()
    {
        // 2 x 1 sensor, dt 10, tau 5; times 0 (ON x0), 4 (OFF x1), 12 (ON x0), 25 (ON x1)
        using EventBatch b = Ev.Batch(new(0, 0, 0, true), new(4, 1, 0, false), new(12, 0, 0, true), new(25, 1, 0, true));
        var g = new SensorGeometry(2, 1);
        EventTensor<float> s = new ToTimeSurface(g, dt: 10, tau: 5).Apply(b);
        Assert.Equal([2, 2, 1, 2], s.Shape); // floor((25 - 10) / 10) + 1 windows
        Assert.Equal(Math.Exp(-2), s.At(0, 1, 0, 0), 6);     // ON x0 at 0, reference 10
        Assert.Equal(Math.Exp(-6.0 / 5), s.At(0, 0, 0, 1), 6); // OFF x1 at 4
        Assert.Equal(0, s.At(0, 1, 0, 1));                     // no ON event at x1 yet
        Assert.Equal(Math.Exp(-8.0 / 5), s.At(1, 1, 0, 0), 6); // ON x0 at 12, reference 20
        Assert.Equal(Math.Exp(-16.0 / 5), s.At(1, 0, 0, 1), 6);

        EventTensor<float> all = new ToTimeSurface(g, 10, 5, includeIncomplete: true).Apply(b);
        Assert.Equal(3, all.Shape[0]);
        Assert.Equal(Math.Exp(-1), all.At(2, 1, 0, 1), 6);       // ON x1 at 25, reference 30
        Assert.Equal(Math.Exp(-18.0 / 5), all.At(2, 1, 0, 0), 6);
    }

    [Theory]
    [InlineData(10, 100.0, 30.0, 0.0, false)]
    [InlineData(11, 80.0, 200.0, 20.0, true)]
    public void Time_surface_matches_Tonic_on_random_events(int seed, double dt, double tau, double overlap, bool include)
    {
        DvsEvent[] events = Ev.Random(seed, 300, 4, 3, 20);
        using EventBatch b = Ev.Batch(events);
        EventTensor<float> ours = new ToTimeSurface(new SensorGeometry(4, 3), dt, tau, overlap, include).Apply(b);
        double[,,,] tonic = TonicTranscription.ToTimeSurface(events, 4, 3, dt, tau, overlap, include);
        Assert.Equal(tonic.GetLength(0), ours.Shape[0]);
        for (int k = 0; k < tonic.GetLength(0); k++)
        {
            for (int p = 0; p < 2; p++)
            {
                for (int y = 0; y < 3; y++)
                {
                    for (int x = 0; x < 4; x++)
                    {
                        Assert.Equal(tonic[k, p, y, x], ours.At(k, p, y, x), tolerance: 1e-6);
                    }
                }
            }
        }
    }

    [Fact]
    public void Averaged_time_surface_sums_decayed_neighbours_per_cell_hand_computed()
    {
        // one 4 x 4 cell, surfaces 3 x 3, window 100, tau 10; ON events at t 0 (1,1), 10 (2,1), 15 (1,2), 200 (1,1)
        using EventBatch b = Ev.Batch(new(0, 1, 1, true), new(10, 2, 1, true), new(15, 1, 2, true), new(200, 1, 1, true));
        var g = new SensorGeometry(4, 4);
        EventTensor<float> h = new ToAveragedTimeSurface(g, surfaceSize: 3, cellSize: 4, timeWindow: 100, tau: 10).Apply(b);
        Assert.Equal([1, 2, 3, 3], h.Shape);
        Assert.All(Enumerable.Range(0, 9), i => Assert.Equal(0, h.At(0, 0, i / 3, i % 3))); // no OFF event
        Assert.Equal(4 / 4.0, h.At(0, 1, 1, 1), 6);              // every event's own centre
        Assert.Equal(Math.Exp(-1) / 4, h.At(0, 1, 1, 0), 6);      // t=10 sees t=0 one pixel left
        Assert.Equal(Math.Exp(-0.5) / 4, h.At(0, 1, 0, 2), 6);    // t=15 sees t=10 up-right
        Assert.Equal(Math.Exp(-1.5) / 4, h.At(0, 1, 0, 1), 6);    // t=15 sees t=0 above; t=200 sees nothing (window)
        Assert.Equal(0, h.At(0, 1, 2, 2));

        EventTensor<float> lin = new ToAveragedTimeSurface(g, 3, 4, 100, 10, SurfaceDecay.Linear).Apply(b);
        Assert.Equal((1 - (10 / 30.0)) / 4, lin.At(0, 1, 1, 0), 6);
    }

    [Theory]
    [InlineData(12, 5, 3, 500.0, 50.0, true)]
    [InlineData(13, 4, 3, 300.0, 80.0, false)]
    [InlineData(14, 3, 1, 100.0, 20.0, true)]
    public void Averaged_time_surface_matches_Tonic_on_random_events(int seed, int cell, int surface, double window, double tau, bool exponential)
    {
        DvsEvent[] events = Ev.Random(seed, 600, 10, 7, 15);
        using EventBatch b = Ev.Batch(events);
        EventTensor<float> ours = new ToAveragedTimeSurface(new SensorGeometry(10, 7), surface, cell, window, tau, exponential ? SurfaceDecay.Exponential : SurfaceDecay.Linear).Apply(b);
        double[,,,] tonic = TonicTranscription.ToAveragedTimeSurface(events, 10, 7, cell, surface, window, tau, exponential);
        Assert.Equal(tonic.GetLength(0), ours.Shape[0]);
        for (int c = 0; c < tonic.GetLength(0); c++)
        {
            for (int p = 0; p < 2; p++)
            {
                for (int y = 0; y < surface; y++)
                {
                    for (int x = 0; x < surface; x++)
                    {
                        Assert.Equal(tonic[c, p, y, x], ours.At(c, p, y, x), tolerance: 1e-5);
                    }
                }
            }
        }
    }

    [Fact]
    public void Representations_into_caller_buffers_allocate_nothing_once_warm()
    {
        DvsEvent[] events = Ev.Random(15, 5000, 32, 24, 10);
        using EventBatch b = Ev.Batch(events);
        var g = new SensorGeometry(32, 24);
        var frame = new ToFrame(g, FrameSlicing.ByTime(5000, 1000));
        var voxel = new ToVoxelGrid(g, 5);
        var surface = new ToTimeSurface(g, 5000, 2000);
        var hats = new ToAveragedTimeSurface(g);
        int[] frames = new int[frame.FrameCount(b) * frame.FrameSize];
        float[] grid = new float[voxel.Length];
        float[] surfaces = new float[surface.SurfaceCount(b) * surface.SurfaceSize];
        float[] histograms = new float[hats.Length];
        void Run()
        {
            frame.Apply(b, frames);
            voxel.Apply(b, grid);
            surface.Apply(b, surfaces);
            hats.Apply(b, histograms);
        }

        Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(frames.Sum() > events.Length / 2 && grid.Any(v => v != 0) && surfaces.Any(v => v > 0) && histograms.Any(v => v > 0));
    }

    private static int Compare(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i])
            {
                return a[i].CompareTo(b[i]);
            }
        }

        return 0;
    }

    private static void AssertSame(int[,,,] tonic, EventTensor<int> ours)
    {
        Assert.Equal([tonic.GetLength(0), 2, tonic.GetLength(2), tonic.GetLength(3)], ours.Shape);
        for (int k = 0; k < tonic.GetLength(0); k++)
        {
            for (int p = 0; p < 2; p++)
            {
                for (int y = 0; y < tonic.GetLength(2); y++)
                {
                    for (int x = 0; x < tonic.GetLength(3); x++)
                    {
                        Assert.Equal(tonic[k, p, y, x], ours.At(k, p, y, x));
                    }
                }
            }
        }
    }
}
