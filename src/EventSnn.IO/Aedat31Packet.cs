using System.Buffers.Binary;
using System.Runtime.InteropServices;
using EventSnn.Events;

namespace EventSnn.IO;

/// <summary>The 28-byte little-endian header of an AEDAT 3.1 (libcaer) event packet.</summary>
/// <param name="EventType">0 special, 1 polarity, 2 frame, 3 IMU6, 4 IMU9, 12 spike, ... (bit 15: compressed).</param>
/// <param name="EventSource">Source (device) id.</param>
/// <param name="EventSize">Bytes per event.</param>
/// <param name="EventTSOffset">Byte offset of the int32 timestamp inside an event.</param>
/// <param name="EventTSOverflow">Timestamp overflow counter: full time = overflow &lt;&lt; 31 | timestamp.</param>
/// <param name="EventCapacity">Event slots in the packet; the payload is EventSize x EventCapacity bytes.</param>
/// <param name="EventNumber">Events present (the first EventNumber slots).</param>
/// <param name="EventValid">Events whose valid bit is set.</param>
public readonly record struct Aedat31PacketHeader(
    short EventType,
    short EventSource,
    int EventSize,
    int EventTSOffset,
    int EventTSOverflow,
    int EventCapacity,
    int EventNumber,
    int EventValid)
{
    /// <summary>Header size in bytes.</summary>
    public const int Size = 28;

    /// <summary>Special events (timestamp wrap/reset, external inputs, ...).</summary>
    public const short SpecialType = 0;

    /// <summary>Polarity (DVS) events.</summary>
    public const short PolarityType = 1;

    /// <summary>Payload size claimed by the header: EventSize x EventCapacity (may be huge or negative in a corrupt file).</summary>
    public long PayloadBytes => (long)EventSize * EventCapacity;

    /// <summary>True when bit 15 of the type marks a compressed packet (not supported).</summary>
    public bool IsCompressed => (EventType & 0x8000) != 0;

    /// <summary>Parses the first 28 bytes of <paramref name="span"/>.</summary>
    public static Aedat31PacketHeader Read(ReadOnlySpan<byte> span) => new(
        BinaryPrimitives.ReadInt16LittleEndian(span),
        BinaryPrimitives.ReadInt16LittleEndian(span[2..]),
        BinaryPrimitives.ReadInt32LittleEndian(span[4..]),
        BinaryPrimitives.ReadInt32LittleEndian(span[8..]),
        BinaryPrimitives.ReadInt32LittleEndian(span[12..]),
        BinaryPrimitives.ReadInt32LittleEndian(span[16..]),
        BinaryPrimitives.ReadInt32LittleEndian(span[20..]),
        BinaryPrimitives.ReadInt32LittleEndian(span[24..]));

    /// <summary>
    /// Reads and checks the header of the complete packet at the start of <paramref name="packet"/>:
    /// a valid header (payload at most <paramref name="maxPacketBytes"/>) whose payload is present.
    /// </summary>
    /// <exception cref="EventFormatException">A bad header, or header or payload cut short (IsTruncation).</exception>
    public static Aedat31PacketHeader ReadComplete(ReadOnlySpan<byte> packet, string sourceName, long offset, int maxPacketBytes)
    {
        if (packet.Length < Size)
        {
            throw new EventFormatException(sourceName, offset, $"packet header needs {Size} bytes, {packet.Length} present", "header") { IsTruncation = true };
        }

        Aedat31PacketHeader h = Read(packet);
        if (h.Validate(maxPacketBytes) is { } bad)
        {
            throw new EventFormatException(sourceName, offset, bad.Problem, bad.Field);
        }

        if (packet.Length - Size < h.PayloadBytes)
        {
            throw new EventFormatException(sourceName, offset + packet.Length, $"packet payload of {h.PayloadBytes} bytes cut short", "payload") { IsTruncation = true };
        }

        return h;
    }

    /// <summary>Writes the header into the first 28 bytes of <paramref name="span"/>.</summary>
    public void Write(Span<byte> span)
    {
        BinaryPrimitives.WriteInt16LittleEndian(span, EventType);
        BinaryPrimitives.WriteInt16LittleEndian(span[2..], EventSource);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], EventSize);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], EventTSOffset);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], EventTSOverflow);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], EventCapacity);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], EventNumber);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], EventValid);
    }

    /// <summary>
    /// Checks the header fields against the reader's bounds; returns null when sound, else
    /// the problem (and the field at fault).
    /// </summary>
    public (string Problem, string Field)? Validate(int maxPacketBytes)
    {
        if (IsCompressed)
        {
            return ("compressed packets are not supported", "eventType");
        }

        if (EventSize <= 0)
        {
            return ($"eventSize {EventSize} must be positive", "eventSize");
        }

        if (EventCapacity < 0)
        {
            return ($"eventCapacity {EventCapacity} is negative", "eventCapacity");
        }

        if (EventNumber < 0 || EventNumber > EventCapacity)
        {
            return ($"eventNumber {EventNumber} is outside [0, eventCapacity {EventCapacity}]", "eventNumber");
        }

        if (PayloadBytes > maxPacketBytes)
        {
            return ($"packet claims {PayloadBytes} bytes (eventSize {EventSize} x eventCapacity {EventCapacity}), more than the limit of {maxPacketBytes}", "eventCapacity");
        }

        if (EventType is SpecialType or PolarityType && (EventSize != 8 || EventTSOffset != 4))
        {
            return ($"a type-{EventType} packet must have eventSize 8 and eventTSOffset 4, not {EventSize}/{EventTSOffset}", "eventSize");
        }

        return null;
    }
}

