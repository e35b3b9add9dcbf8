using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Testing;
using static EventSnn.IO.Tests.Aedat4TestSupport;

namespace EventSnn.IO.Tests;

/// <summary>Bad input only ever throws EventFormatException (bounded, no hangs); cuts follow tolerant/strict rules.</summary>
public class Aedat4RobustnessTests
{
    private const long MaxAllocatedBytesPerCase = 300L << 20;

    private static readonly ReaderOptions Strict = new() { Strict = true };

    private static int HeaderEnd(byte[] file) => 18 + BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(14));

    /// <summary>Events in the packets that end at or before <paramref name="cut"/>.</summary>
    private static int EventsBefore(List<(long Start, long End, int StreamId, int Events)> map, long cut) =>
        map.Where(p => p.End <= cut).Sum(p => p.Events);

    /// <summary>Reads a cut file in tolerant and strict mode and checks both against the packet map.</summary>
    private static void CheckCut(byte[] full, List<(long Start, long End, int StreamId, int Events)> map, List<DvsEvent> all, int cut, string name)
    {
        byte[] file = full[..cut];
        if (cut < HeaderEnd(full))
        {
            var headerEx = Assert.Throws<EventFormatException>(() => ReadAll(file, name: name));
            Assert.True(headerEx.IsTruncation, $"cut {cut}: {headerEx.Message}");
            Assert.InRange(headerEx.Offset, 0, cut);
            return;
        }

        ReadResult tolerant = ReadAll(file, name: name);
        int expected = EventsBefore(map, cut);
        Assert.True(expected == tolerant.Events.Count, $"cut {cut}: expected {expected} events, got {tolerant.Events.Count}");
        AssertSameEvents(all.Take(expected), tolerant.Events);
        if (cut < full.Length)
        {
            Assert.NotEmpty(tolerant.Warnings);
            var ex = Assert.Throws<EventFormatException>(() => ReadAll(file, Strict, name: name));
            Assert.True(ex.IsTruncation, $"cut {cut}: {ex.Message}");
            Assert.InRange(ex.Offset, 0, cut);
            Assert.Contains(name, ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(Aedat4Compression.Lz4)]
    [InlineData(Aedat4Compression.None)]
    [InlineData(Aedat4Compression.Zstd)]
    public void Truncation_at_every_offset_of_a_small_file(Aedat4Compression compression)
    {
        DvsEvent[] events = RandomEvents(240, seed: 31);
        byte[] full = Write(events, RandomTriggers(6, seed: 32), new Aedat4WriterOptions { Compression = compression, Geometry = SensorGeometry.Davis346, Triggers = true, EventsPerPacket = 40 }, chunk: 60);
        var map = PacketMap(full);
        List<DvsEvent> all = [.. events];
        for (int cut = 0; cut <= full.Length; cut++)
        {
            CheckCut(full, map, all, cut, "small.aedat4");
        }
    }

    [Theory]
    [InlineData("tonic/sample.aedat4")]
    [InlineData("shiba24/sample.aedat4")]
    public void Truncation_at_sampled_offsets_of_the_fixtures(string name)
    {
        byte[] full = File.ReadAllBytes(Fixtures.Path(name));
        var map = PacketMap(full);
        List<DvsEvent> all = ReadAll(full).Events;
        var rng = new Random(33);
        var cuts = new List<int> { 0, 5, 14, 17, HeaderEnd(full) - 1, HeaderEnd(full), HeaderEnd(full) + 3, full.Length - 1 };
        cuts.AddRange(map.Take(10).SelectMany(p => new[] { (int)p.End, (int)p.End - 1, (int)p.Start + 7, (int)p.Start + 9 }));
        for (int i = 0; i < 40; i++)
        {
            cuts.Add(rng.Next(HeaderEnd(full), full.Length));
        }

        foreach (int cut in cuts)
        {
            CheckCut(full, map, all, cut, Path.GetFileName(name));
        }
    }

    [Fact]
    public void Corrupted_headers_throw_format_errors()
    {
        byte[] good = Write(RandomEvents(100, seed: 34), null, new Aedat4WriterOptions { Geometry = SensorGeometry.Davis346 });
        int size = BinaryPrimitives.ReadInt32LittleEndian(good.AsSpan(14));
        ReadOnlySpan<byte> fb = good.AsSpan(18, size);
        int root = BinaryPrimitives.ReadInt32LittleEndian(fb);
        int vtable = root - BinaryPrimitives.ReadInt32LittleEndian(fb[root..]);
        int compressionField = 18 + root + BinaryPrimitives.ReadUInt16LittleEndian(fb[(vtable + 4)..]);

        var cases = new List<(string Name, byte[] File, string Field)>();
        byte[] magic = (byte[])good.Clone();
        Encoding.ASCII.GetBytes("#!AER-DAT3.1\r\n").CopyTo(magic, 0);
        cases.Add(("magic", magic, "magic"));
        byte[] hugeHeader = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(hugeHeader.AsSpan(14), int.MaxValue);
        cases.Add(("huge header", hugeHeader, "IOHeader size"));
        byte[] ident = (byte[])good.Clone();
        Encoding.ASCII.GetBytes("XXXX").CopyTo(ident, 22);
        cases.Add(("identifier", ident, "identifier"));
        byte[] compression = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(compression.AsSpan(compressionField), 7);
        cases.Add(("compression", compression, "compression"));
        byte[] rootOffset = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(rootOffset.AsSpan(18), 0x7FFFFFF0);
        cases.Add(("root offset", rootOffset, "root"));

        foreach ((string what, byte[] file, string field) in cases)
        {
            var ex = Assert.Throws<EventFormatException>(() => ReadAll(file, name: "bad-header.aedat4"));
            Assert.False(ex.IsTruncation, what);
            Assert.Equal(field, ex.Field);
            Assert.InRange(ex.Offset, 0, file.Length);
            Assert.Contains("bad-header.aedat4", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Malformed_infoNode_xml_is_a_warning_and_events_still_read()
    {
        DvsEvent[] events = RandomEvents(500, seed: 35);
        byte[] file = Write(events, null, new Aedat4WriterOptions { Geometry = SensorGeometry.Davis346 });
        int at = Encoding.ASCII.GetString(file, 0, HeaderEnd(file)).IndexOf("<dv version", StringComparison.Ordinal);
        file[at] = (byte)'x';
        using var r = new Aedat4Reader(new MemoryStream(file), "xml.aedat4");
        Assert.Empty(r.Streams);
        Assert.Equal(SensorGeometry.Unknown, r.Geometry);
        ReadResult result = Drain(r);
        Assert.Equal(events, result.Events);
        Assert.Contains(result.Warnings, w => w.Message.Contains("infoNode", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(-5)]
    [InlineData(0)]
    public void Packet_claiming_an_impossible_size_throws_in_both_modes(int claimed)
    {
        byte[] file = Write(RandomEvents(3000, seed: 36), null, new Aedat4WriterOptions { Geometry = SensorGeometry.Davis346, EventsPerPacket = 1000 });
        var map = PacketMap(file);
        long second = map[1].Start;
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan((int)second + 4), claimed);
        foreach (ReaderOptions options in new[] { ReaderOptions.Default, Strict })
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var ex = Assert.Throws<EventFormatException>(() => ReadAll(file, options, name: "2gb.aedat4"));
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < MaxAllocatedBytesPerCase);
            Assert.False(ex.IsTruncation);
            Assert.Equal(second + 4, ex.Offset);
            Assert.Equal("size", ex.Field);
        }
    }

    [Fact]
    public void Packet_claiming_more_than_the_file_holds_is_a_truncation()
    {
        DvsEvent[] events = RandomEvents(3000, seed: 37);
        byte[] file = Write(events, null, new Aedat4WriterOptions { Geometry = SensorGeometry.Davis346, EventsPerPacket = 1000, WriteTable = false });
        var map = PacketMap(file);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan((int)map[2].Start + 4), 10 << 20); // within MaxPacketBytes, beyond the end
        ReadResult result = ReadAll(file, name: "claim.aedat4");
        Assert.Equal(events.Take(2000), result.Events);
        Assert.Single(result.Warnings);
        var ex = Assert.Throws<EventFormatException>(() => ReadAll(file, Strict, name: "claim.aedat4"));
        Assert.True(ex.IsTruncation);
        Assert.Equal(map[2].Start, ex.Offset);
    }

    [Fact]
    public void Oversized_event_vector_in_an_uncompressed_packet_is_rejected()
    {
        byte[] file = Write(RandomEvents(10, seed: 38), null, new Aedat4WriterOptions { Compression = Aedat4Compression.None, Geometry = SensorGeometry.Davis346 });
        var map = PacketMap(file);
        int payload = (int)map[0].Start + 8;
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(payload + 28), 1_000_000); // vector length of the DV layout
        var ex = Assert.Throws<EventFormatException>(() => ReadAll(file, name: "vector.aedat4"));
        Assert.Equal("elements", ex.Field);
        Assert.Equal(payload, ex.Offset);
    }

    [Fact]
    public void Decompressed_size_above_the_bound_is_rejected()
    {
        DvsEvent[] events = RandomEvents(100, seed: 39);
        byte[] file = Write(events, null, new Aedat4WriterOptions { Geometry = SensorGeometry.Davis346 });
        var options = new ReaderOptions { MaxPacketBytes = 1024 }; // the packet decompresses to 1632 bytes
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<EventFormatException>(() => ReadAll(file, options, name: "bound.aedat4"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < MaxAllocatedBytesPerCase);
        Assert.Contains("MaxPacketBytes", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> FuzzSources => new() { "tonic/sample.aedat4", "shiba24/sample.aedat4", "written-none", "written-zstd" };

    [Theory]
    [MemberData(nameof(FuzzSources))]
    public void Random_mutations_only_ever_throw_EventFormatException(string source)
    {
        byte[] original = source switch
        {
            "written-none" => Write(RandomEvents(4000, seed: 40), RandomTriggers(30, seed: 41), new Aedat4WriterOptions { Compression = Aedat4Compression.None, Geometry = SensorGeometry.Davis346, Triggers = true, EventsPerPacket = 500 }),
            "written-zstd" => Write(RandomEvents(4000, seed: 42), RandomTriggers(30, seed: 43), new Aedat4WriterOptions { Compression = Aedat4Compression.Zstd, Geometry = SensorGeometry.Davis346, Triggers = true, EventsPerPacket = 500 }),
            _ => File.ReadAllBytes(Fixtures.Path(source)),
        };
        string name = source.Replace('/', '_');
        var map = PacketMap(original);
        int headerEnd = HeaderEnd(original);
        var rng = new Random(source.Length * 7919);
        int cases = source.StartsWith("written", StringComparison.Ordinal) ? 300 : 250;
        int failures = 0;
        for (int c = 0; c < cases; c++)
        {
            byte[] file = (byte[])original.Clone();
            switch (c % 5)
            {
                case 0: // a few random bytes anywhere
                    for (int k = rng.Next(1, 5); k > 0; k--)
                    {
                        file[rng.Next(file.Length)] = (byte)rng.Next(256);
                    }

                    break;
                case 1: // a random int over a packet header or the start of its payload (sizes, LZ4 frame header, FlatBuffer offsets)
                {
                    var p = map[rng.Next(map.Count)];
                    int at = (int)p.Start + rng.Next(0, 24);
                    BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(at), rng.Next(4) == 0 ? rng.Next() : rng.Next(-64, 1 << 16));
                    break;
                }

                case 2: // inside the header
                    file[rng.Next(14, headerEnd)] = (byte)rng.Next(256);
                    break;
                case 3: // the table region or the last packet
                    file[rng.Next((int)map[^1].Start, file.Length)] ^= (byte)rng.Next(1, 256);
                    break;
                default: // a cut plus a flip
                    file = file[..rng.Next(headerEnd, file.Length)];
                    file[rng.Next(headerEnd - 40, file.Length)] ^= (byte)rng.Next(1, 256);
                    break;
            }

            ReaderOptions options = c % 3 == 0 ? Strict : ReaderOptions.Default;
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            try
            {
                using var r = new Aedat4Reader(new MemoryStream(file, writable: false), name, options);
                r.FrameReceived = _ => { };
                r.ImuReceived = _ => { };
                CountAll(r);
                _ = r.FileTable;
                if (c % 4 == 0)
                {
                    r.SeekToTime(long.MaxValue / 2);
                    r.SeekToTime(0);
                    CountAll(r);
                }
            }
            catch (EventFormatException ex)
            {
                failures++;
                Assert.InRange(ex.Offset, 0, file.Length);
                Assert.Contains(name, ex.Message, StringComparison.Ordinal);
                Assert.DoesNotContain("decoder failure", ex.Message, StringComparison.Ordinal); // the safety net must not be what caught it
            }

            Assert.True(watch.ElapsedMilliseconds < 5000, $"case {c} took {watch.ElapsedMilliseconds} ms");
            long used = GC.GetAllocatedBytesForCurrentThread() - allocated;
            Assert.True(used < MaxAllocatedBytesPerCase, $"case {c} allocated {used} bytes");
        }

        Assert.InRange(failures, 1, cases); // the mutations do hit structure
    }
}
