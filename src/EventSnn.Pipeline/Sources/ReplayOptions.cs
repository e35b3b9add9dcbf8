namespace EventSnn.Pipeline;

/// <summary>How a replay paces its batches.</summary>
public enum ReplayPacing
{
    /// <summary>No pacing: batches as fast as the reader decodes them.</summary>
    AsFastAsPossible = 0,

    /// <summary>Event time maps to scheduler time 1:1.</summary>
    RealTime = 1,

    /// <summary>Event time runs <see cref="ReplayOptions.Speed"/> times faster than scheduler time.</summary>
    Scaled = 2,
}

/// <summary>Options of a file replay.</summary>
public sealed record ReplayOptions
{
    /// <summary>Default: as fast as possible, no looping.</summary>
    public static ReplayOptions Default { get; } = new();

    /// <summary>Pacing mode.</summary>
    public ReplayPacing Pacing { get; init; }

    /// <summary>Speed factor for <see cref="ReplayPacing.Scaled"/> (2 = twice real time).</summary>
    public double Speed { get; init; } = 1.0;

    /// <summary>Start over at the end; timestamps of pass k are shifted by k x (t_last - t_first + 1) of the first pass.</summary>
    public bool Loop { get; init; }

    /// <summary>With <see cref="Loop"/>: number of passes (0 = until disposed).</summary>
    public int MaxPasses { get; init; }

    /// <summary>Capacity of the batches read and emitted.</summary>
    public int BatchCapacity { get; init; } = Events.EventBatch.DefaultCapacity;

    /// <summary>
    /// Paced modes: longest span of event time in one emitted batch. A batch is emitted when its
    /// last event is due, so this bounds how early an event can be delivered.
    /// </summary>
    public long SliceUs { get; init; } = 1_000;

    internal double EffectiveSpeed => Pacing switch
    {
        ReplayPacing.RealTime => 1.0,
        ReplayPacing.Scaled => Speed,
        _ => 0,
    };

    internal void Validate()
    {
        if (Pacing == ReplayPacing.Scaled && !(Speed > 0 && double.IsFinite(Speed)))
        {
            throw new ArgumentOutOfRangeException(nameof(Speed), "speed must be a positive number");
        }

        if (BatchCapacity < 1 || SliceUs < 1 || MaxPasses < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchCapacity), "batch capacity, slice and passes must be positive");
        }
    }
}