/// <summary>Running counts of what <see cref="Aedat31PacketDecoder"/> met.</summary>
public struct Aedat31Counters
{
    /// <summary>Packets whose header was read.</summary>
    public long Packets;

    /// <summary>Packets of other types skipped by eventSize x eventCapacity.</summary>
    public long PacketsSkipped;

    /// <summary>Polarity events returned.</summary>
    public long PolarityEvents;

    /// <summary>Events (polarity or special) skipped because their valid bit was 0.</summary>
    public long InvalidEvents;

    /// <summary>Valid special events seen (all types).</summary>
    public long SpecialEvents;

    /// <summary>Special events returned as triggers.</summary>
    public long Triggers;

    /// <summary>TIMESTAMP_WRAP special events seen (the packet overflow counter already accounts for them).</summary>
    public long TimestampWraps;
}

/// <summary>
/// Decodes AEDAT 3.1 (libcaer) polarity and special events straight into an
/// <see cref="EventBatch"/>; shared by <see cref="Aedat31Reader"/> and AEDAT 3.x network
/// clients. Allocation-free.
/// </summary>
/// <remarks>
/// <para>
/// Polarity event (libcaer <c>polarity.h</c>): little-endian uint32 data — bit 0 valid,
/// bit 1 polarity (1 = ON), bits 2..16 y, bits 17..31 x, origin top-left — then int32
/// timestamp. Full time = <c>(int64)eventTSOverflow &lt;&lt; 31 | timestamp</c> (bit 31 of the
/// timestamp, never set by libcaer, is ignored). Events with the valid bit 0 are skipped.
/// </para>
/// <para>
/// Special event (libcaer <c>special.h</c>): bits 1..7 type, bits 8..31 data. Triggers:
/// 1 TIMESTAMP_RESET → <see cref="TriggerKind.TimestampReset"/>; 2/3/4 external input
/// rising/falling/pulse → <see cref="TriggerKind.ExternalRising"/>/<see cref="TriggerKind.ExternalFalling"/>/<see cref="TriggerKind.ExternalPulse"/>
/// with Data 0; 6/7/8 and 9/10/11 the same for inputs 1 and 2 (Data 1, 2); 12/13 external
/// generator rising/falling → <see cref="TriggerKind.ExternalGenerator"/> with Data 1/0;
/// types above 18 → <see cref="TriggerKind.Other"/> with Data = type. Not triggers (counted
/// only): 0 TIMESTAMP_WRAP, 5 DVS_ROW_ONLY, 14..18 APS frame/exposure/readout markers.
/// </para>
/// </remarks>
public static class Aedat31PacketDecoder
{
    /// <summary>
    /// Decodes whole 8-byte polarity events from <paramref name="events"/> into
    /// <paramref name="batch"/> until the span is used up or the batch is full.
    /// </summary>
    /// <returns>Events consumed (valid or not); bytes consumed = 8 x the result.</returns>
    public static int DecodePolarity(ReadOnlySpan<byte> events, int tsOverflow, EventBatch batch, ref Aedat31Counters counters)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int count = events.Length >> 3;
        ReadOnlySpan<uint> words = MemoryMarshal.Cast<byte, uint>(events[..(count << 3)]);
        long epoch = (long)tsOverflow << 31;
        long[] ts = batch.T;
        ushort[] xs = batch.X;
        ushort[] ys = batch.Y;
        byte[] ps = batch.P;
        int n = batch.Count;
        int cap = batch.Capacity;
        int i = 0;
        long invalid = 0;
        for (; i < count && n < cap; i++)
        {
            uint data = BitConverter.IsLittleEndian ? words[2 * i] : BinaryPrimitives.ReverseEndianness(words[2 * i]);
            uint t = BitConverter.IsLittleEndian ? words[(2 * i) + 1] : BinaryPrimitives.ReverseEndianness(words[(2 * i) + 1]);
            if ((data & 1) == 0)
            {
                invalid++;
                continue;
            }

            ts[n] = epoch | (t & 0x7FFFFFFF);
            xs[n] = (ushort)(data >> 17);
            ys[n] = (ushort)((data >> 2) & 0x7FFF);
            ps[n] = (byte)((data >> 1) & 1);
            n++;
        }

