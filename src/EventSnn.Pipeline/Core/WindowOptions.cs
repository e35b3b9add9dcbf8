namespace EventSnn.Pipeline;

/// <summary>
/// Time windows with Tonic's <c>SliceByTime</c> semantics: half-open windows
/// [start + k x stride, start + k x stride + window), start = the first event's timestamp
/// unless <see cref="StartUs"/> is given; <c>overlap = window - stride</c>.
/// A window is emitted as soon as an event at or after its end arrives (it is then complete,
/// exactly the windows Tonic keeps without include-incomplete), empty windows included.
/// At the end of the stream, with <see cref="IncludeIncomplete"/> the trailing windows Tonic adds
/// (those ending before <c>t_last + stride</c>) are emitted with <see cref="TimeStep.IsComplete"/>
/// false; as in Tonic at least one window is always emitted for a non-empty stream.
/// An empty stream emits nothing.
/// </summary>
public sealed record TimeWindowOptions
{
    /// <summary>Window length in us.</summary>
    public required long WindowUs { get; init; }

    /// <summary>Distance between window starts in us; 0 means <see cref="WindowUs"/> (no overlap).</summary>
    public long StrideUs { get; init; }

    /// <summary>Emit Tonic's trailing incomplete windows at the end of the stream.</summary>
    public bool IncludeIncomplete { get; init; }

    /// <summary>Start of window 0; null = the first event's timestamp (Tonic).</summary>
    public long? StartUs { get; init; }

    /// <summary>
    /// Guard against timestamp jumps: a gap that would emit more empty windows than this is
    /// skipped (counted in the binner's SkippedWindows) instead of emitting them one by one.
    /// </summary>
    public long MaxEmptyWindowsPerGap { get; init; } = 1_000;

    /// <summary>The effective stride.</summary>
    public long EffectiveStrideUs => StrideUs == 0 ? WindowUs : StrideUs;

    internal void Validate()
    {
        if (WindowUs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(WindowUs), "window must be positive");
        }

        if (StrideUs < 0 || EffectiveStrideUs > WindowUs)
        {
            throw new ArgumentOutOfRangeException(nameof(StrideUs), "stride must be in (0, window] (overlap >= 0)");
        }

        if (MaxEmptyWindowsPerGap < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxEmptyWindowsPerGap));
        }
    }
}

/// <summary>
/// Event-count windows with Tonic's <c>SliceByEventCount</c> semantics: window k holds events
/// [k x stride, k x stride + count) of the stream, <c>stride = count - overlap</c>. A window is
/// emitted when full. At the end of the stream: fewer than <see cref="EventCount"/> events in
/// total give one window of all of them (Tonic's <c>min(event_count, n)</c>); with
/// <see cref="IncludeIncomplete"/> the partial trailing windows Tonic adds are emitted with
/// <see cref="TimeStep.IsComplete"/> false. A window's StartUs is its first event's timestamp and
/// EndUs its last event's timestamp + 1.
/// </summary>
public sealed record CountWindowOptions
{
    /// <summary>Events per window.</summary>
    public required int EventCount { get; init; }

    /// <summary>Events shared by consecutive windows (0 &lt;= overlap &lt; count).</summary>
    public int Overlap { get; init; }

    /// <summary>Emit Tonic's trailing incomplete windows at the end of the stream.</summary>
    public bool IncludeIncomplete { get; init; }

    internal void Validate()
    {
        if (EventCount <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(EventCount), "event count must be positive");
        }

        if (Overlap < 0 || Overlap >= EventCount)
        {
            throw new ArgumentOutOfRangeException(nameof(Overlap), "overlap must be in [0, count)");
        }
    }
}
