using System.Buffers.Binary;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.IO.Tests;

/// <summary>Helpers shared by the AEDAT 4.0 tests: synthetic data, write/read round trips, packet maps.</summary>
internal static class Aedat4TestSupport
{
    /// <summary>Everything a reader produced from a source.</summary>
    public sealed record ReadResult(List<DvsEvent> Events, List<TriggerEvent> Triggers, long Packets, IReadOnlyList<FormatWarning> Warnings, long Frames, long ImuSamples);

    /// <summary>Sorted random events on a <paramref name="width"/> x <paramref name="height"/> sensor.</summary>
    public static DvsEvent[] RandomEvents(int count, int seed, int width = 346, int height = 260, long t0 = 1_600_000_000_000_000)
    {
        var rng = new Random(seed);
        var events = new DvsEvent[count];
        long t = t0;
        for (int i = 0; i < count; i++)
        {
            t += rng.Next(0, 40);
            events[i] = new DvsEvent(t, (ushort)rng.Next(width), (ushort)rng.Next(height), rng.Next(2) == 1);
        }

        return events;
    }

    /// <summary>Random triggers whose codes are DV trigger types 0..9, in canonical form.</summary>
    public static TriggerEvent[] RandomTriggers(int count, int seed, long t0 = 1_600_000_000_000_000)
    {
        var rng = new Random(seed);
        var triggers = new TriggerEvent[count];
        long t = t0;
        for (int i = 0; i < count; i++)
        {
            t += rng.Next(1, 5000);
            int code = rng.Next(0, 10);
            triggers[i] = new TriggerEvent(t, ExpectedKind(code), code);
        }

        return triggers;
    }

    /// <summary>The canonical kind of a DV trigger code (hand-written from the DV TriggerType enum).</summary>
    public static TriggerKind ExpectedKind(int code) => code switch
    {
        0 => TriggerKind.TimestampReset,
        1 => TriggerKind.ExternalRising,
        2 => TriggerKind.ExternalFalling,
        3 => TriggerKind.ExternalPulse,
        4 or 5 => TriggerKind.ExternalGenerator,
        _ => TriggerKind.Other,
    };

    /// <summary>Writes events (in chunks of <paramref name="chunk"/>) and triggers to an in-memory AEDAT4 file.</summary>
    public static byte[] Write(IReadOnlyList<DvsEvent> events, IReadOnlyList<TriggerEvent>? triggers, Aedat4WriterOptions options, int chunk = 1000)
    {
        using var ms = new MemoryStream();
        using (var w = new Aedat4Writer(ms, options with { LeaveOpen = true }))
        {
            WriteTo(w, events, triggers, chunk);
        }

        return ms.ToArray();
    }

    public static void WriteTo(Aedat4Writer w, IReadOnlyList<DvsEvent> events, IReadOnlyList<TriggerEvent>? triggers, int chunk = 1000)
    {
        using var batch = new EventBatch(chunk);
        int ti = 0;
        for (int i = 0; i < events.Count; i += chunk)
        {
            batch.Clear();
            int n = Math.Min(chunk, events.Count - i);
            for (int k = 0; k < n; k++)
            {
                batch.Add(events[i + k]);
            }

            // triggers up to the last event time of this chunk ride along in the batch
            long until = events[i + n - 1].T;
            while (triggers is not null && ti < triggers.Count && triggers[ti].T <= until && batch.Triggers.Count < batch.Triggers.Capacity)
            {
                batch.Triggers.Add(triggers[ti++]);
            }

            w.WriteEvents(batch);
        }

        if (triggers is not null && ti < triggers.Count)
        {
            TriggerEvent[] rest = triggers.Skip(ti).ToArray();
            w.WriteTriggers(rest);
        }
    }

    /// <summary>Reads a whole source with the given options and batch capacity.</summary>
    public static ReadResult ReadAll(Stream stream, string name, ReaderOptions? options = null, int capacity = 4096, bool network = false)
    {
        using var r = new Aedat4Reader(stream, name, options, network);
        return Drain(r, capacity);
    }

    public static ReadResult ReadAll(byte[] file, ReaderOptions? options = null, int capacity = 4096, string name = "memory.aedat4") =>
        ReadAll(new MemoryStream(file, writable: false), name, options, capacity);

