using System.Numerics;
using System.Runtime.CompilerServices;

namespace EventSnn.Snn.Internal;

/// <summary>
/// What a layer's backward pass needs from one chunk, preallocated for <see cref="Capacity"/>
/// steps of B streams (its size is capacity x batch x widths, independent of the sequence
/// length). Slot arrays hold capacity + 1 entries: slot t is the value entering step t.
/// </summary>
internal abstract class LayerTape<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    protected LayerTape(int batch, int size, int capacity, bool normalized, bool recurrentNormalized)
    {
        Batch = batch;
        Size = size;
        Capacity = capacity;
        Row = batch * size;
        S = new T[(capacity + 1) * Row];
        U = new T[(capacity + 1) * Row];
        GI = new T[capacity * Row];
        GU = new T[Row];
        GS = new T[Row];
        GB = new T[Row];
        SG = new T[Row];
        Tmp = new T[Row];
        SpikeIndex = new int[capacity * Row];
        SpikeOffset = new int[(capacity * batch) + 1];
        int normRow = normalized ? Row : 0;
        A = new T[capacity * normRow];
        AHat = new T[capacity * normRow];
        GA = new T[capacity * normRow];
        NormInv = new T[capacity * (normalized ? Math.Max(size, batch) : 0)];
        NormSums = new double[normalized ? 2 * size : 0];
        int recRow = recurrentNormalized ? Row : 0;
        R = new T[capacity * recRow];
        RHat = new T[capacity * recRow];
        GR = new T[capacity * recRow];
        RecNormInv = new T[capacity * (recurrentNormalized ? size : 0)];
    }

    private int[] _sparseOffsets = [];
    private int[] _sparseIndex = [];
    private T[] _sparseValues = [];

    private T[] _gradientTranspose = [];

    /// <summary>Scratch of <paramref name="length"/> elements for a transposed weight gradient (allocated on first use, kept).</summary>
    public T[] GradientTranspose(int length)
    {
        if (_gradientTranspose.Length < length)
        {
            _gradientTranspose = new T[length];
        }

        return _gradientTranspose;
    }

    /// <summary>Row offsets (rows + 1) of the dense input rows' non-zeros for the input-weight gradient (grown on demand, kept).</summary>
    public int[] SparseOffsets(int rows)
    {
        if (_sparseOffsets.Length < rows + 1)
        {
            _sparseOffsets = new int[rows + 1];
        }

        return _sparseOffsets;
    }

    /// <summary>Index and value lists of at least <paramref name="count"/> entries (grown on demand, kept).</summary>
    public (int[] Index, T[] Values) SparseEntries(int count)
    {
        if (_sparseIndex.Length < count)
        {
            _sparseIndex = new int[count];
            _sparseValues = new T[count];
        }

        return (_sparseIndex, _sparseValues);
    }

    /// <summary>Normalised layers: per-neuron sums over the batch of one step (scratch of the statistics and their gradients).</summary>
    public double[] NormSums { get; }

    /// <summary>Reducer of batch sums across the slices of a data-parallel batch (null: this tape holds the whole batch).</summary>
    public BatchReducer? Reducer { get; set; }

    /// <summary>Index of this tape's slice in its data-parallel group.</summary>
    public int Worker { get; set; }

    /// <summary>Streams of the whole batch (the slices' total; <see cref="Batch"/> without a reducer).</summary>
    public int TotalBatch => Reducer?.TotalBatch ?? Batch;

    /// <summary>Sums <paramref name="values"/> (this slice's partial sums) over the slices of the batch, in place.</summary>
    public void SumOverBatch(Span<double> values) => Reducer?.Sum(Worker, values);

    /// <summary>Normalised layers: the feed-forward current a = W_in x per step.</summary>
    public T[] A { get; }

    /// <summary>Normalised layers: the normalised current â (before the gain) per step.</summary>
    public T[] AHat { get; }

    /// <summary>Normalised layers: dL/da per step.</summary>
    public T[] GA { get; }

    /// <summary>Normalised layers: 1/√(σ² + ε) used per step (per neuron for running statistics, per stream for layer norm).</summary>
    public T[] NormInv { get; }

    /// <summary>Layers with a normalised recurrent current: r = W_rec s_{t-1} per step.</summary>
    public T[] R { get; }

    /// <summary>Layers with a normalised recurrent current: the normalised r̂ (before the gain) per step.</summary>
    public T[] RHat { get; }

    /// <summary>Layers with a normalised recurrent current: dL/dr per step.</summary>
    public T[] GR { get; }

    /// <summary>Layers with a normalised recurrent current: 1/√(σ² + ε) of r per step and neuron.</summary>
    public T[] RecNormInv { get; }

    /// <summary>Active neurons of s_{t-1} per (step, stream) row, recorded by the forward pass (binary spikes only).</summary>
    public int[] SpikeIndex { get; }

    /// <summary>Row offsets into <see cref="SpikeIndex"/> (steps x B + 1).</summary>
    public int[] SpikeOffset { get; }

    /// <summary>True when the index lists are valid for the recorded steps (false in the smooth test mode).</summary>
    public bool SpikesIndexed { get; set; }

    public int Batch { get; }

    public int Size { get; }

    public int Capacity { get; }

    /// <summary>B x N.</summary>
    public int Row { get; }

    /// <summary>Spikes: slot t = s_{t-1}, slot t+1 = s_t.</summary>
    public T[] S { get; }

    /// <summary>Membranes after the step: slot t+1 = u_t (slot 0 = entering u).</summary>
    public T[] U { get; }

    /// <summary>dL/dI_t per step (input-current gradients, for the deferred weight gradients).</summary>
    public T[] GI { get; }

    /// <summary>Carry dL/du of the current step (during backward).</summary>
    public T[] GU { get; }

    /// <summary>Carry dL/ds of the current step.</summary>
    public T[] GS { get; }

    /// <summary>Carry dL/db of the current step.</summary>
    public T[] GB { get; }

    /// <summary>Surrogate values of the current step (scratch).</summary>
    public T[] SG { get; }

    /// <summary>Scratch.</summary>
    public T[] Tmp { get; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<T> Slot(T[] array, int t) => array.AsSpan(t * Row, Row);

    public virtual long Bytes => ((long)(S.Length + U.Length + GI.Length + GU.Length + GS.Length + GB.Length + SG.Length + Tmp.Length + A.Length + AHat.Length + GA.Length + NormInv.Length + R.Length + RHat.Length + GR.Length + RecNormInv.Length) * Unsafe.SizeOf<T>())
        + ((long)(SpikeIndex.Length + SpikeOffset.Length) * sizeof(int)) + ((long)NormSums.Length * sizeof(double));

    public void ClearCarries()
    {
        Array.Clear(GU);
        Array.Clear(GS);
        Array.Clear(GB);
    }
}

