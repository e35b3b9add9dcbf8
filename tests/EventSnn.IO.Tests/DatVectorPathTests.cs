using CsCheck;
using EventSnn.Events;
using EventSnn.IO;
using static EventSnn.IO.Tests.PropheseeTestSupport;

namespace EventSnn.IO.Tests;

/// <summary>
/// The DAT reader's vector paths (32 records per AVX-512 step, 16 per AVX2 step) decode
/// exactly what the record-by-record decoder decodes, on random record streams with timestamp
/// wraps, out-of-order records and arbitrary address words, read with random batch sizes.
/// </summary>
public class DatVectorPathTests
{
    /// <summary>A record stream (timestamp, word) and the batch capacity used to read it.</summary>
    public sealed record Records((uint T, uint W)[] Items, int Capacity, bool Declared)
    {
        public override string ToString() =>
            $"{Items.Length} records [{string.Join(" ", Items.Take(12).Select(r => $"{r.T:X8}:{r.W:X8}"))}{(Items.Length > 12 ? " ..." : string.Empty)}], capacity {Capacity}, geometry declared {Declared}";
    }

    /// <summary>Timestamp steps: mostly small forward steps (long vector runs), some back steps, jumps near 2^31 and wraps.</summary>
    private static readonly Gen<long> Step =
        Gen.Frequency(
            (60, Gen.Long[0, 40]),
            (4, Gen.Long[-40, -1]),
            (2, Gen.Long[(1L << 31) - 50, (1L << 31) + 50]),
            (2, Gen.Long[-(1L << 31) - 50, -(1L << 31) + 50]),
            (1, Gen.Long[-(1L << 32), 1L << 32]));

    private static readonly Gen<Records> Streams =
        from start in Gen.OneOf(Gen.UInt, Gen.UInt[uint.MaxValue - 2000, uint.MaxValue])
        from steps in Gen.Select(Step, Gen.UInt).Array[0, 1500]
        from capacity in Gen.OneOf(Gen.Int[1, 40], Gen.Int[40, 3000])
        from declared in Gen.Bool
        from small in Gen.Frequency((3, Gen.Const(true)), (1, Gen.Const(false)))
        select new Records(Build(start, steps, small), capacity, declared);

    /// <summary>The records; with <paramref name="small"/> the addresses mostly stay inside 304x240 (so that a few outside stand out).</summary>
    private static (uint T, uint W)[] Build(uint start, (long Step, uint W)[] steps, bool small)
    {
        var records = new (uint T, uint W)[steps.Length];
        long t = start;
        for (int i = 0; i < steps.Length; i++)
        {
            t += steps[i].Step;
            uint w = steps[i].W;
            if (small && (w & 0xF00) != 0)
            {
                w = (w & 0xF000_0000) | ((w >> 8) % 240 << 14) | (w % 304);
            }

            records[i] = ((uint)t, w);
        }

        return records;
    }

    private static byte[] File((uint T, uint W)[] records, bool declared = true) =>
        Raw(declared ? "% Data file containing CD events\n% Version 2\n% Width 304\n% Height 240\n" : "% Data file containing CD events\n% Version 2\n", [12, 8, .. records.SelectMany(r => BitConverter.GetBytes(r.T).Concat(BitConverter.GetBytes(r.W)))]);

    private static (List<DvsEvent> Events, List<FormatWarning> Warnings, long OutOfGeometry, SensorGeometry Geometry) Read(byte[] file, int width, int capacity)
    {
        using var reader = new DatReader(new MemoryStream(file, writable: false), "records.dat", new ReaderOptions { BufferBytes = 4096 }) { VectorWidth = width };
        List<DvsEvent> events = ReadAll(reader, capacity);
        return (events, [.. reader.Warnings], reader.OutOfGeometryEvents, reader.Geometry);
    }

    [Fact]
    public void Vector_paths_decode_like_the_record_by_record_decoder()
    {
        Streams.Sample(s =>
        {
            byte[] file = File(s.Items, s.Declared);
            var plain = Read(file, 0, s.Capacity);
            List<DvsEvent> expected = Reference(s.Items);
            AssertSameEvents(expected, plain.Events);
            if (!s.Declared && expected.Count > 0)
            {
                Assert.Equal(new SensorGeometry(expected.Max(e => e.X) + 1, expected.Max(e => e.Y) + 1), plain.Geometry);
            }

            foreach (int width in new[] { 256, 512 })
            {
                var fast = Read(file, width, s.Capacity);
                AssertSameEvents(plain.Events, fast.Events);
                Assert.Equal(plain.Warnings, fast.Warnings);
                Assert.Equal(plain.OutOfGeometry, fast.OutOfGeometry);
                Assert.Equal(plain.Geometry, fast.Geometry);
            }
        }, iter: 2000, threads: 1);
    }

    /// <summary>The DAT rules written out: a timestamp drop by at least 2^31 adds 2^32; x, y, polarity from the word.</summary>
    private static List<DvsEvent> Reference((uint T, uint W)[] records)
    {
        var events = new List<DvsEvent>(records.Length);
        long loops = 0;
        uint last = 0;
        foreach ((uint t, uint w) in records)
        {
            if (t < last && last - t >= 1u << 31)
            {
                loops += 1L << 32;
            }

            last = t;
            events.Add(new DvsEvent(loops + t, (ushort)(w & 0x3FFF), (ushort)((w >> 14) & 0x3FFF), (w >> 28) != 0));
        }

        return events;
    }

    [Fact]
    public void Long_runs_take_the_vector_paths_and_keep_the_wrap_rule()
    {
        // 6000 records rising by 1 us from just below 2^32 (a wrap after 1000), a forward jump to
        // 2^31 + 10 at 2000, a drop by 2^31 + 7 at 4000 (a second wrap), random words
        var rng = new Random(7);
        var records = new (uint T, uint W)[6000];
        uint t = uint.MaxValue - 999;
        for (int i = 0; i < records.Length; i++)
        {
            t = i switch
            {
                0 => t,
                2000 => (1u << 31) + 10,
                4000 => t - ((1u << 31) + 7),
                _ => t + 1,
            };
            records[i] = (t, (uint)rng.NextInt64(0, 1L << 32));
        }

        byte[] file = File(records);
        List<DvsEvent> expected = Reference(records);
        Assert.Equal(uint.MaxValue, expected[999].T);
        Assert.Equal(1L << 32, expected[1000].T);
        Assert.Equal((2L << 32) + records[4000].T, expected[4000].T);
        foreach (int width in new[] { 0, 256, 512 })
        {
            AssertSameEvents(expected, Read(file, width, 4096).Events);
        }
    }
}
