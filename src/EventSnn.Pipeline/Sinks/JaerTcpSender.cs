using System.Net.Sockets;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>
/// Sends DVS events as a jAER TCP stream (the format <see cref="JaerTcpSource"/> and
/// <c>serve</c>'s jAER TCP port read): a headerless stream of big-endian (int32 address, int32
/// timestamp) pairs, encoded like <see cref="JaerUdpSender.Encode"/> into one reused buffer.
/// Sends block, so a slow peer slows the producer down. <see cref="OnCompleted"/> shuts the
/// sending side down and waits (bounded) for the peer to close, so the peer has read everything.
/// </summary>
public sealed class JaerTcpSender : IEventSender
{
    private const int EventsPerWrite = 8192;
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[4 + (8 * EventsPerWrite)];
    private readonly JaerChip _chip;
    private readonly SensorGeometry _geometry;
    private bool _completed;

    /// <summary>Sends over a connected socket (which the sender owns).</summary>
    public JaerTcpSender(Socket socket, JaerChip chip = JaerChip.Dvs128, SensorGeometry geometry = default)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _chip = chip;
        _geometry = chip == JaerChip.Dvs128 ? SensorGeometry.Dvs128 : geometry;
        if (chip == JaerChip.Davis && !_geometry.IsKnown)
        {
            throw new ArgumentException("DAVIS addresses need the sensor size", nameof(geometry));
        }

        _socket = socket;
        Peer = EventSenders.Url(tcp: true, socket.RemoteEndPoint!);
    }

    /// <inheritdoc/>
    public string Peer { get; }

    /// <inheritdoc/>
    public long EventsSent { get; private set; }

    /// <inheritdoc/>
    public long PacketsSent { get; private set; }

    /// <inheritdoc/>
    public long BytesSent { get; private set; }

    /// <summary>How long <see cref="OnCompleted"/> waits for the peer to close after the last byte.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Sends the events of <paramref name="value"/>.</summary>
    public void OnNext(EventBatch value)
    {
        ArgumentNullException.ThrowIfNull(value);
        for (int start = 0; start < value.Count; start += EventsPerWrite)
        {
            int n = Math.Min(EventsPerWrite, value.Count - start);
            int length = JaerUdpSender.Encode(value, start, n, 0, _chip, _geometry, _buffer);
            TcpSending.SendAll(_socket, _buffer.AsSpan(4, length - 4)); // no sequence number on TCP
            EventsSent += n;
            PacketsSent++;
            BytesSent += length - 4;
        }
    }

    /// <summary>Ends the stream: shuts down sending and waits (bounded) for the peer to close.</summary>
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
    public void Dispose() => _socket.Dispose();
}

/// <summary>Blocking send helpers shared by the TCP senders.</summary>
internal static class TcpSending
{
    public static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            int sent = socket.Send(data, SocketFlags.None);
            data = data[sent..];
        }
    }

    /// <summary>Closes a file-format writer framed onto a connection: the writer (its last flush may fail when the peer is gone), then the stream and the socket.</summary>
    public static void Close(IDisposable writer, Stream network, Socket socket)
    {
        try
        {
            writer.Dispose();
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            // the peer is gone: nothing left to flush to
        }

        network.Dispose();
        socket.Dispose();
    }

    /// <summary>Shuts the sending side down, then reads (and drops) until the peer closes or <paramref name="timeout"/> passes.</summary>
    public static void Finish(Socket socket, TimeSpan timeout)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
            var deadline = DateTime.UtcNow + timeout;
            Span<byte> sink = stackalloc byte[512];
            while (DateTime.UtcNow < deadline)
            {
                if (!socket.Poll(TimeSpan.FromMilliseconds(50), SelectMode.SelectRead))
                {
                    continue;
                }

                if (socket.Receive(sink, SocketFlags.None) <= 0)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // the peer is gone already: nothing more to wait for
        }
    }
}
