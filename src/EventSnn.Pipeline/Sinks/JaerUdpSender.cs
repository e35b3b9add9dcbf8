using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>
/// Sends DVS events as a jAER UDP stream (the format <see cref="JaerUdpSource"/> reads): each
/// datagram = big-endian int32 sequence number + up to <see cref="EventsPerDatagram"/>
/// big-endian (address, timestamp) pairs. An observer of batches, so a pipeline can feed jAER
/// tools. Sends to loopback unless told otherwise.
/// </summary>
public sealed class JaerUdpSender : IEventSender
{
    private readonly Socket _socket;
    private readonly EndPoint _target;
    private readonly byte[] _buffer;
    private readonly JaerChip _chip;
    private readonly SensorGeometry _geometry;
    private int _sequence;

    /// <summary>Creates a sender to <paramref name="port"/> on <paramref name="host"/> (default loopback).</summary>
    public JaerUdpSender(int port, string host = "127.0.0.1", JaerChip chip = JaerChip.Dvs128, SensorGeometry geometry = default, int eventsPerDatagram = 1020)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(eventsPerDatagram);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(eventsPerDatagram, 8000);
        _chip = chip;
        _geometry = chip == JaerChip.Dvs128 ? SensorGeometry.Dvs128 : geometry;
        if (chip == JaerChip.Davis && !_geometry.IsKnown)
        {
            throw new ArgumentException("DAVIS addresses need the sensor size", nameof(geometry));
        }

        EventsPerDatagram = eventsPerDatagram;
        IPAddress address = IPAddress.Parse(host);
        _target = new IPEndPoint(address, port);
        Peer = EventSenders.Url(tcp: false, _target);
        _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp) { SendBufferSize = 4 << 20 };
        _buffer = new byte[4 + (8 * eventsPerDatagram)];
    }

    /// <summary>Events per datagram.</summary>
    public int EventsPerDatagram { get; }

    /// <summary>Datagrams sent.</summary>
    public long Datagrams { get; private set; }

    /// <inheritdoc/>
    public string Peer { get; }

    /// <inheritdoc/>
    public long EventsSent { get; private set; }

    /// <inheritdoc/>
    public long PacketsSent => Datagrams;

    /// <inheritdoc/>
    public long BytesSent { get; private set; }

    /// <summary>Sequence number the next datagram gets.</summary>
    public int NextSequence => _sequence;

    /// <summary>
    /// Encodes events [start, start + count) of <paramref name="batch"/> after sequence number
    /// <paramref name="sequence"/> into <paramref name="datagram"/>; returns the datagram length.
    /// </summary>
    public static int Encode(EventBatch batch, int start, int count, int sequence, JaerChip chip, SensorGeometry geometry, Span<byte> datagram)
    {
        ArgumentNullException.ThrowIfNull(batch);
        BinaryPrimitives.WriteInt32BigEndian(datagram, sequence);
        int at = 4;
        for (int i = start; i < start + count; i++)
        {
            uint address = chip == JaerChip.Davis
                ? JaerAddress.EncodeDavis(batch.X[i], batch.Y[i], batch.P[i] != 0, geometry)
                : JaerAddress.EncodeDvs128(batch.X[i], batch.Y[i], batch.P[i] != 0);
            BinaryPrimitives.WriteUInt32BigEndian(datagram[at..], address);
            BinaryPrimitives.WriteInt32BigEndian(datagram[(at + 4)..], unchecked((int)batch.T[i]));
            at += 8;
        }

        return at;
    }

    /// <summary>Sends the events of <paramref name="value"/> in as many datagrams as needed.</summary>
    public void OnNext(EventBatch value)
    {
        ArgumentNullException.ThrowIfNull(value);
        for (int start = 0; start < value.Count; start += EventsPerDatagram)
        {
            int n = Math.Min(EventsPerDatagram, value.Count - start);
            int length = Encode(value, start, n, _sequence++, _chip, _geometry, _buffer);
            _socket.SendTo(_buffer.AsSpan(0, length), SocketFlags.None, _target);
            Datagrams++;
            EventsSent += n;
            BytesSent += length;
        }
    }

    /// <summary>Nothing to do: UDP has no end-of-stream marker.</summary>
    public void OnCompleted()
    {
    }

    /// <summary>Nothing to do.</summary>
    public void OnError(Exception error)
    {
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose() => _socket.Dispose();
}
