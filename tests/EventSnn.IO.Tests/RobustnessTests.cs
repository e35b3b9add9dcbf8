using System.Buffers.Binary;
using EventSnn.Events;
using EventSnn.Testing;

namespace EventSnn.IO.Tests;

/// <summary>
/// Bad input: truncation at many offsets, corrupted headers and seeded random mutations of
/// every fixture this branch reads. Only <see cref="EventFormatException"/> may escape, with
/// an offset inside the file; tolerant mode keeps every complete event before a cut; memory
/// stays bounded whatever a length field claims.
/// </summary>
public class RobustnessTests
{
    /// <summary>How to open one kind of file, and its record size (0 = packets).</summary>
    private sealed record Kind(Func<Stream, string, ReaderOptions, IEventReader> Open, int RecordSize);

    private static readonly Kind Aedat2 = new((s, n, o) => new Aedat2Reader(s, n, o), 8);
    private static readonly Kind Aedat31 = new((s, n, o) => new Aedat31Reader(s, n, o), 0);
    private static readonly Kind NMnist = new((s, n, o) => new NMnistReader(s, n, o), 5);
    private static readonly Kind Nas2 = new((s, n, o) => new NasReader(s, n, o), 6);
    private static readonly Kind Nas4 = new((s, n, o) => new NasReader(s, n, o), 8);

    private static readonly Lazy<byte[]> GeneratedAedat31 = new(() =>
    {
        var rng = new Random(3);
        using var batch = new EventBatch(40_000);
        long t = (1L << 31) - 30_000;
        for (int i = 0; i < 20_000; i++)
        {
            t += rng.Next(0, 4);
            batch.Add(t, rng.Next(128), rng.Next(128), rng.Next(2) == 0);
        }

        var ms = new MemoryStream();
        using (var writer = new Aedat31Writer(ms, SensorGeometry.Dvs128, leaveOpen: true))
        {
            writer.Write(batch);
        }

        return ms.ToArray();
    });

    public static TheoryData<string> AllFixtures() =>
    [
        "pyaedattools/IMU_rotDisk.aedat",
        "pyaedattools/IMU_translBoxes.aedat",
        "pyaedattools/TranslatingBarX.aedat",
        "pyaedattools/TranslatingSquare.aedat",
        "pyaedattools/RotatingBar.aedat",
        "tonic/sample_aedat_header.aedat",
        "mibblez/header_test_128.aedat",
        "mibblez/header_test_240.aedat",
        "tonic/sample_nmnist.bin",
        "shiba24/faces_easy_0001.bin",
        "pynavis/130Hz_mono_64ch_ONOFF_addr2b_ts02.aedat",
        "pynavis/sound_mono_32ch_ONOFF_addr2b_ts02.aedat",
        "pynavis/enun_stereo_64ch_ONOFF_addr4b_ts1.aedat",
        "generated/dvs128.aedat31",
    ];

    private static (byte[] Data, Kind Kind, string Name) Load(string fixture)
    {
        if (fixture == "generated/dvs128.aedat31")
        {
            return (GeneratedAedat31.Value, Aedat31, fixture);
        }

        byte[] data = File.ReadAllBytes(Fixtures.Path(fixture));
        Kind kind = fixture switch
        {
            _ when fixture.EndsWith(".bin", StringComparison.Ordinal) => NMnist,
            _ when fixture.Contains("addr2b", StringComparison.Ordinal) => Nas2,
            _ when fixture.Contains("addr4b", StringComparison.Ordinal) => Nas4,
            _ => Aedat2,
        };
        return (data, kind, Path.GetFileName(fixture)); // the name carries the NAS hints
    }

    private static int DataStart(byte[] data, Kind kind) => kind == NMnist || kind == Nas2 || kind == Nas4 ? 0 : TestData.HeaderEnd(data);

