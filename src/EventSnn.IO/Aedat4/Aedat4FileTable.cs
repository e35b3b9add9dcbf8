using System.Buffers.Binary;
using EventSnn.IO.Aedat4;
using Google.FlatBuffers;

namespace EventSnn.IO;

/// <summary>
/// The AEDAT 4.0 FileDataTable (FlatBuffer "FTAB"): one entry per packet, written by DV
/// at the end of a file and pointed at by IOHeader.dataTablePosition. Some writers leave
/// element counts and timestamps 0; <see cref="HasTimestamps"/> tells.
/// </summary>
public sealed class Aedat4FileTable
{
    private readonly Aedat4TableEntry[] _entries;

    private Aedat4FileTable(Aedat4TableEntry[] entries)
    {
        _entries = entries;
        foreach (Aedat4TableEntry e in entries)
        {
            if (e.TimestampEnd != 0 || e.TimestampStart != 0)
            {
                HasTimestamps = true;
                break;
            }
        }
    }

    /// <summary>The entries in file order.</summary>
    public IReadOnlyList<Aedat4TableEntry> Entries => _entries;

    /// <summary>True when at least one entry carries timestamps (false for tables written with zeros).</summary>
    public bool HasTimestamps { get; }

    /// <summary>
    /// Parses a FileDataTable FlatBuffer (after its size prefix). Throws
    /// <see cref="EventFormatException"/> on any inconsistency.
    /// </summary>
    /// <param name="flatBuffer">The FlatBuffer bytes.</param>
    /// <param name="sourceName">File path, for errors.</param>
    /// <param name="offset">Byte offset of the table in the file, for errors.</param>
    public static Aedat4FileTable Parse(ReadOnlySpan<byte> flatBuffer, string sourceName = "<FileDataTable>", long offset = 0)
    {
        var fb = new FbView(flatBuffer, sourceName, offset, "FileDataTable");
        if (!fb.HasIdentifier(Aedat4Names.IdTable))
        {
            throw fb.Error("file identifier is not \"FTAB\"", "identifier");
        }

        FbTable root = fb.Root();
        (int start, int count) = fb.Vector(root, 0, 4, "Table");
        var entries = new Aedat4TableEntry[count];
        for (int i = 0; i < count; i++)
        {
            FbTable t = fb.TableFromSlot(start + (4 * i), "Table[]");
            long byteOffset = fb.Int64(t, 0, 0, "ByteOffset");
            int header = fb.Field(t, 1, 8, "PacketInfo");
            int streamId = 0, size = 0;
            if (header >= 0)
            {
                streamId = BinaryPrimitives.ReadInt32LittleEndian(flatBuffer[header..]);
                size = BinaryPrimitives.ReadInt32LittleEndian(flatBuffer[(header + 4)..]);
            }

            entries[i] = new Aedat4TableEntry(
                byteOffset,
                streamId,
                size,
                fb.Int64(t, 2, 0, "NumElements"),
                fb.Int64(t, 3, 0, "TimestampStart"),
                fb.Int64(t, 4, 0, "TimestampEnd"));
        }

        return new Aedat4FileTable(entries);
    }

    /// <summary>Builds the size-prefixed FileDataTable FlatBuffer (all fields present, as DV writes it).</summary>
    internal static byte[] Build(IReadOnlyList<Aedat4TableEntry> entries)
    {
        var b = new FlatBufferBuilder(64 + (entries.Count * 72)) { ForceDefaults = true };
        int[] offsets = new int[entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            Aedat4TableEntry e = entries[i];
            b.StartTable(5);
            b.AddLong(4, e.TimestampEnd, 0);
            b.AddLong(3, e.TimestampStart, 0);
            b.AddLong(2, e.NumElements, 0);
            b.AddLong(0, e.ByteOffset, 0);
            b.Prep(4, 8);
            b.PutInt(e.Size);
            b.PutInt(e.StreamId);
            b.AddStruct(1, b.Offset, 0);
            offsets[i] = b.EndTable();
        }

        b.StartVector(4, offsets.Length, 4);
        for (int i = offsets.Length - 1; i >= 0; i--)
        {
            b.AddOffset(offsets[i]);
        }

        VectorOffset vector = b.EndVector();
        b.StartTable(1);
        b.AddOffset(0, vector.Value, 0);
        int root = b.EndTable();
        b.FinishSizePrefixed(root, "FTAB");
        return b.SizedByteArray();
    }
}
