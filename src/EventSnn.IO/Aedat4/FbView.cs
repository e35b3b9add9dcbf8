using System.Buffers.Binary;
using System.Text;

namespace EventSnn.IO.Aedat4;

/// <summary>A located FlatBuffers table: its position, its vtable and their sizes.</summary>
internal readonly struct FbTable
{
    public FbTable(int position, int vtable, int vtableLength, int tableLength)
    {
        Position = position;
        VTable = vtable;
        VTableLength = vtableLength;
        TableLength = tableLength;
    }

    public int Position { get; }

    public int VTable { get; }

    public int VTableLength { get; }

    public int TableLength { get; }
}

/// <summary>
/// Bounds-checked read access to one FlatBuffer (without its size prefix). Every offset
/// is validated before it is followed; anything inconsistent throws
/// <see cref="EventFormatException"/> naming the source, the byte offset of the packet or
/// header holding the buffer, and the field. Nothing here throws any other exception on
/// corrupt data.
/// </summary>
internal readonly ref struct FbView
{
    private readonly ReadOnlySpan<byte> _b;
    private readonly string _source;
    private readonly long _offset;
    private readonly string _what;

    /// <param name="buffer">The FlatBuffer bytes (root offset at index 0).</param>
    /// <param name="source">File path or peer, for errors.</param>
    /// <param name="offset">Byte offset in the source of the packet/header holding the buffer, for errors.</param>
    /// <param name="what">What the buffer is (for messages), e.g. "EVTS packet".</param>
    public FbView(ReadOnlySpan<byte> buffer, string source, long offset, string what)
    {
        _b = buffer;
        _source = source;
        _offset = offset;
        _what = what;
    }

    public int Length => _b.Length;

    public ReadOnlySpan<byte> Bytes => _b;

    public EventFormatException Error(string problem, string? field = null) =>
        new(_source, _offset, $"{_what}: {problem}", field);

    /// <summary>True when bytes 4..7 hold <paramref name="identifier"/>.</summary>
    public bool HasIdentifier(ReadOnlySpan<byte> identifier) => _b.Length >= 8 && _b.Slice(4, 4).SequenceEqual(identifier);

    /// <summary>The 4 identifier bytes (empty when the buffer is too short).</summary>
    public ReadOnlySpan<byte> Identifier => _b.Length >= 8 ? _b.Slice(4, 4) : default;

    /// <summary>Locates the root table.</summary>
    public FbTable Root()
    {
        if (_b.Length < 8)
        {
            throw Error($"FlatBuffer of {_b.Length} bytes is too short", "root");
        }

        uint root = BinaryPrimitives.ReadUInt32LittleEndian(_b);
        return TableAt(root, "root");
    }

    /// <summary>Locates a table at an absolute position (validating its vtable).</summary>
    public FbTable TableAt(long position, string field)
    {
        if (position < 4 || position > _b.Length - 4)
        {
            throw Error($"table offset {position} outside the {_b.Length}-byte buffer", field);
        }

        int pos = (int)position;
        long vt = pos - (long)BinaryPrimitives.ReadInt32LittleEndian(_b[pos..]);
        if (vt < 0 || vt > _b.Length - 4)
        {
            throw Error($"vtable offset {vt} outside the {_b.Length}-byte buffer", field);
        }

        int vtable = (int)vt;
        int vtLen = BinaryPrimitives.ReadUInt16LittleEndian(_b[vtable..]);
        int tblLen = BinaryPrimitives.ReadUInt16LittleEndian(_b[(vtable + 2)..]);
        if (vtLen < 4 || (vtLen & 1) != 0 || vtable + vtLen > _b.Length)
        {
            throw Error($"vtable length {vtLen} invalid", field);
        }

        if (tblLen < 4)
        {
            throw Error($"table length {tblLen} invalid", field);
        }

        return new FbTable(pos, vtable, vtLen, tblLen);
    }

    /// <summary>Absolute position of field <paramref name="index"/> of <paramref name="size"/> bytes, or -1 when absent.</summary>
    public int Field(in FbTable t, int index, int size, string field)
    {
        int slot = 4 + (2 * index);
        if (slot + 2 > t.VTableLength)
        {
            return -1;
        }

        int o = BinaryPrimitives.ReadUInt16LittleEndian(_b[(t.VTable + slot)..]);
        if (o == 0)
        {
            return -1;
        }

        // Like the FlatBuffers verifier, require the field inside the buffer rather than
        // inside the vtable's declared table size (some writers understate it, e.g. the
        // FileDataTable of shiba24/sample.aedat4).
        if (o < 4 || t.Position + (long)o + size > _b.Length)
        {
            throw Error($"field offset {o} (+{size} bytes) runs past the {_b.Length}-byte buffer", field);
        }

        return t.Position + o;
    }

    public long Int64(in FbTable t, int index, long defaultValue, string field)
    {
        int p = Field(t, index, 8, field);
        return p < 0 ? defaultValue : BinaryPrimitives.ReadInt64LittleEndian(_b[p..]);
    }

    public int Int32(in FbTable t, int index, int defaultValue, string field)
    {
        int p = Field(t, index, 4, field);
        return p < 0 ? defaultValue : BinaryPrimitives.ReadInt32LittleEndian(_b[p..]);
    }

    public short Int16(in FbTable t, int index, short defaultValue, string field)
    {
        int p = Field(t, index, 2, field);
        return p < 0 ? defaultValue : BinaryPrimitives.ReadInt16LittleEndian(_b[p..]);
    }

    public sbyte Int8(in FbTable t, int index, sbyte defaultValue, string field)
    {
        int p = Field(t, index, 1, field);
        return p < 0 ? defaultValue : unchecked((sbyte)_b[p]);
    }

    public float Float32(in FbTable t, int index, float defaultValue, string field)
    {
        int p = Field(t, index, 4, field);
        return p < 0 ? defaultValue : BinaryPrimitives.ReadSingleLittleEndian(_b[p..]);
    }

    /// <summary>
    /// Follows the offset field <paramref name="index"/> to a vector of
    /// <paramref name="elementSize"/>-byte elements; returns the position of element 0 and
    /// the count (0, 0 when the field is absent).
    /// </summary>
    public (int Start, int Count) Vector(in FbTable t, int index, int elementSize, string field)
    {
        int p = Field(t, index, 4, field);
        if (p < 0)
        {
            return (0, 0);
        }

        long vec = p + (long)BinaryPrimitives.ReadUInt32LittleEndian(_b[p..]);
        if (vec > _b.Length - 4)
        {
            throw Error($"vector offset {vec} outside the {_b.Length}-byte buffer", field);
        }

        uint count = BinaryPrimitives.ReadUInt32LittleEndian(_b[(int)vec..]);
        long start = vec + 4;
        if (count > (_b.Length - start) / elementSize)
        {
            throw Error($"vector of {count} x {elementSize}-byte elements runs past the {_b.Length}-byte buffer", field);
        }

        return ((int)start, (int)count);
    }

    /// <summary>Follows the uoffset stored at <paramref name="slot"/> (an element of a vector of tables) to its table.</summary>
    public FbTable TableFromSlot(int slot, string field)
    {
        if (slot < 0 || slot > _b.Length - 4)
        {
            throw Error($"offset slot {slot} outside the buffer", field);
        }

        long target = slot + (long)BinaryPrimitives.ReadUInt32LittleEndian(_b[slot..]);
        return TableAt(target, field);
    }

    /// <summary>Reads string field <paramref name="index"/> (null when absent), at most <paramref name="maxBytes"/> bytes.</summary>
    public string? String(in FbTable t, int index, int maxBytes, string field)
    {
        (int start, int count) = Vector(t, index, 1, field);
        if (start == 0 && count == 0 && Field(t, index, 4, field) < 0)
        {
            return null;
        }

        if (count > maxBytes)
        {
            throw Error($"string of {count} bytes exceeds the bound of {maxBytes}", field);
        }

        try
        {
            return new UTF8Encoding(false, true).GetString(_b.Slice(start, count));
        }
        catch (DecoderFallbackException ex)
        {
            throw new EventFormatException(_source, _offset, $"{_what}: string is not valid UTF-8", field, ex);
        }
    }
}
