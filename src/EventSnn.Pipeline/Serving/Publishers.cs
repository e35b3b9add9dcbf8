using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EventSnn.Pipeline.Serving;

/// <summary>
/// Publishes every decision as one JSON object per line (UTF-8, '\n') to every client connected
/// to its TCP port. Each client reads from its own bounded queue (<see cref="DecisionHub.Subscribe"/>);
/// a client that cannot keep up is handled by <see cref="ServeOptions.SlowSubscribers"/>. At
/// shutdown the queues are drained, then the connections are closed.
/// </summary>
public sealed class JsonLinesPublisher : IAsyncDisposable
{
    private readonly DecisionHub _hub;
    private readonly SocketAcceptor _acceptor;
    private readonly int _maxClients;

    /// <summary>Starts listening on <paramref name="address"/>:<paramref name="port"/> (0 = ephemeral); at most <paramref name="maxClients"/> clients at once.</summary>
    public JsonLinesPublisher(DecisionHub hub, IPAddress address, int port, int maxClients = 64)
    {
        ArgumentNullException.ThrowIfNull(hub);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxClients, 1);
        _hub = hub;
        _maxClients = maxClients;
        _acceptor = new SocketAcceptor(address, port, Accept);
        EndPoint = _acceptor.EndPoint;
    }

    /// <summary>Where the publisher listens.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Stops accepting; waits (bounded) for the connected clients to receive their queued decisions.</summary>
    public Task StopAsync(TimeSpan drain) => _acceptor.StopAsync(drain);

    /// <summary>Stops the publisher.</summary>
    public ValueTask DisposeAsync() => _acceptor.DisposeAsync();

    private Task Accept(Socket socket, int connected)
    {
        if (connected >= _maxClients)
        {
            _hub.WriteLog($"publisher: refused {socket.RemoteEndPoint} ({_maxClients} clients connected)");
            socket.Dispose();
            return Task.CompletedTask;
        }

        return Serve(socket, _hub.Subscribe());
    }

    private async Task Serve(Socket socket, DecisionHub.Subscription sub)
    {
        string peer = socket.RemoteEndPoint?.ToString() ?? "?";
        byte[] buffer = new byte[64 * 1024];
        try
        {
            while (await sub.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                // batch whatever is queued into one send
                int used = 0;
                while (used < buffer.Length - 1 && sub.Reader.TryPeek(out byte[]? line) && (used == 0 || used + line.Length + 1 <= buffer.Length))
                {
                    sub.Reader.TryRead(out _);
                    if (line.Length + 1 > buffer.Length)
                    {
                        buffer = new byte[line.Length + 1];
                    }

                    line.CopyTo(buffer, used);
                    used += line.Length;
                    buffer[used++] = (byte)'\n';
                }

                await SendAll(socket, buffer.AsMemory(0, used)).ConfigureAwait(false);
                if (sub.DroppedForSlowness)
                {
                    break;
                }
            }

            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            _hub.WriteLog($"publisher client {peer}: {ex.Message}");
        }
        finally
        {
            sub.Dispose();
            socket.Dispose();
        }
    }

    internal static async Task SendAll(Socket socket, ReadOnlyMemory<byte> data)
    {
        int sent = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (sent < data.Length)
        {
            sent += await socket.SendAsync(data[sent..], SocketFlags.None, timeout.Token).ConfigureAwait(false);
        }
    }

    internal static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);
}

/// <summary>
/// A minimal HTTP/1.1 endpoint on a TCP listener (no ASP.NET dependency): <c>GET /events</c>
/// streams every decision as a Server-Sent Event (<c>data: {json}\n\n</c>; <c>?stream=id</c>
/// filters one stream), <c>GET /health</c> returns the <see cref="DecisionHub.HealthJson"/>
/// document. The request head is bounded (<see cref="ServeOptions.MaxRequestHeadBytes"/>, else
/// 431) and must arrive within <see cref="ServeOptions.RequestTimeout"/> (else 408); at most
/// <see cref="ServeOptions.MaxClients"/> connections are served at once (more get 503); anything that is not an
/// HTTP/1.x request gets 400, other paths 404, other methods 405. Every response closes the
/// connection after it (the event stream ends at shutdown). Slow event-stream clients are handled
/// by <see cref="ServeOptions.SlowSubscribers"/> on their bounded queue.
/// </summary>
public sealed class SseHttpServer : IAsyncDisposable
{
    private readonly DecisionHub _hub;
    private readonly ServeOptions _options;
    private readonly SocketAcceptor _acceptor;

    /// <summary>Starts listening.</summary>
    public SseHttpServer(DecisionHub hub, ServeOptions options, IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(hub);
        ArgumentNullException.ThrowIfNull(options);
        _hub = hub;
        _options = options;
        _acceptor = new SocketAcceptor(address, port, (socket, connected) => connected >= _options.MaxClients ? Refuse(socket) : Serve(socket));
        EndPoint = _acceptor.EndPoint;
    }

    /// <summary>Where the endpoint listens.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Extra ports reported under "ports" in /health.</summary>
    public IReadOnlyDictionary<string, int>? Ports { get; set; }

