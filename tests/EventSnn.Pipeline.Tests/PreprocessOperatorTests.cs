using System.Reactive.Concurrency;
using System.Reactive.Linq;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Testing;
using EventSnn.Transforms;

namespace EventSnn.Pipeline.Tests;

/// <summary>The Rx operators that produce the network's input wrap the Transforms chain: same steps as the chain applied offline.</summary>
public class PreprocessOperatorTests
{
    private sealed record Step(int Label, long Sample, long Index, long StartUs, long EndUs, int Events, bool EndsSample, int[] Active, float[] Values);

    private static Step Copy(TimeStep s)
    {
        int[] active = s.Active.ToArray();
        Array.Sort(active);
        float[] frame = s.Frame.ToArray();
        return new Step(s.Label, s.Sample, s.Index, s.StartUs, s.EndUs, s.EventCount, s.EndsSample, active, [.. active.Select(i => frame[i])]);
    }

    [Fact]
    public void Labelled_samples_of_a_recording_equal_the_chain_applied_to_each_segment()
    {
        string path = Fixtures.Path("tonic/sample.aedat4");
        DvsEvent[] all;
        SensorGeometry geometry;
        using (IDvsEventReader reader = EventReaders.OpenDvs(path))
        {
            var list = new List<DvsEvent>();
            using var batch = new EventBatch();
            while (reader.Read(batch))
            {
                list.AddRange(batch.ToArray());
            }

            all = [.. list];
            geometry = reader.Geometry;
        }

        long t0 = all[0].T, span = all[^1].T - t0;
        LabelSegment[] segments = [new(3, t0 + (span / 10), t0 + (span / 3)), new(1, t0 + (span / 2), t0 + (span * 9 / 10))];
        Preprocessing p = PreprocessingPresets.DvsGesture.ForSensor(geometry.Width, geometry.Height) with { Frames = 7 };

        var steps = new List<Step>();
        EventReplay.ReplayFile(path, scheduler: ImmediateScheduler.Instance)
            .CutByLabels(segments)
            .Preprocess(p)
            .Subscribe(s => steps.Add(Copy(s)));

        var expected = new List<Step>();
        var binner = new SequenceBinner(p);
        foreach ((LabelSegment seg, int index) in segments.Select((s, i) => (s, i)))
        {
            DvsEvent[] inSegment = [.. all.Where(e => e.T >= seg.StartUs && e.T < seg.EndUs)];
            SparseSequence offline = binner.Apply(
                inSegment.Select(e => e.T).ToArray(),
                inSegment.Select(e => e.X).ToArray(),
                inSegment.Select(e => e.Y).ToArray(),
                inSegment.Select(e => e.On ? (byte)1 : (byte)0).ToArray(),
                seg.StartUs,
                seg.EndUs);
            for (int k = 0; k < offline.Steps; k++)
            {
                Step got = steps[expected.Count];
                Assert.Equal((seg.Label, (long)index, (long)k, k == offline.Steps - 1), (got.Label, got.Sample, got.Index, got.EndsSample));
                Assert.Equal(offline.ActiveAt(k).ToArray(), got.Active);
                Assert.Equal(offline.ValuesAt(k).ToArray(), got.Values);
                expected.Add(got);
            }
        }

        Assert.Equal(14, steps.Count);
        Assert.Equal(expected.Count, steps.Count);
        Assert.True(steps.Sum(s => s.Active.Length) > 100);
    }

