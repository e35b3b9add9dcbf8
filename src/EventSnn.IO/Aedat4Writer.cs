using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EventSnn.Events;
using EventSnn.IO.Aedat4;
using Google.FlatBuffers;

namespace EventSnn.IO;

/// <summary>
/// Writes DV AEDAT 4.0 files: '#!AER-DAT4.0\r\n', the size-prefixed IOHeader (all fields
/// present, dataTablePosition = -1, infoNode XML as DV writes it), then (streamId, size,
/// payload) packets compressed per the options. On <see cref="Dispose"/> pending packets
/// are written, the FileDataTable is appended (ByteOffset = payload position after the
/// 8-byte packet header) and dataTablePosition is rewritten in place — seekable streams
/// only; otherwise the table is skipped. A writer abandoned before closing leaves a file
/// that still reads (dataTablePosition = -1).
/// </summary>
public sealed class Aedat4Writer : IEventWriter
{
    private const int EventBytes = 16;
    private const int EventHeaderBytes = 32;

    /// <summary>Largest EventsPerPacket accepted (16 MiB payloads, well inside the readers' default MaxPacketBytes).</summary>
    public const int MaxEventsPerPacket = 1 << 20;

    private readonly Stream _stream;
    private readonly Aedat4WriterOptions _options;
    private readonly Aedat4Compressor _compressor;
    private readonly long _base;
    private readonly int _dataTableField;
    private readonly List<Aedat4TableEntry> _table = [];
    private readonly List<TriggerEvent> _triggers = [];
    private readonly int _eventsPerPacket;
    private readonly byte[] _packetHeader = new byte[8];
    private FlatBufferBuilder? _builder;
    private byte[] _events;
    private int _eventCount;
    private long _eventMin = long.MaxValue;
    private long _eventMax = long.MinValue;
    private long _written;
    private bool _disposed;

    /// <summary>Starts a file on <paramref name="stream"/> (writes the magic line and IOHeader).</summary>
    public Aedat4Writer(Stream stream, Aedat4WriterOptions options)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        if (!stream.CanWrite)
        {
            throw new ArgumentException("The stream must be writable.", nameof(stream));
        }

        if (options.Compression is < Aedat4Compression.None or > Aedat4Compression.ZstdHigh)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"Unknown compression {options.Compression}.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.EventsPerPacket, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.EventsPerPacket, MaxEventsPerPacket, nameof(options));
        _stream = stream;
        _options = options;
        _eventsPerPacket = options.EventsPerPacket;
        _compressor = new Aedat4Compressor(options.Compression);
        _events = ArrayPool<byte>.Shared.Rent(EventHeaderBytes + (EventBytes * _eventsPerPacket));
        Streams = options.DeclaredStreams();
        _base = stream.CanSeek ? stream.Position : 0;

