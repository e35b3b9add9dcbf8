using System.Buffers;
using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>Stable in-place sorting of a batch's events by time, with pooled scratch (nothing allocated once the pool is warm).</summary>
internal static class EventSorting
{
    /// <summary>True when the timestamps never decrease.</summary>
    public static bool IsSorted(ReadOnlySpan<long> t)
    {
        for (int i = 1; i < t.Length; i++)
        {
            if (t[i] < t[i - 1])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Sorts the batch's events by timestamp; events of equal time keep their order.</summary>
    public static void SortByTime(EventBatch batch)
    {
        int n = batch.Count;
        if (IsSorted(batch.Timestamps))
        {
            return;
        }

        long[] keys = ArrayPool<long>.Shared.Rent(n);
        int[] order = ArrayPool<int>.Shared.Rent(n);
        try
        {
            Span<long> k = keys.AsSpan(0, n);
            Span<int> o = order.AsSpan(0, n);
            batch.Timestamps.CopyTo(k);
            for (int i = 0; i < n; i++)
            {
                o[i] = i;
            }

            k.Sort(o);

            // the sort is not stable: put each run of equal times back in input order
            for (int i = 0; i < n;)
            {
                int j = i + 1;
                while (j < n && k[j] == k[i])
                {
                    j++;
                }

                if (j - i > 1)
                {
                    o[i..j].Sort();
                }

                i = j;
            }

            k.CopyTo(batch.Timestamps);
            Permute(batch.X, o);
            Permute(batch.Y, o);
            Permute(batch.P, o);
        }
        finally
        {
            ArrayPool<long>.Shared.Return(keys);
            ArrayPool<int>.Shared.Return(order);
        }
    }

    private static void Permute<T>(T[] values, ReadOnlySpan<int> order)
    {
        int n = order.Length;
        T[] scratch = ArrayPool<T>.Shared.Rent(n);
        try
        {
            for (int i = 0; i < n; i++)
            {
                scratch[i] = values[order[i]];
            }

            Array.Copy(scratch, values, n);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(scratch);
        }
    }
}
