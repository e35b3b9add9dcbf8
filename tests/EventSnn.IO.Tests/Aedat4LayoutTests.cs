using System.Buffers.Binary;
using System.Text;
using EventSnn.Events;
using EventSnn.IO;
using K4os.Compression.LZ4.Streams;
using static EventSnn.IO.Tests.Aedat4TestSupport;

namespace EventSnn.IO.Tests;

/// <summary>The writer's bytes follow the DV layout (checked byte by byte, independently of the reader).</summary>
public class Aedat4LayoutTests
{
    private static byte[] SampleFile(Aedat4Compression compression = Aedat4Compression.Lz4, int events = 5000)
    {
        var options = new Aedat4WriterOptions
        {
            Compression = compression,
            Geometry = new SensorGeometry(640, 480),
            Source = "DVXplorer_X&Y<1>",
            Triggers = true,
            EventsPerPacket = 1000,
        };
        return Write(RandomEvents(events, seed: 3, 640, 480), RandomTriggers(10, seed: 4), options, chunk: 600);
    }

    /// <summary>Reads field <paramref name="index"/>'s offset inside the table at <paramref name="table"/> (0 = absent).</summary>
    private static int FieldOffset(ReadOnlySpan<byte> fb, int table, int index)
    {
        int vtable = table - BinaryPrimitives.ReadInt32LittleEndian(fb[table..]);
        int vtLength = BinaryPrimitives.ReadUInt16LittleEndian(fb[vtable..]);
        return 4 + (2 * index) < vtLength ? BinaryPrimitives.ReadUInt16LittleEndian(fb[(vtable + 4 + (2 * index))..]) : 0;
    }

    [Fact]
    public void File_starts_with_magic_and_a_size_prefixed_IOHeader_with_every_field()
    {
        byte[] file = SampleFile();
        Assert.Equal("#!AER-DAT4.0\r\n", Encoding.ASCII.GetString(file, 0, 14));
        int size = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(14));
        ReadOnlySpan<byte> fb = file.AsSpan(18, size);
        Assert.Equal("IOHE", Encoding.ASCII.GetString(fb.Slice(4, 4)));
        int root = BinaryPrimitives.ReadInt32LittleEndian(fb);
        for (int field = 0; field < 3; field++)
        {
            Assert.NotEqual(0, FieldOffset(fb, root, field)); // compression, dataTablePosition, infoNode all present
        }

        Assert.Equal(1, BinaryPrimitives.ReadInt32LittleEndian(fb[(root + FieldOffset(fb, root, 0))..])); // LZ4
        long dtp = BinaryPrimitives.ReadInt64LittleEndian(fb[(root + FieldOffset(fb, root, 1))..]);
        Assert.True(dtp > 18 + size && dtp < file.Length);

