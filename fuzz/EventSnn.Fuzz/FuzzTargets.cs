using System.Buffers.Binary;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;

namespace EventSnn.Fuzz;

/// <summary>
/// One fuzz target per reader and per live-protocol decoder. A target takes any bytes and may
/// end only normally or with <see cref="EventFormatException"/> (which it catches); any other
/// exception, a crash or a hang is a finding.
/// </summary>
/// <remarks>
/// Input framing: reader targets take the bytes as a file. Datagram targets (jaer-udp,
/// aedat3-udp) take a sequence of [uint16 big-endian length][datagram]. Stream targets (dv-tcp,
/// aedat3-tcp, jaer-tcp, labels) take one byte giving the largest read (1..256 bytes, as a
/// socket delivers partial reads), then the stream.
/// </remarks>
public static class FuzzTargets
{
    private static readonly Dictionary<string, Action<byte[]>> Targets = new(StringComparer.Ordinal)
    {
        ["aedat2"] = d => ReadFile(EventFormat.Aedat2, d),
        ["aedat3"] = d => ReadFile(EventFormat.Aedat3, d),
        ["aedat4"] = d => ReadFile(EventFormat.Aedat4, d),
        ["evt2"] = d => ReadFile(EventFormat.Evt2, d),
        ["evt21"] = d => ReadFile(EventFormat.Evt21, d),
        ["evt3"] = d => ReadFile(EventFormat.Evt3, d),
        ["dat"] = d => ReadFile(EventFormat.Dat, d),
        ["nmnist"] = d => ReadFile(EventFormat.NMnist, d),
        ["nas"] = d => ReadFile(EventFormat.Nas, d),
        ["shd"] = d => ReadFile(EventFormat.Shd, d),
        ["detect"] = Detect,
        ["dv-tcp"] = DvTcp,
        ["aedat3-tcp"] = Aedat3Tcp,
        ["aedat3-udp"] = Aedat3Udp,
        ["jaer-tcp"] = JaerTcp,
        ["jaer-udp"] = JaerUdp,
        ["labels"] = Labels,
    };

    /// <summary>Reader options of the file targets: small buffers (more refills and boundaries), 1 MiB length bound.</summary>
    public static ReaderOptions Options(EventFormat format, bool strict) =>
        new() { Format = format, Strict = strict, MaxPacketBytes = 1 << 20, BufferBytes = 4096 };

    /// <summary>Target names.</summary>
    public static IReadOnlyCollection<string> Names => Targets.Keys;

    /// <summary>Runs target <paramref name="name"/> on <paramref name="data"/>.</summary>
    public static void Run(string name, byte[] data)
    {
        if (!Targets.TryGetValue(name, out Action<byte[]>? target))
        {
            throw new ArgumentException($"unknown fuzz target '{name}'; targets: {string.Join(", ", Targets.Keys)}", nameof(name));
        }

        target(data);
    }

    private static void ReadFile(EventFormat format, byte[] data)
    {
        foreach (bool strict in new[] { false, true })
        {
            try
            {
                using IEventReader reader = EventReaders.Open(new MemoryStream(data, writable: false), "fuzz", Options(format, strict));
                Drain(reader);
            }
            catch (EventFormatException)
            {
            }
        }
    }

    private static void Detect(byte[] data)
    {
        EventFormat format = FormatDetector.Detect(data, "fuzz");
        if (format != EventFormat.Unknown)
        {
            ReadFile(format, data);
        }
    }

    private static void Drain(IEventReader reader)
    {
        if (reader is IDvsEventReader dvs)
        {
            using var batch = new EventBatch(256);
            while (dvs.Read(batch))
            {
            }
        }
        else
        {
            using var batch = new SpikeBatch(256);
            while (((ISpikeReader)reader).Read(batch))
            {
            }
        }
    }

    private static void DvTcp(byte[] data)
    {
        foreach (bool strict in new[] { false, true })
        {
            try
            {
                using var stream = new ChunkedStream(data);
                using var reader = new Aedat4Reader(stream, "fuzz", Options(EventFormat.Aedat4, strict), networkStream: true, leaveOpen: true);
                using var batch = new EventBatch(256);
                while (reader.Read(batch))
                {
                }
            }
            catch (EventFormatException)
            {
            }
        }
    }

