using EventSnn.Events;
using EventSnn.Testing;
using static EventSnn.IO.Tests.PropheseeTestSupport;

namespace EventSnn.IO.Tests;

public class PropheseeRoundTripTests
{
    /// <summary>Sensor-like random events: rows of adjacent pixels sharing a timestamp, time gaps from 0 to <paramref name="maxGap"/>.</summary>
    internal static List<DvsEvent> RandomEvents(int seed, int count, long t0, long maxGap, int width, int height)
    {
        var rng = new Random(seed);
        var events = new List<DvsEvent>(count);
        long t = t0;
        while (events.Count < count)
        {
            int r = rng.Next(100);
            t += r < 40 ? 0 : r < 90 ? rng.Next(1, 200) : r < 98 ? rng.Next(200, 100_000) : (long)(rng.NextDouble() * maxGap);
            int rows = rng.Next(1, 4);
            int y = rng.Next(height - rows);
            for (int row = 0; row < rows && events.Count < count; row++, y++)
            {
                bool on = rng.Next(2) == 1;
                int x = rng.Next(width);
                int run = rng.Next(1, 40);
                for (int k = 0; k < run && x < width && events.Count < count; k++)
                {
                    events.Add(new DvsEvent(t, (ushort)x, (ushort)y, on));
                    x += rng.Next(1, 3);
                }
            }
        }

        return events;
    }

    internal static List<TriggerEvent> RandomTriggers(int seed, IReadOnlyList<DvsEvent> events, int count, int maxId)
    {
        var rng = new Random(seed);
        var times = new List<long>();
        for (int i = 0; i < count; i++)
        {
            times.Add(events[rng.Next(events.Count)].T + rng.Next(0, 3));
        }

        times.Sort();
        return times.Select(t => new TriggerEvent(t, rng.Next(2) == 0 ? TriggerKind.ExternalRising : TriggerKind.ExternalFalling, rng.Next(maxId + 1))).ToList();
    }

