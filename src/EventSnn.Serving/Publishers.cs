using System.Net.Sockets;
using System.Net;
using System.Text;
using EventSnn.Pipeline;

namespace EventSnn.Serving;

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
        _ = WatchForClose(socket, sub);
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

    /// <summary>A client sends nothing; when its side closes (or the connection fails) its subscription ends at once, not at the next decision.</summary>
    private static async Task WatchForClose(Socket socket, DecisionHub.Subscription sub)
    {
        byte[] sink = new byte[256];
        try
        {
            while (await socket.ReceiveAsync(sink, SocketFlags.None).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }

        sub.Dispose();
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
