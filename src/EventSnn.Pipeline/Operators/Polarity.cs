using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Pipeline;

// a thin wrapper over the EventSnn.Transforms stage: one implementation for offline, dataset and stream use
public static partial class EventPipeline
{
    /// <summary>Tonic's MergePolarities: every polarity becomes 0.</summary>
    public static IObservable<EventBatch> MergePolarities(this IObservable<EventBatch> source) =>
        source.Through(() => new PolarityStage(PolarityOperation.Merge));

    /// <summary>Polarity merge, flip or selection (see <see cref="PolarityStage"/>).</summary>
    public static IObservable<EventBatch> Polarity(this IObservable<EventBatch> source, PolarityOperation operation) =>
        source.Through(() => new PolarityStage(operation));
}
