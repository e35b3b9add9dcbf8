using EventSnn.Events;

namespace EventSnn.Pipeline;

/// <summary>
/// A stateful, synchronous event-to-event stage (filter or spatial transform) that works on
/// pooled batches without allocating: it reads <c>input</c> (never modifies it) and writes the
/// kept or transformed events into <c>output</c>, which the caller has cleared and which has
/// room for at least <c>input.Count</c> events (stages never add events). One instance keeps
/// the state of one stream; use a fresh instance (or <see cref="Reset"/>) per stream.
/// </summary>
public interface IEventStage
{
    /// <summary>Processes one batch.</summary>
    void Process(EventBatch input, EventBatch output);

    /// <summary>Forgets the state (pixel memories, counters stay).</summary>
    void Reset();

    /// <summary>Sensor geometry after this stage, given the geometry before it.</summary>
    SensorGeometry OutputGeometry(SensorGeometry input);
}
