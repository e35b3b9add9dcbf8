using System.Globalization;

namespace EventSnn.Transforms;

/// <summary>How <see cref="FrameSlicing"/> cuts a sample.</summary>
public enum SlicingKind
{
    /// <summary>Windows of a fixed duration (Tonic's time_window, SliceByTime).</summary>
    TimeWindow = 0,

    /// <summary>Windows of a fixed number of events (Tonic's event_count, SliceByEventCount).</summary>
    EventCount = 1,

    /// <summary>A fixed number of windows of equal duration (Tonic's n_time_bins, SliceByTimeBins).</summary>
    TimeBins = 2,

    /// <summary>A fixed number of windows of equal event counts (Tonic's n_event_bins, SliceByEventBins).</summary>
    EventBins = 3,
}

/// <summary>
/// Tonic's slicers (tonic/slicers.py), restated: how a sample's time-ordered events are cut into
/// the slices <see cref="ToFrame"/>, <see cref="ToSparseTensor"/> and <see cref="ToTimeSurface"/>
/// turn into frames. A slice is a range of event indices [start, end); slices may overlap.
/// <list type="bullet">
/// <item>Time window w, overlap o (us), stride s = w - o: start time t0 (the first event's, or
/// <see cref="StartTime"/>), end time t1 (the last event's, or <see cref="EndTime"/>), slice k
/// covers [t0 + k s, t0 + k s + w); there are floor((t1 - t0 - w) / s) + 1 slices, or the ceiling
/// with <see cref="IncludeIncomplete"/>, at least 1.</item>
/// <item>Event count c, overlap o (events): c' = min(c, n), stride c - o; slice k is
/// [k (c - o), k (c - o) + c'); floor((n - c') / (c - o)) + 1 slices, or the ceiling with
/// <see cref="IncludeIncomplete"/>.</item>
/// <item>n time bins, overlap f (a fraction of a bin, below 1): window w = ((t_last - t0) div n) (1 + f),
/// stride w (1 - f), slice k covers [t0 + k stride, t0 + k stride + w) — Tonic's integer division,
/// so the last event may fall after the last bin.</item>
/// <item>n event bins, overlap f: c = int((n_events div n) (1 + f)) events per bin, stride int(c (1 - f));
/// events after the last bin are left out, as in Tonic.</item>
/// </list>
/// Time bounds are found as NumPy's searchsorted finds them (the first event at or after).
/// </summary>
public sealed class FrameSlicing
{
    private FrameSlicing(SlicingKind kind, double size, double overlap, bool includeIncomplete, long? startTime, long? endTime)
    {
        Kind = kind;
        Size = size;
        Overlap = overlap;
        IncludeIncomplete = includeIncomplete;
        StartTime = startTime;
        EndTime = endTime;
    }

    /// <summary>The slicing method.</summary>
    public SlicingKind Kind { get; }

    /// <summary>The time window (us), the event count or the number of bins.</summary>
    public double Size { get; }

    /// <summary>Overlap: us, events, or a fraction of a bin.</summary>
    public double Overlap { get; }

    /// <summary>Tonic's include_incomplete (time window and event count only).</summary>
    public bool IncludeIncomplete { get; }

    /// <summary>Tonic's start_time (time window only): where the first window starts instead of the first event.</summary>
    public long? StartTime { get; }

    /// <summary>Tonic's end_time (time window only): where the windows end instead of the last event.</summary>
    public long? EndTime { get; }

    /// <summary>Windows of <paramref name="timeWindow"/> us, <paramref name="overlap"/> us overlapping (Tonic's time_window).</summary>
    public static FrameSlicing ByTime(double timeWindow, double overlap = 0, bool includeIncomplete = false, long? startTime = null, long? endTime = null)
    {
        if (!(timeWindow > 0) || !double.IsFinite(timeWindow))
        {
            throw new ArgumentOutOfRangeException(nameof(timeWindow), timeWindow, "must be a positive duration");
        }

        if (!(overlap >= 0) || !(overlap < timeWindow))
        {
            throw new ArgumentOutOfRangeException(nameof(overlap), overlap, "must be in [0, time window)");
        }

        return new FrameSlicing(SlicingKind.TimeWindow, timeWindow, overlap, includeIncomplete, startTime, endTime);
    }

    /// <summary>Windows of <paramref name="eventCount"/> events, <paramref name="overlap"/> events overlapping (Tonic's event_count).</summary>
    public static FrameSlicing ByEventCount(int eventCount, int overlap = 0, bool includeIncomplete = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(eventCount);
        ArgumentOutOfRangeException.ThrowIfNegative(overlap);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(overlap, eventCount);
        return new FrameSlicing(SlicingKind.EventCount, eventCount, overlap, includeIncomplete, null, null);
    }

