using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Pipeline;

// a thin wrapper over the EventSnn.Transforms stage: one implementation for offline, dataset and stream use
public static partial class EventPipeline
{
    /// <summary>Drops the events of the given pixels (see <see cref="HotPixelMaskStage"/>).</summary>
    public static IObservable<EventBatch> MaskPixels(this IObservable<EventBatch> source, SensorGeometry geometry, IReadOnlyCollection<(int X, int Y)> pixels) =>
        source.Through(() => new HotPixelMaskStage(geometry, pixels));

    /// <summary>Learns hot pixels over a calibration period of event time, then drops their events (see <see cref="HotPixelMaskStage"/>).</summary>
    public static IObservable<EventBatch> MaskHotPixels(this IObservable<EventBatch> source, SensorGeometry geometry, double frequencyHz, long calibrationUs) =>
        source.Through(() => new HotPixelMaskStage(geometry, frequencyHz, calibrationUs));
}
