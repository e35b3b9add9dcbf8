using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using EventSnn.Events;
using EventSnn.IO;
using Microsoft.Extensions.Logging;

namespace EventSnn.Pipeline;

/// <summary>
/// Where a live-protocol decoder puts what it decodes: a live source's receive loop, a serve
/// stream or a fuzz target. Decoders know bytes, not sockets.
/// </summary>
internal interface IDecodeSink
{
    /// <summary>The batch being filled.</summary>
    EventBatch Batch { get; }

    /// <summary>Makes room for <paramref name="events"/> more events (emits the batch first when it has less room; may grow it).</summary>
    void Reserve(int events);

    /// <summary>Emits the batch when it holds events or triggers, then clears it.</summary>
    void Flush();

    /// <summary>Reports a problem the stream survives (counted, decoding goes on).</summary>
    void Fault(LiveFaultKind kind, string message);
}

/// <summary>
/// jAER UDP datagrams (AEUnicastOutput): an optional big-endian int32 sequence number, then
/// big-endian (int32 address, int32 timestamp) pairs. A datagram whose length is not
/// 4 + 8k (8k without numbers) is malformed: reported and skipped. Sequence gaps, late and
/// repeated datagrams are reported; repeats are dropped.
/// </summary>
internal sealed class JaerDatagramDecoder
{
    private readonly bool _numbered;

    public JaerDatagramDecoder(JaerChip chip, SensorGeometry geometry, bool numbered, LiveSourceStatistics statistics)
    {
        Events = new JaerEventDecoder(chip, geometry);
        Sequence = new SequenceTracker(statistics);
        _numbered = numbered;
    }

    /// <summary>The record decoder (timestamp unwrap, counters).</summary>
    public JaerEventDecoder Events { get; }

    /// <summary>The sequence-number accounting.</summary>
    public SequenceTracker Sequence { get; }

    /// <summary>Decodes one datagram into <paramref name="sink"/>; false when it was skipped (malformed or a duplicate).</summary>
    public bool Decode(ReadOnlySpan<byte> data, IDecodeSink sink)
    {
        int header = _numbered ? 4 : 0;
        if (data.Length < header || (data.Length - header) % 8 != 0)
        {
            sink.Fault(LiveFaultKind.Malformed, $"datagram of {data.Length} bytes is not {header} + 8k bytes");
            return false;
        }

        if (_numbered)
        {
            long seq = Sequence.Unwrap32(BinaryPrimitives.ReadInt32BigEndian(data));
            bool accept = Sequence.Observe(seq, out LiveFaultKind? fault);
            if (fault is { } kind)
            {
                sink.Fault(kind, $"datagram {seq}");
            }

            if (!accept)
            {
                return false;
            }
        }

        JaerRecords.Decode(Events, data[header..], sink);
        return true;
    }
}

/// <summary>
/// A headerless jAER TCP stream (AEServerSocket) of big-endian (int32 address, int32 timestamp)
/// pairs, arriving in chunks that may cut a record: the cut part waits for the next chunk.
/// Receive into <see cref="Free"/>, then call <see cref="Received"/>.
/// </summary>
internal sealed class JaerStreamDecoder(JaerChip chip, SensorGeometry geometry)
{
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _carry;

    /// <summary>The record decoder (timestamp unwrap, counters).</summary>
    public JaerEventDecoder Events { get; } = new(chip, geometry);

    /// <summary>Where the next bytes go (after the part of a record left from the last chunk).</summary>
    public Span<byte> Free => _buffer.AsSpan(_carry);

    /// <summary>Bytes of an incomplete record waiting for the next chunk.</summary>
    public int Pending => _carry;

    /// <summary>Decodes the <paramref name="count"/> bytes just received into <see cref="Free"/>, then flushes the sink.</summary>
    public void Received(int count, IDecodeSink sink)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _carry);
        int total = _carry + count;
        int whole = total - (total % 8);
        JaerRecords.Decode(Events, _buffer.AsSpan(0, whole), sink);
        sink.Flush();
        _carry = total - whole;
        if (_carry > 0)
        {
            Buffer.BlockCopy(_buffer, whole, _buffer, 0, _carry);
        }
    }
}

