using System.Buffers;
using System.Buffers.Binary;
using K4os.Compression.LZ4;
using K4os.Hash.xxHash;
using ZstdSharp;

namespace EventSnn.IO.Aedat4;

/// <summary>
/// Decompresses AEDAT 4.0 payloads into one reusable pooled buffer. LZ4 frames are parsed
/// here (frame descriptor, header checksum, block sizes, optional checksums) and every block
/// is decoded with <see cref="LZ4Codec"/> straight into the contiguous output, so linked
/// blocks find their dictionary (the previous 64 KiB) in place. Zstd frames go through a
/// reused ZstdSharp decompressor. The output never exceeds the bound given at construction;
/// corrupt input throws <see cref="EventFormatException"/> only.
/// </summary>
internal sealed class Aedat4Decompressor : IDisposable
{
    private const uint Lz4Magic = 0x184D2204;
    private const int Lz4DictionaryBytes = 64 * 1024;

    private readonly Aedat4Compression _compression;
    private readonly string _source;
    private readonly int _maxBytes;
    private byte[] _buffer;
    private Decompressor? _zstd;

    public Aedat4Decompressor(Aedat4Compression compression, string sourceName, int maxBytes)
    {
        _compression = compression;
        _source = sourceName;
        _maxBytes = maxBytes;
        _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    }

    /// <summary>The output buffer (valid for the length returned by the last <see cref="Decompress"/>).</summary>
    public byte[] Buffer => _buffer;

    /// <summary>True when the last failure was input ending before the compressed frame did (a cut rather than garbage).</summary>
    public bool LastErrorWasCut { get; private set; }

    /// <summary>
    /// Decompresses <paramref name="payload"/> (which starts at byte <paramref name="offset"/>
    /// of the source) into <see cref="Buffer"/>; returns the decompressed length.
    /// </summary>
    public int Decompress(ReadOnlySpan<byte> payload, long offset)
    {
        LastErrorWasCut = false;
        return _compression switch
        {
            Aedat4Compression.Lz4 or Aedat4Compression.Lz4High => DecodeLz4Frame(payload, offset),
            Aedat4Compression.Zstd or Aedat4Compression.ZstdHigh => DecodeZstd(payload, offset),
            _ => Copy(payload, offset),
        };
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        _zstd?.Dispose();
        _zstd = null;
    }

    private EventFormatException Error(long offset, string problem) => new(_source, offset, problem, "payload");

    private EventFormatException Cut(long offset, string problem)
    {
        LastErrorWasCut = true;
        return Error(offset, problem);
    }

    private int Copy(ReadOnlySpan<byte> payload, long offset)
    {
        // uncompressed: whether the bytes are complete is judged by the FlatBuffer's size prefix
        LastErrorWasCut = false;
        if (payload.Length > _maxBytes)
        {
            throw Error(offset, $"payload of {payload.Length} bytes exceeds MaxPacketBytes ({_maxBytes})");
        }

        EnsureCapacity(payload.Length, 0);
        payload.CopyTo(_buffer);
        return payload.Length;
    }

