using System.Buffers.Binary;
using CsCheck;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline.Tests;

/// <summary>The live-protocol decoders on bytes alone (no sockets): what the sources and serve run.</summary>
public class ProtocolDecoderTests
{
    /// <summary>A sink that keeps everything it is given.</summary>
    internal sealed class ListSink(int capacity) : IDecodeSink
    {
        public EventBatch Batch { get; } = new(capacity);

        public List<DvsEvent> Events { get; } = [];

        public List<TriggerEvent> Triggers { get; } = [];

        public List<(LiveFaultKind Kind, string Message)> Faults { get; } = [];

        public void Reserve(int events)
        {
            if (Batch.Remaining < events)
            {
                Flush();
            }
        }

        public void Flush()
        {
            Assert.Equal(0, Batch.Triggers.Dropped);
            Events.AddRange(Batch.ToArray());
            Triggers.AddRange(Batch.Triggers.Items.ToArray());
            Batch.Clear();
        }

        public void Fault(LiveFaultKind kind, string message) => Faults.Add((kind, message));
    }

    private static byte[] SpecialPacket(int count)
    {
        byte[] packet = new byte[Aedat31PacketHeader.Size + (count * 8)];
        new Aedat31PacketHeader(Aedat31PacketHeader.SpecialType, 1, 8, 4, 0, count, count, count).Write(packet);
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(Aedat31PacketHeader.Size + (i * 8)), 1u | (2u << 1)); // valid, external input rising
            BinaryPrimitives.WriteInt32LittleEndian(packet.AsSpan(Aedat31PacketHeader.Size + (i * 8) + 4), 1000 + i);
        }

        return packet;
    }

    [Fact]
    public void Aedat3_tcp_special_packet_with_more_triggers_than_a_batch_holds_is_decoded_in_steps()
    {
        // 100 external-input events in one packet; a 64-event batch holds 16 triggers
        // (regression: the stream failed with ArgumentException "the batch has no room")
        byte[] header = new byte[Aedat3NetworkHeader.Size];
        new Aedat3NetworkHeader(Aedat3NetworkHeader.ExpectedMagic, 0, 1, 0, 1).Write(header);
        using var stream = new MemoryStream([.. header, .. SpecialPacket(100)]);
        using var decoder = new Aedat3StreamDecoder("test", 1 << 20);
        var sink = new ListSink(64);
        Assert.True(decoder.ReadPacket(stream, sink));
        Assert.False(decoder.ReadPacket(stream, sink));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => new TriggerEvent(1000 + i, TriggerKind.ExternalRising, 0)), sink.Triggers);
        Assert.Empty(sink.Faults);
    }

    [Fact]
    public void Aedat3_udp_special_packet_with_more_triggers_than_a_batch_holds_is_not_malformed()
    {
        byte[] header = new byte[Aedat3NetworkHeader.Size];
        new Aedat3NetworkHeader(Aedat3NetworkHeader.ExpectedMagic, 7, 1, 0, 1).Write(header);
        var decoder = new Aedat3DatagramDecoder("test", 1 << 20, new LiveSourceStatistics());
        var sink = new ListSink(64);
        decoder.Decode([.. header, .. SpecialPacket(40)], 0, sink);
        Assert.Equal(40, sink.Triggers.Count);
        Assert.Empty(sink.Faults);
    }

    [Fact]
    public void Jaer_stream_records_cut_across_chunks_decode_as_whole_records()
    {
        byte[] records = new byte[8 * 50];
        for (int i = 0; i < 50; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(records.AsSpan(i * 8), (uint)((i % 128) << 1));
            BinaryPrimitives.WriteInt32BigEndian(records.AsSpan((i * 8) + 4), 100 + i);
        }

        var decoder = new JaerStreamDecoder(JaerChip.Dvs128, SensorGeometry.Dvs128);
        var sink = new ListSink(16);
        int at = 0;
        foreach (int chunk in new[] { 3, 5, 8, 13, 100, 1, 270 })
        {
            records.AsSpan(at, chunk).CopyTo(decoder.Free);
            decoder.Received(chunk, sink);
            at += chunk;
        }

        Assert.Equal(0, decoder.Pending);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => 100L + i), sink.Events.Select(e => e.T));
    }

    [Fact]
    public void Decoders_take_arbitrary_bytes_in_any_chunking_and_fail_only_with_EventFormatException()
    {
        Gen.Select(Gen.Byte.Array[0, 3000], Gen.Int[1, 600]).Sample((bytes, chunk) =>
        {
            var stats = new LiveSourceStatistics();
            var sink = new ListSink(64);
            var jaerUdp = new JaerDatagramDecoder(JaerChip.Davis, SensorGeometry.Davis346, numbered: true, stats);
            var aedat3Udp = new Aedat3DatagramDecoder("p", 1 << 16, stats);
            var jaerTcp = new JaerStreamDecoder(JaerChip.Dvs128, SensorGeometry.Dvs128);
            var labels = new LabelLineDecoder("p", (_, _) => { }, null);
            for (int at = 0; at < bytes.Length; at += chunk)
            {
                ReadOnlySpan<byte> part = bytes.AsSpan(at, Math.Min(chunk, bytes.Length - at));
                jaerUdp.Decode(part, sink);
                aedat3Udp.Decode(part, at, sink);
                part.CopyTo(jaerTcp.Free);
                jaerTcp.Received(part.Length, sink);
                labels.Feed(part);
            }

            labels.Complete();
            using var aedat3Tcp = new Aedat3StreamDecoder("p", 1 << 16);
            try
            {
                using var stream = new MemoryStream(bytes);
                while (aedat3Tcp.ReadPacket(stream, sink))
                {
                }
            }
            catch (EventFormatException)
            {
            }
        }, iter: 500, threads: 1);
    }
}
