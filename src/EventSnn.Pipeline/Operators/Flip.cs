using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Pipeline;

// a thin wrapper over the EventSnn.Transforms stage: one implementation for offline, dataset and stream use
public static partial class EventPipeline
{
    /// <summary>Mirror left-right (Tonic's FlipLR; see <see cref="FlipStage"/>).</summary>
    public static IObservable<EventBatch> FlipLeftRight(this IObservable<EventBatch> source, SensorGeometry geometry) =>
        source.Through(() => new FlipStage(geometry, leftRight: true, upDown: false));

    /// <summary>Mirror up-down (Tonic's FlipUD; see <see cref="FlipStage"/>).</summary>
    public static IObservable<EventBatch> FlipUpDown(this IObservable<EventBatch> source, SensorGeometry geometry) =>
        source.Through(() => new FlipStage(geometry, leftRight: false, upDown: true));
}
