using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>What the AEDAT4 server does with a client whose queue is full.</summary>
public enum SlowClientPolicy
{
    /// <summary>Block the producer until the client has room (lossless; a stuck client stalls the pipeline up to <see cref="Aedat4ServerOptions.SendTimeout"/>, then is dropped).</summary>
    Wait = 0,

    /// <summary>Drop the client's oldest queued packet (counted).</summary>
    DropOldest = 1,

    /// <summary>Disconnect the client (counted).</summary>
    Disconnect = 2,
}

/// <summary>Options of <see cref="Aedat4Server"/>.</summary>
public sealed record Aedat4ServerOptions
{
    /// <summary>Address to listen on (loopback unless configured).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port (0 = ephemeral, see <see cref="Aedat4Server.LocalEndPoint"/>; DV's default output port is 7777).</summary>
    public int Port { get; init; }

    /// <summary>Sensor size announced in the IOHeader's infoNode.</summary>
    public SensorGeometry Geometry { get; init; }

    /// <summary>Packet compression announced and used.</summary>
    public Aedat4Compression Compression { get; init; } = Aedat4Compression.Lz4;

    /// <summary>Largest number of events per EVTS packet.</summary>
    public int EventsPerPacket { get; init; } = 8192;

    /// <summary>Also serve triggers (a TRIG stream).</summary>
    public bool Triggers { get; init; } = true;

    /// <summary>Packets queued per client.</summary>
    public int ClientQueuePackets { get; init; } = 256;

    /// <summary>Slow client policy.</summary>
    public SlowClientPolicy SlowClients { get; init; } = SlowClientPolicy.Wait;

    /// <summary>With <see cref="SlowClientPolicy.Wait"/>: longest wait before a stuck client is dropped.</summary>
    public TimeSpan SendTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// A DV-compatible AEDAT4 TCP server sink: every client that connects gets uint32 size +
/// IOHeader FlatBuffer (dataTablePosition -1), then the packets of the batches this observer
/// receives, encoded once by <see cref="Aedat4Writer"/> (LZ4/zstd per the options) and fanned out
/// to each client's bounded queue. Late clients start at the next packet. OnCompleted drains the
/// queues and closes the connections, so clients see the end of the stream. Listens on loopback
/// unless configured.
/// </summary>
public sealed class Aedat4Server : IEventSender
{
    private readonly Aedat4ServerOptions _options;
    private readonly SocketAcceptor _acceptor;
    private readonly CancellationTokenSource _cts = new();
    private readonly List<Client> _clients = [];
    private readonly Lock _gate = new();
    private readonly FramingStream _framing;
    private readonly Aedat4Writer _writer;
    private readonly AtomicCount _packets = new();
    private readonly AtomicCount _events = new();
    private readonly AtomicCount _bytes = new();
    private readonly AtomicCount _dropped = new();
    private readonly AtomicCount _accepted = new();
    private readonly AtomicCount _disconnected = new();
    private bool _completed;
    private bool _disposed;

    /// <summary>Starts listening.</summary>
    public Aedat4Server(Aedat4ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ClientQueuePackets, 1);
        _options = options;
        _framing = new FramingStream(this);
        _writer = new Aedat4Writer(_framing, new Aedat4WriterOptions
        {
            Compression = options.Compression,
            Geometry = options.Geometry,
            EventsPerPacket = options.EventsPerPacket,
            Triggers = options.Triggers,
            WriteTable = false,
            LeaveOpen = true,
        });
        _acceptor = new SocketAcceptor(IPAddress.Parse(options.Host), options.Port, (socket, _) => Accept(socket));
        LocalEndPoint = _acceptor.EndPoint;
        PipelineMetrics.Observe(this);
    }

    /// <summary>Where the server listens.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The listening address as tcp://host:port.</summary>
    public string Peer => EventSenders.Url(tcp: true, LocalEndPoint);

    /// <summary>Events encoded (each sent to every connected client).</summary>
    public long EventsSent => _events.Value;

    /// <summary>Same as <see cref="Packets"/>.</summary>
    public long PacketsSent => Packets;

    /// <summary>Connected clients.</summary>
    public int ClientCount
    {
        get
        {
            lock (_gate)
            {
                return _clients.Count;
            }
        }
    }

    /// <summary>Packets produced (each sent to every client).</summary>
    public long Packets => _packets.Value;

    /// <summary>Bytes sent over all clients.</summary>
    public long BytesSent => _bytes.Value;

    /// <summary>Packets dropped for slow clients.</summary>
    public long DroppedPackets => _dropped.Value;

    /// <summary>Clients accepted so far.</summary>
    public long ClientsAccepted => _accepted.Value;

    /// <summary>Clients disconnected by the server (slow) or by themselves.</summary>
    public long ClientsDisconnected => _disconnected.Value;

    /// <summary>Waits until at least <paramref name="count"/> clients are connected.</summary>
    public bool WaitForClients(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (ClientCount < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            Thread.Sleep(2);
        }

        return true;
    }