    private static void Aedat3Tcp(byte[] data)
    {
        using var stream = new ChunkedStream(data);
        using var decoder = new Aedat3StreamDecoder("fuzz", 1 << 20);
        var sink = new Sink();
        try
        {
            while (decoder.ReadPacket(stream, sink))
            {
            }
        }
        catch (EventFormatException)
        {
        }
    }

    private static void Aedat3Udp(byte[] data)
    {
        var decoder = new Aedat3DatagramDecoder("fuzz", 1 << 20, new LiveSourceStatistics());
        var sink = new Sink();
        long position = 0;
        foreach (ReadOnlyMemory<byte> datagram in Datagrams(data))
        {
            decoder.Decode(datagram.Span, position, sink);
            position += datagram.Length;
        }
    }

    private static void JaerUdp(byte[] data)
    {
        var numbered = new JaerDatagramDecoder(JaerChip.Davis, SensorGeometry.Davis346, numbered: true, new LiveSourceStatistics());
        var plain = new JaerDatagramDecoder(JaerChip.Dvs128, SensorGeometry.Dvs128, numbered: false, new LiveSourceStatistics());
        var sink = new Sink();
        foreach (ReadOnlyMemory<byte> datagram in Datagrams(data))
        {
            numbered.Decode(datagram.Span, sink);
            plain.Decode(datagram.Span, sink);
        }
    }

    private static void JaerTcp(byte[] data)
    {
        var dvs = new JaerStreamDecoder(JaerChip.Dvs128, SensorGeometry.Dvs128);
        var davis = new JaerStreamDecoder(JaerChip.Davis, SensorGeometry.Unknown);
        var sink = new Sink();
        foreach (ReadOnlyMemory<byte> chunk in Chunks(data))
        {
            foreach (JaerStreamDecoder decoder in new[] { dvs, davis })
            {
                chunk.Span.CopyTo(decoder.Free);
                decoder.Received(chunk.Length, sink);
            }
        }
    }

    private static void Labels(byte[] data)
    {
        // a model with 10 classes: other labels are refused like the classifier refuses them
        var decoder = new LabelLineDecoder("fuzz", (_, label) => ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)label, 9u, nameof(label)), logger: null);
        foreach (ReadOnlyMemory<byte> chunk in Chunks(data))
        {
            decoder.Feed(chunk.Span);
        }

        decoder.Complete();
    }

    /// <summary>[uint16 big-endian length][datagram]... (a short last datagram takes what is left).</summary>
    private static IEnumerable<ReadOnlyMemory<byte>> Datagrams(byte[] data)
    {
        int at = 0;
        while (at + 2 <= data.Length)
        {
            int length = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(at)), data.Length - at - 2);
            yield return data.AsMemory(at + 2, length);
            at += 2 + length;
        }
    }

    /// <summary>Byte 0 = largest read - 1, then the stream cut into reads of that size.</summary>
    private static IEnumerable<ReadOnlyMemory<byte>> Chunks(byte[] data)
    {
        if (data.Length == 0)
        {
            yield break;
        }

        int size = data[0] + 1;
        for (int at = 1; at < data.Length; at += size)
        {
            yield return data.AsMemory(at, Math.Min(size, data.Length - at));
        }
    }

    /// <summary>A read-only stream over the input that returns at most the framing's read size per Read (as a socket does).</summary>
    private sealed class ChunkedStream(byte[] data) : Stream
    {
        private readonly int _size = data.Length == 0 ? 1 : data[0] + 1;
        private int _at = Math.Min(1, data.Length);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _at;
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(Math.Min(buffer.Length, _size), data.Length - _at);
            data.AsSpan(_at, n).CopyTo(buffer);
            _at += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A sink like a live source's: emits (clears) the batch when full, counts faults.</summary>
    private sealed class Sink : IDecodeSink
    {
        public EventBatch Batch { get; } = new(256);

        public long Events { get; private set; }

        public long Faults { get; private set; }

        public void Reserve(int events)
        {
            if (Batch.Remaining < events)
            {
                Flush();
            }
        }

        public void Flush()
        {
            if (Batch.Triggers.Dropped > 0)
            {
                throw new InvalidOperationException($"{Batch.Triggers.Dropped} triggers dropped by a decoder");
            }

            Events += Batch.Count;
            Batch.Clear();
        }

        public void Fault(LiveFaultKind kind, string message) => Faults++;
    }
}
