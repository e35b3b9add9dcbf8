namespace EventSnn.Snn.Internal;

/// <summary>
/// A reusable barrier for a fixed group of threads (data-parallel training): every call of
/// <see cref="SignalAndWait"/> returns once all participants have called it. A waiter spins
/// briefly (the others are usually microseconds away) and then blocks, so a thread whose partner
/// was descheduled on a busy machine does not burn its core. <see cref="Fault"/> releases every
/// waiter with <see cref="WorkerFaultException"/> (a participant failed and will not arrive).
/// Allocates nothing per call.
/// </summary>
internal sealed class WorkerBarrier : IDisposable
{
    private const int SpinIterations = 30;

    private readonly int _participants;
    private readonly ManualResetEventSlim[] _released;
    private int _remaining;
    private int _generation;
    private volatile bool _faulted;

    public WorkerBarrier(int participants)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(participants, 1);
        _participants = participants;
        _remaining = participants;
        _released = [new ManualResetEventSlim(false, 0), new ManualResetEventSlim(false, 0)];
    }

    /// <summary>Threads in the group.</summary>
    public int Participants => _participants;

    /// <summary>True after <see cref="Fault"/>.</summary>
    public bool Faulted => _faulted;

    /// <summary>Waits until every participant has arrived (throws <see cref="WorkerFaultException"/> after a fault).</summary>
    public void SignalAndWait()
    {
        if (_participants == 1)
        {
            return;
        }

        int generation = Volatile.Read(ref _generation);
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            // the last arrival arms the next generation's event before releasing this one
            _remaining = _participants;
            _released[(generation + 1) & 1].Reset();
            Volatile.Write(ref _generation, generation + 1);
            _released[generation & 1].Set();
        }
        else
        {
            for (int i = 0; i < SpinIterations && Volatile.Read(ref _generation) == generation && !_faulted; i++)
            {
                Thread.SpinWait(8);
            }

            while (Volatile.Read(ref _generation) == generation && !_faulted)
            {
                _released[generation & 1].Wait();
            }
        }

        if (_faulted)
        {
            throw new WorkerFaultException();
        }
    }

    /// <summary>Marks the group as failed and releases every waiter (now and later) with <see cref="WorkerFaultException"/>.</summary>
    public void Fault()
    {
        _faulted = true;
        _released[0].Set();
        _released[1].Set();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _released[0].Dispose();
        _released[1].Dispose();
    }
}

/// <summary>Thrown at a <see cref="WorkerBarrier"/> whose group failed (another participant threw).</summary>
internal sealed class WorkerFaultException : Exception
{
    public WorkerFaultException()
        : base("another worker of the data-parallel group failed")
    {
    }
}

/// <summary>
/// Sums per-slice partial values over the slices of a data-parallel batch (the batch statistics
/// of the normalisations and their gradients): every worker contributes its partials and receives
/// the total, summed in worker order, so every worker gets the same bits. One barrier per sum;
/// consecutive sums alternate between two buffers, so a fast worker never overwrites partials a
/// slow one is still reading.
/// </summary>
internal sealed class BatchReducer
{
    private const int Pad = 16;

    private readonly WorkerBarrier _barrier;
    private readonly double[][] _partials;
    private readonly int[] _calls;
    private readonly int _capacity;

    public BatchReducer(WorkerBarrier barrier, int totalBatch, int capacity)
    {
        ArgumentNullException.ThrowIfNull(barrier);
        _barrier = barrier;
        TotalBatch = totalBatch;
        _capacity = capacity;
        Workers = barrier.Participants;
        _partials = [new double[Workers * capacity], new double[Workers * capacity]];
        _calls = new int[Workers * Pad];
    }

    /// <summary>Streams of the whole batch.</summary>
    public int TotalBatch { get; }

    /// <summary>Workers (slices).</summary>
    public int Workers { get; }

    /// <summary>Replaces <paramref name="values"/> (this worker's partial sums) by their sum over all workers.</summary>
    public void Sum(int worker, Span<double> values)
    {
        if (values.Length > _capacity)
        {
            throw new ArgumentException($"at most {_capacity} values per sum", nameof(values));
        }

        double[] buffer = _partials[_calls[worker * Pad]++ & 1];
        values.CopyTo(buffer.AsSpan(worker * _capacity, values.Length));
        _barrier.SignalAndWait();
        values.Clear();
        for (int k = 0; k < Workers; k++)
        {
            ReadOnlySpan<double> part = buffer.AsSpan(k * _capacity, values.Length);
            for (int j = 0; j < values.Length; j++)
            {
                values[j] += part[j];
            }
        }
    }
}
