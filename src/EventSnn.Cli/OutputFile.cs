namespace EventSnn.Cli;

/// <summary>
/// An output written under a temporary name in the target's folder (so the final rename stays on
/// one file system) and renamed over the target by <see cref="Commit"/>. Disposed without a
/// commit — an exception, a refusal, Ctrl-C — the temporary file is deleted: a failed command
/// leaves neither a partial file nor a changed target behind.
/// </summary>
internal sealed class OutputFile : IDisposable
{
    private readonly bool _overwrite;
    private FileStream? _file;
    private bool _committed;

    /// <summary>Creates the temporary file beside <paramref name="target"/>.</summary>
    /// <param name="target">The file to produce.</param>
    /// <param name="overwrite">True to replace an existing target on commit.</param>
    public OutputFile(string target, bool overwrite)
    {
        Target = Path.GetFullPath(target);
        _overwrite = overwrite;
        string folder = Path.GetDirectoryName(Target) ?? ".";
        TempPath = Path.Combine(folder, $".{Path.GetFileName(Target)}.{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}.tmp");
        _file = new FileStream(TempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
    }

    /// <summary>Full path of the file to produce.</summary>
    public string Target { get; }

    /// <summary>The temporary file written until <see cref="Commit"/>.</summary>
    public string TempPath { get; }

    /// <summary>
    /// The temporary file as a stream whose size is bounded by <paramref name="maxBytes"/>
    /// (<see cref="OutputTooLargeException"/> once it grows past it). Disposing the stream does
    /// not delete the file; <see cref="Dispose"/> or <see cref="Commit"/> decide.
    /// </summary>
    public SizeGuardStream OpenStream(long maxBytes)
    {
        FileStream file = _file ?? throw new InvalidOperationException("the temporary file was handed over already");
        _file = null;
        return new SizeGuardStream(file, maxBytes);
    }

    /// <summary>Closes the temporary file so a writer that takes a path can write <see cref="TempPath"/>.</summary>
    public string ReleaseForPath()
    {
        _file?.Dispose();
        _file = null;
        return TempPath;
    }

    /// <summary>Renames the temporary file over the target (atomic on one file system).</summary>
    /// <exception cref="IOException">The target exists and overwriting was not allowed.</exception>
    public void Commit()
    {
        _file?.Dispose();
        _file = null;
        File.Move(TempPath, Target, _overwrite);
        _committed = true;
    }

    /// <summary>Deletes the temporary file unless committed.</summary>
    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
        if (!_committed)
        {
            try
            {
                File.Delete(TempPath);
            }
            catch (IOException)
            {
                // best effort: the file may be gone already
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}

/// <summary>
/// A write stream that fails once the data reaches past <see cref="MaxBytes"/> (the high-water
/// mark of positions written, so in-place rewrites do not count twice). After the first failure
/// further writes are dropped silently, so the writer on top can still be disposed without
/// hiding the first error. Reads pass through when the inner stream reads (HDF5 reads back
/// what it laid out).
/// </summary>
internal sealed class SizeGuardStream(Stream inner, long maxBytes) : Stream
{
    /// <summary>The bound in bytes.</summary>
    public long MaxBytes { get; } = maxBytes;

    /// <summary>The furthest byte written.</summary>
    public long HighWater { get; private set; }

    /// <summary>True once the bound was passed.</summary>
    public bool Tripped { get; private set; }

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => inner.CanSeek;

    public override bool CanWrite => true;

    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => inner.Position = value;
    }

    public override void Flush()
    {
        if (!Tripped)
        {
            inner.Flush();
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => inner.Read(buffer);

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    public override void SetLength(long value) => inner.SetLength(value);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Tripped)
        {
            return;
        }

        long end = inner.Position + buffer.Length;
        if (end > MaxBytes)
        {
            Tripped = true;
            throw new OutputTooLargeException(MaxBytes);
        }

        inner.Write(buffer);
        HighWater = Math.Max(HighWater, end);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>An output grew past its size bound (<see cref="SizeGuardStream"/>).</summary>
internal sealed class OutputTooLargeException : IOException
{
    public OutputTooLargeException(long limit)
        : base($"the output passed {limit:N0} bytes")
    {
        Limit = limit;
    }

    public OutputTooLargeException()
    {
    }

    public OutputTooLargeException(string message)
        : base(message)
    {
    }

    public OutputTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The bound that was passed, in bytes.</summary>
    public long Limit { get; }
}
