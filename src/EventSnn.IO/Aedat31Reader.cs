using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Streaming reader of libcaer / cAER AEDAT 3.1 files (e.g. DVS128 Gesture): an ASCII header
/// from '#!AER-DAT3.1' to '#!END-HEADER', then little-endian event packets (28-byte header +
/// eventSize x eventCapacity bytes).
/// </summary>
/// <remarks>
/// <para>
/// Polarity and special packets are decoded by <see cref="Aedat31PacketDecoder"/> (full time
/// = overflow &lt;&lt; 31 | timestamp; invalid events skipped; external inputs and timestamp
/// resets become triggers). Packets of other types (frames, IMU, spikes, ...) are skipped by
/// eventSize x eventCapacity. Every header is validated before anything is skipped or read:
/// positive eventSize, 0 &lt;= eventNumber &lt;= eventCapacity, payload within
/// <see cref="ReaderOptions.MaxPacketBytes"/>, 8-byte polarity/special events; a violation
/// throws <see cref="EventFormatException"/> naming the field. Packets are decoded in place
/// from the read buffer, event by event, so a large packet never needs a large allocation.
/// </para>
/// <para>
/// Geometry from the first '#Source N: &lt;device&gt;' line naming a known sensor: DVS128
/// (128 x 128), DAVIS240* (240 x 180), DAVIS346* (346 x 260), DAVIS640 (640 x 480), DAVIS128,
/// DAVIS208, DVXplorer (640 x 480), DVXplorer Lite (320 x 240); otherwise Unknown.
/// Only '#Format: RAW' is supported.
/// </para>
/// <para>
/// Truncation (file ends inside a packet header or payload, or a packet claims more bytes
/// than remain): tolerant mode returns every complete event before the cut and adds a
/// warning; strict mode throws with <see cref="EventFormatException.IsTruncation"/>.
/// </para>
/// </remarks>
public sealed class Aedat31Reader : IDvsEventReader
{
    private const int EventBytes = 8;

    private readonly ByteInput _input;
    private readonly WarningList _warnings = new();
    private readonly ReaderOptions _options;
    private Aedat31Counters _counters;
    private short _type;
    private int _overflow;
    private int _eventsLeft;
    private long _skipLeft;
    private bool _ended;

    /// <summary>Opens a file.</summary>
    public Aedat31Reader(string path, ReaderOptions? options = null)
        : this(ReaderFiles.OpenRead(path), path, options, leaveOpen: false)
    {
    }

