using System.Buffers;
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
            Span<byte> header = stackalloc byte[Aedat3NetworkHeader.Size];
            if (!ReadExact(stream, header, "network header"))
            {
                return;
            }

            Aedat3NetworkHeader h = Aedat3NetworkHeader.Read(header);
            if (h.Problem is { } problem)
            {
                throw new EventFormatException(Source.SourceName, 0, problem, "magic");
            }

            int max = Source.Options.MaxPacketBytes;
            byte[] packet = ArrayPool<byte>.Shared.Rent(Aedat31PacketHeader.Size + 4096);
            try
            {
                var counters = default(Aedat31Counters);
                while (!Stopped)
                {
                    long at = Position;
                    if (!ReadExact(stream, packet.AsSpan(0, Aedat31PacketHeader.Size), "packet header"))
                    {
                        return;
                    }

                    Aedat31PacketHeader ph = Aedat31PacketHeader.Read(packet);
                    if (ph.Validate(max) is { } bad)
                    {
                        throw new EventFormatException(Source.SourceName, at, bad.Problem, bad.Field);
                    }

                    int total = Aedat31PacketHeader.Size + (int)ph.PayloadBytes;
                    if (packet.Length < total)
                    {
                        byte[] bigger = ArrayPool<byte>.Shared.Rent(total);
                        packet.AsSpan(0, Aedat31PacketHeader.Size).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(packet);
                        packet = bigger;
                    }

                    if (!ReadExact(stream, packet.AsSpan(Aedat31PacketHeader.Size, total - Aedat31PacketHeader.Size), "packet payload") && total > Aedat31PacketHeader.Size)
                    {
                        throw new EventFormatException(Source.SourceName, Position, "connection closed inside a packet", "payload") { IsTruncation = true };
                    }

                    Reserve(Math.Max(ph.EventNumber, 1));
                    long polarity = counters.PolarityEvents;
                    Aedat31PacketDecoder.DecodePacket(packet.AsSpan(0, total), Batch, ref counters, Source.SourceName, at, max);
                    Interlocked.Increment(ref Stats._packets);
                    Flush();
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(packet);
            }
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
        private readonly SequenceTracker _sequence = new(source.Statistics);
        private Aedat31Counters _counters;

        protected override void Datagram(ReadOnlySpan<byte> data)
        {
            if (data.Length < Aedat3NetworkHeader.Size)
            {
                Fault(LiveFaultKind.Malformed, $"datagram of {data.Length} bytes has no network header");
                return;
            }

            Aedat3NetworkHeader h = Aedat3NetworkHeader.Read(data);
            if (h.Problem is { } problem)
            {
                Fault(LiveFaultKind.Malformed, problem);
                return;
            }

            bool accept = _sequence.Observe(h.Sequence, out LiveFaultKind? fault);
            if (fault is { } kind)
            {
                Fault(kind, $"datagram {h.Sequence}");
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
                    Aedat31PacketHeader ph = Aedat31PacketHeader.Read(data[offset..]);
                    Reserve(Math.Max(0, Math.Min(ph.EventNumber, data.Length / 8)));
                    offset += Aedat31PacketDecoder.DecodePacket(data[offset..], Batch, ref _counters, source.SourceName, Position + offset, Source.Options.MaxPacketBytes);
                }
                catch (Exception ex) when (ex is EventFormatException or ArgumentException)
                {
                    Fault(LiveFaultKind.Malformed, ex.Message);
                    break;
                }
            }

            Flush();
        }
    }
}
