using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Pipeline;

// a thin wrapper over the EventSnn.Transforms stage: one implementation for offline, dataset and stream use
public static partial class EventPipeline
{
    /// <summary>Per-pixel refractory period with Tonic's semantics (see <see cref="RefractoryPeriodStage"/>).</summary>
    public static IObservable<EventBatch> RefractoryPeriod(this IObservable<EventBatch> source, SensorGeometry geometry, long refractoryPeriodUs = 10_000) =>
        source.Through(() => new RefractoryPeriodStage(geometry, refractoryPeriodUs));
}
