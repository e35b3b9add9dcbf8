using EventSnn.Events;
using EventSnn.Testing;
using static EventSnn.IO.Tests.PropheseeTestSupport;

namespace EventSnn.IO.Tests;

public class Evt3Tests
{
    private static ushort AddrY(int y) => (ushort)y;

    private static ushort EmRow(int y) => (ushort)((0x1 << 12) | y);

    private static ushort AddrX(bool on, int x) => (ushort)((0x2 << 12) | ((on ? 1 : 0) << 11) | x);

    private static ushort BaseX(bool on, int x) => (ushort)((0x3 << 12) | ((on ? 1 : 0) << 11) | x);

    private static ushort Vect12(int mask) => (ushort)((0x4 << 12) | mask);

    private static ushort Vect8(int mask) => (ushort)((0x5 << 12) | mask);

    private static ushort Low(int t) => (ushort)((0x6 << 12) | t);

    private static ushort High(int t) => (ushort)((0x8 << 12) | t);

    [Theory]
    [InlineData(EventBatch.DefaultCapacity, 1 << 20)]
    [InlineData(1000, 4096)]
    [InlineData(5, 4097)]
    [InlineData(1, 65536)]
    public void Fixture_reproduces_expected_statistics(int capacity, int bufferBytes)
    {
        const string fixture = "expelliarmus/evt3_sample.raw";
        using var reader = Evt3Reader.Open(Fixtures.Path(fixture), new ReaderOptions { BufferBytes = bufferBytes });
        EventStatistics stats = Statistics(reader, capacity);
        AssertExpected(fixture, stats);
        Assert.Empty(reader.Warnings);
        Assert.Equal(new FileInfo(Fixtures.Path(fixture)).Length, reader.Position);
    }

    [Fact]
    public void Fixture_header_gives_gen41_geometry()
    {
        using var reader = Evt3Reader.Open(Fixtures.Path("expelliarmus/evt3_sample.raw"));
        Assert.Equal(EventFormat.Evt3, reader.Header.DeclaredFormat);
        Assert.Equal(new SensorGeometry(1280, 720), reader.Geometry); // hal_plugin_gen41_evk3
        Assert.Equal("hal_plugin_gen41_evk3", reader.Header.Values["plugin_name"]);
    }

    [Fact]
    public void Small_batches_give_the_same_events_as_large_ones()
    {
        using var big = Evt3Reader.Open(Fixtures.Path("expelliarmus/evt3_sample.raw"));
        List<DvsEvent> expected = ReadAll(big, 1 << 18);
        foreach (int capacity in new[] { 1, 3, 13, 4096 })
        {
            using var small = Evt3Reader.Open(Fixtures.Path("expelliarmus/evt3_sample.raw"), new ReaderOptions { BufferBytes = 4096 });
            AssertSameEvents(expected, ReadAll(small, capacity));
        }
    }

    [Fact]
    public void Addr_x_emits_one_event_with_the_current_row_and_time()
    {
        byte[] file = Evt3File(High(2), Low(7), AddrY(719), AddrX(true, 1279), AddrX(false, 0));
        Assert.Equal([new DvsEvent((2 << 12) + 7, 1279, 719, true), new DvsEvent((2 << 12) + 7, 0, 719, false)], ReadAll(EventFormat.Evt3, file));
    }

    [Fact]
    public void Vect_12_and_vect_8_masks_emit_events_from_the_base_and_advance_it()
    {
        byte[] file = Evt3File(High(1), Low(0), AddrY(9), BaseX(true, 100), Vect12(0b1000_0000_0101), Vect12(0x001), Vect8(0x80), BaseX(false, 3), Vect8(0x03));
        List<DvsEvent> events = ReadAll(EventFormat.Evt3, file);
        Assert.Equal([100, 102, 111, 112, 131, 3, 4], events.Select(e => (int)e.X));
        Assert.All(events, e => Assert.Equal(9, e.Y));
        Assert.All(events, e => Assert.Equal(4096, e.T));
        Assert.Equal([true, true, true, true, true, false, false], events.Select(e => e.On));
    }

