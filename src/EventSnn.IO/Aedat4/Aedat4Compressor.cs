using System.Buffers;
using K4os.Compression.LZ4;
using K4os.Compression.LZ4.Streams;
using ZstdSharp;

namespace EventSnn.IO.Aedat4;

/// <summary>
/// Compresses AEDAT 4.0 payloads the way DV does: one LZ4 frame (64 KiB linked blocks, no
/// content size) or one zstd frame (content size stored) per payload, or a plain copy for
/// NONE. The output buffer is pooled and reused.
/// </summary>
internal sealed class Aedat4Compressor : IDisposable
{
    /// <summary>zstd level for <see cref="Aedat4Compression.Zstd"/>.</summary>
    public const int ZstdLevel = 3;

    /// <summary>zstd level for <see cref="Aedat4Compression.ZstdHigh"/>.</summary>
    public const int ZstdHighLevel = 9;

    private readonly Aedat4Compression _compression;
    private readonly LZ4EncoderSettings? _lz4;
    private Compressor? _zstd;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);

    public Aedat4Compressor(Aedat4Compression compression)
    {
        _compression = compression;
        if (compression is Aedat4Compression.Lz4 or Aedat4Compression.Lz4High)
        {
            _lz4 = new LZ4EncoderSettings
            {
                ChainBlocks = true,
                BlockSize = 64 * 1024,
                ContentChecksum = false,
                BlockChecksum = false,
                CompressionLevel = compression == Aedat4Compression.Lz4High ? LZ4Level.L09_HC : LZ4Level.L00_FAST,
            };
        }
        else if (compression is Aedat4Compression.Zstd or Aedat4Compression.ZstdHigh)
        {
            _zstd = new Compressor(compression == Aedat4Compression.ZstdHigh ? ZstdHighLevel : ZstdLevel);
        }
    }

    /// <summary>Compresses <paramref name="source"/>; the result is valid until the next call.</summary>
    public ReadOnlySpan<byte> Compress(byte[] source, int length)
    {
        switch (_compression)
        {
            case Aedat4Compression.Lz4 or Aedat4Compression.Lz4High:
            {
                int bound = LZ4Codec.MaximumOutputSize(length) + (4 * ((length / (64 * 1024)) + 2)) + 64;
                Reserve(bound);
                int n = LZ4Frame.Encode(source.AsSpan(0, length), _buffer.AsSpan(0, bound), _lz4!);
                return _buffer.AsSpan(0, n);
            }

            case Aedat4Compression.Zstd or Aedat4Compression.ZstdHigh:
            {
                int bound = Compressor.GetCompressBound(length);
                Reserve(bound);
                int n = _zstd!.Wrap(source.AsSpan(0, length), _buffer.AsSpan(0, bound));
                return _buffer.AsSpan(0, n);
            }

            default:
                return source.AsSpan(0, length);
        }
    }

    public void Dispose()
    {
        _zstd?.Dispose();
        _zstd = null;
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    private void Reserve(int bytes)
    {
        if (_buffer.Length < bytes)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(bytes);
        }
    }
}
