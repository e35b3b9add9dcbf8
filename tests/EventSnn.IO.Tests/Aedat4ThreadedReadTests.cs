using System.Buffers.Binary;
using System.Diagnostics;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Testing;
using static EventSnn.IO.Tests.Aedat4TestSupport;

namespace EventSnn.IO.Tests;

/// <summary>
/// ReaderOptions.DecodeThreads = 2 (packets read ahead on a second thread, decompression shared by both, whichever thread does it) gives exactly what the
/// one-thread reader gives: events, triggers, counters, warnings and errors, in the same order.
/// </summary>
public class Aedat4ThreadedReadTests
{
    private static readonly ReaderOptions One = new();
    private static readonly ReaderOptions Two = new() { DecodeThreads = 2 };

    /// <summary>Everything a read of a whole file shows: events, triggers, counters, warnings and the error that stopped it.</summary>
    private sealed record Outcome(List<DvsEvent> Events, List<TriggerEvent> Triggers, long Packets, long Frames, long Imu, List<FormatWarning> Warnings, string? Error, long ErrorOffset, bool Truncation, long Position);

    private static Outcome ReadOutcome(byte[] file, ReaderOptions options, int capacity, string name = "threads.aedat4", Aedat4Reader.WorkSplit split = Aedat4Reader.WorkSplit.Balanced)
    {
        var events = new List<DvsEvent>();
        var triggers = new List<TriggerEvent>();
        string? error = null;
        long errorOffset = -1;
        bool truncation = false;
        Aedat4Reader? r = null;
        try
        {
            r = new Aedat4Reader(new MemoryStream(file, writable: false), name, options) { Split = split };
            long frames = 0;
            r.FrameReceived = _ => frames++;
            r.ImuReceived = _ => { };
            using var batch = new EventBatch(capacity);
            while (r.Read(batch))
            {
                events.AddRange(batch.ToArray());
                foreach (TriggerEvent t in batch.Triggers.Items)
                {
                    triggers.Add(t);
                }
            }

            _ = r.FileTable;
            Assert.Equal(r.FramesRead, frames);
        }
        catch (EventFormatException ex)
        {
            error = ex.Message;
            errorOffset = ex.Offset;
            truncation = ex.IsTruncation;
        }

        try
        {
            return new Outcome(events, triggers, r?.PacketsRead ?? -1, r?.FramesRead ?? -1, r?.ImuSamplesRead ?? -1, r is null ? [] : [.. r.Warnings], error, errorOffset, truncation, r?.Position ?? -1);
        }
        finally
        {
            r?.Dispose();
        }
    }

    private static void AssertSame(Outcome expected, Outcome actual, string what)
    {
        Assert.True(expected.Error == actual.Error, $"{what}: error '{expected.Error}' with one thread, '{actual.Error}' with two");
        Assert.Equal(expected.ErrorOffset, actual.ErrorOffset);
        Assert.Equal(expected.Truncation, actual.Truncation);
        Assert.True(expected.Events.Count == actual.Events.Count, $"{what}: {expected.Events.Count} events with one thread, {actual.Events.Count} with two");
        Assert.Equal(expected.Events, actual.Events);
        Assert.Equal(expected.Triggers, actual.Triggers);
        Assert.Equal(expected.Packets, actual.Packets);
        Assert.Equal(expected.Frames, actual.Frames);
        Assert.Equal(expected.Imu, actual.Imu);
        Assert.Equal(expected.Warnings, actual.Warnings);
        Assert.Equal(expected.Position, actual.Position);
    }

    internal static byte[] Generated(Aedat4Compression compression, int events = 60_000, int perPacket = 700, int seed = 5) =>
        Write(RandomEvents(events, seed), RandomTriggers(80, seed + 1), new Aedat4WriterOptions { Compression = compression, Geometry = SensorGeometry.Davis346, Triggers = true, EventsPerPacket = perPacket }, chunk: 900);

    [Theory]
    [InlineData("tonic/sample.aedat4")]
    [InlineData("shiba24/sample.aedat4")]
    public void Fixtures_read_the_same_with_two_threads(string name)
    {
        byte[] file = File.ReadAllBytes(Fixtures.Path(name));
        foreach (int capacity in new[] { 97, 4096, 1 << 16 })
        {
            Outcome one = ReadOutcome(file, One, capacity, name);
            Outcome two = ReadOutcome(file, Two, capacity, name);
            Assert.Null(one.Error);
            Assert.Equal(Fixtures.Expected[name].GetProperty("events").GetInt64(), two.Events.Count);
            AssertSame(one, two, $"{name}, batch {capacity}");
        }
    }

