namespace EventSnn.Transforms;

/// <summary>
/// A sample's steps in compressed rows: for each step its active features (ascending) and their
/// values — the form the offline trainer consumes. Arrays are exposed, not copied.
/// </summary>
public sealed class SparseSequence
{
    /// <summary>Wraps compressed rows (arrays are taken, not copied).</summary>
    public SparseSequence(int steps, int features, int[] stepStart, int[] index, float[] value)
    {
        ArgumentNullException.ThrowIfNull(stepStart);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(value);
        if (stepStart.Length != steps + 1 || index.Length != value.Length || stepStart[steps] != index.Length)
        {
            throw new ArgumentException("inconsistent compressed rows");
        }

        Steps = steps;
        Features = features;
        StepStart = stepStart;
        Index = index;
        Value = value;
    }

    /// <summary>Number of steps.</summary>
    public int Steps { get; }

    /// <summary>Features per step.</summary>
    public int Features { get; }

    /// <summary>Row starts: step s holds entries [StepStart[s], StepStart[s + 1]).</summary>
    public int[] StepStart { get; }

    /// <summary>Feature of every entry.</summary>
    public int[] Index { get; }

    /// <summary>Value of every entry.</summary>
    public float[] Value { get; }

    /// <summary>Non-zero entries over all steps.</summary>
    public int NonZeros => Index.Length;

    /// <summary>Active features of step <paramref name="step"/>.</summary>
    public ReadOnlySpan<int> ActiveAt(int step) => Index.AsSpan(StepStart[step], StepStart[step + 1] - StepStart[step]);

    /// <summary>Values of the active features of step <paramref name="step"/>.</summary>
    public ReadOnlySpan<float> ValuesAt(int step) => Value.AsSpan(StepStart[step], StepStart[step + 1] - StepStart[step]);

    /// <summary>The steps as a dense Steps x Features array (row-major).</summary>
    public float[] ToDense()
    {
        var dense = new float[Steps * Features];
        for (int s = 0; s < Steps; s++)
        {
            ReadOnlySpan<int> idx = ActiveAt(s);
            ReadOnlySpan<float> val = ValuesAt(s);
            for (int i = 0; i < idx.Length; i++)
            {
                dense[(s * Features) + idx[i]] = val[i];
            }
        }

        return dense;
    }
}
