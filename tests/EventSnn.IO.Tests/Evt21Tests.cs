using System.Numerics;
using EventSnn.Events;
using static EventSnn.IO.Tests.PropheseeTestSupport;

namespace EventSnn.IO.Tests;

public class Evt21Tests
{
    private static ulong Cd(bool on, int low, int xBase, int y, uint mask) =>
        ((on ? 1UL : 0UL) << 60) | ((ulong)low << 54) | ((ulong)xBase << 43) | ((ulong)y << 32) | mask;

    private static ulong TimeHigh(uint th) => (0x8UL << 60) | ((ulong)th << 32);

    [Fact]
    public void Validity_mask_emits_one_event_per_set_bit()
    {
        byte[] file = Evt21File(TimeHigh(2), Cd(true, 3, 64, 10, 0x8000_0005), Cd(false, 4, 0, 11, 0x1));
        List<DvsEvent> events = ReadAll(EventFormat.Evt21, file);
        long t = (2 << 6) + 3;
        Assert.Equal([new DvsEvent(t, 64, 10, true), new DvsEvent(t, 66, 10, true), new DvsEvent(t, 95, 10, true), new DvsEvent(t + 1, 0, 11, false)], events);
    }

    [Fact]
    public void Legacy_word_order_is_taken_from_the_header()
    {
        ulong[] words = [TimeHigh(2), Cd(true, 3, 32, 10, 0x3)];
        byte[] legacy = Raw("% evt 2.1\n% format EVT21;endianness=legacy;height=720;width=1280\n% end\n",
            words.SelectMany(w => BitConverter.GetBytes(BitOperations.RotateLeft(w, 32))));
        using var reader = new Evt21Reader(new MemoryStream(legacy), "legacy");
        Assert.True(reader.LegacyWordOrder);
        Assert.Equal(new SensorGeometry(1280, 720), reader.Geometry);
        Assert.Equal([new DvsEvent(131, 32, 10, true), new DvsEvent(131, 33, 10, true)], ReadAll(reader));
    }

    [Fact]
    public void Time_high_wraps_and_words_before_it_are_ignored()
    {
        byte[] file = Evt21File(Cd(true, 0, 0, 0, 1), TimeHigh(0x0FFF_FFFF), Cd(true, 1, 0, 0, 1), TimeHigh(0), Cd(true, 2, 0, 0, 1));
        List<DvsEvent> events = ReadAll(EventFormat.Evt21, file);
        Assert.Equal([(0x0FFF_FFFFL << 6) + 1, (1L << 34) + 2], events.Select(e => e.T));
    }

    [Fact]
    public void Triggers_and_unknown_words()
    {
        ulong trigger = (0xAUL << 60) | (5UL << 54) | (17UL << 40) | (1UL << 32);
        byte[] file = Evt21File(TimeHigh(1), trigger, 0xE000_0000_0000_0000, 0xF000_0000_0000_0001, Cd(false, 0, 0, 1, 1));
        var triggers = new List<TriggerEvent>();
        using IDvsEventReader reader = Open(EventFormat.Evt21, file, new ReaderOptions { Strict = true });
        Assert.Single(ReadAll(reader, triggers: triggers));
        Assert.Equal([new TriggerEvent(69, TriggerKind.ExternalRising, 17)], triggers);

        byte[] bad = Evt21File(TimeHigh(1), 0x3000_0000_0000_0000, Cd(false, 0, 0, 1, 1));
        var ex = Assert.Throws<EventFormatException>(() => ReadAll(EventFormat.Evt21, bad, new ReaderOptions { Strict = true }));
        Assert.Equal("% evt 2.1\n% end\n".Length + 8, ex.Offset);
    }

    [Fact]
    public void Full_masks_survive_tiny_batches()
    {
        byte[] file = Evt21File(TimeHigh(1), Cd(true, 0, 0, 1, uint.MaxValue), Cd(false, 1, 32, 2, uint.MaxValue));
        List<DvsEvent> expected = ReadAll(EventFormat.Evt21, file);
        Assert.Equal(64, expected.Count);
        foreach (int capacity in new[] { 1, 5, 31, 33 })
        {
            Assert.Equal(expected, ReadAll(EventFormat.Evt21, file, capacity: capacity));
        }
    }
}
