using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>A network sink pushing event batches to a peer, with what it has sent so far.</summary>
public interface IEventSender : IObserver<EventBatch>, IDisposable
{
    /// <summary>The peer (or, for a server, the listening address), e.g. <c>tcp://127.0.0.1:7777</c>.</summary>
    string Peer { get; }

    /// <summary>Events handed to the network.</summary>
    long EventsSent { get; }

    /// <summary>Datagrams (UDP) or protocol packets / writes (TCP) sent.</summary>
    long PacketsSent { get; }

    /// <summary>Bytes handed to the network.</summary>
    long BytesSent { get; }
}

/// <summary>A peer that cannot be reached or went away while sending; the message starts with the peer.</summary>
public sealed class SendException : IOException
{
    /// <summary>Creates the exception.</summary>
    public SendException(string peer, string problem, Exception? inner = null)
        : base($"{peer}: {problem}", inner) => Peer = peer;

    /// <summary>Not used; present for the standard exception constructors rule.</summary>
    public SendException()
        : this("<unknown>", "send error")
    {
    }

    /// <summary>Not used; present for the standard exception constructors rule.</summary>
    public SendException(string message)
        : this("<unknown>", message)
    {
    }

    /// <summary>Not used; present for the standard exception constructors rule.</summary>
    public SendException(string message, Exception innerException)
        : this("<unknown>", message, innerException)
    {
    }

    /// <summary>The peer (or listening address).</summary>
    public string Peer { get; }
}

/// <summary>Wire protocol of a sender.</summary>
public enum SendProtocol
{
    /// <summary>jAER: sequence-numbered UDP datagrams, or a headerless TCP stream, of big-endian (address, timestamp) pairs.</summary>
    Jaer = 0,

    /// <summary>DV (dv-processing): AEDAT4 over TCP, uint32 size + IOHeader, then packets.</summary>
    Dv = 1,

    /// <summary>AEDAT 3.x network (libcaer): a 20-byte header once (TCP) or per datagram (UDP), then AEDAT 3.1 packets.</summary>
    Aedat3 = 2,
}

/// <summary>Options of <see cref="EventSenders.Open"/>.</summary>
public sealed record SendOptions
{
    /// <summary>Wire protocol; null = from the address (udp: jAER; tcp: jAER client, or a DV server when listening).</summary>
    public SendProtocol? Protocol { get; init; }

    /// <summary>TCP: listen on the address instead of connecting to it (DV: every client that connects; jAER, AEDAT 3.x: the first client); implied by host 0.0.0.0 / [::].</summary>
    public bool Listen { get; init; }

    /// <summary>Sensor size of the events (the recording's); jAER DVS128 addresses are used for 128 x 128, DAVIS addresses otherwise.</summary>
    public SensorGeometry Geometry { get; init; }

    /// <summary>Longest wait for a TCP connection to be established.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>TCP: longest a single send may block on a peer that does not read before the send fails.</summary>
    public TimeSpan SendTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>DV: packet compression.</summary>
    public Aedat4Compression Compression { get; init; } = Aedat4Compression.Lz4;

    /// <summary>Listening: called once bound, before waiting for the first client.</summary>
    public Action<IPEndPoint>? OnListening { get; init; }
}

/// <summary>What <see cref="EventSenders.Replay"/> sent.</summary>
/// <param name="Peer">The peer or listening address.</param>
/// <param name="Events">Events sent.</param>
/// <param name="Packets">Datagrams or packets sent.</param>
/// <param name="Bytes">Bytes sent.</param>
/// <param name="Seconds">Wall time from the first batch to the end.</param>
/// <param name="Interrupted">True when cancellation stopped the replay before its end.</param>
public sealed record SendResult(string Peer, long Events, long Packets, long Bytes, double Seconds, bool Interrupted)
{
    /// <summary>Events per second of wall time.</summary>
    public double EventsPerSecond => Seconds > 0 ? Events / Seconds : 0;
}

