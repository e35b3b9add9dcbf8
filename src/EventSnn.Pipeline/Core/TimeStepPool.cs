using System.Collections.Concurrent;

namespace EventSnn.Pipeline;

/// <summary>
/// A thread-safe pool of <see cref="TimeStep"/>s of one shape. Steps rented here are owned by
/// the renter and go back with <see cref="TimeStep.Dispose"/>. At most <see cref="MaxRetained"/>
/// idle steps are kept; extra ones release their arrays. The idle steps sit in a
/// <see cref="ConcurrentQueue{T}"/> (steps are rented on the producer's thread and returned on the
/// consumer's): a dropped pool is ordinary garbage, where a ConcurrentBag's per-thread queues would
/// keep its steps reachable from every thread that touched it until its finaliser ran.
/// </summary>
public sealed class TimeStepPool
{
    private readonly ConcurrentQueue<TimeStep> _idle = new();
    private int _idleCount;

    /// <summary>Creates a pool for steps built with <paramref name="options"/>.</summary>
    public TimeStepPool(TimeStepOptions options, int maxRetained = 256)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRetained, 0);
        Options = options;
        MaxRetained = maxRetained;
    }

    /// <summary>Options of the pooled steps.</summary>
    public TimeStepOptions Options { get; }

    /// <summary>Maximum number of idle steps kept.</summary>
    public int MaxRetained { get; }

    private long _created;

    /// <summary>Steps created so far (a measure of peak use).</summary>
    public long Created => Interlocked.Read(ref _created);

    /// <summary>Rents an empty step.</summary>
    public TimeStep Rent()
    {
        if (_idle.TryDequeue(out TimeStep? step))
        {
            Interlocked.Decrement(ref _idleCount);
            step.InPool = false;
            return step;
        }

        Interlocked.Increment(ref _created);
        return new TimeStep(Options, this, borrowed: false);
    }

    /// <summary>Rents a step holding a copy of <paramref name="source"/>.</summary>
    public TimeStep RentCopy(TimeStep source)
    {
        ArgumentNullException.ThrowIfNull(source);
        TimeStep step = Rent();
        source.CopyTo(step);
        return step;
    }

    internal void Return(TimeStep step)
    {
        if (step.InPool)
        {
            return;
        }

        step.InPool = true;
        step.Reset(0, 0, 0);
        if (Interlocked.Increment(ref _idleCount) <= MaxRetained)
        {
            _idle.Enqueue(step);
        }
        else
        {
            Interlocked.Decrement(ref _idleCount);
            step.Release();
        }
    }
}
