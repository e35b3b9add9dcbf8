using System.Buffers.Binary;
using System.Text;
using EventSnn.Events;

namespace EventSnn.IO.Tests;

public class Aedat31Tests
{
    internal const string Header = "#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#Start-Time: 2017-05-26 14:25:16 (TZ+0200)\r\n#!END-HEADER\r\n";

    /// <summary>One packet written by hand: 28-byte little-endian header, then the events (padded with zeros to capacity).</summary>
    internal static byte[] Packet(short type, int size, int overflow, int capacity, IReadOnlyList<(uint Data, int T)> events, int? number = null)
    {
        int n = number ?? events.Count;
        byte[] p = new byte[28 + (size * capacity)];
        BinaryPrimitives.WriteInt16LittleEndian(p, type);
        BinaryPrimitives.WriteInt16LittleEndian(p.AsSpan(2), 1);
        BinaryPrimitives.WriteInt32LittleEndian(p.AsSpan(4), size);
        BinaryPrimitives.WriteInt32LittleEndian(p.AsSpan(8), 4);
        BinaryPrimitives.WriteInt32LittleEndian(p.AsSpan(12), overflow);
        BinaryPrimitives.WriteInt32LittleEndian(p.AsSpan(16), capacity);
        BinaryPrimitives.WriteInt32LittleEndian(p.AsSpan(20), n);
        BinaryPrimitives.WriteInt32LittleEndian(p.AsSpan(24), n);
        for (int i = 0; i < events.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(28 + (i * size)), events[i].Data);
            BinaryPrimitives.WriteInt32LittleEndian(p.AsSpan(28 + (i * size) + 4), events[i].T);
        }

