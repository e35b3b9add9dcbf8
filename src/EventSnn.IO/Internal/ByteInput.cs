using System.Buffers;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;

namespace EventSnn.IO.Internal;

/// <summary>
/// Buffered, offset-tracking view of a stream for decoders. Decoders work on
/// <see cref="Span"/>, call <see cref="Advance"/> for what they consumed and
/// <see cref="Ensure"/> when they need more contiguous bytes. The buffer is pooled; it grows
/// only on request, never beyond the caller's bound, so memory stays constant whatever the
/// file claims. Over a memory-mapped file (<see cref="MapFile"/>) there is no buffer: the
/// span is the file's bytes in the page cache, with no copy.
/// </summary>
internal sealed unsafe class ByteInput : IDisposable
{
    /// <summary>Largest span handed out over a mapped file at once.</summary>
    private const int MappedWindow = 1 << 30;

    /// <summary>Largest read from the stream at once (fits a core's L2 cache with room for the decoded output).</summary>
    private const int ReadChunk = 256 * 1024;

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private byte[] _buf;
    private int _start;
    private int _end;
    private long _bufferOffset;
    private bool _eof;

    // memory-mapped mode: the bytes [0, _mapLength) of the file at _mapBase, the next unconsumed at _mapPos
    private MemoryMappedFile? _map;
    private MemoryMappedViewAccessor? _view;
    private byte* _mapBase;
    private long _mapLength;
    private long _mapPos;

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

    /// <summary>True when the input is a memory-mapped file (see <see cref="MapFile"/>).</summary>
    public bool IsMapped => _mapBase != null;

    /// <summary>Absolute offset of the next unconsumed byte.</summary>
    public long Position => _mapBase != null ? _mapPos : _bufferOffset + _start;

    /// <summary>Bytes buffered and not yet consumed.</summary>
    public int Available => _mapBase != null ? (int)Math.Min(_mapLength - _mapPos, MappedWindow) : _end - _start;

    /// <summary>The unconsumed buffered bytes.</summary>
    public ReadOnlySpan<byte> Span => _mapBase != null ? new(_mapBase + _mapPos, Available) : new(_buf, _start, _end - _start);

    /// <summary>True once the stream has no more bytes and the buffer is drained.</summary>
    public bool IsEnd => _mapBase != null ? _mapPos >= _mapLength : _eof && _start == _end;

    /// <summary>True once the underlying stream reported its end (buffer may still hold bytes).</summary>
    public bool StreamEnded => _mapBase != null || _eof;

    /// <summary>Total length when the stream is seekable, else null.</summary>
    public long? Length => _mapBase != null ? _mapLength : _stream.CanSeek ? _stream.Length : null;

    /// <summary>Bytes left in the source when known (buffered + unread), else null.</summary>
    public long? Remaining => _mapBase != null ? _mapLength - _mapPos : _stream.CanSeek ? _stream.Length - Position : null;

    /// <summary>True when the stream can seek.</summary>
    public bool CanSeek => _stream.CanSeek;

    /// <summary>Marks <paramref name="count"/> bytes consumed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance(int count)
    {
        if ((uint)count > (uint)Available)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        if (_mapBase != null)
        {
            _mapPos += count;
            return;
        }

        _start += count;
    }

    /// <summary>
    /// Switches a regular file's input to a read-only memory map of its bytes as they are now,
    /// from the current <see cref="Position"/> on (bytes still in the buffer are read again
    /// from the map). Returns false, leaving the buffered mode, when the stream is not a file
    /// that can be mapped (empty, a pipe, or the platform refuses). A file truncated by another process while mapped ends the
    /// process (SIGBUS) instead of ending the data: callers offer mapping as an option.
    /// </summary>
    public bool MapFile()
    {
        if (_mapBase != null)
        {
            return true;
        }

        if (_stream is not FileStream fs || !fs.CanSeek)
        {
            return false;
        }

        long length;
        try
        {
            length = fs.Length;
        }
        catch (IOException)
        {
            return false;
        }

        if (length == 0 || Position > length)
        {
            return false;
        }

        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            long position = Position;
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _map = map;
            _view = view;
            _mapPos = position;
            _mapLength = length;
            _mapBase = p + view.PointerOffset;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            view?.Dispose();
            map?.Dispose();
            return false;
        }
    }

    /// <summary>
    /// Makes at least <paramref name="count"/> contiguous bytes available, growing the
    /// buffer if needed (callers bound <paramref name="count"/>). Returns false when the
    /// source ends first; the bytes that exist stay available.
    /// </summary>
    public bool Ensure(int count)
    {
        if (_mapBase != null)
        {
            return _mapLength - _mapPos >= count;
        }

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
        if (_eof || _mapBase != null)
        {
            return 0;
        }

        return FillOnce();
    }

    /// <summary>Skips <paramref name="count"/> bytes; returns how many were really skipped (fewer at the end).</summary>
    public long Skip(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_mapBase != null)
        {
            long step = Math.Min(count, _mapLength - _mapPos);
            _mapPos += step;
            return step;
        }

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
        if (_mapBase != null)
        {
            _mapPos = Math.Clamp(offset, 0, _mapLength);
            return;
        }

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
        if (_view != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map!.Dispose();
            _view = null;
            _map = null;
            _mapBase = null;
        }

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