    [Theory]
    [InlineData(EventFormat.Evt2, 0L, 1L << 20, 1)]
    [InlineData(EventFormat.Evt2, (1L << 34) - 5_000_000, 1L << 36, 2)] // crosses 34-bit wraps, gaps beyond the counter range
    [InlineData(EventFormat.Evt21, 0L, 1L << 20, 3)]
    [InlineData(EventFormat.Evt21, (1L << 34) - 5_000_000, 1L << 36, 4)]
    [InlineData(EventFormat.Evt3, 0L, 1L << 20, 5)]
    [InlineData(EventFormat.Evt3, (1L << 24) - 50_000, 1L << 26, 6)] // crosses many 24-bit wraps, gaps beyond half the range
    [InlineData(EventFormat.Evt3, 5L << 40, 1L << 30, 7)] // first timestamp far beyond the counter range
    [InlineData(EventFormat.Dat, 0L, 1L << 20, 8)]
    [InlineData(EventFormat.Dat, (1L << 32) - 2_000_000, (1L << 31) - 1, 9)] // crosses the 32-bit wrap
    public void Writer_output_reads_back_identically(EventFormat format, long t0, long maxGap, int seed)
    {
        var geometry = new SensorGeometry(1280, 720);
        List<DvsEvent> events = RandomEvents(seed, 20_000, t0, maxGap, geometry.Width, geometry.Height);
        List<TriggerEvent>? triggers = format == EventFormat.Dat ? null : RandomTriggers(seed, events, 50, format == EventFormat.Evt3 ? 15 : 31);
        byte[] file = Write(format, geometry, events, triggers, batchSize: 777);
        foreach (int capacity in new[] { EventBatch.DefaultCapacity, 100, 1 })
        {
            var readTriggers = new List<TriggerEvent>();
            using IDvsEventReader reader = Open(format, file, new ReaderOptions { Strict = true, BufferBytes = 4096 });
            AssertSameEvents(events, ReadAll(reader, capacity, readTriggers));
            Assert.Equal(geometry, reader.Geometry);
            Assert.Empty(reader.Warnings);
            if (triggers is not null)
            {
                Assert.Equal(triggers, readTriggers);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Evt21_writer_round_trips_in_both_word_orders(bool legacy)
    {
        List<DvsEvent> events = RandomEvents(11, 10_000, 123_456, 1L << 30, 640, 480);
        List<TriggerEvent> triggers = RandomTriggers(11, events, 20, 31);
        byte[] file = Write(EventFormat.Evt21, new SensorGeometry(640, 480), events, triggers, legacy: legacy);
        var readTriggers = new List<TriggerEvent>();
        using var reader = new Evt21Reader(new MemoryStream(file), "rt", new ReaderOptions { Strict = true });
        Assert.Equal(legacy, reader.LegacyWordOrder);
        AssertSameEvents(events, ReadAll(reader, triggers: readTriggers));
        Assert.Equal(triggers, readTriggers);
    }

    [Fact]
    public void Dat_trigger_file_round_trips()
    {
        List<DvsEvent> events = RandomEvents(12, 1000, 0, 1L << 20, 304, 240);
        List<TriggerEvent> triggers = RandomTriggers(12, events, 40, 63);
        byte[] file = Write(EventFormat.Dat, new SensorGeometry(304, 240), [], triggers, datTriggers: true);
        var readTriggers = new List<TriggerEvent>();
        using var reader = new DatReader(new MemoryStream(file), "trig", new ReaderOptions { Strict = true });
        Assert.True(reader.IsTriggerFile);
        Assert.Empty(ReadAll(reader, triggers: readTriggers));
        Assert.Equal(triggers, readTriggers);
    }

    [Theory]
    [InlineData(EventFormat.Evt2)]
    [InlineData(EventFormat.Evt21)]
    [InlineData(EventFormat.Evt3)]
    [InlineData(EventFormat.Dat)]
    public void Real_recording_survives_conversion_to_every_format(EventFormat format)
    {
        using var source = Evt3Reader.Open(Fixtures.Path("expelliarmus/evt3_sample.raw"));
        List<DvsEvent> events = ReadAll(source);
        byte[] file = Write(format, source.Geometry, events, batchSize: 4096);
        using IDvsEventReader reader = Open(format, file, new ReaderOptions { Strict = true });
        var stats = new EventStatistics();
        using var batch = new EventBatch();
        var back = new List<DvsEvent>();
        while (reader.Read(batch))
        {
            stats.Add(batch);
            back.AddRange(batch.ToArray());
        }

        AssertSameEvents(events, back);
        AssertExpected("expelliarmus/evt3_sample.raw", stats);
    }

    [Fact]
    public void Evt3_writer_emits_full_vector_patterns_inside_the_sensor()
    {
        var geometry = new SensorGeometry(640, 480);
        List<DvsEvent> events = RandomEvents(13, 20_000, 0, 1L << 20, geometry.Width, geometry.Height);
        byte[] file = Write(EventFormat.Evt3, geometry, events);
        using var reader = new Evt3Reader(new MemoryStream(file), "v");
        int start = (int)reader.DataOffset;
        int vectors = 0;
        for (int i = start; i + 1 < file.Length; i += 2)
        {
            int w = BitConverter.ToUInt16(file, i);
            if (w >> 12 == 0x3)
            {
                vectors++;
                Assert.True((w & 0x7FF) + 32 <= geometry.Width, "vector base + 32 must stay inside the sensor");
                Assert.Equal(0x4, BitConverter.ToUInt16(file, i + 2) >> 12);
                Assert.Equal(0x4, BitConverter.ToUInt16(file, i + 4) >> 12);
                Assert.Equal(0x5, BitConverter.ToUInt16(file, i + 6) >> 12);
                i += 6;
            }
            else
            {
                Assert.NotEqual(0x4, w >> 12);
                Assert.NotEqual(0x5, w >> 12);
            }
        }

        Assert.True(vectors > 100, $"expected the writer to vectorize runs, found {vectors} vectors");
        Assert.True(file.Length - start < events.Count * 2, "vectorized EVT3 should take less than one word per event here");
        AssertSameEvents(events, ReadAll(reader));
    }

    [Theory]
    [InlineData(EventFormat.Evt2)]
    [InlineData(EventFormat.Evt21)]
    [InlineData(EventFormat.Evt3)]
    [InlineData(EventFormat.Dat)]
    public void Writers_reject_unrepresentable_batches_without_writing_them(EventFormat format)
    {
        var geometry = new SensorGeometry(640, 480);
        DvsEvent[] backwards = [new(100, 1, 1, true), new(99, 1, 1, true)];
        Assert.Throws<FormatLimitException>(() => Write(format, geometry, backwards));
        DvsEvent[] negative = [new(-1, 1, 1, true)];
        Assert.Throws<FormatLimitException>(() => Write(format, geometry, negative));
        DvsEvent[] wide = [new(1, format == EventFormat.Dat ? (ushort)16384 : (ushort)2048, 1, true)];
        Assert.Throws<FormatLimitException>(() => Write(format, geometry, wide));

        // a rejected batch leaves the writer usable and the file consistent
        using var ms = new MemoryStream();
        using (var batch = new EventBatch(4))
        {
            IDisposable writer = format switch
            {
                EventFormat.Evt2 => new Evt2Writer(ms, geometry, true),
                EventFormat.Evt21 => new Evt21Writer(ms, geometry, true),
                EventFormat.Evt3 => new Evt3Writer(ms, geometry, true),
                _ => new DatWriter(ms, geometry, true),
            };
            using (writer)
            {
                batch.Add(10, 1, 2, true);
                batch.Add(5, 1, 2, true);
                Assert.Throws<FormatLimitException>(() => WriteOne(writer, batch));
                batch.Clear();
                batch.Add(20, 3, 4, false);
                WriteOne(writer, batch);
            }
        }

        Assert.Equal([new DvsEvent(20, 3, 4, false)], ReadAll(format, ms.ToArray(), new ReaderOptions { Strict = true }));
    }

    private static void WriteOne(IDisposable writer, EventBatch batch)
    {
        switch (writer)
        {
            case Evt2Writer w: w.Write(batch); break;
            case Evt21Writer w: w.Write(batch); break;
            case Evt3Writer w: w.Write(batch); break;
            case DatWriter w: w.Write(batch); break;
        }
    }
}
