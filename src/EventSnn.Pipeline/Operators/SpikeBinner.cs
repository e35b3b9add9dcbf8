using System.Reactive.Linq;
using EventSnn.Events;

namespace EventSnn.Pipeline;

/// <summary>
/// Bins audio spikes (NAS, SHD) into <see cref="TimeStep"/>s by event-time windows (same
/// semantics as <see cref="TimeBinner"/>): input index = ear x channelsPerEar + channel, so an
/// SHD train (700 channels, mono) in 4 ms bins gives 700-input steps every 4 ms.
/// </summary>
public sealed class SpikeBinner : IDisposable
{
    private readonly TimeWindowCore _core;
    private readonly int _channelsPerEar;
    private SpikeBatch? _batch;

    /// <summary>Creates the binner; the layout must hold <paramref name="channelsPerEar"/> x ears inputs.</summary>
    public SpikeBinner(TimeWindowOptions windows, TimeStepOptions steps, int channelsPerEar)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channelsPerEar);
        _channelsPerEar = channelsPerEar;
        _core = new TimeWindowCore(windows, steps, Accumulate);
    }

    /// <summary>Steps emitted so far.</summary>
    public long Emitted => _core.Emitted;

    /// <summary>Spikes older than every open window, dropped.</summary>
    public long LateEvents => _core.LateEvents;

    /// <summary>Spikes whose channel or ear lies outside the layout, dropped.</summary>
    public long OutOfBounds { get; private set; }

    /// <summary>Adds a batch; <paramref name="emit"/> receives every window that closes.</summary>
    public void Push(SpikeBatch batch, Action<TimeStep> emit)
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

    /// <summary>Ends the stream.</summary>
    public void Complete(Action<TimeStep> emit)
    {
        ArgumentNullException.ThrowIfNull(emit);
        _core.Complete(emit);
    }

    /// <summary>Releases the pooled steps.</summary>
    public void Dispose() => _core.Release();

    private void Accumulate(TimeStep step, int start, int count)
    {
        int skipped = step.AddSpikes(_batch!, start, count, _channelsPerEar);
        OutOfBounds += skipped;
    }
}

public static partial class EventPipeline
{
    /// <summary>Audio spikes into time steps of <c>channelsPerEar x ears</c> inputs. Steps are borrowed.</summary>
    public static IObservable<TimeStep> BinSpikes(this IObservable<SpikeBatch> source, TimeWindowOptions windows, TimeStepOptions steps, int channelsPerEar)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(steps);
        windows.Validate();
        return Observable.Create<TimeStep>(observer => new SpikeBinSink(observer, new SpikeBinner(windows, steps, channelsPerEar)).Run(source));
    }

    /// <summary>SHD-style channel binning: <paramref name="channels"/> inputs (700 for SHD) in bins of <paramref name="binUs"/> (4 ms).</summary>
    public static IObservable<TimeStep> BinShd(this IObservable<SpikeBatch> source, int channels = 700, long binUs = 4_000, FrameMode mode = FrameMode.Counts) =>
        source.BinSpikes(
            new TimeWindowOptions { WindowUs = binUs },
            new TimeStepOptions { Layout = TimeStepLayout.ForAudio(channels), Mode = mode },
            channels);

    private sealed class SpikeBinSink : OperatorSink<SpikeBatch, TimeStep>
    {
        private readonly SpikeBinner _binner;
        private readonly Action<TimeStep> _emit;

        public SpikeBinSink(IObserver<TimeStep> downstream, SpikeBinner binner)
            : base(downstream)
        {
            _binner = binner;
            _emit = downstream.OnNext;
        }

        protected override void OnNextCore(SpikeBatch value) => _binner.Push(value, _emit);

        protected override void OnCompletedCore() => _binner.Complete(_emit);

        protected override void ReleaseResources() => _binner.Dispose();
    }
}
