namespace EventSnn.Events;

/// <summary>
/// Running summary of a DVS event stream: counts, first/last timestamps in stream order,
/// extremes and coordinate sums. Accumulates batch by batch in constant memory.
/// </summary>
public sealed class EventStatistics
{
    /// <summary>Number of events.</summary>
    public long Events { get; private set; }

    /// <summary>Number of ON events.</summary>
    public long On { get; private set; }

    /// <summary>Timestamp of the first event in stream order (0 when empty).</summary>
    public long TFirst { get; private set; }

    /// <summary>Timestamp of the last event in stream order (0 when empty).</summary>
    public long TLast { get; private set; }

    /// <summary>Smallest timestamp.</summary>
    public long TMin { get; private set; } = long.MaxValue;

    /// <summary>Largest timestamp.</summary>
    public long TMax { get; private set; } = long.MinValue;

    /// <summary>Largest x address (-1 when empty).</summary>
    public int XMax { get; private set; } = -1;

    /// <summary>Largest y address (-1 when empty).</summary>
    public int YMax { get; private set; } = -1;

    /// <summary>Sum of x addresses.</summary>
    public long SumX { get; private set; }

    /// <summary>Sum of y addresses.</summary>
    public long SumY { get; private set; }

    /// <summary>Number of trigger events seen.</summary>
    public long Triggers { get; private set; }

    /// <summary>Duration covered, TMax - TMin (0 when empty).</summary>
    public long DurationUs => Events == 0 ? 0 : TMax - TMin;

    /// <summary>Adds every event and trigger of <paramref name="batch"/>.</summary>
    public void Add(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Triggers += batch.Triggers.Count;
        int n = batch.Count;
        if (n == 0)
        {
            return;
        }

        ReadOnlySpan<long> t = batch.Timestamps;
        ReadOnlySpan<ushort> xs = batch.Xs;
        ReadOnlySpan<ushort> ys = batch.Ys;
        ReadOnlySpan<byte> ps = batch.Polarities;
        if (Events == 0)
        {
            TFirst = t[0];
        }

        TLast = t[n - 1];
        long tMin = TMin, tMax = TMax, sumX = 0, sumY = 0, on = 0;
        int xMax = XMax, yMax = YMax;
        for (int i = 0; i < n; i++)
        {
            long ti = t[i];
            if (ti < tMin)
            {
                tMin = ti;
            }

            if (ti > tMax)
            {
                tMax = ti;
            }

            int x = xs[i], y = ys[i];
            sumX += x;
            sumY += y;
            if (x > xMax)
            {
                xMax = x;
            }

            if (y > yMax)
            {
                yMax = y;
            }

            on += ps[i];
        }

        TMin = tMin;
        TMax = tMax;
        XMax = xMax;
        YMax = yMax;
        SumX += sumX;
        SumY += sumY;
        On += on;
        Events += n;
    }
}
