using System.Text.Json;
using EventSnn.Events;
using EventSnn.Testing;

namespace EventSnn.IO.Tests;

public class NMnistTests
{
    [Theory]
    [InlineData("tonic/sample_nmnist.bin")]
    [InlineData("shiba24/faces_easy_0001.bin")]
    public void Fixture_matches_expected_statistics(string fixture)
    {
        JsonElement expected = TestData.Expected(fixture);
        using var reader = new NMnistReader(Fixtures.Path(fixture));
        EventStatistics stats = TestData.Stats(reader, batchCapacity: 4096);

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
        Assert.Empty(reader.Warnings);
    }

    [Fact]
    public void Nmnist_sample_is_34x34_and_ncaltech_geometry_is_max_seen_plus_one()
    {
        using (var mnist = new NMnistReader(Fixtures.Path("tonic/sample_nmnist.bin")))
        {
            Assert.Equal(SensorGeometry.NMnist, mnist.Geometry);
        }

        using var caltech = new NMnistReader(Fixtures.Path("shiba24/faces_easy_0001.bin"));
        Assert.Equal(new SensorGeometry(151, 173), caltech.Geometry); // known before reading (seekable source scanned)
    }

    [Fact]
    public void Unseekable_source_grows_geometry_while_reading()
    {
        byte[] data = File.ReadAllBytes(Fixtures.Path("shiba24/faces_easy_0001.bin"));
        using var reader = new NMnistReader(new ForwardOnlyStream(data), "pipe");
        Assert.Equal(SensorGeometry.NMnist, reader.Geometry);
        TestData.Stats(reader);
        Assert.Equal(new SensorGeometry(151, 173), reader.Geometry);
    }

    [Fact]
    public void Overflow_marker_adds_2_pow_13_to_later_timestamps_and_is_not_an_event()
    {
        byte[] data =
        [
            1, 2, 0x80 | 0x01, 0x02, 0x03, // ON, t = 0x010203 = 66051
            0, 240, 0, 0, 0,               // overflow marker
            3, 4, 0x00, 0x00, 0x10,        // OFF, t = 16 + 8192
            0, 240, 0x7F, 0xFF, 0xFF,      // marker (payload ignored)
            5, 6, 0x80, 0x00, 0x00,        // ON, t = 0 + 16384
        ];
        using var reader = new NMnistReader(new MemoryStream(data), "hand.bin");
        (List<DvsEvent> events, _) = TestData.ReadAll(reader, batchCapacity: 2);

        Assert.Equal([new DvsEvent(66051, 1, 2, true), new DvsEvent(8208, 3, 4, false), new DvsEvent(16384, 5, 6, true)], events);
        Assert.Equal(2, reader.OverflowMarkers);
    }

    [Fact]
    public void Trailing_partial_record_is_a_truncation()
    {
        byte[] data = [1, 2, 0x80, 0, 1, 3, 4, 0, 0, 2, 9, 9];
        using (var tolerant = new NMnistReader(new MemoryStream(data), "cut.bin"))
        {
            Assert.Equal(2, TestData.ReadAll(tolerant).Events.Count);
            Assert.Equal(10, Assert.Single(tolerant.Warnings).Offset);
        }

        using var strict = new NMnistReader(new MemoryStream(data), "cut.bin", new ReaderOptions { Strict = true });
        using var batch = new EventBatch(8);
        Assert.True(strict.Read(batch));
        Assert.Equal(2, batch.Count);
        EventFormatException ex = Assert.Throws<EventFormatException>(() => strict.Read(batch));
        Assert.True(ex.IsTruncation);
        Assert.Equal(10, ex.Offset);
    }

    [Fact]
    public void Writer_round_trip_with_overflow_markers()
    {
        long[] t = [0, 5, 8_388_607, 8_388_608, 20_000_000, 20_000_001];
        ushort[] x = [0, 33, 255, 1, 2, 3];
        ushort[] y = [0, 33, 239, 241, 255, 4];
        byte[] p = [1, 0, 1, 0, 1, 1];
        var ms = new MemoryStream();
        using (var writer = new NMnistWriter(ms, leaveOpen: true))
        {
            writer.WriteEvents(t, x, y, p);
            Assert.True(writer.OverflowMarkers > 0);
            Assert.Equal(t.Length, writer.EventsWritten);
        }

        ms.Position = 0;
        using var reader = new NMnistReader(ms, "rt.bin");
        (List<DvsEvent> events, _) = TestData.ReadAll(reader);
        Assert.Equal(t.Length, events.Count);
        for (int i = 0; i < t.Length; i++)
        {
            Assert.Equal(new DvsEvent(t[i], x[i], y[i], p[i] != 0), events[i]);
        }

        Assert.Throws<FormatLimitException>(() => new NMnistWriter(new MemoryStream()).WriteEvents([1], [0], [240], [1]));
    }

    [Fact]
    public void Writer_round_trip_of_a_fixture_is_byte_identical()
    {
        byte[] original = File.ReadAllBytes(Fixtures.Path("tonic/sample_nmnist.bin"));
        using var reader = new NMnistReader(new MemoryStream(original), "in.bin");
        var ms = new MemoryStream();
        using (var writer = new NMnistWriter(ms, leaveOpen: true))
        {
            using var batch = new EventBatch(1000);
            while (reader.Read(batch))
            {
                writer.Write(batch);
            }
        }

        Assert.Equal(original, ms.ToArray());
    }
}

/// <summary>A read-only stream that cannot seek (a pipe or socket stand-in).</summary>
internal sealed class ForwardOnlyStream(byte[] data) : Stream
{
    private int _pos;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _pos; set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = Math.Min(Math.Min(count, 777), data.Length - _pos); // short reads on purpose
        Array.Copy(data, _pos, buffer, offset, n);
        _pos += n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