/// <summary>Tape of an LTC layer.</summary>
internal sealed class LtcTape<T> : LayerTape<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public LtcTape(int batch, int size, int capacity, bool normalized, bool recurrentNormalized)
        : base(batch, size, capacity, normalized, recurrentNormalized)
    {
        int row = batch * size;
        CatTau = new T[capacity * row * 2];
        CatRho = new T[capacity * row * 2];
        Za = new T[capacity * row];
        Zr = new T[capacity * row];
        Tau = new T[capacity * row];
        Rho = new T[capacity * row];
        M = new T[capacity * row];
        V = new T[capacity * row];
        GZa = new T[capacity * row];
        GZr = new T[capacity * row];
    }

    /// <summary>[I_t ; u_{t-1}] per stream (B x 2N per step).</summary>
    public T[] CatTau { get; }

    /// <summary>[I_t ; b_{t-1}] per stream (B x 2N per step).</summary>
    public T[] CatRho { get; }

    /// <summary>Pre-activation of the tau gate (before the slope).</summary>
    public T[] Za { get; }

    /// <summary>Pre-activation of the rho gate (before the slope).</summary>
    public T[] Zr { get; }

    public T[] Tau { get; }

    public T[] Rho { get; }

    /// <summary>Membrane before the reset.</summary>
    public T[] M { get; }

    /// <summary>m_t − θ_t.</summary>
    public T[] V { get; }

    /// <summary>dL/dz of the tau gate per step.</summary>
    public T[] GZa { get; }

    /// <summary>dL/dz of the rho gate per step.</summary>
    public T[] GZr { get; }

    public Span<T> Cat(T[] array, int t) => array.AsSpan(t * Row * 2, Row * 2);

    /// <summary>Accumulated dL/dk_tau of the chunk.</summary>
    public double SlopeGradTau { get; set; }

    /// <summary>Accumulated dL/dk_rho of the chunk.</summary>
    public double SlopeGradRho { get; set; }

    public override long Bytes => base.Bytes + ((long)(CatTau.Length + CatRho.Length + Za.Length + Zr.Length + Tau.Length + Rho.Length + M.Length + V.Length + GZa.Length + GZr.Length) * Unsafe.SizeOf<T>());
}