    /// <summary>Stops accepting; waits (bounded) for event streams to drain.</summary>
    public Task StopAsync(TimeSpan drain) => _acceptor.StopAsync(drain);

    /// <summary>Stops the endpoint.</summary>
    public ValueTask DisposeAsync() => _acceptor.DisposeAsync();

    private async Task Serve(Socket socket)
    {
        string peer = socket.RemoteEndPoint?.ToString() ?? "?";
        try
        {
            (int status, string? target) = await ReadRequest(socket).ConfigureAwait(false);
            if (status != 200 || target is null)
            {
                await Respond(socket, status, "text/plain", status switch
                {
                    400 => "bad request\n",
                    405 => "only GET\n",
                    408 => "request timeout\n",
                    _ => "request head too large\n",
                }).ConfigureAwait(false);
                return;
            }

            string path = target, query = string.Empty;
            int q = target.IndexOf('?', StringComparison.Ordinal);
            if (q >= 0)
            {
                path = target[..q];
                query = target[(q + 1)..];
            }

            switch (path)
            {
                case "/health":
                    await Respond(socket, 200, "application/json", _hub.HealthJson(Ports)).ConfigureAwait(false);
                    break;
                case "/events":
                    await Events(socket, HttpRequestHead.StreamFilter(query)).ConfigureAwait(false);
                    break;
                default:
                    await Respond(socket, 404, "text/plain", "not found: try /events or /health\n").ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            _hub.WriteLog($"http client {peer}: {ex.Message}");
        }
        finally
        {
            socket.Dispose();
        }
    }

    private async Task Refuse(Socket socket)
    {
        try
        {
            await Respond(socket, 503, "text/plain", $"too many clients ({_options.MaxClients})\n").ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            socket.Dispose();
        }
    }

    private async Task Events(Socket socket, string? filter)
    {
        using DecisionHub.Subscription sub = _hub.Subscribe(filter);
        await JsonLinesPublisher.SendAll(socket, JsonLinesPublisher.Ascii("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n: eventsnn decisions\n\n")).ConfigureAwait(false);
        byte[] prefix = "data: "u8.ToArray();
        byte[] buffer = new byte[64 * 1024];
        while (true)
        {
            bool more;
            using (var idle = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
            {
                try
                {
                    more = await sub.Reader.WaitToReadAsync(idle.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // keep-alive comment; also notices a client that went away
                    await JsonLinesPublisher.SendAll(socket, ": keep-alive\n\n"u8.ToArray()).ConfigureAwait(false);
                    continue;
                }
            }

            if (!more)
            {
                break;
            }

            int used = 0;
            while (sub.Reader.TryPeek(out byte[]? json) && (used == 0 || used + json.Length + 8 <= buffer.Length))
            {
                sub.Reader.TryRead(out _);
                if (json.Length + 8 > buffer.Length)
                {
                    buffer = new byte[json.Length + 8];
                }

                prefix.CopyTo(buffer, used);
                used += prefix.Length;
                json.CopyTo(buffer, used);
                used += json.Length;
                buffer[used++] = (byte)'\n';
                buffer[used++] = (byte)'\n';
            }

            await JsonLinesPublisher.SendAll(socket, buffer.AsMemory(0, used)).ConfigureAwait(false);
            if (sub.DroppedForSlowness)
            {
                break;
            }
        }

        socket.Shutdown(SocketShutdown.Send);
    }

    /// <summary>Reads the request head (bounded); returns (200, target) for a GET, else the status to answer.</summary>
    private async Task<(int Status, string? Target)> ReadRequest(Socket socket)
    {
        byte[] head = new byte[_options.MaxRequestHeadBytes];
        int used = 0;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_acceptor.Stopping);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            while (true)
            {
                if (used == head.Length)
                {
                    return (431, null);
                }

                int n = await socket.ReceiveAsync(head.AsMemory(used), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (n <= 0)
                {
                    return (400, null);
                }

                int before = used;
                used += n;
                (int status, string? target) = HttpRequestHead.Received(head.AsSpan(0, used), before);
                if (status != 0)
                {
                    return (status, target);
                }
            }
        }
        catch (OperationCanceledException) when (!_acceptor.Stopping.IsCancellationRequested)
        {
            return (408, null);
        }
    }

    private static async Task Respond(Socket socket, int status, string contentType, string body)
    {
        string reason = status switch
        {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            408 => "Request Timeout",
            503 => "Service Unavailable",
            _ => "Request Header Fields Too Large",
        };
        byte[] payload = Encoding.UTF8.GetBytes(body);
        string head = $"HTTP/1.1 {status} {reason}\r\nContent-Type: {contentType}; charset=utf-8\r\nContent-Length: {payload.Length}\r\nConnection: close\r\n{(status == 405 ? "Allow: GET\r\n" : string.Empty)}\r\n";
        await JsonLinesPublisher.SendAll(socket, JsonLinesPublisher.Ascii(head)).ConfigureAwait(false);
        await JsonLinesPublisher.SendAll(socket, payload).ConfigureAwait(false);
        socket.Shutdown(SocketShutdown.Send);
    }
}
