using System.Text.Json;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Testing;
using static EventSnn.IO.Tests.Aedat4TestSupport;

namespace EventSnn.IO.Tests;

/// <summary>The real DV recordings reproduce EXPECTED.json exactly.</summary>
public class Aedat4ConformanceTests
{
    public static TheoryData<string> Recordings => new() { "tonic/sample.aedat4", "shiba24/sample.aedat4" };

    [Theory]
    [MemberData(nameof(Recordings))]
    public void Fixture_statistics_match_expected_json(string name)
    {
        JsonElement expected = Fixtures.Expected[name];
        using var r = Aedat4Reader.Open(Fixtures.Path(name));
        var stats = new EventStatistics();
        using var batch = new EventBatch();
        while (r.Read(batch))
        {
            stats.Add(batch);
        }

        Assert.Equal(expected.GetProperty("events").GetInt64(), stats.Events);
        Assert.Equal(expected.GetProperty("t_first").GetInt64(), stats.TFirst);
        Assert.Equal(expected.GetProperty("t_last").GetInt64(), stats.TLast);
        Assert.Equal(expected.GetProperty("t_min").GetInt64(), stats.TMin);
        Assert.Equal(expected.GetProperty("t_max").GetInt64(), stats.TMax);
        Assert.Equal(expected.GetProperty("on").GetInt64(), stats.On);
        Assert.Equal(expected.GetProperty("x_max").GetInt32(), stats.XMax);
        Assert.Equal(expected.GetProperty("y_max").GetInt32(), stats.YMax);
        Assert.Equal(expected.GetProperty("sum_x").GetInt64(), stats.SumX);
        Assert.Equal(expected.GetProperty("sum_y").GetInt64(), stats.SumY);
        Assert.Equal(expected.GetProperty("width").GetInt32(), r.Geometry.Width);
        Assert.Equal(expected.GetProperty("height").GetInt32(), r.Geometry.Height);
        Assert.Equal(expected.GetProperty("compression").GetInt32(), (int)r.Compression);
        Assert.Equal(expected.GetProperty("packets").GetInt64(), r.PacketsRead);
        Assert.Equal(EventFormat.Aedat4, r.Format);
        Assert.Equal(expected.GetProperty("format").GetString(), EventFormats.Name(r.Format));
        Assert.Empty(r.Warnings);
    }

    [Theory]
    [MemberData(nameof(Recordings))]
    public void Expected_packet_count_is_all_packets_of_all_streams_before_the_table(string name)
    {
        // verify what EXPECTED.json's "packets" means by walking the file independently
        byte[] file = File.ReadAllBytes(Fixtures.Path(name));
        var map = PacketMap(file);
        Assert.Equal(Fixtures.Expected[name].GetProperty("packets").GetInt64(), map.Count);
        Assert.True(map.Select(p => p.StreamId).Distinct().Count() > 1, "the fixtures hold several streams");

        using var r = Aedat4Reader.Open(Fixtures.Path(name));
        Aedat4FileTable? table = r.FileTable;
        Assert.NotNull(table);
        Assert.Equal(map.Count, table.Entries.Count);
        for (int i = 0; i < map.Count; i++)
        {
            Assert.Equal(map[i].Start + 8, table.Entries[i].ByteOffset);
            Assert.Equal(map[i].StreamId, table.Entries[i].StreamId);
            Assert.Equal(map[i].End - map[i].Start - 8, table.Entries[i].Size);
        }
    }

    [Theory]
    [MemberData(nameof(Recordings))]
    public void Batch_size_does_not_change_the_event_sequence(string name)
    {
        byte[] file = File.ReadAllBytes(Fixtures.Path(name));
        ReadResult big = ReadAll(file, capacity: 1 << 16);
        ReadResult small = ReadAll(file, capacity: 97); // far smaller than a packet: events stay pending between reads
        AssertSameEvents(big.Events, small.Events);
        Assert.Equal(big.Triggers, small.Triggers);
        Assert.Equal(Fixtures.Expected[name].GetProperty("events").GetInt64(), small.Events.Count);
    }

