using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Writes DVS events as a NumPy <c>.npy</c> file (format version 1.0) holding one structured
/// array with the dtype Tonic uses, <c>[('t', '&lt;i8'), ('x', '&lt;i2'), ('y', '&lt;i2'), ('p', '&lt;i1')]</c>:
/// 13 packed little-endian bytes per event, t in microseconds, p 1 for ON and 0 for OFF.
/// <c>numpy.load</c> reads it as it is; <c>events["t"]</c> etc. give the columns.
/// </summary>
/// <remarks>
/// The header has a fixed size (<see cref="HeaderBytes"/>, room for any 64-bit count) so that the
/// writer streams: the count is either given up front (and checked on <see cref="Dispose"/>) or,
/// on a seekable stream, written into the header when the writer is disposed. Records are encoded
/// batch by batch into a pooled buffer: constant memory, nothing allocated per event. x and y must
/// fit int16 (0..32767); triggers have no place in the layout and are not written.
/// </remarks>
public sealed class NpyWriter : IEventWriter
{
    /// <summary>Bytes of one record (8 + 2 + 2 + 1).</summary>
    public const int RecordBytes = 13;

    /// <summary>The numpy dtype description written to the header.</summary>
    public const string Descr = "[('t', '<i8'), ('x', '<i2'), ('y', '<i2'), ('p', '<i1')]";

    /// <summary>Bytes of the magic, version, header length and header (a multiple of 64, as numpy aligns it).</summary>
    public const int HeaderBytes = 192;

    private const int MaxAddress = short.MaxValue;

    /// <summary>0x93 then "NUMPY" (a UTF-8 literal would encode 0x93 as two bytes).</summary>
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private readonly OutputBuffer _out;
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly long _declared;
    private readonly long _start;
    private bool _disposed;

    /// <summary>Starts an NPY stream and writes its header.</summary>
    /// <param name="stream">Destination; must be seekable unless <paramref name="eventCount"/> is given.</param>
    /// <param name="eventCount">The number of events that will be written, or null to patch it into the header on dispose.</param>
    /// <param name="leaveOpen">True to leave <paramref name="stream"/> open on dispose.</param>
    public NpyWriter(Stream stream, long? eventCount = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (eventCount is null && !stream.CanSeek)
        {
            throw new ArgumentException("an NPY header states the event count: give it up front or write to a seekable stream", nameof(stream));
        }

        if (eventCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(eventCount), eventCount, "must not be negative");
        }

        _stream = stream;
        _leaveOpen = leaveOpen;
        _declared = eventCount ?? -1;
        _start = stream.CanSeek ? stream.Position : 0;
        _out = new OutputBuffer(stream, leaveOpen: true);
        _out.Bytes(BuildHeader(eventCount ?? 0));
    }

    /// <summary>Events written so far.</summary>
    public long EventsWritten { get; private set; }

    /// <summary>Creates (or overwrites) a file.</summary>
    public static NpyWriter Create(string path) =>
        new(new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 0));

    /// <summary>The header of a file of <paramref name="count"/> events: magic, version 1.0, length, the dict padded with spaces, LF.</summary>
    public static byte[] BuildHeader(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        string dict = string.Create(CultureInfo.InvariantCulture, $"{{'descr': {Descr}, 'fortran_order': False, 'shape': ({count},), }}");
        byte[] header = new byte[HeaderBytes];
        Magic.CopyTo(header);
        header[6] = 1;
        header[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), HeaderBytes - 10);
        header.AsSpan(10).Fill((byte)' ');
        Encoding.ASCII.GetBytes(dict, header.AsSpan(10));
        header[^1] = (byte)'\n';
        return header;
    }

    /// <summary>Appends the events of <paramref name="batch"/> (its triggers are not written).</summary>
    /// <exception cref="FormatLimitException">An address does not fit int16, or more events than declared.</exception>
    public void Write(EventBatch batch)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(batch);
        ReadOnlySpan<long> ts = batch.Timestamps;
        ReadOnlySpan<ushort> xs = batch.Xs;
        ReadOnlySpan<ushort> ys = batch.Ys;
        ReadOnlySpan<byte> ps = batch.Polarities;
        for (int k = 0; k < xs.Length; k++)
        {
            if (xs[k] > MaxAddress || ys[k] > MaxAddress)
            {
                throw new FormatLimitException(EventFormat.Npy, $"NPY: event {k} at ({xs[k]}, {ys[k]}) does not fit the int16 x and y fields.");
            }
        }

        if (_declared >= 0 && EventsWritten + ts.Length > _declared)
        {
            throw new InvalidOperationException($"NPY: {EventsWritten + ts.Length} events written, {_declared} declared in the header");
        }

        int i = 0;
        while (i < ts.Length)
        {
            Span<byte> span = _out.GetSpan(RecordBytes * 1024);
            int end = Math.Min(ts.Length, i + (span.Length / RecordBytes));
            int pos = 0;
            for (; i < end; i++, pos += RecordBytes)
            {
                Span<byte> r = span.Slice(pos, RecordBytes);
                BinaryPrimitives.WriteInt64LittleEndian(r, ts[i]);
                BinaryPrimitives.WriteUInt16LittleEndian(r[8..], xs[i]);
                BinaryPrimitives.WriteUInt16LittleEndian(r[10..], ys[i]);
                r[12] = ps[i] != 0 ? (byte)1 : (byte)0;
            }

            _out.Advance(pos);
        }

        EventsWritten += ts.Length;
    }

    /// <summary>Pushes buffered bytes to the stream.</summary>
    public void Flush() => _out.Flush();

    /// <summary>
    /// Writes the buffered records, then the final count into the header (seekable stream) or
    /// checks it against the declared one; releases the stream unless leaveOpen.
    /// </summary>
    /// <exception cref="InvalidOperationException">Fewer events were written than declared.</exception>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _out.Dispose();
            if (_declared >= 0)
            {
                if (EventsWritten != _declared)
                {
                    throw new InvalidOperationException($"NPY: {EventsWritten} events written, {_declared} declared in the header");
                }
            }
            else
            {
                long end = _stream.Position;
                _stream.Position = _start;
                _stream.Write(BuildHeader(EventsWritten));
                _stream.Position = end;
                _stream.Flush();
            }
        }
        finally
        {
            if (!_leaveOpen)
            {
                _stream.Dispose();
            }
        }
    }
}
