using System.Net;
using System.Net.Sockets;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>
/// AEDAT 3.x network stream over TCP (libcaer / cAER output server; read by
/// <see cref="Aedat3TcpSource"/>): the 20-byte network header once, then AEDAT 3.1 polarity packets
/// written by <see cref="Aedat31Writer"/> (its file header dropped). Sends block, so a slow peer slows
/// the producer down.
/// </summary>
public sealed class Aedat3TcpSender : IEventSender
{
    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private readonly SkipPrefixStream _framing;
    private readonly Aedat31Writer _writer;
    private bool _completed;

    /// <summary>Sends over a connected socket (which the sender owns); the network header goes out at once.</summary>
    public Aedat3TcpSender(Socket socket, SensorGeometry geometry, short sourceId = 1)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        Peer = EventSenders.Url(tcp: true, socket.RemoteEndPoint!);
        _network = new NetworkStream(socket, ownsSocket: false);
        _framing = new SkipPrefixStream(_network, 0) { Discard = true }; // the writer's '#!AER-DAT3.1' file header
        _writer = new Aedat31Writer(_framing, geometry, leaveOpen: true);
        _framing.Discard = false;
        Span<byte> header = stackalloc byte[Aedat3NetworkHeader.Size];
        new Aedat3NetworkHeader(Aedat3NetworkHeader.ExpectedMagic, 0, 1, 0, sourceId).Write(header);
        _framing.Write(header);
    }

    /// <inheritdoc/>
    public string Peer { get; }

    /// <inheritdoc/>
    public long EventsSent => _writer.EventsWritten;

    /// <inheritdoc/>
    public long PacketsSent => _writer.PacketsWritten;

    /// <inheritdoc/>
    public long BytesSent => _framing.Written;

    /// <summary>How long <see cref="OnCompleted"/> waits for the peer to close after the last byte.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Encodes the batch's events into polarity packets and sends them.</summary>
    public void OnNext(EventBatch value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _writer.WriteEvents(value.Timestamps, value.X.AsSpan(0, value.Count), value.Y.AsSpan(0, value.Count), value.P.AsSpan(0, value.Count));
    }

    /// <summary>Shuts down sending and waits (bounded) for the peer to close.</summary>
    public void OnCompleted()
    {
        if (!_completed)
        {
            _completed = true;
            TcpSending.Finish(_socket, CloseTimeout);
        }
    }

    /// <summary>Ends the stream as <see cref="OnCompleted"/> does.</summary>
    public void OnError(Exception error) => OnCompleted();

    /// <summary>Closes the connection.</summary>
    public void Dispose() => TcpSending.Close(_writer, _network, _socket);
}

/// <summary>
/// AEDAT 3.x network stream over UDP (read by <see cref="Aedat3UdpSource"/>): every datagram is the
/// 20-byte network header (sequence number counting up from 0) followed by whole AEDAT 3.1 packets,
/// at most 1472 bytes in all (<see cref="EventsPerDatagram"/> polarity events, room left for a
/// timestamp-wrap packet). One reused buffer; nothing is allocated per datagram.
/// </summary>
public sealed class Aedat3UdpSender : IEventSender
{
    /// <summary>Polarity events per datagram: 28 + 170 x 8 bytes, plus a 36-byte wrap packet, fit the 1452-byte payload.</summary>
    public const int EventsPerDatagram = 170;

    private readonly Socket _socket;
    private readonly EndPoint _target;
    private readonly byte[] _buffer = new byte[Aedat3NetworkHeader.Size + Aedat3NetworkHeader.MaxUdpPayload];
    private readonly MemoryStream _datagram;
    private readonly SkipPrefixStream _framing;
    private readonly Aedat31Writer _writer;
    private readonly short _sourceId;
    private long _sequence;

    /// <summary>Creates a sender to <paramref name="host"/>:<paramref name="port"/> (an IP address).</summary>
    public Aedat3UdpSender(string host, int port, SensorGeometry geometry, short sourceId = 1)
    {
        IPAddress address = IPAddress.Parse(host);
        _target = new IPEndPoint(address, port);
        Peer = EventSenders.Url(tcp: false, _target);
        _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp) { SendBufferSize = 4 << 20 };
        _datagram = new MemoryStream(_buffer, writable: true);
        _framing = new SkipPrefixStream(_datagram, 0) { Discard = true }; // the writer's '#!AER-DAT3.1' file header
        _writer = new Aedat31Writer(_framing, geometry, leaveOpen: true);
        _framing.Discard = false;
        _sourceId = sourceId;
    }

    /// <inheritdoc/>
    public string Peer { get; }

    /// <inheritdoc/>
    public long EventsSent => _writer.EventsWritten;

    /// <inheritdoc/>
    public long PacketsSent => _sequence;

    /// <inheritdoc/>
    public long BytesSent { get; private set; }

    /// <summary>Sends the events of <paramref name="value"/> in as many datagrams as needed.</summary>
    public void OnNext(EventBatch value)
    {
        ArgumentNullException.ThrowIfNull(value);
        for (int start = 0; start < value.Count; start += EventsPerDatagram)
        {
            int n = Math.Min(EventsPerDatagram, value.Count - start);
            _datagram.Position = Aedat3NetworkHeader.Size;
            _writer.WriteEvents(value.T.AsSpan(start, n), value.X.AsSpan(start, n), value.Y.AsSpan(start, n), value.P.AsSpan(start, n));
            int length = (int)_datagram.Position;
            new Aedat3NetworkHeader(Aedat3NetworkHeader.ExpectedMagic, _sequence++, 1, 0, _sourceId).Write(_buffer);
            _socket.SendTo(_buffer.AsSpan(0, length), SocketFlags.None, _target);
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
    public void Dispose()
    {
        _writer.Dispose();
        _datagram.Dispose();
        _socket.Dispose();
    }
}
