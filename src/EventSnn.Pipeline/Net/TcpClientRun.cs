using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EventSnn.Events;
using EventSnn.IO;
using Polly;
using Polly.Retry;

namespace EventSnn.Pipeline;

/// <summary>
/// TCP client loop with reconnection: connect (bounded by a timeout), run a session until the
/// peer closes or the stream is found malformed, then reconnect. The waits between attempts come
/// from a Polly retry strategy: exponential backoff from <see cref="LiveSourceOptions.ReconnectDelay"/>
/// up to <see cref="LiveSourceOptions.MaxReconnectDelay"/>, with jitter so that many clients
/// dropped at once do not reconnect in step; <see cref="LiveSourceOptions.MaxReconnects"/> bounds
/// the attempts in a row. A connection that stayed up for at least the longest delay starts the
/// backoff afresh. Malformed input drops the connection, since a TCP byte stream cannot be
/// resynchronised.
/// </summary>
internal abstract class TcpClientRun : LiveRun
{
    private Socket? _socket;
    private bool _everConnected;

    protected TcpClientRun(LiveSource source, IObserver<EventBatch> observer)
        : base(source, observer)
    {
    }

    protected override void Body()
    {
        LiveSourceOptions o = Source.Options;
        var endpoint = new IPEndPoint(o.ResolveHost(), o.Port);
        if (!o.Reconnect)
        {
            Exception? failure = Attempt(endpoint, out _);
            if (!_everConnected && failure is not null && !Stopped)
            {
                throw new PipelineException(Source.SourceName, Position, "cannot connect: " + failure.Message, failure);
            }

            return; // peer closed: end of stream
        }

        ResiliencePipeline retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<ConnectionEndedException>(),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = o.ReconnectDelay,
                MaxDelay = o.MaxReconnectDelay,
                MaxRetryAttempts = o.MaxReconnects >= 0 ? o.MaxReconnects : int.MaxValue,
                OnRetry = _ =>
                {
                    Stats._reconnects.Increment();
                    return default;
                },
            })
            .Build();
        while (!Stopped)
        {
            try
            {
                // one run of the strategy per stretch of failures: it ends (normally) after a long session
                retry.Execute(
                    _ =>
                    {
                        Exception? failure = Attempt(endpoint, out TimeSpan connectedFor);
                        if (!Stopped && connectedFor < o.MaxReconnectDelay)
                        {
                            throw new ConnectionEndedException(failure);
                        }
                    },
                    Token);
            }
            catch (ConnectionEndedException ex) when (!Stopped)
            {
                throw new PipelineException(Source.SourceName, Position, $"gave up after {o.MaxReconnects} reconnect attempts", ex.InnerException);
            }
            catch (OperationCanceledException) when (Stopped)
            {
                return;
            }
        }
    }

    /// <summary>Decodes one connection until the peer closes (return) or the input is malformed (EventFormatException).</summary>
    protected abstract void Session(Stream stream);

    protected override void CloseSockets() => _socket?.Dispose();

    /// <summary>
    /// One connection: connect, run the session until it ends, report the fault. Returns the
    /// failure (null when the peer closed normally) and how long the connection stayed up.
    /// </summary>
    private Exception? Attempt(IPEndPoint endpoint, out TimeSpan connectedFor)
    {
        LiveSourceOptions o = Source.Options;
        connectedFor = TimeSpan.Zero;
        bool connected = false;
        long since = 0;
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
            _everConnected = true;
            since = Stopwatch.GetTimestamp();
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

        connectedFor = connected ? Stopwatch.GetElapsedTime(since) : TimeSpan.Zero;
        return failure;
    }

    /// <summary>A connection attempt or a short session ended: the retry strategy waits and tries again.</summary>
    private sealed class ConnectionEndedException(Exception? inner) : Exception("connection ended", inner);
}
