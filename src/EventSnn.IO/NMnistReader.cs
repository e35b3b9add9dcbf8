using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Streaming reader of N-MNIST / N-Caltech101 '.bin' files (Orchard et al., ATIS
/// saccades): headerless 5-byte records — byte 0 x, byte 1 y, byte 2 bit 7 polarity
/// (1 = ON), 23-bit timestamp (byte 2 bits 6..0, byte 3, byte 4, big-endian, us).
/// </summary>
/// <remarks>
/// <para>
/// A record with y == 240 is a timestamp overflow marker, not an event: it adds 2^13 us to
/// every later timestamp (the rule of the dataset's own Read_Ndataset.m and of Tonic's reader).
/// </para>
/// <para>
/// <b>Geometry.</b> N-MNIST is 34 x 34. N-Caltech101 samples are larger and vary. When the
/// source can seek and is at most 256 MiB, the reader scans it once at open: the geometry is
/// 34 x 34 when every event fits, else (max x + 1, max y + 1) of the file. Otherwise it starts
/// as 34 x 34 and grows to (max x seen + 1, max y seen + 1) as events exceed it.
/// </para>
/// <para>
/// A trailing partial record (1..4 bytes): tolerant mode keeps the complete events and warns;
/// strict mode throws <see cref="EventFormatException"/> with IsTruncation.
/// </para>
/// </remarks>
public sealed class NMnistReader : IDvsEventReader
{
    /// <summary>Bytes per record.</summary>
    public const int RecordBytes = 5;

    /// <summary>Timestamp increment of one overflow marker (us).</summary>
    public const long OverflowIncrement = 1 << 13;

    private const long PrescanLimit = 256L << 20;

    private readonly ByteInput _input;
    private readonly WarningList _warnings = new();
    private readonly ReaderOptions _options;
    private long _offset;
    private int _maxX;
    private int _maxY;
    private bool _ended;

    /// <summary>Opens a file.</summary>
    public NMnistReader(string path, ReaderOptions? options = null)
        : this(ReaderFiles.OpenRead(path), path, options, leaveOpen: false)
    {
    }

    /// <summary>Reads from a stream positioned at the first record.</summary>
    /// <param name="stream">The source.</param>
    /// <param name="sourceName">Name used in errors and warnings.</param>
    /// <param name="options">Reader options; null uses <see cref="ReaderOptions.Default"/>.</param>
    /// <param name="leaveOpen">True to keep <paramref name="stream"/> open on dispose.</param>
    public NMnistReader(Stream stream, string sourceName, ReaderOptions? options = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _options = options ?? ReaderOptions.Default;
        SourceName = sourceName ?? "<stream>";
        _maxX = SensorGeometry.NMnist.Width - 1;
        _maxY = SensorGeometry.NMnist.Height - 1;
        long start = stream.CanSeek ? stream.Position : 0;
        if (stream.CanSeek && stream.Length - start <= PrescanLimit)
        {
            try
            {
                Prescan(stream, start);
            }
            catch
            {
                if (!leaveOpen)
                {
                    stream.Dispose();
                }

                throw;
            }
        }

        _input = new ByteInput(stream, SourceName, _options.BufferBytes, ownsStream: !leaveOpen, startOffset: start);
    }

    /// <inheritdoc />
    public string SourceName { get; }

    /// <inheritdoc />
    public EventFormat Format => EventFormat.NMnist;

    /// <inheritdoc />
    public long Position => _input.Position;

    /// <inheritdoc />
    public IReadOnlyList<FormatWarning> Warnings => _warnings;

    /// <inheritdoc />
    public SensorGeometry Geometry => new(_maxX + 1, _maxY + 1);

    /// <summary>Overflow markers met so far.</summary>
    public long OverflowMarkers { get; private set; }

    /// <summary>Events returned so far.</summary>
    public long EventsRead { get; private set; }

    /// <inheritdoc />
    public bool Read(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        while (!_ended && !batch.IsFull)
        {
            if (!_input.Ensure(RecordBytes))
            {
                if (_input.Available > 0)
                {
                    if (_options.Strict)
                    {
                        if (batch.Count > 0)
                        {
                            return true;
                        }

                        throw new EventFormatException(SourceName, _input.Position, $"file ends inside a 5-byte record ({_input.Available} bytes left)", "record") { IsTruncation = true };
                    }

                    _warnings.Warn(_input.Position, $"file ends inside a 5-byte record: {_input.Available} trailing bytes ignored");
                    _input.Advance(_input.Available);
                }

                _ended = true;
                break;
            }

            ReadOnlySpan<byte> span = _input.Span;
            int consumed = Decode(span[..(span.Length - (span.Length % RecordBytes))], batch);
            _input.Advance(consumed);
        }

        return batch.Count > 0;
    }

    /// <summary>Closes the source (unless it was opened with leaveOpen).</summary>
    public void Dispose() => _input.Dispose();

    private int Decode(ReadOnlySpan<byte> data, EventBatch batch)
    {
        int count = data.Length / RecordBytes;
        ref byte src = ref MemoryMarshal.GetReference(data);
        long[] ts = batch.T;
        ushort[] xs = batch.X;
        ushort[] ys = batch.Y;
        byte[] ps = batch.P;
        int start = batch.Count;
        int n = start;
        int cap = batch.Capacity;
        long offset = _offset;
        int maxX = _maxX;
        int maxY = _maxY;
        int i = 0;
        for (; i < count && n < cap; i++)
        {
            ref byte rec = ref Unsafe.Add(ref src, i * RecordBytes);
            int y = Unsafe.Add(ref rec, 1);
            if (y == 240)
            {
                offset += OverflowIncrement;
                OverflowMarkers++;
                continue;
            }

            int x = rec;
            int b2 = Unsafe.Add(ref rec, 2);
            ts[n] = offset + (((b2 & 0x7F) << 16) | (Unsafe.Add(ref rec, 3) << 8) | Unsafe.Add(ref rec, 4));
            xs[n] = (ushort)x;
            ys[n] = (ushort)y;
            ps[n] = (byte)(b2 >> 7);
            maxX = Math.Max(maxX, x);
            maxY = Math.Max(maxY, y);
            n++;
        }

        _offset = offset;
        _maxX = maxX;
        _maxY = maxY;
        EventsRead += n - start;
        batch.SetCount(n);
        return i * RecordBytes;
    }

    private void Prescan(Stream stream, long start)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int maxX = _maxX;
            int maxY = _maxY;
            int carry = 0;
            while (true)
            {
                int n = stream.Read(buffer, carry, buffer.Length - carry);
                if (n <= 0)
                {
                    break;
                }

                int have = carry + n;
                int whole = have - (have % RecordBytes);
                for (int i = 0; i < whole; i += RecordBytes)
                {
                    int y = buffer[i + 1];
                    if (y != 240)
                    {
                        maxX = Math.Max(maxX, buffer[i]);
                        maxY = Math.Max(maxY, y);
                    }
                }

                carry = have - whole;
                Buffer.BlockCopy(buffer, whole, buffer, 0, carry);
            }

            _maxX = maxX;
            _maxY = maxY;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            stream.Seek(start, SeekOrigin.Begin);
        }
    }
}