    [Fact]
    public void Tonic_streams_geometry_and_table_are_consistent_with_the_events()
    {
        using var r = Aedat4Reader.Open(Fixtures.Path("tonic/sample.aedat4"));
        Assert.Equal(new[] { "EVTS", "IMUS", "TRIG" }, r.Streams.Select(s => s.TypeIdentifier).ToArray());
        Assert.Equal(Aedat4StreamType.Events, r.Streams[0].Type);
        Assert.False(string.IsNullOrEmpty(r.Streams[0].Source));
        int imu = 0;
        r.ImuReceived = _ => imu++;
        List<DvsEvent> events = ReadEvents(r);
        Aedat4FileTable table = r.FileTable!;
        Assert.True(table.HasTimestamps);
        int eventId = r.Streams.Single(s => s.Type == Aedat4StreamType.Events).Id;
        int imuId = r.Streams.Single(s => s.Type == Aedat4StreamType.Imu).Id;
        var eventEntries = table.Entries.Where(e => e.StreamId == eventId).ToList();
        Assert.Equal(events.Count, eventEntries.Sum(e => e.NumElements));
        Assert.Equal(events.Count, r.TableEvents);
        Assert.Equal(events.Max(e => e.T) - events.Min(e => e.T), r.Duration);
        Assert.Equal(eventEntries.Count, r.EventPacketsRead);

        // IMU samples: counted by the reader, delivered to the callback, and as the table says
        long imuInTable = table.Entries.Where(e => e.StreamId == imuId).Sum(e => e.NumElements);
        Assert.True(imuInTable > 0);
        Assert.Equal(imuInTable, r.ImuSamplesRead);
        Assert.Equal(imuInTable, imu);

        // each EVTS entry's start/end timestamps are those of its packet's first/last event
        int index = 0;
        foreach (Aedat4TableEntry e in eventEntries)
        {
            Assert.Equal(events[index].T, e.TimestampStart);
            Assert.Equal(events[index + (int)e.NumElements - 1].T, e.TimestampEnd);
            index += (int)e.NumElements;
        }
    }

    [Fact]
    public void Shiba_frames_imu_and_triggers_are_surfaced()
    {
        using var r = Aedat4Reader.Open(Fixtures.Path("shiba24/sample.aedat4"));
        Assert.Contains(r.Streams, s => s.Type == Aedat4StreamType.Frames);
        var frames = new List<(short W, short H, int Pixels, byte Format)>();
        int imu = 0;
        r.FrameReceived = f => frames.Add((f.Width, f.Height, f.Pixels.Length, f.Format));
        r.ImuReceived = s =>
        {
            imu++;
            Assert.InRange(s.AccelY, -2f, 2f); // in g: gravity on a still camera
        };
        ReadResult result = Drain(r);
        Aedat4FileTable table = r.FileTable!;
        Assert.False(table.HasTimestamps); // this writer left counts and timestamps 0

        int frameStreamId = r.Streams.Single(s => s.Type == Aedat4StreamType.Frames).Id;
        int triggerStreamId = r.Streams.Single(s => s.Type == Aedat4StreamType.Triggers).Id;
        Assert.Equal(table.Entries.Count(e => e.StreamId == frameStreamId), frames.Count);
        Assert.Equal(frames.Count, r.FramesRead);
        Assert.All(frames, f => Assert.Equal(f.W * f.H, f.Pixels)); // gray 8-bit: one byte per pixel
        Assert.All(frames, f => Assert.Equal(r.Geometry, new SensorGeometry(f.W, f.H)));
        Assert.Equal(r.ImuSamplesRead, imu);
        Assert.True(imu > 0);
        Assert.Equal(table.Entries.Count(e => e.StreamId == triggerStreamId), r.TriggerPacketsRead);
        Assert.Equal(r.TriggersRead, result.Triggers.Count);
        Assert.True(result.Triggers.Count > 0);
        Assert.All(result.Triggers, t => Assert.Equal(ExpectedKind(t.Data), t.Kind));
        Assert.Null(r.Duration);
    }

    [Fact]
    public void Frame_packets_are_skipped_unread_without_a_listener_but_counted()
    {
        string path = Fixtures.Path("shiba24/sample.aedat4");
        using var withListener = Aedat4Reader.Open(path);
        withListener.FrameReceived = _ => { };
        ReadResult a = Drain(withListener);
        using var without = Aedat4Reader.Open(path);
        ReadResult b = Drain(without);
        AssertSameEvents(a.Events, b.Events);
        Assert.Equal(withListener.FramesRead, without.FramesRead);
        Assert.Equal(withListener.PacketsRead, without.PacketsRead);
        Assert.True(without.FramesRead > 0);
    }
}
