using EventSnn.Events;
using EventSnn.Testing;
using static EventSnn.IO.Tests.PropheseeTestSupport;

namespace EventSnn.IO.Tests;

public class Evt2Tests
{
    private static uint Cd(bool on, int low, int x, int y) => ((on ? 1u : 0u) << 28) | ((uint)low << 22) | ((uint)x << 11) | (uint)y;

    private static uint TimeHigh(uint th) => (0x8u << 28) | th;

    [Theory]
    [InlineData("expelliarmus/evt2_sample.raw", EventBatch.DefaultCapacity, 1 << 20)]
    [InlineData("expelliarmus/evt2_sample.raw", 1000, 4096)]
    [InlineData("expelliarmus/evt2_sample.raw", 7, 4099)]
    [InlineData("faery/evt2.raw", EventBatch.DefaultCapacity, 1 << 20)]
    [InlineData("faery/evt2.raw", 333, 5000)]
    public void Fixture_reproduces_expected_statistics(string fixture, int capacity, int bufferBytes)
    {
        using var reader = Evt2Reader.Open(Fixtures.Path(fixture), new ReaderOptions { BufferBytes = bufferBytes });
        EventStatistics stats = Statistics(reader, capacity);
        AssertExpected(fixture, stats);
        Assert.Empty(reader.Warnings);
        Assert.Equal(new FileInfo(Fixtures.Path(fixture)).Length, reader.Position);
    }

    [Fact]
    public void Fixture_header_gives_format_and_gen3_geometry()
    {
        using var reader = Evt2Reader.Open(Fixtures.Path("expelliarmus/evt2_sample.raw"));
        Assert.Equal(EventFormat.Evt2, reader.Header.DeclaredFormat);
        Assert.Equal(new SensorGeometry(640, 480), reader.Geometry); // plugin_name hal_plugin_gen3_fx3
        Assert.Equal("30384338", reader.Header.Values["serial_number"]);
        Assert.Equal("2.0", reader.Header.Values["evt"]);
        Assert.Equal(7, reader.Header.Lines.Count);
        Assert.Equal(reader.Header.ByteLength, reader.DataOffset);
        Assert.Equal(EventFormat.Evt2, reader.Format);
    }

    [Fact]
    public void Decodes_fields_and_composes_time_from_time_high_and_low_bits()
    {
        byte[] file = Evt2File(TimeHigh(1000), Cd(true, 5, 639, 479), Cd(false, 63, 0, 1));
        List<DvsEvent> events = ReadAll(EventFormat.Evt2, file);
        Assert.Equal([new DvsEvent((1000 << 6) + 5, 639, 479, true), new DvsEvent((1000 << 6) + 63, 0, 1, false)], events);
    }

    [Fact]
    public void Events_before_the_first_time_high_are_ignored()
    {
        byte[] file = Evt2File(Cd(true, 1, 2, 3), Cd(false, 1, 2, 3), TimeHigh(2), Cd(true, 1, 4, 5));
        List<DvsEvent> events = ReadAll(EventFormat.Evt2, file);
        Assert.Equal([new DvsEvent(129, 4, 5, true)], events);
    }

    [Fact]
    public void Time_high_wrap_adds_two_to_the_34()
    {
        const uint max = 0x0FFF_FFFF;
        byte[] file = Evt2File(TimeHigh(max), Cd(true, 5, 1, 1), TimeHigh(0), Cd(true, 3, 1, 1), TimeHigh(1), Cd(false, 0, 1, 1));
        List<DvsEvent> events = ReadAll(EventFormat.Evt2, file);
        Assert.Equal(((long)max << 6) + 5, events[0].T);
        Assert.Equal((1L << 34) + 3, events[1].T);
        Assert.Equal((1L << 34) + 64, events[2].T);
    }

    [Fact]
    public void Small_time_high_decrease_is_not_a_wrap()
    {
        byte[] file = Evt2File(TimeHigh(100), Cd(true, 0, 1, 1), TimeHigh(99), Cd(true, 1, 1, 1));
        List<DvsEvent> events = ReadAll(EventFormat.Evt2, file);
        Assert.Equal([100L * 64, 99L * 64 + 1], events.Select(e => e.T));
    }

    [Fact]
    public void External_triggers_go_to_the_trigger_buffer()
    {
        uint trigger = (0xAu << 28) | (7u << 22) | (5u << 8) | 1u;
        uint falling = (0xAu << 28) | (8u << 22) | (31u << 8);
        byte[] file = Evt2File(TimeHigh(10), trigger, Cd(true, 9, 1, 2), falling);
        var triggers = new List<TriggerEvent>();
        List<DvsEvent> events = ReadAll(EventFormat.Evt2, file, triggers: triggers);
        Assert.Single(events);
        Assert.Equal([new TriggerEvent(647, TriggerKind.ExternalRising, 5), new TriggerEvent(648, TriggerKind.ExternalFalling, 31)], triggers);
    }

    [Fact]
    public void Imu_others_and_continued_words_are_skipped()
    {
        byte[] file = Evt2File(TimeHigh(1), 0xD000_0000, 0xF000_0001, 0xF000_0002, 0xF000_0003, 0xF000_0004, 0xF000_0005, 0xE000_1234, Cd(true, 1, 1, 1));
        using IDvsEventReader reader = Open(EventFormat.Evt2, file, new ReaderOptions { Strict = true });
        Assert.Equal([new DvsEvent(65, 1, 1, true)], ReadAll(reader));
        Assert.Empty(reader.Warnings);
    }