/// <summary>
/// Replays recordings to sockets: <see cref="Open"/> makes the sender an address and protocol call
/// for (<see cref="JaerUdpSender"/>, <see cref="JaerTcpSender"/>, <see cref="Aedat4TcpSender"/>,
/// <see cref="Aedat3UdpSender"/>, <see cref="Aedat3TcpSender"/> or a listening <see cref="Aedat4Server"/>), <see cref="Replay"/> feeds a recording through
/// <see cref="EventReplay"/> (pacing, looping) into it. Batches are sent synchronously from the
/// replay thread, so a slow TCP peer slows the replay down instead of growing a queue.
/// </summary>
public static class EventSenders
{
    /// <summary>The parts of <c>tcp://host:port</c> / <c>udp://host:port</c>.</summary>
    public static (bool Tcp, string Host, int Port) ParseAddress(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!Uri.TryCreate(address, UriKind.Absolute, out Uri? uri) || uri.Port <= 0 || uri.Port > 65535 || string.IsNullOrEmpty(uri.Host)
            || (uri.AbsolutePath.Length > 1) || !LiveInspect.IsLiveAddress(address))
        {
            throw new ArgumentException($"'{address}' is not tcp://host:port or udp://host:port", nameof(address));
        }

        string host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host.Trim('[', ']') : uri.Host;
        return (uri.Scheme.Equals("tcp", StringComparison.OrdinalIgnoreCase), host, uri.Port);
    }

    /// <summary>True when the address's host means "every interface" (0.0.0.0, ::).</summary>
    public static bool IsAnyAddress(string host) =>
        IPAddress.TryParse(host, out IPAddress? ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any));

    /// <summary>Connects to (or, listening, waits for a client on) <paramref name="address"/> and returns the sender; listening returns once the first client is connected.</summary>
    /// <exception cref="ArgumentException">A bad address, or a protocol the transport does not carry.</exception>
    /// <exception cref="SendException">The peer cannot be reached (naming it).</exception>
    /// <exception cref="OperationCanceledException">Cancelled while connecting or waiting for a client.</exception>
    public static IEventSender Open(string address, SendOptions options, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        (bool tcp, string host, int port) = ParseAddress(address);
        bool listen = options.Listen || (tcp && IsAnyAddress(host));
        SendProtocol protocol = options.Protocol ?? (listen ? SendProtocol.Dv : SendProtocol.Jaer);
        if (listen && !tcp)
        {
            throw new ArgumentException($"{address}: only tcp:// listens for clients", nameof(address));
        }

        if (!tcp && protocol == SendProtocol.Dv)
        {
            throw new ArgumentException($"{address}: the DV protocol runs over tcp://, not udp://", nameof(address));
        }

        if (listen && protocol == SendProtocol.Dv)
        {
            return Listen(host, port, options, cancellation);
        }

        if (!tcp)
        {
            string ip = Resolve(host).ToString();
            return protocol == SendProtocol.Aedat3
                ? new Aedat3UdpSender(ip, port, options.Geometry)
                : new JaerUdpSender(port, ip, JaerSenderChip(options.Geometry), options.Geometry);
        }

        Socket socket = listen ? AcceptOne(host, port, options, cancellation) : Connect(host, port, options.ConnectTimeout, cancellation);
        try
        {
            socket.SendTimeout = (int)Math.Clamp(options.SendTimeout.TotalMilliseconds, 1, int.MaxValue);
            return protocol switch
            {
                SendProtocol.Dv => new Aedat4TcpSender(socket, options.Geometry, options.Compression),
                SendProtocol.Aedat3 => new Aedat3TcpSender(socket, options.Geometry),
                _ => new JaerTcpSender(socket, JaerSenderChip(options.Geometry), options.Geometry),
            };
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            socket.Dispose();
            throw new SendException(Url(tcp: true, new IPEndPoint(Resolve(host), port)), "connection lost: " + ex.Message, ex);
        }
    }

    /// <summary>
    /// Replays the recording at <paramref name="path"/> (any format <see cref="EventReaders"/> opens)
    /// into <paramref name="sender"/>, paced and looped per <paramref name="replay"/>, then completes
    /// the sender (TCP peers see the end of the stream). Returns when the recording ends, the peer
    /// fails, or <paramref name="cancellation"/> (the result says Interrupted).
    /// </summary>
    /// <exception cref="EventFormatException">The recording is malformed (naming the file and offset).</exception>
    /// <exception cref="PipelineException">Reading failed (naming the file).</exception>
    /// <exception cref="SendException">The peer went away (naming it).</exception>
    public static SendResult Replay(string path, IEventSender sender, ReplayOptions replay, ReaderOptions? reader = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(sender);
        using var done = new ManualResetEventSlim(false);
        Exception? readError = null;
        Exception? sendError = null;
        var clock = new Stopwatch();
        var gate = new Lock();
        bool stopped = false;
        var observer = System.Reactive.Observer.Create<EventBatch>(
            batch =>
            {
                lock (gate)
                {
                    if (stopped || sendError is not null || cancellation.IsCancellationRequested)
                    {
                        return;
                    }

                    try
                    {
                        clock.Start();
                        sender.OnNext(batch);
                    }
                    catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
                    {
                        sendError = ex;
                        done.Set();
                    }
                }
            },
            ex =>
            {
                readError = ex;
                done.Set();
            },
            done.Set);
        using (EventReplay.ReplayFile(path, reader, replay).Subscribe(observer))
        {
            WaitHandle.WaitAny([done.WaitHandle, cancellation.WaitHandle]);
            if (!gate.TryEnter(TimeSpan.FromSeconds(1)))
            {
                // a send is blocked on a peer that does not read: closing the socket ends it
                sender.Dispose();
                gate.Enter();
                sendError = null; // the failure is the close we just did
            }

            stopped = true; // the batch in flight has been sent (or failed); no more after this
            gate.Exit();
        }

        bool interrupted = !done.IsSet || (cancellation.IsCancellationRequested && readError is null && sendError is null);
        if (readError is not null)
        {
            throw readError;
        }

        if (sendError is not null)
        {
            throw new SendException(sender.Peer, $"send failed after {sender.EventsSent} events: {sendError.Message}", sendError);
        }

        try
        {
            sender.OnCompleted();
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
        {
            if (!interrupted)
            {
                throw new SendException(sender.Peer, $"ending the stream failed after {sender.EventsSent} events: {ex.Message}", ex);
            }
        }

        clock.Stop();
        return new SendResult(sender.Peer, sender.EventsSent, sender.PacketsSent, sender.BytesSent, clock.Elapsed.TotalSeconds, interrupted);
    }

    /// <summary>The jAER address layout for a sensor: DVS128 for 128 x 128 (or unknown), DAVIS otherwise.</summary>
    public static JaerChip JaerSenderChip(SensorGeometry geometry) =>
        !geometry.IsKnown || (geometry.Width == 128 && geometry.Height == 128) ? JaerChip.Dvs128 : JaerChip.Davis;

    internal static string Url(bool tcp, EndPoint endpoint) => (tcp ? "tcp://" : "udp://") + endpoint;

    private static IPAddress Resolve(string host)
    {
        if (IPAddress.TryParse(host, out IPAddress? ip))
        {
            return ip;
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        try
        {
            IPAddress[] found = Dns.GetHostAddresses(host);
            return found.Length > 0 ? found[0] : throw new SendException(host, "host not found");
        }
        catch (SocketException ex)
        {
            throw new SendException(host, "host not found: " + ex.Message, ex);
        }
    }

    private static Socket Connect(string host, int port, TimeSpan timeout, CancellationToken cancellation)
    {
        var endpoint = new IPEndPoint(Resolve(host), port);
        string peer = Url(tcp: true, endpoint);
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            limit.CancelAfter(timeout);
            try
            {
                socket.ConnectAsync(endpoint, limit.Token).AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                throw new SendException(peer, $"cannot connect: no answer within {timeout.TotalSeconds:0.#} s");
            }
            catch (SocketException ex)
            {
                throw new SendException(peer, "cannot connect: " + ex.Message, ex);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Listens on host:port, accepts the first client and stops listening.</summary>
    private static Socket AcceptOne(string host, int port, SendOptions options, CancellationToken cancellation)
    {
        var listener = new TcpListener(Resolve(host), port);
        try
        {
            listener.Start();
        }
        catch (SocketException ex)
        {
            throw new SendException($"tcp://{host}:{port}", "cannot listen: " + ex.Message, ex);
        }

        try
        {
            options.OnListening?.Invoke((IPEndPoint)listener.LocalEndpoint);
            Socket socket = listener.AcceptSocketAsync(cancellation).AsTask().GetAwaiter().GetResult();
            socket.NoDelay = true;
            return socket;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static Aedat4Server Listen(string host, int port, SendOptions options, CancellationToken cancellation)
    {
        Aedat4Server server;
        try
        {
            server = new Aedat4Server(new Aedat4ServerOptions
            {
                Host = Resolve(host).ToString(),
                Port = port,
                Geometry = options.Geometry,
                Compression = options.Compression,
                Triggers = false,
            });
        }
        catch (SocketException ex)
        {
            throw new SendException($"tcp://{host}:{port}", "cannot listen: " + ex.Message, ex);
        }

        try
        {
            options.OnListening?.Invoke(server.LocalEndPoint);
            while (!server.WaitForClients(1, TimeSpan.FromMilliseconds(100)))
            {
                cancellation.ThrowIfCancellationRequested();
            }

            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }
}
