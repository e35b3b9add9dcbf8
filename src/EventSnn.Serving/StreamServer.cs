using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Net;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;
using EventSnn.Snn;

namespace EventSnn.Serving;

/// <summary>
/// The input side of <c>eventsnn serve</c>: listens on the configured ports and runs every
/// connected stream (a DV AEDAT4 or jAER TCP connection, a jAER UDP sender endpoint) through its
/// own <see cref="WindowClassifier"/> — its own network state over the model shared by the streams of its sensor size (a stream that learns, or resumes from its own saved checkpoint, has weights of its own) — publishing decisions to
/// the <see cref="DecisionHub"/>. A peer sending garbage is disconnected with a log line naming
/// the peer and the byte offset; other streams carry on. <see cref="StopAsync"/> stops accepting,
/// decides every open window, saves per-stream checkpoints (atomically) when configured, and
/// returns when every stream has ended.
/// </summary>
public sealed class StreamServer : IAsyncDisposable
{
    private readonly ServeOptions _options;
    private readonly DecisionHub _hub;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly ConcurrentDictionary<long, Task> _sessions = new();
    private readonly ConcurrentDictionary<long, Socket> _sockets = new();
    private readonly ConcurrentDictionary<string, int> _named = new(StringComparer.Ordinal);
    private readonly List<(ServeListener Listener, IDisposable Handle, IPEndPoint EndPoint)> _bound = [];
    private readonly Dictionary<ServeListener, Func<long, long, int>> _truth = [];
    private readonly ConcurrentDictionary<(int Width, int Height), Lazy<WindowModel>> _models = new();
    private long _nextSession;
    private bool _started;

