namespace EventSnn.Pipeline;

/// <summary>
/// A 64-bit count that any thread may add to and read without a lock: the storage behind the
/// statistics the pipeline and serve libraries expose as properties and publish as
/// System.Diagnostics.Metrics instruments (<see cref="PipelineMetrics"/>). One instance per
/// statistic, created with its owner; adding never allocates.
/// </summary>
internal sealed class AtomicCount
{
    private long _value;

    /// <summary>A count starting at <paramref name="initial"/>.</summary>
    public AtomicCount(long initial = 0) => _value = initial;

    /// <summary>The current value.</summary>
    public long Value => Interlocked.Read(ref _value);

    /// <summary>Adds one; returns the new value.</summary>
    public long Increment() => Interlocked.Increment(ref _value);

    /// <summary>Subtracts one; returns the new value.</summary>
    public long Decrement() => Interlocked.Decrement(ref _value);

    /// <summary>Adds <paramref name="amount"/>.</summary>
    public void Add(long amount) => Interlocked.Add(ref _value, amount);

    /// <summary>Replaces the value (for a level such as the newest sequence number).</summary>
    public void Set(long value) => Interlocked.Exchange(ref _value, value);
}
