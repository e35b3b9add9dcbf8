namespace EventSnn.Transforms;

/// <summary>
/// A labelled sample for offline training: a sequence of time steps over a fixed number of
/// input features, stored sparsely (per step the active feature indices and their values).
/// <see cref="SpikeSequence"/> implements it.
/// </summary>
public interface ILabelledSequence
{
    /// <summary>Number of time steps.</summary>
    int Steps { get; }

    /// <summary>Input features per step.</summary>
    int Features { get; }

    /// <summary>Class label (0-based).</summary>
    int Label { get; }

    /// <summary>Number of non-zero entries (events or spikes) over all steps.</summary>
    int NonZeros { get; }

    /// <summary>Active feature indices at <paramref name="step"/>.</summary>
    ReadOnlySpan<int> ActiveAt(int step);

    /// <summary>Values of the active features at <paramref name="step"/> (event counts, 1 for binary spikes).</summary>
    ReadOnlySpan<float> ValuesAt(int step);
}
