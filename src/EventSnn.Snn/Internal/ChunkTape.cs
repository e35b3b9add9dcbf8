using System.Numerics;
using System.Runtime.CompilerServices;

namespace EventSnn.Snn.Internal;

/// <summary>
/// Everything the backward pass of one chunk needs, preallocated for <see cref="Capacity"/>
/// steps of B streams and reused chunk after chunk: the per-layer tapes, the readout tape, a
/// copy of the first layer's inputs (dense values or sparse indices), the loss gradients of
/// the outputs. Its size is capacity x batch x widths, independent of the sequence length.
/// </summary>
internal sealed class ChunkTape<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private int[] _indices;
    private bool _sparse;

    public ChunkTape(Network<T> network, int batch, int capacity)
    {
        Batch = batch;
        Capacity = capacity;
        InputSize = network.InputSize;
        Layers = new LayerTape<T>[network.Layers.Count];
        for (int l = 0; l < Layers.Length; l++)
        {
            Layers[l] = network.Layers[l].CreateTape(batch, capacity);
        }

        Readout = network.Readout.CreateTape(batch, capacity);
        InputDense = new T[capacity * batch * InputSize];
        _indices = new int[Math.Max(16, capacity * batch * 8)];
        InputOffsets = new int[(capacity * batch) + 1];
        GOut = new T[capacity * batch * network.OutputSize];
        HasLoss = new bool[capacity];
        Dropout = network.Config.Dropout;
        if (Dropout > 0)
        {
            Masks = new T[Layers.Length][];
            Dropped = new T[Layers.Length][];
            for (int l = 0; l < Layers.Length; l++)
            {
                Masks[l] = new T[capacity * Layers[l].Row];
                Dropped[l] = new T[capacity * Layers[l].Row];
            }

            DropScratch = new T[Layers[^1].Row > 0 ? MaxRow() : 0];
            StreamRandom = new DropoutGenerators(batch, DropoutGenerators.SeedOf(network.Config));
        }
        else
        {
            Masks = [];
            Dropped = [];
            DropScratch = [];
            StreamRandom = new DropoutGenerators(0, 0);
        }
    }

    /// <summary>
    /// Restarts the dropout generators: stream b of this tape is stream <paramref name="firstStream"/> + b
    /// of the whole batch, and its generator depends only on <paramref name="seed"/> and that index.
    /// </summary>
    public void ReseedDropout(long seed, int firstStream) => StreamRandom.Reseed(seed, firstStream);

    /// <summary>Dropout probability on the spikes passed up (0: none).</summary>
    public double Dropout { get; }

    /// <summary>Per layer: the dropout mask of each step (0 or 1/(1 − p)), steps x B x N.</summary>
    public T[][] Masks { get; }

    /// <summary>Per layer: the spikes passed up after dropout, steps x B x N.</summary>
    public T[][] Dropped { get; }

    /// <summary>Scratch for the gradient arriving at dropped spikes (B x N of the widest layer).</summary>
    public T[] DropScratch { get; }

    /// <summary>Generators of the dropout masks, one per stream (empty without dropout).</summary>
    public DropoutGenerators StreamRandom { get; }

    /// <summary>Reducer of batch statistics across the slices of a data-parallel batch (null: this tape holds the whole batch).</summary>
    public BatchReducer? Reducer { get; private set; }

    /// <summary>Attaches the reducer of a data-parallel group to this tape and its layer tapes (<paramref name="worker"/>: this tape's slice).</summary>
    public void AttachReducer(BatchReducer reducer, int worker)
    {
        Reducer = reducer;
        foreach (LayerTape<T> l in Layers)
        {
            l.Reducer = reducer;
            l.Worker = worker;
        }

        Readout.Reducer = reducer;
        Readout.Worker = worker;
    }

    private int MaxRow()
    {
        int m = 0;
        foreach (LayerTape<T> l in Layers)
        {
            m = Math.Max(m, l.Row);
        }

        return m;
    }

    public int Batch { get; }

    public int Capacity { get; }

    public int InputSize { get; }

    public LayerTape<T>[] Layers { get; }

    public ReadoutTape<T> Readout { get; }

    public T[] InputDense { get; }

    public int[] InputOffsets { get; }

    /// <summary>dL/doutput per step.</summary>
    public T[] GOut { get; }

    /// <summary>Whether step t has a loss term.</summary>
    public bool[] HasLoss { get; }

    /// <summary>Steps recorded.</summary>
    public int Count { get; set; }

    /// <summary>Bytes of every buffer of the tape.</summary>
    public long Bytes
    {
        get
        {
            long total = Readout.Bytes;
            foreach (LayerTape<T> l in Layers)
            {
                total += l.Bytes;
            }

            total += ((long)InputDense.Length + GOut.Length + DropScratch.Length) * Unsafe.SizeOf<T>();
            foreach (T[] m in Masks)
            {
                total += 2L * m.Length * Unsafe.SizeOf<T>();
            }

            total += ((long)_indices.Length + InputOffsets.Length) * sizeof(int);
            total += HasLoss.Length;
            return total;
        }
    }

    public void RecordInput(in StepInput<T> x, int t)
    {
        int b0 = t * Batch;
        if (t == 0)
        {
            _sparse = x.IsSparse;
            InputOffsets[0] = 0;
        }
        else if (_sparse != x.IsSparse)
        {
            throw new ArgumentException("a chunk must not mix dense and sparse inputs");
        }

        if (!x.IsSparse)
        {
            x.Dense.CopyTo(InputDense.AsSpan(b0 * InputSize, Batch * InputSize));
            return;
        }

        int count = InputOffsets[b0];
        for (int b = 0; b < Batch; b++)
        {
            (int s, int e) = x.Range(b);
            int len = e - s;
            if (count + len > _indices.Length)
            {
                Array.Resize(ref _indices, Math.Max(_indices.Length * 2, count + len));
            }

            x.Indices[s..e].CopyTo(_indices.AsSpan(count));
            count += len;
            InputOffsets[b0 + b + 1] = count;
        }
    }

    /// <summary>First-layer inputs of the recorded steps.</summary>
    public ChunkInput<T> Inputs(int steps)
    {
        int rows = steps * Batch;
        return _sparse
            ? new ChunkInput<T>(_indices.AsSpan(0, InputOffsets[rows]), InputOffsets.AsSpan(0, rows + 1))
            : new ChunkInput<T>(InputDense.AsSpan(0, rows * InputSize));
    }
}
