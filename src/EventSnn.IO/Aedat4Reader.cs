using System.Buffers.Binary;
using EventSnn.Events;
using EventSnn.IO.Aedat4;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Streaming reader of DV AEDAT 4.0 files and of the DV network protocol (the same
/// IOHeader and packets without the '#!AER-DAT4.0' line). Packets are (int32 streamId,
/// int32 size, payload); payloads are LZ4 frames, zstd frames or raw per the IOHeader and
/// hold size-prefixed FlatBuffers (EVTS, TRIG, IMUS, FRME). Events are decoded straight from
/// the pooled decompression buffer into the batch's arrays; a packet larger than the batch
/// is delivered over several reads. Triggers go to <see cref="EventBatch.Triggers"/>; frames
/// and IMU samples to <see cref="FrameReceived"/> / <see cref="ImuReceived"/> (frame packets
/// are skipped unread when nobody listens). Sequential reading stops at the FileDataTable,
/// which is loaded lazily for <see cref="SeekToTime"/>, <see cref="Duration"/> and
/// <see cref="TableEvents"/>.
/// </summary>
/// <remarks>
/// Tolerant mode (default): a file cut inside a packet yields every event of the complete
/// packets before the cut and records a warning; strict mode throws
/// <see cref="EventFormatException"/> with <see cref="EventFormatException.IsTruncation"/>.
/// A cut inside the file header or IOHeader throws in both modes (there is nothing to read).
/// Any other bad input throws <see cref="EventFormatException"/> naming the source and offset.
/// With <see cref="ReaderOptions.DecodeThreads"/> of 2 or more (files and other non-network
/// streams), a second thread reads packets ahead into a small ring of pooled buffers and the
/// two threads share their decompression while the calling thread decodes them: the same
/// events, warnings and errors in the same order, in constant memory.
/// </remarks>
public sealed partial class Aedat4Reader : IDvsEventReader
{
    private const int PacketHeaderBytes = 8;

    /// <summary>What <see cref="ReadPacketHeader"/> found.</summary>
    private enum PacketStep
    {
        /// <summary>A packet whose payload is to be decoded.</summary>
        Payload,

        /// <summary>A packet skipped unread.</summary>
        Skipped,

        /// <summary>The end of the packets at dataTablePosition (the table is checked next).</summary>
        TableReached,

        /// <summary>The end of the stream (or a cut).</summary>
        End,
    }

    private readonly ByteInput _input;
    private readonly ReaderOptions _options;
    private readonly WarningList _warnings = new();
    private readonly Aedat4PacketDecoder _decoder;
    private readonly bool _network;
    private readonly long _firstPacket;
    private long _stopAt;
    private bool _ended;
    private bool _tableChecked;
    private Aedat4FileTable? _table;
    private long _trimBefore = long.MinValue;
    private long _missingTable = -1;
    private readonly bool _threaded;
    private bool _disposed;

    /// <summary>Opens a reader on <paramref name="stream"/> and reads the file header and IOHeader.</summary>
    /// <param name="stream">The file or network stream.</param>
    /// <param name="sourceName">File path or peer (used in errors).</param>
    /// <param name="options">Reader options (null: defaults).</param>
    /// <param name="networkStream">True for the DV network protocol: no '#!AER-DAT4.0' line, no seeking.</param>
    /// <param name="leaveOpen">True to leave <paramref name="stream"/> open on dispose.</param>
    public Aedat4Reader(Stream stream, string sourceName, ReaderOptions? options = null, bool networkStream = false, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        SourceName = sourceName ?? "<stream>";
        _options = options ?? ReaderOptions.Default;
        _network = networkStream;
        _threaded = _options.DecodeThreads > 1 && !networkStream;
        _input = new ByteInput(stream, SourceName, Math.Max(64 * 1024, _options.BufferBytes), ownsStream: !leaveOpen);
        try
        {
            Header = ReadHeader();
            _firstPacket = _input.Position;
            _decoder = new Aedat4PacketDecoder(Header.Compression, SourceName, _options, Header.Streams);
            if (Header.InfoNodeProblem is not null)
            {
                _warnings.Warn(_firstPacket, Header.InfoNodeProblem);
            }

            _stopAt = ValidateDataTablePosition(Header.DataTablePosition);
        }
        catch (Exception ex) when (IsUnexpected(ex))
        {
            _input.Dispose();
            throw Wrap(ex, 0);
        }
        catch
        {
            _input.Dispose();
            throw;
        }
    }

    /// <summary>Opens an AEDAT 4.0 file.</summary>
    public static Aedat4Reader Open(string path, ReaderOptions? options = null)
    {
        options ??= ReaderOptions.Default;
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.SequentialScan);
        return new Aedat4Reader(fs, path, options);
    }

    /// <inheritdoc />
    public string SourceName { get; }

    /// <inheritdoc />
    public EventFormat Format => EventFormat.Aedat4;

    /// <inheritdoc />
    public long Position => _pipeline is not null ? _position : _input.Position;

    /// <inheritdoc />
    public IReadOnlyList<FormatWarning> Warnings => _warnings;

    /// <summary>The parsed IOHeader.</summary>
    public Aedat4IOHeader Header { get; }

    /// <summary>Packet compression.</summary>
    public Aedat4Compression Compression => Header.Compression;

    /// <summary>Streams declared by the IOHeader.</summary>
    public IReadOnlyList<Aedat4StreamInfo> Streams => Header.Streams;

    /// <inheritdoc />
    public SensorGeometry Geometry => Header.Geometry;

    /// <summary>IOHeader.dataTablePosition as stored (-1: no table).</summary>
    public long DataTablePosition => Header.DataTablePosition;

    /// <summary>Called for every frame (pixels valid only during the call). Null: frame packets are skipped unread.</summary>
    public Action<Aedat4Frame>? FrameReceived
    {
        get => _decoder.FrameReceived;
        set => _decoder.FrameReceived = value;
    }

    /// <summary>Called for every IMU sample.</summary>
    public Action<ImuSample>? ImuReceived
    {
        get => _decoder.ImuReceived;
        set => _decoder.ImuReceived = value;
    }

    /// <summary>Packets read so far, of all streams (the FileDataTable is not a packet).</summary>
    public long PacketsRead => _decoder.PacketsRead;

    /// <summary>"EVTS" packets read.</summary>
    public long EventPacketsRead => _decoder.EventPacketsRead;

    /// <summary>"TRIG" packets read.</summary>
    public long TriggerPacketsRead => _decoder.TriggerPacketsRead;

    /// <summary>"IMUS" packets read.</summary>
    public long ImuPacketsRead => _decoder.ImuPacketsRead;

    /// <summary>Frames read (or skipped unread).</summary>
    public long FramesRead => _decoder.FramesRead;

    /// <summary>IMU samples read.</summary>
    public long ImuSamplesRead => _decoder.ImuSamplesRead;

    /// <summary>Triggers read.</summary>
    public long TriggersRead => _decoder.TriggersDecoded;

    /// <summary>
    /// The FileDataTable, loaded on first use; null when the file has none, the stream
    /// cannot seek, or the table is damaged (then a warning says why).
    /// </summary>
    public Aedat4FileTable? FileTable
    {
        get
        {
            EnsureTable(restorePosition: true);
            return _table;
        }
    }

    /// <summary>Events in the file according to the FileDataTable (null without a table or when it has no counts).</summary>
    public long? TableEvents
    {
        get
        {
            Aedat4FileTable? table = FileTable;
            if (table is null)
            {
                return null;
            }

            long sum = 0;
            foreach (Aedat4TableEntry e in table.Entries)
            {
                if (IsEventStream(e.StreamId))
                {
                    sum += e.NumElements;
                }
            }

            return sum == 0 && table.Entries.Count > 0 ? null : sum;
        }
    }

    /// <summary>Time covered by the events according to the FileDataTable, in microseconds (null when unknown).</summary>
    public long? Duration
    {
        get
        {
            Aedat4FileTable? table = FileTable;
            if (table is null || !table.HasTimestamps)
            {
                return null;
            }

            long min = long.MaxValue, max = long.MinValue;
            foreach (Aedat4TableEntry e in table.Entries)
            {
                if (IsEventStream(e.StreamId) && e.NumElements > 0)
                {
                    min = Math.Min(min, e.TimestampStart);
                    max = Math.Max(max, e.TimestampEnd);
                }
            }

            return max >= min ? max - min : null;
        }
    }

    /// <inheritdoc />
    public bool Read(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed, this);
        batch.Clear();
        try
        {
            bool any = false;
            while (true)
            {
                if (_decoder.HasPending)
                {
                    any |= _decoder.Drain(batch) > 0;
                    any |= batch.Triggers.Count > 0;
                    if (_decoder.HasPending)
                    {
                        return true;
                    }

                    if (batch.IsFull || (_network && any))
                    {
                        return any;
                    }
                }

                if (_ended || !(_threaded ? NextPacketThreaded() : NextPacket()))
                {
                    _ended = true;
                    return any || batch.Count > 0 || batch.Triggers.Count > 0;
                }
            }
        }
        catch (Exception ex) when (IsUnexpected(ex))
        {
            throw Wrap(ex, Position);
        }
    }

    /// <summary>
    /// Positions the reader at the first "EVTS" packet whose last timestamp is at or after
    /// <paramref name="timestampUs"/>; the next <see cref="Read"/> starts with that packet's
    /// first event at or after the time. Uses the FileDataTable when it has timestamps,
    /// else scans the packets. Returns false (reader at the end) when no event is that late.
    /// </summary>
    public bool SeekToTime(long timestampUs)
    {
        if (!_input.CanSeek || _network)
        {
            throw new NotSupportedException($"{SourceName}: seeking needs a seekable file stream.");
        }

        StopPipeline();
        _pipelineError = null;
        try
        {
            _decoder.ClearPending();
            _ended = false;
            EnsureTable(restorePosition: false);
            if (_table is { HasTimestamps: true } && HasDeclaredEventStream())
            {
                foreach (Aedat4TableEntry e in _table.Entries)
                {
                    if (!IsEventStream(e.StreamId) || e.TimestampEnd < timestampUs || e.NumElements == 0)
                    {
                        continue;
                    }

                    long header = e.ByteOffset - PacketHeaderBytes;
                    if (header < _firstPacket || (_stopAt >= 0 && header >= _stopAt) || header >= _input.Length)
                    {
                        _warnings.Warn(e.ByteOffset, "FileDataTable entry points outside the packet area; scanning instead");
                        break;
                    }

                    _input.Seek(header);
                    _trimBefore = timestampUs;
                    return true;
                }

                if (!TableHasBadOffsets())
                {
                    _input.Seek(_stopAt >= 0 ? _stopAt : _input.Length ?? 0);
                    _ended = true;
                    return false;
                }
            }

            return ScanToTime(timestampUs);
        }
        catch (Exception ex) when (IsUnexpected(ex))
        {
            throw Wrap(ex, _input.Position);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _disposed = true;
        StopPipeline();
        DisposeSlots();
        _decoder?.Dispose();
        _input.Dispose();
    }

    private static bool IsUnexpected(Exception ex) =>
        ex is not EventFormatException and not ObjectDisposedException and not OperationCanceledException and not NotSupportedException
        && (ex is not IOException || ex is EndOfStreamException);

    private EventFormatException Wrap(Exception ex, long offset) =>
        new(SourceName, offset, $"decoder failure on malformed input ({ex.GetType().Name}: {ex.Message})", null, ex);

    private EventFormatException Truncation(long offset, string problem) =>
        new(SourceName, offset, problem) { IsTruncation = true };

    private Aedat4IOHeader ReadHeader()
    {
        if (!_network)
        {
            if (!_input.Ensure(Aedat4Names.FileMagicLength))
            {
                ReadOnlySpan<byte> have = _input.Span;
                if (Aedat4Names.Magic.StartsWith(have))
                {
                    throw Truncation(have.Length, "file ends inside the '#!AER-DAT4.0' line");
                }

                throw new EventFormatException(SourceName, 0, "not an AEDAT 4.0 file (no '#!AER-DAT4.0' line)", "magic");
            }

            if (!_input.Span[..Aedat4Names.FileMagicLength].SequenceEqual(Aedat4Names.Magic))
            {
                throw new EventFormatException(SourceName, 0, "not an AEDAT 4.0 file (no '#!AER-DAT4.0' line)", "magic");
            }

            _input.Advance(Aedat4Names.FileMagicLength);
        }

        long sizeAt = _input.Position;
        if (!_input.Ensure(4))
        {
            throw Truncation(sizeAt, "file ends before the IOHeader size");
        }

        uint size = BinaryPrimitives.ReadUInt32LittleEndian(_input.Span);
        if (size < 12 || size > (uint)_options.MaxHeaderBytes)
        {
            throw new EventFormatException(SourceName, sizeAt, $"IOHeader size {size} outside [12, {_options.MaxHeaderBytes}]", "IOHeader size");
        }

        long? remaining = _input.Remaining;
        if (remaining is long left && size > left - 4)
        {
            throw Truncation(sizeAt, $"IOHeader of {size} bytes runs past the end of the file ({left - 4} bytes left)");
        }

        if (!_input.Ensure(4 + (int)size))
        {
            throw Truncation(sizeAt, $"stream ends inside the {size}-byte IOHeader");
        }

        Aedat4IOHeader header = Aedat4IOHeader.Parse(_input.Span.Slice(4, (int)size), SourceName, sizeAt + 4);
        _input.Advance(4 + (int)size);
        return header;
    }

    private long ValidateDataTablePosition(long dtp)
    {
        if (dtp < 0)
        {
            return -1;
        }

        if (dtp < _firstPacket)
        {
            _warnings.Warn(_firstPacket, $"dataTablePosition {dtp} lies inside the header; ignoring it and reading to the end");
            return -1;
        }

        if (_input.Length is long length && dtp > length)
        {
            // the file was cut before its table: strict mode reports it once the packets are read
            _missingTable = dtp;
            if (!_options.Strict)
            {
                _warnings.Warn(length, $"dataTablePosition {dtp} is beyond the end of the file ({length} bytes): the file is cut; reading to the end");
            }

            return -1;
        }

        return dtp;
    }

    /// <summary>Reads one packet: header checks, then Load (or skip). False at the end.</summary>
    private bool NextPacket()
    {
        switch (ReadPacketHeader(_warnings, out int streamId, out int size, out long pos))
        {
            case PacketStep.TableReached:
                CheckTableAtEnd();
                return false;
            case PacketStep.End:
                return false;
            case PacketStep.Skipped:
                _decoder.CountSkipped(streamId);
                return true;
        }

        Aedat4StreamType type = _decoder.Load(streamId, _input.Span.Slice(PacketHeaderBytes, size), pos + PacketHeaderBytes);
        _input.Advance(PacketHeaderBytes + size);
        AfterLoad(type);
        return true;
    }

    private void AfterLoad(Aedat4StreamType type)
    {
        if (type == Aedat4StreamType.Events && _trimBefore != long.MinValue)
        {
            _decoder.SkipEventsBefore(_trimBefore);
            _trimBefore = long.MinValue;
        }
    }

    /// <summary>
    /// Header checks of the packet at the input position. Returns <see cref="PacketStep.Payload"/>
    /// with the whole packet (header and <paramref name="size"/> payload bytes) available in the
    /// input and not yet consumed; <see cref="PacketStep.Skipped"/> after skipping a packet nobody
    /// needs; <see cref="PacketStep.TableReached"/> or <see cref="PacketStep.End"/> at the end.
    /// Warnings go to <paramref name="warnings"/>.
    /// </summary>
    private PacketStep ReadPacketHeader(WarningList warnings, out int streamId, out int size, out long pos)
    {
        pos = _input.Position;
        streamId = 0;
        size = 0;
        if (_stopAt >= 0 && pos >= _stopAt)
        {
            if (pos > _stopAt)
            {
                warnings.Warn(pos, "packets run past dataTablePosition");
            }

            return PacketStep.TableReached;
        }

        if (!_input.Ensure(PacketHeaderBytes))
        {
            if (_input.Available == 0)
            {
                if (_stopAt >= 0 && pos < _stopAt)
                {
                    // stream ended before the announced table: the table part is missing
                    OnTruncated(warnings, pos, $"file ends at byte {pos}, before dataTablePosition {_stopAt}");
                }
                else if (_missingTable >= 0 && _options.Strict)
                {
                    throw Truncation(pos, $"file ends at byte {pos}, before dataTablePosition {_missingTable}");
                }

                return PacketStep.End;
            }

            OnTruncated(warnings, pos, $"file ends inside a packet header ({_input.Available} of 8 bytes)");
            _input.Skip(_input.Available);
            return PacketStep.End;
        }

        ReadOnlySpan<byte> head = _input.Span;
        streamId = BinaryPrimitives.ReadInt32LittleEndian(head);
        size = BinaryPrimitives.ReadInt32LittleEndian(head[4..]);
        if (size <= 0 || size > _options.MaxPacketBytes)
        {
            throw new EventFormatException(SourceName, pos + 4, $"packet size {size} outside [1, MaxPacketBytes = {_options.MaxPacketBytes}]", "size");
        }

        long end = pos + PacketHeaderBytes + size;
        if (_stopAt >= 0 && end > _stopAt)
        {
            if (_options.Strict)
            {
                throw new EventFormatException(SourceName, pos + 4, $"packet of {size} bytes runs past dataTablePosition {_stopAt}", "size");
            }

            warnings.Warn(pos, $"packet of {size} bytes runs past dataTablePosition {_stopAt}; ignoring the table position");
            _stopAt = -1;
        }

        if (_input.Remaining is long left && PacketHeaderBytes + (long)size > left)
        {
            OnTruncated(warnings, pos, $"file ends inside a packet: {size}-byte payload, {left - PacketHeaderBytes} bytes left");
            _input.Skip(left);
            return PacketStep.End;
        }

        if (!_decoder.NeedsPayload(streamId))
        {
            long skipped = _input.Skip(PacketHeaderBytes + (long)size);
            if (skipped < PacketHeaderBytes + (long)size)
            {
                OnTruncated(warnings, pos, $"stream ends inside a {size}-byte packet");
                return PacketStep.End;
            }

            return PacketStep.Skipped;
        }

        if (!_input.Ensure(PacketHeaderBytes + size))
        {
            OnTruncated(warnings, pos, $"stream ends inside a {size}-byte packet ({_input.Available - PacketHeaderBytes} payload bytes)");
            _input.Skip(_input.Available);
            return PacketStep.End;
        }

        return PacketStep.Payload;
    }

    private void OnTruncated(WarningList warnings, long offset, string problem)
    {
        if (_options.Strict)
        {
            throw Truncation(offset, problem);
        }

        warnings.Warn(offset, problem);
    }

    /// <summary>Sequential reading reached dataTablePosition: load the table once so a damaged one is reported.</summary>
    private void CheckTableAtEnd()
    {
        if (!_tableChecked && _input.CanSeek && !_network)
        {
            EnsureTable(restorePosition: true);
        }
    }

    private void EnsureTable(bool restorePosition)
    {
        if (_tableChecked)
        {
            return;
        }

        if (!_input.CanSeek || _network)
        {
            _tableChecked = true;
            return;
        }

        StopPipeline();
        _tableChecked = true;
        if (_stopAt < 0 || _input.Length is not long length)
        {
            return;
        }

        long saved = _input.Position;
        try
        {
            long bytes = length - _stopAt;
            if (bytes <= 0)
            {
                throw new EventFormatException(SourceName, _stopAt, "FileDataTable missing (file ends at dataTablePosition)", "FileDataTable") { IsTruncation = true };
            }

            if (bytes > _options.MaxPacketBytes)
            {
                _warnings.Warn(_stopAt, $"FileDataTable of {bytes} bytes exceeds MaxPacketBytes; ignoring it");
                return;
            }

            _input.Seek(_stopAt);
            if (!_input.Ensure((int)bytes))
            {
                throw new EventFormatException(SourceName, _stopAt, "stream ended inside the FileDataTable", "FileDataTable") { IsTruncation = true };
            }

            using var decompressor = new Aedat4Decompressor(Header.Compression, SourceName, _options.MaxPacketBytes);
            int n;
            try
            {
                n = decompressor.Decompress(_input.Span[..(int)bytes], _stopAt);
            }
            catch (EventFormatException ex) when (decompressor.LastErrorWasCut)
            {
                throw new EventFormatException(SourceName, ex.Offset, $"FileDataTable cut: {ex.Problem}", "FileDataTable", ex) { IsTruncation = true };
            }

            byte[] buf = decompressor.Buffer;
            if (n < 12)
            {
                throw new EventFormatException(SourceName, _stopAt, $"FileDataTable of {n} bytes is too short", "FileDataTable") { IsTruncation = true };
            }

            uint declared = BinaryPrimitives.ReadUInt32LittleEndian(buf);
            if (declared > (uint)(n - 4))
            {
                throw new EventFormatException(SourceName, _stopAt, $"FileDataTable size prefix {declared} exceeds its {n - 4} bytes", "FileDataTable") { IsTruncation = true };
            }

            _table = Aedat4FileTable.Parse(buf.AsSpan(4, (int)declared), SourceName, _stopAt);
        }
        catch (EventFormatException ex)
        {
            _table = null;
            if (_options.Strict)
            {
                throw new EventFormatException(SourceName, Math.Min(ex.Offset, length), $"FileDataTable damaged: {ex.Problem}", "FileDataTable", ex) { IsTruncation = ex.IsTruncation };
            }

            _warnings.Warn(_stopAt, $"FileDataTable damaged, ignored ({ex.Problem})");
        }
        finally
        {
            if (restorePosition)
            {
                _input.Seek(saved);
            }
        }
    }

    private bool HasDeclaredEventStream()
    {
        foreach (Aedat4StreamInfo s in Header.Streams)
        {
            if (s.Type == Aedat4StreamType.Events)
            {
                return true;
            }
        }

        return false;
    }

    private bool IsEventStream(int streamId) =>
        _decoder.StreamType(streamId) == Aedat4StreamType.Events
        || (Header.Streams.Count == 0 && streamId == 0);

    private bool TableHasBadOffsets()
    {
        if (_table is null)
        {
            return true;
        }

        foreach (Aedat4TableEntry e in _table.Entries)
        {
            long header = e.ByteOffset - PacketHeaderBytes;
            if (header < _firstPacket || (_stopAt >= 0 && header >= _stopAt))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Linear scan from the first packet for the first EVTS packet holding an event at or after <paramref name="t"/>.</summary>
    private bool ScanToTime(long t)
    {
        _input.Seek(_firstPacket);
        _ended = false;
        while (true)
        {
            if (!NextPacketForScan())
            {
                _ended = true;
                return false;
            }

            if (_decoder.PendingEvents > 0 && _decoder.MaxPendingTimestamp() >= t)
            {
                _decoder.SkipEventsBefore(t);
                return true;
            }

            _decoder.ClearPending();
        }
    }

    private bool NextPacketForScan()
    {
        Action<Aedat4Frame>? frames = _decoder.FrameReceived;
        Action<ImuSample>? imu = _decoder.ImuReceived;
        _decoder.FrameReceived = null;
        _decoder.ImuReceived = null;
        try
        {
            return NextPacket();
        }
        finally
        {
            _decoder.FrameReceived = frames;
            _decoder.ImuReceived = imu;
        }
    }
}