    /// <summary>Makes the buffer hold at least <paramref name="needed"/> bytes, keeping the first <paramref name="keep"/>.</summary>
    private void EnsureCapacity(int needed, int keep)
    {
        if (needed <= _buffer.Length)
        {
            return;
        }

        int size = (int)Math.Min(Math.Max(needed, (long)_buffer.Length * 2), Math.Max(needed, _maxBytes));
        byte[] bigger = ArrayPool<byte>.Shared.Rent(size);
        if (keep > 0)
        {
            System.Buffer.BlockCopy(_buffer, 0, bigger, 0, keep);
        }

        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    private int DecodeLz4Frame(ReadOnlySpan<byte> src, long offset)
    {
        if (src.Length < 7)
        {
            throw Cut(offset, $"LZ4 frame of {src.Length} bytes is shorter than a frame header");
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(src);
        if (magic != Lz4Magic)
        {
            throw Error(offset, $"not an LZ4 frame (magic 0x{magic:X8})");
        }

        byte flg = src[4];
        byte bd = src[5];
        if (flg >> 6 != 1 || (flg & 0x02) != 0 || (bd & 0x8F) != 0)
        {
            throw Error(offset + 4, $"unsupported LZ4 frame descriptor (FLG 0x{flg:X2}, BD 0x{bd:X2})");
        }

        bool linked = (flg & 0x20) == 0;
        bool blockChecksum = (flg & 0x10) != 0;
        bool hasContentSize = (flg & 0x08) != 0;
        bool contentChecksum = (flg & 0x04) != 0;
        if ((flg & 0x01) != 0)
        {
            throw Error(offset + 4, "LZ4 frame needs a dictionary (dictID), which AEDAT 4.0 does not use");
        }

        int blockMax = ((bd >> 4) & 7) switch
        {
            4 => 64 * 1024,
            5 => 256 * 1024,
            6 => 1024 * 1024,
            7 => 4 * 1024 * 1024,
            _ => throw Error(offset + 5, $"invalid LZ4 block maximum size code {(bd >> 4) & 7}"),
        };

        int pos = 6;
        long contentSize = -1;
        if (hasContentSize)
        {
            if (src.Length < pos + 9)
            {
                throw Cut(offset, "LZ4 frame header cut");
            }

            ulong cs = BinaryPrimitives.ReadUInt64LittleEndian(src[pos..]);
            if (cs > (ulong)_maxBytes)
            {
                throw Error(offset + pos, $"LZ4 content size {cs} exceeds MaxPacketBytes ({_maxBytes})");
            }

            contentSize = (long)cs;
            pos += 8;
        }

        byte hc = src[pos];
        uint digest = XXH32.DigestOf(src[4..pos]);
        if (hc != (byte)(digest >> 8))
        {
            throw Error(offset + pos, $"LZ4 frame header checksum mismatch (0x{hc:X2}, expected 0x{(byte)(digest >> 8):X2})");
        }

        pos++;
        int limit = contentSize >= 0 ? (int)contentSize : _maxBytes;
        EnsureCapacity(contentSize >= 0 ? (int)contentSize : Math.Min(blockMax, _maxBytes), 0);
        int outLen = 0;
        while (true)
        {
            if (src.Length - pos < 4)
            {
                throw Cut(offset + pos, "LZ4 frame ends without its end mark");
            }

            uint word = BinaryPrimitives.ReadUInt32LittleEndian(src[pos..]);
            pos += 4;
            if (word == 0)
            {
                break;
            }

            bool stored = (word & 0x80000000u) != 0;
            int size = (int)(word & 0x7FFFFFFFu);
            if (size > blockMax)
            {
                throw Error(offset + pos - 4, $"LZ4 block of {size} bytes exceeds the frame's maximum {blockMax}");
            }

            int extra = blockChecksum ? 4 : 0;
            if (src.Length - pos < size + extra)
            {
                throw Cut(offset + pos - 4, $"LZ4 block of {size} bytes runs past the end of the packet");
            }

            int room = Math.Min(blockMax, limit - outLen);
            if (room <= 0)
            {
                throw Error(offset + pos - 4, contentSize >= 0
                    ? $"LZ4 frame holds more data than its content size {contentSize}"
                    : $"LZ4 frame decompresses to more than MaxPacketBytes ({_maxBytes})");
            }

            if (contentSize < 0)
            {
                EnsureCapacity(outLen + room, outLen);
            }

            int produced;
            if (stored)
            {
                if (size > room)
                {
                    throw Error(offset + pos, "stored LZ4 block exceeds the remaining output size");
                }

                src.Slice(pos, size).CopyTo(_buffer.AsSpan(outLen));
                produced = size;
            }
            else
            {
                produced = DecodeBlock(src.Slice(pos, size), outLen, room, linked);
                if (produced < 0)
                {
                    throw Error(offset + pos, $"corrupt LZ4 block, or output beyond {limit} bytes (content size or MaxPacketBytes = {_maxBytes})");
                }
            }

            outLen += produced;
            pos += size + extra;
        }

        if (contentChecksum && src.Length - pos < 4)
        {
            throw Cut(offset + pos, "LZ4 content checksum cut");
        }

        if (contentSize >= 0 && outLen != contentSize)
        {
            throw Error(offset, $"LZ4 frame decompressed to {outLen} bytes, its header says {contentSize}");
        }

        return outLen;
    }

    private unsafe int DecodeBlock(ReadOnlySpan<byte> block, int outPos, int room, bool linked)
    {
        fixed (byte* s = block)
        fixed (byte* d = _buffer)
        {
            if (!linked || outPos == 0)
            {
                return LZ4Codec.Decode(s, block.Length, d + outPos, room);
            }

            int dict = Math.Min(outPos, Lz4DictionaryBytes);
            return LZ4Codec.Decode(s, block.Length, d + outPos, room, d + outPos - dict, dict);
        }
    }

    private int DecodeZstd(ReadOnlySpan<byte> src, long offset)
    {
        _zstd ??= new Decompressor();
        try
        {
            ulong declared = 0;
            bool known;
            try
            {
                declared = Decompressor.GetDecompressedSize(src);
                known = declared > 0 && declared < ulong.MaxValue - 1;
            }
            catch (ZstdException)
            {
                known = false;
            }

            if (known)
            {
                if (declared > (ulong)_maxBytes)
                {
                    throw Error(offset, $"zstd content size {declared} exceeds MaxPacketBytes ({_maxBytes})");
                }

                EnsureCapacity((int)declared, 0);
                int n = _zstd.Unwrap(src, _buffer.AsSpan(0, (int)declared));
                if (n != (int)declared)
                {
                    throw Error(offset, $"zstd frame decompressed to {n} bytes, its header says {declared}");
                }

                return n;
            }

            // content size not stored: grow the output until it fits, within the bound
            int capacity = Math.Min(Math.Max(_buffer.Length, src.Length * 4), _maxBytes);
            while (true)
            {
                EnsureCapacity(capacity, 0);
                if (_zstd.TryUnwrap(src, _buffer.AsSpan(0, Math.Min(_buffer.Length, _maxBytes)), out int written))
                {
                    return written;
                }

                if (_buffer.Length >= _maxBytes)
                {
                    throw Error(offset, $"zstd frame decompresses to more than MaxPacketBytes ({_maxBytes})");
                }

                capacity = (int)Math.Min((long)_buffer.Length * 2, _maxBytes);
            }
        }
        catch (ZstdException ex)
        {
            LastErrorWasCut = ex.Code == ZstdSharp.Unsafe.ZSTD_ErrorCode.ZSTD_error_srcSize_wrong;
            throw new EventFormatException(_source, offset, $"corrupt zstd frame ({ex.Message})", "payload", ex);
        }
    }
}