/// <summary>The record loop shared by the jAER datagram and stream decoders.</summary>
internal static class JaerRecords
{
    /// <summary>Decodes whole 8-byte records into the sink, emitting the batch whenever it (or its trigger buffer) is full.</summary>
    public static void Decode(JaerEventDecoder decoder, ReadOnlySpan<byte> records, IDecodeSink sink)
    {
        bool stalled = false;
        while (records.Length >= 8)
        {
            sink.Reserve(Math.Min(records.Length / 8, sink.Batch.Capacity));
            int used = decoder.Decode(records, 4, sink.Batch);
            records = records[used..];
            if (used == 0)
            {
                // the batch or its trigger buffer is full: emit it; twice in a row would loop forever
                if (stalled)
                {
                    throw new InvalidOperationException("the sink's batch takes no record after a flush");
                }

                sink.Flush();
            }

            stalled = used == 0;
        }
    }
}

/// <summary>AEDAT 3.1 packets decoded in steps that fit the sink's batch (also packets with more events or triggers than a batch holds).</summary>
internal static class Aedat3Packets
{
    /// <summary>
    /// Decodes one complete packet (28-byte header + payload) from the start of
    /// <paramref name="packet"/>; polarity events and triggers go to the sink, other types are
    /// skipped. Returns the bytes consumed.
    /// </summary>
    /// <exception cref="EventFormatException">A bad header, or the payload is cut short (IsTruncation).</exception>
    public static int Decode(ReadOnlySpan<byte> packet, IDecodeSink sink, ref Aedat31Counters counters, string sourceName, long offset, int maxPacketBytes)
    {
        Aedat31PacketHeader h = Aedat31PacketHeader.ReadComplete(packet, sourceName, offset, maxPacketBytes);
        int payload = (int)h.PayloadBytes;

        counters.Packets++;
        if (h.EventType is not (Aedat31PacketHeader.PolarityType or Aedat31PacketHeader.SpecialType))
        {
            counters.PacketsSkipped++;
            return Aedat31PacketHeader.Size + payload;
        }

        ReadOnlySpan<byte> events = packet.Slice(Aedat31PacketHeader.Size, h.EventNumber * h.EventSize);
        sink.Reserve(Math.Min(h.EventNumber, sink.Batch.Capacity));
        while (!events.IsEmpty)
        {
            int done = h.EventType == Aedat31PacketHeader.PolarityType
                ? Aedat31PacketDecoder.DecodePolarity(events, h.EventTSOverflow, sink.Batch, ref counters)
                : Aedat31PacketDecoder.DecodeSpecial(events, h.EventTSOverflow, sink.Batch, ref counters);
            events = events[(done * 8)..];
            if (!events.IsEmpty)
            {
                if (done == 0 && sink.Batch.Count == 0 && sink.Batch.Triggers.Count == 0)
                {
                    throw new InvalidOperationException("the sink's batch takes no event");
                }

                sink.Flush(); // the batch or its trigger buffer is full
            }
        }

        return Aedat31PacketHeader.Size + payload;
    }
}

/// <summary>
/// An AEDAT 3.x network stream over TCP (libcaer's output server): the 20-byte network header
/// once, then AEDAT 3.1 packets. Every packet length is bounded before anything is allocated.
/// </summary>
internal sealed class Aedat3StreamDecoder(string sourceName, int maxPacketBytes) : IDisposable
{
    private byte[] _packet = ArrayPool<byte>.Shared.Rent(Aedat31PacketHeader.Size + 4096);
    private Aedat31Counters _counters;
    private bool _headerRead;

    /// <summary>Bytes taken from the stream so far.</summary>
    public long Position { get; private set; }

