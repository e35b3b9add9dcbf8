using System.Numerics;

namespace EventSnn.Snn;

/// <summary>
/// Explicit state of one recurrent layer for a batch of B streams: membrane u, spikes s and
/// threshold adaptation b, each B x N row-major. State is separate from the parameters, so
/// one model serves many streams, each with its own state.
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class LayerState<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a zero state.</summary>
    public LayerState(int batch, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        Batch = batch;
        Size = size;
        U = new T[batch * size];
        S = new T[batch * size];
        B = new T[batch * size];
    }

    /// <summary>Batch size B.</summary>
    public int Batch { get; }

    /// <summary>Neurons N.</summary>
    public int Size { get; }

    /// <summary>Membrane potentials u (B x N).</summary>
    public T[] U { get; }

    /// <summary>Spikes s of the last step (B x N, 0 or 1).</summary>
    public T[] S { get; }

    /// <summary>Threshold adaptation b (B x N).</summary>
    public T[] B { get; }

    /// <summary>Steps this layer state has advanced since it was reset (per-timestep normalisation reads it).</summary>
    public int Step { get; set; }

    /// <summary>Per-state scratch buffers of the inference path (created on first use).</summary>
    internal Internal.LayerTape<T>? Scratch { get; set; }

    /// <summary>Copies u, s, b into <paramref name="other"/> (same shape).</summary>
    public void CopyTo(LayerState<T> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Batch != Batch || other.Size != Size)
        {
            throw new ArgumentException("layer states differ in shape", nameof(other));
        }

        U.CopyTo(other.U, 0);
        S.CopyTo(other.S, 0);
        B.CopyTo(other.B, 0);
        other.Step = Step;
    }
}

/// <summary>
/// Explicit state of a whole network for B streams: one <see cref="LayerState{T}"/> per
/// layer and the readout's leaky output o (B x C). Create with
/// <see cref="Network{T}.CreateState"/>.
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class NetworkState<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly LayerState<T>[] _layers;

    internal NetworkState(int batch, IReadOnlyList<int> layerSizes, int readoutSize)
    {
        Batch = batch;
        _layers = new LayerState<T>[layerSizes.Count];
        for (int i = 0; i < _layers.Length; i++)
        {
            _layers[i] = new LayerState<T>(batch, layerSizes[i]);
        }

        Readout = new T[batch * readoutSize];
        ReadoutSize = readoutSize;
    }

    /// <summary>Batch size B.</summary>
    public int Batch { get; }

    /// <summary>Layer states, input side first.</summary>
    public IReadOnlyList<LayerState<T>> Layers => _layers;

    /// <summary>Readout state o (B x C) of a leaky readout (unused by a membrane readout).</summary>
    public T[] Readout { get; }

    /// <summary>Outputs C.</summary>
    public int ReadoutSize { get; }

    /// <summary>Per-state scratch of the readout's inference path.</summary>
    internal Internal.ReadoutTape<T>? ReadoutScratch { get; set; }

    /// <summary>Copies every layer state and the readout state into <paramref name="other"/>.</summary>
    public void CopyTo(NetworkState<T> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._layers.Length != _layers.Length || other.Batch != Batch || other.ReadoutSize != ReadoutSize)
        {
            throw new ArgumentException("network states differ in shape", nameof(other));
        }

        for (int i = 0; i < _layers.Length; i++)
        {
            _layers[i].CopyTo(other._layers[i]);
        }

        Readout.CopyTo(other.Readout, 0);
    }
}