        using var w = new Aedat4Writer(new MemoryStream(), new Aedat4WriterOptions());
        Assert.Equal(18 + root + FieldOffset(fb, root, 1), w.DataTablePositionFieldOffset);
    }

    [Fact]
    public void InfoNode_xml_has_the_DV_structure()
    {
        byte[] file = SampleFile();
        using var r = new Aedat4Reader(new MemoryStream(file), "layout");
        string xml = r.Header.InfoNode!;
        Assert.StartsWith("<dv version=\"2.0\">", xml, StringComparison.Ordinal);
        Assert.Contains("<node name=\"outInfo\" path=\"/mainloop/Recorder/outInfo/\">", xml, StringComparison.Ordinal);
        Assert.Contains("<node name=\"0\" path=\"/mainloop/Recorder/outInfo/0/\">", xml, StringComparison.Ordinal);
        Assert.Contains("<attr key=\"compression\" type=\"string\">LZ4</attr>", xml, StringComparison.Ordinal);
        Assert.Contains("<attr key=\"typeIdentifier\" type=\"string\">EVTS</attr>", xml, StringComparison.Ordinal);
        Assert.Contains("<attr key=\"typeIdentifier\" type=\"string\">TRIG</attr>", xml, StringComparison.Ordinal);
        Assert.Contains("<node name=\"info\" path=\"/mainloop/Recorder/outInfo/0/info/\">", xml, StringComparison.Ordinal);
        Assert.Contains("<attr key=\"sizeX\" type=\"int\">640</attr>", xml, StringComparison.Ordinal);
        Assert.Contains("<attr key=\"sizeY\" type=\"int\">480</attr>", xml, StringComparison.Ordinal);
        Assert.Contains("<attr key=\"source\" type=\"string\">DVXplorer_X&amp;Y&lt;1&gt;</attr>", xml, StringComparison.Ordinal);
        Assert.Equal("DVXplorer_X&Y<1>", r.Streams[0].Source); // escaped on write, unescaped on read
        Assert.Equal(new[] { 0, 3 }, r.Streams.Select(s => s.Id).ToArray());
    }

    [Fact]
    public void InfoNode_parser_accepts_compact_xml_with_a_prolog_and_without_paths()
    {
        // the shape other AEDAT4 writers (e.g. jAER) produce: prolog, no path attributes, extra nodes
        const string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><dv version=\"2.0\"><node name=\"outInfo\">"
            + "<node name=\"0\"><attr key=\"compression\" type=\"string\">LZ4</attr><attr key=\"typeIdentifier\" type=\"string\">EVTS</attr>"
            + "<node name=\"info\"><attr key=\"colorFilter\" type=\"int\">0</attr><attr key=\"sizeX\" type=\"int\">240</attr><attr key=\"sizeY\" type=\"int\">180</attr><attr key=\"source\" type=\"string\">Davis240C</attr></node></node>"
            + "<node name=\"2\"><attr key=\"typeIdentifier\" type=\"string\">IMUS</attr><node name=\"info\"><attr key=\"source\" type=\"string\">Davis240C</attr></node></node>"
            + "<node name=\"jAERConfigSnapshot\" schema_version=\"1\"><attr key=\"a\" type=\"string\">b</attr></node>"
            + "</node></dv>";
        var streams = EventSnn.IO.Aedat4.Aedat4InfoXml.Parse(xml);
        Assert.Equal(2, streams.Count);
        Assert.Equal(new Aedat4StreamInfo(0, "EVTS", SensorGeometry.Davis240, "Davis240C"), streams[0]);
        Assert.Equal(Aedat4StreamType.Imu, streams[1].Type);
        Assert.Equal(SensorGeometry.Unknown, streams[1].Geometry);
    }

    [Fact]
    public void Table_entries_point_at_payloads_after_the_packet_headers()
    {
        byte[] file = SampleFile();
        long dtp = new Aedat4Reader(new MemoryStream(file), "x").DataTablePosition;
        // decode the table independently with K4os' own LZ4 frame decoder
        var decoded = new System.Buffers.ArrayBufferWriter<byte>();
        LZ4Frame.Decode(file.AsSpan((int)dtp), decoded);
        byte[] table = decoded.WrittenSpan.ToArray();
        Assert.Equal("FTAB", Encoding.ASCII.GetString(table, 8, 4));
        Aedat4FileTable parsed = Aedat4FileTable.Parse(table.AsSpan(4, BinaryPrimitives.ReadInt32LittleEndian(table)), "table");
        var map = PacketMap(file);
        Assert.Equal(map.Count, parsed.Entries.Count);
        long eventsInTable = 0;
        for (int i = 0; i < map.Count; i++)
        {
            Aedat4TableEntry e = parsed.Entries[i];
            Assert.Equal(map[i].Start + 8, e.ByteOffset);
            Assert.Equal(BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan((int)e.ByteOffset - 8)), e.StreamId);
            Assert.Equal(BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan((int)e.ByteOffset - 4)), e.Size);
            Assert.Equal(0x184D2204u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan((int)e.ByteOffset))); // LZ4 frame magic
            Assert.True(e.TimestampStart <= e.TimestampEnd);
            if (e.StreamId == Aedat4WriterOptions.EventStreamId)
            {
                Assert.Equal(map[i].Events, e.NumElements);
                eventsInTable += e.NumElements;
            }
        }

        Assert.Equal(5000, eventsInTable);
        Assert.Equal(map[^1].End, dtp); // the table follows the last packet, without a packet header
    }

    [Fact]
    public void Event_packet_payload_is_a_size_prefixed_EVTS_flatbuffer_with_16_byte_events()
    {
        DvsEvent[] events = RandomEvents(3, seed: 12);
        byte[] file = Write(events, null, new Aedat4WriterOptions { Compression = Aedat4Compression.None, Geometry = SensorGeometry.Davis346 });
        var map = PacketMap(file);
        ReadOnlySpan<byte> p = file.AsSpan((int)map[0].Start + 8, (int)(map[0].End - map[0].Start - 8));
        Assert.Equal(p.Length - 4, BinaryPrimitives.ReadInt32LittleEndian(p)); // size prefix
        Assert.Equal("EVTS", Encoding.ASCII.GetString(p.Slice(8, 4)));
        ReadOnlySpan<byte> fb = p[4..];
        int root = BinaryPrimitives.ReadInt32LittleEndian(fb);
        int field = root + FieldOffset(fb, root, 0);
        int vector = field + BinaryPrimitives.ReadInt32LittleEndian(fb[field..]);
        Assert.Equal(3, BinaryPrimitives.ReadInt32LittleEndian(fb[vector..]));
        Assert.Equal(0, (vector + 4 + 4) % 8); // events 8-byte aligned in the size-prefixed buffer
        for (int i = 0; i < 3; i++)
        {
            ReadOnlySpan<byte> e = fb.Slice(vector + 4 + (16 * i), 16);
            Assert.Equal(events[i].T, BinaryPrimitives.ReadInt64LittleEndian(e));
            Assert.Equal((int)events[i].X, (int)BinaryPrimitives.ReadInt16LittleEndian(e[8..]));
            Assert.Equal((int)events[i].Y, (int)BinaryPrimitives.ReadInt16LittleEndian(e[10..]));
            Assert.Equal(events[i].On ? 1 : 0, e[12]);
            Assert.Equal(0, e[13] | e[14] | e[15]);
        }
    }

    [Fact]
    public void Any_nonzero_polarity_byte_is_ON_in_the_vector_and_scalar_paths()
    {
        // 21 events: two 8-event vector steps and a 5-event scalar tail; x = 32767 is the largest int16 address
        DvsEvent[] events = Enumerable.Range(0, 21).Select(i => new DvsEvent(100 + i, (ushort)(i == 3 ? 32767 : i), (ushort)(300 - i), false)).ToArray();
        byte[] file = Write(events, null, new Aedat4WriterOptions { Compression = Aedat4Compression.None, Geometry = SensorGeometry.Davis346 });
        var map = PacketMap(file);
        int first = (int)map[0].Start + 8 + 32; // DV layout: events start 32 bytes into the payload
        byte[] polarity = [0, 1, 2, 255, 0, 7, 0, 128, 1, 0, 0, 3, 0, 0, 0, 0, 9, 0, 1, 64, 0];
        for (int i = 0; i < events.Length; i++)
        {
            file[first + (16 * i) + 12] = polarity[i];
        }

        List<DvsEvent> got = ReadAll(file).Events;
        Assert.Equal(events.Length, got.Count);
        for (int i = 0; i < events.Length; i++)
        {
            Assert.Equal(events[i] with { On = polarity[i] != 0 }, got[i]);
        }
    }

    [Theory]
    [InlineData(Aedat4Compression.Zstd)]
    [InlineData(Aedat4Compression.ZstdHigh)]
    public void Zstd_payloads_are_zstd_frames(Aedat4Compression compression)
    {
        byte[] file = SampleFile(compression, 2000);
        foreach (var p in PacketMap(file))
        {
            Assert.Equal(0xFD2FB528u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan((int)p.Start + 8)));
        }
    }

    [Fact]
    public void Abandoned_writer_leaves_a_readable_file_without_table()
    {
        DvsEvent[] events = RandomEvents(3500, seed: 13);
        var ms = new MemoryStream();
        var w = new Aedat4Writer(ms, new Aedat4WriterOptions { Geometry = SensorGeometry.Davis346, EventsPerPacket = 1000 });
        WriteTo(w, events, null, chunk: 500);
        // "crash": no Flush, no Dispose; 3 full packets reached the stream, 500 events were still buffered
        byte[] file = ms.ToArray();
        using var r = new Aedat4Reader(new MemoryStream(file), "crashed.aedat4");
        Assert.Equal(-1, r.DataTablePosition);
        ReadResult result = Drain(r);
        Assert.Equal(events.Take(3000), result.Events);
        Assert.Empty(result.Warnings);
        Assert.Null(r.FileTable);
        GC.KeepAlive(w);
    }

    [Fact]
    public void Writer_on_a_non_seekable_stream_skips_the_table()
    {
        var sink = new NonSeekableSink();
        using (var w = new Aedat4Writer(sink, new Aedat4WriterOptions { Geometry = SensorGeometry.Davis346 }))
        {
            w.WriteEvent(new DvsEvent(1, 2, 3, false));
        }

        byte[] file = sink.Inner.ToArray();
        Assert.Equal(-1, new Aedat4Reader(new MemoryStream(file), "pipe").DataTablePosition);
        Assert.Equal(PacketMap(file)[^1].End, file.Length);
    }
}
