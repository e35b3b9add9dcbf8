using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Pipeline;

// a thin wrapper over the EventSnn.Transforms stage: one implementation for offline, dataset and stream use
public static partial class EventPipeline
{
    /// <summary>Background-activity denoise with Tonic's semantics (see <see cref="DenoiseStage"/>).</summary>
    public static IObservable<EventBatch> Denoise(this IObservable<EventBatch> source, SensorGeometry geometry, long filterTimeUs = 10_000) =>
        source.Through(() => new DenoiseStage(geometry, filterTimeUs));
}