    /// <summary>Reads from a stream positioned at the start of the file.</summary>
    /// <param name="stream">The source; read sequentially (skips seek when possible).</param>
    /// <param name="sourceName">Name used in errors and warnings.</param>
    /// <param name="options">Reader options; null uses <see cref="ReaderOptions.Default"/>.</param>
    /// <param name="leaveOpen">True to keep <paramref name="stream"/> open on dispose.</param>
    public Aedat31Reader(Stream stream, string sourceName, ReaderOptions? options = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _options = options ?? ReaderOptions.Default;
        SourceName = sourceName ?? "<stream>";
        _input = new ByteInput(stream, SourceName, _options.BufferBytes, ownsStream: !leaveOpen);
        try
        {
            Header = AsciiHeader.Read(_input, (byte)'#', _options.MaxHeaderBytes, static l => l.Trim() == "#!END-HEADER");
            ParseHeader();
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
    public EventFormat Format => EventFormat.Aedat3;

    /// <inheritdoc />
    public long Position => _input.Position;

    /// <inheritdoc />
    public IReadOnlyList<FormatWarning> Warnings => _warnings;

    /// <inheritdoc />
    public SensorGeometry Geometry { get; private set; }

    /// <summary>The header lines, without line ends.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>The device named by the first '#Source' line, or null.</summary>
    public string? SourceDevice { get; private set; }

    /// <summary>Byte offset of the first packet.</summary>
    public long DataOffset { get; private set; }

    /// <summary>What the decoder met so far (packets, skipped packets, invalid events, triggers...).</summary>
    public Aedat31Counters Counters => _counters;

    /// <inheritdoc />
    public bool Read(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        while (!_ended && !batch.IsFull && batch.Triggers.Count < batch.Triggers.Capacity)
        {
            if (_eventsLeft > 0)
            {
                if (!_input.Ensure(EventBytes))
                {
                    if (!Truncated(batch, $"file ends inside a packet: {_eventsLeft} events missing"))
                    {
                        break;
                    }

                    continue;
                }

                int avail = Math.Min(_input.Available / EventBytes, _eventsLeft);
                ReadOnlySpan<byte> span = _input.Span[..(avail * EventBytes)];
                int done = _type == Aedat31PacketHeader.PolarityType
                    ? Aedat31PacketDecoder.DecodePolarity(span, _overflow, batch, ref _counters)
                    : Aedat31PacketDecoder.DecodeSpecial(span, _overflow, batch, ref _counters);
                if (done == 0)
                {
                    break;
                }

                _input.Advance(done * EventBytes);
                _eventsLeft -= done;
                continue;
            }

            if (_skipLeft > 0)
            {
                _skipLeft -= _input.Skip(_skipLeft);
                if (_skipLeft > 0 && !Truncated(batch, $"file ends inside a packet: {_skipLeft} bytes missing"))
                {
                    break;
                }

                continue;
            }

            if (!_input.Ensure(Aedat31PacketHeader.Size))
            {
                if (_input.Available == 0)
                {
                    _ended = true;
                    break;
                }

                if (!Truncated(batch, $"file ends inside a {Aedat31PacketHeader.Size}-byte packet header ({_input.Available} bytes left)"))
                {
                    break;
                }

                continue;
            }

            StartPacket();
        }

        return batch.Count > 0 || batch.Triggers.Count > 0;
    }

    /// <summary>Closes the source (unless it was opened with leaveOpen).</summary>
    public void Dispose() => _input.Dispose();

    /// <summary>Maps a libcaer/cAER device name to its sensor size (Unknown when not known).</summary>
    public static SensorGeometry GeometryFromDevice(string? device)
    {
        if (string.IsNullOrWhiteSpace(device))
        {
            return SensorGeometry.Unknown;
        }

        string d = device.ToUpperInvariant().Replace(" ", string.Empty, StringComparison.Ordinal).Replace("_", string.Empty, StringComparison.Ordinal);
        return d switch
        {
            _ when d.Contains("DVS128", StringComparison.Ordinal) => SensorGeometry.Dvs128,
            _ when d.Contains("DAVIS240", StringComparison.Ordinal) => SensorGeometry.Davis240,
            _ when d.Contains("DAVIS346", StringComparison.Ordinal) => SensorGeometry.Davis346,
            _ when d.Contains("DAVIS640", StringComparison.Ordinal) => new SensorGeometry(640, 480),
            _ when d.Contains("DAVIS128", StringComparison.Ordinal) => new SensorGeometry(128, 128),
            _ when d.Contains("DAVIS208", StringComparison.Ordinal) => new SensorGeometry(208, 192),
            _ when d.Contains("DVXPLORERLITE", StringComparison.Ordinal) => new SensorGeometry(320, 240),
            _ when d.Contains("DVXPLORER", StringComparison.Ordinal) => SensorGeometry.DvXplorer,
            _ => SensorGeometry.Unknown,
        };
    }

    private void StartPacket()
    {
        long at = _input.Position;
        Aedat31PacketHeader h = Aedat31PacketHeader.Read(_input.Span);
        if (h.Validate(_options.MaxPacketBytes) is { } bad)
        {
            throw new EventFormatException(SourceName, at, bad.Problem, bad.Field);
        }

        _input.Advance(Aedat31PacketHeader.Size);
        _counters.Packets++;
        long payload = h.PayloadBytes;
        if (_input.Remaining is long remaining && payload > remaining)
        {
            _warnings.Warn(at, $"packet claims {payload} bytes but only {remaining} remain in the file");
        }

        if (h.EventType is Aedat31PacketHeader.PolarityType or Aedat31PacketHeader.SpecialType)
        {
            _type = h.EventType;
            _overflow = h.EventTSOverflow;
            _eventsLeft = h.EventNumber;
            _skipLeft = (long)(h.EventCapacity - h.EventNumber) * h.EventSize;
        }
        else
        {
            _counters.PacketsSkipped++;
            _eventsLeft = 0;
            _skipLeft = payload;
        }
    }

    /// <summary>
    /// Handles the end of the file inside a packet. Returns true when reading may go on
    /// (never, for now: the file is over), false to stop this Read call.
    /// </summary>
    private bool Truncated(EventBatch batch, string problem)
    {
        if (_options.Strict)
        {
            if (batch.Count > 0 || batch.Triggers.Count > 0)
            {
                return false; // hand out the complete events first; the next call throws
            }

            throw new EventFormatException(SourceName, _input.Position + _input.Available, problem, "packet") { IsTruncation = true };
        }

        _warnings.Warn(_input.Position + _input.Available, problem);
        _input.Advance(_input.Available);
        _eventsLeft = 0;
        _skipLeft = 0;
        _ended = true;
        return false;
    }

    private void ParseHeader()
    {
        DataOffset = _input.Position;
        if (Header.Count == 0 || !Header[0].StartsWith("#!AER-DAT3", StringComparison.Ordinal))
        {
            throw new EventFormatException(SourceName, 0, "not an AEDAT 3.x file: the first line must be '#!AER-DAT3.1'", "header");
        }

        if (Header[^1].Trim() != "#!END-HEADER")
        {
            _warnings.Warn(DataOffset, "header has no '#!END-HEADER' line; packets assumed to start at the first non-'#' byte");
        }

        foreach (string line in Header)
        {
            if (line.StartsWith("#Format:", StringComparison.OrdinalIgnoreCase))
            {
                string format = line["#Format:".Length..].Trim();
                if (!format.Equals("RAW", StringComparison.OrdinalIgnoreCase))
                {
                    throw new EventFormatException(SourceName, 0, $"AEDAT 3.1 format '{format}' is not supported (only RAW)", "Format");
                }
            }
            else if (line.StartsWith("#Source ", StringComparison.OrdinalIgnoreCase))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                string device = colon >= 0 ? line[(colon + 1)..].Trim() : string.Empty;
                SourceDevice ??= device;
                if (!Geometry.IsKnown)
                {
                    Geometry = GeometryFromDevice(device);
                }
            }
        }
    }
}
