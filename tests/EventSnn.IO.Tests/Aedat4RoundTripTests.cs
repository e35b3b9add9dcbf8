using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Testing;
using static EventSnn.IO.Tests.Aedat4TestSupport;

namespace EventSnn.IO.Tests;

/// <summary>Writer -> reader round trips for every compression, and fixture -> writer -> reader.</summary>
public class Aedat4RoundTripTests
{
    public static TheoryData<Aedat4Compression> Compressions => new()
    {
        Aedat4Compression.None,
        Aedat4Compression.Lz4,
        Aedat4Compression.Lz4High,
        Aedat4Compression.Zstd,
        Aedat4Compression.ZstdHigh,
    };

    [Theory]
    [MemberData(nameof(Compressions))]
    public void Random_events_and_triggers_read_back_identically(Aedat4Compression compression)
    {
        DvsEvent[] events = RandomEvents(30_000, seed: (int)compression + 1);
        TriggerEvent[] triggers = RandomTriggers(300, seed: 77);
        var options = new Aedat4WriterOptions
        {
            Compression = compression,
            Geometry = SensorGeometry.Davis346,
            Source = "DAVIS346_test",
            Triggers = true,
            EventsPerPacket = 4096,
        };
        byte[] file = Write(events, triggers, options, chunk: 1500);

        using var r = new Aedat4Reader(new MemoryStream(file), "rt.aedat4");
        Assert.Equal(compression, r.Compression);
        Assert.Equal(SensorGeometry.Davis346, r.Geometry);
        Assert.Equal("DAVIS346_test", r.Streams[0].Source);
        ReadResult result = Drain(r, capacity: 1000);
        AssertSameEvents(events, result.Events);
        Assert.Equal(triggers, result.Triggers);
        Assert.Empty(result.Warnings);
        Assert.Equal(r.FileTable!.Entries.Count, r.PacketsRead);
    }

    [Theory]
    [MemberData(nameof(Compressions))]
    public void Frames_and_imu_samples_round_trip(Aedat4Compression compression)
    {
        var options = new Aedat4WriterOptions { Compression = compression, Geometry = new SensorGeometry(4, 3), Frames = true, Imu = true };
        byte[] pixels = Enumerable.Range(0, 12).Select(i => (byte)(i * 20)).ToArray();
        var frame = new Aedat4Frame(Aedat4WriterOptions.FrameStreamId, 1000, 900, 1100, 950, 1050, 0, 4, 3, 1, 2, pixels, 100, 1);
        ImuSample[] imu = [new(10, 30.5f, 0.1f, -1f, 0.2f, 1, 2, 3), new(20, 30.6f, 0.2f, -0.9f, 0.3f, 4, 5, 6, 7, 8, 9)];
        using var ms = new MemoryStream();
        using (var w = new Aedat4Writer(ms, options with { LeaveOpen = true }))
        {
            w.WriteImu(imu);
            w.WriteFrame(frame);
            w.WriteEvent(new DvsEvent(5, 1, 2, true));
        }

        using var r = new Aedat4Reader(new MemoryStream(ms.ToArray()), "frames.aedat4");
        var frames = new List<(Aedat4Frame Frame, byte[] Pixels)>();
        var samples = new List<ImuSample>();
        r.FrameReceived = f => frames.Add((f, f.Pixels.ToArray()));
        r.ImuReceived = samples.Add;
        ReadResult result = Drain(r);
        Assert.Equal([new DvsEvent(5, 1, 2, true)], result.Events);
        Assert.Equal(imu, samples);
        (Aedat4Frame got, byte[] gotPixels) = Assert.Single(frames);
        Assert.Equal(frame with { Pixels = default }, got with { Pixels = default });
        Assert.Equal(pixels, gotPixels);
        Assert.Equal(1, r.FramesRead);
        Assert.Equal(2, r.ImuSamplesRead);
    }

    [Theory]
    [InlineData("tonic/sample.aedat4", Aedat4Compression.Lz4)]
    [InlineData("tonic/sample.aedat4", Aedat4Compression.Zstd)]
    [InlineData("tonic/sample.aedat4", Aedat4Compression.None)]
    [InlineData("shiba24/sample.aedat4", Aedat4Compression.Lz4)]
    [InlineData("shiba24/sample.aedat4", Aedat4Compression.Lz4High)]
    [InlineData("shiba24/sample.aedat4", Aedat4Compression.ZstdHigh)]
    public void Fixture_through_writer_reads_back_as_the_fixture(string name, Aedat4Compression compression)
    {
        using var source = Aedat4Reader.Open(Fixtures.Path(name));
        ReadResult original;
        using var ms = new MemoryStream();
        using (var w = new Aedat4Writer(ms, new Aedat4WriterOptions { Compression = compression, Geometry = source.Geometry, Triggers = true, LeaveOpen = true }))
        {
            var events = new List<DvsEvent>();
            var triggers = new List<TriggerEvent>();
            using var batch = new EventBatch(5000);
            while (source.Read(batch))
            {
                events.AddRange(batch.ToArray());
                triggers.AddRange(batch.Triggers.Items.ToArray());
                w.WriteEvents(batch);
            }

            original = new ReadResult(events, triggers, 0, [], 0, 0);
        }

        using var copy = new Aedat4Reader(new MemoryStream(ms.ToArray()), "copy.aedat4");
        ReadResult result = Drain(copy);
        AssertSameEvents(original.Events, result.Events);
        Assert.Equal(original.Triggers, result.Triggers);
        Assert.Equal(source.Geometry, copy.Geometry);
        Assert.Equal(Fixtures.Expected[name].GetProperty("events").GetInt64(), result.Events.Count);
    }

