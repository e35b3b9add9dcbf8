using System.Buffers.Binary;
using PureHDF.Filters;

namespace EventSnn.IO.Internal;

/// <summary>
/// The read-only, seekable view of an HDF5 file handed to PureHDF. It remembers where the
/// last read started (so errors raised inside PureHDF can name a byte offset) and enforces
/// a per-operation read budget: a corrupt file whose B-trees, heaps or links loop would
/// otherwise make PureHDF read forever; once the budget is spent every read throws
/// <see cref="Hdf5ReadBudgetException"/>, which the caller turns into an
/// <see cref="EventFormatException"/>.
/// <para>It also checks every global heap collection (where variable-length data lives) the
/// moment PureHDF reads its "GCOL" signature, before PureHDF decodes it: PureHDF allocates
/// each heap object from its stored size before reading it, so a corrupt size would cost up
/// to 2 GiB. The collection must lie inside the file and each object inside the collection.</para>
/// <para>Likewise every version-2 object header ("OHDR", and the "OCHK" continuation blocks it
/// points to) is checked when PureHDF reads its signature: each message must lie inside its
/// chunk and a link message's name inside its message. PureHDF allocates a link name from its
/// stored length (up to 2 GiB) before reading it, and walks past a chunk's end when a message
/// claims more than is left.</para>
/// </summary>
internal sealed class Hdf5Input : Stream
{
    private readonly Stream _inner;
    private readonly long _length;
    private long _position;
    private long _budget;
    private long _spent;
    private readonly HashSet<long> _checkedHeaps = [];
    private readonly HashSet<long> _checkedHeaders = [];
    private readonly Dictionary<long, (long Length, bool CreationOrder)> _continuations = [];

    public Hdf5Input(Stream inner)
    {
        _inner = inner;
        _length = inner.Length;
        _budget = long.MaxValue;
    }

    /// <summary>Size of lengths in bytes, from the superblock (0 until known: no heap checks).</summary>
    public int LengthsSize { get; set; }

    /// <summary>Size of offsets in bytes, from the superblock (0 until known: no continuation checks).</summary>
    public int OffsetsSize { get; set; }

    /// <summary>The superblock's base address (addresses in the file are relative to it).</summary>
    public long BaseAddress { get; set; }

    /// <summary>Offset where the most recent read started.</summary>
    public long LastReadOffset { get; private set; }

    /// <summary>Largest offset read so far (exclusive end).</summary>
    public long HighestOffset { get; private set; }