    /// <summary>What the packets held so far.</summary>
    public Aedat31Counters Counters => _counters;

    /// <summary>
    /// Reads the network header (first call) and the next packet from <paramref name="stream"/>
    /// into the sink, then flushes it. False when the stream ends cleanly between packets.
    /// </summary>
    /// <exception cref="EventFormatException">A bad header or packet, or the stream ends inside one (IsTruncation).</exception>
    public bool ReadPacket(Stream stream, IDecodeSink sink)
    {
        if (!_headerRead)
        {
            Span<byte> header = stackalloc byte[Aedat3NetworkHeader.Size];
            if (!ReadExact(stream, header, "network header"))
            {
                return false;
            }

            if (Aedat3NetworkHeader.Read(header).Problem is { } problem)
            {
                throw new EventFormatException(sourceName, 0, problem, "magic");
            }

            _headerRead = true;
        }

        long at = Position;
        if (!ReadExact(stream, _packet.AsSpan(0, Aedat31PacketHeader.Size), "packet header"))
        {
            return false;
        }

        Aedat31PacketHeader ph = Aedat31PacketHeader.Read(_packet);
        if (ph.Validate(maxPacketBytes) is { } bad)
        {
            throw new EventFormatException(sourceName, at, bad.Problem, bad.Field);
        }

        int total = Aedat31PacketHeader.Size + (int)ph.PayloadBytes;
        if (_packet.Length < total)
        {
            byte[] bigger = ArrayPool<byte>.Shared.Rent(total);
            _packet.AsSpan(0, Aedat31PacketHeader.Size).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_packet);
            _packet = bigger;
        }

        if (total > Aedat31PacketHeader.Size && !ReadExact(stream, _packet.AsSpan(Aedat31PacketHeader.Size, total - Aedat31PacketHeader.Size), "packet payload"))
        {
            throw new EventFormatException(sourceName, Position, "connection closed inside a packet", "payload") { IsTruncation = true };
        }

        Aedat3Packets.Decode(_packet.AsSpan(0, total), sink, ref _counters, sourceName, at, maxPacketBytes);
        sink.Flush();
        return true;
    }

    public void Dispose()
    {
        if (_packet.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_packet);
            _packet = [];
        }
    }

    /// <summary>Reads exactly <paramref name="buffer"/>.Length bytes; false on a clean end before the first byte, truncation error after it.</summary>
    private bool ReadExact(Stream stream, Span<byte> buffer, string what)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int n = stream.Read(buffer[done..]);
            if (n <= 0)
            {
                if (done == 0)
                {
                    return false;
                }

                throw new EventFormatException(sourceName, Position + done, $"connection closed inside {what}", what) { IsTruncation = true };
            }

            done += n;
        }

        Position += done;
        return true;
    }
}

/// <summary>
/// AEDAT 3.x network datagrams (UDP): every datagram carries the 20-byte network header (its
/// int64 sequence number gives loss/reorder/duplicate accounting) and whole AEDAT 3.1 packets.
/// A bad header or a packet that does not fit is reported as malformed and the rest of the
/// datagram skipped.
/// </summary>
internal sealed class Aedat3DatagramDecoder(string sourceName, int maxPacketBytes, LiveSourceStatistics statistics)
{
    private readonly SequenceTracker _sequence = new(statistics);
    private Aedat31Counters _counters;

    /// <summary>What the packets held so far.</summary>
    public Aedat31Counters Counters => _counters;