    public static ReadResult Drain(Aedat4Reader r, int capacity = 4096)
    {
        var events = new List<DvsEvent>();
        var triggers = new List<TriggerEvent>();
        using var batch = new EventBatch(capacity);
        while (r.Read(batch))
        {
            Assert.True(batch.Count > 0 || batch.Triggers.Count > 0, "Read returned true with an empty batch");
            events.AddRange(batch.ToArray());
            foreach (TriggerEvent t in batch.Triggers.Items)
            {
                triggers.Add(t);
            }

            Assert.Equal(0, batch.Triggers.Dropped);
        }

        return new ReadResult(events, triggers, r.PacketsRead, r.Warnings.ToList(), r.FramesRead, r.ImuSamplesRead);
    }

    /// <summary>Fast equality of long event sequences (xunit's collection comparison is slow on 100k items).</summary>
    public static void AssertSameEvents(IEnumerable<DvsEvent> expected, IReadOnlyList<DvsEvent> actual)
    {
        var e = expected as IReadOnlyList<DvsEvent> ?? expected.ToList();
        Assert.True(e.Count == actual.Count, $"expected {e.Count} events, got {actual.Count}");
        for (int i = 0; i < e.Count; i++)
        {
            if (e[i] != actual[i])
            {
                Assert.Fail($"event {i}: expected {e[i]}, got {actual[i]}");
            }
        }
    }

    /// <summary>Reads everything and only counts (for fuzzing, where the values do not matter).</summary>
    public static long CountAll(Aedat4Reader r, int capacity = 1000)
    {
        long n = 0;
        using var batch = new EventBatch(capacity);
        while (r.Read(batch))
        {
            n += batch.Count;
        }

        return n;
    }

    /// <summary>Reads a file, returning the events.</summary>
    public static List<DvsEvent> ReadEvents(Aedat4Reader r, int capacity = 4096) => Drain(r, capacity).Events;

    /// <summary>
    /// Walks the packets of a complete AEDAT4 image (header parsed with the public
    /// IOHeader API, packets decoded with the public packet decoder): for each packet its
    /// header offset, end offset, stream id and the number of events it holds.
    /// </summary>
    public static List<(long Start, long End, int StreamId, int Events)> PacketMap(byte[] file)
    {
        var result = new List<(long, long, int, int)>();
        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(14));
        Aedat4IOHeader header = Aedat4IOHeader.Parse(file.AsSpan(18, (int)headerSize), "map");
        long pos = 18 + headerSize;
        long stop = header.DataTablePosition >= 0 ? header.DataTablePosition : file.Length;
        using var decoder = new Aedat4PacketDecoder(header.Compression, "map", null, header.Streams);
        while (pos + 8 <= stop)
        {
            int streamId = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan((int)pos));
            int size = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan((int)pos + 4));
            decoder.Load(streamId, file.AsSpan((int)pos + 8, size), pos + 8);
            result.Add((pos, pos + 8 + size, streamId, decoder.PendingEvents));
            pos += 8 + size;
        }

        Assert.Equal(stop, pos);
        return result;
    }

    /// <summary>Statistics of a list of events (through the project's EventStatistics).</summary>
    public static EventStatistics Stats(IReadOnlyList<DvsEvent> events)
    {
        var stats = new EventStatistics();
        using var batch = new EventBatch(4096);
        foreach (DvsEvent e in events)
        {
            if (batch.IsFull)
            {
                stats.Add(batch);
                batch.Clear();
            }

            batch.Add(e);
        }

        stats.Add(batch);
        return stats;
    }
}

/// <summary>A read-only, non-seekable view of a byte array (network-like source), optionally in small chunks.</summary>
internal sealed class NonSeekableStream : Stream
{
    private readonly byte[] _data;
    private readonly int _chunk;
    private int _pos;

    public NonSeekableStream(byte[] data, int chunk = int.MaxValue)
    {
        _data = data;
        _chunk = chunk;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = Math.Min(Math.Min(count, _chunk), _data.Length - _pos);
        Array.Copy(_data, _pos, buffer, offset, n);
        _pos += n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A writable, non-seekable sink (pipe-like).</summary>
internal sealed class NonSeekableSink : Stream
{
    public MemoryStream Inner { get; } = new();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Inner.Write(buffer, offset, count);
}