    [Theory]
    [InlineData(Aedat4Compression.Lz4)]
    [InlineData(Aedat4Compression.Lz4High)]
    [InlineData(Aedat4Compression.Zstd)]
    [InlineData(Aedat4Compression.None)]
    public void Generated_files_read_the_same_with_two_threads(Aedat4Compression compression)
    {
        DvsEvent[] events = RandomEvents(60_000, seed: 5);
        byte[] file = Generated(compression);
        foreach (int capacity in new[] { 333, 8192 })
        {
            Outcome one = ReadOutcome(file, One, capacity);
            foreach (Aedat4Reader.WorkSplit split in Enum.GetValues<Aedat4Reader.WorkSplit>())
            {
                Outcome two = ReadOutcome(file, Two, capacity, split: split);
                Assert.Null(two.Error);
                AssertSameEvents(events, two.Events);
                AssertSame(one, two, $"{compression}, batch {capacity}, {split}");
            }
        }
    }

    [Theory]
    [InlineData(Aedat4Compression.Lz4)]
    [InlineData(Aedat4Compression.Zstd)]
    [InlineData(Aedat4Compression.None)]
    public void Damaged_files_give_the_same_events_warnings_and_errors(Aedat4Compression compression)
    {
        byte[] original = Generated(compression, events: 6000, perPacket: 300, seed: 11);
        var map = PacketMap(original);
        var rng = new Random(1234 + (int)compression);
        int errors = 0, warned = 0;
        for (int c = 0; c < 120; c++)
        {
            byte[] file = (byte[])original.Clone();
            var p = map[rng.Next(map.Count)];
            switch (c % 4)
            {
                case 0: // flipped bytes inside a payload
                    for (int k = rng.Next(1, 4); k > 0; k--)
                    {
                        file[rng.Next((int)p.Start + 8, (int)p.End)] ^= (byte)rng.Next(1, 256);
                    }

                    break;
                case 1: // a bad packet size or payload start
                    BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan((int)p.Start + rng.Next(0, 16)), rng.Next(-64, 1 << 16));
                    break;
                case 2: // cut inside a packet
                    file = file[..rng.Next((int)p.Start + 1, (int)p.End)];
                    break;
                default: // cut plus a flip in the table region
                    file[rng.Next((int)map[^1].End, file.Length)] ^= (byte)rng.Next(1, 256);
                    break;
            }

            foreach (ReaderOptions mode in new[] { One, new ReaderOptions { Strict = true } })
            {
                Outcome one = ReadOutcome(file, mode, 500);
                var split = (Aedat4Reader.WorkSplit)(c % 3); // each case's damage meets one of the splits
                Outcome two = ReadOutcome(file, mode with { DecodeThreads = 2 }, 500, split: split);
                AssertSame(one, two, $"{compression} case {c}, strict {mode.Strict}, {split}");
                errors += one.Error is null ? 0 : 1;
                warned += one.Warnings.Count > 0 ? 1 : 0;
            }
        }