    /// <summary>Creates the server (nothing is bound until <see cref="Start"/>).</summary>
    public StreamServer(ServeOptions options, DecisionHub hub)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(hub);
        options.Validate();
        _options = options;
        _hub = hub;
    }

    /// <summary>The bound endpoints, in the order of <see cref="ServeOptions.Listeners"/>.</summary>
    public IReadOnlyList<(ServeListener Listener, IPEndPoint EndPoint)> EndPoints => [.. _bound.Select(b => (b.Listener, b.EndPoint))];

    /// <summary>Binds every listener and starts accepting.</summary>
    public void Start()
    {
        if (_started)
        {
            throw new InvalidOperationException("already started");
        }

        _started = true;
        foreach (ServeListener l in _options.Listeners)
        {
            if (l.Labels is { } labels)
            {
                // a bad labels file fails the start (EventFormatException naming the file and line)
                _truth[l] = WindowClassifier.TruthFromSegments(LabelCsv.Read(labels), l.LabelBase);
            }
        }

        if (_options.SaveDirectory is { } saves && EventSnn.Snn.Checkpoint.RemoveStaleTemporaries(saves) is > 0 and var stale)
        {
            _hub.WriteLog($"removed {stale} temporary files of interrupted checkpoint saves from {saves}");
        }

        IPAddress address = ResolveBind(_options.Bind);
        try
        {
            foreach (ServeListener l in _options.Listeners)
            {
                if (l.Kind == ServeInputKind.JaerUdp)
                {
                    var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 8 << 20 };
                    try
                    {
                        socket.Bind(new IPEndPoint(address, l.Port));
                    }
                    catch (SocketException ex)
                    {
                        socket.Dispose();
                        throw new IOException($"UDP port {address}:{l.Port}: {ex.Message}", ex);
                    }

                    socket.ReceiveTimeout = 200;
                    _bound.Add((l, socket, (IPEndPoint)socket.LocalEndPoint!));
                    _loops.Add(Task.Factory.StartNew(() => UdpLoop(l, socket), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
                }
                else
                {
                    var acceptor = new SocketAcceptor(address, l.Port, (socket, _) => Accept(l, socket));
                    _bound.Add((l, new AcceptorHandle(acceptor), acceptor.EndPoint));
                }
            }
        }
        catch
        {
            foreach (var b in _bound)
            {
                b.Handle.Dispose();
            }

            throw;
        }
    }

    /// <summary>Stops accepting, ends every stream (deciding its open window and saving its checkpoint) and waits for them.</summary>
    public async Task StopAsync(CancellationToken cancellation = default)
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        _stop.Cancel();
        foreach (var b in _bound)
        {
            b.Handle.Dispose();
        }

        foreach (Socket s in _sockets.Values)
        {
            try
            {
                s.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }

            s.Dispose();
        }

        Task all = Task.WhenAll([.. _loops, .. _sessions.Values]);
        try
        {
            await all.WaitAsync(TimeSpan.FromSeconds(10), cancellation).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _hub.WriteLog("some streams did not end within 10 s of the stop request");
        }
    }

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private static IPAddress ResolveBind(string bind)
    {
        if (IPAddress.TryParse(bind, out IPAddress? ip))
        {
            return ip;
        }

        if (string.Equals(bind, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        IPAddress[] found = Dns.GetHostAddresses(bind);
        return found.Length > 0 ? found[0] : throw new ArgumentException($"bind address '{bind}' not found");
    }

    /// <summary>One accepted connection of listener <paramref name="l"/>: refused, or its stream's session (a long-running task).</summary>
    private Task Accept(ServeListener l, Socket socket)
    {
        if (_stop.IsCancellationRequested)
        {
            socket.Dispose();
            return Task.CompletedTask;
        }

        string peer = socket.RemoteEndPoint?.ToString() ?? "?";
        string id = l.Name ?? ServeListener.KindName(l.Kind) + ":" + peer;
        if (l.Name is not null && !_named.TryAdd(l.Name, 0))
        {
            _hub.WriteLog($"{id}: refused a second connection from {peer} while the named stream is connected");
            socket.Dispose();
            return Task.CompletedTask;
        }

        StreamStatus? status = _hub.TryBegin(id, l.Kind, peer);
        if (status is null)
        {
            _hub.WriteLog($"{id}: refused ({_options.MaxStreams} streams active, or the id is in use)");
            if (l.Name is not null)
            {
                _named.TryRemove(l.Name, out _);
            }

            socket.Dispose();
            return Task.CompletedTask;
        }

        if (_options.InputIdleTimeout != Timeout.InfiniteTimeSpan)
        {
            // a blocked read ends with a timeout: the session reports the stream idle and ends it
            socket.ReceiveTimeout = (int)Math.Min(int.MaxValue, _options.InputIdleTimeout.TotalMilliseconds);
        }

        long key = Interlocked.Increment(ref _nextSession);
        _sockets[key] = socket;
        Task session = Task.Factory.StartNew(() => TcpSession(l, socket, status), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        _sessions[key] = session;
        _ = session.ContinueWith(
            finished =>
            {
                _sessions.TryRemove(key, out _);
                _sockets.TryRemove(key, out _);
                if (l.Name is not null)
                {
                    _named.TryRemove(l.Name, out _);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return session;
    }

    private void TcpSession(ServeListener l, Socket socket, StreamStatus status)
    {
        string id = status.Id;
        _hub.WriteLog($"{id}: connected from {status.Peer}");
        WindowClassifier? classifier = null;
        string? error = null;
        var stream = new CountingStream(new NetworkStream(socket, ownsSocket: true), status);
        try
        {
            if (l.Kind == ServeInputKind.Dv)
            {
                using var reader = new Aedat4Reader(stream, id, _options.Reader with { Strict = true }, networkStream: true, leaveOpen: true);
                SensorGeometry geometry = reader.Geometry.IsKnown ? reader.Geometry : _options.DefaultGeometry;
                classifier = CreateClassifier(l, id, geometry);
                using var batch = new EventBatch();
                while (reader.Read(batch))
                {
                    Feed(classifier, batch, status);
                }
            }
            else
            {
                classifier = CreateClassifier(l, id, JaerGeometry);
                JaerTcp(stream, classifier, status);
            }
        }
        catch (EventFormatException ex) when (ex.IsTruncation)
        {
            error = _stop.IsCancellationRequested ? null : $"disconnected inside a packet at byte {ex.Offset}";
            if (error is not null)
            {
                _hub.WriteLog($"{id}: {error}");
            }
        }
        catch (EventFormatException ex)
        {
            error = $"bad input at byte {ex.Offset}: {ex.Problem}";
            _hub.WriteLog($"{id}: peer {status.Peer} dropped: {ex.Message}");
        }
        catch (CheckpointException ex)
        {
            error = ex.Message;
            _hub.WriteLog($"{id}: peer {status.Peer} dropped: {ex.Message}");
        }
        catch (IOException ex) when (IsIdleTimeout(ex) && !_stop.IsCancellationRequested)
        {
            error = $"idle: nothing received for {_options.InputIdleTimeout.TotalSeconds:0.###} s, closed";
            _hub.WriteLog($"{id}: {error}");
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            if (!_stop.IsCancellationRequested)
            {
                error = "connection lost: " + ex.Message;
                _hub.WriteLog($"{id}: {error}");
            }
        }
        catch (Exception ex)
        {
            error = $"failed at byte {stream.Position}: {ex.Message}";
            _hub.WriteLog($"{id}: peer {status.Peer} dropped: {error}");
        }
        finally
        {
            // decide, save and account first: the peer sees the close only when its stream is done
            Finish(classifier, status, error);
            stream.Dispose();
        }
    }

    private void JaerTcp(CountingStream stream, WindowClassifier classifier, StreamStatus status)
    {
        var decoder = new JaerStreamDecoder(_options.Chip, _options.DefaultGeometry);
        using var sink = new ClassifierSink(this, classifier, status);
        while (true)
        {
            int n = stream.Read(decoder.Free);
            if (n <= 0)
            {
                return;
            }

            decoder.Received(n, sink);
        }
    }

    private void UdpLoop(ServeListener l, Socket socket)
    {
        var streams = new Dictionary<EndPoint, UdpStream>();
        byte[] buffer = new byte[65536];
        EndPoint any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        var batch = new EventBatch();
        long lastSweep = Environment.TickCount64;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                int n = -1;
                EndPoint from = any;
                try
                {
                    n = socket.ReceiveFrom(buffer, ref from);
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock or SocketError.ConnectionReset or SocketError.MessageSize)
                {
                }
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                    break;
                }

                if (n >= 0)
                {
                    Datagram(l, streams, from, buffer.AsSpan(0, n), batch);
                }

                long now = Environment.TickCount64;
                if (now - lastSweep >= 100)
                {
                    lastSweep = now;
                    foreach ((EndPoint key, UdpStream s) in streams.ToArray())
                    {
                        if (now - s.LastSeen >= _options.UdpIdleTimeout.TotalMilliseconds)
                        {
                            streams.Remove(key);
                            EndUdp(s);
                        }
                    }
                }
            }
        }
        finally
        {
            foreach (UdpStream s in streams.Values)
            {
                EndUdp(s);
            }

            batch.Dispose();
        }
    }

    private void Datagram(ServeListener l, Dictionary<EndPoint, UdpStream> streams, EndPoint from, ReadOnlySpan<byte> data, EventBatch batch)
    {
        streams.TryGetValue(from, out UdpStream? s);
        if (s is { Ended: true })
        {
            streams.Remove(from);
            s = null;
        }

        if (s is null)
        {
            string peer = from.ToString() ?? "?";
            string id = l.Name ?? ServeListener.KindName(l.Kind) + ":" + peer;
            if (l.Name is not null)
            {
                foreach (UdpStream other in streams.Values)
                {
                    if (other.Status.Id == id && !other.Ended)
                    {
                        s = other;
                        other.Status.Peer = peer;
                        break;
                    }
                }
            }

            if (s is null)
            {
                StreamStatus? status = _hub.TryBegin(id, l.Kind, peer);
                if (status is null)
                {
                    return; // over the stream limit: ignored (UDP has no connection to refuse)
                }

                _hub.WriteLog($"{id}: first datagram from {peer}");
                WindowClassifier classifier;
                try
                {
                    classifier = CreateClassifier(l, id, JaerGeometry);
                }
                catch (Exception ex) when (ex is CheckpointException or EventSnn.Transforms.PreprocessingException)
                {
                    _hub.WriteLog($"{id}: dropped: {ex.Message}");
                    _hub.End(status, ex.Message);
                    return;
                }

                s = new UdpStream(status, new JaerDatagramDecoder(_options.Chip, _options.DefaultGeometry, numbered: true, new LiveSourceStatistics()), new ClassifierSink(this, classifier, status, batch));
            }

            streams[from] = s;
        }

        s.LastSeen = Environment.TickCount64;
        s.Sink.Position = s.Status.Bytes;
        s.Status._bytes.Add(data.Length);
        s.Decoder.Decode(data, s.Sink);
        s.Sink.Flush();
    }

    private void EndUdp(UdpStream s)
    {
        // a named UDP stream may be reachable from several sender endpoints: end it once
        if (!s.Ended)
        {
            s.Ended = true;
            Finish(s.Classifier, s.Status, null);
        }
    }

    private void Feed(WindowClassifier classifier, EventBatch batch, StreamStatus status)
    {
        long outOfRange = classifier.OutOfRange;
        long events = classifier.Events;
        long decisions = classifier.Decisions;
        if (_hub.FrameSubscribers > 0)
        {
            status.Preview ??= new FramePreview(status.Id, classifier.Geometry, _options.FrameInterval);
            status.Preview.Add(batch);
        }

        classifier.Process(batch, _hub.Publish);
        if (status.Preview?.TakeIfDue() is { } frame)
        {
            _hub.PublishFrame(status.Id, frame);
        }

        status._events.Add(classifier.Events - events);
        status._steps.Add((classifier.Decisions - decisions) * classifier.StepsPerWindow);
        status._outOfRange.Add(classifier.OutOfRange - outOfRange);
        batch.Clear();
    }

    private static bool IsIdleTimeout(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is SocketException { SocketErrorCode: SocketError.TimedOut })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The model every stream of <paramref name="geometry"/> without a checkpoint of its own starts from, read once (a failed read is retried by the next stream).</summary>
    private WindowModel SharedModel(SensorGeometry geometry)
    {
        (int, int) key = (geometry.Width, geometry.Height);
        Lazy<WindowModel> model = _models.GetOrAdd(key, _ => new Lazy<WindowModel>(() => WindowModel.Load(geometry, _options.Model)));
        try
        {
            return model.Value;
        }
        catch
        {
            _models.TryRemove(new KeyValuePair<(int, int), Lazy<WindowModel>>(key, model));
            throw;
        }
    }

    /// <summary>jAER DVS128 addresses are always 128 x 128; DAVIS ones use the configured size.</summary>
    private SensorGeometry JaerGeometry => _options.Chip == JaerChip.Dvs128 ? SensorGeometry.Dvs128 : _options.DefaultGeometry;

    private WindowClassifier CreateClassifier(ServeListener l, string id, SensorGeometry geometry)
    {
        // a named stream resumes from its own saved state when there is one
        // the others share one read of the model per sensor size
        string? own = _options.SaveDirectory is { } dir ? CheckpointPath(dir, id) : null;
        var classifier = own is not null && File.Exists(own)
            ? new WindowClassifier(id, geometry, _options.Model, own)
            : new WindowClassifier(id, geometry, SharedModel(geometry));
        if (_truth.TryGetValue(l, out Func<long, long, int>? truth))
        {
            classifier.TruthOf = truth;
            classifier.Learning = _options.Learn;
        }

        return classifier;
    }

    private void Finish(WindowClassifier? classifier, StreamStatus status, string? error)
    {
        try
        {
            if (classifier is not null)
            {
                long decisions = classifier.Decisions;
                classifier.Flush(_hub.Publish);
                status._steps.Add((classifier.Decisions - decisions) * classifier.StepsPerWindow);
                if (_options.SaveDirectory is { } dir)
                {
                    Directory.CreateDirectory(dir);
                    string path = CheckpointPath(dir, status.Id);
                    classifier.Save(path);
                    status.Checkpoint = path;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CheckpointException)
        {
            _hub.WriteLog($"{status.Id}: could not save the checkpoint: {ex.Message}");
        }
        finally
        {
            _hub.End(status, error);
            _hub.WriteLog($"{status.Id}: ended ({status.Events} events, {status.Decisions} decisions{(error is null ? string.Empty : ", " + error)})");
        }
    }

    /// <summary>The checkpoint file of stream <paramref name="id"/> in <paramref name="directory"/> (unsafe characters become '_').</summary>
    public static string CheckpointPath(string directory, string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        char[] name = id.ToCharArray();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.'))
            {
                name[i] = '_';
            }
        }

        return Path.Combine(directory, new string(name) + ".ckpt");
    }

    private sealed class UdpStream(StreamStatus status, JaerDatagramDecoder decoder, ClassifierSink sink)
    {
        public StreamStatus Status { get; } = status;

        public WindowClassifier Classifier => Sink.Classifier;

        public JaerDatagramDecoder Decoder { get; } = decoder;

        public ClassifierSink Sink { get; } = sink;

        public long LastSeen { get; set; }

        public bool Ended { get; set; }
    }

    /// <summary>Feeds what a protocol decoder produces to a stream's classifier; malformed input is counted and logged (the first 10 times).</summary>
    private sealed class ClassifierSink(StreamServer server, WindowClassifier classifier, StreamStatus status, EventBatch? shared = null) : IDecodeSink, IDisposable
    {
        private readonly EventBatch _batch = shared ?? new EventBatch();
        private readonly bool _owns = shared is null;

        public WindowClassifier Classifier => classifier;

        /// <summary>Stream byte where the datagram being decoded starts (for log lines).</summary>
        public long Position { get; set; }

        public EventBatch Batch => _batch;

        public void Reserve(int events)
        {
            if (_batch.Remaining < events)
            {
                Flush();
            }
        }

        public void Flush()
        {
            if (_batch.Count > 0 || _batch.Triggers.Count > 0)
            {
                server.Feed(classifier, _batch, status);
            }

            _batch.Clear();
        }

        public void Fault(LiveFaultKind kind, string message)
        {
            if (kind == LiveFaultKind.Malformed && status._malformed.Increment() <= 10)
            {
                server._hub.WriteLog($"{status.Id}: malformed input at stream byte {Position}: {message}: skipped");
            }
        }

        public void Dispose()
        {
            if (_owns)
            {
                _batch.Dispose();
            }
        }
    }

    /// <summary>Stops a TCP listener's accepting (its sessions are ended by <see cref="StopAsync"/>).</summary>
    private sealed class AcceptorHandle(SocketAcceptor acceptor) : IDisposable
    {
        public void Dispose() => acceptor.StopAccepting();
    }

    /// <summary>Read-only pass-through that counts bytes into the stream status (for /health).</summary>
    private sealed class CountingStream(Stream inner, StreamStatus status) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            if (n > 0)
            {
                _position += n;
                status._bytes.Add(n);
            }

            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
