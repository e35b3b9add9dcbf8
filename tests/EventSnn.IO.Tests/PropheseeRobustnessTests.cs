using System.Text;
using EventSnn.Events;
using EventSnn.Testing;
using static EventSnn.IO.Tests.PropheseeTestSupport;

namespace EventSnn.IO.Tests;

public class PropheseeRobustnessTests
{
    /// <summary>Bytes a reader may allocate per file, whatever the file holds (reader, header, bounded warnings).</summary>
    private const long AllocationBound = 96 * 1024;

    public static TheoryData<string, EventFormat> Recordings => new()
    {
        { "expelliarmus/evt2_sample.raw", EventFormat.Evt2 },
        { "faery/evt2.raw", EventFormat.Evt2 },
        { "expelliarmus/evt3_sample.raw", EventFormat.Evt3 },
        { "tonic/sample_ncars.dat", EventFormat.Dat },
        { "loris/NCARS_obj_004397_td.dat", EventFormat.Dat },
    };

    private static int Unit(EventFormat format) => format switch
    {
        EventFormat.Evt2 => 4,
        EventFormat.Evt21 => 8,
        EventFormat.Evt3 => 2,
        _ => 8,
    };

    private static long DataStart(EventFormat format, byte[] file)
    {
        using IDvsEventReader r = Open(format, file);
        return r switch
        {
            Evt2Reader e => e.DataOffset,
            Evt21Reader e => e.DataOffset,
            Evt3Reader e => e.DataOffset,
            DatReader e => e.DataOffset,
            _ => throw new InvalidOperationException(),
        };
    }

    /// <summary>An EVT 2.1 file made by the writer, standing in for a fixture (none is public).</summary>
    internal static byte[] Evt21Sample()
    {
        List<DvsEvent> events = PropheseeRoundTripTests.RandomEvents(21, 30_000, 1_000_000, 1L << 22, 1280, 720);
        return Write(EventFormat.Evt21, new SensorGeometry(1280, 720), events, PropheseeRoundTripTests.RandomTriggers(21, events, 30, 31));
    }

    private static byte[] Load(string fixture, EventFormat format) =>
        format == EventFormat.Evt21 ? Evt21Sample() : File.ReadAllBytes(Fixtures.Path(fixture));

    [Theory]
    [MemberData(nameof(Recordings))]
    [InlineData("generated-evt21", EventFormat.Evt21)]
    public void Truncation_keeps_every_complete_event_in_tolerant_mode_and_throws_in_strict_mode(string fixture, EventFormat format)
    {
        byte[] full = Load(fixture, format);
        DvsEvent[] all = [.. ReadAll(format, full)];
        long dataStart = DataStart(format, full);
        int unit = Unit(format);
        var rng = new Random(fixture.Length);
        var cuts = new SortedSet<int>();
        for (int c = 0; c <= Math.Min(full.Length, (int)dataStart + 3 * unit); c++)
        {
            cuts.Add(c);
        }

        for (int i = 0; i < 80; i++)
        {
            cuts.Add(rng.Next((int)dataStart, full.Length));
        }

        using var batch = new EventBatch(4096);
        foreach (int cut in cuts)
        {
            bool misaligned = cut > dataStart && (cut - dataStart) % unit != 0;
            bool datTypeCut = format == EventFormat.Dat && cut == dataStart - 1; // header + event type byte only
            bool truncated = misaligned || datTypeCut;
            long aligned = cut < dataStart ? cut : dataStart + ((cut - dataStart) / unit * unit);
            int expectedCount = cut < dataStart ? 0 : (int)Statistics(Open(format, Slice(full, aligned), new ReaderOptions { Strict = true })).Events;

            // tolerant: exactly the complete events before the cut, in order, and a warning when a word was cut
            using (IDvsEventReader reader = Open(format, Slice(full, cut)))
            {
                int k = 0;
                while (reader.Read(batch))
                {
                    for (int i = 0; i < batch.Count; i++, k++)
                    {
                        if (k >= all.Length || all[k].T != batch.T[i] || all[k].X != batch.X[i] || all[k].Y != batch.Y[i] || all[k].On != (batch.P[i] != 0))
                        {
                            Assert.Fail($"cut {cut}: event {k} differs from the full file");
                        }
                    }
                }

                Assert.Equal(expectedCount, k);
                Assert.Equal(cut, reader.Position);
                Assert.Equal(truncated, reader.Warnings.Any(w => w.Message.Contains("file ends inside", StringComparison.Ordinal)));
            }

            // strict: a cut word is an error flagged as truncation, at the offset of the partial word
            if (truncated)
            {
                var ex = Assert.Throws<EventFormatException>(() =>
                {
                    using IDvsEventReader reader = Open(format, Slice(full, cut), new ReaderOptions { Strict = true });
                    while (reader.Read(batch))
                    {
                    }
                });
                Assert.True(ex.IsTruncation);
                Assert.Equal(datTypeCut ? dataStart - 2 : aligned, ex.Offset);
            }
        }
    }

