using System.Threading.Channels;
using EventSnn.Events;

namespace EventSnn.Pipeline;

/// <summary>What a bounded hand-off does when the consumer falls behind.</summary>
public enum OverflowPolicy
{
    /// <summary>Block the producer (backpressure onto the source) until there is room or cancellation.</summary>
    Wait = 0,

    /// <summary>Drop the oldest queued item to make room for the new one.</summary>
    DropOldest = 1,

    /// <summary>Drop the incoming (newest) item and keep what is queued.</summary>
    DropNewest = 2,
}

/// <summary>Options of a <see cref="Handoff{T}"/>.</summary>
public sealed record HandoffOptions
{
    /// <summary>Default: 64 items, wait.</summary>
    public static HandoffOptions Default { get; } = new();

    /// <summary>Maximum number of queued items.</summary>
    public int Capacity { get; init; } = 64;

    /// <summary>Overflow policy.</summary>
    public OverflowPolicy Policy { get; init; } = OverflowPolicy.Wait;

    /// <summary>Name of the hand-off in its metrics (the <c>handoff</c> tag of <see cref="PipelineMetrics"/>); null: <c>handoff-N</c>, numbered in creation order.</summary>
    public string? Name { get; init; }
}

/// <summary>
/// The hand-off between the Rx pipeline and a consumer (the learner) through a bounded
/// <see cref="Channel{T}"/>. Ownership is explicit: every item the pipeline passes to
/// <see cref="OnNext"/> is borrowed, so the hand-off <b>copies</b> it into pooled storage
/// (<c>copy</c>); the copy is then owned by the channel, and by the consumer once read — the
/// consumer disposes it (<c>release</c>) after use. Items dropped by the overflow policy, or left
/// in the channel at disposal, are released here. Counters say what was written, dropped and
/// how often the producer had to wait (also published by <see cref="PipelineMetrics"/>).
/// </summary>
/// <typeparam name="T">Item type (time steps or event batches).</typeparam>
public sealed class Handoff<T> : IObserver<T>, IDisposable, IHandoffCounters
    where T : class
{
    private readonly Channel<T> _channel;
    private readonly Func<T, T> _copy;
    private readonly Action<T> _release;
    private readonly CancellationToken _cancellation;
    private readonly CancellationTokenRegistration _registration;
    private IDisposable? _subscription;
    private readonly string _name;
    private readonly AtomicCount _written = new();
    private readonly AtomicCount _droppedOldest = new();
    private readonly AtomicCount _droppedNewest = new();
    private readonly AtomicCount _waits = new();
    private int _disposed;

    /// <summary>Creates the hand-off.</summary>
    /// <param name="options">Capacity and policy.</param>
    /// <param name="copy">Copies a borrowed item into storage the channel owns.</param>
    /// <param name="release">Releases an owned item (returns it to its pool).</param>
    /// <param name="cancellation">Cancels end to end: unsubscribes the source and completes the channel.</param>
    public Handoff(HandoffOptions options, Func<T, T> copy, Action<T> release, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(copy);
        ArgumentNullException.ThrowIfNull(release);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Capacity, 1);
        Options = options;
        _copy = copy;
        _release = release;
        _cancellation = cancellation;
        var channelOptions = new BoundedChannelOptions(options.Capacity)
        {
            SingleReader = false,
            SingleWriter = true,
            AllowSynchronousContinuations = false,
            FullMode = options.Policy switch
            {
                OverflowPolicy.DropOldest => BoundedChannelFullMode.DropOldest,
                OverflowPolicy.DropNewest => BoundedChannelFullMode.DropWrite,
                _ => BoundedChannelFullMode.Wait,
            },
        };
        _channel = Channel.CreateBounded<T>(channelOptions, OnDropped);
        _registration = cancellation.Register(static state => ((Handoff<T>)state!).Cancel(), this);
        _name = options.Name ?? "handoff-" + PipelineMetrics.NextHandoffNumber();
        PipelineMetrics.Observe(this);
    }

    /// <summary>Capacity and policy.</summary>
    public HandoffOptions Options { get; }

    /// <summary>The consumer side. Items read are owned by the consumer: dispose/release each after use.</summary>
    public ChannelReader<T> Reader => _channel.Reader;

    /// <summary>Items accepted into the channel.</summary>
    public long Written => _written.Value;

    /// <summary>Queued items dropped to make room (<see cref="OverflowPolicy.DropOldest"/>).</summary>
    public long DroppedOldest => _droppedOldest.Value;

    /// <summary>Incoming items dropped because the channel was full (<see cref="OverflowPolicy.DropNewest"/>).</summary>
    public long DroppedNewest => _droppedNewest.Value;

    /// <summary>All items dropped.</summary>
    public long Dropped => DroppedOldest + DroppedNewest;

    /// <summary>Times the producer had to wait for room (<see cref="OverflowPolicy.Wait"/>).</summary>
    public long Waits => _waits.Value;

    string IHandoffCounters.Name => _name;

    /// <summary>Subscribes to <paramref name="source"/>; returns this hand-off (dispose to stop).</summary>
    public Handoff<T> Connect(IObservable<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (_subscription is not null)
        {
            throw new InvalidOperationException("already connected");
        }

        IDisposable subscription = source.Subscribe(this);
        _subscription = subscription;
        if (Volatile.Read(ref _disposed) != 0 || _cancellation.IsCancellationRequested)
        {
            subscription.Dispose();
        }

        return this;
    }

    /// <summary>Copies <paramref name="value"/> and queues the copy per the overflow policy.</summary>
    public void OnNext(T value)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        T item = _copy(value);
        ChannelWriter<T> writer = _channel.Writer;
        if (writer.TryWrite(item))
        {
            if (Options.Policy != OverflowPolicy.DropNewest || !ReferenceEquals(_lastDropped, item))
            {
                _written.Increment();
            }

            _lastDropped = null;
            return;
        }

        if (Options.Policy != OverflowPolicy.Wait)
        {
            // the channel was completed (disposed or cancelled)
            _release(item);
            return;
        }

        _waits.Increment();
        try
        {
            while (true)
            {
                if (!writer.WaitToWriteAsync(_cancellation).AsTask().GetAwaiter().GetResult())
                {
                    _release(item);
                    return;
                }

                if (writer.TryWrite(item))
                {
                    _written.Increment();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            _release(item);
        }
    }

    /// <summary>Completes the channel: the consumer drains what is queued and then ends.</summary>
    public void OnCompleted() => _channel.Writer.TryComplete();

    /// <summary>Completes the channel with <paramref name="error"/>: the consumer sees it after draining.</summary>
    public void OnError(Exception error) => _channel.Writer.TryComplete(error);

    /// <summary>Reads every item until completion; the consumer owns (and disposes) each item.</summary>
    public IAsyncEnumerable<T> ReadAllAsync(CancellationToken cancellationToken = default) => _channel.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Unsubscribes, completes the channel and releases queued items.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _registration.Dispose();
        _subscription?.Dispose();
        _channel.Writer.TryComplete();
        while (_channel.Reader.TryRead(out T? item))
        {
            _release(item);
        }
    }

    private T? _lastDropped;

    private void OnDropped(T item)
    {
        if (Options.Policy == OverflowPolicy.DropNewest)
        {
            _lastDropped = item;
            _droppedNewest.Increment();
        }
        else
        {
            _droppedOldest.Increment();
        }

        _release(item);
    }

    private void Cancel()
    {
        _subscription?.Dispose();
        _channel.Writer.TryComplete(new OperationCanceledException(_cancellation));
    }
}

