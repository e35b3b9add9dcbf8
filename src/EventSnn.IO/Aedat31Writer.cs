using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Writes libcaer AEDAT 3.1 files: header ('#!AER-DAT3.1', '#Format: RAW',
/// '#Source 1: &lt;device&gt;', '#Start-Time: ...', '#!END-HEADER', CRLF), then polarity
/// packets (type 1) and special packets (type 0) for triggers.
/// </summary>
/// <remarks>
/// Timestamps must be non-negative; each is split into the packet's eventTSOverflow
/// (t &gt;&gt; 31) and a 31-bit event timestamp, a new packet starting whenever the overflow
/// changes; a TIMESTAMP_WRAP special event marks each overflow increase, as libcaer does.
/// Packets hold at most <see cref="MaxEventsPerPacket"/> events (eventCapacity = eventNumber
/// = eventValid). Triggers of a batch are written in one special packet per overflow epoch
/// before the batch's polarity events (kinds map back as in <see cref="Aedat31PacketDecoder"/>;
/// <see cref="TriggerKind.External"/> is written as a pulse). Every packet goes to the stream
/// in one write as soon as it is complete, without a buffer in front: the AEDAT 3 network senders
/// frame a datagram or a TCP stream from exactly the packets one call writes.
/// </remarks>
public sealed class Aedat31Writer : IEventWriter
{
    /// <summary>Largest number of events in one packet.</summary>
    public const int MaxEventsPerPacket = 8192;

    private const int EventBytes = 8;
    private const int BufferBytes = Aedat31PacketHeader.Size + (MaxEventsPerPacket * EventBytes);

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private byte[] _buffer;
    private int _lastOverflow = -1;

    /// <summary>Creates (or overwrites) a file.</summary>
    public Aedat31Writer(string path, SensorGeometry geometry, string? sourceDevice = null)
        : this(ReaderFiles.Create(path), geometry, sourceDevice, leaveOpen: false)
    {
    }

    /// <summary>Writes to a stream.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="geometry">Sensor size; coordinates must fit 15 bits and the sensor when known.</param>
    /// <param name="sourceDevice">Device name for '#Source 1:'; null picks DVS128 / DAVIS240C / DAVIS346B / DAVIS640 / DVXplorer by size, else "Unknown".</param>
    /// <param name="leaveOpen">True to keep <paramref name="stream"/> open on dispose.</param>
    public Aedat31Writer(Stream stream, SensorGeometry geometry, string? sourceDevice = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
        Geometry = geometry;
        SourceDevice = sourceDevice ?? (geometry.Width, geometry.Height) switch
        {
            (128, 128) => "DVS128",
            (240, 180) => "DAVIS240C",
            (346, 260) => "DAVIS346B",
            (640, 480) => "DAVIS640",
            _ => "Unknown",
        };
        _buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        WriteHeader();
    }

    /// <summary>The sensor size events are checked against (when known).</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>The device named in the header.</summary>
    public string SourceDevice { get; }

    /// <summary>Polarity events written so far.</summary>
    public long EventsWritten { get; private set; }

    /// <summary>Triggers written so far.</summary>
    public long TriggersWritten { get; private set; }

    /// <summary>Packets written so far.</summary>
    public long PacketsWritten { get; private set; }

    /// <summary>Writes the triggers, then the events of a batch.</summary>
    public void Write(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Validate(batch.Timestamps, batch.Xs, batch.Ys, batch.Triggers.Items);
        EncodeTriggers(batch.Triggers.Items);
        EncodeEvents(batch.Timestamps, batch.Xs, batch.Ys, batch.Polarities);
    }

    /// <summary>Writes polarity events given as struct-of-arrays spans of equal length.</summary>
    public void WriteEvents(ReadOnlySpan<long> t, ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, ReadOnlySpan<byte> p)
    {
        int n = t.Length;
        if (x.Length != n || y.Length != n || p.Length != n)
        {
            throw new ArgumentException("Spans must have equal lengths.", nameof(t));
        }

        Validate(t, x, y, []);
        EncodeEvents(t, x, y, p);
    }

    /// <summary>Writes triggers as special events (one packet per overflow epoch and at most <see cref="MaxEventsPerPacket"/> events).</summary>
    public void WriteTriggers(ReadOnlySpan<TriggerEvent> triggers)
    {
        Validate([], [], [], triggers);
        EncodeTriggers(triggers);
    }

    private void EncodeEvents(ReadOnlySpan<long> t, ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, ReadOnlySpan<byte> p)
    {
        int n = t.Length;
        int i = 0;
        while (i < n)
        {
            int overflow = Overflow(t[i]);
            MaybeWrap(overflow, t[i]);
            int count = 1;
            while (count < MaxEventsPerPacket && i + count < n && Overflow(t[i + count]) == overflow)
            {
                count++;
            }

            Span<byte> events = _buffer.AsSpan(Aedat31PacketHeader.Size, count * EventBytes);
            for (int k = 0; k < count; k++)
            {
                int j = i + k;
                uint xi = x[j];
                uint yi = y[j];
                uint data = 1u | ((uint)(p[j] & 1) << 1) | (yi << 2) | (xi << 17);
                BinaryPrimitives.WriteUInt32LittleEndian(events[(k * EventBytes)..], data);
                BinaryPrimitives.WriteInt32LittleEndian(events[((k * EventBytes) + 4)..], (int)(t[j] & 0x7FFFFFFF));
            }

            WritePacket(Aedat31PacketHeader.PolarityType, overflow, count);
            EventsWritten += count;
            i += count;
        }
    }

    private void EncodeTriggers(ReadOnlySpan<TriggerEvent> triggers)
    {
        int i = 0;
        while (i < triggers.Length)
        {
            int overflow = Overflow(triggers[i].T);
            MaybeWrap(overflow, triggers[i].T);
            int count = 1;
            while (count < MaxEventsPerPacket && i + count < triggers.Length && Overflow(triggers[i + count].T) == overflow)
            {
                count++;
            }

            Span<byte> events = _buffer.AsSpan(Aedat31PacketHeader.Size, count * EventBytes);
            for (int k = 0; k < count; k++)
            {
                TriggerEvent tr = triggers[i + k];
                EncodeSpecial(events[(k * EventBytes)..], SpecialType(tr), tr.T);
            }

            WritePacket(Aedat31PacketHeader.SpecialType, overflow, count);
            TriggersWritten += count;
            i += count;
        }
    }

    /// <summary>Flushes the destination.</summary>
    public void Flush() => _stream.Flush();

    /// <summary>Flushes and closes the destination (unless leaveOpen).</summary>
    public void Dispose()
    {
        if (_buffer.Length == 0)
        {
            return;
        }

        try
        {
            _stream.Flush();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            if (!_leaveOpen)
            {
                _stream.Dispose();
            }
        }
    }

    private static int Overflow(long t) => (int)(t >> 31);

    /// <summary>Checks addresses and times before anything of a batch is written.</summary>
    private void Validate(ReadOnlySpan<long> t, ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, ReadOnlySpan<TriggerEvent> triggers)
    {
        uint maxX = Geometry.IsKnown ? Math.Min(0x7FFFu, (uint)Geometry.Width - 1) : 0x7FFF;
        uint maxY = Geometry.IsKnown ? Math.Min(0x7FFFu, (uint)Geometry.Height - 1) : 0x7FFF;
        for (int i = 0; i < t.Length; i++)
        {
            if (x[i] > maxX || y[i] > maxY)
            {
                throw new FormatLimitException(EventFormat.Aedat3, $"AEDAT 3.1: event {i} at ({x[i]}, {y[i]}) lies outside the {(Geometry.IsKnown ? Geometry.Width + " x " + Geometry.Height + " sensor" : "15-bit address fields")} (x <= {maxX}, y <= {maxY}).");
            }

            CheckTime(t[i], "event", i);
        }

        for (int i = 0; i < triggers.Length; i++)
        {
            CheckTime(triggers[i].T, "trigger", i);
        }
    }

    private static void CheckTime(long t, string what, int index)
    {
        if (t < 0 || (t >> 31) > int.MaxValue)
        {
            throw new FormatLimitException(EventFormat.Aedat3, $"AEDAT 3.1: {what} {index} at {t} us cannot be stored: timestamps must be non-negative and below 2^62 us.");
        }
    }

    private static int SpecialType(in TriggerEvent tr) => tr.Kind switch
    {
        TriggerKind.TimestampReset => 1,
        TriggerKind.ExternalRising => tr.Data switch { 1 => 6, 2 => 9, _ => 2 },
        TriggerKind.ExternalFalling => tr.Data switch { 1 => 7, 2 => 10, _ => 3 },
        TriggerKind.ExternalPulse or TriggerKind.External => tr.Data switch { 1 => 8, 2 => 11, _ => 4 },
        TriggerKind.ExternalGenerator => tr.Data == 0 ? 13 : 12,
        _ => tr.Data is > 18 and < 128 ? tr.Data : 127,
    };

    private static void EncodeSpecial(Span<byte> dst, int type, long t)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(dst, 1u | ((uint)type << 1));
        BinaryPrimitives.WriteInt32LittleEndian(dst[4..], (int)(t & 0x7FFFFFFF));
    }

    /// <summary>Writes a TIMESTAMP_WRAP special packet when the overflow counter goes up.</summary>
    private void MaybeWrap(int overflow, long t)
    {
        if (_lastOverflow >= 0 && overflow > _lastOverflow)
        {
            EncodeSpecial(_buffer.AsSpan(Aedat31PacketHeader.Size), 0, t & ~0x7FFFFFFFL);
            WritePacket(Aedat31PacketHeader.SpecialType, overflow, 1);
        }

        _lastOverflow = Math.Max(_lastOverflow, overflow);
    }

    private void WritePacket(short type, int overflow, int count)
    {
        new Aedat31PacketHeader(type, 1, EventBytes, 4, overflow, count, count, count).Write(_buffer);
        _stream.Write(_buffer, 0, Aedat31PacketHeader.Size + (count * EventBytes));
        PacketsWritten++;
    }

    private void WriteHeader()
    {
        string start = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        string header = "#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: " + SourceDevice + "\r\n#Start-Time: " + start + " (TZ+0000)\r\n#!END-HEADER\r\n";
        byte[] bytes = Encoding.ASCII.GetBytes(header);
        _stream.Write(bytes, 0, bytes.Length);
    }
}
