using System.Reactive.Concurrency;
using System.Reactive.Linq;
using EventSnn.IO;
using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Pipeline.Tests;

/// <summary>The Rx operators over event transforms wrap the EventSnn.Transforms classes: a stream gives what the transform gives offline.</summary>
public class TransformOperatorTests
{
    private static readonly SensorGeometry Sensor = new(40, 30);

    private static IObservable<EventBatch> Replay(DvsEvent[] events, int chunk) =>
        EventReplay.Replay(() => new FakeDvsReader(events, chunk: chunk, geometry: Sensor), scheduler: ImmediateScheduler.Instance);

    private static DvsEvent[] Collect(IObservable<EventBatch> stream)
    {
        var got = new List<DvsEvent>();
        stream.Subscribe(b => got.AddRange(b.ToArray()));
        return [.. got];
    }

    private static DvsEvent[] Offline(EventTransform transform, DvsEvent[] events, ulong seed)
    {
        using EventBatch all = Ev.Batch(events);
        using EventBatch output = transform.Apply(all, Sensor, seed);
        return output.ToArray();
    }

    [Theory]
    [InlineData("denoise:300,refractory-period:40,time-jitter:200:false,flip-lr,crop:30x20:2:3", 97)]
    [InlineData("mask-hot-pixels:3000:20000,spatial-jitter:2,center-crop:32x24,downsample:2,time-skew:1.5:7,flip-polarity", 1000)]
    [InlineData("drop-event:0.2", 5000)]
    public void A_stream_through_Transform_gives_the_transform_applied_offline(string spec, int chunk)
    {
        DvsEvent[] events = Ev.Random(4, 3000, 40, 30, 30);
        EventTransform t = TransformSpec.Parse(spec);
        DvsEvent[] streamed = Collect(Replay(events, chunk).Transform(t, Sensor, seed: 5));
        Assert.Equal(Offline(t, events, 5), streamed);
        Assert.NotEmpty(streamed);
    }

    [Fact]
    public void The_filter_operators_run_the_transform_stages()
    {
        DvsEvent[] events = Ev.Random(5, 2000, 40, 30, 20);
        Assert.Equal(Offline(new Denoise(200), events, 0), Collect(Replay(events, 64).Denoise(Sensor, 200)));
        Assert.Equal(Offline(new RefractoryPeriod(50), events, 0), Collect(Replay(events, 64).RefractoryPeriod(Sensor, 50)));
        Assert.Equal(Offline(new RandomFlipLR(1), events, 0), Collect(Replay(events, 64).FlipLeftRight(Sensor)));
        Assert.Equal(Offline(new RandomFlipUD(1), events, 0), Collect(Replay(events, 64).FlipUpDown(Sensor)));
        Assert.Equal(Offline(new CenterCrop(20, 10), events, 0), Collect(Replay(events, 64).CenterCrop(Sensor, 20, 10)));
        Assert.Equal(Offline(new Crop(20, 10, 5, 6), events, 0), Collect(Replay(events, 64).Crop(5, 6, 20, 10)));
        Assert.Equal(Offline(Downsample.Pool(4), events, 0), Collect(Replay(events, 64).Downsample(4)));
        Assert.Equal(Offline(new MergePolarities(), events, 0), Collect(Replay(events, 64).MergePolarities()));
        Assert.Equal(Offline(new MaskHotPixels(500, 10_000), events, 0), Collect(Replay(events, 64).MaskHotPixels(Sensor, 500, 10_000)));
        Assert.Equal(Offline(new DropPixel([(1, 1), (2, 2)]), events, 0), Collect(Replay(events, 64).MaskPixels(Sensor, [(1, 1), (2, 2)])));
    }

    [Fact]
    public void A_transform_that_adds_events_gets_a_larger_output_batch()
    {
        DvsEvent[] events = Ev.Random(6, 500, 40, 30, 10);
        var counts = new List<int>();
        var sorted = true;
        Replay(events, 50).Transform(new UniformNoise(100), Sensor, 1).Subscribe(b =>
        {
            counts.Add(b.Count);
            sorted &= b.Timestamps.ToArray().SequenceEqual(b.Timestamps.ToArray().Order());
        });
        Assert.Equal(Enumerable.Repeat(150, 10), counts); // noise per batch: 100 each
        Assert.True(sorted);
    }

