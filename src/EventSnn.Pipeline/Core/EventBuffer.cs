using EventSnn.Events;

namespace EventSnn.Pipeline;

/// <summary>
/// A growable pooled event store built on <see cref="EventBatch"/>: appends copy events in,
/// capacity doubles (pooled arrays) up to <see cref="MaxEvents"/>; events beyond the bound are
/// counted in <see cref="Overflow"/> and dropped, so memory stays bounded whatever the input.
/// </summary>
public sealed class EventBuffer : IDisposable
{
    private EventBatch _batch;

    /// <summary>Creates a buffer.</summary>
    public EventBuffer(int initialCapacity = 4096, int maxEvents = 1 << 24)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(initialCapacity);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvents, initialCapacity);
        MaxEvents = maxEvents;
        _batch = new EventBatch(initialCapacity);
    }

    /// <summary>Upper bound on the number of events held.</summary>
    public int MaxEvents { get; }

    /// <summary>The events held (a batch owned by this buffer; valid until the next append or clear).</summary>
    public EventBatch Events => _batch;

    /// <summary>Number of events held.</summary>
    public int Count => _batch.Count;

    /// <summary>Events dropped because the buffer was at its bound.</summary>
    public long Overflow { get; private set; }

    /// <summary>Appends events [start, start + count) of <paramref name="source"/>; returns how many fitted.</summary>
    public int Append(EventBatch source, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(source);
        int room = MaxEvents - _batch.Count;
        int take = Math.Min(count, room);
        if (take < count)
        {
            Overflow += count - take;
        }

        if (take <= 0)
        {
            return 0;
        }

        if (_batch.Remaining < take)
        {
            long capacity = _batch.Capacity;
            while (capacity - _batch.Count < take)
            {
                capacity *= 2;
            }

            var bigger = new EventBatch((int)Math.Min(capacity, MaxEvents));
            bigger.Append(_batch, 0, _batch.Count);
            _batch.Dispose();
            _batch = bigger;
        }

        _batch.Append(source, start, take);
        return take;
    }

    /// <summary>
    /// Makes room for <paramref name="capacity"/> events in <see cref="Events"/> (keeping the
    /// ones held), for a transform writing straight into the batch; this may pass
    /// <see cref="MaxEvents"/> (the bound applies to appends).
    /// </summary>
    public void Reserve(int capacity)
    {
        if (_batch.Capacity >= capacity)
        {
            return;
        }

        var bigger = new EventBatch(Math.Max(capacity, (int)Math.Min(_batch.Capacity * 2L, int.MaxValue)));
        bigger.Append(_batch, 0, _batch.Count);
        _batch.Dispose();
        _batch = bigger;
    }

    /// <summary>Appends one event; returns false when the bound was reached.</summary>
    public bool Add(long t, int x, int y, byte p)
    {
        if (_batch.Count >= MaxEvents)
        {
            Overflow++;
            return false;
        }

        if (_batch.IsFull)
        {
            var bigger = new EventBatch((int)Math.Min(_batch.Capacity * 2L, MaxEvents));
            bigger.Append(_batch, 0, _batch.Count);
            _batch.Dispose();
            _batch = bigger;
        }

        _batch.Add(t, x, y, p != 0);
        return true;
    }

    /// <summary>Forgets the events (keeps the storage).</summary>
    public void Clear() => _batch.Clear();

    /// <summary>Returns the storage to the pool.</summary>
    public void Dispose() => _batch.Dispose();
}
