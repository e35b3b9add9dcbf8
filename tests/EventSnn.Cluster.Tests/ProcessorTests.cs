using EventSnn.Testing;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;
using EventSnn.Snn.Classification;

namespace EventSnn.Cluster.Tests;

public class ProcessorTests
{
    private static readonly string Labels = Path.Combine(ServeStreams.RepoRoot(), "recordings", "gestures", "user01_synthetic_labels.csv");

    [Fact]
    public void Packets_decode_to_the_events_encoded()
    {
        using EventBatch events = ServeStreams.GestureEvents("user01_synthetic.aedat4", 2);
        Assert.True(events.Count > 3 * 1024, $"{events.Count} events");
        using var codec = new EventPacketCodec(SensorGeometry.Dvs128);
        using var decoded = new EventBatch(events.Count);
        int packets = 0;
        for (int start = 0; start < events.Count; start += 1024)
        {
            byte[] packet = codec.Encode(events, start, Math.Min(1024, events.Count - start));
            codec.Decode(packet, Aedat4Compression.Lz4, decoded, "test");
            packets++;
        }

        Assert.Equal((events.Count + 1023) / 1024, packets);
        Assert.Equal(events.Count, decoded.Count);
        Assert.Equal(events.T.AsSpan(0, events.Count).ToArray(), decoded.T.AsSpan(0, decoded.Count).ToArray());
        Assert.Equal(events.X.AsSpan(0, events.Count).ToArray(), decoded.X.AsSpan(0, decoded.Count).ToArray());
        Assert.Equal(events.Y.AsSpan(0, events.Count).ToArray(), decoded.Y.AsSpan(0, decoded.Count).ToArray());
        Assert.Equal(events.P.AsSpan(0, events.Count).ToArray(), decoded.P.AsSpan(0, decoded.Count).ToArray());

        byte[] damaged = codec.Encode(events, 0, 100);
        damaged[5] ^= 0x40; // the payload size no longer matches
        var ex = Assert.Throws<EventFormatException>(() => codec.Decode(damaged, Aedat4Compression.Lz4, decoded, "eventsnn.events.cam sequence 7"));
        Assert.Contains("eventsnn.events.cam sequence 7", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cam-01", true)]
    [InlineData("A_b", true)]
    [InlineData("", false)]
    [InlineData("cam.1", false)]
    [InlineData("cam*", false)]
    [InlineData("cam 1", false)]
    [InlineData("cam>", false)]
    public void Stream_names_are_one_subject_token(string name, bool valid)
    {
        Assert.Equal(valid, ClusterNames.IsValid(name));
        if (valid)
        {
            Assert.Equal(name, ClusterNames.StreamOf(ClusterNames.Events(name)));
            Assert.Equal(name, ClusterNames.StreamOf(ClusterNames.Decisions(name)));
        }
        else
        {
            Assert.Throws<ArgumentException>(() => ClusterNames.Events(name));
        }
    }

    [Fact]
    public void Every_labelled_sample_gets_one_decision_and_a_restart_from_a_snapshot_continues_exactly()
    {
        using EventBatch events = ServeStreams.GestureEvents("user01_synthetic.aedat4", 60);
        List<LabelSegment> labels = LabelCsv.Read(Labels);
        ClusterModel model = ClusterModel.Create(SensorGeometry.Dvs128, null, hidden: 32, classes: 10, seed: 3);
        List<(int Start, int Count)> packets = [];
        for (int start = 0; start < events.Count; start += 4096)
        {
            packets.Add((start, Math.Min(4096, events.Count - start)));
        }

        // uninterrupted
        var whole = new List<StreamDecision>();
        using (var p = new LabelledStreamProcessor("cam", model))
        {
            p.AddLabels(labels);
            foreach ((int s, int c) in packets)
            {
                Feed(p, events, s, c, whole.Add);
            }

            Assert.Equal(p.Decisions, whole.Count);
            Assert.True(p.Updates > 0, "it learned online");
        }

        // every labelled segment that ended before the last event was decided once, in order
        long lastT = events.T[events.Count - 1];
        Assert.Equal(labels.Count(l => l.EndUs <= lastT), whole.Count);
        Assert.Equal(whole.Count, whole.Select(ClusterNames.DecisionMessageId).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, whole.Count).Select(i => (long)i), whole.Select(d => d.Index));
        Assert.All(whole, d => Assert.True(d.TruthIndex >= 0 && d.Truth is not null));

        // stopped after the fourth decision, restarted from its snapshot, replayed from the resume point
        var before = new List<StreamDecision>();
        StreamSnapshot snapshot;
        int stoppedAt;
        using (var p = new LabelledStreamProcessor("cam", model))
        {
            p.AddLabels(labels[..5]); // labels may arrive in parts
            p.AddLabels(labels);      // a replayed label message repeats what is known
            int k = 0;
            while (before.Count < 4)
            {
                Feed(p, events, packets[k].Start, packets[k].Count, before.Add);
                k++;
            }

            snapshot = p.Snapshot();
            stoppedAt = k;

            // the packets after the snapshot are processed but lost with the "crashed" process
            for (int j = k; j < Math.Min(k + 5, packets.Count); j++)
            {
                Feed(p, events, packets[j].Start, packets[j].Count, _ => { });
            }
        }

        Assert.True(snapshot.Model.Length > 0);
        Assert.Equal(4, snapshot.Decisions);
        Assert.InRange(snapshot.ResumeTimeUs, whole[3].TUs, whole[4].StartUs); // up to the next segment's start

        int resume = packets.FindIndex(x => events.T[x.Start + x.Count - 1] >= snapshot.ResumeTimeUs);
        Assert.True(resume >= 0 && resume < stoppedAt);
        var after = new List<StreamDecision>();
        using (var p = new LabelledStreamProcessor("cam", model))
        {
            p.Restore(snapshot);
            p.AddLabels(labels); // replayed label message: ignored where known or decided
            for (int j = resume; j < packets.Count; j++)
            {
                Feed(p, events, packets[j].Start, packets[j].Count, after.Add);
            }

            Assert.True(p.Skipped > 0, "replayed events of decided samples were skipped");
            Assert.Equal(whole.Count, p.Decisions);
        }

        List<StreamDecision> joined = [.. before, .. after];
        Assert.Equal(whole.Count, joined.Count);
        for (int i = 0; i < whole.Count; i++)
        {
            Assert.Equal(ClusterNames.DecisionMessageId(whole[i]), ClusterNames.DecisionMessageId(joined[i]));
            Assert.Equal(whole[i].Index, joined[i].Index);
            Assert.Equal(whole[i].LabelIndex, joined[i].LabelIndex);
            Assert.Equal(whole[i].Confidence, joined[i].Confidence, 6);
            Assert.Equal(whole[i].Events, joined[i].Events);
        }
    }

    [Fact]
    public void A_stream_without_labels_is_decided_in_windows_once_each_across_a_restart()
    {
        using EventBatch events = ServeStreams.GestureEvents("user02_synthetic.aedat4", 60);
        ClusterModel model = ClusterModel.Create(SensorGeometry.Dvs128, null, hidden: 32, classes: 10, seed: 3);
        List<(int Start, int Count)> packets = [];
        for (int start = 0; start < events.Count; start += 4096)
        {
            packets.Add((start, Math.Min(4096, events.Count - start)));
        }

        var whole = new List<StreamDecision>();
        using (var p = new LabelledStreamProcessor("cam", model, windowUs: 1_000_000))
        {
            foreach ((int s, int c) in packets)
            {
                Feed(p, events, s, c, whole.Add);
            }

            Assert.False(p.HasLabels);
            Assert.Equal(0, p.Updates); // nothing to learn from

            // the end of the stream decides the open window (the one holding the last event)
            var last = new List<StreamDecision>();
            p.Complete(last.Add);
            StreamDecision end = Assert.Single(last);
            Assert.InRange(events.T[events.Count - 1], end.StartUs, end.TUs - 1);
            Assert.Equal(whole.Count, end.Index);
        }

        // one decision per 1 s window holding events, on a grid from the first event, no truth
        long first = events.T[0];
        Assert.True(whole.Count >= 10, $"{whole.Count} windows");
        Assert.All(whole, d =>
        {
            Assert.Equal(1_000_000, d.TUs - d.StartUs);
            Assert.Equal(0, (d.StartUs - first) % 1_000_000);
            Assert.Equal(-1, d.TruthIndex);
        });
        Assert.Equal(whole.Count, whole.Select(ClusterNames.DecisionMessageId).Distinct().Count());

        // stopped after three windows, restarted from the snapshot: the same windows, once each
        var before = new List<StreamDecision>();
        StreamSnapshot snapshot;
        using (var p = new LabelledStreamProcessor("cam", model, windowUs: 1_000_000))
        {
            int k = 0;
            while (before.Count < 3)
            {
                Feed(p, events, packets[k].Start, packets[k].Count, before.Add);
                k++;
            }

            snapshot = p.Snapshot();
        }

        Assert.Equal(first, snapshot.WindowOriginUs);
        int resume = packets.FindIndex(x => events.T[x.Start + x.Count - 1] >= snapshot.ResumeTimeUs);
        var after = new List<StreamDecision>();
        using (var p = new LabelledStreamProcessor("cam", model, windowUs: 1_000_000))
        {
            p.Restore(snapshot);
            for (int j = resume; j < packets.Count; j++)
            {
                Feed(p, events, packets[j].Start, packets[j].Count, after.Add);
            }
        }

        Assert.Equal(whole.Select(ClusterNames.DecisionMessageId), before.Concat(after).Select(ClusterNames.DecisionMessageId));
        Assert.Equal(whole.Select(d => d.LabelIndex), before.Concat(after).Select(d => d.LabelIndex));
    }

    [Fact]
    public void A_long_stretch_without_labels_moves_the_resume_point_without_a_decision()
    {
        using EventBatch events = ServeStreams.GestureEvents("user01_synthetic.aedat4", 60);
        long first = events.T[0], last = events.T[events.Count - 1];
        using var p = new LabelledStreamProcessor("cam", ClusterModel.Create(SensorGeometry.Dvs128, null, hidden: 16));
        p.AddLabels([new LabelSegment(1, last + 1_000_000, last + 2_000_000)]); // a label far ahead
        Feed(p, events, 0, events.Count / 2, _ => Assert.Fail("nothing to decide"));
        Assert.Equal(events.T[(events.Count / 2) - 1] + 1, p.ResumeTimeUs);
        Assert.True(p.ResumeTimeUs > first);
    }

    private static void Feed(LabelledStreamProcessor p, EventBatch events, int start, int count, Action<StreamDecision> decided)
    {
        using var packet = new EventBatch(count);
        packet.Append(events, start, count);
        p.Process(packet, decided);
    }
}
