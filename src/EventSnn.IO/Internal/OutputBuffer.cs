using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace EventSnn.IO.Internal;

/// <summary>A pooled little-endian write buffer in front of a stream, for the writers.</summary>
internal sealed class OutputBuffer : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private byte[] _buf;
    private int _pos;

    public OutputBuffer(Stream stream, bool leaveOpen, int bufferBytes = 1 << 20)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
        {
            throw new ArgumentException("The stream is not writable.", nameof(stream));
        }

        _stream = stream;
        _leaveOpen = leaveOpen;
        _buf = ArrayPool<byte>.Shared.Rent(bufferBytes);
    }

    /// <summary>Bytes handed to this buffer so far.</summary>
    public long BytesWritten { get; private set; }

    public bool IsDisposed => _buf.Length == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void U16(uint v)
    {
        if (_pos + 2 > _buf.Length)
        {
            Drain();
        }

        BinaryPrimitives.WriteUInt16LittleEndian(_buf.AsSpan(_pos, 2), (ushort)v);
        _pos += 2;
        BytesWritten += 2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void U32(uint v)
    {
        if (_pos + 4 > _buf.Length)
        {
            Drain();
        }

        BinaryPrimitives.WriteUInt32LittleEndian(_buf.AsSpan(_pos, 4), v);
        _pos += 4;
        BytesWritten += 4;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void U64(ulong v)
    {
        if (_pos + 8 > _buf.Length)
        {
            Drain();
        }

        BinaryPrimitives.WriteUInt64LittleEndian(_buf.AsSpan(_pos, 8), v);
        _pos += 8;
        BytesWritten += 8;
    }

    public void Bytes(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_pos == _buf.Length)
            {
                Drain();
            }

            int n = Math.Min(data.Length, _buf.Length - _pos);
            data[..n].CopyTo(_buf.AsSpan(_pos));
            _pos += n;
            BytesWritten += n;
            data = data[n..];
        }
    }

    /// <summary>
    /// A span of at least <paramref name="minimum"/> free bytes (at most the buffer's size) to
    /// encode into; <see cref="Advance"/> then says how many were used.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetSpan(int minimum)
    {
        if (_pos + minimum > _buf.Length)
        {
            Drain();
            if (minimum > _buf.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(minimum), minimum, $"at most {_buf.Length} bytes at a time");
            }
        }

        return _buf.AsSpan(_pos);
    }

    /// <summary>Marks <paramref name="count"/> bytes of the last <see cref="GetSpan"/> as written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance(int count)
    {
        _pos += count;
        BytesWritten += count;
    }

    /// <summary>Hands the buffered bytes to the stream (without flushing the stream).</summary>
    public void Drain()
    {
        if (_pos > 0)
        {
            _stream.Write(_buf, 0, _pos);
            _pos = 0;
        }
    }

    public void Flush()
    {
        Drain();
        _stream.Flush();
    }

    public void Dispose()
    {
        if (_buf.Length == 0)
        {
            return;
        }

        try
        {
            Drain();
            _stream.Flush();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(_buf);
            _buf = [];
            if (!_leaveOpen)
            {
                _stream.Dispose();
            }
        }
    }
}
