using System.Net;
using System.Net.Sockets;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>
/// TCP client loop with reconnection: connect (bounded by a timeout), run a session until the
/// peer closes or the stream is found malformed, then reconnect with exponential backoff
/// (reset after every successful connection). Malformed input drops the connection, since a TCP
/// byte stream cannot be resynchronised.
/// </summary>
internal abstract class TcpClientRun : LiveRun
{
    private Socket? _socket;

    protected TcpClientRun(LiveSource source, IObserver<EventBatch> observer)
        : base(source, observer)
    {
    }

    protected override void Body()
    {
        LiveSourceOptions o = Source.Options;
        var endpoint = new IPEndPoint(o.ResolveHost(), o.Port);
        TimeSpan delay = o.ReconnectDelay;
        int failures = 0;
        bool everConnected = false;
        while (!Stopped)
        {
            bool connected = false;
            Exception? failure = null;
            var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            _socket = socket;
            try
            {
                if (o.ReceiveBufferBytes > 0)
                {
                    socket.ReceiveBufferSize = o.ReceiveBufferBytes;
                }

                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token))
                {
                    timeout.CancelAfter(o.ConnectTimeout);
                    socket.ConnectAsync(endpoint, timeout.Token).AsTask().GetAwaiter().GetResult();
                }

                connected = true;
                everConnected = true;
                failures = 0;
                delay = o.ReconnectDelay;
                Position = 0;
                MarkConnected();
                using var stream = new NetworkStream(socket, ownsSocket: false);
                Session(stream);
                Flush();
                if (!Stopped)
                {
                    Fault(LiveFaultKind.Disconnected, "peer closed the connection");
                }
            }
            catch (EventFormatException ex) when (!Stopped)
            {
                Flush();
                Fault(LiveFaultKind.Malformed, ex.Message + " (connection dropped)");
                failure = ex;
            }
            catch (Exception ex) when (!Stopped && ex is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                Flush();
                Fault(connected ? LiveFaultKind.Disconnected : LiveFaultKind.ConnectFailed, ex.Message);
                failure = ex;
            }
            finally
            {
                socket.Dispose();
            }

            if (Stopped)
            {
                return;
            }

            if (!o.Reconnect)
            {
                if (!everConnected && failure is not null)
                {
                    throw new PipelineException(Source.SourceName, Position, "cannot connect: " + failure.Message, failure);
                }

                return; // peer closed: end of stream
            }

            failures++;
            if (o.MaxReconnects >= 0 && failures > o.MaxReconnects)
            {
                throw new PipelineException(Source.SourceName, Position, $"gave up after {o.MaxReconnects} reconnect attempts", failure);
            }

            Interlocked.Increment(ref Stats._reconnects);
            if (Token.WaitHandle.WaitOne(delay))
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, o.MaxReconnectDelay.Ticks));
        }
    }

    /// <summary>Decodes one connection until the peer closes (return) or the input is malformed (EventFormatException).</summary>
    protected abstract void Session(Stream stream);

    protected override void CloseSockets() => _socket?.Dispose();
}
