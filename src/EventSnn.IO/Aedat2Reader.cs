using System.Buffers.Binary;
using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Streaming reader of jAER AEDAT 1.0 and 2.0 files: an ASCII header of '#' lines, then
/// big-endian (address, int32 timestamp) records — int16 addresses (6 bytes) for 1.0,
/// int32 addresses (8 bytes) for 2.0.
/// </summary>
/// <remarks>
/// <para>
/// <b>Header.</b> Lines start with '#' and end in LF or CRLF. The header ends after a line
/// reading '#End Of ASCII Header' (any case, spaces allowed after '#') or at the first byte
/// that is not '#'; it is bounded by <see cref="ReaderOptions.MaxHeaderBytes"/>. The
/// '#!AER-DAT&lt;version&gt;' line selects the record size; a file without it is read as
/// AEDAT 1.0 (int16 addresses), as jAER's <c>AEFileInputStream</c> does. Like jAER, a file
/// without the end line whose first record starts with the byte 0x23 ('#') has that record
/// read as a header line.
/// </para>
/// <para>
/// <b>Address layout and sensor size.</b> Taken from <see cref="ReaderOptions.Aedat2Chip"/>
/// when set, else from the '# AEChip: &lt;java class&gt;' line (see
/// <see cref="JaerAddress.TryParseChip"/>). Without either (files written by
/// PyAedatTools' <c>saveaerdat.m</c>, for example) the layout is inferred from the first
/// records: DVS128 addresses use only bits 0..15 (plus bit 31 for special events), so any
/// address with one of bits 16..30 set means DAVIS; AEDAT 1.0 (16-bit addresses) is always
/// DVS128. An inferred DAVIS has an unknown sensor size (<see cref="Geometry"/> is
/// <see cref="SensorGeometry.Unknown"/>), so its events keep the raw x/y fields unmirrored.
/// </para>
/// <para>
/// <b>Coordinates, polarity, timestamps, triggers, APS/IMU words:</b> see
/// <see cref="JaerAddress"/> and <see cref="JaerEventDecoder"/>. In short: top-left origin
/// (DAVIS <c>x = W-1-rawX</c>, <c>y = H-1-rawY</c>; DVS128 <c>x = 127-rawX</c>,
/// <c>y = 127-rawY</c>), ON = DAVIS bit 11 set / DVS128 bit 0 clear (jAER's convention),
/// int32 timestamps unwrapped to int64 by signed 32-bit differences.
/// </para>
/// <para>
/// <b>Truncation.</b> A file that ends inside a record: tolerant mode yields every complete
/// record and adds a warning; strict mode throws <see cref="EventFormatException"/> with
/// <see cref="EventFormatException.IsTruncation"/> set (after the complete events were returned).
/// </para>
/// </remarks>
public sealed class Aedat2Reader : IDvsEventReader
{
    private const int InferenceRecords = 8192;

    private readonly ByteInput _input;
    private readonly WarningList _warnings = new();
    private readonly ReaderOptions _options;
    private readonly JaerEventDecoder _decoder;
    private bool _ended;

    /// <summary>Opens a file.</summary>
    public Aedat2Reader(string path, ReaderOptions? options = null)
        : this(ReaderFiles.OpenRead(path), path, options, leaveOpen: false)
    {
    }