        return p;
    }

    internal static uint Pol(int x, int y, bool on, bool valid = true) => ((uint)x << 17) | ((uint)y << 2) | (on ? 2u : 0u) | (valid ? 1u : 0u);

    internal static uint Special(int type, int data = 0) => ((uint)data << 8) | ((uint)type << 1) | 1u;

    internal static byte[] File(string header, params byte[][] packets)
    {
        var ms = new MemoryStream();
        ms.Write(Encoding.ASCII.GetBytes(header));
        foreach (byte[] p in packets)
        {
            ms.Write(p);
        }

        return ms.ToArray();
    }

    [Fact]
    public void Polarity_events_decode_with_overflow_validity_and_dvs128_geometry()
    {
        byte[] file = File(
            Header,
            Packet(1, 8, 0, 3, [(Pol(1, 2, true), 10), (Pol(3, 4, false, valid: false), 11), (Pol(127, 0, false), 12)]),
            Packet(1, 8, 1, 2, [(Pol(5, 6, true), 5), (Pol(32767, 32767, true), int.MaxValue)]),
            Packet(1, 8, 3, 1, [(Pol(7, 8, false), 0)]));
        using var reader = new Aedat31Reader(new MemoryStream(file), "hand.aedat");
        (List<DvsEvent> events, List<TriggerEvent> triggers) = TestData.ReadAll(reader, batchCapacity: 2);

        Assert.Equal(SensorGeometry.Dvs128, reader.Geometry);
        Assert.Equal("DVS128", reader.SourceDevice);
        Assert.Equal(
            [
                new DvsEvent(10, 1, 2, true),
                new DvsEvent(12, 127, 0, false),
                new DvsEvent((1L << 31) + 5, 5, 6, true),
                new DvsEvent((1L << 31) + int.MaxValue, 32767, 32767, true),
                new DvsEvent(3L << 31, 7, 8, false),
            ],
            events);
        Assert.Empty(triggers);
        Assert.Equal(1, reader.Counters.InvalidEvents);
        Assert.Equal(3, reader.Counters.Packets);
        Assert.Empty(reader.Warnings);
    }

    [Fact]
    public void Unknown_packet_types_are_skipped_by_size_and_unused_slots_after_eventNumber_are_skipped()
    {
        byte[] frame = Packet(2, 100, 0, 3, [(0xFFFFFFFF, 1), (0xFFFFFFFF, 2)]);
        byte[] imu = Packet(3, 36, 0, 2, [(1, 1)]);
        byte[] polarity = Packet(1, 8, 0, 4, [(Pol(9, 9, true), 40), (Pol(8, 8, true), 41), (Pol(1, 1, true), 99)], number: 2);
        byte[] after = Packet(1, 8, 0, 1, [(Pol(2, 3, false), 50)]);
        using var reader = new Aedat31Reader(new MemoryStream(File(Header, frame, imu, polarity, after)), "skip.aedat");
        (List<DvsEvent> events, _) = TestData.ReadAll(reader);

        Assert.Equal([new DvsEvent(40, 9, 9, true), new DvsEvent(41, 8, 8, true), new DvsEvent(50, 2, 3, false)], events);
        Assert.Equal(2, reader.Counters.PacketsSkipped);
        Assert.Equal(4, reader.Counters.Packets);
    }

    [Fact]
    public void Special_events_become_triggers_and_wraps_are_counted()
    {
        byte[] special = Packet(0, 8, 2, 7,
        [
            (Special(0), 0),            // timestamp wrap
            (Special(1), 1),            // reset
            (Special(2), 2),            // input rising
            (Special(3), 3),            // input falling
            (Special(10), 4),           // input 2 falling
            (Special(12), 5),           // generator rising
            (Special(5, 77) & ~1u, 6),  // invalid row-only event
        ]);
        using var reader = new Aedat31Reader(new MemoryStream(File(Header, special)), "special.aedat");
        (List<DvsEvent> events, List<TriggerEvent> triggers) = TestData.ReadAll(reader);
        long e = 2L << 31;

        Assert.Empty(events);
        Assert.Equal(
            [
                new TriggerEvent(e + 1, TriggerKind.TimestampReset),
                new TriggerEvent(e + 2, TriggerKind.ExternalRising),
                new TriggerEvent(e + 3, TriggerKind.ExternalFalling),
                new TriggerEvent(e + 4, TriggerKind.ExternalFalling, 2),
                new TriggerEvent(e + 5, TriggerKind.ExternalGenerator, 1),
            ],
            triggers);
        Assert.Equal(1, reader.Counters.TimestampWraps);
        Assert.Equal(1, reader.Counters.InvalidEvents);
    }

    [Fact]
    public void A_packet_claiming_2_GB_is_rejected_without_allocating_it()
    {
        byte[] packet = Packet(1, 8, 0, 0, []);
        BinaryPrimitives.WriteInt32LittleEndian(packet.AsSpan(16), 1 << 28); // 8 x 2^28 = 2 GiB
        byte[] file = File(Header, Packet(1, 8, 0, 1, [(Pol(1, 1, true), 1)]), packet);
        long before = GC.GetAllocatedBytesForCurrentThread();
        using var reader = new Aedat31Reader(new MemoryStream(file), "huge.aedat");
        using var batch = new EventBatch(16);
        EventFormatException ex = Assert.Throws<EventFormatException>(() =>
        {
            while (reader.Read(batch))
            {
            }
        });
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal("eventCapacity", ex.Field);
        Assert.Equal(Header.Length + 36, ex.Offset);
        Assert.False(ex.IsTruncation);
        Assert.True(allocated < 8 << 20, $"allocated {allocated} bytes");
    }

    [Theory]
    [InlineData(4, 0, "eventSize")]           // eventSize 0
    [InlineData(16, -1, "eventCapacity")]     // negative capacity
    [InlineData(20, 5, "eventNumber")]        // number > capacity (1)
    [InlineData(4, 12, "eventSize")]          // polarity events must be 8 bytes
    [InlineData(0, -32767, "eventType")]      // 0x8001: compressed flag on a polarity packet
    public void Corrupt_packet_headers_throw_naming_the_field(int fieldOffset, int value, string field)
    {
        byte[] packet = Packet(1, 8, 0, 1, [(Pol(1, 1, true), 1)]);
        if (fieldOffset == 0)
        {
            BinaryPrimitives.WriteInt16LittleEndian(packet, unchecked((short)value));
        }
        else
        {
            BinaryPrimitives.WriteInt32LittleEndian(packet.AsSpan(fieldOffset), value);
        }

        using var reader = new Aedat31Reader(new MemoryStream(File(Header, packet)), "bad.aedat");
        EventFormatException ex = Assert.Throws<EventFormatException>(() => TestData.ReadAll(reader));
        Assert.Equal(field, ex.Field);
        Assert.Equal(Header.Length, ex.Offset);
    }

    [Fact]
    public void Headers_that_are_not_aedat3_raw_are_rejected()
    {
        Assert.Throws<EventFormatException>(() => new Aedat31Reader(new MemoryStream(Encoding.ASCII.GetBytes("#!AER-DAT2.0\r\n")), "v2"));
        Assert.Throws<EventFormatException>(() => new Aedat31Reader(new MemoryStream(Encoding.ASCII.GetBytes("#!AER-DAT3.1\r\n#Format: SerializedTS\r\n#!END-HEADER\r\n")), "ser"));
        Assert.Throws<EventFormatException>(() => new Aedat31Reader(new MemoryStream([1, 0, 8, 0]), "binary"));
    }

    [Fact]
    public void Truncation_inside_a_packet_yields_complete_events_then_warns_or_throws()
    {
        byte[] full = File(Header, Packet(1, 8, 0, 3, [(Pol(1, 1, true), 1), (Pol(2, 2, true), 2), (Pol(3, 3, true), 3)]));
        byte[] cut = full[..^5];
        using (var tolerant = new Aedat31Reader(new MemoryStream(cut), "cut.aedat"))
        {
            (List<DvsEvent> events, _) = TestData.ReadAll(tolerant);
            Assert.Equal(2, events.Count);
            Assert.Equal(2, tolerant.Warnings.Count); // the packet's claim exceeds the file, then the cut itself
            Assert.Equal(Header.Length, tolerant.Warnings[0].Offset);
            Assert.Equal(cut.Length, tolerant.Warnings[1].Offset);
        }

        using var strict = new Aedat31Reader(new MemoryStream(cut), "cut.aedat", new ReaderOptions { Strict = true });
        using var batch = new EventBatch(16);
        Assert.True(strict.Read(batch));
        Assert.Equal(2, batch.Count);
        EventFormatException ex = Assert.Throws<EventFormatException>(() => strict.Read(batch));
        Assert.True(ex.IsTruncation);
        Assert.Equal(cut.Length, ex.Offset);

        // cut inside the 28-byte packet header
        using var header = new Aedat31Reader(new MemoryStream(full[..(Header.Length + 10)]), "h.aedat", new ReaderOptions { Strict = true });
        Assert.True(Assert.Throws<EventFormatException>(() => header.Read(batch)).IsTruncation);
    }

    [Fact]
    public void Writer_round_trip_with_timestamps_beyond_2_pow_31_and_triggers()
    {
        var rng = new Random(31);
        using var batch = new EventBatch(30_000);
        long t = (1L << 31) - 10_000;
        for (int i = 0; i < 20_000; i++)
        {
            t += rng.Next(0, 3);
            batch.Add(t, rng.Next(346), rng.Next(260), rng.Next(2) == 1);
        }

        batch.Triggers.Add(new TriggerEvent(5, TriggerKind.ExternalRising));
        batch.Triggers.Add(new TriggerEvent((1L << 31) + 3, TriggerKind.ExternalPulse, 1));
        batch.Triggers.Add(new TriggerEvent((5L << 31) + 3, TriggerKind.TimestampReset));
        var ms = new MemoryStream();
        using (var writer = new Aedat31Writer(ms, SensorGeometry.Davis346, leaveOpen: true))
        {
            writer.Write(batch);
            Assert.Equal(20_000, writer.EventsWritten);
            Assert.Equal(3, writer.TriggersWritten);
        }

        ms.Position = 0;
        using var reader = new Aedat31Reader(ms, "rt.aedat");
        (List<DvsEvent> events, List<TriggerEvent> triggers) = TestData.ReadAll(reader, batchCapacity: 3000);
        Assert.Equal(SensorGeometry.Davis346, reader.Geometry);
        Assert.Equal(batch.ToArray(), events);
        Assert.Equal(batch.Triggers.Items.ToArray(), triggers);
        Assert.True(reader.Counters.TimestampWraps >= 1);
        Assert.Contains(events, e => e.T >= 1L << 31);
    }

    [Fact]
    public void DecodePacket_decodes_a_whole_packet_from_a_span()
    {
        byte[] bytes = [.. Packet(1, 8, 1, 2, [(Pol(4, 5, true), 6), (Pol(7, 8, false), 9)]), .. Packet(0, 8, 0, 1, [(Special(4), 3)])];
        var counters = default(Aedat31Counters);
        using var batch = new EventBatch(8);
        int used = Aedat31PacketDecoder.DecodePacket(bytes, batch, ref counters, "net", 0);
        used += Aedat31PacketDecoder.DecodePacket(bytes.AsSpan(used), batch, ref counters, "net", used);

        Assert.Equal(bytes.Length, used);
        Assert.Equal([new DvsEvent((1L << 31) + 6, 4, 5, true), new DvsEvent((1L << 31) + 9, 7, 8, false)], batch.ToArray());
        Assert.Equal(new TriggerEvent(3, TriggerKind.ExternalPulse), batch.Triggers[0]);
        Assert.Equal(2, counters.Packets);
        Assert.True(Assert.Throws<EventFormatException>(() => Aedat31PacketDecoder.DecodePacket(bytes.AsSpan(0, 40), batch, ref counters, "net", 0)).IsTruncation);
    }
}
