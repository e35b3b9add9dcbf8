using System.Numerics;

namespace EventSnn.Snn;

/// <summary>
/// The input of one time step for a batch of B streams: either dense values
/// (B x D, row-major) or sparse binary spikes (the indices of the active inputs of each
/// stream; only active inputs cost work). For sparse input, <c>Offsets</c> has B + 1
/// entries delimiting each stream's indices; for B = 1 it may be empty.
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public readonly ref struct StepInput<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Dense input of B x D values.</summary>
    public StepInput(ReadOnlySpan<T> dense)
    {
        Dense = dense;
        IsSparse = false;
    }

    /// <summary>Sparse spikes: stream b owns indices[offsets[b] .. offsets[b+1]); empty offsets = one stream.</summary>
    public StepInput(ReadOnlySpan<int> activeIndices, ReadOnlySpan<int> offsets)
    {
        Indices = activeIndices;
        Offsets = offsets;
        IsSparse = true;
    }

    /// <summary>Dense values, B x D.</summary>
    public ReadOnlySpan<T> Dense { get; }

    /// <summary>Active input indices (sparse form).</summary>
    public ReadOnlySpan<int> Indices { get; }

    /// <summary>B + 1 offsets into <see cref="Indices"/> (sparse form; empty means one stream).</summary>
    public ReadOnlySpan<int> Offsets { get; }

    /// <summary>True for the sparse form.</summary>
    public bool IsSparse { get; }

    /// <summary>Index range of stream <paramref name="b"/> in the sparse form.</summary>
    public (int Start, int End) Range(int b) => Offsets.IsEmpty ? (0, Indices.Length) : (Offsets[b], Offsets[b + 1]);

    internal void Validate(int batch, int inputSize)
    {
        if (IsSparse)
        {
            if (Offsets.IsEmpty)
            {
                if (batch != 1)
                {
                    throw new ArgumentException($"sparse input for batch {batch} needs {batch + 1} offsets");
                }
            }
            else if (Offsets.Length != batch + 1 || Offsets[0] < 0 || Offsets[batch] > Indices.Length)
            {
                throw new ArgumentException($"sparse input needs {batch + 1} offsets within the index list");
            }

            foreach (int j in Indices)
            {
                if ((uint)j >= (uint)inputSize)
                {
                    throw new ArgumentException($"input index {j} outside [0, {inputSize})");
                }
            }
        }
        else if (Dense.Length != batch * inputSize)
        {
            throw new ArgumentException($"dense input must have batch x inputs = {batch * inputSize} values (has {Dense.Length})");
        }
    }
}

/// <summary>Factories for <see cref="StepInput{T}"/>.</summary>
public static class StepInput
{
    /// <summary>Dense input of B x D values.</summary>
    public static StepInput<T> Dense<T>(ReadOnlySpan<T> values)
        where T : unmanaged, IFloatingPointIeee754<T> => new(values);

    /// <summary>Sparse spikes of one stream (B = 1).</summary>
    public static StepInput<T> Spikes<T>(ReadOnlySpan<int> activeIndices)
        where T : unmanaged, IFloatingPointIeee754<T> => new(activeIndices, default);

    /// <summary>Sparse spikes of B streams: stream b owns indices[offsets[b] .. offsets[b+1]).</summary>
    public static StepInput<T> Spikes<T>(ReadOnlySpan<int> activeIndices, ReadOnlySpan<int> offsets)
        where T : unmanaged, IFloatingPointIeee754<T> => new(activeIndices, offsets);
}
