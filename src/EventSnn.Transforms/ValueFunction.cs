namespace EventSnn.Transforms;

/// <summary>
/// The value of a feature in a step from its event count n: binary (1), count (n), log-count
/// (log(1 + n)) or mean (n / pooled area). Pure and immutable.
/// </summary>
public sealed class ValueFunction
{
    /// <summary>Creates the function; <paramref name="poolArea"/> is the divisor of <see cref="ValueKind.Mean"/>.</summary>
    public ValueFunction(ValueKind kind, int poolArea)
    {
        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(poolArea, 1);
        Kind = kind;
        PoolArea = poolArea;
    }

    /// <summary>The kind.</summary>
    public ValueKind Kind { get; }

    /// <summary>Pixels or channels per pooled cell.</summary>
    public int PoolArea { get; }

    /// <summary>The value of a count (0 for 0).</summary>
    public float Apply(int count) => count <= 0 ? 0f : Kind switch
    {
        ValueKind.Binary => 1f,
        ValueKind.Count => count,
        ValueKind.LogCount => MathF.Log(1f + count),
        _ => count / (float)PoolArea,
    };

    /// <summary>Writes the value of every count to <paramref name="values"/>.</summary>
    public void Apply(ReadOnlySpan<int> counts, Span<float> values)
    {
        if (values.Length < counts.Length)
        {
            throw new ArgumentException("values is shorter than counts", nameof(values));
        }

        for (int i = 0; i < counts.Length; i++)
        {
            values[i] = Apply(counts[i]);
        }
    }
}
