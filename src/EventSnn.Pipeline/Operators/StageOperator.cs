using System.Reactive.Linq;
using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Pipeline;

/// <summary>
/// Rx operators over streams of pooled <see cref="EventBatch"/>es, time steps and spikes.
/// Ownership: a batch passed to <c>OnNext</c> belongs to the producer and is valid only during
/// the call; observers never modify or keep it. Operators write into their own pooled storage
/// and pass that on under the same rule. Time is always event time (timestamps in us).
/// </summary>
public static partial class EventPipeline
{
    /// <summary>
    /// Runs every batch through a stage created per subscription by <paramref name="stageFactory"/>
    /// (so each subscription has its own pixel state). The output batch is owned by the operator
    /// and reused; triggers pass through unchanged; empty outputs without triggers are not emitted.
    /// </summary>
    public static IObservable<EventBatch> Through(this IObservable<EventBatch> source, Func<IEventStage> stageFactory)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(stageFactory);
        return Observable.Create<EventBatch>(observer => new StageSink(observer, stageFactory()).Run(source));
    }

    /// <summary>
    /// Applies an event transform of EventSnn.Transforms (the same classes the offline code and
    /// the dataset loaders use) to a stream from a sensor of <paramref name="geometry"/>: one
    /// stage per subscription, started with <paramref name="seed"/>; the whole stream is one
    /// sample for the transform's per-sample draws.
    /// </summary>
    public static IObservable<EventBatch> Transform(this IObservable<EventBatch> source, EventTransform transform, SensorGeometry geometry, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(transform);
        return source.Through(() => transform.Start(geometry, seed));
    }

    /// <summary>Runs every batch through one stage instance (shared state: subscribe once).</summary>
    public static IObservable<EventBatch> Through(this IObservable<EventBatch> source, IEventStage stage)
    {
        ArgumentNullException.ThrowIfNull(stage);
        return source.Through(() => stage);
    }

    private sealed class StageSink : OperatorSink<EventBatch, EventBatch>
    {
        private readonly IEventStage _stage;
        private EventBatch? _output;

        public StageSink(IObserver<EventBatch> downstream, IEventStage stage)
            : base(downstream) => _stage = stage;

        protected override void OnNextCore(EventBatch value)
        {
            int need = Math.Max(1, _stage.MaxOutputCount(value.Count));
            if (_output is null || _output.Capacity < need)
            {
                _output?.Dispose();
                _output = new EventBatch(Math.Max(value.Capacity, need));
            }

            EventBatch output = _output;
            output.Clear();
            _stage.Process(value, output);
            foreach (TriggerEvent trigger in value.Triggers.Items)
            {
                output.Triggers.Add(trigger);
            }

            if (output.Count > 0 || output.Triggers.Count > 0)
            {
                Downstream.OnNext(output);
            }
        }

        protected override void ReleaseResources()
        {
            _output?.Dispose();
            _output = null;
            (_stage as IDisposable)?.Dispose();
        }
    }
}
