namespace EventSnn.Transforms;

/// <summary>The mapped events of one sample (time, feature; dropped ones left out), held by the binnings that need the whole sample. Grows by doubling and is reused.</summary>
internal sealed class SampleEvents
{
    private long[] _t = new long[1024];
    private int[] _f = new int[1024];

    public int Count { get; private set; }

    public long MaxTime { get; private set; } = long.MinValue;

    public ReadOnlySpan<long> Times => _t.AsSpan(0, Count);

    public ReadOnlySpan<int> Features => _f.AsSpan(0, Count);

    public void Clear()
    {
        Count = 0;
        MaxTime = long.MinValue;
    }

    /// <summary>Holds the mapped events before <paramref name="endUs"/>; returns how many were at or after it (not held).</summary>
    public int Add(ReadOnlySpan<long> t, ReadOnlySpan<int> features, long endUs = long.MaxValue)
    {
        int after = 0;
        for (int i = 0; i < features.Length; i++)
        {
            int f = features[i];
            if (f < 0)
            {
                continue;
            }

            if (t[i] >= endUs)
            {
                after++;
                continue;
            }

            if (Count == _t.Length)
            {
                Array.Resize(ref _t, _t.Length * 2);
                Array.Resize(ref _f, _f.Length * 2);
            }

            _t[Count] = t[i];
            _f[Count] = f;
            Count++;
            if (t[i] > MaxTime)
            {
                MaxTime = t[i];
            }
        }

        return after;
    }
}