    /// <summary><paramref name="bins"/> windows of equal duration, enlarged by <paramref name="overlap"/> of a bin (Tonic's n_time_bins).</summary>
    public static FrameSlicing ByTimeBins(int bins, double overlap = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bins);
        CheckFraction(overlap);
        return new FrameSlicing(SlicingKind.TimeBins, bins, overlap, false, null, null);
    }

    /// <summary><paramref name="bins"/> windows of equal event counts, enlarged by <paramref name="overlap"/> of a bin (Tonic's n_event_bins).</summary>
    public static FrameSlicing ByEventBins(int bins, double overlap = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bins);
        CheckFraction(overlap);
        return new FrameSlicing(SlicingKind.EventBins, bins, overlap, false, null, null);
    }

    /// <summary>Number of slices of a sample with timestamps <paramref name="t"/> (sorted); an empty sample has one, or the number of bins.</summary>
    public int Count(ReadOnlySpan<long> t)
    {
        if (Kind is SlicingKind.TimeBins or SlicingKind.EventBins)
        {
            return (int)Size;
        }

        if (t.Length == 0)
        {
            return 1;
        }

        double n;
        if (Kind == SlicingKind.TimeWindow)
        {
            double stride = Size - Overlap;
            double duration = (EndTime ?? t[^1]) - (double)(StartTime ?? t[0]);
            n = (duration - Size) / stride;
        }
        else
        {
            double count = Math.Min(Size, t.Length);
            n = (t.Length - count) / (Size - Overlap);
        }

        double slices = (IncludeIncomplete ? Math.Ceiling(n) : Math.Floor(n)) + 1;
        return (int)Math.Clamp(slices, 1, int.MaxValue);
    }

    /// <summary>Slice <paramref name="k"/> of a sample with timestamps <paramref name="t"/> (sorted): event indices [Start, End).</summary>
    public (int Start, int End) Slice(ReadOnlySpan<long> t, int k)
    {
        int n = t.Length;
        if (n == 0)
        {
            return (0, 0);
        }

        switch (Kind)
        {
            case SlicingKind.TimeWindow:
            case SlicingKind.TimeBins:
            {
                (double start, double end) = TimeWindow(t, k);
                return (SearchSorted(t, start), SearchSorted(t, end));
            }

            case SlicingKind.EventCount:
            {
                long start = (long)k * (long)(Size - Overlap);
                long count = (long)Math.Min(Size, n);
                return ((int)Math.Min(start, n), (int)Math.Min(start + count, n));
            }

            default:
            {
                long count = (long)((n / (long)Size) * (1 + Overlap));
                long stride = (long)(count * (1 - Overlap));
                long start = k * stride;
                return ((int)Math.Min(start, n), (int)Math.Min(start + count, n));
            }
        }
    }

    /// <summary>
    /// The time window [Start, End) of slice <paramref name="k"/> for the time-based slicings
    /// (time window and time bins; (0, 0) for an empty sample). Event-based slicings have none.
    /// </summary>
    public (double Start, double End) TimeWindow(ReadOnlySpan<long> t, int k)
    {
        if (t.Length == 0)
        {
            return (0, 0);
        }

        switch (Kind)
        {
            case SlicingKind.TimeWindow:
            {
                double start = (k * (Size - Overlap)) + (StartTime ?? t[0]);
                return (start, start + Size);
            }

            case SlicingKind.TimeBins:
            {
                // Tonic: (t_last - t_first) // n (integer division) x (1 + overlap)
                double window = ((t[^1] - t[0]) / (long)Size) * (1 + Overlap);
                double start = (k * (window * (1 - Overlap))) + t[0];
                return (start, start + window);
            }

            default:
                throw new InvalidOperationException("event-based slices have no time window");
        }
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        SlicingKind.TimeWindow => string.Create(CultureInfo.InvariantCulture, $"time_window={Size}, overlap={Overlap}, include_incomplete={IncludeIncomplete}"),
        SlicingKind.EventCount => string.Create(CultureInfo.InvariantCulture, $"event_count={Size}, overlap={Overlap}, include_incomplete={IncludeIncomplete}"),
        SlicingKind.TimeBins => string.Create(CultureInfo.InvariantCulture, $"n_time_bins={Size}, overlap={Overlap}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"n_event_bins={Size}, overlap={Overlap}"),
    };

    /// <summary>NumPy's searchsorted (side left): the first index whose time is at or after <paramref name="value"/>.</summary>
    internal static int SearchSorted(ReadOnlySpan<long> t, double value)
    {
        int lo = 0, hi = t.Length;
        while (lo < hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (t[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private static void CheckFraction(double overlap)
    {
        if (!(overlap >= 0) || !(overlap < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(overlap), overlap, "a fraction of a bin must be in [0, 1)");
        }
    }
}
