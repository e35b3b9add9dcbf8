using EventSnn.Events;
using EventSnn.Testing;

namespace EventSnn.IO.Tests;

public class Aedat2WriterTests
{
    private static EventBatch RandomBatch(int count, int width, int height, long t0, int seed)
    {
        var rng = new Random(seed);
        var batch = new EventBatch(count);
        long t = t0;
        for (int i = 0; i < count; i++)
        {
            t += rng.Next(0, 20);
            batch.Add(t, rng.Next(width), rng.Next(height), rng.Next(2) == 1);
        }

        return batch;
    }

    [Theory]
    [InlineData(JaerChip.Davis, 346, 260)]
    [InlineData(JaerChip.Davis, 240, 180)]
    [InlineData(JaerChip.Davis, 0, 0)]
    [InlineData(JaerChip.Dvs128, 128, 128)]
    public void Round_trip_preserves_events_and_trigger_times(JaerChip chip, int width, int height)
    {
        var geometry = new SensorGeometry(width, height);
        using EventBatch batch = RandomBatch(10_000, width == 0 ? 1024 : width, height == 0 ? 512 : height, 0, width + height);
        batch.Triggers.Add(new TriggerEvent(batch.T[0], TriggerKind.ExternalRising));
        batch.Triggers.Add(new TriggerEvent(batch.T[5000], TriggerKind.ExternalFalling));
        batch.Triggers.Add(new TriggerEvent(batch.T[9999] + 1, TriggerKind.External));
        var ms = new MemoryStream();
        using (var writer = new Aedat2Writer(ms, chip, geometry, leaveOpen: true))
        {
            writer.Write(batch);
            Assert.Equal(10_000, writer.EventsWritten);
            Assert.Equal(3, writer.TriggersWritten);
        }

        ms.Position = 0;
        using var reader = new Aedat2Reader(ms, "rt.aedat");
        (List<DvsEvent> events, List<TriggerEvent> triggers) = TestData.ReadAll(reader, batchCapacity: 777);

        Assert.Equal(chip, reader.Chip);
        Assert.False(reader.ChipInferred);
        Assert.Equal(chip == JaerChip.Dvs128 ? SensorGeometry.Dvs128 : geometry, reader.Geometry);
        Assert.Equal(batch.ToArray(), events);
        Assert.Equal(batch.Triggers.Items.ToArray().Select(t => t.T), triggers.Select(t => t.T));
        Assert.All(triggers, t => Assert.Equal(TriggerKind.External, t.Kind));
        Assert.Equal(6, reader.HeaderLines); // version, 3 comment lines, AEChip, end marker
    }

    [Fact]
    public void Timestamps_beyond_the_int32_range_survive_through_the_wrap()
    {
        using EventBatch batch = RandomBatch(50_000, 346, 260, (1L << 32) - 200_000, 7);
        var ms = new MemoryStream();
        using (var writer = new Aedat2Writer(ms, JaerChip.Davis, SensorGeometry.Davis346, leaveOpen: true))
        {
            writer.Write(batch);
        }

        ms.Position = 0;
        using var reader = new Aedat2Reader(ms, "wrap.aedat");
        (List<DvsEvent> events, _) = TestData.ReadAll(reader, batchCapacity: 4096);
        Assert.Equal(batch.ToArray(), events);
        Assert.True(events[^1].T > 1L << 32);
    }

    [Fact]
    public void Fixture_events_round_trip_through_the_writer()
    {
        using var reader = new Aedat2Reader(Fixtures.Path("pyaedattools/IMU_translBoxes.aedat"));
        var ms = new MemoryStream();
        var original = new List<DvsEvent>();
        using (var writer = new Aedat2Writer(ms, reader.Chip, reader.Geometry, leaveOpen: true))
        {
            using var batch = new EventBatch(10_000);
            while (reader.Read(batch))
            {
                original.AddRange(batch.ToArray());
                writer.Write(batch);
            }

            Assert.Equal("eu.seebetter.ini.chips.davis.DAVIS240C", writer.AeChipClass);
        }

        ms.Position = 0;
        using var again = new Aedat2Reader(ms, "copy.aedat");
        Assert.Equal(original, TestData.ReadAll(again).Events);
    }

    [Fact]
    public void Writer_rejects_events_outside_the_sensor_and_unmapped_sizes()
    {
        using var writer = new Aedat2Writer(new MemoryStream(), JaerChip.Davis, SensorGeometry.Davis240);
        Assert.Throws<FormatLimitException>(() => writer.Write(new DvsEvent(0, 240, 0, true)));
        FormatLimitException noClass = Assert.Throws<FormatLimitException>(() => new Aedat2Writer(new MemoryStream(), JaerChip.Davis, new SensorGeometry(100, 100)));
        Assert.Contains("100 x 100", noClass.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Parameter", noClass.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Aedat2Writer(new MemoryStream(), JaerChip.Unknown, SensorGeometry.Unknown));
    }

    [Fact]
    public void Writer_refuses_times_jAER_cannot_unwrap_before_writing_the_batch()
    {
        var ms = new MemoryStream();
        using var writer = new Aedat2Writer(ms, JaerChip.Dvs128, SensorGeometry.Dvs128, leaveOpen: true);
        writer.Flush();
        long header = ms.Length;
        Assert.Throws<FormatLimitException>(() => writer.Write(new DvsEvent(1L << 32, 0, 0, true)));
        Assert.Throws<FormatLimitException>(() => writer.Write(new DvsEvent(-1, 0, 0, true)));
        writer.Write(new DvsEvent(5, 0, 0, true));
        using var batch = new EventBatch(4);
        batch.Add(10, 1, 1, true);
        batch.Add(10 + (1L << 31), 1, 1, true);
        Assert.Throws<FormatLimitException>(() => writer.Write(batch));
        writer.Flush();
        Assert.Equal(header + 8, ms.Length); // only the accepted event
    }
}
