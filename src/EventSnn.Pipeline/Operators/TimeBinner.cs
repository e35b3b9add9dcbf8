using System.Reactive.Linq;
using EventSnn.Events;

namespace EventSnn.Pipeline;

/// <summary>
/// Bins DVS events into <see cref="TimeStep"/>s by event-time windows with stride (Tonic's
/// SliceByTime + ToFrame / ToSparseTensor semantics; see <see cref="TimeWindowOptions"/>).
/// Usable directly (<see cref="Push"/> / <see cref="Complete"/>) or through
/// <see cref="EventPipeline.BinByTime"/>. Emitted steps are borrowed (valid during the callback).
/// </summary>
public sealed class TimeBinner : IDisposable
{
    private readonly TimeWindowCore _core;
    private EventBatch? _batch;

    /// <summary>Creates the binner.</summary>
    public TimeBinner(TimeWindowOptions windows, TimeStepOptions steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Layout.Channels > 2)
        {
            throw new ArgumentException("DVS frames have 1 (merged) or 2 (polarity) channels", nameof(steps));
        }

        _core = new TimeWindowCore(windows, steps, Accumulate);
    }

    /// <summary>Steps emitted so far.</summary>
    public long Emitted => _core.Emitted;

    /// <summary>Events older than every open window (out of order or before the start), dropped.</summary>
    public long LateEvents => _core.LateEvents;

    /// <summary>Empty windows skipped by the gap guard.</summary>
    public long SkippedWindows => _core.SkippedWindows;

    /// <summary>Events outside the layout, dropped.</summary>
    public long OutOfBounds { get; private set; }

    /// <summary>Adds a batch; <paramref name="emit"/> receives every window that closes.</summary>
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
    /// <summary>
    /// Event-time windows of <c>windows.WindowUs</c> every <c>windows.StrideUs</c> into time steps
    /// (dense frames and/or sparse spike vectors). Steps are borrowed: valid during OnNext.
    /// </summary>
    public static IObservable<TimeStep> BinByTime(this IObservable<EventBatch> source, TimeWindowOptions windows, TimeStepOptions steps)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(steps);
        windows.Validate();
        return Observable.Create<TimeStep>(observer => new BinSink<TimeBinner>(observer, new TimeBinner(windows, steps), static (b, x, e) => b.Push(x, e), static (b, e) => b.Complete(e)).Run(source));
    }

    /// <summary>Shorthand: non-overlapping windows of <paramref name="windowUs"/> into frames of a sensor.</summary>
    public static IObservable<TimeStep> ToFrames(this IObservable<EventBatch> source, SensorGeometry geometry, long windowUs, FrameMode mode = FrameMode.Counts, bool mergePolarities = false) =>
        source.BinByTime(
            new TimeWindowOptions { WindowUs = windowUs },
            new TimeStepOptions { Layout = TimeStepLayout.ForSensor(geometry, mergePolarities), Mode = mode });

    /// <summary>Observer shared by the binning operators: pushes batches, completes, releases.</summary>
    private sealed class BinSink<TBinner> : OperatorSink<EventBatch, TimeStep>
        where TBinner : IDisposable
    {
        private readonly TBinner _binner;
        private readonly Action<TBinner, EventBatch, Action<TimeStep>> _push;
        private readonly Action<TBinner, Action<TimeStep>> _complete;
        private readonly Action<TimeStep> _emit;

        public BinSink(IObserver<TimeStep> downstream, TBinner binner, Action<TBinner, EventBatch, Action<TimeStep>> push, Action<TBinner, Action<TimeStep>> complete)
            : base(downstream)
        {
            _binner = binner;
            _push = push;
            _complete = complete;
            _emit = downstream.OnNext;
        }

        protected override void OnNextCore(EventBatch value) => _push(_binner, value, _emit);

        protected override void OnCompletedCore() => _complete(_binner, _emit);

        protected override void ReleaseResources() => _binner.Dispose();
    }
}