    [Fact]
    public void Network_stream_without_magic_line_reads_the_same_events()
    {
        DvsEvent[] events = RandomEvents(10_000, seed: 5);
        TriggerEvent[] triggers = RandomTriggers(20, seed: 6);
        // a network sender has no table: write to a non-seekable sink
        var sink = new NonSeekableSink();
        using (var w = new Aedat4Writer(sink, new Aedat4WriterOptions { Geometry = SensorGeometry.DvXplorer, Triggers = true, EventsPerPacket = 777 }))
        {
            WriteTo(w, events, triggers, chunk: 333);
        }

        byte[] file = sink.Inner.ToArray();
        using var fileReader = new Aedat4Reader(new MemoryStream(file), "file");
        Assert.Equal(-1, fileReader.DataTablePosition);
        Assert.Null(fileReader.FileTable);

        byte[] wire = file[14..]; // DV TCP: uint32 size + IOHeader, then packets
        ReadResult result = ReadAll(new NonSeekableStream(wire, chunk: 1000), "tcp://127.0.0.1:7777", network: true, capacity: 512);
        AssertSameEvents(events, result.Events);
        Assert.Equal(triggers, result.Triggers);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void Network_reader_returns_per_packet_without_waiting_to_fill_the_batch()
    {
        DvsEvent[] events = RandomEvents(1000, seed: 8);
        byte[] file = Write(events, null, new Aedat4WriterOptions { Geometry = SensorGeometry.Davis346, EventsPerPacket = 100 });
        using var r = new Aedat4Reader(new NonSeekableStream(file[14..]), "tcp", networkStream: true);
        using var batch = new EventBatch(4096);
        Assert.True(r.Read(batch));
        Assert.Equal(100, batch.Count);
        Assert.Throws<NotSupportedException>(() => r.SeekToTime(0));
    }

    [Fact]
    public void Packet_decoder_decodes_a_payload_into_a_batch()
    {
        DvsEvent[] events = RandomEvents(300, seed: 9);
        byte[] file = Write(events, null, new Aedat4WriterOptions { Geometry = SensorGeometry.Davis346, EventsPerPacket = 1000 });
        var map = PacketMap(file);
        (long start, long end, int streamId, int count) = Assert.Single(map);
        Assert.Equal(300, count);
        using var decoder = new Aedat4PacketDecoder(Aedat4Compression.Lz4, "decoder");
        Assert.Equal(Aedat4StreamType.Events, decoder.Load(streamId, file.AsSpan((int)start + 8, (int)(end - start - 8)), start + 8));
        using var batch = new EventBatch(128);
        var got = new List<DvsEvent>();
        while (decoder.HasPending)
        {
            batch.Clear();
            decoder.Drain(batch);
            got.AddRange(batch.ToArray());
        }

        Assert.Equal(events, got);
    }

    [Fact]
    public void Writer_splits_spans_into_packets_of_the_configured_size()
    {
        DvsEvent[] events = RandomEvents(2500, seed: 10);
        byte[] file = Write(events, null, new Aedat4WriterOptions { Geometry = SensorGeometry.Davis346, EventsPerPacket = 1000 }, chunk: 700);
        var map = PacketMap(file);
        Assert.Equal(new[] { 1000, 1000, 500 }, map.Select(p => p.Events).ToArray());
    }

    [Fact]
    public void Writer_rejects_undeclared_streams_and_mismatched_spans()
    {
        using var w = new Aedat4Writer(new MemoryStream(), new Aedat4WriterOptions { Geometry = SensorGeometry.Davis346 });
        Assert.Throws<InvalidOperationException>(() => w.WriteTriggers([new TriggerEvent(1, TriggerKind.ExternalRising)]));
        Assert.Throws<InvalidOperationException>(() => w.WriteImu([new ImuSample(1, 0, 0, 0, 0, 0, 0, 0)]));
        Assert.Throws<ArgumentException>(() => w.WriteEvents(new long[2], new ushort[2], new ushort[1], new byte[2]));
    }

    [Fact]
    public void Writer_file_on_disk_reads_back_through_Open()
    {
        string path = Path.Combine(Path.GetTempPath(), $"eventsnn-aedat4-{Guid.NewGuid():N}.aedat4");
        try
        {
            DvsEvent[] events = RandomEvents(5000, seed: 11);
            using (Aedat4Writer w = Aedat4Writer.Create(path, new Aedat4WriterOptions { Geometry = SensorGeometry.Davis346 }))
            {
                WriteTo(w, events, null);
            }

            using Aedat4Reader r = Aedat4Reader.Open(path);
            Assert.Equal(path, r.SourceName);
            Assert.Equal(events, ReadEvents(r));
            Assert.NotNull(r.FileTable);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
