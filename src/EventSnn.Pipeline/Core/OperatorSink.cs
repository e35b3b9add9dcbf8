namespace EventSnn.Pipeline;

/// <summary>
/// Base of the operators' observers that own pooled storage. It serialises release of that
/// storage with <c>OnNext</c> without locks: storage is returned when the stream ends, or when
/// the subscription is disposed, but never while an <c>OnNext</c> is running (a dispose that
/// arrives during <c>OnNext</c>, from any thread, is finished at the end of that call).
/// </summary>
internal abstract class OperatorSink<TIn, TOut> : IObserver<TIn>, IDisposable
{
    private const int Idle = 0;
    private const int Busy = 1;
    private const int Stopped = 2;
    private int _state;
    private IDisposable? _upstream;

    protected OperatorSink(IObserver<TOut> downstream) => Downstream = downstream;

    protected IObserver<TOut> Downstream { get; }

    /// <summary>True once the sink was disposed or the stream ended.</summary>
    protected bool IsStopped => Volatile.Read(ref _state) == Stopped;

    /// <summary>Subscribes to <paramref name="source"/> and returns this sink as the subscription.</summary>
    public IDisposable Run(IObservable<TIn> source)
    {
        IDisposable upstream = source.Subscribe(this);
        _upstream = upstream;
        if (Volatile.Read(ref _state) == Stopped)
        {
            upstream.Dispose();
        }

        return this;
    }

    public void OnNext(TIn value)
    {
        if (Interlocked.CompareExchange(ref _state, Busy, Idle) != Idle)
        {
            return;
        }

        try
        {
            OnNextCore(value);
        }
        finally
        {
            if (Interlocked.CompareExchange(ref _state, Idle, Busy) != Busy)
            {
                ReleaseResources();
            }
        }
    }

    public void OnError(Exception error)
    {
        if (Interlocked.Exchange(ref _state, Stopped) == Stopped)
        {
            return;
        }

        ReleaseResources();
        Downstream.OnError(error);
    }

    public void OnCompleted()
    {
        if (Interlocked.Exchange(ref _state, Stopped) == Stopped)
        {
            return;
        }

        try
        {
            OnCompletedCore();
        }
        catch (Exception ex)
        {
            ReleaseResources();
            Downstream.OnError(ex);
            return;
        }

        ReleaseResources();
        Downstream.OnCompleted();
    }

    public void Dispose()
    {
        int old = Interlocked.Exchange(ref _state, Stopped);
        _upstream?.Dispose();
        if (old == Idle)
        {
            ReleaseResources();
        }
    }

    protected abstract void OnNextCore(TIn value);

    /// <summary>Emits what is pending at the end of the stream (before resources are released).</summary>
    protected virtual void OnCompletedCore()
    {
    }

    /// <summary>Returns pooled storage; called exactly once.</summary>
    protected abstract void ReleaseResources();
}
