using System.Text;
using System.Text.Json;
using EventSnn.Events;
using EventSnn.Testing;

namespace EventSnn.IO.Tests;

/// <summary>Helpers for the Prophesee reader/writer tests.</summary>
internal static class PropheseeTestSupport
{
    public static IDvsEventReader Open(EventFormat format, Stream stream, ReaderOptions? options = null, string name = "test") => format switch
    {
        EventFormat.Evt2 => new Evt2Reader(stream, name, options),
        EventFormat.Evt21 => new Evt21Reader(stream, name, options),
        EventFormat.Evt3 => new Evt3Reader(stream, name, options),
        EventFormat.Dat => new DatReader(stream, name, options),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    public static IDvsEventReader Open(EventFormat format, byte[] bytes, ReaderOptions? options = null) =>
        Open(format, new MemoryStream(bytes, writable: false), options);

    public static EventStatistics Statistics(IDvsEventReader reader, int capacity = EventBatch.DefaultCapacity)
    {
        var stats = new EventStatistics();
        using var batch = new EventBatch(capacity);
        while (reader.Read(batch))
        {
            stats.Add(batch);
        }

        return stats;
    }

    public static List<DvsEvent> ReadAll(IDvsEventReader reader, int capacity = EventBatch.DefaultCapacity, List<TriggerEvent>? triggers = null)
    {
        var events = new List<DvsEvent>();
        using var batch = new EventBatch(capacity);
        while (reader.Read(batch))
        {
            Assert.True(batch.Count > 0 || batch.Triggers.Count > 0, "Read returned true with an empty batch");
            events.AddRange(batch.ToArray());
            triggers?.AddRange(batch.Triggers.Items.ToArray());
            Assert.Equal(0, batch.Triggers.Dropped);
        }

        Assert.False(reader.Read(batch));
        return events;
    }

    public static List<DvsEvent> ReadAll(EventFormat format, byte[] bytes, ReaderOptions? options = null, int capacity = EventBatch.DefaultCapacity, List<TriggerEvent>? triggers = null)
    {
        using IDvsEventReader reader = Open(format, bytes, options);
        return ReadAll(reader, capacity, triggers);
    }

    /// <summary>Fast element-wise comparison of event lists (xunit's collection comparer is slow on 10^5 items).</summary>
    public static void AssertSameEvents(IReadOnlyList<DvsEvent> expected, IReadOnlyList<DvsEvent> actual)
    {
        int n = Math.Min(expected.Count, actual.Count);
        for (int i = 0; i < n; i++)
        {
            if (expected[i] != actual[i])
            {
                Assert.Fail($"event {i}: expected {expected[i]}, got {actual[i]}");
            }
        }

        Assert.Equal(expected.Count, actual.Count);
    }

    /// <summary>Asserts the statistics equal the EXPECTED.json entry of <paramref name="fixture"/>.</summary>
    public static void AssertExpected(string fixture, EventStatistics s)
    {
        JsonElement e = Fixtures.Expected[fixture];
        Assert.Equal(e.GetProperty("events").GetInt64(), s.Events);
        Assert.Equal(e.GetProperty("t_first").GetInt64(), s.TFirst);
        Assert.Equal(e.GetProperty("t_last").GetInt64(), s.TLast);
        Assert.Equal(e.GetProperty("t_min").GetInt64(), s.TMin);
        Assert.Equal(e.GetProperty("t_max").GetInt64(), s.TMax);
        Assert.Equal(e.GetProperty("on").GetInt64(), s.On);
        Assert.Equal(e.GetProperty("x_max").GetInt32(), s.XMax);
        Assert.Equal(e.GetProperty("y_max").GetInt32(), s.YMax);
        Assert.Equal(e.GetProperty("sum_x").GetInt64(), s.SumX);
        Assert.Equal(e.GetProperty("sum_y").GetInt64(), s.SumY);
    }

    /// <summary>A RAW file: '% evt' header with '% end', then the given words.</summary>
    public static byte[] Evt2File(params uint[] words) => Raw("% evt 2.0\n% end\n", words.SelectMany(BitConverter.GetBytes));

    /// <summary>An EVT 3.0 file: header with '% end', then the given 16-bit words.</summary>
    public static byte[] Evt3File(params ushort[] words) => Raw("% evt 3.0\n% end\n", words.SelectMany(BitConverter.GetBytes));

    /// <summary>An EVT 2.1 file (little-endian 64-bit words, mask first).</summary>
    public static byte[] Evt21File(params ulong[] words) => Raw("% evt 2.1\n% end\n", words.SelectMany(BitConverter.GetBytes));

    public static byte[] Raw(string header, IEnumerable<byte> body) => [.. Encoding.ASCII.GetBytes(header), .. body];

    /// <summary>Writes events with one of the four writers and returns the bytes.</summary>
    public static byte[] Write(EventFormat format, SensorGeometry geometry, IReadOnlyList<DvsEvent> events, IReadOnlyList<TriggerEvent>? triggers = null, int batchSize = 1000, bool legacy = false, bool datTriggers = false)
    {
        using var ms = new MemoryStream();
        using (var writer = CreateWriter(format, ms, geometry, legacy, datTriggers))
        {
            using var batch = new EventBatch(batchSize);
            int ti = 0;
            for (int i = 0; i < events.Count || (triggers is not null && ti < triggers.Count); i += batchSize)
            {
                batch.Clear();
                for (int j = i; j < Math.Min(events.Count, i + batchSize); j++)
                {
                    batch.Add(events[j]);
                }

                // triggers up to the last event of this batch (all the rest with the last batch)
                long limit = i + batchSize >= events.Count ? long.MaxValue : events[i + batchSize - 1].T;
                while (triggers is not null && ti < triggers.Count && triggers[ti].T <= limit && batch.Triggers.Count < batch.Triggers.Capacity)
                {
                    batch.Triggers.Add(triggers[ti++]);
                }

                WriteBatch(writer, batch);
            }
        }

        return ms.ToArray();
    }

    private static IDisposable CreateWriter(EventFormat format, Stream s, SensorGeometry g, bool legacy, bool datTriggers) => format switch
    {
        EventFormat.Evt2 => new Evt2Writer(s, g, leaveOpen: true),
        EventFormat.Evt21 => new Evt21Writer(s, g, leaveOpen: true, legacyWordOrder: legacy),
        EventFormat.Evt3 => new Evt3Writer(s, g, leaveOpen: true),
        EventFormat.Dat => new DatWriter(s, g, leaveOpen: true, triggerFile: datTriggers),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    private static void WriteBatch(IDisposable writer, EventBatch batch)
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