        // the cases did damage something: both outcomes occur
        Assert.True(errors > 10, $"only {errors} errors");
        Assert.True(warned > 10, $"only {warned} cases with warnings");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Error_is_raised_after_the_events_of_the_packets_before_it_and_again_on_the_next_read(int splitNumber)
    {
        var split = (Aedat4Reader.WorkSplit)splitNumber; // balanced, producer, reader
        byte[] file = Generated(Aedat4Compression.Lz4, events: 5000, perPacket: 500, seed: 21);
        var map = PacketMap(file);
        var bad = map[6];
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan((int)bad.Start + 8), 0xDEADBEEF); // LZ4 magic of packet 6
        using var r = new Aedat4Reader(new MemoryStream(file, writable: false), "bad.aedat4", Two) { Split = split };
        using var batch = new EventBatch(100);
        long read = 0;
        var ex = Assert.Throws<EventFormatException>(() =>
        {
            while (r.Read(batch))
            {
                read += batch.Count;
            }
        });
        Assert.Equal(bad.Start + 8, ex.Offset);
        Assert.Contains("not an LZ4 frame", ex.Message, StringComparison.Ordinal);
        Assert.Contains("bad.aedat4", ex.Message, StringComparison.Ordinal);
        Assert.Equal(map.Take(6).Sum(m => m.Events), read);
        var again = Assert.Throws<EventFormatException>(() => r.Read(batch));
        Assert.Equal(ex.Message, again.Message);
    }

    [Fact]
    public async Task Dispose_in_the_middle_of_a_read_returns_promptly()
    {
        byte[] file = Generated(Aedat4Compression.Lz4, events: 200_000, perPacket: 200, seed: 31);
        for (int k = 0; k < 20; k++)
        {
            var r = new Aedat4Reader(new MemoryStream(file, writable: false), "dispose.aedat4", Two);
            using var batch = new EventBatch(50 + k);
            for (int i = 0; i < k; i++)
            {
                Assert.True(r.Read(batch));
            }

            Task dispose = Task.Run(r.Dispose);
            Assert.True(await Task.WhenAny(dispose, Task.Delay(TimeSpan.FromSeconds(20))) == dispose, $"Dispose after {k} reads did not return");
            await dispose;
            Assert.Throws<ObjectDisposedException>(() => r.Read(batch));
        }
    }

    [Fact]
    public void Seeking_and_the_file_table_in_the_middle_of_a_threaded_read()
    {
        DvsEvent[] events = RandomEvents(30_000, seed: 51);
        byte[] file = Write(events, null, new Aedat4WriterOptions { Compression = Aedat4Compression.Lz4, Geometry = SensorGeometry.Davis346, EventsPerPacket = 400 }, chunk: 1000);
        using var r = new Aedat4Reader(new MemoryStream(file, writable: false), "seek.aedat4", Two);
        using var batch = new EventBatch(1000);
        var got = new List<DvsEvent>();
        for (int i = 0; i < 5; i++)
        {
            Assert.True(r.Read(batch));
            got.AddRange(batch.ToArray());
        }

        // loading the table stops the producer and resumes where decoding was
        Assert.NotNull(r.FileTable);
        Assert.Equal(events.Length, r.TableEvents);
        while (r.Read(batch))
        {
            got.AddRange(batch.ToArray());
        }

        AssertSameEvents(events, got);

        long t = events[17_000].T;
        Assert.True(r.SeekToTime(t));
        got.Clear();
        while (r.Read(batch))
        {
            got.AddRange(batch.ToArray());
        }

        AssertSameEvents(events.Where(e => e.T >= t), got);
    }

    [Fact]
    public void DecodeThreads_below_one_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReaderOptions { DecodeThreads = 0 });
    }
}

/// <summary>The two-thread AEDAT 4.0 reader works in constant memory (measured alone: allocation counters are process-wide).</summary>
[Collection(nameof(MemoryMeasurement))]
public class Aedat4ThreadedMemoryTests
{
    private static readonly ReaderOptions Two = new() { DecodeThreads = 2 };

    [Fact]
    public void Memory_does_not_grow_with_the_number_of_packets()
    {
        byte[] small = Aedat4ThreadedReadTests.Generated(Aedat4Compression.Lz4, events: 20_000, perPacket: 100, seed: 41);
        byte[] large = Aedat4ThreadedReadTests.Generated(Aedat4Compression.Lz4, events: 400_000, perPacket: 100, seed: 42);
        long Allocated(byte[] file)
        {
            // a slow reader: the producer runs ahead as far as the ring lets it
            using var r = new Aedat4Reader(new MemoryStream(file, writable: false), "memory.aedat4", Two);
            using var batch = new EventBatch(4096);
            long before = GC.GetTotalAllocatedBytes(precise: true);
            long n = 0;
            while (r.Read(batch))
            {
                n += batch.Count;
                if (n < 20_000)
                {
                    Thread.Sleep(1);
                }
            }

            return GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        Allocated(small); // warm-up (pools, JIT)
        long forSmall = Allocated(small);
        long forLarge = Allocated(large);

        // 20 times the packets: the pipeline allocates per run, never per packet (other test threads add noise)
        Assert.True(forLarge < forSmall + (2L << 20), $"{forLarge} bytes allocated for 4000 packets, {forSmall} for 200");
    }
}