    /// <summary>Starts a new operation with a fresh read budget of <paramref name="bytes"/>.</summary>
    public void ResetBudget(long bytes)
    {
        _budget = bytes;
        _spent = 0;
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        Charge(buffer.Length);
        LastReadOffset = _position;
        if (_position >= _length || buffer.IsEmpty)
        {
            return 0;
        }

        if (_inner.Position != _position)
        {
            _inner.Seek(_position, SeekOrigin.Begin);
        }

        int n = _inner.Read(buffer);
        long start = _position;
        _position += n;
        HighestOffset = Math.Max(HighestOffset, _position);
        if (n == 4 && LengthsSize > 0 && buffer[..4].SequenceEqual("GCOL"u8) && _checkedHeaps.Add(start))
        {
            CheckGlobalHeap(start);
        }

        // PureHDF reads an object header's first byte alone, then the other three signature bytes
        if (n == 3 && LengthsSize > 0 && start > 0 && buffer[..3].SequenceEqual("HDR"u8) && _checkedHeaders.Add(start - 1))
        {
            CheckObjectHeader(start - 1);
        }

        if (n == 4 && buffer[..4].SequenceEqual("OCHK"u8) && _continuations.TryGetValue(start - BaseAddress, out (long Length, bool CreationOrder) block) && _checkedHeaders.Add(start))
        {
            CheckMessages(start + 4, start + block.Length - 4, block.CreationOrder);
            _inner.Seek(_position, SeekOrigin.Begin);
        }

        return n;
    }

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };

        if (target < 0)
        {
            throw new EndOfStreamException($"seek to negative offset {target}");
        }

        _position = target;
        return target;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private void CheckGlobalHeap(long start)
    {
        // GCOL(4) version(1) reserved(3) collection size(L), then objects:
        // index(2) reference count(2) reserved(4) size(L) data padded to 8 bytes
        int l = LengthsSize;
        Span<byte> field = stackalloc byte[16];
        long size = ReadLength(start + 8, l, field);
        if (size < 8 + l || size > _length - start)
        {
            throw new InvalidDataException($"global heap collection at {start} claims {size} bytes; the file holds {_length - start} from there");
        }

        long end = start + size;
        long at = start + 8 + l;
        int objectHeader = 8 + l;
        while (end - at >= objectHeader)
        {
            Charge(objectHeader);
            if (ReadAt(at, field[..2]) < 2)
            {
                throw new EndOfStreamException($"global heap collection at {start} is cut");
            }

            if (BinaryPrimitives.ReadUInt16LittleEndian(field) == 0)
            {
                break; // free space runs to the end of the collection
            }

            long objectSize = ReadLength(at + 8, l, field);
            long padded = (objectSize + 7) & ~7L;
            if (objectSize < 0 || padded < objectSize || padded > end - at - objectHeader)
            {
                throw new InvalidDataException($"global heap object at {at} claims {objectSize} bytes, beyond its collection (ends at {end})");
            }

            at += objectHeader + padded;
        }

        _inner.Seek(_position, SeekOrigin.Begin);
    }

    private void CheckObjectHeader(long start)
    {
        // "OHDR" version(1) flags(1) [4 times(16)] [attribute phase change(4)] chunk #0 size(1/2/4/8), messages
        Span<byte> b = stackalloc byte[32];
        int n = ReadAt(start, b);
        if (n < 7 || b[0] != (byte)'O' || b[4] != 2)
        {
            _inner.Seek(_position, SeekOrigin.Begin);
            return; // not a version-2 header: PureHDF reports it
        }

        int flags = b[5];
        int p = 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
        int sizeBytes = 1 << (flags & 3);
        if (n < p + sizeBytes)
        {
            throw new EndOfStreamException($"object header at {start} is cut");
        }

        long chunk = ReadUnsigned(b[p..], sizeBytes);
        long begin = start + p + sizeBytes;
        if (chunk > _length - begin)
        {
            throw new InvalidDataException($"object header at {start} claims a chunk of {chunk} bytes; the file holds {_length - begin} from there");
        }

        CheckMessages(begin, begin + chunk, (flags & 0x04) != 0);
        _inner.Seek(_position, SeekOrigin.Begin);
    }

    /// <summary>Checks the version-2 header messages in [begin, end): each inside the chunk, link names inside their message; notes continuation blocks.</summary>
    private void CheckMessages(long begin, long end, bool creationOrder)
    {
        if (end > _length || end < begin)
        {
            throw new InvalidDataException($"object header continuation at {begin - 4} ends at {end}, outside the file");
        }

        int prefix = creationOrder ? 6 : 4;
        Span<byte> h = stackalloc byte[24];
        long at = begin;
        while (end - at > prefix)
        {
            Charge(prefix);
            if (ReadAt(at, h[..4]) < 4)
            {
                throw new EndOfStreamException($"object header message at {at} is cut");
            }

            int type = h[0];
            int size = BinaryPrimitives.ReadUInt16LittleEndian(h[1..]);
            bool shared = (h[3] & 0x02) != 0;
            long data = at + prefix;
            if (size > end - data)
            {
                throw new InvalidDataException($"object header message at {at} (type {type}) claims {size} bytes; its chunk ends at {end}");
            }

            if (!shared && type == 6)
            {
                CheckLink(data, size, h);
            }
            else if (!shared && type == 0x10 && OffsetsSize > 0 && size >= OffsetsSize + LengthsSize && ReadAt(data, h[..(OffsetsSize + LengthsSize)]) == OffsetsSize + LengthsSize)
            {
                _continuations[ReadUnsigned(h, OffsetsSize)] = (ReadUnsigned(h[OffsetsSize..], LengthsSize), creationOrder);
            }

            at = data + size;
        }
    }

    private void CheckLink(long data, int size, Span<byte> b)
    {
        // version(1) flags(1) [link type(1)] [creation order(8)] [charset(1)] name length(1/2/4/8) name ...
        int n = ReadAt(data, b[..Math.Min(b.Length, size)]);
        if (n < 2)
        {
            return; // PureHDF reports it
        }

        int flags = b[1];
        int p = 2 + ((flags & 0x08) != 0 ? 1 : 0) + ((flags & 0x04) != 0 ? 8 : 0) + ((flags & 0x10) != 0 ? 1 : 0);
        int lengthBytes = 1 << (flags & 3);
        if (p + lengthBytes > n)
        {
            throw new InvalidDataException($"link message at {data} is cut: {size} bytes");
        }

        long name = ReadUnsigned(b[p..], lengthBytes);
        if (name > size - p - lengthBytes)
        {
            throw new InvalidDataException($"link message at {data} claims a {name}-byte name in a {size}-byte message");
        }
    }

    private static long ReadUnsigned(ReadOnlySpan<byte> b, int size) => size switch
    {
        1 => b[0],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(b),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(b),
        _ => (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(b), long.MaxValue),
    };

    private long ReadLength(long offset, int size, Span<byte> scratch)
    {
        if (ReadAt(offset, scratch[..size]) < size)
        {
            throw new EndOfStreamException($"global heap header at {offset} is cut");
        }

        return size switch
        {
            2 => BinaryPrimitives.ReadUInt16LittleEndian(scratch),
            4 => BinaryPrimitives.ReadUInt32LittleEndian(scratch),
            _ => (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(scratch), long.MaxValue),
        };
    }

    private int ReadAt(long offset, Span<byte> buffer)
    {
        _inner.Seek(offset, SeekOrigin.Begin);
        int total = 0;
        while (total < buffer.Length)
        {
            int n = _inner.Read(buffer[total..]);
            if (n <= 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    private void Charge(int count)
    {
        // every call costs at least a little, so a loop of empty reads also runs out
        _spent += Math.Max(count, 64);
        if (_spent > _budget)
        {
            throw new Hdf5ReadBudgetException(_budget);
        }
    }
}

/// <summary>Thrown by <see cref="Hdf5Input"/> when one operation read far more than the file holds.</summary>
internal sealed class Hdf5ReadBudgetException : IOException
{
    public Hdf5ReadBudgetException(long budget)
        : base($"read more than {budget} bytes in one operation: the file's structures loop or are corrupt")
    {
    }

    public Hdf5ReadBudgetException()
    {
    }

    public Hdf5ReadBudgetException(string message)
        : base(message)
    {
    }

    public Hdf5ReadBudgetException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>What the superblock says about the file, read without PureHDF.</summary>
internal readonly record struct Hdf5Superblock(long Offset, int Version, int OffsetsSize, int LengthsSize, long BaseAddress, long EndOfFileAddress);

/// <summary>Checks the HDF5 signature and reads the end-of-file address from the superblock.</summary>
internal static class Hdf5Probe
{
    /// <summary>The HDF5 format signature: 89 48 44 46 0D 0A 1A 0A.</summary>
    public static ReadOnlySpan<byte> Signature => [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// Finds the superblock (offset 0, or 512, 1024, 2048, ... after a user block) and reads
    /// its version, base address and end-of-file address. Throws <see cref="EventFormatException"/>
    /// at offset 0 for non-HDF5 input, with <see cref="EventFormatException.IsTruncation"/> when the
    /// superblock itself is cut.
    /// </summary>
    public static Hdf5Superblock Read(Stream stream, string source)
    {
        long length = stream.Length;
        Span<byte> head = stackalloc byte[64];
        for (long at = 0; at == 0 || at + 8 <= length; at = at == 0 ? 512 : at * 2)
        {
            int n = ReadAt(stream, at, head);
            if (n < 8 || !head[..8].SequenceEqual(Signature))
            {
                if (at == 0 && n < 8 && n == length && Signature[..n].SequenceEqual(head[..n]))
                {
                    throw new EventFormatException(source, 0, $"file holds only {n} bytes of the 8-byte HDF5 signature", "signature") { IsTruncation = true };
                }

                continue;
            }

            return Parse(head[..n], at, source);
        }

        throw new EventFormatException(source, 0, "not an HDF5 file: the signature 89 48 44 46 0D 0A 1A 0A is missing", "signature");
    }

    private static Hdf5Superblock Parse(ReadOnlySpan<byte> b, long at, string source)
    {
        if (b.Length < 9)
        {
            throw Cut(source, at + b.Length);
        }

        int version = b[8];
        int offsetsSize;
        int lengthsSize;
        int baseAt;
        switch (version)
        {
            case 0:
            case 1:
                if (b.Length < 16)
                {
                    throw Cut(source, at + b.Length);
                }

                offsetsSize = b[13];
                lengthsSize = b[14];
                baseAt = version == 0 ? 24 : 28;
                break;
            case 2:
            case 3:
                if (b.Length < 12)
                {
                    throw Cut(source, at + b.Length);
                }

                offsetsSize = b[9];
                lengthsSize = b[10];
                baseAt = 12;
                break;
            default:
                throw new EventFormatException(source, at + 8, $"unsupported HDF5 superblock version {version}", "superblock");
        }

        if (offsetsSize is not (2 or 4 or 8) || lengthsSize is not (2 or 4 or 8))
        {
            throw new EventFormatException(source, at + (version <= 1 ? 13 : 9), $"invalid size of offsets/lengths {offsetsSize}/{lengthsSize}", "superblock");
        }

        // version 0/1: base, free-space, EOF; version 2/3: base, extension, EOF
        int eofAt = baseAt + (2 * offsetsSize);
        if (b.Length < eofAt + offsetsSize)
        {
            throw Cut(source, at + b.Length);
        }

        long baseAddress = ReadOffset(b[baseAt..], offsetsSize);
        long eof = ReadOffset(b[eofAt..], offsetsSize);
        return new Hdf5Superblock(at, version, offsetsSize, lengthsSize, baseAddress, eof);
    }

    private static long ReadOffset(ReadOnlySpan<byte> b, int size) => size switch
    {
        2 => BinaryPrimitives.ReadUInt16LittleEndian(b),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(b),
        _ => (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(b), long.MaxValue),
    };

    private static EventFormatException Cut(string source, long offset) =>
        new(source, offset, "file ends inside the HDF5 superblock", "superblock") { IsTruncation = true };

    private static int ReadAt(Stream stream, long offset, Span<byte> buffer)
    {
        stream.Seek(offset, SeekOrigin.Begin);
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n <= 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}

/// <summary>
/// Registers a shuffle filter that tolerates an empty parameter list. PyTables writes
/// variable-length datasets with "shuffle" in the pipeline but no element size (the HDF5
/// library then skips the optional filter, leaving the chunk unshuffled); PureHDF's built-in
/// shuffle indexes the missing parameter and fails. With a parameter the filter does the
/// standard byte unshuffle, so other datasets decode as before.
/// </summary>
internal static class Hdf5Filters
{
    private static int _registered;

    public static void EnsureRegistered()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            H5Filter.Register(new TolerantShuffleFilter());
        }
    }

    private sealed class TolerantShuffleFilter : IH5Filter
    {
        public ushort FilterId => ShuffleFilter.Id;

        public string Name => "shuffle";

        public Memory<byte> Filter(FilterInfo info)
        {
            Memory<byte> source = info.Buffer;
            int size = info.Parameters.Length > 0 ? (int)Math.Min(info.Parameters[0], int.MaxValue) : 0;
            if (size <= 1 || source.Length < size)
            {
                return source;
            }

            var result = new byte[source.Length];
            ReadOnlySpan<byte> src = source.Span;
            int elements = src.Length / size;
            bool decompress = (info.Flags & H5FilterFlags.Decompress) != 0;
            for (int b = 0; b < size; b++)
            {
                for (int e = 0; e < elements; e++)
                {
                    if (decompress)
                    {
                        result[(e * size) + b] = src[(b * elements) + e];
                    }
                    else
                    {
                        result[(b * elements) + e] = src[(e * size) + b];
                    }
                }
            }

            // trailing bytes that do not fill an element are left as they are (as HDF5 does)
            int tail = elements * size;
            src[tail..].CopyTo(result.AsSpan(tail));
            return result;
        }

        public uint[] GetParameters(uint[] clientValues, uint typeSize, Dictionary<string, object>? options) => [typeSize];
    }
}
