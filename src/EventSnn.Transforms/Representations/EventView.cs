using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// A read-only view of a sample's events as struct-of-arrays spans (timestamps, x, y, polarity),
/// the input of the representations (<see cref="ToFrame"/>, <see cref="ToVoxelGrid"/>...). An
/// <see cref="EventBatch"/> converts to it implicitly; arrays give it through the constructor.
/// </summary>
public readonly ref struct EventView
{
    /// <summary>Views the first <c>t.Length</c> events of the four spans.</summary>
    public EventView(ReadOnlySpan<long> t, ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, ReadOnlySpan<byte> p)
    {
        if (x.Length < t.Length || y.Length < t.Length || p.Length < t.Length)
        {
            throw new ArgumentException("x, y and p must hold as many events as t");
        }

        T = t;
        X = x[..t.Length];
        Y = y[..t.Length];
        P = p[..t.Length];
    }

    /// <summary>Timestamps (us).</summary>
    public ReadOnlySpan<long> T { get; }

    /// <summary>Columns.</summary>
    public ReadOnlySpan<ushort> X { get; }

    /// <summary>Rows.</summary>
    public ReadOnlySpan<ushort> Y { get; }

    /// <summary>Polarities (1 = ON).</summary>
    public ReadOnlySpan<byte> P { get; }

    /// <summary>Number of events.</summary>
    public int Count => T.Length;

    /// <summary>The valid events of <paramref name="batch"/>.</summary>
    public static implicit operator EventView(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return new EventView(batch.Timestamps, batch.Xs, batch.Ys, batch.Polarities);
    }
}

/// <summary>A dense tensor: a row-major array of <typeparamref name="T"/> and its shape (e.g. frames x polarities x height x width).</summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class EventTensor<T>
    where T : unmanaged
{
    private readonly int[] _shape;

    /// <summary>A zero tensor of <paramref name="shape"/>.</summary>
    public EventTensor(params int[] shape)
        : this(new T[Product(shape)], shape)
    {
    }

    /// <summary>A tensor over <paramref name="data"/> (row-major, length the product of <paramref name="shape"/>).</summary>
    public EventTensor(T[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length != Product(shape))
        {
            throw new ArgumentException("data length does not match the shape", nameof(data));
        }

        Data = data;
        _shape = [.. shape];
    }

    /// <summary>The extent of every dimension.</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The elements, row-major (the last dimension varies fastest).</summary>
    public T[] Data { get; }

    /// <summary>The element at <paramref name="index"/> (one index per dimension).</summary>
    public T At(params ReadOnlySpan<int> index) => Data[Offset(index)];

    /// <summary>The row-major offset of <paramref name="index"/>.</summary>
    public int Offset(params ReadOnlySpan<int> index)
    {
        if (index.Length != _shape.Length)
        {
            throw new ArgumentException($"the tensor has {_shape.Length} dimensions", nameof(index));
        }

        int offset = 0;
        for (int d = 0; d < _shape.Length; d++)
        {
            if ((uint)index[d] >= (uint)_shape[d])
            {
                throw new ArgumentOutOfRangeException(nameof(index), $"index {index[d]} of dimension {d} is outside 0..{_shape[d] - 1}");
            }

            offset = (offset * _shape[d]) + index[d];
        }

        return offset;
    }

    private static int Product(int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long n = 1;
        foreach (int s in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(s);
            n *= s;
            if (n > Array.MaxLength)
            {
                throw new ArgumentException("tensor too large", nameof(shape));
            }
        }

        return (int)n;
    }
}
