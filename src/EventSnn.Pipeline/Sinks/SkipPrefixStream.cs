namespace EventSnn.Pipeline;

/// <summary>
/// A write-only stream between a file-format writer and a socket: drops the first bytes written (a
/// file magic the network form does not carry) and whatever is written while <see cref="Discard"/> is
/// set (a file header), and counts what it passes on.
/// </summary>
internal sealed class SkipPrefixStream(Stream inner, long skip) : Stream
{
    private long _skip = skip;

    /// <summary>While true, writes are dropped.</summary>
    public bool Discard { get; set; }

    /// <summary>Bytes passed on.</summary>
    public long Written { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => Written;
        set => throw new NotSupportedException();
    }

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Discard)
        {
            return;
        }

        if (_skip > 0)
        {
            int n = (int)Math.Min(_skip, buffer.Length);
            buffer = buffer[n..];
            _skip -= n;
        }

        inner.Write(buffer);
        Written += buffer.Length;
    }
}
