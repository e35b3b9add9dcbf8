using System.Buffers;
using System.Runtime.CompilerServices;

namespace EventSnn.Events;

/// <summary>
/// A pooled, fixed-capacity struct-of-arrays batch of audio spikes: timestamps (us),
/// channel, ear, neuron and polarity. Filled in place like <see cref="EventBatch"/>.
/// </summary>
public sealed class SpikeBatch : IDisposable
{
    /// <summary>Default capacity.</summary>
    public const int DefaultCapacity = 1 << 16;

    private long[] _t;
    private ushort[] _channel;
    private byte[] _ear;
    private byte[] _neuron;
    private byte[] _p;
    private int _count;

    /// <summary>Creates a batch holding up to <paramref name="capacity"/> spikes.</summary>
    public SpikeBatch(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _t = ArrayPool<long>.Shared.Rent(capacity);
        _channel = ArrayPool<ushort>.Shared.Rent(capacity);
        _ear = ArrayPool<byte>.Shared.Rent(capacity);
        _neuron = ArrayPool<byte>.Shared.Rent(capacity);
        _p = ArrayPool<byte>.Shared.Rent(capacity);
    }

    /// <summary>Maximum number of spikes.</summary>
    public int Capacity { get; }

    /// <summary>Number of valid spikes.</summary>
    public int Count => _count;

    /// <summary>Free slots left.</summary>
    public int Remaining => Capacity - _count;

    /// <summary>True when no slot is left.</summary>
    public bool IsFull => _count >= Capacity;

    /// <summary>Raw timestamp array (microseconds).</summary>
    public long[] T => _t;

    /// <summary>Raw channel array.</summary>
    public ushort[] Channel => _channel;

    /// <summary>Raw ear array (0 = left or mono, 1 = right).</summary>
    public byte[] Ear => _ear;

    /// <summary>Raw neuron-within-channel array.</summary>
    public byte[] Neuron => _neuron;

    /// <summary>Raw polarity array (1 = ON).</summary>
    public byte[] P => _p;

    /// <summary>Valid timestamps.</summary>
    public Span<long> Timestamps => _t.AsSpan(0, _count);

    /// <summary>Valid channels.</summary>
    public Span<ushort> Channels => _channel.AsSpan(0, _count);

    /// <summary>Spike <paramref name="index"/> as a value.</summary>
    public AudioSpike this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_count)
            {
                throw new ArgumentOutOfRangeException(nameof(index));
            }

            return new AudioSpike(_t[index], _channel[index], _ear[index], _neuron[index], _p[index] != 0);
        }
    }

    /// <summary>Forgets all spikes.</summary>
    public void Clear() => _count = 0;

    /// <summary>Sets the number of valid spikes after writing the raw arrays directly.</summary>
    public void SetCount(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Capacity);
        _count = count;
    }

    /// <summary>Appends one spike. Throws when full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(long t, int channel, int ear = 0, int neuron = 0, bool on = true)
    {
        int i = _count;
        if (i >= Capacity)
        {
            throw new InvalidOperationException($"Spike batch is full ({Capacity} spikes).");
        }

        _t[i] = t;
        _channel[i] = (ushort)channel;
        _ear[i] = (byte)ear;
        _neuron[i] = (byte)neuron;
        _p[i] = on ? (byte)1 : (byte)0;
        _count = i + 1;
    }

    /// <summary>Appends one spike.</summary>
    public void Add(in AudioSpike s) => Add(s.T, s.Channel, s.Ear, s.Neuron, s.On);

    /// <summary>Copies the valid spikes into a new array (tests and small tools).</summary>
    public AudioSpike[] ToArray()
    {
        var result = new AudioSpike[_count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = this[i];
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
        ArrayPool<ushort>.Shared.Return(_channel);
        ArrayPool<byte>.Shared.Return(_ear);
        ArrayPool<byte>.Shared.Return(_neuron);
        ArrayPool<byte>.Shared.Return(_p);
        _t = [];
        _channel = [];
        _ear = [];
        _neuron = [];
        _p = [];
        _count = 0;
    }
}
