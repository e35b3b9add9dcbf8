using System.Reactive.Concurrency;
using System.Reactive.Linq;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline.Tests;

public class LabelTests
{
    private const string GestureCsv = "class,startTime_usec,endTime_usec\n1,100,200\n2,250,300\n\n3,400,450\n";

    [Fact]
    public void Dvs_gesture_csv_is_parsed_with_its_header()
    {
        List<LabelSegment> segments = LabelCsv.Parse(GestureCsv);
        Assert.Equal([new LabelSegment(1, 100, 200), new LabelSegment(2, 250, 300), new LabelSegment(3, 400, 450)], segments);
    }

    [Fact]
    public void Stream_is_cut_into_half_open_labelled_samples()
    {
        List<LabelSegment> segments = LabelCsv.Parse(GestureCsv);
        DvsEvent[] events = Ev.AtTimes(50, 100, 150, 199, 200, 260, 299, 300, 310, 420);
        var samples = new List<(int Label, long Index, long[] Times)>();
        using var cutter = new LabelCutter(segments);
        Ev.InRandomBatches(events, 3, b => cutter.Push(b, s => samples.Add((s.Label, s.Index, s.Events.Timestamps.ToArray()))));
        cutter.Complete(s => samples.Add((s.Label, s.Index, s.Events.Timestamps.ToArray())));
        Assert.Equal(3, samples.Count);
        Assert.Equal((1, 0L), (samples[0].Label, samples[0].Index));
        Assert.Equal([100L, 150L, 199L], samples[0].Times);
        Assert.Equal([260L, 299L], samples[1].Times);
        Assert.Equal([420L], samples[2].Times); // emitted at the end of the stream
        Assert.Equal(4, cutter.Unlabelled);    // 50, 200, 300, 310
    }

    [Fact]
    public void Labelled_samples_bin_into_n_frames_each_carrying_the_label()
    {
        var segments = new[] { new LabelSegment(7, 0, 1000), new LabelSegment(9, 1000, 2000) };
        DvsEvent[] events = Ev.AtTimes(Enumerable.Range(0, 200).Select(i => (long)i * 10).ToArray());
        var steps = new List<(int Label, long Sample, long Index, int Count)>();
        EventReplay.Replay(() => new FakeDvsReader(events, chunk: 33), scheduler: ImmediateScheduler.Instance)
            .CutByLabels(segments)
            .BinSamples(new SegmentBinning { BinCount = 4 }, new TimeStepOptions { Layout = new TimeStepLayout(2, 1, 8) })
            .Subscribe(s => steps.Add((s.Label, s.Sample, s.Index, s.EventCount)));
        // each sample: 100 events 10 us apart, span 990: window 990 // 4 = 247 -> [t0, +247) [+247, +494) [+494, +741) [+741, +988): 25, 25, 25, 24 events (990 falls out, as in Tonic)
        Assert.Equal(8, steps.Count);
        Assert.Equal([7, 7, 7, 7, 9, 9, 9, 9], steps.Select(s => s.Label));
        Assert.Equal([0L, 1L, 2L, 3L, 0L, 1L, 2L, 3L], steps.Select(s => s.Index));
        Assert.Equal([25, 25, 25, 24, 25, 25, 25, 24], steps.Select(s => s.Count));
    }
}