    /// <summary>Reads from a stream positioned at the start of the file.</summary>
    /// <param name="stream">The source; read sequentially.</param>
    /// <param name="sourceName">Name used in errors and warnings (file path or peer).</param>
    /// <param name="options">Reader options; null uses <see cref="ReaderOptions.Default"/>.</param>
    /// <param name="leaveOpen">True to keep <paramref name="stream"/> open on dispose.</param>
    public Aedat2Reader(Stream stream, string sourceName, ReaderOptions? options = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _options = options ?? ReaderOptions.Default;
        if (_options.Aedat2Chip is { } chipName && !JaerAddress.TryParseChip(chipName, out _, out _))
        {
            throw new ArgumentException($"Unknown AEDAT 2.0 chip '{chipName}' (use dvs128, davis, davis240, davis346, davis640 or a jAER AEChip class name).", nameof(options));
        }

        SourceName = sourceName ?? "<stream>";
        _input = new ByteInput(stream, SourceName, _options.BufferBytes, ownsStream: !leaveOpen);
        try
        {
            Header = AsciiHeader.Read(_input, (byte)'#', _options.MaxHeaderBytes, IsEndOfHeader);
            ParseVersion();
            (Chip, SensorGeometry geometry, ChipInferred) = ResolveChip();
            _decoder = new JaerEventDecoder(Chip, geometry);
            Geometry = _decoder.Geometry;
        }
        catch
        {
            _input.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public string SourceName { get; }

    /// <inheritdoc />
    public EventFormat Format => EventFormat.Aedat2;

    /// <inheritdoc />
    public long Position => _input.Position;

    /// <inheritdoc />
    public IReadOnlyList<FormatWarning> Warnings => _warnings;

    /// <inheritdoc />
    public SensorGeometry Geometry { get; }

    /// <summary>The ASCII header lines, without line ends.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>Number of ASCII header lines (including an '#End Of ASCII Header' line).</summary>
    public int HeaderLines => Header.Count;

    /// <summary>Byte offset of the first record.</summary>
    public long DataOffset { get; private set; }

    /// <summary>Format version from the '#!AER-DAT' line ("1.0" when the line is missing).</summary>
    public string Version { get; private set; } = "1.0";

    /// <summary>Address width in bytes: 2 (AEDAT 1.0) or 4 (AEDAT 2.0).</summary>
    public int AddressBytes { get; private set; }

    /// <summary>Record size in bytes: 6 (AEDAT 1.0) or 8 (AEDAT 2.0).</summary>
    public int RecordBytes => AddressBytes + 4;

    /// <summary>The class name from the '# AEChip:' line, or null.</summary>
    public string? ChipClass { get; private set; }

    /// <summary>The address layout in use.</summary>
    public JaerChip Chip { get; }

    /// <summary>True when the layout was inferred from the address bits (no usable AEChip line, no override).</summary>
    public bool ChipInferred { get; }

    /// <summary>Called for every complete DAVIS IMU sample; null (default) skips them.</summary>
    public Action<JaerImuSample>? ImuSampleReceived
    {
        get => _decoder.ImuSampleReceived;
        set => _decoder.ImuSampleReceived = value;
    }

    /// <summary>Whole records read so far (events, triggers, skipped APS/IMU words, out-of-range events).</summary>
    public long RecordsRead => _decoder.RecordsDecoded;

    /// <summary>DVS events returned so far.</summary>
    public long EventsRead => _decoder.Events;

    /// <summary>External-input triggers returned so far.</summary>
    public long TriggersRead => _decoder.Triggers;

    /// <summary>DAVIS IMU words skipped so far.</summary>
    public long ImuWordsSkipped => _decoder.ImuWordsSkipped;

    /// <summary>Complete DAVIS IMU samples seen so far.</summary>
    public long ImuSamples => _decoder.ImuSamples;

    /// <summary>DAVIS APS (frame ADC) words skipped so far.</summary>
    public long ApsWordsSkipped => _decoder.ApsWordsSkipped;

    /// <summary>DVS events dropped because their address lies outside <see cref="Geometry"/>.</summary>
    public long EventsOutOfRange => _decoder.EventsOutOfRange;

    /// <inheritdoc />
    public bool Read(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        int recordSize = RecordBytes;
        while (!_ended && !batch.IsFull && batch.Triggers.Count < batch.Triggers.Capacity)
        {
            if (!_input.Ensure(recordSize))
            {
                if (_input.Available > 0)
                {
                    if (_options.Strict)
                    {
                        if (batch.Count > 0 || batch.Triggers.Count > 0)
                        {
                            return true; // hand out the complete records first; the next call throws
                        }

                        throw new EventFormatException(
                            SourceName,
                            _input.Position,
                            $"file ends inside a {recordSize}-byte record ({_input.Available} bytes left)",
                            "record")
                        { IsTruncation = true };
                    }

                    _warnings.Warn(_input.Position, $"file ends inside a {recordSize}-byte record: {_input.Available} trailing bytes ignored");
                    _input.Advance(_input.Available);
                }

                _ended = true;
                break;
            }

            ReadOnlySpan<byte> span = _input.Span;
            int usable = span.Length - (span.Length % recordSize);
            int consumed = _decoder.Decode(span[..usable], AddressBytes, batch);
            if (consumed == 0)
            {
                break;
            }

            _input.Advance(consumed);
        }

        return batch.Count > 0 || batch.Triggers.Count > 0;
    }

    /// <summary>Closes the source (unless it was opened with leaveOpen).</summary>
    public void Dispose() => _input.Dispose();

    private static bool IsEndOfHeader(string line)
    {
        ReadOnlySpan<char> s = line.AsSpan().TrimStart('#').Trim();
        return s.Equals("End Of ASCII Header", StringComparison.OrdinalIgnoreCase);
    }

    private void ParseVersion()
    {
        DataOffset = _input.Position;
        AddressBytes = 2;
        foreach (string line in Header)
        {
            if (line.StartsWith("#!AER-DAT", StringComparison.OrdinalIgnoreCase))
            {
                string version = line["#!AER-DAT".Length..].Trim();
                Version = version;
                if (version.StartsWith('1'))
                {
                    AddressBytes = 2;
                }
                else if (version.StartsWith('2'))
                {
                    AddressBytes = 4;
                }
                else
                {
                    throw new EventFormatException(
                        SourceName,
                        0,
                        $"'#!AER-DAT{version}' is not AEDAT 1.0/2.0 (use the AEDAT 3.1 or 4 reader)",
                        "version");
                }

                break;
            }
        }

        foreach (string line in Header)
        {
            int at = line.IndexOf("AEChip:", StringComparison.OrdinalIgnoreCase);
            if (at >= 0 && line.AsSpan(0, at).Trim().Trim('#').IsEmpty)
            {
                ChipClass = line[(at + "AEChip:".Length)..].Trim();
                break;
            }
        }
    }

    private (JaerChip Chip, SensorGeometry Geometry, bool Inferred) ResolveChip()
    {
        bool fromFile = JaerAddress.TryParseChip(ChipClass, out JaerChip fileChip, out SensorGeometry fileGeometry);
        if (_options.Aedat2Chip is { } overrideName && JaerAddress.TryParseChip(overrideName, out JaerChip chip, out SensorGeometry geometry))
        {
            if (chip == JaerChip.Davis && !geometry.IsKnown && fromFile && fileChip == JaerChip.Davis)
            {
                geometry = fileGeometry;
            }

            return (chip, geometry, false);
        }

        if (fromFile)
        {
            return (fileChip, fileGeometry, false);
        }

        if (AddressBytes == 2)
        {
            return (JaerChip.Dvs128, SensorGeometry.Dvs128, true);
        }

        // Infer from the first records: bits 16..30 are never used by a DVS128 address.
        _input.Ensure(InferenceRecords * 8);
        ReadOnlySpan<byte> span = _input.Span;
        int records = Math.Min(span.Length / 8, InferenceRecords);
        for (int i = 0; i < records; i++)
        {
            uint a = BinaryPrimitives.ReadUInt32BigEndian(span.Slice(i * 8, 4));
            if ((a & 0x7FFF0000) != 0)
            {
                return (JaerChip.Davis, SensorGeometry.Unknown, true);
            }
        }

        return (JaerChip.Dvs128, SensorGeometry.Dvs128, true);
    }
}