    /// <summary>
    /// What a reader yields, folded item by item into a running hash: events as
    /// (t, x or channel, y or ear, polarity), triggers as (t, -1, kind, data). When
    /// <paramref name="prefixHashes"/> is given, the hash after each item is appended to it.
    /// </summary>
    private static (int Count, ulong Hash, int Events) Drain(IEventReader reader, out EventFormatException? error, List<ulong>? prefixHashes = null)
    {
        int count = 0;
        int events = 0;
        ulong hash = 14695981039346656037UL;
        error = null;
        void Fold(long t, int a, int b, int c)
        {
            hash = (hash ^ (ulong)t) * 1099511628211UL;
            hash = (hash ^ (uint)a ^ ((ulong)(uint)b << 20) ^ ((ulong)(uint)c << 40)) * 1099511628211UL;
            count++;
            prefixHashes?.Add(hash);
        }

        try
        {
            if (reader is IDvsEventReader dvs)
            {
                using var batch = new EventBatch(4096);
                while (dvs.Read(batch))
                {
                    for (int i = 0; i < batch.Count; i++)
                    {
                        Fold(batch.T[i], batch.X[i], batch.Y[i], batch.P[i]);
                    }

                    events += batch.Count;
                    foreach (TriggerEvent t in batch.Triggers.Items)
                    {
                        Fold(t.T, -1, (int)t.Kind, t.Data);
                    }
                }
            }
            else
            {
                var spikes = (ISpikeReader)reader;
                using var batch = new SpikeBatch(4096);
                while (spikes.Read(batch))
                {
                    for (int i = 0; i < batch.Count; i++)
                    {
                        Fold(batch.T[i], batch.Channel[i], batch.Ear[i], batch.P[i]);
                    }

                    events += batch.Count;
                }
            }
        }
        catch (EventFormatException ex)
        {
            error = ex;
        }

        return (count, hash, events);
    }

    private static (int Count, ulong Hash, int Events) ReadTolerant(Kind kind, byte[] data, string name, out IReadOnlyList<FormatWarning> warnings, List<ulong>? prefixHashes = null)
    {
        using IEventReader reader = kind.Open(new MemoryStream(data), name, ReaderOptions.Default);
        (int, ulong, int) result = Drain(reader, out EventFormatException? error, prefixHashes);
        Assert.Null(error);
        warnings = reader.Warnings;
        return result;
    }

    [Theory]
    [MemberData(nameof(AllFixtures))]
    public void Truncation_at_many_offsets_keeps_exactly_the_complete_events(string fixture)
    {
        (byte[] data, Kind kind, string name) = Load(fixture);
        int start = DataStart(data, kind);

        // large recordings: the header plus the first 512 KiB of records stand for the file
        if (data.Length - start > 512 << 10)
        {
            data = data[..(start + (512 << 10))];
        }

        var prefix = new List<ulong> { 14695981039346656037UL };
        (int fullCount, _, _) = ReadTolerant(kind, data, name, out _, prefix);
        var cuts = new SortedSet<int>();
        for (int i = 0; i <= 60; i++)
        {
            cuts.Add(start + (int)((long)(data.Length - start) * i / 60));
        }

        for (int d = 1; d <= 17; d++)
        {
            cuts.Add(Math.Max(start, data.Length - d));
            cuts.Add(Math.Min(data.Length, start + d));
        }

        foreach (int cut in cuts)
        {
            byte[] part = data[..cut];
            (int count, ulong hash, int events) = ReadTolerant(kind, part, name, out IReadOnlyList<FormatWarning> warnings);
            Assert.True(count <= fullCount && prefix[count] == hash, $"{fixture} cut at {cut}: not a prefix of the full read");

            bool midRecord;
            if (kind.RecordSize > 0)
            {
                // a cut inside a record keeps exactly what the largest whole-record prefix gives
                int boundary = start + ((cut - start) / kind.RecordSize * kind.RecordSize);
                midRecord = boundary != cut;
                if (midRecord)
                {
                    Assert.Equal(ReadTolerant(kind, data[..boundary], name, out _), (count, hash, events));
                }

                Assert.Equal(midRecord, warnings.Any(w => w.Message.Contains("inside", StringComparison.Ordinal)));
            }
            else
            {
                Assert.Equal(CompleteAedat31Events(data, start, cut, out midRecord), events);
            }

            using IEventReader strict = kind.Open(new MemoryStream(part), name, new ReaderOptions { Strict = true });
            (int strictCount, ulong strictHash, _) = Drain(strict, out EventFormatException? error);
            Assert.Equal((count, hash), (strictCount, strictHash));
            Assert.Equal(midRecord, error is not null);
            if (error is not null)
            {
                Assert.True(error.IsTruncation);
                Assert.InRange(error.Offset, 0, cut);
                Assert.Equal(name, error.SourceName);
            }
        }
    }

