using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Pipeline;

// a thin wrapper over the EventSnn.Transforms stage: one implementation for offline, dataset and stream use
public static partial class EventPipeline
{
    /// <summary>Keeps a region of interest and shifts it to the origin (see <see cref="CropStage"/>).</summary>
    public static IObservable<EventBatch> Crop(this IObservable<EventBatch> source, int x0, int y0, int width, int height) =>
        source.Through(() => new CropStage(x0, y0, width, height));

    /// <summary>Tonic's CenterCrop (see <see cref="CropStage.Center"/>).</summary>
    public static IObservable<EventBatch> CenterCrop(this IObservable<EventBatch> source, SensorGeometry geometry, int width, int height) =>
        source.Through(() => CropStage.Center(geometry, width, height));
}
