using System.Net;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>
/// A live network source of DVS events as an observable of pooled batches. Each subscription
/// opens its own socket and runs a dedicated receive thread; batches are emitted on that thread
/// and are valid only during OnNext. Faults (disconnects, lost/reordered/duplicate datagrams,
/// malformed packets) are survived, counted in <see cref="Statistics"/> and reported through
/// <see cref="LiveSourceOptions.OnFault"/>; they never end the stream. The stream ends
/// (OnCompleted) when a TCP peer closes and reconnecting is off, and fails (OnError, a
/// <see cref="PipelineException"/> naming the peer) only when reconnecting is off and the first
/// connection cannot be made, or after <see cref="LiveSourceOptions.MaxReconnects"/> attempts.
/// Dispose the subscription to stop: the socket is closed and the thread ends.
/// </summary>
public abstract class LiveSource : IObservable<EventBatch>
{
    private LiveRun? _current;

    /// <summary>Creates the source.</summary>
    private protected LiveSource(LiveSourceOptions options, string scheme)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        SourceName = $"{scheme}://{options.Host}:{options.Port}";
        Geometry = options.Geometry;
        PipelineMetrics.Observe(this);
    }

    /// <summary>The options.</summary>
    public LiveSourceOptions Options { get; }

    /// <summary>Peer or bind address as a URI-like name (used in errors and faults).</summary>
    public string SourceName { get; private protected set; }

    /// <summary>Counters (shared by the subscriptions of this source).</summary>
    public LiveSourceStatistics Statistics { get; } = new();

    /// <summary>Sensor size: from the options, or announced by the stream (AEDAT4 header).</summary>
    public SensorGeometry Geometry { get; internal set; }

    /// <summary>The local endpoint once bound (UDP sources; useful with port 0).</summary>
    public IPEndPoint? LocalEndPoint { get; internal set; }

    /// <summary>Starts receiving for <paramref name="observer"/>.</summary>
    public IDisposable Subscribe(IObserver<EventBatch> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        LiveRun run = CreateRun(observer);
        _current = run;
        run.Start();
        return run;
    }

    /// <summary>Waits until the current subscription has connected (TCP) or bound (UDP) at least once.</summary>
    public bool WaitConnected(TimeSpan timeout) => _current?.WaitConnected(timeout) ?? false;

    private protected abstract LiveRun CreateRun(IObserver<EventBatch> observer);

    internal void Fault(LiveFaultKind kind, long position, string message)
    {
        Options.OnFault?.Invoke(new LiveFault(kind, SourceName, position, message));
    }
}

/// <summary>One subscription of a live source: a receive thread and its sockets.</summary>
internal abstract class LiveRun : IDisposable, IDecodeSink
{
    private readonly CancellationTokenSource _cts = new();
    private readonly ManualResetEventSlim _connected = new(false);
    private Thread? _thread;
    private volatile bool _stopped;

    protected LiveRun(LiveSource source, IObserver<EventBatch> observer)
    {
        Source = source;
        Observer = observer;
        Batch = new EventBatch(source.Options.BatchCapacity);
    }

    protected LiveSource Source { get; }

    protected LiveSourceStatistics Stats => Source.Statistics;

    protected IObserver<EventBatch> Observer { get; }

    protected EventBatch Batch { get; private set; }

    protected bool Stopped => _stopped;

    EventBatch IDecodeSink.Batch => Batch;

    protected CancellationToken Token => _cts.Token;

    /// <summary>Bytes received on the current connection (for fault positions).</summary>
    protected long Position { get; set; }

    public void Start()
    {
        Prepare();
        _thread = new Thread(Run) { IsBackground = true, Name = "eventsnn " + Source.SourceName };
        _thread.Start();
    }

    public bool WaitConnected(TimeSpan timeout) => _connected.Wait(timeout);

    public void Dispose()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        _cts.Cancel();
        CloseSockets();
        if (_thread is not null && _thread != Thread.CurrentThread)
        {
            _thread.Join(TimeSpan.FromSeconds(2));
        }
    }

    /// <summary>Synchronous setup on the subscribing thread (UDP: bind, so the port is known).</summary>
    protected virtual void Prepare()
    {
    }

    /// <summary>The receive loop; returns at the end of the stream.</summary>
    protected abstract void Body();

    /// <summary>Closes the sockets so that a blocked receive returns.</summary>
    protected abstract void CloseSockets();

    protected void MarkConnected()
    {
        Stats._connections.Increment();
        _connected.Set();
    }

    /// <summary>Emits <see cref="Batch"/> when it holds events or triggers, then clears it.</summary>
    protected void Flush()
    {
        EventBatch batch = Batch;
        if ((batch.Count > 0 || batch.Triggers.Count > 0) && !_stopped)
        {
            Stats._events.Add(batch.Count);
            Stats._triggers.Add(batch.Triggers.Count);
            Observer.OnNext(batch);
        }

        batch.Clear();
    }

    /// <summary>Makes sure the batch can take <paramref name="events"/> more events (emitting or growing it, within the bound).</summary>
    protected void Reserve(int events)
    {
        if (Batch.Remaining >= events)
        {
            return;
        }

        Flush();
        if (Batch.Capacity < events)
        {
            Batch.Dispose();
            Batch = new EventBatch(events);
        }
    }

    void IDecodeSink.Reserve(int events) => Reserve(events);

    void IDecodeSink.Flush() => Flush();

    void IDecodeSink.Fault(LiveFaultKind kind, string message) => Fault(kind, message);

    protected void Fault(LiveFaultKind kind, string message)
    {
        switch (kind)
        {
            case LiveFaultKind.Malformed:
                Stats._malformed.Increment();
                break;
            case LiveFaultKind.Disconnected:
                Stats._disconnects.Increment();
                break;
        }

        Source.Fault(kind, Position, message);
    }

    private void Run()
    {
        try
        {
            Body();
            if (!_stopped)
            {
                Flush();
                Observer.OnCompleted();
            }
        }
        catch (Exception ex)
        {
            if (!_stopped)
            {
                Observer.OnError(PipelineException.Wrap(ex, Source.SourceName, Position));
            }
        }
        finally
        {
            CloseSockets();
            Batch.Dispose();
        }
    }
}
