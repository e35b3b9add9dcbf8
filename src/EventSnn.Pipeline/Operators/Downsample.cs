using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Pipeline;

// a thin wrapper over the EventSnn.Transforms stage: one implementation for offline, dataset and stream use
public static partial class EventPipeline
{
    /// <summary>k x k spatial pooling (see <see cref="DownsampleStage"/>).</summary>
    public static IObservable<EventBatch> Downsample(this IObservable<EventBatch> source, int factor) =>
        source.Through(() => new DownsampleStage(factor));

    /// <summary>Tonic's Downsample with float spatial and time factors.</summary>
    public static IObservable<EventBatch> Downsample(this IObservable<EventBatch> source, double spatialFactor, double timeFactor = 1.0) =>
        source.Through(() => new DownsampleStage(spatialFactor, timeFactor));
}