    [Fact]
    public void Time_high_wraps_at_two_to_the_24()
    {
        byte[] file = Evt3File(High(0xFFF), Low(0x10), AddrY(5), AddrX(true, 7), High(0), Low(0x20), AddrX(true, 8), High(1), Low(0), AddrX(true, 9));
        List<DvsEvent> events = ReadAll(EventFormat.Evt3, file);
        Assert.Equal([(0xFFFL << 12) + 0x10, (1L << 24) + 0x20, (1L << 24) + 4096], events.Select(e => e.T));
    }

    [Fact]
    public void Time_low_decrease_is_not_a_wrap()
    {
        byte[] file = Evt3File(High(5), Low(100), AddrY(1), AddrX(true, 1), Low(50), AddrX(true, 2));
        List<DvsEvent> events = ReadAll(EventFormat.Evt3, file);
        Assert.Equal([(5L << 12) + 100, (5L << 12) + 50], events.Select(e => e.T));
    }

    [Fact]
    public void Small_time_high_decrease_is_not_a_wrap_and_a_new_time_high_resets_time_low()
    {
        byte[] file = Evt3File(High(100), Low(300), AddrY(1), AddrX(true, 1), High(99), AddrX(true, 2), High(99), AddrX(true, 3));
        List<DvsEvent> events = ReadAll(EventFormat.Evt3, file);
        Assert.Equal([(100L << 12) + 300, 99L << 12, 99L << 12], events.Select(e => e.T));
    }

    [Fact]
    public void Words_before_the_first_time_high_are_ignored()
    {
        byte[] file = Evt3File(AddrY(7), AddrX(true, 1), BaseX(true, 0), Vect8(0xFF), Low(3), High(4), AddrX(true, 2));
        List<DvsEvent> events = ReadAll(EventFormat.Evt3, file);
        Assert.Equal([new DvsEvent(4L << 12, 2, 0, true)], events);
    }

    [Fact]
    public void Exposure_measurement_rows_emit_no_cd_events()
    {
        byte[] file = Evt3File(High(1), EmRow(3), AddrX(true, 1), BaseX(true, 0), Vect8(0xFF), AddrY(4), AddrX(false, 5));
        Assert.Equal([new DvsEvent(4096, 5, 4, false)], ReadAll(EventFormat.Evt3, file));
    }

    [Fact]
    public void External_triggers_and_skipped_words()
    {
        ushort rising = (ushort)((0xA << 12) | (3 << 8) | 1);
        ushort falling = (ushort)((0xA << 12) | (15 << 8));
        byte[] file = Evt3File(High(1), Low(2), rising, 0x7000, 0xF123, 0xE014, 0xD000, Low(9), falling, AddrY(1), AddrX(true, 1));
        var triggers = new List<TriggerEvent>();
        using IDvsEventReader reader = Open(EventFormat.Evt3, file, new ReaderOptions { Strict = true });
        Assert.Single(ReadAll(reader, triggers: triggers));
        Assert.Equal([new TriggerEvent(4098, TriggerKind.ExternalRising, 3), new TriggerEvent(4105, TriggerKind.ExternalFalling, 15)], triggers);
        Assert.Empty(reader.Warnings);
    }

    [Theory]
    [InlineData(0x9)]
    [InlineData(0xB)]
    [InlineData(0xC)]
    public void Reserved_word_types_throw_in_strict_mode(int type)
    {
        byte[] file = Evt3File(High(1), (ushort)(type << 12), AddrY(1), AddrX(true, 1));
        var ex = Assert.Throws<EventFormatException>(() => ReadAll(EventFormat.Evt3, file, new ReaderOptions { Strict = true }));
        Assert.Equal("% evt 3.0\n% end\n".Length + 2, ex.Offset);
        using IDvsEventReader reader = Open(EventFormat.Evt3, file);
        Assert.Single(ReadAll(reader));
        Assert.Single(reader.Warnings);
    }

    [Fact]
    public void Format_line_gives_geometry()
    {
        byte[] file = Raw("% evt 3.0\n% format EVT3;height=720;width=1280\n% end\n", []);
        using var reader = new Evt3Reader(new MemoryStream(file), "f");
        Assert.Equal(new SensorGeometry(1280, 720), reader.Geometry);
        Assert.True(reader.Header.HasEndMarker);
        var batch = new EventBatch(16);
        Assert.False(reader.Read(batch));
        batch.Dispose();
    }
}
