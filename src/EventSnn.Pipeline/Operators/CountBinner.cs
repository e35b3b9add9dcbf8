using System.Reactive.Linq;
using EventSnn.Events;

namespace EventSnn.Pipeline;

/// <summary>
/// Bins DVS events into <see cref="TimeStep"/>s of a fixed number of events with overlap
/// (Tonic's SliceByEventCount semantics; see <see cref="CountWindowOptions"/>).
/// </summary>
public sealed class CountBinner : IDisposable
{
    private readonly CountWindowCore _core;
    private EventBatch? _batch;

    /// <summary>Creates the binner.</summary>
    public CountBinner(CountWindowOptions windows, TimeStepOptions steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        _core = new CountWindowCore(windows, steps, Accumulate);
    }

    /// <summary>Steps emitted so far.</summary>
    public long Emitted => _core.Emitted;

    /// <summary>Events outside the layout (counted in the window, not in the frame).</summary>
    public long OutOfBounds { get; private set; }

    /// <summary>Adds a batch; <paramref name="emit"/> receives every window that fills.</summary>
    public void Push(EventBatch batch, Action<TimeStep> emit)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(emit);
        _batch = batch;
        try
        {
            _core.Push(batch.Timestamps, emit);
        }
        finally
        {
            _batch = null;
        }
    }

    /// <summary>Ends the stream: emits the trailing windows the options call for.</summary>
    public void Complete(Action<TimeStep> emit)
    {
        ArgumentNullException.ThrowIfNull(emit);
        _core.Complete(emit);
    }

    /// <summary>Releases the pooled steps.</summary>
    public void Dispose() => _core.Release();

    private void Accumulate(TimeStep step, int start, int count) => OutOfBounds += step.AddEvents(_batch!, start, count);
}

public static partial class EventPipeline
{
    /// <summary>Windows of a fixed number of events (with overlap) into time steps. Steps are borrowed.</summary>
    public static IObservable<TimeStep> BinByCount(this IObservable<EventBatch> source, CountWindowOptions windows, TimeStepOptions steps)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(steps);
        windows.Validate();
        return Observable.Create<TimeStep>(observer => new BinSink<CountBinner>(observer, new CountBinner(windows, steps), static (b, x, e) => b.Push(x, e), static (b, e) => b.Complete(e)).Run(source));
    }
}