        counters.PolarityEvents += n - batch.Count;
        counters.InvalidEvents += invalid;
        batch.SetCount(n);
        return i;
    }

    /// <summary>
    /// Decodes whole 8-byte special events from <paramref name="events"/>, adding triggers
    /// to <paramref name="batch"/> until the span is used up or the trigger buffer is full.
    /// </summary>
    /// <returns>Events consumed; bytes consumed = 8 x the result.</returns>
    public static int DecodeSpecial(ReadOnlySpan<byte> events, int tsOverflow, EventBatch batch, ref Aedat31Counters counters)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int count = events.Length >> 3;
        long epoch = (long)tsOverflow << 31;
        TriggerBuffer triggers = batch.Triggers;
        int i = 0;
        for (; i < count; i++)
        {
            uint data = BinaryPrimitives.ReadUInt32LittleEndian(events[(i << 3)..]);
            if ((data & 1) == 0)
            {
                counters.InvalidEvents++;
                continue;
            }

            int type = (int)((data >> 1) & 0x7F);
            (TriggerKind Kind, int Data)? trigger = type switch
            {
                1 => (TriggerKind.TimestampReset, 0),
                2 => (TriggerKind.ExternalRising, 0),
                3 => (TriggerKind.ExternalFalling, 0),
                4 => (TriggerKind.ExternalPulse, 0),
                6 => (TriggerKind.ExternalRising, 1),
                7 => (TriggerKind.ExternalFalling, 1),
                8 => (TriggerKind.ExternalPulse, 1),
                9 => (TriggerKind.ExternalRising, 2),
                10 => (TriggerKind.ExternalFalling, 2),
                11 => (TriggerKind.ExternalPulse, 2),
                12 => (TriggerKind.ExternalGenerator, 1),
                13 => (TriggerKind.ExternalGenerator, 0),
                > 18 => (TriggerKind.Other, type),
                _ => null,
            };
            if (trigger is { } tr)
            {
                if (triggers.Count >= triggers.Capacity)
                {
                    break;
                }

                uint t = BinaryPrimitives.ReadUInt32LittleEndian(events[((i << 3) + 4)..]);
                triggers.Add(new TriggerEvent(epoch | (t & 0x7FFFFFFF), tr.Kind, tr.Data));
                counters.Triggers++;
            }
            else if (type == 0)
            {
                counters.TimestampWraps++;
            }

            counters.SpecialEvents++;
        }

        return i;
    }

    /// <summary>
    /// Decodes one complete packet (28-byte header + payload) from the start of
    /// <paramref name="packet"/>: polarity events and triggers go to <paramref name="batch"/>,
    /// other types are skipped. The batch must have room for all its events and triggers.
    /// </summary>
    /// <param name="packet">Bytes starting at a packet header.</param>
    /// <param name="batch">Destination (not cleared).</param>
    /// <param name="counters">Running counts.</param>
    /// <param name="sourceName">Source named in errors.</param>
    /// <param name="offset">Absolute offset of <paramref name="packet"/> in the source, for errors.</param>
    /// <param name="maxPacketBytes">Largest payload accepted.</param>
    /// <returns>Bytes consumed (header + payload).</returns>
    /// <exception cref="EventFormatException">Bad header or payload cut short (IsTruncation).</exception>
    /// <exception cref="ArgumentException">The batch has no room for all the packet's events.</exception>
    public static int DecodePacket(ReadOnlySpan<byte> packet, EventBatch batch, ref Aedat31Counters counters, string sourceName, long offset, int maxPacketBytes = 64 << 20)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Aedat31PacketHeader h = Aedat31PacketHeader.ReadComplete(packet, sourceName, offset, maxPacketBytes);
        int payload = (int)h.PayloadBytes;

        counters.Packets++;
        ReadOnlySpan<byte> events = packet.Slice(Aedat31PacketHeader.Size, h.EventNumber * h.EventSize);
        int done = h.EventType switch
        {
            Aedat31PacketHeader.PolarityType => DecodePolarity(events, h.EventTSOverflow, batch, ref counters),
            Aedat31PacketHeader.SpecialType => DecodeSpecial(events, h.EventTSOverflow, batch, ref counters),
            _ => h.EventNumber,
        };
        if (h.EventType is not (Aedat31PacketHeader.PolarityType or Aedat31PacketHeader.SpecialType))
        {
            counters.PacketsSkipped++;
        }

        if (done < h.EventNumber)
        {
            throw new ArgumentException($"The batch has no room for the packet's {h.EventNumber} events; decode large packets with DecodePolarity/DecodeSpecial in steps.", nameof(batch));
        }

        return Aedat31PacketHeader.Size + payload;
    }
}