/// <summary>Hand-off factories for the pipeline's pooled item types.</summary>
public static class HandoffExtensions
{
    /// <summary>
    /// Hands time steps to a bounded channel: each borrowed step is copied into a step rented from
    /// <paramref name="pool"/> (created for the first step's options when null); the consumer disposes the steps it reads.
    /// </summary>
    public static Handoff<TimeStep> ToChannel(this IObservable<TimeStep> source, HandoffOptions? options = null, TimeStepPool? pool = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        TimeStepPool? p = pool;
        var handoff = new Handoff<TimeStep>(
            options ?? HandoffOptions.Default,
            step =>
            {
                p ??= new TimeStepPool(step.Options);
                return p.RentCopy(step);
            },
            static step => step.Dispose(),
            cancellation);
        return handoff.Connect(source);
    }

    /// <summary>
    /// Hands event batches to a bounded channel: each borrowed batch is copied into a new pooled
    /// batch of its size; the consumer disposes the batches it reads.
    /// </summary>
    public static Handoff<EventBatch> ToChannel(this IObservable<EventBatch> source, HandoffOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var handoff = new Handoff<EventBatch>(options ?? HandoffOptions.Default, CopyBatch, static b => b.Dispose(), cancellation);
        return handoff.Connect(source);
    }

    /// <summary>A pooled copy of <paramref name="batch"/> (events and triggers).</summary>
    public static EventBatch CopyBatch(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var copy = new EventBatch(Math.Max(1, batch.Count));
        copy.Append(batch, 0, batch.Count);
        foreach (TriggerEvent trigger in batch.Triggers.Items)
        {
            copy.Triggers.Add(trigger);
        }

        return copy;
    }
}
