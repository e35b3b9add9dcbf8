namespace EventSnn.Transforms;

/// <summary>The open step: event counts per feature (dense), the features touched, the event times.</summary>
internal sealed class StepAccumulator
{
    private readonly int[] _counts;
    private readonly int[] _active;
    private int _activeCount;

    public StepAccumulator(int features)
    {
        _counts = new int[features];
        _active = new int[features];
    }

    /// <summary>Events in the open step.</summary>
    public int Events { get; private set; }

    /// <summary>Events accumulated over all steps (the chain's binned events).</summary>
    public long TotalEvents { get; private set; }

    /// <summary>Time of the open step's first event.</summary>
    public long FirstUs { get; private set; }

    /// <summary>Time of the open step's last event.</summary>
    public long LastUs { get; private set; }

    public ReadOnlySpan<int> Active => _active.AsSpan(0, _activeCount);

    public ReadOnlySpan<int> Counts => _counts;

    public void Add(int feature, long t)
    {
        if (_counts[feature]++ == 0)
        {
            _active[_activeCount++] = feature;
        }

        if (Events == 0)
        {
            FirstUs = t;
        }

        LastUs = t;
        Events++;
        TotalEvents++;
    }

    /// <summary>Empties the open step (sparse clear).</summary>
    public void Clear()
    {
        for (int i = 0; i < _activeCount; i++)
        {
            _counts[_active[i]] = 0;
        }

        _activeCount = 0;
        Events = 0;
    }
}
