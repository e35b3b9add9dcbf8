using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// The running state of an event-to-event transform over one stream (or one sample): a filter,
/// a spatial or temporal map or an augmentation, working on pooled struct-of-arrays batches
/// without allocating per event. <see cref="Process"/> reads <c>input</c> (never modifies it) and
/// writes the kept, moved or added events into <c>output</c>, a different batch with room for at
/// least <see cref="MaxOutputCount"/>(<c>input.Count</c>) events; it sets the output's count.
/// Triggers are not touched (callers carry them over). One instance keeps the state of one
/// stream: create one per stream (<see cref="EventTransform.Start"/>) or <see cref="Reset()"/> it.
/// </summary>
public interface IEventStage
{
    /// <summary>Processes one batch.</summary>
    void Process(EventBatch input, EventBatch output);

    /// <summary>
    /// Forgets the state (pixel memories; counters stay) to start a new stream or sample; random
    /// stages restart their random sequence from their seed.
    /// </summary>
    void Reset();

    /// <summary>
    /// Forgets the state and, for random stages, re-seeds them (per-sample draws such as a flip's
    /// coin are made here): the same seed always gives the same output. Deterministic stages
    /// ignore the seed.
    /// </summary>
    void Reset(ulong seed) => Reset();

    /// <summary>Sensor geometry after this stage, given the geometry before it.</summary>
    SensorGeometry OutputGeometry(SensorGeometry input);

    /// <summary>Most events <see cref="Process"/> writes for an input of <paramref name="inputCount"/> events (all but noise sources keep or drop).</summary>
    int MaxOutputCount(int inputCount) => inputCount;
}