/// <summary>Tape of an ALIF or LIF layer.</summary>
internal sealed class AlifTape<T> : LayerTape<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public AlifTape(int batch, int size, int capacity, bool normalized, bool recurrentNormalized)
        : base(batch, size, capacity, normalized, recurrentNormalized)
    {
        int row = batch * size;
        I = new T[capacity * row];
        B = new T[(capacity + 1) * row];
        V = new T[capacity * row];
        Alpha = new T[size];
        Rho = new T[size];
        GAlpha = new double[size];
        GRho = new double[size];
    }

    /// <summary>Input current per step.</summary>
    public T[] I { get; }

    /// <summary>Adaptation slots: slot t = b_{t-1}.</summary>
    public T[] B { get; }

    /// <summary>u_t − θ_t.</summary>
    public T[] V { get; }

    /// <summary>exp(−1/τ_m) per neuron for the current chunk.</summary>
    public T[] Alpha { get; }

    /// <summary>exp(−1/τ_adp) per neuron for the current chunk.</summary>
    public T[] Rho { get; }

    /// <summary>Accumulated dL/dα per neuron.</summary>
    public double[] GAlpha { get; }

    /// <summary>Accumulated dL/dρ per neuron.</summary>
    public double[] GRho { get; }

    public override long Bytes => base.Bytes + ((long)(I.Length + B.Length + V.Length + Alpha.Length + Rho.Length) * Unsafe.SizeOf<T>()) + ((GAlpha.Length + GRho.Length) * sizeof(double));
}

/// <summary>Tape of a readout.</summary>
internal sealed class ReadoutTape<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public ReadoutTape(int batch, int size, int capacity, bool gated = false, bool normalized = false)
    {
        Batch = batch;
        Size = size;
        Capacity = capacity;
        Row = batch * size;
        H = new T[capacity * Row];
        O = new T[(capacity + 1) * Row];
        GH = new T[capacity * Row];
        GO = new T[Row];
        GTau = new double[size];
        A = gated ? new T[capacity * Row] : [];
        Tau = gated ? new T[capacity * Row] : [];
        GA = gated ? new T[capacity * Row] : [];
        Z = normalized ? new T[capacity * Row] : [];
        ZHat = normalized ? new T[capacity * Row] : [];
        GZ = normalized ? new T[capacity * Row] : [];
        NormInv = normalized ? new T[capacity * size] : [];
        NormSums = normalized ? new double[2 * size] : [];
    }

    public int Batch { get; }

    public int Size { get; }

    public int Capacity { get; }

    public int Row { get; }

    /// <summary>W s + c per step.</summary>
    public T[] H { get; }

    /// <summary>Outputs: slot t+1 = output of step t (slot 0 = entering leaky state).</summary>
    public T[] O { get; }

    /// <summary>dL/dH per step.</summary>
    public T[] GH { get; }

    /// <summary>Carry dL/do.</summary>
    public T[] GO { get; }

    /// <summary>Accumulated dL/dτ_o per class.</summary>
    public double[] GTau { get; }

    /// <summary>Liquid head: the gate's pre-activation W_τ [z ; o_prev] + c_τ per step (empty otherwise).</summary>
    public T[] A { get; }

    /// <summary>Liquid head: the gate τ per step (empty otherwise).</summary>
    public T[] Tau { get; }

    /// <summary>Liquid head: dL/d(k · pre-activation) per step (empty otherwise).</summary>
    public T[] GA { get; }

    /// <summary>Liquid head: accumulated dL/dk of the gate's slope.</summary>
    public double GSlope { get; set; }

    /// <summary>Normalised head: the raw current W_o s_t per step (empty otherwise).</summary>
    public T[] Z { get; }

    /// <summary>Normalised head: the normalised current (before the gain) per step (empty otherwise).</summary>
    public T[] ZHat { get; }

    /// <summary>Normalised head: dL/d(W_o s_t) per step (empty otherwise).</summary>
    public T[] GZ { get; }

    /// <summary>Normalised head: 1/√(σ² + ε) per step and output (empty otherwise).</summary>
    public T[] NormInv { get; }

    /// <summary>Normalised head: per-output sums over the batch of one step (Σz, Σz²).</summary>
    public double[] NormSums { get; }

    /// <summary>Reducer of batch sums across the slices of a data-parallel batch (null: this tape holds the whole batch).</summary>
    public BatchReducer? Reducer { get; set; }

    /// <summary>Index of this tape's slice in its data-parallel group.</summary>
    public int Worker { get; set; }

    /// <summary>Streams of the whole batch (the slices' total; <see cref="Batch"/> without a reducer).</summary>
    public int TotalBatch => Reducer?.TotalBatch ?? Batch;

    /// <summary>Sums <paramref name="values"/> (this slice's partial sums) over the slices of the batch, in place.</summary>
    public void SumOverBatch(Span<double> values) => Reducer?.Sum(Worker, values);

    public Span<T> Slot(T[] array, int t) => array.AsSpan(t * Row, Row);

    public long Bytes => ((long)(H.Length + O.Length + GH.Length + GO.Length + A.Length + Tau.Length + GA.Length + Z.Length + ZHat.Length + GZ.Length + NormInv.Length) * Unsafe.SizeOf<T>()) + ((GTau.Length + NormSums.Length) * sizeof(double));
}
