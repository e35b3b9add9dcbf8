using System.Diagnostics;
using System.Runtime.ExceptionServices;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn;

/// <summary>
/// Helper threads that take equal shares of every fused parameter update of a learner (see
/// <see cref="FpttLearner{T}.UpdateWorkers"/>): the update of an online learner at batch 1 reads
/// and writes six arrays per parameter and is bound by the memory traffic of one core, so a
/// second core roughly halves it. The calling thread always does share 0 itself.
/// <para>
/// Between updates a helper spins for <see cref="SpinTime"/> waiting for the next one (an update
/// every few hundred microseconds then costs no wake-up), then sleeps. The owner disposes the
/// workers, which stops the threads; one instance serves one learner at a time.
/// </para>
/// </summary>
public sealed class UpdateWorkers : IDisposable
{
    private const int Pad = 16;

    private readonly Thread[] _threads;
    private readonly object _gate = new(); // Monitor.Wait/PulseAll need an object monitor
    private readonly int[] _done;
    private readonly ExceptionDispatchInfo?[] _errors;
    private readonly long _spinTicks;
    private IShareJob? _job;
    private int _requested;
    private int _sleepers;
    private volatile bool _disposed;

    /// <summary>Starts <paramref name="threads"/> − 1 helper threads (the caller is the first of <paramref name="threads"/>).</summary>
    /// <param name="threads">Threads sharing each update, including the caller (2 to 64).</param>
    /// <param name="spinTime">How long a helper spins for the next update before it sleeps (default 2 ms).</param>
    public UpdateWorkers(int threads, TimeSpan? spinTime = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threads, 64);
        SpinTime = spinTime ?? TimeSpan.FromMilliseconds(2);
        ArgumentOutOfRangeException.ThrowIfLessThan(SpinTime, TimeSpan.Zero, nameof(spinTime));
        _spinTicks = (long)(SpinTime.TotalSeconds * Stopwatch.Frequency);
        Threads = threads;
        _done = new int[threads * Pad];
        _errors = new ExceptionDispatchInfo?[threads];
        _threads = new Thread[threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int share = i + 1;
            _threads[i] = new Thread(() => Loop(share))
            {
                IsBackground = true,
                Name = "EventSnn update " + share.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            _threads[i].Start();
        }
    }

    /// <summary>Threads sharing each update, including the caller.</summary>
    public int Threads { get; }

    /// <summary>
    /// Share <paramref name="share"/> of <paramref name="shares"/> of <paramref name="count"/> items
    /// as [first, end): near-equal contiguous ranges whose inner boundaries are multiples of
    /// <paramref name="align"/> (a power of two); the last share ends at <paramref name="count"/>.
    /// </summary>
    internal static (int First, int End) Range(int count, int share, int shares, int align)
    {
        int first = share == 0 ? 0 : (int)((long)count * share / shares) & -align;
        int end = share == shares - 1 ? count : (int)((long)count * (share + 1) / shares) & -align;
        return (first, end);
    }

    /// <summary>How long a helper spins for the next update before it sleeps.</summary>
    public TimeSpan SpinTime { get; }

    /// <summary>Runs share 0 of <paramref name="job"/> on the calling thread and the others on the helpers; returns when all are done (rethrows a helper's exception).</summary>
    internal void Run(IShareJob job)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _job = job;
        int generation = _requested + 1;
        Interlocked.Exchange(ref _requested, generation); // full fence: the job is visible, then the sleepers are read
        if (Volatile.Read(ref _sleepers) > 0)
        {
            WakeAll();
        }

        ExceptionDispatchInfo? own = null;
        try
        {
            job.RunShare(0, Threads);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            own = ExceptionDispatchInfo.Capture(ex);
        }

        SpinWait spin = default;
        for (int i = 1; i < Threads; i++)
        {
            while (Volatile.Read(ref _done[i * Pad]) != generation)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }

        _job = null;
        own?.Throw();
        for (int i = 1; i < Threads; i++)
        {
            ExceptionDispatchInfo? error = _errors[i];
            if (error is not null)
            {
                _errors[i] = null;
                error.Throw();
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Interlocked.Increment(ref _requested);
        WakeAll();
        foreach (Thread t in _threads)
        {
            t.Join();
        }
    }

    private void WakeAll()
    {
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }
    }

    private void Loop(int share)
    {
        DenormalScope.EnterForThread(); // the helper runs engine updates only
        int seen = 0;
        while (true)
        {
            int generation = WaitForWork(seen);
            if (_disposed)
            {
                return;
            }

            try
            {
                _job!.RunShare(share, Threads);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _errors[share] = ExceptionDispatchInfo.Capture(ex);
            }

            seen = generation;
            Volatile.Write(ref _done[share * Pad], generation);
        }
    }

    private int WaitForWork(int seen)
    {
        long deadline = Stopwatch.GetTimestamp() + _spinTicks;
        while (true)
        {
            int requested = Volatile.Read(ref _requested);
            if (requested != seen || _disposed)
            {
                return requested;
            }

            if (Stopwatch.GetTimestamp() < deadline)
            {
                Thread.SpinWait(32);
                continue;
            }

            Interlocked.Increment(ref _sleepers); // full fence: counted as asleep, then the request is read again
            lock (_gate)
            {
                while (Volatile.Read(ref _requested) == seen && !_disposed)
                {
                    Monitor.Wait(_gate);
                }
            }

            Interlocked.Decrement(ref _sleepers);
            deadline = Stopwatch.GetTimestamp() + _spinTicks;
        }
    }
}

/// <summary>Work split into equal shares (see <see cref="UpdateWorkers"/>).</summary>
internal interface IShareJob
{
    /// <summary>Does share <paramref name="share"/> of <paramref name="shares"/>.</summary>
    void RunShare(int share, int shares);
}
