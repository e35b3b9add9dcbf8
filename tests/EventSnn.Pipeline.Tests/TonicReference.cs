namespace EventSnn.Pipeline.Tests;

/// <summary>
/// Straight transcriptions of Tonic's slicers (tonic/slicers.py) over a sorted timestamp array,
/// used as the reference the streaming binners must match.
/// </summary>
internal static class TonicReference
{
    public static List<(int Start, int End)> SliceByTime(long[] t, long window, long overlap, bool includeIncomplete)
    {
        long stride = window - overlap;
        double span = (t[^1] - t[0]) - window;
        int n = includeIncomplete ? (int)(Math.Ceiling(span / stride) + 1) : (int)(Math.Floor(span / stride) + 1);
        n = Math.Max(n, 1);
        var result = new List<(int, int)>();
        for (int k = 0; k < n; k++)
        {
            long start = (k * stride) + t[0];
            long end = start + window;
            result.Add((SearchSorted(t, start), SearchSorted(t, end)));
        }

        return result;
    }

    public static List<(int Start, int End)> SliceByEventCount(int nEvents, int eventCount, int overlap, bool includeIncomplete)
    {
        int count = Math.Min(eventCount, nEvents);
        int stride = eventCount - overlap;
        int n = includeIncomplete
            ? (int)(Math.Ceiling((double)(nEvents - count) / stride) + 1)
            : (int)(Math.Floor((double)(nEvents - count) / stride) + 1);
        var result = new List<(int, int)>();
        for (int k = 0; k < n; k++)
        {
            int start = k * stride;
            result.Add((Math.Min(start, nEvents), Math.Min(start + count, nEvents)));
        }

        return result;
    }

    public static int SearchSorted(long[] t, double value)
    {
        int i = 0;
        while (i < t.Length && t[i] < value)
        {
            i++;
        }

        return i;
    }
}
