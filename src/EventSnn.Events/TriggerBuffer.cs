namespace EventSnn.Events;

/// <summary>
/// A bounded list of trigger events owned by a batch. Triggers are rare, so this is a
/// plain array; when it is full further triggers are counted in <see cref="Dropped"/>
/// rather than growing memory without bound.
/// </summary>
public sealed class TriggerBuffer
{
    private readonly TriggerEvent[] _items;

    /// <summary>Creates a buffer for up to <paramref name="capacity"/> triggers.</summary>
    public TriggerBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _items = new TriggerEvent[capacity];
    }

    /// <summary>Number of triggers held.</summary>
    public int Count { get; private set; }

    /// <summary>Maximum number of triggers held.</summary>
    public int Capacity => _items.Length;

    /// <summary>Triggers that did not fit since the last <see cref="Clear"/>.</summary>
    public long Dropped { get; private set; }

    /// <summary>The triggers held.</summary>
    public ReadOnlySpan<TriggerEvent> Items => _items.AsSpan(0, Count);

    /// <summary>Trigger <paramref name="index"/>.</summary>
    public TriggerEvent this[int index] => Items[index];

    /// <summary>Adds a trigger, or counts it as dropped when full.</summary>
    public void Add(in TriggerEvent trigger)
    {
        if (Count < _items.Length)
        {
            _items[Count++] = trigger;
        }
        else
        {
            Dropped++;
        }
    }

    /// <summary>Subtracts <paramref name="origin"/> from every trigger timestamp in place.</summary>
    public void ShiftTime(long origin)
    {
        for (int i = 0; i < Count; i++)
        {
            _items[i] = _items[i] with { T = _items[i].T - origin };
        }
    }

    /// <summary>Forgets all triggers.</summary>
    public void Clear()
    {
        Count = 0;
        Dropped = 0;
    }
}
