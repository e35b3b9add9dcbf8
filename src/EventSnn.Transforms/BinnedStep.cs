namespace EventSnn.Transforms;

/// <summary>
/// One time step produced by the chain: the active features in ascending order with their values,
/// and the same step as a dense frame. Borrowed: valid only during the callback that receives it
/// (the chain reuses it for the next step); copy what you keep.
/// </summary>
public sealed class BinnedStep
{
    private readonly float[] _frame;
    private readonly int[] _active;
    private readonly float[] _values;
    private int _count;

    internal BinnedStep(int features)
    {
        Features = features;
        _frame = new float[features];
        _active = new int[features];
        _values = new float[features];
    }

    /// <summary>Number of features (the frame's length).</summary>
    public int Features { get; }

    /// <summary>Index of the step within its sample (0-based).</summary>
    public int Index { get; internal set; }

    /// <summary>Start of the step in event time (microseconds, inclusive).</summary>
    public long StartUs { get; internal set; }

    /// <summary>End of the step in event time (microseconds, exclusive).</summary>
    public long EndUs { get; internal set; }

    /// <summary>Events binned into the step.</summary>
    public int EventCount { get; internal set; }

    /// <summary>True on the last step of the sample.</summary>
    public bool EndsSample { get; internal set; }

    /// <summary>Index of the sample in the stream (0-based: the number of samples begun before it).</summary>
    public long Sample { get; internal set; }

    /// <summary>Start of the sample (microseconds).</summary>
    public long SampleStartUs { get; internal set; }

    /// <summary>End of the sample (microseconds), or <see cref="long.MaxValue"/> when it was not known in advance.</summary>
    public long SampleEndUs { get; internal set; }

    /// <summary>Number of active (non-zero) features.</summary>
    public int ActiveCount => _count;

    /// <summary>Active features, ascending.</summary>
    public ReadOnlySpan<int> Active => _active.AsSpan(0, _count);

    /// <summary>Values of the active features (parallel to <see cref="Active"/>).</summary>
    public ReadOnlySpan<float> Values => _values.AsSpan(0, _count);

    /// <summary>The step as a dense vector of <see cref="Features"/> values.</summary>
    public ReadOnlySpan<float> Frame => _frame;

    /// <summary>Copies the dense frame into <paramref name="destination"/>.</summary>
    public void CopyFrameTo(Span<float> destination) => _frame.CopyTo(destination);

    /// <summary>Fills the step from the accumulated counts (active features sorted here) and the value function.</summary>
    internal void Load(ReadOnlySpan<int> active, ReadOnlySpan<int> counts, ValueFunction value)
    {
        Clear();
        active.CopyTo(_active);
        _count = active.Length;
        Span<int> sorted = _active.AsSpan(0, _count);
        sorted.Sort();
        for (int i = 0; i < sorted.Length; i++)
        {
            int f = sorted[i];
            float v = value.Apply(counts[f]);
            _values[i] = v;
            _frame[f] = v;
        }
    }

    /// <summary>Forgets the values (sparse clear of the frame).</summary>
    internal void Clear()
    {
        for (int i = 0; i < _count; i++)
        {
            _frame[_active[i]] = 0f;
        }

        _count = 0;
    }
}
