using System.Buffers;
using System.Runtime.CompilerServices;

namespace EventSnn.Events;

/// <summary>
/// A pooled, fixed-capacity struct-of-arrays batch of DVS events (timestamps, x, y,
/// polarity), plus the trigger events that arrived with them. Readers fill the arrays in
/// place (<see cref="T"/>, <see cref="X"/>, <see cref="Y"/>, <see cref="P"/>) and then call
/// <see cref="SetCount"/>; nothing is allocated per event. Dispose returns the arrays to the pool.
/// </summary>
public sealed class EventBatch : IDisposable
{
    /// <summary>Default capacity used by readers and pipelines (64 Ki events, about 832 KiB).</summary>
    public const int DefaultCapacity = 1 << 16;

    private long[] _t;
    private ushort[] _x;
    private ushort[] _y;
    private byte[] _p;
    private int _count;

    /// <summary>Creates a batch holding up to <paramref name="capacity"/> events.</summary>
    public EventBatch(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _t = ArrayPool<long>.Shared.Rent(capacity);
        _x = ArrayPool<ushort>.Shared.Rent(capacity);
        _y = ArrayPool<ushort>.Shared.Rent(capacity);
        _p = ArrayPool<byte>.Shared.Rent(capacity);
        Triggers = new TriggerBuffer(Math.Max(16, capacity / 64));
    }

    /// <summary>Maximum number of events.</summary>
    public int Capacity { get; }

    /// <summary>Number of valid events.</summary>
    public int Count => _count;

    /// <summary>Free slots left.</summary>
    public int Remaining => Capacity - _count;

    /// <summary>True when no slot is left.</summary>
    public bool IsFull => _count >= Capacity;

    /// <summary>Raw timestamp array (microseconds); valid in [0, Count), writable in [0, Capacity).</summary>
    public long[] T => _t;

    /// <summary>Raw x array (column, origin left).</summary>
    public ushort[] X => _x;

    /// <summary>Raw y array (row, origin top).</summary>
    public ushort[] Y => _y;

    /// <summary>Raw polarity array (1 = ON, 0 = OFF).</summary>
    public byte[] P => _p;

    /// <summary>Valid timestamps.</summary>
    public Span<long> Timestamps => _t.AsSpan(0, _count);

    /// <summary>Valid x addresses.</summary>
    public Span<ushort> Xs => _x.AsSpan(0, _count);

    /// <summary>Valid y addresses.</summary>
    public Span<ushort> Ys => _y.AsSpan(0, _count);

    /// <summary>Valid polarities (1 = ON).</summary>
    public Span<byte> Polarities => _p.AsSpan(0, _count);

    /// <summary>Trigger and special events that arrived with this batch.</summary>
    public TriggerBuffer Triggers { get; }

    /// <summary>Event <paramref name="index"/> as a value.</summary>
    public DvsEvent this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_count)
            {
                throw new ArgumentOutOfRangeException(nameof(index));
            }

            return new DvsEvent(_t[index], _x[index], _y[index], _p[index] != 0);
        }
    }

    /// <summary>Forgets all events and triggers; keeps the arrays.</summary>
    public void Clear()
    {
        _count = 0;
        Triggers.Clear();
    }

    /// <summary>Sets the number of valid events after writing the raw arrays directly.</summary>
    public void SetCount(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Capacity);
        _count = count;
    }

    /// <summary>Appends one event. Throws when the batch is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(long t, int x, int y, bool on)
    {
        int i = _count;
        if (i >= Capacity)
        {
            ThrowFull();
        }

        _t[i] = t;
        _x[i] = (ushort)x;
        _y[i] = (ushort)y;
        _p[i] = on ? (byte)1 : (byte)0;
        _count = i + 1;
    }

    /// <summary>Appends one event. Throws when the batch is full.</summary>
    public void Add(in DvsEvent e) => Add(e.T, e.X, e.Y, e.On);

    /// <summary>Appends events [start, start + count) of <paramref name="source"/>.</summary>
    public void Append(EventBatch source, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(source);
        if ((uint)start > (uint)source.Count || (uint)count > (uint)(source.Count - start))
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        if (count > Remaining)
        {
            ThrowFull();
        }

        Array.Copy(source._t, start, _t, _count, count);
        Array.Copy(source._x, start, _x, _count, count);
        Array.Copy(source._y, start, _y, _count, count);
        Array.Copy(source._p, start, _p, _count, count);
        _count += count;
    }

    /// <summary>
    /// Subtracts <paramref name="origin"/> from every event and trigger timestamp in place (to
    /// rebase a recording's time); allocation-free.
    /// </summary>
    public void ShiftTime(long origin)
    {
        if (origin == 0)
        {
            return;
        }

        Span<long> t = Timestamps;
        for (int i = 0; i < t.Length; i++)
        {
            t[i] -= origin;
        }

        Triggers.ShiftTime(origin);
    }

    /// <summary>Copies the valid events into a new array (for tests and small tools, not hot paths).</summary>
    public DvsEvent[] ToArray()
    {
        var result = new DvsEvent[_count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = new DvsEvent(_t[i], _x[i], _y[i], _p[i] != 0);
        }

        return result;
    }

    /// <summary>Returns the arrays to the shared pool.</summary>
    public void Dispose()
    {
        if (_t.Length == 0)
        {
            return;
        }

        ArrayPool<long>.Shared.Return(_t);
        ArrayPool<ushort>.Shared.Return(_x);
        ArrayPool<ushort>.Shared.Return(_y);
        ArrayPool<byte>.Shared.Return(_p);
        _t = [];
        _x = [];
        _y = [];
        _p = [];
        _count = 0;
    }

    private void ThrowFull() => throw new InvalidOperationException($"Event batch is full ({Capacity} events).");
}
