namespace EventSnn.Transforms;

/// <summary>
/// One labelled sample as a sequence of time steps over a fixed number of input features,
/// stored sparsely (compressed rows: for each step the active feature indices and their
/// values). The loaders build it with the preprocessing chain (<see cref="SequenceBinner"/>),
/// so the values are the network's input as the chain's value kind defines them.
/// </summary>
public sealed class SpikeSequence : ILabelledSequence
{
    private readonly int[] _stepStart;
    private readonly int[] _index;
    private readonly float[] _value;

    /// <summary>Creates a sequence from its compressed rows (arrays are taken, not copied).</summary>
    public SpikeSequence(int steps, int features, int label, int[] stepStart, int[] index, float[] value, string? id = null)
    {
        ArgumentNullException.ThrowIfNull(stepStart);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(value);
        if (stepStart.Length != steps + 1 || index.Length != value.Length || stepStart[steps] > index.Length)
        {
            throw new ArgumentException("inconsistent compressed rows");
        }

        Steps = steps;
        Features = features;
        Label = label;
        Id = id;
        _stepStart = stepStart;
        _index = index;
        _value = value;
    }

    /// <summary>Wraps the steps the preprocessing chain produced for one sample.</summary>
    public static SpikeSequence From(SparseSequence steps, int label, string? id = null)
    {
        ArgumentNullException.ThrowIfNull(steps);
        return new SpikeSequence(steps.Steps, steps.Features, label, steps.StepStart, steps.Index, steps.Value, id);
    }

    /// <summary>Number of time steps.</summary>
    public int Steps { get; }

    /// <summary>Number of input features per step.</summary>
    public int Features { get; }

    /// <summary>Class label (0-based).</summary>
    public int Label { get; }

    /// <summary>Where the sample came from (file and index or interval), for messages.</summary>
    public string? Id { get; }

    /// <summary>Number of non-zero entries over all steps.</summary>
    public int NonZeros => _stepStart[Steps];

    /// <summary>Active feature indices at <paramref name="step"/> (ascending).</summary>
    public ReadOnlySpan<int> ActiveAt(int step) => _index.AsSpan(_stepStart[step], _stepStart[step + 1] - _stepStart[step]);

    /// <summary>Values of the active features at <paramref name="step"/>.</summary>
    public ReadOnlySpan<float> ValuesAt(int step) => _value.AsSpan(_stepStart[step], _stepStart[step + 1] - _stepStart[step]);

    /// <summary>Writes step <paramref name="step"/> as a dense vector of <see cref="Features"/> floats.</summary>
    public void DenseStep(int step, Span<float> destination)
    {
        destination[..Features].Clear();
        ReadOnlySpan<int> idx = ActiveAt(step);
        ReadOnlySpan<float> val = ValuesAt(step);
        for (int i = 0; i < idx.Length; i++)
        {
            destination[idx[i]] = val[i];
        }
    }

    /// <summary>The whole sequence as a dense Steps x Features array (row-major).</summary>
    public float[] ToDense()
    {
        var dense = new float[Steps * Features];
        for (int s = 0; s < Steps; s++)
        {
            DenseStep(s, dense.AsSpan(s * Features, Features));
        }

        return dense;
    }

    /// <summary>Compresses a dense Steps x Features array (zeros dropped).</summary>
    public static SpikeSequence FromDense(ReadOnlySpan<float> dense, int steps, int features, int label, string? id = null)
    {
        int nz = 0;
        foreach (float v in dense[..(steps * features)])
        {
            if (v != 0)
            {
                nz++;
            }
        }

        var start = new int[steps + 1];
        var index = new int[nz];
        var value = new float[nz];
        int k = 0;
        for (int s = 0; s < steps; s++)
        {
            start[s] = k;
            ReadOnlySpan<float> row = dense.Slice(s * features, features);
            for (int f = 0; f < features; f++)
            {
                if (row[f] != 0)
                {
                    index[k] = f;
                    value[k] = row[f];
                    k++;
                }
            }
        }

        start[steps] = k;
        return new SpikeSequence(steps, features, label, start, index, value, id);
    }
}