    private static MemoryStream Slice(byte[] full, long length) => new(full, 0, (int)length, writable: false);

    [Theory]
    [MemberData(nameof(Recordings))]
    [InlineData("generated-evt21", EventFormat.Evt21)]
    public void Random_mutations_raise_only_format_exceptions_within_the_file_and_bounded_allocation(string fixture, EventFormat format)
    {
        byte[] original = Load(fixture, format);
        if (original.Length > 96 * 1024)
        {
            original = original[..(96 * 1024 + 3)]; // keep each case fast; the cut itself is a case too
        }

        var rng = new Random(unchecked((int)0x5EED + fixture.Length * 31 + (int)format));
        int[] capacities = [1 << 16, 1000, 37, 1];
        using var warm = new EventBatch(1 << 16);
        RunCase(format, original, new ReaderOptions { BufferBytes = 16 * 1024 }, warm, "warm-up");
        int failures = 0;
        for (int c = 0; c < 300; c++)
        {
            byte[] file = Mutate(original, rng);
            var options = new ReaderOptions { Strict = rng.Next(2) == 0, BufferBytes = rng.Next(2) == 0 ? 4096 : 16 * 1024 };
            int capacity = capacities[rng.Next(capacities.Length)];
            using var batch = new EventBatch(capacity);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Exception? error = RunCase(format, file, options, batch, $"case {c}");
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (error is EventFormatException fe)
            {
                failures++;
                Assert.Equal($"case {c}", fe.SourceName);
                Assert.InRange(fe.Offset, 0, file.Length);
            }
            else if (error is not null)
            {
                Assert.Fail($"case {c}: {error.GetType().Name} escaped: {error}");
            }

            Assert.True(allocated < AllocationBound + (error is null ? 0 : 8192), $"case {c}: reading allocated {allocated} bytes");
        }

        Assert.True(failures < 300, "every mutation failed: the cases do not exercise decoding");
    }

