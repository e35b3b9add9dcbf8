using System.Buffers.Binary;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>The 20-byte little-endian header of libcaer's AEDAT 3.x network protocol.</summary>
public readonly record struct Aedat3NetworkHeader(long Magic, long Sequence, sbyte Version, sbyte Format, short SourceId)
{
    /// <summary>Header size.</summary>
    public const int Size = 20;

    /// <summary>The protocol's magic number.</summary>
    public const long ExpectedMagic = 0x1D378BC90B9A6658;

    /// <summary>Largest UDP payload after the header (1472 - 20).</summary>
    public const int MaxUdpPayload = 1452;

    /// <summary>Parses the first 20 bytes.</summary>
    public static Aedat3NetworkHeader Read(ReadOnlySpan<byte> span) => new(
        BinaryPrimitives.ReadInt64LittleEndian(span),
        BinaryPrimitives.ReadInt64LittleEndian(span[8..]),
        (sbyte)span[16],
        (sbyte)span[17],
        BinaryPrimitives.ReadInt16LittleEndian(span[18..]));

    /// <summary>Writes the header into the first 20 bytes.</summary>
    public void Write(Span<byte> span)
    {
        BinaryPrimitives.WriteInt64LittleEndian(span, Magic);
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], Sequence);
        span[16] = (byte)Version;
        span[17] = (byte)Format;
        BinaryPrimitives.WriteInt16LittleEndian(span[18..], SourceId);
    }

    /// <summary>A problem with the header, or null when it is a valid version-1 header.</summary>
    public string? Problem => Magic != ExpectedMagic ? $"bad magic 0x{Magic:X16}" : Version != 1 ? $"unsupported version {Version}" : null;
}

/// <summary>
/// AEDAT 3.x network stream over TCP (libcaer / cAER output server): the 20-byte network header
/// once, then ordinary AEDAT 3.1 packets (28-byte header + eventCapacity x eventSize bytes).
/// Every packet length is bounded by <see cref="LiveSourceOptions.MaxPacketBytes"/> before
/// anything is allocated; a malformed header or packet drops the connection (counted) and the
/// source reconnects.
/// </summary>
public sealed class Aedat3TcpSource : LiveSource
{
    /// <summary>Creates the source (connects when subscribed).</summary>
    public Aedat3TcpSource(Aedat3NetworkOptions options)
        : base(options, "tcp")
    {
    }

    private protected override LiveRun CreateRun(IObserver<EventBatch> observer) => new Run(this, observer);

    private sealed class Run(Aedat3TcpSource source, IObserver<EventBatch> observer) : TcpClientRun(source, observer)
    {
        protected override void Session(Stream stream)
        {
            using var decoder = new Aedat3StreamDecoder(Source.SourceName, Source.Options.MaxPacketBytes);
            long position = 0;
            try
            {
                while (!Stopped && decoder.ReadPacket(stream, this))
                {
                    Stats._packets.Increment();
                    Account(decoder, ref position);
                }
            }
            finally
            {
                Account(decoder, ref position);
            }
        }

        private void Account(Aedat3StreamDecoder decoder, ref long position)
        {
            Stats._bytes.Add(decoder.Position - position);
            position = decoder.Position;
            Position = position;
        }
    }
}

/// <summary>
/// AEDAT 3.x network stream over UDP: every datagram carries the 20-byte network header (its
/// int64 sequence number gives loss/reorder/duplicate accounting) followed by whole AEDAT 3.1
/// packets. A datagram with a bad header or a packet that does not fit is malformed: counted,
/// the rest of it skipped.
/// </summary>
public sealed class Aedat3UdpSource : LiveSource
{
    /// <summary>Creates the source (binds when subscribed).</summary>
    public Aedat3UdpSource(Aedat3NetworkOptions options)
        : base(options, "udp")
    {
    }

    private protected override LiveRun CreateRun(IObserver<EventBatch> observer) => new Run(this, observer);

    private sealed class Run(Aedat3UdpSource source, IObserver<EventBatch> observer) : UdpRun(source, observer)
    {
        private readonly Aedat3DatagramDecoder _decoder = new(source.SourceName, source.Options.MaxPacketBytes, source.Statistics);

        protected override void Datagram(ReadOnlySpan<byte> data) => _decoder.Decode(data, Position, this);
    }
}
