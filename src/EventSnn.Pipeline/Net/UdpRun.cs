using System.Net;
using System.Net.Sockets;
using EventSnn.Events;

namespace EventSnn.Pipeline;

/// <summary>UDP receive loop: binds in <see cref="Prepare"/> (so the port is known at once), then decodes datagram by datagram.</summary>
internal abstract class UdpRun : LiveRun
{
    private readonly byte[] _buffer = new byte[65536];
    private Socket? _socket;

    protected UdpRun(LiveSource source, IObserver<EventBatch> observer)
        : base(source, observer)
    {
    }

    protected override void Prepare()
    {
        LiveSourceOptions o = Source.Options;
        IPAddress address = o.ResolveHost();
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (o.ReceiveBufferBytes > 0)
            {
                socket.ReceiveBufferSize = o.ReceiveBufferBytes;
            }

            socket.Bind(new IPEndPoint(address, o.Port));
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _socket = socket;
        Source.LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        MarkConnected();
    }

    protected override void Body()
    {
        Socket socket = _socket!;
        while (!Stopped)
        {
            int n;
            try
            {
                n = socket.Receive(_buffer);
            }
            catch (SocketException) when (Stopped)
            {
                return;
            }
            catch (ObjectDisposedException) when (Stopped)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize)
            {
                Fault(LiveFaultKind.Malformed, ex.Message);
                continue;
            }

            Stats._bytes.Add(n);
            Stats._packets.Increment();
            Datagram(_buffer.AsSpan(0, n));
            Position += n;
        }
    }

    /// <summary>Decodes one datagram (bounded by its length) and emits its events.</summary>
    protected abstract void Datagram(ReadOnlySpan<byte> data);

    protected override void CloseSockets() => _socket?.Dispose();
}