        var header = new Aedat4IOHeader
        {
            Compression = options.Compression,
            DataTablePosition = -1,
            InfoNode = Aedat4InfoXml.Build(Streams, options.Compression, options.ModuleName),
            Streams = Streams,
        };
        byte[] headerBytes = header.ToSizePrefixedFlatBuffer(out int field);
        _dataTableField = Aedat4Names.FileMagicLength + field;
        Write(Aedat4Names.Magic);
        Write(headerBytes);
    }

    /// <summary>Creates (overwrites) the file at <paramref name="path"/>.</summary>
    public static Aedat4Writer Create(string path, Aedat4WriterOptions options)
    {
        var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        try
        {
            return new Aedat4Writer(fs, options with { LeaveOpen = false });
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    /// <summary>The declared streams.</summary>
    public IReadOnlyList<Aedat4StreamInfo> Streams { get; }

    /// <summary>Bytes written so far (from the start of the file).</summary>
    public long BytesWritten => _written;

    /// <summary>Packets written so far.</summary>
    public long PacketsWritten => _table.Count;

    /// <summary>Events written so far (including those buffered for the next packet).</summary>
    public long EventsWritten { get; private set; }

    /// <summary>Triggers written so far (including buffered ones).</summary>
    public long TriggersWritten { get; private set; }

    /// <summary>The FileDataTable entries of the packets written so far.</summary>
    public IReadOnlyList<Aedat4TableEntry> TableEntries => _table;

    /// <summary>Byte offset of dataTablePosition's int64 within the file (for layout checks).</summary>
    public long DataTablePositionFieldOffset => _dataTableField;

    /// <summary>Writes the events (and, when the trigger stream is declared, the triggers) of <paramref name="batch"/>.</summary>
    public void WriteEvents(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        WriteEvents(batch.Timestamps, batch.Xs, batch.Ys, batch.Polarities);
        if (_options.Triggers && batch.Triggers.Count > 0)
        {
            WriteTriggers(batch.Triggers.Items);
        }
    }

    /// <inheritdoc cref="WriteEvents(EventBatch)" />
    public void Write(EventBatch batch) => WriteEvents(batch);

    /// <summary>Writes events given as parallel spans (polarity: nonzero = ON).</summary>
    public void WriteEvents(ReadOnlySpan<long> t, ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, ReadOnlySpan<byte> p)
    {
        ThrowIfDisposed();
        int n = t.Length;
        if (x.Length != n || y.Length != n || p.Length != n)
        {
            throw new ArgumentException("Event spans differ in length.", nameof(x));
        }

        // int16 address fields: check the whole span before any of it is packed
        int wide = x.IndexOfAnyInRange((ushort)0x8000, ushort.MaxValue);
        if (wide < 0)
        {
            wide = y.IndexOfAnyInRange((ushort)0x8000, ushort.MaxValue);
        }

        if (wide >= 0)
        {
            throw new FormatLimitException(EventFormat.Aedat4, $"AEDAT 4.0: event {wide} at ({x[wide]}, {y[wide]}) does not fit the int16 address fields (x, y <= 32767).");
        }

        int done = 0;
        while (done < n)
        {
            int take = Math.Min(n - done, _eventsPerPacket - _eventCount);
            EncodeEvents(t.Slice(done, take), x.Slice(done, take), y.Slice(done, take), p.Slice(done, take));
            done += take;
            if (_eventCount == _eventsPerPacket)
            {
                FlushEvents();
            }
        }

        EventsWritten += n;
    }

    /// <summary>Writes one event.</summary>
    public void WriteEvent(in DvsEvent e)
    {
        long t = e.T;
        ushort x = e.X, y = e.Y;
        byte p = e.On ? (byte)1 : (byte)0;
        WriteEvents(new ReadOnlySpan<long>(in t), new ReadOnlySpan<ushort>(in x), new ReadOnlySpan<ushort>(in y), new ReadOnlySpan<byte>(in p));
    }

    /// <summary>Writes triggers (needs <see cref="Aedat4WriterOptions.Triggers"/>). They are packed into "TRIG" packets.</summary>
    public void WriteTriggers(ReadOnlySpan<TriggerEvent> triggers)
    {
        ThrowIfDisposed();
        if (!_options.Triggers)
        {
            throw new InvalidOperationException("The trigger stream was not declared (Aedat4WriterOptions.Triggers).");
        }

        foreach (TriggerEvent tr in triggers)
        {
            _triggers.Add(tr);
            if (_triggers.Count >= _eventsPerPacket)
            {
                FlushTriggers();
            }
        }

        TriggersWritten += triggers.Length;
    }

    /// <summary>Writes one frame as a "FRME" packet (needs <see cref="Aedat4WriterOptions.Frames"/>).</summary>
    public void WriteFrame(in Aedat4Frame frame)
    {
        ThrowIfDisposed();
        if (!_options.Frames)
        {
            throw new InvalidOperationException("The frame stream was not declared (Aedat4WriterOptions.Frames).");
        }

        FlatBufferBuilder b = Builder(frame.Pixels.Length + 256);
        VectorOffset pixels;
        b.StartVector(1, frame.Pixels.Length, 1);
        if (frame.Pixels.Length > 0)
        {
            ArraySegment<byte> segment = MemoryMarshal.TryGetArray(frame.Pixels, out ArraySegment<byte> s) ? s : new ArraySegment<byte>(frame.Pixels.ToArray());
            b.Add(segment);
        }

        pixels = b.EndVector();
        b.StartTable(13);
        b.AddLong(0, frame.T, 0);
        b.AddLong(1, frame.StartOfFrame, 0);
        b.AddLong(2, frame.EndOfFrame, 0);
        b.AddLong(3, frame.StartOfExposure, 0);
        b.AddLong(4, frame.EndOfExposure, 0);
        b.AddLong(11, frame.Exposure, 0);
        b.AddOffset(10, pixels.Value, 0);
        b.AddShort(6, frame.Width, 0);
        b.AddShort(7, frame.Height, 0);
        b.AddShort(8, frame.PositionX, 0);
        b.AddShort(9, frame.PositionY, 0);
        b.AddSbyte(5, unchecked((sbyte)frame.Format), 0);
        b.AddSbyte(12, frame.Source, 0);
        int root = b.EndTable();
        b.FinishSizePrefixed(root, "FRME");
        WriteBuilt(Aedat4WriterOptions.FrameStreamId, b, 1, frame.T, frame.T);
    }

    /// <summary>Writes IMU samples as one "IMUS" packet (needs <see cref="Aedat4WriterOptions.Imu"/>).</summary>
    public void WriteImu(ReadOnlySpan<ImuSample> samples)
    {
        ThrowIfDisposed();
        if (!_options.Imu)
        {
            throw new InvalidOperationException("The IMU stream was not declared (Aedat4WriterOptions.Imu).");
        }

        if (samples.IsEmpty)
        {
            return;
        }

        FlatBufferBuilder b = Builder(64 + (samples.Length * 64));
        int[] offsets = ArrayPool<int>.Shared.Rent(samples.Length);
        long min = long.MaxValue, max = long.MinValue;
        try
        {
            for (int i = 0; i < samples.Length; i++)
            {
                ImuSample s = samples[i];
                min = Math.Min(min, s.T);
                max = Math.Max(max, s.T);
                b.StartTable(11);
                b.AddLong(0, s.T, 0);
                b.AddFloat(1, s.Temperature, 0);
                b.AddFloat(2, s.AccelX, 0);
                b.AddFloat(3, s.AccelY, 0);
                b.AddFloat(4, s.AccelZ, 0);
                b.AddFloat(5, s.GyroX, 0);
                b.AddFloat(6, s.GyroY, 0);
                b.AddFloat(7, s.GyroZ, 0);
                b.AddFloat(8, s.MagX, 0);
                b.AddFloat(9, s.MagY, 0);
                b.AddFloat(10, s.MagZ, 0);
                offsets[i] = b.EndTable();
            }

            FinishVectorPacket(b, offsets, samples.Length, "IMUS");
        }
        finally
        {
            ArrayPool<int>.Shared.Return(offsets);
        }

        WriteBuilt(Aedat4WriterOptions.ImuStreamId, b, samples.Length, min, max);
    }

    /// <summary>Writes the buffered events and triggers as packets and flushes the stream.</summary>
    public void Flush()
    {
        ThrowIfDisposed();
        FlushEvents();
        FlushTriggers();
        _stream.Flush();
    }

    /// <summary>Same as <see cref="Dispose"/>.</summary>
    public void Close() => Dispose();

    /// <summary>
    /// Writes pending packets, appends the FileDataTable and rewrites dataTablePosition
    /// (seekable streams), flushes, and closes the stream unless LeaveOpen.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            FlushEvents();
            FlushTriggers();
            if (_options.WriteTable && _stream.CanSeek)
            {
                WriteTable();
            }

            _stream.Flush();
        }
        finally
        {
            _disposed = true;
            _compressor.Dispose();
            ArrayPool<byte>.Shared.Return(_events);
            _events = [];
            if (!_options.LeaveOpen)
            {
                _stream.Dispose();
            }
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private FlatBufferBuilder Builder(int size)
    {
        if (_builder is null)
        {
            _builder = new FlatBufferBuilder(Math.Max(1024, size)) { ForceDefaults = true };
        }
        else
        {
            _builder.Clear();
        }

        return _builder;
    }

    private static void FinishVectorPacket(FlatBufferBuilder b, int[] offsets, int count, string identifier)
    {
        b.StartVector(4, count, 4);
        for (int i = count - 1; i >= 0; i--)
        {
            b.AddOffset(offsets[i]);
        }

        VectorOffset vector = b.EndVector();
        b.StartTable(1);
        b.AddOffset(0, vector.Value, 0);
        int root = b.EndTable();
        b.FinishSizePrefixed(root, identifier);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EncodeEvents(ReadOnlySpan<long> t, ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, ReadOnlySpan<byte> p)
    {
        Span<byte> dst = _events.AsSpan(EventHeaderBytes + (_eventCount * EventBytes), t.Length * EventBytes);
        long min = _eventMin, max = _eventMax;
        for (int i = 0; i < t.Length; i++)
        {
            Span<byte> e = dst.Slice(i * EventBytes, EventBytes);
            long ti = t[i];
            BinaryPrimitives.WriteInt64LittleEndian(e, ti);
            BinaryPrimitives.WriteUInt16LittleEndian(e[8..], x[i]);
            BinaryPrimitives.WriteUInt16LittleEndian(e[10..], y[i]);
            BinaryPrimitives.WriteUInt32LittleEndian(e[12..], p[i] != 0 ? 1u : 0u);
            if (ti < min)
            {
                min = ti;
            }

            if (ti > max)
            {
                max = ti;
            }
        }

        _eventMin = min;
        _eventMax = max;
        _eventCount += t.Length;
    }

    /// <summary>Writes the buffered events as one "EVTS" packet laid out as DV lays it out.</summary>
    private void FlushEvents()
    {
        int n = _eventCount;
        if (n == 0)
        {
            return;
        }

        Span<byte> h = _events.AsSpan(0, EventHeaderBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)(EventHeaderBytes - 4 + (n * EventBytes))); // size prefix
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], 16); // root: table at FlatBuffer offset 16
        Aedat4Names.IdEvents.CopyTo(h[8..]);
        BinaryPrimitives.WriteUInt16LittleEndian(h[12..], 0); // padding
        BinaryPrimitives.WriteUInt16LittleEndian(h[14..], 6); // vtable: 6 bytes
        BinaryPrimitives.WriteUInt16LittleEndian(h[16..], 8); // table: 8 bytes
        BinaryPrimitives.WriteUInt16LittleEndian(h[18..], 4); // field 0 (elements) at +4
        BinaryPrimitives.WriteInt32LittleEndian(h[20..], 6); // table -> vtable
        BinaryPrimitives.WriteUInt32LittleEndian(h[24..], 4); // elements vector 4 bytes further
        BinaryPrimitives.WriteUInt32LittleEndian(h[28..], (uint)n); // vector length; events follow at 32 (8-aligned)
        WritePacket(Aedat4WriterOptions.EventStreamId, _events, EventHeaderBytes + (n * EventBytes), n, _eventMin, _eventMax);
        _eventCount = 0;
        _eventMin = long.MaxValue;
        _eventMax = long.MinValue;
        FlushTriggers();
    }

    private void FlushTriggers()
    {
        if (_triggers.Count == 0)
        {
            return;
        }

        FlatBufferBuilder b = Builder(64 + (_triggers.Count * 32));
        int count = _triggers.Count;
        int[] offsets = ArrayPool<int>.Shared.Rent(count);
        long min = long.MaxValue, max = long.MinValue;
        try
        {
            for (int i = 0; i < count; i++)
            {
                TriggerEvent tr = _triggers[i];
                min = Math.Min(min, tr.T);
                max = Math.Max(max, tr.T);
                b.StartTable(2);
                b.AddLong(0, tr.T, 0);
                b.AddSbyte(1, Aedat4Names.CodeOf(tr), 0);
                offsets[i] = b.EndTable();
            }

            FinishVectorPacket(b, offsets, count, "TRIG");
        }
        finally
        {
            ArrayPool<int>.Shared.Return(offsets);
        }

        _triggers.Clear();
        WriteBuilt(Aedat4WriterOptions.TriggerStreamId, b, count, min, max);
    }

    private void WriteBuilt(int streamId, FlatBufferBuilder b, long elements, long tStart, long tEnd)
    {
        ByteBuffer bb = b.DataBuffer;
        ArraySegment<byte> built = bb.ToArraySegment(bb.Position, bb.Length - bb.Position);
        if (built.Offset == 0)
        {
            WritePacket(streamId, built.Array!, built.Count, elements, tStart, tEnd);
            return;
        }

        byte[] tmp = ArrayPool<byte>.Shared.Rent(built.Count);
        try
        {
            built.AsSpan().CopyTo(tmp);
            WritePacket(streamId, tmp, built.Count, elements, tStart, tEnd);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(tmp);
        }
    }

    private void WritePacket(int streamId, byte[] payload, int length, long elements, long tStart, long tEnd)
    {
        ReadOnlySpan<byte> data = _compressor.Compress(payload, length);
        BinaryPrimitives.WriteInt32LittleEndian(_packetHeader, streamId);
        BinaryPrimitives.WriteInt32LittleEndian(_packetHeader.AsSpan(4), data.Length);
        Write(_packetHeader);
        _table.Add(new Aedat4TableEntry(_written, streamId, data.Length, elements, tStart, tEnd));
        Write(data);
    }

    private void WriteTable()
    {
        byte[] table = Aedat4FileTable.Build(_table);
        ReadOnlySpan<byte> data = _compressor.Compress(table, table.Length);
        long position = _written;
        Write(data);
        long end = _stream.Position;
        Span<byte> value = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(value, position);
        _stream.Seek(_base + _dataTableField, SeekOrigin.Begin);
        _stream.Write(value);
        _stream.Seek(end, SeekOrigin.Begin);
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        _stream.Write(bytes);
        _written += bytes.Length;
    }
}