    /// <summary>Decodes one datagram (starting at stream byte <paramref name="position"/>) into the sink, then flushes it.</summary>
    public void Decode(ReadOnlySpan<byte> data, long position, IDecodeSink sink)
    {
        if (data.Length < Aedat3NetworkHeader.Size)
        {
            sink.Fault(LiveFaultKind.Malformed, $"datagram of {data.Length} bytes has no network header");
            return;
        }

        Aedat3NetworkHeader h = Aedat3NetworkHeader.Read(data);
        if (h.Problem is { } problem)
        {
            sink.Fault(LiveFaultKind.Malformed, problem);
            return;
        }

        bool accept = _sequence.Observe(h.Sequence, out LiveFaultKind? fault);
        if (fault is { } kind)
        {
            sink.Fault(kind, $"datagram {h.Sequence}");
        }

        if (!accept)
        {
            return;
        }

        int offset = Aedat3NetworkHeader.Size;
        while (data.Length - offset >= Aedat31PacketHeader.Size)
        {
            try
            {
                offset += Aedat3Packets.Decode(data[offset..], sink, ref _counters, sourceName, position + offset, maxPacketBytes);
            }
            catch (EventFormatException ex)
            {
                sink.Fault(LiveFaultKind.Malformed, ex.Message);
                break;
            }
        }

        sink.Flush();
    }
}

/// <summary>
/// The label feedback protocol: text lines <c>t_us,label</c> in chunks of bytes. Blank lines and
/// lines starting with '#' are skipped, a non-numeric first line is a header, other malformed
/// lines (and lines longer than <see cref="MaxLineBytes"/>) are counted and reported.
/// </summary>
internal sealed class LabelLineDecoder(string sourceName, Action<long, int> onLabel, ILogger? logger)
{
    /// <summary>Longest line kept; longer ones are malformed.</summary>
    public const int MaxLineBytes = 4096;

    private readonly byte[] _line = new byte[MaxLineBytes];
    private int _length;
    private bool _overlong;
    private long _number;
    private readonly AtomicCount _lines = new();
    private readonly AtomicCount _malformed = new();

    /// <summary>Labels delivered.</summary>
    public long Lines => _lines.Value;

    /// <summary>Malformed lines skipped.</summary>
    public long Malformed => _malformed.Value;

    /// <summary>Parses one line <c>t_us,label</c>; false when it is not two integers.</summary>
    public static bool TryParse(ReadOnlySpan<char> line, out long tUs, out int label)
    {
        tUs = 0;
        label = 0;
        int comma = line.IndexOf(',');
        return comma > 0
            && long.TryParse(line[..comma].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out tUs)
            && int.TryParse(line[(comma + 1)..].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out label);
    }

    /// <summary>Takes the next bytes of the stream; complete lines are handled at once.</summary>
    public void Feed(ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            if (b == (byte)'\n')
            {
                _number++;
                Line(_line.AsSpan(0, _length), _number, _overlong);
                _length = 0;
                _overlong = false;
            }
            else if (_length < _line.Length)
            {
                _line[_length++] = b;
            }
            else
            {
                _overlong = true;
            }
        }
    }

    /// <summary>The stream ended: handles a last line without a line end.</summary>
    public void Complete()
    {
        if (_length > 0)
        {
            Line(_line.AsSpan(0, _length), _number + 1, _overlong);
            _length = 0;
            _overlong = false;
        }
    }

    private void Line(ReadOnlySpan<byte> bytes, long number, bool overlong)
    {
        Span<char> chars = stackalloc char[MaxLineBytes];
        int n = Encoding.ASCII.GetChars(bytes, chars);
        ReadOnlySpan<char> text = chars[..n].Trim();
        if (text.IsEmpty || text[0] == '#')
        {
            return;
        }

        if (!overlong && TryParse(text, out long t, out int label))
        {
            try
            {
                onLabel(t, label);
                _lines.Increment();
                return;
            }
            catch (ArgumentException ex)
            {
                // e.g. a class outside the model's range: reported like a malformed line
                _malformed.Increment();
                logger?.LogWarning("{Source}: line {Line}: {Problem}", sourceName, number, ex.Message);
                return;
            }
        }

        if (number == 1 && !overlong)
        {
            return; // a header
        }

        _malformed.Increment();
        logger?.LogWarning("{Source}: line {Line}: expected t_us,label but found '{Found}'", sourceName, number, overlong ? $"(longer than {MaxLineBytes} bytes)" : text.ToString());
    }
}
