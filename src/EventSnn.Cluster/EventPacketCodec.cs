using System.Buffers.Binary;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Cluster;

/// <summary>
/// Event packets on the wire: one AEDAT 4.0 packet per message, exactly as DV writes it to a file
/// or a socket after the IOHeader (int32 stream id 0, int32 payload size, the compressed
/// "EVTS" FlatBuffer). <see cref="Encode"/> and <see cref="Decode"/> are each other's inverse.
/// Not thread-safe: one codec per publisher or per grain.
/// </summary>
public sealed class EventPacketCodec : IDisposable
{
    /// <summary>Most events per packet.</summary>
    public const int MaxEvents = 1 << 16;

    private readonly CaptureStream _capture = new();
    private readonly Aedat4Writer _writer;
    private readonly Dictionary<Aedat4Compression, Aedat4PacketDecoder> _decoders = [];

    /// <summary>A codec that encodes for <paramref name="geometry"/> with <paramref name="compression"/>.</summary>
    public EventPacketCodec(SensorGeometry geometry, Aedat4Compression compression = Aedat4Compression.Lz4)
    {
        Compression = compression;
        _writer = new Aedat4Writer(_capture, new Aedat4WriterOptions
        {
            Compression = compression,
            Geometry = geometry,
            EventsPerPacket = MaxEvents,
            WriteTable = false,
            LeaveOpen = true,
        });
        _writer.Flush();
        _capture.Reset(); // the file line and IOHeader: not part of a packet
    }

    /// <summary>Compression of the packets <see cref="Encode"/> writes.</summary>
    public Aedat4Compression Compression { get; }

    /// <summary>The packet of events [<paramref name="start"/>, start + <paramref name="count"/>) of <paramref name="batch"/> (1..<see cref="MaxEvents"/> events).</summary>
    public byte[] Encode(EventBatch batch, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (count < 1 || count > MaxEvents || (uint)start > (uint)batch.Count || count > batch.Count - start)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"a packet holds 1..{MaxEvents} events of the batch");
        }

        _writer.WriteEvents(batch.T.AsSpan(start, count), batch.X.AsSpan(start, count), batch.Y.AsSpan(start, count), batch.P.AsSpan(start, count));
        _writer.Flush();
        byte[] packet = _capture.ToArray();
        _capture.Reset();
        return packet;
    }

    /// <summary>
    /// Appends the events of <paramref name="packet"/> to <paramref name="batch"/> (which needs room
    /// for them); returns their number. Damaged packets throw <see cref="EventFormatException"/>
    /// naming <paramref name="source"/> and the byte offset.
    /// </summary>
    public int Decode(ReadOnlySpan<byte> packet, Aedat4Compression compression, EventBatch batch, string source)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (packet.Length < 8)
        {
            throw new EventFormatException(source, 0, $"packet of {packet.Length} bytes is shorter than its 8-byte header", "header");
        }

        int streamId = BinaryPrimitives.ReadInt32LittleEndian(packet);
        int size = BinaryPrimitives.ReadInt32LittleEndian(packet[4..]);
        if (size < 0 || size != packet.Length - 8)
        {
            throw new EventFormatException(source, 4, $"payload size {size} does not match the {packet.Length - 8} bytes that follow", "size");
        }

        if (!_decoders.TryGetValue(compression, out Aedat4PacketDecoder? decoder))
        {
            decoder = new Aedat4PacketDecoder(compression, source);
            _decoders[compression] = decoder;
        }

        if (decoder.Load(streamId, packet[8..], 8) != Aedat4StreamType.Events)
        {
            throw new EventFormatException(source, 8, "the packet does not hold DVS events", "type");
        }

        if (decoder.PendingEvents > batch.Remaining)
        {
            throw new EventFormatException(source, 8, $"the packet holds {decoder.PendingEvents} events, more than the {batch.Remaining} this reader takes", "count");
        }

        return decoder.Drain(batch);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _writer.Dispose();
        foreach (Aedat4PacketDecoder d in _decoders.Values)
        {
            d.Dispose();
        }

        _capture.Dispose();
    }

    /// <summary>A write-only stream that keeps what was written since the last reset.</summary>
    private sealed class CaptureStream : Stream
    {
        private readonly MemoryStream _buffer = new();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _buffer.Length;

        public override long Position
        {
            get => _buffer.Length;
            set => throw new NotSupportedException();
        }

        public void Reset() => _buffer.SetLength(0);

        public byte[] ToArray() => _buffer.ToArray();

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => _buffer.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => _buffer.Write(buffer);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _buffer.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