    [Fact]
    public void Unknown_word_type_throws_in_strict_mode_and_is_skipped_with_a_warning_otherwise()
    {
        byte[] file = Evt2File(TimeHigh(1), 0x3000_0000, Cd(true, 1, 1, 1));
        int headerLength = "% evt 2.0\n% end\n".Length;
        var ex = Assert.Throws<EventFormatException>(() => ReadAll(EventFormat.Evt2, file, new ReaderOptions { Strict = true }));
        Assert.Equal(headerLength + 4, ex.Offset);
        Assert.False(ex.IsTruncation);

        using IDvsEventReader reader = Open(EventFormat.Evt2, file);
        Assert.Single(ReadAll(reader));
        Assert.Equal(headerLength + 4, Assert.Single(reader.Warnings).Offset);
    }

    [Fact]
    public void Header_declaring_another_encoding_is_rejected()
    {
        byte[] file = Raw("% evt 3.0\n% end\n", new byte[8]);
        var ex = Assert.Throws<EventFormatException>(() => new Evt2Reader(new MemoryStream(file), "x.raw"));
        Assert.Equal("x.raw", ex.SourceName);
        Assert.Contains("evt3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Events_outside_the_declared_geometry_are_kept_and_counted()
    {
        byte[] file = Raw("% format EVT2;height=10;width=20\n% end\n", new[] { TimeHigh(1), Cd(true, 0, 25, 3), Cd(true, 0, 5, 3) }.SelectMany(BitConverter.GetBytes));
        using var reader = new Evt2Reader(new MemoryStream(file), "g");
        Assert.Equal(new SensorGeometry(20, 10), reader.Geometry);
        Assert.Equal(2, ReadAll(reader).Count);
        Assert.Equal(1, reader.OutOfGeometryEvents);
        Assert.Single(reader.Warnings);
        Assert.Equal(new SensorGeometry(20, 10), reader.Geometry);
    }

    [Fact]
    public void Unknown_geometry_is_implied_by_the_largest_address_seen()
    {
        byte[] file = Evt2File(TimeHigh(1), Cd(true, 0, 25, 3), Cd(true, 0, 5, 9));
        using var reader = new Evt2Reader(new MemoryStream(file), "g");
        Assert.Equal(SensorGeometry.Unknown, reader.Geometry);
        ReadAll(reader);
        Assert.Equal(new SensorGeometry(26, 10), reader.Geometry);
        Assert.Equal(0, reader.OutOfGeometryEvents);
    }

    [Fact]
    public void Headerless_stream_and_crlf_header_are_read()
    {
        byte[] headerless = [.. new[] { TimeHigh(3), Cd(false, 2, 7, 8) }.SelectMany(BitConverter.GetBytes)];
        Assert.Equal([new DvsEvent(194, 7, 8, false)], ReadAll(EventFormat.Evt2, headerless));

        byte[] crlf = Raw("% evt 2.0\r\n% geometry 320x240\r\n", new[] { TimeHigh(3), Cd(false, 2, 7, 8) }.SelectMany(BitConverter.GetBytes));
        using var reader = new Evt2Reader(new MemoryStream(crlf), "crlf");
        Assert.Equal(new SensorGeometry(320, 240), reader.Geometry);
        Assert.Equal("320x240", reader.Header.Values["geometry"]);
        Assert.Equal([new DvsEvent(194, 7, 8, false)], ReadAll(reader));
    }

    [Fact]
    public void Data_starting_with_a_percent_byte_is_not_taken_for_header()
    {
        // TIME_HIGH word whose first byte is '%' (0x25) and which contains control bytes before any LF
        uint th = 0x8000_0025;
        byte[] file = Raw("% evt 2.0\n", new[] { th, Cd(true, 1, 2, 3) }.SelectMany(BitConverter.GetBytes));
        using var reader = new Evt2Reader(new MemoryStream(file), "pct");
        Assert.Single(reader.Header.Lines);
        Assert.Equal([new DvsEvent((0x25L << 6) + 1, 2, 3, true)], ReadAll(reader));
    }

    [Fact]
    public void Leave_open_keeps_the_stream_and_dispose_closes_it_otherwise()
    {
        byte[] file = Evt2File(TimeHigh(1), Cd(true, 1, 1, 1));
        var kept = new MemoryStream(file);
        using (var reader = new Evt2Reader(kept, "k", leaveOpen: true))
        {
            Assert.Single(ReadAll(reader));
        }

        Assert.True(kept.CanRead);
        var owned = new MemoryStream(file);
        new Evt2Reader(owned, "o").Dispose();
        Assert.False(owned.CanRead);
    }

    [Fact]
    public void Reading_after_dispose_is_an_object_disposed_error()
    {
        var reader = new Evt2Reader(new MemoryStream(Evt2File(TimeHigh(1))), "d");
        reader.Dispose();
        using var batch = new EventBatch(4);
        Assert.Throws<ObjectDisposedException>(() => reader.Read(batch));
    }
}
