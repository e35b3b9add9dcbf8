using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn;

/// <summary>
/// Base of the recurrent spiking layers. Every layer has an input current
/// I_t = W_in x_t + W_rec s_{t-1} + bias with parameters "layers.{l}.w_in.weight" [N, D],
/// "layers.{l}.w_in.bias" [N] and (when recurrent) "layers.{l}.w_rec.weight" [N, N]; the
/// neuron dynamics are the subclass's. Forward and backward are step functions on explicit
/// state; the backward pass is hand-written (exact gradients with the surrogate in place
/// of H').
/// </summary>
/// <typeparam name="T">float (engine) or double (tests).</typeparam>
public abstract class RecurrentLayer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Lock _mirrorLock = new();
    private T[]? _inputMirror;
    private int _inputMirrorVersion = -1;

    private protected RecurrentLayer(int index, int inputSize, LayerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Index = index;
        InputSize = inputSize;
        Size = config.Size;
        Config = config;
        string prefix = Prefix;
        InputWeight = new Parameter<T>(prefix + "w_in.weight", Size, InputSize);
        InputBias = new Parameter<T>(prefix + "w_in.bias", Size);
        RecurrentWeight = config.Recurrent ? new Parameter<T>(prefix + "w_rec.weight", Size, Size) : null;
        ThresholdBase = T.CreateTruncating(config.ThresholdBase);
        ThresholdAdaptation = T.CreateTruncating(config.ThresholdAdaptation);
    }

    /// <summary>Position in the stack (0 = input side).</summary>
    public int Index { get; }

    /// <summary>Input dimension D.</summary>
    public int InputSize { get; }

    /// <summary>Neurons N.</summary>
    public int Size { get; }

    /// <summary>Configuration.</summary>
    public LayerConfig Config { get; }

    /// <summary>W_in [N, D].</summary>
    public Parameter<T> InputWeight { get; }

    /// <summary>bias [N].</summary>
    public Parameter<T> InputBias { get; }

    /// <summary>W_rec [N, N], or null for a feed-forward layer.</summary>
    public Parameter<T>? RecurrentWeight { get; }

    /// <summary>Parameters of this layer in their fixed order.</summary>
    public abstract IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>Threshold baseline b0.</summary>
    private protected T ThresholdBase { get; }

    /// <summary>Threshold adaptation beta.</summary>
    private protected T ThresholdAdaptation { get; }

    /// <summary>"layers.{index}."</summary>
    private protected string Prefix => "layers." + Index.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".";

    /// <summary>Test-only: replace H by the antiderivative of the surrogate (see <see cref="Surrogate.Integral"/>).</summary>
    internal bool SmoothSpikes { get; set; }

    internal abstract void Initialize(SnnRandom rng, InitializationScheme scheme);

    /// <summary>Initialises W_in, bias and W_rec per <paramref name="scheme"/>.</summary>
    private protected void InitializeCurrent(SnnRandom rng, InitializationScheme scheme)
    {
        if (scheme == InitializationScheme.TorchDefault)
        {
            double bound = 1.0 / Math.Sqrt(InputSize + (RecurrentWeight is null ? 0 : Size));
            Init.Uniform(InputWeight, rng, bound);
            Init.Uniform(InputBias, rng, bound);
            if (RecurrentWeight is not null)
            {
                Init.Uniform(RecurrentWeight, rng, bound);
            }

            return;
        }

        Init.XavierUniform(InputWeight, rng);
        Init.Constant(InputBias, 0);
        if (RecurrentWeight is not null)
        {
            Init.Orthogonal(RecurrentWeight, rng);
        }
    }

    internal abstract LayerTape<T> CreateTape(int batch, int capacity);

    /// <summary>One forward step: reads the previous state from <paramref name="state"/>, records into tape slot <paramref name="t"/>, writes the new state.</summary>
    internal abstract void Forward(in StepInput<T> x, LayerState<T> state, LayerTape<T> tape, int t, bool useInputMirror);

    /// <summary>
    /// Backward through step <paramref name="t"/>: on entry the tape's carries hold dL/d(state_t)
    /// (including the readout's and the upper layer's contributions); on exit they hold
    /// dL/d(state_{t-1}), dL/dI_t is in GI slot t, and dL/dx_t is added to <paramref name="gxLower"/>.
    /// </summary>
    internal abstract void Backward(LayerTape<T> tape, int t, Span<T> gxLower);

    /// <summary>Adds the weight gradients of a recorded chunk of <paramref name="steps"/> steps to the parameters' Grad.</summary>
    internal abstract void AccumulateGradients(LayerTape<T> tape, int steps, in ChunkInput<T> input);

    internal virtual void ResetState(LayerState<T> state, InitialStateMode mode, SnnRandom rng)
    {
        Array.Clear(state.S);
        if (mode == InitialStateMode.Zero)
        {
            Array.Clear(state.U);
            Array.Clear(state.B);
            return;
        }

        for (int i = 0; i < state.U.Length; i++)
        {
            state.U[i] = T.CreateTruncating(rng.NextDouble());
        }

        Array.Fill(state.B, ThresholdBase);
    }

    /// <summary>H(v), or the smooth test-only spike function.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected T Spike(T v) => SmoothSpikes ? T.CreateTruncating(Surrogate.Integral(double.CreateTruncating(v))) : (v > T.Zero ? T.One : T.Zero);

    /// <summary>dst[b, 0..N) = bias + W_in x_b + W_rec sPrev_b for every stream b (dst rows have leading dimension <paramref name="ld"/>).</summary>
    private protected void ComputeCurrent(in StepInput<T> x, ReadOnlySpan<T> sPrev, Span<T> dst, int ld, int batch, bool useInputMirror)
    {
        int n = Size;
        int d = InputSize;
        for (int b = 0; b < batch; b++)
        {
            InputBias.Data.CopyTo(dst.Slice(b * ld, n));
        }

        if (x.IsSparse)
        {
            if (useInputMirror)
            {
                T[] wt = InputMirror();
                for (int b = 0; b < batch; b++)
                {
                    (int s, int e) = x.Range(b);
                    Span<T> row = dst.Slice(b * ld, n);
                    for (int k = s; k < e; k++)
                    {
                        TensorPrimitives.Add(row, wt.AsSpan(x.Indices[k] * n, n), row);
                    }
                }
            }
            else
            {
                GatherColumns(x, dst, ld, batch);
            }
        }
        else
        {
            Kernels.MatMulABt(x.Dense, d, InputWeight.Data, d, dst, ld, batch, n, d, accumulate: true);
        }

        if (RecurrentWeight is not null)
        {
            Kernels.MatMulABt(sPrev, n, RecurrentWeight.Data, n, dst, ld, batch, n, n, accumulate: true);
        }
    }

    /// <summary>gsPrev += gI W_rec and gxLower += gI W_in (input-side gradients of the current).</summary>
    private protected void BackwardCurrent(ReadOnlySpan<T> gI, Span<T> gsPrev, Span<T> gxLower, int batch)
    {
        int n = Size;
        if (RecurrentWeight is not null)
        {
            Kernels.AddProduct(gI, n, 1, RecurrentWeight.Data, n, gsPrev, n, batch, n, n);
        }

        if (!gxLower.IsEmpty)
        {
            Kernels.AddProduct(gI, n, 1, InputWeight.Data, InputSize, gxLower, InputSize, batch, n, InputSize);
        }
    }

    /// <summary>Weight gradients of the current over <paramref name="rows"/> = steps x B rows.</summary>
    private protected void AccumulateCurrentGradients(ReadOnlySpan<T> gI, ReadOnlySpan<T> sPrevRows, in ChunkInput<T> x, int rows)
    {
        int n = Size;
        int d = InputSize;
        Span<T> gBias = InputBias.Grad;
        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Add(gBias, gI.Slice(r * n, n), gBias);
        }

        if (RecurrentWeight is not null)
        {
            Kernels.AddProduct(gI, 1, n, sPrevRows, n, RecurrentWeight.Grad, n, n, rows, n);
        }

        if (!x.IsSparse)
        {
            Kernels.AddProduct(gI, 1, n, x.Dense, d, InputWeight.Grad, d, n, rows, d);
            return;
        }

        // sparse binary input: only active columns receive gradient (strided writes into [N, D])
        ref T gw = ref MemoryMarshal.GetArrayDataReference(InputWeight.Grad);
        ref T gi0 = ref MemoryMarshal.GetReference(gI);
        ReadOnlySpan<int> idx = x.Indices;
        ReadOnlySpan<int> off = x.Offsets;
        for (int r = 0; r < rows; r++)
        {
            int s = off[r];
            int e = off[r + 1];
            if (s == e)
            {
                continue;
            }

            ReadOnlySpan<int> act = idx[s..e];
            ref T gRow = ref Unsafe.Add(ref gi0, r * n);
            for (int i = 0; i < n; i++)
            {
                T g = Unsafe.Add(ref gRow, i);
                if (g == T.Zero)
                {
                    continue;
                }

                ref T wRow = ref Unsafe.Add(ref gw, i * d);
                foreach (int j in act)
                {
                    Unsafe.Add(ref wRow, j) += g;
                }
            }
        }
    }

    /// <summary>Sparse W_in x without a transposed copy: per output row, sum the active columns.</summary>
    private void GatherColumns(in StepInput<T> x, Span<T> dst, int ld, int batch)
    {
        int n = Size;
        int d = InputSize;
        ref T w0 = ref MemoryMarshal.GetArrayDataReference(InputWeight.Data);
        for (int b = 0; b < batch; b++)
        {
            (int s, int e) = x.Range(b);
            if (s == e)
            {
                continue;
            }

            ReadOnlySpan<int> act = x.Indices[s..e];
            Span<T> row = dst.Slice(b * ld, n);
            for (int i = 0; i < n; i++)
            {
                ref T wRow = ref Unsafe.Add(ref w0, i * d);
                T sum = T.Zero;
                foreach (int j in act)
                {
                    sum += Unsafe.Add(ref wRow, j);
                }

                row[i] += sum;
            }
        }
    }

    /// <summary>W_in transposed ([D, N]) for the inference path, rebuilt when W_in's version changes.</summary>
    private T[] InputMirror()
    {
        int version = InputWeight.Version;
        T[]? m = Volatile.Read(ref _inputMirror);
        if (m is not null && Volatile.Read(ref _inputMirrorVersion) == version)
        {
            return m;
        }

        lock (_mirrorLock)
        {
            m = _inputMirror ?? new T[InputWeight.Length];
            if (_inputMirrorVersion != version || _inputMirror is null)
            {
                Kernels.Transpose<T>(InputWeight.Data, Size, InputSize, m);
                _inputMirror = m;
                Volatile.Write(ref _inputMirrorVersion, version);
            }

            return m;
        }
    }
}

/// <summary>Inputs of one layer over a recorded chunk: rows = steps x B.</summary>
internal readonly ref struct ChunkInput<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public ChunkInput(ReadOnlySpan<T> dense)
    {
        Dense = dense;
        IsSparse = false;
    }

    public ChunkInput(ReadOnlySpan<int> indices, ReadOnlySpan<int> offsets)
    {
        Indices = indices;
        Offsets = offsets;
        IsSparse = true;
    }

    /// <summary>Dense rows (rows x D).</summary>
    public ReadOnlySpan<T> Dense { get; }

    /// <summary>Active indices of all rows.</summary>
    public ReadOnlySpan<int> Indices { get; }

    /// <summary>rows + 1 offsets into <see cref="Indices"/>.</summary>
    public ReadOnlySpan<int> Offsets { get; }

    public bool IsSparse { get; }
}
