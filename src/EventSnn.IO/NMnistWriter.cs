using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Writes N-MNIST / N-Caltech101 '.bin' files (5-byte records, see <see cref="NMnistReader"/>),
/// inserting overflow markers (x 0, y 240) where a timestamp needs more than 23 bits.
/// </summary>
/// <remarks>
/// Each marker adds 2^13 us to all later timestamps, so markers are written lazily: before
/// an event whose time minus the markers so far reaches 2^23, as many as it takes. Timestamps
/// must be non-negative and never fall below the offset already covered by markers.
/// Coordinates must fit a byte, and y = 240 is reserved for markers. Triggers cannot be
/// stored and are ignored (counted in <see cref="TriggersIgnored"/>).
/// </remarks>
public sealed class NMnistWriter : IEventWriter
{
    /// <summary>Timestamps below this (2^23 us) are stored without overflow markers.</summary>
    internal const long TimestampLimit = 1 << 23;

    private readonly OutputBuffer _out;
    private long _offset;

    /// <summary>Creates (or overwrites) a file.</summary>
    public NMnistWriter(string path)
        : this(ReaderFiles.Create(path), leaveOpen: false)
    {
    }

    /// <summary>Writes to a stream.</summary>
    public NMnistWriter(Stream stream, bool leaveOpen = false)
    {
        _out = new OutputBuffer(stream, leaveOpen);
    }

    /// <summary>Events written so far.</summary>
    public long EventsWritten { get; private set; }

    /// <summary>Overflow markers written so far.</summary>
    public long OverflowMarkers { get; private set; }

    /// <summary>Triggers passed in and not written (the format has none).</summary>
    public long TriggersIgnored { get; private set; }

    /// <summary>Writes the events of a batch (its triggers are ignored).</summary>
    public void Write(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        TriggersIgnored += batch.Triggers.Count;
        int n = batch.Count;
        WriteEvents(batch.T.AsSpan(0, n), batch.X.AsSpan(0, n), batch.Y.AsSpan(0, n), batch.P.AsSpan(0, n));
    }

    /// <summary>Writes events given as struct-of-arrays spans of equal length.</summary>
    public void WriteEvents(ReadOnlySpan<long> t, ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, ReadOnlySpan<byte> p)
    {
        int n = t.Length;
        if (x.Length != n || y.Length != n || p.Length != n)
        {
            throw new ArgumentException("Spans must have equal lengths.", nameof(t));
        }

        Validate(t, x, y);
        for (int i = 0; i < n; i++)
        {
            long ti = t[i];
            while (ti - _offset >= TimestampLimit)
            {
                Put(0, 240, 0, 0, 0);
                _offset += NMnistReader.OverflowIncrement;
                OverflowMarkers++;
            }

            long rel = ti - _offset;
            Put((byte)x[i], (byte)y[i], (byte)((p[i] != 0 ? 0x80 : 0) | (int)(rel >> 16)), (byte)(rel >> 8), (byte)rel);
        }

        EventsWritten += n;
    }

    /// <summary>Writes buffered records and flushes the stream.</summary>
    public void Flush() => _out.Flush();

    /// <summary>Flushes and closes the destination (unless leaveOpen).</summary>
    public void Dispose() => _out.Dispose();

    /// <summary>Checks a whole span before anything of it is written (a bad batch writes nothing).</summary>
    private void Validate(ReadOnlySpan<long> t, ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y)
    {
        long offset = _offset; // the markers written so far, as the loop below will add them
        for (int i = 0; i < t.Length; i++)
        {
            if (x[i] > 255 || y[i] > 255 || y[i] == 240)
            {
                throw new FormatLimitException(EventFormat.NMnist, $"N-MNIST: event {i} at ({x[i]}, {y[i]}) cannot be stored: x and y must be below 256 and y must not be 240 (the overflow marker).");
            }

            if (t[i] < offset)
            {
                throw new FormatLimitException(EventFormat.NMnist, $"N-MNIST: event {i} at {t[i]} us lies before the {offset} us already covered by overflow markers (timestamps must be non-negative and may not fall back that far).");
            }

            if (t[i] - offset >= TimestampLimit)
            {
                offset += ((t[i] - offset - TimestampLimit) / NMnistReader.OverflowIncrement + 1) * NMnistReader.OverflowIncrement;
            }
        }
    }

    private void Put(byte b0, byte b1, byte b2, byte b3, byte b4)
    {
        Span<byte> record = _out.GetSpan(NMnistReader.RecordBytes);
        record[4] = b4;
        record[3] = b3;
        record[2] = b2;
        record[1] = b1;
        record[0] = b0;
        _out.Advance(NMnistReader.RecordBytes);
    }
}
