using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EventSnn.Events;

namespace EventSnn.IO.Internal;

/// <summary>
/// What the four Prophesee readers share: the buffered input, the header, strict/tolerant
/// policy, bounded warnings, end-of-data handling and geometry tracking (declared geometry,
/// or the one implied by the largest address seen; events outside a declared geometry are
/// kept, counted and reported once).
/// </summary>
internal sealed class PropheseeCore : IDisposable
{
    private const int WarningLimit = 100;
    private readonly WarningList _warnings = new(WarningLimit);
    private int _maxX = -1;
    private int _maxY = -1;
    private bool _disposed;
    private bool _ended;

    public PropheseeCore(Stream stream, string sourceName, ReaderOptions? options, bool leaveOpen)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        Options = options ?? ReaderOptions.Default;
        long start = stream.CanSeek ? stream.Position : 0;
        Input = new ByteInput(stream, sourceName, Math.Clamp(Options.BufferBytes, 4096, 64 << 20), ownsStream: !leaveOpen, startOffset: start);
        try
        {
            Header = PropheseeHeader.Read(Input, Math.Max(1, Options.MaxHeaderBytes));
        }
        catch
        {
            Input.Dispose();
            throw;
        }

        foreach (string p in Header.Problems)
        {
            Warn(start, "header: " + p);
        }

        DataOffset = Input.Position;
        if (Options.MemoryMap)
        {
            Input.MapFile();
        }
    }

    public ReaderOptions Options { get; }

    public ByteInput Input { get; }

    public PropheseeHeader Header { get; }

    public long DataOffset { get; }

    public string SourceName => Input.SourceName;

    public bool Strict => Options.Strict;

    public IReadOnlyList<FormatWarning> Warnings => _warnings;

    /// <summary>Events seen outside the declared geometry.</summary>
    public long OutOfGeometry { get; private set; }

    /// <summary>Declared geometry, else the one implied by the largest address seen so far.</summary>
    public SensorGeometry Geometry =>
        Header.Geometry.IsKnown ? Header.Geometry : _maxX < 0 ? SensorGeometry.Unknown : new SensorGeometry(_maxX + 1, _maxY + 1);

    /// <summary>True once the end of the data was reached and handled.</summary>
    public bool Ended => _ended;

    /// <summary>Opens a file for sequential reading without a second buffer layer.</summary>
    public static FileStream OpenFile(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);

    /// <summary>Fails when the header explicitly declares another RAW encoding than <paramref name="expected"/>.</summary>
    public void RequireFormat(EventFormat expected)
    {
        EventFormat declared = Header.DeclaredFormat;
        if (declared != EventFormat.Unknown && declared != expected)
        {
            throw new EventFormatException(SourceName, DataOffset,
                $"the header declares {EventFormats.Name(declared)}, not {EventFormats.Name(expected)}", "header");
        }
    }

    public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Adds a warning without allocating once the list is full.</summary>
    public void Warn(long offset, string message) => _warnings.Warn(offset, message);

    /// <summary>Warnings kept so far have not reached the limit (so formatting a message is worth it).</summary>
    public bool WarningsOpen => _warnings.Count < WarningLimit;

    /// <summary>A word of a type the format does not define: error in strict mode, warning otherwise (no allocation once warnings are full).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void UnknownWord(long offset, int type, string format)
    {
        if (Strict)
        {
            throw new EventFormatException(SourceName, offset, $"unknown {format} word type 0x{type:X}", "type");
        }

        _warnings.Warn(offset, WarningsOpen ? $"unknown {format} word type 0x{type:X} skipped" : "unknown word type skipped");
    }

    /// <summary>
    /// Called when fewer than <paramref name="unit"/> bytes are left and the stream ended. A partial
    /// word/record is a truncation: strict throws, tolerant warns and skips the bytes.
    /// </summary>
    public void EndOfData(int unit, string what)
    {
        if (_ended)
        {
            return;
        }

        int left = Input.Available;
        if (left > 0)
        {
            long at = Input.Position;
            if (Strict)
            {
                throw new EventFormatException(SourceName, at, $"file ends inside a {what} ({left} of {unit} bytes)", what)
                {
                    IsTruncation = true,
                };
            }

            Warn(at, $"file ends inside a {what} ({left} of {unit} bytes); the partial {what} was dropped");
            Input.Advance(left);
        }

        _ended = true;
    }

    /// <summary>Updates the largest addresses and counts events outside the declared geometry.</summary>
    public void Track(EventBatch batch)
    {
        int n = batch.Count;
        if (n > 0)
        {
            Track(batch, MaxOf(batch.X.AsSpan(0, n)), MaxOf(batch.Y.AsSpan(0, n)));
        }
    }

    /// <summary>As <see cref="Track(EventBatch)"/>, for a decoder that found the batch's largest x and y while decoding.</summary>
    public void Track(EventBatch batch, int mx, int my)
    {
        SensorGeometry declared = Header.Geometry;
        if (batch.Count == 0)
        {
            return;
        }

        if (mx > _maxX)
        {
            _maxX = mx;
        }

        if (my > _maxY)
        {
            _maxY = my;
        }

        if (declared.IsKnown && (mx >= declared.Width || my >= declared.Height))
        {
            CountOutside(batch, declared);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Input.Dispose();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CountOutside(EventBatch batch, SensorGeometry declared)
    {
        long outside = 0;
        ushort[] xs = batch.X, ys = batch.Y;
        int first = -1;
        for (int i = 0; i < batch.Count; i++)
        {
            if (xs[i] >= declared.Width || ys[i] >= declared.Height)
            {
                outside++;
                if (first < 0)
                {
                    first = i;
                }
            }
        }

        if (OutOfGeometry == 0 && first >= 0)
        {
            Warn(Input.Position, $"event at x={xs[first]}, y={ys[first]} lies outside the declared {declared.Width}x{declared.Height} sensor; such events are kept and counted");
        }

        OutOfGeometry += outside;
    }

    /// <summary>Largest value of a span (SIMD).</summary>
    private static int MaxOf(ReadOnlySpan<ushort> values)
    {
        int i = 0;
        int max = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<ushort>.Count)
        {
            ReadOnlySpan<Vector<ushort>> vecs = MemoryMarshal.Cast<ushort, Vector<ushort>>(values);
            Vector<ushort> acc = Vector<ushort>.Zero;
            foreach (Vector<ushort> v in vecs)
            {
                acc = Vector.Max(acc, v);
            }

            for (int k = 0; k < Vector<ushort>.Count; k++)
            {
                max = Math.Max(max, acc[k]);
            }

            i = vecs.Length * Vector<ushort>.Count;
        }

        for (; i < values.Length; i++)
        {
            max = Math.Max(max, values[i]);
        }

        return max;
    }
}