    /// <summary>Encodes the batch's events (and triggers) into packets and queues them for every client.</summary>
    public void OnNext(EventBatch value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_writer)
        {
            if (_completed || _disposed)
            {
                return;
            }

            _writer.WriteEvents(value);
            _writer.Flush();
            _events.Add(value.Count);
        }
    }

    /// <summary>Sends what is pending, then closes every client after its queue drains.</summary>
    public void OnCompleted()
    {
        lock (_writer)
        {
            if (_completed || _disposed)
            {
                return;
            }

            _writer.Flush();
            _completed = true;
        }

        Client[] clients;
        lock (_gate)
        {
            clients = [.. _clients];
        }

        foreach (Client c in clients)
        {
            c.Queue.Writer.TryComplete();
        }

        Task.WaitAll([.. clients.Select(c => c.Sender)], _options.SendTimeout);
    }

    /// <summary>Same as <see cref="OnCompleted"/> (the error is the producer's; clients just see the end).</summary>
    public void OnError(Exception error) => OnCompleted();

    /// <summary>Stops listening and closes every connection.</summary>
    public void Dispose()
    {
        lock (_writer)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _cts.Cancel();
        _acceptor.StopAccepting();
        Client[] clients;
        lock (_gate)
        {
            clients = [.. _clients];
            _clients.Clear();
        }

        foreach (Client c in clients)
        {
            c.Queue.Writer.TryComplete();
            c.Socket.Dispose();
        }

        _acceptor.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(3));
        _writer.Dispose();
        _cts.Dispose();
    }

    /// <summary>One accepted client: the header, then every packet, from its own bounded queue.</summary>
    private Task Accept(Socket socket)
    {
        if (_cts.IsCancellationRequested)
        {
            socket.Dispose();
            return Task.CompletedTask;
        }

        var queue = Channel.CreateBounded<byte[]>(
            new BoundedChannelOptions(_options.ClientQueuePackets)
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = _options.SlowClients == SlowClientPolicy.DropOldest ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.Wait,
            },
            _ => _dropped.Increment());
        var client = new Client(socket, queue);
        // the header first, then whatever packets come after it
        lock (_writer)
        {
            queue.Writer.TryWrite(_framing.Header);
            if (_completed)
            {
                queue.Writer.TryComplete();
            }

            lock (_gate)
            {
                _clients.Add(client);
            }
        }

        _accepted.Increment();
        client.Sender = Task.Run(() => SendLoop(client));
        return client.Sender;
    }

    private async Task SendLoop(Client client)
    {
        try
        {
            await foreach (byte[] packet in client.Queue.Reader.ReadAllAsync(_cts.Token).ConfigureAwait(false))
            {
                int sent = 0;
                while (sent < packet.Length)
                {
                    sent += await client.Socket.SendAsync(packet.AsMemory(sent), SocketFlags.None, _cts.Token).ConfigureAwait(false);
                }

                _bytes.Add(packet.Length);
            }

            client.Socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
        }
        finally
        {
            Remove(client);
        }
    }

    private void Remove(Client client)
    {
        lock (_gate)
        {
            if (!_clients.Remove(client))
            {
                return;
            }
        }

        client.Queue.Writer.TryComplete();
        _disconnected.Increment();
        client.Socket.Dispose();
    }

    /// <summary>Called by the framing stream for every complete packet the writer produced.</summary>
    private void Broadcast(byte[] packet)
    {
        _packets.Increment();
        Client[] clients;
        lock (_gate)
        {
            clients = [.. _clients];
        }

        foreach (Client c in clients)
        {
            if (c.Queue.Writer.TryWrite(packet))
            {
                continue;
            }

            switch (_options.SlowClients)
            {
                case SlowClientPolicy.Disconnect:
                    _dropped.Increment();
                    Remove(c);
                    break;
                case SlowClientPolicy.Wait:
                    bool ok;
                    try
                    {
                        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);
                        timeout.CancelAfter(_options.SendTimeout);
                        ok = c.Queue.Writer.WriteAsync(packet, timeout.Token).AsTask().Wait(_options.SendTimeout);
                    }
                    catch (AggregateException)
                    {
                        ok = false;
                    }

                    if (!ok)
                    {
                        _dropped.Increment();
                        Remove(c);
                    }

                    break;
            }
        }
    }

    private sealed class Client(Socket socket, Channel<byte[]> queue)
    {
        public Socket Socket { get; } = socket;

        public Channel<byte[]> Queue { get; } = queue;

        public Task Sender { get; set; } = Task.CompletedTask;
    }

    /// <summary>
    /// Receives the writer's file bytes: drops the 14-byte '#!AER-DAT4.0\r\n' line (absent on the
    /// network), keeps uint32 size + IOHeader as the per-client greeting, and cuts the rest into
    /// whole (streamId, size, payload) packets for broadcasting.
    /// </summary>
    private sealed class FramingStream(Aedat4Server server) : Stream
    {
        private const int MagicBytes = 14;
        private byte[] _buffer = new byte[1 << 16];
        private int _length;
        private long _seen;

        public byte[] Header { get; private set; } = [];

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _seen;
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_seen < MagicBytes)
            {
                int skip = (int)Math.Min(MagicBytes - _seen, buffer.Length);
                buffer = buffer[skip..];
                _seen += skip;
            }

            _seen += buffer.Length;
            if (_buffer.Length - _length < buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + buffer.Length));
            }

            buffer.CopyTo(_buffer.AsSpan(_length));
            _length += buffer.Length;
            Cut();
        }

        private void Cut()
        {
            int offset = 0;
            while (true)
            {
                ReadOnlySpan<byte> rest = _buffer.AsSpan(offset, _length - offset);
                if (Header.Length == 0)
                {
                    if (rest.Length < 4)
                    {
                        break;
                    }

                    int size = (int)BinaryPrimitives.ReadUInt32LittleEndian(rest);
                    if (rest.Length < 4 + size)
                    {
                        break;
                    }

                    Header = rest[..(4 + size)].ToArray();
                    offset += 4 + size;
                    continue;
                }

                if (rest.Length < 8)
                {
                    break;
                }

                int payload = BinaryPrimitives.ReadInt32LittleEndian(rest[4..]);
                if (rest.Length < 8 + payload)
                {
                    break;
                }

                server.Broadcast(rest[..(8 + payload)].ToArray());
                offset += 8 + payload;
            }

            if (offset > 0)
            {
                _buffer.AsSpan(offset, _length - offset).CopyTo(_buffer);
                _length -= offset;
            }
        }
    }
}
