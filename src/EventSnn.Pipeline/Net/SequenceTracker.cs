namespace EventSnn.Pipeline;

/// <summary>
/// Loss, reordering and duplicate accounting from datagram sequence numbers. A gap counts
/// the missing numbers as lost; a late datagram inside the window (1024 numbers below the
/// newest) that was not seen yet fills its gap (lost - 1, reordered + 1) and is accepted; one
/// already seen is a duplicate and rejected. A jump of more than 2^20 either way is a sender
/// restart: tracking starts over. A gap at the very end of a stream cannot be seen.
/// </summary>
internal sealed class SequenceTracker
{
    private const int Window = 1024;
    private const long MaxJump = 1 << 20;
    private readonly ulong[] _seen = new ulong[Window / 64];
    private readonly LiveSourceStatistics _stats;
    private bool _started;
    private long _highest;

    public SequenceTracker(LiveSourceStatistics stats) => _stats = stats;

    public long Highest => _highest;

    /// <summary>Unwraps a 32-bit sequence number against the newest one seen.</summary>
    public long Unwrap32(int sequence) => _started ? _highest + (sequence - (int)_highest) : (uint)sequence;

    /// <summary>Records <paramref name="sequence"/>; returns false when the datagram must be dropped (duplicate).</summary>
    public bool Observe(long sequence, out LiveFaultKind? fault)
    {
        fault = null;
        if (!_started)
        {
            Start(sequence);
            return true;
        }

        long diff = sequence - _highest;
        if (diff > MaxJump || diff < -MaxJump)
        {
            _stats._sequenceResets.Increment();
            fault = LiveFaultKind.SequenceReset;
            Start(sequence);
            return true;
        }

        if (diff > 0)
        {
            if (diff > 1)
            {
                _stats._lost.Add(diff - 1);
                fault = LiveFaultKind.Lost;
            }

            if (diff >= Window)
            {
                Array.Clear(_seen);
            }
            else
            {
                for (long s = _highest + 1; s < sequence; s++)
                {
                    Clear(s);
                }
            }

            _highest = sequence;
            Mark(sequence);
            _stats._lastSequence.Set(sequence);
            return true;
        }

        if (diff > -Window && IsMarked(sequence))
        {
            _stats._duplicates.Increment();
            fault = LiveFaultKind.Duplicate;
            return false;
        }

        // late: it was counted lost when the gap opened
        if (diff > -Window)
        {
            Mark(sequence);
        }

        _stats._lost.Decrement();
        _stats._reordered.Increment();
        fault = LiveFaultKind.Reordered;
        return true;
    }

    private void Start(long sequence)
    {
        _started = true;
        Array.Clear(_seen);
        _highest = sequence;
        Mark(sequence);
        _stats._lastSequence.Set(sequence);
    }

    private void Mark(long s) => _seen[(int)((s & (Window - 1)) >> 6)] |= 1UL << (int)(s & 63);

    private void Clear(long s) => _seen[(int)((s & (Window - 1)) >> 6)] &= ~(1UL << (int)(s & 63));

    private bool IsMarked(long s) => (_seen[(int)((s & (Window - 1)) >> 6)] & (1UL << (int)(s & 63))) != 0;
}
