using System.Buffers.Text;
using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Writes DVS events as comma-separated text: the header line <c>t,x,y,p</c>, then one line per
/// event, <c>t</c> in microseconds (any 64-bit value), <c>x</c> and <c>y</c> in sensor pixels
/// (origin top-left), <c>p</c> 1 for ON and 0 for OFF; lines end with LF, numbers are ASCII
/// digits with no padding. Triggers have no place in the layout and are not written. Encodes batch
/// by batch into a pooled buffer: constant memory, nothing allocated per event.
/// </summary>
public sealed class CsvWriter : IEventWriter
{
    /// <summary>The header line (without its LF).</summary>
    public const string Header = "t,x,y,p";

    /// <summary>The longest line: a 20-character int64, two 5-digit addresses, a polarity digit, three commas and the LF.</summary>
    private const int MaxLineBytes = 20 + 5 + 5 + 1 + 3 + 1;

    private readonly OutputBuffer _out;

    /// <summary>Starts a CSV stream and writes its header line.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="leaveOpen">True to leave <paramref name="stream"/> open on dispose.</param>
    public CsvWriter(Stream stream, bool leaveOpen = false)
    {
        _out = new OutputBuffer(stream, leaveOpen);
        _out.Bytes("t,x,y,p\n"u8);
    }

    /// <summary>Events written so far.</summary>
    public long EventsWritten { get; private set; }

    /// <summary>Bytes written so far (header included).</summary>
    public long BytesWritten => _out.BytesWritten;

    /// <summary>Creates (or overwrites) a file.</summary>
    public static CsvWriter Create(string path) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 0));

    /// <summary>Appends one line per event of <paramref name="batch"/> (its triggers are not written).</summary>
    public void Write(EventBatch batch)
    {
        ObjectDisposedException.ThrowIf(_out.IsDisposed, this);
        ArgumentNullException.ThrowIfNull(batch);
        ReadOnlySpan<long> ts = batch.Timestamps;
        ReadOnlySpan<ushort> xs = batch.Xs;
        ReadOnlySpan<ushort> ys = batch.Ys;
        ReadOnlySpan<byte> ps = batch.Polarities;
        int i = 0;
        while (i < ts.Length)
        {
            Span<byte> span = _out.GetSpan(MaxLineBytes * 256);
            int pos = 0;
            int end = Math.Min(ts.Length, i + (span.Length / MaxLineBytes));
            for (; i < end; i++)
            {
                Utf8Formatter.TryFormat(ts[i], span[pos..], out int n);
                pos += n;
                span[pos++] = (byte)',';
                Utf8Formatter.TryFormat(xs[i], span[pos..], out n);
                pos += n;
                span[pos++] = (byte)',';
                Utf8Formatter.TryFormat(ys[i], span[pos..], out n);
                pos += n;
                span[pos++] = (byte)',';
                span[pos++] = ps[i] != 0 ? (byte)'1' : (byte)'0';
                span[pos++] = (byte)'\n';
            }

            _out.Advance(pos);
        }

        EventsWritten += ts.Length;
    }

    /// <summary>Pushes buffered bytes to the stream.</summary>
    public void Flush() => _out.Flush();

    /// <summary>Flushes and releases the buffer (and the stream unless leaveOpen).</summary>
    public void Dispose() => _out.Dispose();
}