    [Fact]
    public void Augmented_copies_follow_each_sample_and_equal_the_offline_augmenter()
    {
        var segments = new[] { new LabelSegment(1, 0, 5000), new LabelSegment(2, 5000, 10_000) };
        DvsEvent[] events = Ev.AtTimes(Enumerable.Range(0, 400).Select(i => (long)i * 25).ToArray());
        Augmentation a = Augmentation.Parse("drop-event:0.5,time-jitter:10:false:true,uniform-noise:7");
        var got = new List<(int Label, long Index, bool Augmented, DvsEvent[] Events)>();
        Replay(events, 33).CutByLabels(segments).AugmentCopies(a, 8, 1, seed: 3, epoch: 1, copies: 2)
            .Subscribe(s => got.Add((s.Label, s.Index, s.Augmented, s.Events.ToArray())));

        Assert.Equal([(1, 0L, false), (1, 0L, true), (1, 0L, true), (2, 1L, false), (2, 1L, true), (2, 1L, true)], got.Select(g => (g.Label, g.Index, g.Augmented)));
        var augmenter = new Augmenter(a, new SensorGeometry(8, 1));
        for (int s = 0; s < 2; s++)
        {
            DvsEvent[] original = got[3 * s].Events;
            Assert.Equal(200, original.Length);
            using EventBatch input = Ev.Batch(original);
            for (int k = 0; k < 2; k++)
            {
                using var expected = new EventBatch(augmenter.MaxOutputCount(200));
                augmenter.Apply(input, expected, Augmenter.SeedFor(3, (1 * 2) + k, s));
                Assert.Equal(expected.ToArray(), got[(3 * s) + 1 + k].Events);
                Assert.Equal(100 + 7, got[(3 * s) + 1 + k].Events.Length); // int(0.5 x 200 + 0.5) dropped, 7 added
            }

            Assert.NotEqual(got[(3 * s) + 1].Events, got[(3 * s) + 2].Events);
        }
    }

    [Fact]
    public void Augment_replaces_each_sample_by_its_variant()
    {
        var segments = new[] { new LabelSegment(4, 0, 5000) };
        DvsEvent[] events = Ev.AtTimes(Enumerable.Range(0, 200).Select(i => (long)i * 25).ToArray());
        var got = new List<(int Label, bool Augmented, int Count)>();
        Replay(events, 64).CutByLabels(segments).Augment(Augmentation.Parse("uniform-noise:50,flip-lr"), 8, 1, seed: 1, epoch: 2)
            .Subscribe(s => got.Add((s.Label, s.Augmented, s.Events.Count)));
        Assert.Equal([(4, false, 250)], got);
    }

    [Theory]
    [InlineData(1000L, 0L, false)]
    [InlineData(1000L, 600L, false)]
    [InlineData(1000L, 600L, true)]
    public void Streaming_frames_are_the_frames_ToFrame_gives_the_whole_sample(long window, long stride, bool include)
    {
        // the streaming windows (ToFrames / BinByTime) and the sample representation (ToFrame) both follow Tonic's SliceByTime
        DvsEvent[] events = Ev.Random(7, 3000, 40, 30, 8);
        var frames = new List<float[]>();
        Replay(events, 128)
            .BinByTime(new TimeWindowOptions { WindowUs = window, StrideUs = stride, IncludeIncomplete = include }, new TimeStepOptions { Layout = TimeStepLayout.ForSensor(Sensor) })
            .Subscribe(s => frames.Add(s.Frame.ToArray()));

        using EventBatch all = Ev.Batch(events);
        EventTensor<int> tonic = new ToFrame(Sensor, FrameSlicing.ByTime(window, window - (stride == 0 ? window : stride), include)).Apply(all);
        Assert.Equal(tonic.Shape[0], frames.Count);
        int size = 2 * Sensor.PixelCount;
        for (int k = 0; k < frames.Count; k++)
        {
            Assert.Equal(tonic.Data.AsSpan(k * size, size).ToArray().Select(v => (float)v), frames[k]);
        }
    }
}
