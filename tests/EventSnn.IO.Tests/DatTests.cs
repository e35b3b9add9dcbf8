using EventSnn.Events;
using EventSnn.Testing;
using static EventSnn.IO.Tests.PropheseeTestSupport;

namespace EventSnn.IO.Tests;

public class DatTests
{
    private const string Header = "% Data file containing CD events\n% Version 2\n% Width 304\n% Height 240\n";

    private static byte[] Dat(byte type, byte size, params (uint T, uint W)[] records) =>
        Raw(Header, [type, size, .. records.SelectMany(r => BitConverter.GetBytes(r.T).Concat(BitConverter.GetBytes(r.W)))]);

    private static uint W(int x, int y, int p) => (uint)x | ((uint)y << 14) | ((uint)p << 28);

    [Theory]
    [InlineData("tonic/sample_ncars.dat", EventBatch.DefaultCapacity, 1 << 20)]
    [InlineData("tonic/sample_ncars.dat", 3, 4096)]
    [InlineData("loris/NCARS_obj_004397_td.dat", EventBatch.DefaultCapacity, 1 << 20)]
    [InlineData("loris/NCARS_obj_004397_td.dat", 100, 4100)]
    public void Fixture_reproduces_expected_statistics(string fixture, int capacity, int bufferBytes)
    {
        using var reader = DatReader.Open(Fixtures.Path(fixture), new ReaderOptions { BufferBytes = bufferBytes });
        EventStatistics stats = Statistics(reader, capacity);
        AssertExpected(fixture, stats);
        Assert.Empty(reader.Warnings);
        Assert.Equal(0, reader.EventType);
        Assert.False(reader.IsTriggerFile);
        Assert.Equal(new FileInfo(Fixtures.Path(fixture)).Length, reader.Position);
        Assert.Equal(SensorGeometry.Unknown, reader.Header.Geometry); // N-CARS files declare no size
        Assert.Equal(new SensorGeometry(stats.XMax + 1, stats.YMax + 1), reader.Geometry);
    }

    [Fact]
    public void Decodes_records_with_width_height_header()
    {
        byte[] file = Dat(12, 8, (5, W(303, 239, 1)), (6, W(0, 1, 0)), (7, W(2, 3, 0xF)));
        using var reader = new DatReader(new MemoryStream(file), "d");
        Assert.Equal(new SensorGeometry(304, 240), reader.Geometry);
        Assert.Equal("2", reader.Header.Values["Version"]);
        Assert.Equal(Header.Length + 2, reader.DataOffset);
        Assert.Equal([new DvsEvent(5, 303, 239, true), new DvsEvent(6, 0, 1, false), new DvsEvent(7, 2, 3, true)], ReadAll(reader));
    }

    [Fact]
    public void Event_size_other_than_8_is_a_clear_error()
    {
        byte[] file = Dat(12, 16, (5, W(1, 1, 1)));
        var ex = Assert.Throws<EventFormatException>(() => new DatReader(new MemoryStream(file), "bad.dat"));
        Assert.Equal("event size", ex.Field);
        Assert.Equal(Header.Length + 1, ex.Offset);
        Assert.Contains("16", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsupported_event_type_is_an_error()
    {
        byte[] file = Dat(3, 8, (5, W(1, 1, 1)));
        var ex = Assert.Throws<EventFormatException>(() => new DatReader(new MemoryStream(file), "bad.dat"));
        Assert.Equal("event type", ex.Field);
        Assert.Equal(Header.Length, ex.Offset);
    }

    [Fact]
    public void Trigger_files_give_triggers()
    {
        byte[] file = Dat(14, 8, (10, 1u | (3u << 26)), (20, 0u | (63u << 26)));
        var triggers = new List<TriggerEvent>();
        using var reader = new DatReader(new MemoryStream(file), "trig.dat");
        Assert.True(reader.IsTriggerFile);
        Assert.Empty(ReadAll(reader, triggers: triggers));
        Assert.Equal([new TriggerEvent(10, TriggerKind.ExternalRising, 3), new TriggerEvent(20, TriggerKind.ExternalFalling, 63)], triggers);
    }

    [Fact]
    public void Thirty_two_bit_timestamps_are_unwrapped_but_small_decreases_are_kept()
    {
        byte[] file = Dat(12, 8, (uint.MaxValue - 1, W(1, 1, 1)), (3, W(1, 1, 1)), (2, W(1, 1, 1)), (0x8000_0001, W(1, 1, 1)));
        List<DvsEvent> events = ReadAll(EventFormat.Dat, file);
        Assert.Equal([(long)uint.MaxValue - 1, (1L << 32) + 3, (1L << 32) + 2, (1L << 32) + 0x8000_0001], events.Select(e => e.T));
    }

    [Fact]
    public void Header_only_file_has_no_events_and_a_cut_type_byte_is_a_truncation()
    {
        byte[] headerOnly = Raw(Header, []);
        Assert.Empty(ReadAll(EventFormat.Dat, headerOnly, new ReaderOptions { Strict = true }));

        byte[] cut = Raw(Header, [12]);
        var ex = Assert.Throws<EventFormatException>(() => new DatReader(new MemoryStream(cut), "cut.dat", new ReaderOptions { Strict = true }));
        Assert.True(ex.IsTruncation);
        using var tolerant = new DatReader(new MemoryStream(cut), "cut.dat");
        Assert.Empty(ReadAll(tolerant));
        Assert.Single(tolerant.Warnings);
    }

    [Fact]
    public void Fixture_header_lines_are_exposed()
    {
        using var reader = DatReader.Open(Fixtures.Path("tonic/sample_ncars.dat"));
        Assert.Equal(3, reader.Header.Lines.Count);
        Assert.Equal("% Version 2", reader.Header.Lines[1]);
        Assert.Equal(EventFormat.Unknown, reader.Header.DeclaredFormat);
        Assert.Equal(EventFormat.Dat, reader.Format);
    }
}
