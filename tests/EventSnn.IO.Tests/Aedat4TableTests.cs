using System.Buffers.Binary;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Testing;
using static EventSnn.IO.Tests.Aedat4TestSupport;

namespace EventSnn.IO.Tests;

/// <summary>FileDataTable use: SeekToTime (table and linear scan), missing or damaged tables.</summary>
public class Aedat4TableTests
{
    private static readonly DvsEvent[] Events = RandomEvents(20_000, seed: 21);

    private static byte[] Written(bool table = true) =>
        Write(Events, RandomTriggers(50, seed: 22), new Aedat4WriterOptions { Geometry = SensorGeometry.Davis346, Triggers = true, EventsPerPacket = 1000, WriteTable = table });

    /// <summary>What a seek to <paramref name="t"/> must yield: the events from the first one at or after t (sorted sources).</summary>
    private static List<DvsEvent> Suffix(IReadOnlyList<DvsEvent> all, long t)
    {
        int i = 0;
        while (i < all.Count && all[i].T < t)
        {
            i++;
        }

        return all.Skip(i).ToList();
    }

    private static void AssertSeeks(Func<Aedat4Reader> open, IReadOnlyList<DvsEvent> all)
    {
        long first = all[0].T, last = all[^1].T;
        long[] targets = [first - 1000, first, first + 1, all[all.Count / 3].T, all[all.Count / 2].T + 1, all[(all.Count * 9) / 10].T, last, last + 1];
        using Aedat4Reader r = open();
        foreach (long t in targets.Reverse()) // also seek backwards
        {
            bool found = r.SeekToTime(t);
            List<DvsEvent> got = ReadEvents(r, capacity: 777);
            List<DvsEvent> expected = Suffix(all, t);
            Assert.Equal(expected.Count > 0, found);
            AssertSameEvents(expected, got);
        }
    }

    [Fact]
    public void Written_table_is_present_and_consistent()
    {
        byte[] file = Written();
        using var r = new Aedat4Reader(new MemoryStream(file), "t.aedat4");
        ReadResult result = Drain(r);
        Aedat4FileTable table = r.FileTable!;
        Assert.True(table.HasTimestamps);
        Assert.Equal(r.PacketsRead, table.Entries.Count);
        Assert.Equal(Events.Length, r.TableEvents);
        Assert.Equal(Events[^1].T - Events[0].T, r.Duration);
        Assert.Equal(result.Triggers.Count, table.Entries.Where(e => e.StreamId == Aedat4WriterOptions.TriggerStreamId).Sum(e => e.NumElements));
        Assert.Empty(r.Warnings);
    }

    [Fact]
    public void SeekToTime_uses_the_table_and_lands_on_the_right_packet()
    {
        byte[] file = Written();
        AssertSeeks(() => new Aedat4Reader(new MemoryStream(file), "seek.aedat4"), Events);

        // the landing position is the header of the first EVTS packet whose TimestampEnd >= t
        using var r = new Aedat4Reader(new MemoryStream(file), "seek.aedat4");
        long t = Events[12_345].T;
        Aedat4TableEntry expected = r.FileTable!.Entries.First(e => e.StreamId == 0 && e.TimestampEnd >= t);
        Assert.True(r.SeekToTime(t));
        Assert.Equal(expected.ByteOffset - 8, r.Position);
    }

    [Fact]
    public void SeekToTime_scans_linearly_without_a_table()
    {
        byte[] file = Written(table: false);
        using (var r = new Aedat4Reader(new MemoryStream(file), "notable.aedat4"))
        {
            Assert.Null(r.FileTable);
        }

        AssertSeeks(() => new Aedat4Reader(new MemoryStream(file), "notable.aedat4"), Events);
    }

    [Fact]
    public void SeekToTime_scans_linearly_when_table_counts_are_zero()
    {
        string path = Fixtures.Path("shiba24/sample.aedat4");
        List<DvsEvent> all;
        using (Aedat4Reader r = Aedat4Reader.Open(path))
        {
            all = ReadEvents(r);
            Assert.NotNull(r.FileTable);
            Assert.False(r.FileTable.HasTimestamps);
        }

        AssertSeeks(() => Aedat4Reader.Open(path), all);
    }

    [Fact]
    public void SeekToTime_on_the_tonic_recording_uses_its_table()
    {
        string path = Fixtures.Path("tonic/sample.aedat4");
        List<DvsEvent> all;
        using (Aedat4Reader r = Aedat4Reader.Open(path))
        {
            all = ReadEvents(r);
        }

        AssertSeeks(() => Aedat4Reader.Open(path), all);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(-1)]
    public void Table_cut_off_still_reads_every_packet_with_a_warning(int keep)
    {
        byte[] full = Written();
        long dtp = new Aedat4Reader(new MemoryStream(full), "x").DataTablePosition;
        int length = keep < 0 ? full.Length - 1 : (int)dtp + keep;
        byte[] cut = full[..length];
        ReadResult result = ReadAll(cut, name: "cut.aedat4");
        AssertSameEvents(Events, result.Events);
        Assert.Contains(result.Warnings, w => w.Message.Contains("FileDataTable", StringComparison.Ordinal));

        // strict mode: the cut is an error, flagged as truncation, after the packets
        var ex = Assert.Throws<EventFormatException>(() => ReadAll(cut, new ReaderOptions { Strict = true }, name: "cut.aedat4"));
        Assert.True(ex.IsTruncation);
        Assert.InRange(ex.Offset, 0, cut.Length);
    }

    [Fact]
    public void Damaged_table_is_ignored_with_a_warning_and_seeking_falls_back_to_scanning()
    {
        byte[] file = Written();
        long dtp = new Aedat4Reader(new MemoryStream(file), "x").DataTablePosition;
        for (long i = dtp + 4; i < file.Length; i += 3)
        {
            file[i] ^= 0x5A; // scramble the compressed table (keep the LZ4 magic)
        }

        ReadResult result = ReadAll(file, name: "damaged.aedat4");
        AssertSameEvents(Events, result.Events);
        Assert.Contains(result.Warnings, w => w.Message.Contains("FileDataTable damaged", StringComparison.Ordinal));
        AssertSeeks(() => new Aedat4Reader(new MemoryStream(file), "damaged.aedat4"), Events);
    }

    [Fact]
    public void Table_position_beyond_the_file_is_reported_and_ignored()
    {
        byte[] file = Written();
        using var probe = new Aedat4Reader(new MemoryStream(file), "x");
        long dtp = probe.DataTablePosition;
        int field = 18 + FieldOffsetOfDataTable(file);
        Assert.Equal(dtp, BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(field)));
        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(field), file.Length + 1000L);
        byte[] noTable = file[..(int)dtp];
        ReadResult result = ReadAll(noTable, name: "beyond.aedat4");
        AssertSameEvents(Events, result.Events);
        Assert.Contains(result.Warnings, w => w.Message.Contains("dataTablePosition", StringComparison.Ordinal));
    }

    /// <summary>Position of IOHeader.dataTablePosition within the FlatBuffer (field 1 of the root table).</summary>
    private static int FieldOffsetOfDataTable(byte[] file)
    {
        int size = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(14));
        ReadOnlySpan<byte> fb = file.AsSpan(18, size);
        int root = BinaryPrimitives.ReadInt32LittleEndian(fb);
        int vtable = root - BinaryPrimitives.ReadInt32LittleEndian(fb[root..]);
        return root + BinaryPrimitives.ReadUInt16LittleEndian(fb[(vtable + 6)..]);
    }
}
