using System.Buffers;
using System.Runtime.CompilerServices;

namespace EventSnn.IO.Internal;

/// <summary>
/// Buffered, offset-tracking view of a stream for decoders. Decoders work on
/// <see cref="Span"/> (or <see cref="Buffer"/>/<see cref="Start"/> directly), call
/// <see cref="Advance"/> for what they consumed and <see cref="Ensure"/> when they need
/// more contiguous bytes. The buffer is pooled; it grows only on request, never beyond
/// the caller's bound, so memory stays constant whatever the file claims.
/// </summary>
internal sealed class ByteInput : IDisposable
{
    /// <summary>Largest read from the stream at once (fits a core's L2 cache with room for the decoded output).</summary>
    private const int ReadChunk = 256 * 1024;

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private byte[] _buf;
    private int _start;
    private int _end;
    private long _bufferOffset;
    private bool _eof;

    public ByteInput(Stream stream, string sourceName, int bufferBytes = 1 << 20, bool ownsStream = true, long startOffset = 0)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        SourceName = sourceName;
        _ownsStream = ownsStream;
        _buf = ArrayPool<byte>.Shared.Rent(Math.Max(4096, bufferBytes));
        _bufferOffset = startOffset;
    }

    /// <summary>File path or peer.</summary>
    public string SourceName { get; }

    /// <summary>Absolute offset of the next unconsumed byte.</summary>
    public long Position => _bufferOffset + _start;

    /// <summary>Bytes buffered and not yet consumed.</summary>
    public int Available => _end - _start;

    /// <summary>The unconsumed buffered bytes.</summary>
    public ReadOnlySpan<byte> Span => new(_buf, _start, _end - _start);

    /// <summary>The raw buffer (valid from <see cref="Start"/> for <see cref="Available"/> bytes).</summary>
    public byte[] Buffer => _buf;

    /// <summary>Index in <see cref="Buffer"/> of the next unconsumed byte.</summary>
    public int Start => _start;

    /// <summary>True once the stream has no more bytes and the buffer is drained.</summary>
    public bool IsEnd => _eof && _start == _end;

    /// <summary>True once the underlying stream reported its end (buffer may still hold bytes).</summary>
    public bool StreamEnded => _eof;

    /// <summary>Total length when the stream is seekable, else null.</summary>
    public long? Length => _stream.CanSeek ? _stream.Length : null;

    /// <summary>Bytes left in the source when known (buffered + unread), else null.</summary>
    public long? Remaining => _stream.CanSeek ? _stream.Length - Position : null;

    /// <summary>True when the stream can seek.</summary>
    public bool CanSeek => _stream.CanSeek;

    /// <summary>Marks <paramref name="count"/> bytes consumed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance(int count)
    {
        if ((uint)count > (uint)(_end - _start))
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        _start += count;
    }

    /// <summary>
    /// Makes at least <paramref name="count"/> contiguous bytes available, growing the
    /// buffer if needed (callers bound <paramref name="count"/>). Returns false when the
    /// source ends first; the bytes that exist stay available.
    /// </summary>
    public bool Ensure(int count)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        if (count > _buf.Length)
        {
            Grow(count);
        }

        while (_end - _start < count)
        {
            if (_eof || FillOnce() == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Reads more bytes into the buffer (compacting first). Returns the number added, 0 at the end.</summary>
    public int Fill()
    {
        if (_eof)
        {
            return 0;
        }

        return FillOnce();
    }

    /// <summary>Skips <paramref name="count"/> bytes; returns how many were really skipped (fewer at the end).</summary>
    public long Skip(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int inBuffer = (int)Math.Min(count, _end - _start);
        _start += inBuffer;
        long left = count - inBuffer;
        if (left == 0)
        {
            return count;
        }

        if (_stream.CanSeek)
        {
            long target = Math.Min(_bufferOffset + _end + left, _stream.Length);
            long skipped = inBuffer + (target - (_bufferOffset + _end));
            _stream.Seek(target, SeekOrigin.Begin);
            _bufferOffset = target;
            _start = _end = 0;
            _eof = target >= _stream.Length;
            return skipped;
        }

        long done = inBuffer;
        while (left > 0)
        {
            if (!Ensure(1))
            {
                break;
            }

            int step = (int)Math.Min(left, _end - _start);
            _start += step;
            left -= step;
            done += step;
        }

        return done;
    }

    /// <summary>Moves to an absolute offset (seekable streams only).</summary>
    public void Seek(long offset)
    {
        if (!_stream.CanSeek)
        {
            throw new NotSupportedException($"{SourceName}: the source cannot seek.");
        }

        if (offset >= _bufferOffset && offset <= _bufferOffset + _end)
        {
            _start = (int)(offset - _bufferOffset);
            return;
        }

        _stream.Seek(offset, SeekOrigin.Begin);
        _bufferOffset = offset;
        _start = _end = 0;
        _eof = false;
    }

    public void Dispose()
    {
        if (_buf.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buf);
            _buf = [];
        }

        if (_ownsStream)
        {
            _stream.Dispose();
        }
    }

    private int FillOnce()
    {
        if (_start > 0 && (_end == _buf.Length || _start >= _buf.Length / 2 || _start == _end))
        {
            int live = _end - _start;
            if (live > 0)
            {
                System.Buffer.BlockCopy(_buf, _start, _buf, 0, live);
            }

            _bufferOffset += _start;
            _start = 0;
            _end = live;
        }

        if (_end == _buf.Length)
        {
            return 0;
        }

        // at most ReadChunk bytes a call: the bytes read are decoded while they are still in the core's cache
        int n = _stream.Read(_buf, _end, Math.Min(_buf.Length - _end, ReadChunk));
        if (n <= 0)
        {
            _eof = true;
            return 0;
        }

        _end += n;
        return n;
    }

    private void Grow(int count)
    {
        byte[] bigger = ArrayPool<byte>.Shared.Rent(count);
        int live = _end - _start;
        System.Buffer.BlockCopy(_buf, _start, bigger, 0, live);
        ArrayPool<byte>.Shared.Return(_buf);
        _buf = bigger;
        _bufferOffset += _start;
        _start = 0;
        _end = live;
    }
}