    /// <summary>Independent walk of AEDAT 3.1 packet headers: polarity events fully present before <paramref name="cut"/>.</summary>
    private static int CompleteAedat31Events(byte[] data, int start, int cut, out bool cutInsidePacket)
    {
        int pos = start;
        int events = 0;
        cutInsidePacket = false;
        while (pos < cut)
        {
            if (pos + 28 > cut)
            {
                cutInsidePacket = true;
                break;
            }

            short type = BinaryPrimitives.ReadInt16LittleEndian(data.AsSpan(pos));
            int size = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(pos + 4));
            int capacity = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(pos + 16));
            int number = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(pos + 20));
            int end = pos + 28 + (size * capacity);
            if (type == 1)
            {
                events += Math.Min(number, (cut - pos - 28) / size);
            }

            if (end > cut)
            {
                cutInsidePacket = true;
            }

            pos = end;
        }

        return events;
    }

    [Theory]
    [MemberData(nameof(AllFixtures))]
    public void Seeded_random_mutations_throw_only_format_exceptions_inside_the_file(string fixture)
    {
        (byte[] data, Kind kind, string name) = Load(fixture);
        int start = DataStart(data, kind);

        // large recordings: mutate the header plus the first 256 KiB of records (every kind of
        // record occurs there), which keeps 600 full decodes within seconds
        if (data.Length - start > 256 << 10)
        {
            data = data[..(start + (256 << 10))];
        }

        const int cases = 300;
        int seed = 17;
        foreach (char c in fixture)
        {
            seed = (seed * 31) + c;
        }

        var rng = new Random(seed);
        int failures = 0;
        for (int n = 0; n < cases; n++)
        {
            byte[] mutated = Mutate(data, start, rng);
            foreach (bool strict in new[] { false, true })
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    using IEventReader reader = kind.Open(new MemoryStream(mutated), name, new ReaderOptions { Strict = strict });
                    Drain(reader, out EventFormatException? error);
                    if (error is not null)
                    {
                        Check(error);
                        failures++;
                    }
                }
                catch (EventFormatException ex)
                {
                    Check(ex);
                    failures++;
                }
                catch (Exception ex)
                {
                    Assert.Fail($"{fixture} mutation {n} (strict={strict}) threw {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}");
                }

                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(allocated < (32L << 20) + (4L * mutated.Length), $"{fixture} mutation {n}: allocated {allocated} bytes");
            }

            void Check(EventFormatException ex)
            {
                Assert.InRange(ex.Offset, 0, mutated.Length);
                Assert.Equal(name, ex.SourceName);
            }
        }

        // the mutations reach the error paths (at least the strict-mode truncations)
        Assert.True(failures > 0, $"{fixture}: no mutation was detected");
    }

    private static byte[] Mutate(byte[] data, int dataStart, Random rng)
    {
        byte[] m = (byte[])data.Clone();
        switch (rng.Next(6))
        {
            case 0: // flip a few bytes anywhere
                for (int k = rng.Next(1, 9); k > 0 && m.Length > 0; k--)
                {
                    m[rng.Next(m.Length)] = (byte)rng.Next(256);
                }

                return m;
            case 1: // flip bytes in the header / first packets
                for (int k = rng.Next(1, 5); k > 0 && m.Length > 0; k--)
                {
                    m[rng.Next(Math.Min(m.Length, dataStart + 256))] = (byte)rng.Next(256);
                }

                return m;
            case 2: // extreme 32-bit values at a random aligned position after the header
                {
                    int[] extremes = [0, -1, int.MaxValue, int.MinValue, 1 << 28, 240 << 8];
                    for (int k = rng.Next(1, 4); k > 0 && m.Length - dataStart >= 4; k--)
                    {
                        int pos = dataStart + (rng.Next((m.Length - dataStart) / 4) * 4);
                        BinaryPrimitives.WriteInt32LittleEndian(m.AsSpan(pos), extremes[rng.Next(extremes.Length)]);
                    }

                    return m;
                }

            case 3: // truncate
                return m[..rng.Next(m.Length + 1)];
            case 4: // insert random bytes
                {
                    int pos = rng.Next(m.Length + 1);
                    byte[] extra = new byte[rng.Next(1, 12)];
                    rng.NextBytes(extra);
                    return [.. m.AsSpan(0, pos), .. extra, .. m.AsSpan(pos)];
                }

            default: // delete a run of bytes
                {
                    int pos = rng.Next(m.Length + 1);
                    int len = Math.Min(rng.Next(1, 40), m.Length - pos);
                    return [.. m.AsSpan(0, pos), .. m.AsSpan(pos + len)];
                }
        }
    }

    [Fact]
    public void Corrupted_aedat2_headers()
    {
        // no line end anywhere: the header bound stops the search
        byte[] endless = new byte[3 << 20];
        Array.Fill(endless, (byte)'#');
        var ex = Assert.Throws<EventFormatException>(() => new Aedat2Reader(new MemoryStream(endless), "endless", new ReaderOptions { MaxHeaderBytes = 1 << 20 }));
        Assert.InRange(ex.Offset, 0, endless.Length);

        // unknown version
        Assert.Throws<EventFormatException>(() => new Aedat2Reader(new MemoryStream("#!AER-DAT9.9\r\n"u8.ToArray()), "v9"));

        // garbage AEChip falls back to inference; binary garbage in a header line is just text
        byte[] garbage = TestData.Aedat2(["#!AER-DAT2.0", "# AEChip: \u0001\u0002\u00ff", "#\u0000\u0000"], [((5u << 22) | (7u << 12), 1)]);
        using var reader = new Aedat2Reader(new MemoryStream(garbage), "garbage");
        Assert.True(reader.ChipInferred);
        Assert.Equal(JaerChip.Davis, reader.Chip);
        Assert.Single(TestData.ReadAll(reader).Events);
    }

    [Fact]
    public void Corrupted_aedat31_headers()
    {
        Assert.Throws<EventFormatException>(() => new Aedat31Reader(new MemoryStream("#!AER-DAT3.1\r\n#Format: PNGFrames\r\n#!END-HEADER\r\n"u8.ToArray()), "png"));
        Assert.Throws<EventFormatException>(() => new Aedat31Reader(new MemoryStream([]), "empty"));

        // header without END-HEADER: warn and read packets from the first non-'#' byte
        byte[] file = Aedat31Tests.File("#!AER-DAT3.1\r\n#Source 1: DAVIS240C\r\n", Aedat31Tests.Packet(1, 8, 0, 1, [(Aedat31Tests.Pol(1, 2, true), 3)]));
        using var reader = new Aedat31Reader(new MemoryStream(file), "noend");
        Assert.Equal(SensorGeometry.Davis240, reader.Geometry);
        Assert.Single(TestData.ReadAll(reader).Events);
        Assert.Single(reader.Warnings);
    }
}
