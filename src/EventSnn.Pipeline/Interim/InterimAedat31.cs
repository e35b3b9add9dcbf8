using System.Buffers.Binary;
using EventSnn.Events;

#pragma warning disable IDE0130 // interim stand-in placed in the namespace of the real type
namespace EventSnn.IO;
#pragma warning restore IDE0130

/// <summary>AEDAT 3.1 packet header (interim stand-in).</summary>
internal readonly record struct Aedat31PacketHeader(short EventType, short EventSource, int EventSize, int EventTSOffset, int EventTSOverflow, int EventCapacity, int EventNumber, int EventValid)
{
    public const int Size = 28;

    public long PayloadBytes => (long)EventSize * EventCapacity;

    public static Aedat31PacketHeader Read(ReadOnlySpan<byte> s) => new(
        BinaryPrimitives.ReadInt16LittleEndian(s),
        BinaryPrimitives.ReadInt16LittleEndian(s[2..]),
        BinaryPrimitives.ReadInt32LittleEndian(s[4..]),
        BinaryPrimitives.ReadInt32LittleEndian(s[8..]),
        BinaryPrimitives.ReadInt32LittleEndian(s[12..]),
        BinaryPrimitives.ReadInt32LittleEndian(s[16..]),
        BinaryPrimitives.ReadInt32LittleEndian(s[20..]),
        BinaryPrimitives.ReadInt32LittleEndian(s[24..]));

    public void Write(Span<byte> s)
    {
        BinaryPrimitives.WriteInt16LittleEndian(s, EventType);
        BinaryPrimitives.WriteInt16LittleEndian(s[2..], EventSource);
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], EventSize);
        BinaryPrimitives.WriteInt32LittleEndian(s[8..], EventTSOffset);
        BinaryPrimitives.WriteInt32LittleEndian(s[12..], EventTSOverflow);
        BinaryPrimitives.WriteInt32LittleEndian(s[16..], EventCapacity);
        BinaryPrimitives.WriteInt32LittleEndian(s[20..], EventNumber);
        BinaryPrimitives.WriteInt32LittleEndian(s[24..], EventValid);
    }

    public (string Problem, string Field)? Validate(int maxPacketBytes)
    {
        if (EventSize <= 0 || EventCapacity < 0 || EventNumber < 0 || EventNumber > EventCapacity)
        {
            return ("inconsistent sizes", "eventSize");
        }

        if (PayloadBytes > maxPacketBytes)
        {
            return ($"payload of {PayloadBytes} bytes exceeds {maxPacketBytes}", "eventCapacity");
        }

        if (EventType == 1 && EventSize != 8)
        {
            return ("polarity events must be 8 bytes", "eventSize");
        }

        return null;
    }
}

/// <summary>Running counts (interim stand-in).</summary>
internal struct Aedat31Counters
{
    public long Packets;
    public long PacketsSkipped;
    public long PolarityEvents;
    public long InvalidEvents;
    public long Triggers;
}

/// <summary>AEDAT 3.1 packet decoding (interim stand-in: polarity events only, other types skipped).</summary>
internal static class Aedat31PacketDecoder
{
    public static int DecodePacket(ReadOnlySpan<byte> packet, EventBatch batch, ref Aedat31Counters counters, string sourceName, long offset, int maxPacketBytes = 64 << 20)
    {
        if (packet.Length < Aedat31PacketHeader.Size)
        {
            throw new EventFormatException(sourceName, offset, "packet header cut short", "header") { IsTruncation = true };
        }

        Aedat31PacketHeader h = Aedat31PacketHeader.Read(packet);
        if (h.Validate(maxPacketBytes) is { } bad)
        {
            throw new EventFormatException(sourceName, offset, bad.Problem, bad.Field);
        }

        int payload = (int)h.PayloadBytes;
        if (packet.Length - Aedat31PacketHeader.Size < payload)
        {
            throw new EventFormatException(sourceName, offset, "packet payload cut short", "payload") { IsTruncation = true };
        }

        counters.Packets++;
        if (h.EventType != 1)
        {
            counters.PacketsSkipped++;
            return Aedat31PacketHeader.Size + payload;
        }

        if (batch.Remaining < h.EventNumber)
        {
            throw new ArgumentException("batch too small for the packet", nameof(batch));
        }

        ReadOnlySpan<byte> ev = packet.Slice(Aedat31PacketHeader.Size, h.EventNumber * 8);
        long overflow = (long)h.EventTSOverflow << 31;
        for (int i = 0; i < h.EventNumber; i++)
        {
            uint data = BinaryPrimitives.ReadUInt32LittleEndian(ev.Slice(i * 8));
            int ts = BinaryPrimitives.ReadInt32LittleEndian(ev.Slice((i * 8) + 4));
            if ((data & 1) == 0)
            {
                counters.InvalidEvents++;
                continue;
            }

            batch.Add(overflow | (uint)ts, (int)(data >> 17), (int)((data >> 2) & 0x7FFF), (data & 2) != 0);
            counters.PolarityEvents++;
        }

        return Aedat31PacketHeader.Size + payload;
    }
}
