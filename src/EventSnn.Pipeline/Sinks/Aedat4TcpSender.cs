using System.Net.Sockets;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>
/// A DV AEDAT4 stream pushed over a TCP connection (what <c>serve</c>'s DV port accepts): uint32
/// size + IOHeader FlatBuffer, then (int32 streamId, int32 size, payload) packets, written by
/// <see cref="Aedat4Writer"/> without the file's '#!AER-DAT4.0' line and without a FileDataTable.
/// Each batch is flushed as whole packets; sends block, so a slow peer slows the producer down.
/// The listening counterpart (clients connect to it) is <see cref="Aedat4Server"/>.
/// </summary>
public sealed class Aedat4TcpSender : IEventSender
{
    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private readonly SkipPrefixStream _framing;
    private readonly Aedat4Writer _writer;
    private readonly long _headerBytes;
    private bool _completed;

    /// <summary>Sends over a connected socket (which the sender owns); the header goes out at once.</summary>
    public Aedat4TcpSender(Socket socket, SensorGeometry geometry, Aedat4Compression compression = Aedat4Compression.Lz4, int eventsPerPacket = 8192)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        Peer = EventSenders.Url(tcp: true, socket.RemoteEndPoint!);
        _network = new NetworkStream(socket, ownsSocket: false);
        _framing = new SkipPrefixStream(_network, 14); // 14 = the '#!AER-DAT4.0\r\n' line
        _writer = new Aedat4Writer(_framing, new Aedat4WriterOptions
        {
            Compression = compression,
            Geometry = geometry,
            EventsPerPacket = eventsPerPacket,
            WriteTable = false,
            LeaveOpen = true,
        });
        _writer.Flush();
        _headerBytes = _framing.Written;
    }

    /// <inheritdoc/>
    public string Peer { get; }

    /// <inheritdoc/>
    public long EventsSent => _writer.EventsWritten;

    /// <inheritdoc/>
    public long PacketsSent => _writer.PacketsWritten;

    /// <inheritdoc/>
    public long BytesSent => _framing.Written;

    /// <summary>Bytes of the IOHeader greeting (part of <see cref="BytesSent"/>).</summary>
    public long HeaderBytes => _headerBytes;

    /// <summary>How long <see cref="OnCompleted"/> waits for the peer to close after the last byte.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Encodes the batch's events into packets and sends them.</summary>
    public void OnNext(EventBatch value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _writer.WriteEvents(value.Timestamps, value.X.AsSpan(0, value.Count), value.Y.AsSpan(0, value.Count), value.P.AsSpan(0, value.Count));
        _writer.Flush();
    }

    /// <summary>Sends what is pending, shuts down sending and waits (bounded) for the peer to close.</summary>
    public void OnCompleted()
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        _writer.Flush();
        _network.Flush();
        TcpSending.Finish(_socket, CloseTimeout);
    }

    /// <summary>Ends the stream as <see cref="OnCompleted"/> does.</summary>
    public void OnError(Exception error) => OnCompleted();

    /// <summary>Closes the connection.</summary>
    public void Dispose() => TcpSending.Close(_writer, _network, _socket);
}
