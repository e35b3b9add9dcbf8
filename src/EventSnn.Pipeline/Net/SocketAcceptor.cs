using System.Net;
using System.Net.Sockets;

namespace EventSnn.Pipeline;

/// <summary>
/// The one TCP accept loop of the servers (serve's stream inputs and decision publisher, the DV
/// server sink): listens on a port, hands every accepted socket (NoDelay) to a handler together
/// with the number of connections still being served (so the handler can refuse beyond its
/// limit), and at shutdown stops accepting and waits, bounded, for the handlers to finish.
/// </summary>
internal sealed class SocketAcceptor : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _clients = [];
    private readonly Lock _gate = new();
    private readonly Func<Socket, int, Task> _handle;
    private readonly Task _accept;

    /// <summary>Starts listening on <paramref name="address"/>:<paramref name="port"/> (0 = ephemeral); a port that cannot be bound is an <see cref="IOException"/> naming it.</summary>
    /// <param name="address">Address to bind.</param>
    /// <param name="port">Port to bind.</param>
    /// <param name="handle">Serves one accepted socket (which it owns); the second argument is the number of connections being served.</param>
    public SocketAcceptor(IPAddress address, int port, Func<Socket, int, Task> handle)
    {
        _handle = handle;
        _listener = new TcpListener(address, port);
        try
        {
            _listener.Start();
        }
        catch (SocketException ex)
        {
            throw new IOException($"TCP port {address}:{port}: {ex.Message}", ex);
        }

        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _accept = AcceptLoop();
    }

    /// <summary>Where it listens.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Cancelled when <see cref="StopAsync"/> is called.</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>Stops accepting (the port is released); handlers already running carry on.</summary>
    public void StopAccepting()
    {
        lock (_gate)
        {
            if (!_stop.IsCancellationRequested)
            {
                _stop.Cancel();
                _listener.Stop();
            }
        }
    }

    /// <summary>Stops accepting; waits at most <paramref name="drain"/> for the handlers to finish.</summary>
    public async Task StopAsync(TimeSpan drain)
    {
        StopAccepting();

        Task[] clients;
        lock (_gate)
        {
            clients = [.. _clients, _accept];
        }

        try
        {
            await Task.WhenAll(clients).WaitAsync(drain).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    /// <summary>Stops (draining for at most 2 s) and releases the listener.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            socket.NoDelay = true;
            lock (_gate)
            {
                _clients.RemoveAll(t => t.IsCompleted);
                _clients.Add(_handle(socket, _clients.Count));
            }
        }
    }
}