    private static Exception? RunCase(EventFormat format, byte[] file, ReaderOptions options, EventBatch batch, string name)
    {
        try
        {
            using IDvsEventReader reader = Open(format, new MemoryStream(file, writable: false), options, name);
            long reads = 0;
            long limit = (file.Length * 13L) + 100; // every Read makes progress: bytes or buffered vector events
            while (reader.Read(batch))
            {
                if (++reads > limit || reader.Position < 0 || reader.Position > file.Length)
                {
                    Assert.Fail($"{name}: reader does not make progress or left the file (position {reader.Position})");
                }
            }

            Assert.Equal(file.Length, reader.Position);
            Assert.True(reader.Warnings.Count <= 100);
            return null;
        }
        catch (Xunit.Sdk.XunitException)
        {
            throw;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    private static byte[] Mutate(byte[] original, Random rng)
    {
        byte[] file = (byte[])original.Clone();
        int kind = rng.Next(6);
        int headerGuess = Math.Min(file.Length, 256);
        switch (kind)
        {
            case 0: // a few random bytes anywhere
                for (int i = rng.Next(1, 9); i > 0; i--)
                {
                    file[rng.Next(file.Length)] = (byte)rng.Next(256);
                }

                break;
            case 1: // bytes inside the header
                for (int i = rng.Next(1, 5); i > 0; i--)
                {
                    file[rng.Next(headerGuess)] = (byte)rng.Next(256);
                }

                break;
            case 2: // truncate anywhere
                file = file[..rng.Next(file.Length)];
                break;
            case 3: // delete a chunk (desynchronizes words)
                {
                    int at = rng.Next(file.Length);
                    int len = rng.Next(1, Math.Min(64, file.Length - at) + 1);
                    file = [.. file[..at], .. file[(at + len)..]];
                    break;
                }

            case 4: // a run of random bytes
                {
                    int at = rng.Next(file.Length);
                    for (int i = at; i < Math.Min(file.Length, at + rng.Next(1, 512)); i++)
                    {
                        file[i] = (byte)rng.Next(256);
                    }

                    break;
                }

            default: // flip bits in the high byte of words (types) across the body
                for (int i = rng.Next(1, 50); i > 0; i--)
                {
                    file[rng.Next(file.Length)] ^= (byte)(1 << rng.Next(8));
                }

                break;
        }

        return file;
    }

    public static TheoryData<string> BadHeaders => new()
    {
        "% format EVT3;height=abc;width=-1\n% end\n",
        "% geometry 99999999999x5\n% end\n",
        "% geometry x\n% geometry 12\n%\n%%%%\n% end\n",
        "% evt \n% format ;;;=;width=;height\n% end\n",
        "%\r\r\n% end\n",
        "% Width 0\n% Height -3\n% end\n",
        "% sensor_generation \u00ff\u00fe\n% plugin_name \n% end\n",
        "%",
        "% no end of line at all",
        "",
        "\n\n",
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void Corrupted_headers_give_unknown_geometry_or_format_exceptions(string header)
    {
        foreach (EventFormat format in new[] { EventFormat.Evt2, EventFormat.Evt21, EventFormat.Evt3, EventFormat.Dat })
        {
            foreach (bool strict in new[] { false, true })
            {
                byte[] file = [.. Encoding.Latin1.GetBytes(header), 0, 8, 1, 2, 3, 4, 5, 6, 7, 8];
                Exception? error = RunCase(format, file, new ReaderOptions { Strict = strict }, new EventBatch(16), "hdr");
                Assert.True(error is null or EventFormatException, $"{format}: {error}");
            }
        }
    }

    [Fact]
    public void Header_longer_than_the_bound_is_an_error()
    {
        byte[] file = Encoding.ASCII.GetBytes("% " + new string('a', 5000) + "\n% end\n");
        var options = new ReaderOptions { MaxHeaderBytes = 1000, BufferBytes = 4096 };
        var ex = Assert.Throws<EventFormatException>(() => new Evt3Reader(new MemoryStream(file), "long", options));
        Assert.Equal("header", ex.Field);
        Assert.InRange(ex.Offset, 0, file.Length);

        byte[] many = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("% key value\n", 200)));
        Assert.Throws<EventFormatException>(() => new Evt2Reader(new MemoryStream(many), "many", options));
    }

    [Fact]
    public void Invalid_geometry_values_are_reported_as_header_warnings()
    {
        byte[] file = Encoding.ASCII.GetBytes("% format EVT3;height=abc;width=1280\n% end\n");
        using var reader = new Evt3Reader(new MemoryStream(file), "w");
        Assert.Equal(SensorGeometry.Unknown, reader.Geometry);
        Assert.Contains(reader.Warnings, w => w.Message.Contains("height", StringComparison.Ordinal));
    }

    [Fact]
    public void Many_unknown_words_keep_warnings_bounded()
    {
        var words = new List<uint> { 0x8000_0001 };
        words.AddRange(Enumerable.Repeat(0x3000_0000u, 10_000));
        byte[] file = Evt2File([.. words]);
        using var batch = new EventBatch();
        long before = GC.GetAllocatedBytesForCurrentThread();
        using IDvsEventReader reader = Open(EventFormat.Evt2, file);
        while (reader.Read(batch))
        {
        }

        Assert.Equal(100, reader.Warnings.Count);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < AllocationBound, "warnings beyond the limit must not allocate");
    }
}