    [Fact]
    public async Task Replayed_shd_samples_equal_the_chain_applied_to_each_sample_from_time_zero()
    {
        string dir = Directory.CreateTempSubdirectory("esnn-shd-pre-").FullName;
        try
        {
            string path = Path.Combine(dir, "s.h5");
            long[][] times = [[0, 5_000, 12_000, 31_000], [100, 999_000, 1_000_500], []];
            ushort[][] units = [[0, 3, 3, 7], [1, 2, 3], []];
            using (ShdWriter w = ShdWriter.Create(path, channels: 8))
            {
                for (int i = 0; i < times.Length; i++)
                {
                    w.Add(times[i], units[i], label: i);
                }
            }

            Preprocessing p = PreprocessingPresets.Shd.ForChannels(8) with { Value = ValueKind.Count };
            IList<Step> steps = await EventReplay.ReplayShdSamples(path, new ShdReplayOptions { MinSampleUs = p.SampleSpanUs ?? 0, GapUs = 50_000 })
                .Preprocess(p)
                .Select(Copy)
                .ToList();
            Assert.Equal(300, steps.Count); // 3 samples of exactly 100 steps
            var binner = new SequenceBinner(p);
            using var file = ShdFile.Open(path);
            using var spikes = new SpikeBatch(16);
            for (int i = 0; i < 3; i++)
            {
                int n = file.ReadSample(i, spikes);
                SparseSequence offline = binner.ApplySpikes(spikes.T.AsSpan(0, n), spikes.Channel.AsSpan(0, n), spikes.P.AsSpan(0, n), startUs: 0);
                List<Step> mine = steps.Where(s => s.Sample == i).ToList();
                Assert.Equal(offline.Steps, mine.Count);
                Assert.All(mine, s => Assert.Equal(i, s.Label));
                Assert.Equal(mine.Count - 1, mine.FindIndex(s => s.EndsSample));
                for (int k = 0; k < offline.Steps; k++)
                {
                    Assert.Equal(offline.ActiveAt(k).ToArray(), mine[k].Active);
                    Assert.Equal(offline.ValuesAt(k).ToArray(), mine[k].Values);
                }

                // samples follow each other on the timeline: at least 1 s each (sample 1 lasts until its spike after 1 s), plus the gap
                Assert.InRange(mine[0].StartUs, i * 1_050_000L, (i * 1_050_000L) + (i == 2 ? 2_000 : 0));
            }

            Assert.Equal([0, 3, 3, 7], steps[0].Active.Concat(steps[1].Active).Concat(steps[3].Active).ToArray());
            Assert.Equal([1f, 1f, 1f, 1f], steps[0].Values.Concat(steps[1].Values).Concat(steps[3].Values).ToArray());
            Assert.Equal([2], steps[100 + 99].Active); // 999 ms; the spike at 1.0005 s is after the 100th bin
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Windowed_stream_equals_the_windowed_chain()
    {
        DvsEvent[] events = [.. Ev.Random(4, 500, 8, 8, 60).Select((e, i) => i > 300 ? e with { T = e.T + 20_000 } : e)];
        Preprocessing p = PreprocessingPresets.DvsGesture.ForSensor(8, 8) with { Pooling = 2, Binning = BinningKind.Time, BinUs = 1_000, Value = ValueKind.LogCount };
        var steps = new List<Step>();
        EventReplay.Replay(() => new FakeDvsReader(events, chunk: 41), scheduler: ImmediateScheduler.Instance)
            .PreprocessWindows(p, 4_000)
            .Subscribe(s => steps.Add(Copy(s)));

        var expected = new List<Step>();
        var windows = new WindowedPreprocessor(p, 4_000, s => expected.Add(new Step(-1, s.Sample, s.Index, s.StartUs, s.EndUs, s.EventCount, s.EndsSample, s.Active.ToArray(), s.Values.ToArray())));
        using (var batch = new EventBatch(events.Length))
        {
            foreach (DvsEvent e in events)
            {
                batch.Add(e);
            }

            windows.Push(batch);
        }

        windows.Flush();
        Assert.Equal(expected.Count, steps.Count);
        for (int i = 0; i < steps.Count; i++)
        {
            Assert.Equal((expected[i].Sample, expected[i].Index, expected[i].StartUs, expected[i].EndsSample, expected[i].Events), (steps[i].Sample, steps[i].Index, steps[i].StartUs, steps[i].EndsSample, steps[i].Events));
            Assert.Equal(expected[i].Active, steps[i].Active);
            Assert.Equal(expected[i].Values, steps[i].Values);
        }

        Assert.True(steps.Count(s => s.EndsSample) >= 4);
        Assert.Equal(steps.Select(s => s.Sample).Distinct().Count(), steps.Count(s => s.EndsSample)); // one last step per window
        Assert.Equal(4 * steps.Count(s => s.EndsSample), steps.Count); // 4 bins of 1 ms per 4 ms window
    }
}
