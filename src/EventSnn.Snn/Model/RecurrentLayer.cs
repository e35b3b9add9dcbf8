using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
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
    private readonly TransposedMirror<T> _inputMirror;
    private readonly TransposedMirror<T>? _recurrentMirror;

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
        _gradientRowsJob = new GradientRowsJob(this);
        _inputMirror = new TransposedMirror<T>(InputWeight, Size, InputSize);
        _recurrentMirror = RecurrentWeight is null ? null : new TransposedMirror<T>(RecurrentWeight, Size, Size);
        Norm = config.InputNorm;
        if (Norm != InputNormKind.None)
        {
            NormGain = new Parameter<T>(prefix + "norm.weight", Size);
        }

        if (Norm == InputNormKind.Running)
        {
            RunningMean = new Parameter<T>(prefix + "norm.running_mean", Size);
            RunningVar = new Parameter<T>(prefix + "norm.running_var", Size);
        }
        else if (Norm.PerTimestep())
        {
            RunningMean = new Parameter<T>(prefix + "norm.running_mean", config.NormSteps, Size);
            RunningVar = new Parameter<T>(prefix + "norm.running_var", config.NormSteps, Size);
        }

        if (config.RecurrentNorm && RecurrentWeight is not null && Norm is InputNormKind.Running or InputNormKind.Timestep)
        {
            int sets = Norm == InputNormKind.Running ? 1 : config.NormSteps;
            RecurrentNormGain = new Parameter<T>(prefix + "norm_rec.weight", Size);
            RecurrentRunningMean = sets == 1 ? new Parameter<T>(prefix + "norm_rec.running_mean", Size) : new Parameter<T>(prefix + "norm_rec.running_mean", sets, Size);
            RecurrentRunningVar = sets == 1 ? new Parameter<T>(prefix + "norm_rec.running_var", Size) : new Parameter<T>(prefix + "norm_rec.running_var", sets, Size);
        }

        NormMomentum = T.CreateTruncating(config.NormMomentum);
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

    /// <summary>Normalisation of the feed-forward current W_in x.</summary>
    public InputNormKind Norm { get; }

    /// <summary>Gain of the input normalisation "layers.{l}.norm.weight" [N] (null without normalisation).</summary>
    public Parameter<T>? NormGain { get; }

    /// <summary>Running mean of W_in x per neuron "layers.{l}.norm.running_mean" [N] (a buffer, not trained; running normalisation only).</summary>
    public Parameter<T>? RunningMean { get; }

    /// <summary>Running variance of W_in x per neuron "layers.{l}.norm.running_var" [N] (a buffer).</summary>
    public Parameter<T>? RunningVar { get; }

    /// <summary>Gain of the recurrent current's normalisation "layers.{l}.norm_rec.weight" [N] (null unless <see cref="LayerConfig.RecurrentNorm"/>).</summary>
    public Parameter<T>? RecurrentNormGain { get; }

    /// <summary>Running mean of W_rec s_{t-1} "layers.{l}.norm_rec.running_mean" ([N], or [NormSteps, N] per timestep; a buffer).</summary>
    public Parameter<T>? RecurrentRunningMean { get; }

    /// <summary>Running variance of W_rec s_{t-1} "layers.{l}.norm_rec.running_var" (a buffer).</summary>
    public Parameter<T>? RecurrentRunningVar { get; }

    /// <summary>Non-trainable state saved with the parameters (running statistics).</summary>
    public IReadOnlyList<Parameter<T>> Buffers
    {
        get
        {
            if (RunningMean is null || RunningVar is null)
            {
                return [];
            }

            return RecurrentRunningMean is null || RecurrentRunningVar is null
                ? [RunningMean, RunningVar]
                : [RunningMean, RunningVar, RecurrentRunningMean, RecurrentRunningVar];
        }
    }

    /// <summary>True when the feed-forward current is normalised.</summary>
    private protected bool Normalized => Norm != InputNormKind.None;

    /// <summary>True when the recurrent current is normalised too (<see cref="LayerConfig.RecurrentNorm"/>).</summary>
    private protected bool RecurrentNormalized => RecurrentNormGain is not null;

    private T NormMomentum { get; }

    /// <summary>Threshold baseline b0.</summary>
    private protected T ThresholdBase { get; }

    /// <summary>Threshold adaptation beta.</summary>
    private protected T ThresholdAdaptation { get; }

    /// <summary>"layers.{index}."</summary>
    private protected string Prefix => "layers." + Index.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".";

    /// <summary>
    /// Helper threads of training (set through <see cref="FpttLearner{T}.UpdateWorkers"/>): the
    /// forward step's strided column gathers, W_rec's dense product and (batch 1) the gate products
    /// are split by output rows, the backward step's gradients through the gates (batch 1) by
    /// columns, and a chunk's weight gradients by output rows, which leaves every element's sum
    /// unchanged. Null: the calling thread alone.
    /// </summary>
    internal UpdateWorkers? Workers { get; set; }

    private readonly ColumnsJob _columnsJob = new();
    private readonly GradientRowsJob _gradientRowsJob;

    /// <summary>Fewest weights a column gather reads before it is worth splitting over <see cref="Workers"/>.</summary>
    private const int SharedGather = 4096;

    /// <summary>Test-only: replace H by the antiderivative of the surrogate (see <see cref="Surrogate.Integral"/>).</summary>
    internal bool SmoothSpikes { get; set; }

    /// <summary>Test-only: use the dense products for the recurrent spikes even when they are binary, and for dense inputs even when they are mostly zero.</summary>
    internal bool DenseSpikes { get; set; }

    /// <summary>Most non-zero inputs per row taken by the sparse path for dense input (stack buffers).</summary>
    private const int MaxSparseInputs = 2048;

    /// <summary>Training batches from this size on take input columns from the transposed mirror of W_in (rebuilt once per update) instead of gathering them.</summary>
    private const int MirrorBatch = 8;

    /// <summary>Largest layer whose summed row is kept on the stack when reading the mirror.</summary>
    private const int MirrorRowLimit = 4096;

    internal abstract void Initialize(SnnRandom rng, InitializationScheme scheme);

    /// <summary>Appends the normalisation gain (when any) to a layer's parameter list.</summary>
    private protected void AddNormParameters(List<Parameter<T>> list)
    {
        if (NormGain is not null)
        {
            list.Add(NormGain);
        }

        if (RecurrentNormGain is not null)
        {
            list.Add(RecurrentNormGain);
        }
    }

    /// <summary>Initialises the normalisation gain and running statistics (μ = 0, σ² = 1).</summary>
    private protected void InitializeNorm()
    {
        if (NormGain is not null)
        {
            Init.Constant(NormGain, Config.NormGain);
        }

        if (RunningMean is not null && RunningVar is not null)
        {
            Init.Constant(RunningMean, 0);
            Init.Constant(RunningVar, 1);
        }

        if (RecurrentNormGain is not null && RecurrentRunningMean is not null && RecurrentRunningVar is not null)
        {
            Init.Constant(RecurrentNormGain, Config.NormGain);
            Init.Constant(RecurrentRunningMean, 0);
            Init.Constant(RecurrentRunningVar, 1);
        }
    }

    /// <summary>Initialises W_in, bias and W_rec per <paramref name="scheme"/>.</summary>
    private protected void InitializeCurrent(SnnRandom rng, InitializationScheme scheme)
    {
        InitializeNorm();
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

    /// <summary>One forward step: reads the previous state from <paramref name="state"/>, records into tape slot <paramref name="t"/>, writes the new state. <paramref name="inference"/>: the inference path (transposed input weights, running statistics frozen); otherwise a training step (statistics updated).</summary>
    internal abstract void Forward(in StepInput<T> x, LayerState<T> state, LayerTape<T> tape, int t, bool inference);

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
        state.Step = 0;
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

    /// <summary>
    /// dst[b, 0..N) = bias + W_in x_b + W_rec sPrev_b for every stream b (dst rows have leading
    /// dimension <paramref name="ld"/>); with normalisation γ ⊙ norm(W_in x_b), and with
    /// <see cref="LayerConfig.RecurrentNorm"/> γ_rec ⊙ norm_rec(W_rec sPrev_b) in place of the plain
    /// terms. Binary spikes s_{t-1} are indexed into the tape (slot <paramref name="t"/>) and only
    /// active columns of W_rec are added when they are sparse.
    /// </summary>
    private protected void ComputeCurrent(in StepInput<T> x, ReadOnlySpan<T> sPrev, Span<T> dst, int ld, int batch, bool inference, LayerTape<T> tape, int t, int step)
    {
        int n = Size;
        if (Normalized)
        {
            Span<T> a = tape.Slot(tape.A, t);
            a.Clear();
            AddInputCurrent(x, a, n, batch, inference);
            Normalize(tape, t, batch, inference, step);
            ReadOnlySpan<T> aHat = tape.Slot(tape.AHat, t);
            for (int b = 0; b < batch; b++)
            {
                Span<T> row = dst.Slice(b * ld, n);
                TensorPrimitives.Multiply(aHat.Slice(b * n, n), NormGain!.Data, row);
                TensorPrimitives.Add(row, InputBias.Data, row);
            }
        }
        else
        {
            for (int b = 0; b < batch; b++)
            {
                InputBias.Data.CopyTo(dst.Slice(b * ld, n));
            }

            AddInputCurrent(x, dst, ld, batch, inference);
        }

        if (RecurrentWeight is null)
        {
            return;
        }

        if (!RecurrentNormalized)
        {
            AddRecurrentCurrent(sPrev, dst, ld, batch, inference, tape, t);
            return;
        }

        // I += γ_rec ⊙ norm(W_rec s_{t-1}), the recurrent current normalised on its own
        Span<T> r = tape.Slot(tape.R, t);
        r.Clear();
        AddRecurrentCurrent(sPrev, r, n, batch, inference, tape, t);
        int k = Norm == InputNormKind.Running ? 0 : Math.Min(step, Config.NormSteps - 1);
        Span<T> rHat = tape.Slot(tape.RHat, t);
        NormalizeRunning(tape, r, rHat, tape.RecNormInv.AsSpan(t * n, n), RecurrentRunningMean!.Data.AsSpan(k * n, n), RecurrentRunningVar!.Data.AsSpan(k * n, n), batch, inference);
        for (int b = 0; b < batch; b++)
        {
            Span<T> row = dst.Slice(b * ld, n);
            TensorPrimitives.MultiplyAdd(rHat.Slice(b * n, n), RecurrentNormGain!.Data, row, row);
        }
    }

    /// <summary>
    /// dst[b, 0..N) += W_rec sPrev_b for every stream b (rows of leading dimension <paramref name="ld"/>).
    /// Binary spikes s_{t-1} are indexed into the tape (slot <paramref name="t"/>) and only active
    /// columns of W_rec are added when they are sparse.
    /// </summary>
    private void AddRecurrentCurrent(ReadOnlySpan<T> sPrev, Span<T> dst, int ld, int batch, bool inference, LayerTape<T> tape, int t)
    {
        if (RecurrentWeight is null)
        {
            return;
        }

        int n = Size;
        if (SmoothSpikes || DenseSpikes)
        {
            // test modes: spikes are not binary, or the dense reference path is forced
            tape.SpikesIndexed = false;
            Kernels.MatMulABt(sPrev, n, RecurrentWeight.Data, n, dst, ld, batch, n, n, accumulate: true);
            return;
        }

        // index the active spikes of every stream (recorded for the weight gradient too)
        int row0 = t * batch;
        int[] idx = tape.SpikeIndex;
        int[] off = tape.SpikeOffset;
        if (t == 0)
        {
            off[0] = 0;
            tape.SpikesIndexed = true;
        }

        int count = off[row0];
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> sRow = sPrev.Slice(b * n, n);
            int start = count;
            for (int j = 0; j < n; j++)
            {
                if (sRow[j] != T.Zero)
                {
                    idx[count++] = j;
                }
            }

            off[row0 + b + 1] = count;
            int active = count - start;
            if (active == 0)
            {
                continue;
            }

            if (inference)
            {
                // columns of W_rec are the mirror's contiguous rows
                Kernels.AddRows<T>(idx.AsSpan(start, active), _recurrentMirror!.Get(), dst.Slice(b * ld, n), n);
            }
            else if (active * 8 <= n)
            {
                AddColumns(idx.AsSpan(start, active), RecurrentWeight.Data, n, dst.Slice(b * ld, n));
            }
            else if (Workers is { } workers)
            {
                unsafe
                {
                    fixed (T* ps = sRow)
                    fixed (T* pw = RecurrentWeight.Data)
                    fixed (T* pz = dst.Slice(b * ld, n))
                    {
                        RowProducts.Set(n, ps, pw, pz, n, null, null, null, 0);
                        workers.Run(RowProducts);
                    }
                }
            }
            else
            {
                Kernels.MatMulABt(sRow, n, RecurrentWeight.Data, n, dst.Slice(b * ld), ld, 1, n, n, accumulate: true);
            }
        }
    }

    /// <summary>The job of one or two matrix-vector products split by output rows over <see cref="Workers"/>.</summary>
    private protected RowProductsJob RowProducts { get; } = new();

    /// <summary>
    /// z_i[r] += Σ_p W_i[r, p] x_i[p] for the rows r of one thread's share, for one or two products
    /// (the second optional): each output sums exactly as in the unsplit product. Holds pointers
    /// the calling thread keeps pinned until <see cref="UpdateWorkers.Run"/> returns.
    /// </summary>
    private protected sealed unsafe class RowProductsJob : IShareJob
    {
        private int _rows;
        private T* _x1;
        private T* _w1;
        private T* _z1;
        private int _k1;
        private T* _x2;
        private T* _w2;
        private T* _z2;
        private int _k2;

        public void Set(int rows, T* x1, T* w1, T* z1, int k1, T* x2, T* w2, T* z2, int k2)
        {
            _rows = rows;
            _x1 = x1;
            _w1 = w1;
            _z1 = z1;
            _k1 = k1;
            _x2 = x2;
            _w2 = w2;
            _z2 = z2;
            _k2 = k2;
        }

        public void RunShare(int share, int shares)
        {
            (int first, int end) = UpdateWorkers.Range(_rows, share, shares, 8);
            int rows = end - first;
            if (rows <= 0)
            {
                return;
            }

            Kernels.MatMulABt(new ReadOnlySpan<T>(_x1, _k1), _k1, new ReadOnlySpan<T>(_w1 + ((long)first * _k1), rows * _k1), _k1, new Span<T>(_z1 + first, rows), rows, 1, rows, _k1, accumulate: true);
            if (_x2 != null)
            {
                Kernels.MatMulABt(new ReadOnlySpan<T>(_x2, _k2), _k2, new ReadOnlySpan<T>(_w2 + ((long)first * _k2), rows * _k2), _k2, new Span<T>(_z2 + first, rows), rows, 1, rows, _k2, accumulate: true);
            }
        }
    }

    /// <summary>dst rows (leading dimension <paramref name="ld"/>) += W_in x_b for every stream b.</summary>
    private void AddInputCurrent(in StepInput<T> x, Span<T> dst, int ld, int batch, bool inference)
    {
        int n = Size;
        int d = InputSize;
        if (x.IsSparse)
        {
            if (inference)
            {
                T[] wt = InputMirror();
                for (int b = 0; b < batch; b++)
                {
                    (int s, int e) = x.Range(b);
                    Kernels.AddRows<T>(x.Indices[s..e], wt, dst.Slice(b * ld, n), n);
                }
            }
            else if (ReadsMirror(batch))
            {
                T[] wt = InputMirror();
                Span<T> sum = stackalloc T[n];
                for (int b = 0; b < batch; b++)
                {
                    (int s, int e) = x.Range(b);
                    if (s != e)
                    {
                        AddMirrorRows(wt, x.Indices[s..e], default, sum, dst.Slice(b * ld, n));
                    }
                }
            }
            else
            {
                for (int b = 0; b < batch; b++)
                {
                    (int s, int e) = x.Range(b);
                    if (s != e)
                    {
                        AddColumns(x.Indices[s..e], InputWeight.Data, d, dst.Slice(b * ld, n));
                    }
                }
            }
        }
        else if (DenseSpikes || !AddSparseRows(x.Dense, dst, ld, batch, inference))
        {
            Kernels.MatMulABt(x.Dense, d, InputWeight.Data, d, dst, ld, batch, n, d, accumulate: true);
        }
    }

    /// <summary>
    /// Dense input whose rows are mostly zero (event bins: counts of the few pixels that fired, and
    /// all-zero bins): dst rows += Σ x_j W_in[:, j] over the non-zero x_j only, when every row has
    /// at most D / 8 of them (the mirror's rows in inference, strided columns otherwise). Returns
    /// false, having done nothing, when some row is denser; the caller then multiplies densely.
    /// </summary>
    private bool AddSparseRows(ReadOnlySpan<T> x, Span<T> dst, int ld, int batch, bool inference)
    {
        int n = Size;
        int d = InputSize;
        Span<int> idx = stackalloc int[SparseCapacity];
        Span<T> val = stackalloc T[SparseCapacity];
        if (!AllRowsSparse(x, batch, idx, val, out int lastCount))
        {
            return false;
        }

        bool mirrored = !inference && ReadsMirror(batch);
        T[]? wt = inference || mirrored ? InputMirror() : null;
        Span<T> sum = mirrored ? stackalloc T[n] : default;
        for (int b = 0; b < batch; b++)
        {
            int count = batch == 1 ? lastCount : Kernels.NonZeros(x.Slice(b * d, d), idx, val);
            Span<T> row = dst.Slice(b * ld, n);
            if (mirrored)
            {
                if (count > 0)
                {
                    AddMirrorRows(wt!, idx[..count], val[..count], sum, row);
                }
            }
            else if (wt is not null)
            {
                for (int k = 0; k < count; k++)
                {
                    TensorPrimitives.MultiplyAdd(wt.AsSpan(idx[k] * n, n), val[k], row, row);
                }
            }
            else if (count > 0)
            {
                AddScaledColumns(idx[..count], val[..count], InputWeight.Data, d, row);
            }
        }

        return true;
    }

    /// <summary>
    /// AHat slot t = normalised A slot t. Running: per neuron with the running statistics, which a
    /// training step first moves toward the step's batch statistics; layer: per stream over the neurons.
    /// The statistics are constants for the backward pass (running) or differentiated (layer).
    /// Batch sums are accumulated in double (one pass: Σa and Σa²) and, when the batch is split
    /// into data-parallel slices, summed over the slices (<see cref="LayerTape{T}.SumOverBatch"/>).
    /// </summary>
    private void Normalize(LayerTape<T> tape, int t, int batch, bool inference, int step)
    {
        int n = Size;
        ReadOnlySpan<T> a = tape.Slot(tape.A, t);
        Span<T> aHat = tape.Slot(tape.AHat, t);
        T eps = T.CreateTruncating(1e-5);
        if (Norm is InputNormKind.Running or InputNormKind.Timestep)
        {
            // one set of statistics, or the set of this timestep
            int k = Norm == InputNormKind.Running ? 0 : Math.Min(step, Config.NormSteps - 1);
            NormalizeRunning(tape, a, aHat, tape.NormInv.AsSpan(t * n, n), RunningMean!.Data.AsSpan(k * n, n), RunningVar!.Data.AsSpan(k * n, n), batch, inference);
            return;
        }

        if (Norm == InputNormKind.Batch)
        {
            NormalizeBatch(tape, a, aHat, tape.NormInv.AsSpan(t * n, n), batch, inference, Math.Min(step, Config.NormSteps - 1));
            return;
        }

        // layer norm over the neurons of each stream
        Span<T> invRow = tape.NormInv.AsSpan(t * batch, batch);
        T invN = T.One / T.CreateTruncating(n);
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> row = a.Slice(b * n, n);
            T mu = TensorPrimitives.Sum(row) * invN;
            Span<T> h = aHat.Slice(b * n, n);
            TensorPrimitives.Subtract(row, mu, h);
            T v = TensorPrimitives.Dot<T>(h, h) * invN;
            T r = T.One / T.Sqrt(v + eps);
            invRow[b] = r;
            TensorPrimitives.Multiply(h, r, h);
        }
    }

    /// <summary>
    /// aHat = (a − μ) ⊙ inv with running statistics per neuron (<paramref name="mean"/>,
    /// <paramref name="var"/>: one set), which a training step first moves toward the batch's;
    /// <paramref name="inv"/> receives 1/√(σ² + ε). The statistics are constants for the backward pass.
    /// </summary>
    private void NormalizeRunning(LayerTape<T> tape, ReadOnlySpan<T> a, Span<T> aHat, Span<T> inv, Span<T> mean, Span<T> var, int batch, bool inference)
    {
        if (!inference)
        {
            RunningNorm<T>.Update(mean, var, BatchSums(tape, a, batch), tape.TotalBatch, NormMomentum);
        }

        RunningNorm<T>.Apply(a, aHat, inv, mean, var, batch);
    }

    /// <summary>
    /// Per neuron j over the whole batch: NormSums[j] = Σ_b x[b, j], NormSums[N + j] = Σ_b x[b, j] y[b, j]
    /// (y = x when <paramref name="y"/> is empty), summed over the data-parallel slices.
    /// </summary>
    private Span<double> BatchSums(LayerTape<T> tape, ReadOnlySpan<T> x, int batch, ReadOnlySpan<T> y = default)
    {
        Span<double> sums = tape.NormSums;
        RunningNorm<T>.BatchSums(x, batch, Size, sums, y);
        tape.SumOverBatch(sums);
        return sums;
    }

    /// <summary>
    /// Per-timestep batch norm: training uses the batch statistics of this step (and moves the running
    /// statistics of timestep <paramref name="k"/> toward them); inference uses the running ones.
    /// </summary>
    private void NormalizeBatch(LayerTape<T> tape, ReadOnlySpan<T> a, Span<T> aHat, Span<T> inv, int batch, bool inference, int k)
    {
        int n = Size;
        T eps = T.CreateTruncating(1e-5);
        Span<T> mean = RunningMean!.Data.AsSpan(k * n, n);
        Span<T> var = RunningVar!.Data.AsSpan(k * n, n);
        Span<double> sums = inference ? default : BatchSums(tape, a, batch);
        double total = tape.TotalBatch;
        for (int j = 0; j < n; j++)
        {
            T mu, v;
            if (inference)
            {
                mu = mean[j];
                v = var[j];
            }
            else
            {
                double m = sums[j] / total;
                mu = T.CreateTruncating(m);
                v = T.CreateTruncating(Math.Max(0, (sums[n + j] / total) - (m * m)));
                mean[j] += NormMomentum * (mu - mean[j]);
                var[j] += NormMomentum * (v - var[j]);
            }

            T r = T.One / T.Sqrt(v + eps);
            inv[j] = r;
            for (int b = 0; b < batch; b++)
            {
                aHat[(b * n) + j] = (a[(b * n) + j] - mu) * r;
            }
        }
    }

    /// <summary>
    /// Backward through the current's input side at step t (GI slot t holds dL/dI): gsPrev += gI W_rec;
    /// for normalised layers GA slot t = dL/da (through the gain and the normalisation); gxLower += dL/da W_in.
    /// </summary>
    private protected void BackwardCurrent(LayerTape<T> tape, int t, Span<T> gsPrev, Span<T> gxLower, int batch)
    {
        int n = Size;
        ReadOnlySpan<T> gI = tape.Slot(tape.GI, t);
        if (RecurrentWeight is not null)
        {
            ReadOnlySpan<T> gRec = gI;
            if (RecurrentNormalized)
            {
                // dL/dr = gI ⊙ γ_rec ⊙ inv (running statistics: constants)
                Span<T> gR = tape.Slot(tape.GR, t);
                BackwardRunning(gI, RecurrentNormGain!.Data, tape.RecNormInv.AsSpan(t * n, n), gR, batch);
                gRec = gR;
            }

            Kernels.AddProduct(gRec, n, 1, RecurrentWeight.Data, n, gsPrev, n, batch, n, n);
        }

        ReadOnlySpan<T> gA = gI;
        if (Normalized)
        {
            BackwardNorm(tape, t, batch);
            gA = tape.Slot(tape.GA, t);
        }

        if (!gxLower.IsEmpty)
        {
            Kernels.AddProduct(gA, n, 1, InputWeight.Data, InputSize, gxLower, InputSize, batch, n, InputSize);
        }
    }

    /// <summary>Through a normalisation with running statistics (constants): g = gI ⊙ γ ⊙ inv per stream.</summary>
    private void BackwardRunning(ReadOnlySpan<T> gI, ReadOnlySpan<T> gain, ReadOnlySpan<T> inv, Span<T> g, int batch)
    {
        int n = Size;
        for (int b = 0; b < batch; b++)
        {
            Span<T> row = g.Slice(b * n, n);
            TensorPrimitives.Multiply(gI.Slice(b * n, n), gain, row);
            TensorPrimitives.Multiply(row, inv, row);
        }
    }

    /// <summary>GA slot t = dL/da from GI slot t = dL/d(γ ⊙ â).</summary>
    private void BackwardNorm(LayerTape<T> tape, int t, int batch)
    {
        int n = Size;
        ReadOnlySpan<T> gI = tape.Slot(tape.GI, t);
        ReadOnlySpan<T> aHat = tape.Slot(tape.AHat, t);
        Span<T> gA = tape.Slot(tape.GA, t);
        T[] gain = NormGain!.Data;
        if (Norm is InputNormKind.Running or InputNormKind.Timestep)
        {
            BackwardRunning(gI, gain, tape.NormInv.AsSpan(t * n, n), gA, batch);
            return;
        }

        if (Norm == InputNormKind.Batch)
        {
            // per neuron over the (whole) batch: ga = r (g − mean_b(g) − â mean_b(g ⊙ â)), g = gI ⊙ γ
            ReadOnlySpan<T> invCol = tape.NormInv.AsSpan(t * n, n);
            for (int b = 0; b < batch; b++)
            {
                TensorPrimitives.Multiply(gI.Slice(b * n, n), gain, gA.Slice(b * n, n));
            }

            Span<double> sums = BatchSums(tape, gA, batch, aHat);
            double total = tape.TotalBatch;
            for (int j = 0; j < n; j++)
            {
                T mg = T.CreateTruncating(sums[j] / total);
                T mgh = T.CreateTruncating(sums[n + j] / total);
                for (int b = 0; b < batch; b++)
                {
                    int e = (b * n) + j;
                    gA[e] = invCol[j] * (gA[e] - mg - (aHat[e] * mgh));
                }
            }

            return;
        }

        // layer norm: ga = r (g − mean(g) − â mean(g ⊙ â)), g = gI ⊙ γ
        ReadOnlySpan<T> invRow = tape.NormInv.AsSpan(t * batch, batch);
        T invN = T.One / T.CreateTruncating(n);
        for (int b = 0; b < batch; b++)
        {
            Span<T> g = gA.Slice(b * n, n);
            ReadOnlySpan<T> h = aHat.Slice(b * n, n);
            TensorPrimitives.Multiply(gI.Slice(b * n, n), gain, g);
            T meanG = TensorPrimitives.Sum<T>(g) * invN;
            T meanGh = TensorPrimitives.Dot<T>(g, h) * invN;
            for (int j = 0; j < n; j++)
            {
                g[j] = invRow[b] * (g[j] - meanG - (h[j] * meanGh));
            }
        }
    }

    /// <summary>Weight gradients of the current over <paramref name="rows"/> = steps x B rows.</summary>
    private protected void AccumulateCurrentGradients(ReadOnlySpan<T> gI, ReadOnlySpan<T> sPrevRows, in ChunkInput<T> x, int rows, LayerTape<T> tape)
    {
        int n = Size;
        int d = InputSize;
        Span<T> gBias = InputBias.Grad;
        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Add(gBias, gI.Slice(r * n, n), gBias);
        }

        ReadOnlySpan<T> gIn = gI;
        if (Normalized)
        {
            // dL/dγ = Σ gI ⊙ â; the input weights get dL/da
            AddGainGradient(NormGain!.Grad, gI, tape.AHat, rows);
            gIn = tape.GA.AsSpan(0, rows * n);
        }

        // W_rec gets dL/dr when the recurrent current is normalised, dL/dI otherwise
        ReadOnlySpan<T> gRec = gI;
        if (RecurrentNormalized)
        {
            AddGainGradient(RecurrentNormGain!.Grad, gI, tape.RHat, rows);
            gRec = tape.GR.AsSpan(0, rows * n);
        }

        if (Workers is { } workers && x.IsSparse)
        {
            SharedWeightGradients(workers, gRec, gIn, sPrevRows, x, rows, tape);
            return;
        }

        AccumulateOwnRows(tape, rows, 0, n);
        RecurrentGradientRows(gRec, sPrevRows, rows, tape, 0, n);
        if (!x.IsSparse)
        {
            if (DenseSpikes || !SparseRowsOuter(gIn, x.Dense, rows, tape))
            {
                Kernels.AddProduct(gIn, 1, n, x.Dense, d, InputWeight.Grad, d, n, rows, d);
            }

            return;
        }

        InputWeight.GradNormSq += SparseOuter(gIn, x.Indices, x.Offsets, rows, InputWeight.Grad, d, 0, n);
        InputWeight.GradNormTracked = true;
    }

    /// <summary>
    /// The layer's own weight gradients that are accumulated with W_in's and W_rec's (the LTC
    /// gates'), for output rows [<paramref name="first"/>, <paramref name="end"/>) only.
    /// </summary>
    private protected virtual void AccumulateOwnRows(LayerTape<T> tape, int rows, int first, int end)
    {
    }

    /// <summary>The [N, K] weights <see cref="AccumulateOwnRows"/> accumulates (their norms are then summed row range by row range).</summary>
    private protected virtual Parameter<T>[] OwnRowParameters => [];

    /// <summary>A normalisation gain's gradient over <paramref name="rows"/> rows: gGain += Σ_rows gI ⊙ x̂.</summary>
    private void AddGainGradient(Span<T> gGain, ReadOnlySpan<T> gI, ReadOnlySpan<T> hat, int rows)
    {
        int n = Size;
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < n; j++)
            {
                gGain[j] += gI[(r * n) + j] * hat[(r * n) + j];
            }
        }
    }

    /// <summary>W_rec's gradient rows [first, end): sparse scatters of the recorded spikes, or a dense product when they are not sparse.</summary>
    private void RecurrentGradientRows(ReadOnlySpan<T> gI, ReadOnlySpan<T> sPrevRows, int rows, LayerTape<T> tape, int first, int end)
    {
        if (RecurrentWeight is null || end <= first)
        {
            return;
        }

        int n = Size;
        long active = tape.SpikesIndexed ? tape.SpikeOffset[rows] : long.MaxValue / 16;
        if (active * 8 <= (long)rows * n)
        {
            SparseOuter(gI, tape.SpikeIndex, tape.SpikeOffset, rows, RecurrentWeight.Grad, n, first, end);
        }
        else
        {
            Kernels.AddProduct(gI[first..], 1, n, sPrevRows, n, RecurrentWeight.Grad.AsSpan(first * n), n, end - first, rows, n);
        }
    }

    /// <summary>The weight gradients of a chunk with sparse input, split by output rows over <paramref name="workers"/> (every element sums as without them); <paramref name="gRec"/> is W_rec's output gradient, <paramref name="gIn"/> W_in's.</summary>
    private unsafe void SharedWeightGradients(UpdateWorkers workers, ReadOnlySpan<T> gRec, ReadOnlySpan<T> gIn, ReadOnlySpan<T> sPrevRows, in ChunkInput<T> x, int rows, LayerTape<T> tape)
    {
        fixed (T* pgI = gRec)
        fixed (T* pgIn = gIn)
        fixed (T* ps = sPrevRows)
        fixed (int* pIdx = x.Indices)
        fixed (int* pOff = x.Offsets)
        {
            _gradientRowsJob.Set(tape, rows, pgI, gRec.Length, pgIn, gIn.Length, ps, sPrevRows.Length, pIdx, x.Indices.Length, pOff, x.Offsets.Length, workers.Threads);
            workers.Run(_gradientRowsJob);
        }

        InputWeight.GradNormSq += _gradientRowsJob.Delta();
        InputWeight.GradNormTracked = true;

        // the other weights' full ‖Grad‖², summed by the shares over their rows: no pass of the update's clip norm
        Parameter<T>[] own = OwnRowParameters;
        for (int i = 0; i <= own.Length; i++)
        {
            Parameter<T>? p = i < own.Length ? own[i] : RecurrentWeight;
            if (p is not null)
            {
                p.GradNormSq = _gradientRowsJob.NormSq(i);
                p.GradNormTracked = true;
            }
        }
    }

    /// <summary>One thread's output rows of <see cref="SharedWeightGradients"/> (pointers pinned by the caller until the run returns).</summary>
    private sealed unsafe class GradientRowsJob : IShareJob
    {
        private readonly RecurrentLayer<T> _layer;
        private LayerTape<T>? _tape;
        private int _rows;
        private T* _gI;
        private int _gILength;
        private T* _gIn;
        private int _gInLength;
        private T* _sPrev;
        private int _sPrevLength;
        private int* _idx;
        private int _idxLength;
        private int* _off;
        private int _offLength;
        private double[] _delta = [];
        private double[] _normSq = [];

        public GradientRowsJob(RecurrentLayer<T> layer) => _layer = layer;

        public void Set(LayerTape<T> tape, int rows, T* gI, int gILength, T* gIn, int gInLength, T* sPrev, int sPrevLength, int* idx, int idxLength, int* off, int offLength, int shares)
        {
            _tape = tape;
            _rows = rows;
            _gI = gI;
            _gILength = gILength;
            _gIn = gIn;
            _gInLength = gInLength;
            _sPrev = sPrev;
            _sPrevLength = sPrevLength;
            _idx = idx;
            _idxLength = idxLength;
            _off = off;
            _offLength = offLength;
            if (_delta.Length != shares)
            {
                _delta = new double[shares];
            }

            int tracked = _layer.OwnRowParameters.Length + 1;
            if (_normSq.Length != shares * tracked)
            {
                _normSq = new double[shares * tracked];
            }
        }

        /// <summary>‖Grad‖² of tracked weight <paramref name="i"/> (the layer's own row parameters, then W_rec), the shares' sums added in share order.</summary>
        public double NormSq(int i)
        {
            int tracked = _layer.OwnRowParameters.Length + 1;
            double sum = 0;
            for (int s = 0; s < _normSq.Length / tracked; s++)
            {
                sum += _normSq[(s * tracked) + i];
            }

            return sum;
        }

        /// <summary>The change of ‖∇W_in‖², the shares' sums added in share order.</summary>
        public double Delta()
        {
            double sum = 0;
            foreach (double d in _delta)
            {
                sum += d;
            }

            return sum;
        }

        public void RunShare(int share, int shares)
        {
            RecurrentLayer<T> layer = _layer;
            int n = layer.Size;
            (int first, int end) = UpdateWorkers.Range(n, share, shares, 8);
            _delta[share] = 0;
            int count = _layer.OwnRowParameters.Length + 1;
            _normSq.AsSpan(share * count, count).Clear();
            if (end <= first)
            {
                return;
            }

            var gI = new ReadOnlySpan<T>(_gI, _gILength);
            layer.AccumulateOwnRows(_tape!, _rows, first, end);
            layer.RecurrentGradientRows(gI, new ReadOnlySpan<T>(_sPrev, _sPrevLength), _rows, _tape!, first, end);
            Parameter<T>[] own = layer.OwnRowParameters;
            int tracked = own.Length + 1;
            for (int i = 0; i < tracked; i++)
            {
                Parameter<T>? p = i < own.Length ? own[i] : layer.RecurrentWeight;
                if (p is not null)
                {
                    int k = p.Length / n;
                    _normSq[(share * tracked) + i] = Kernels.SumOfSquares<T>(p.Grad.AsSpan(first * k, (end - first) * k));
                }
            }

            _delta[share] = layer.SparseOuter(new ReadOnlySpan<T>(_gIn, _gInLength), new ReadOnlySpan<int>(_idx, _idxLength), new ReadOnlySpan<int>(_off, _offLength), _rows, layer.InputWeight.Grad, layer.InputSize, first, end);
        }
    }

    /// <summary>Most non-zero inputs per row the sparse paths take: D / 8, at most <see cref="MaxSparseInputs"/> (0: none).</summary>
    private int SparseCapacity => Math.Min(InputSize / 8, MaxSparseInputs);

    /// <summary>
    /// True when every one of the <paramref name="rows"/> rows of <paramref name="x"/> has at most
    /// <paramref name="idx"/>.Length non-zero values. The buffers then hold the last row's, and
    /// <paramref name="lastCount"/> their number, so a single row is scanned once.
    /// </summary>
    private bool AllRowsSparse(ReadOnlySpan<T> x, int rows, Span<int> idx, Span<T> val, out int lastCount)
    {
        lastCount = 0;
        if (idx.IsEmpty)
        {
            return false;
        }

        int d = InputSize;
        for (int r = 0; r < rows; r++)
        {
            lastCount = Kernels.NonZeros(x.Slice(r * d, d), idx, val);
            if (lastCount < 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The input-weight gradient gw[i, j] += Σ_r gI[r, i] x[r, j] over the non-zero x[r, j] only,
    /// when every row has at most D / 8 of them; false (nothing done) when some row is denser.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool SparseRowsOuter(ReadOnlySpan<T> gI, ReadOnlySpan<T> x, int rows, LayerTape<T> tape)
    {
        int n = Size;
        int d = InputSize;
        int cap = SparseCapacity;
        if (cap == 0)
        {
            return false;
        }

        // every row's non-zeros once, into the tape's index lists (sized on first use for a full tape of
        // the densest rows this path takes, so nothing is allocated later)
        int most = Math.Max(rows, tape.Capacity * tape.Batch);
        int[] off = tape.SparseOffsets(most);
        (int[] idx, T[] val) = tape.SparseEntries(most * cap);
        off[0] = 0;
        for (int r = 0; r < rows; r++)
        {
            int count = Kernels.NonZeros(x.Slice(r * d, d), idx.AsSpan(off[r], cap), val.AsSpan(off[r], cap));
            if (count < 0)
            {
                return false;
            }

            off[r + 1] = off[r] + count;
        }
        if (off[rows] > 2L * d)
        {
            // many rows (batch training): column j of gw is contiguous in the transposed copy, so each
            // non-zero x[r, j] adds the whole gradient row gI[r, ·] with one vector operation; the copy
            // starts from gw and every element still sums its terms in the order of r
            T[] gt = tape.GradientTranspose(n * d);
            Kernels.Transpose<T>(InputWeight.Grad, n, d, gt);
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<T> g = gI.Slice(r * n, n);
                for (int k = off[r]; k < off[r + 1]; k++)
                {
                    Span<T> column = gt.AsSpan(idx[k] * n, n);
                    TensorPrimitives.MultiplyAdd(g, val[k], column, column);
                }
            }

            Kernels.Transpose<T>(gt, d, n, InputWeight.Grad);
            return true;
        }

        // row i of gw outermost: its D values stay in L1 while every row r scatters into it (each
        // element still sums its terms in the order of r, as a row-by-row loop would)
        ref T gw = ref MemoryMarshal.GetArrayDataReference(InputWeight.Grad);
        ref T gi0 = ref MemoryMarshal.GetReference(gI);
        for (int i = 0; i < n; i++)
        {
            ref T wRow = ref Unsafe.Add(ref gw, i * d);
            for (int r = 0; r < rows; r++)
            {
                T g = Unsafe.Add(ref gi0, (r * n) + i);
                if (g == T.Zero)
                {
                    continue;
                }

                for (int k = off[r]; k < off[r + 1]; k++)
                {
                    Unsafe.Add(ref wRow, idx[k]) += g * val[k];
                }
            }
        }

        return true;
    }

    /// <summary>
    /// gw[i, j] += sum_r gI[r, i] over the active columns j of each row r (strided writes into
    /// [N, width]); returns the change of ‖gw‖² (Σ (a + g)² − a² over the updates).
    /// </summary>
    private double SparseOuter(ReadOnlySpan<T> gI, ReadOnlySpan<int> idx, ReadOnlySpan<int> off, int rows, T[] gwArray, int width, int first, int end)
    {
        // row i of gw outermost: it stays in L1 while every recorded row r scatters into it
        double delta = 0;
        int n = Size;
        ref T gw = ref MemoryMarshal.GetArrayDataReference(gwArray);
        ref T gi0 = ref MemoryMarshal.GetReference(gI);
        int lineElems = 64 / Unsafe.SizeOf<T>();
        for (int i = first; i < end; i++)
        {
            ref T wRow = ref Unsafe.Add(ref gw, i * width);
            if (Sse.IsSupported && i + 2 < end)
            {
                // the scatter positions are irregular: prefetch the row after next (most of its lines get touched)
                ref T ahead = ref Unsafe.Add(ref wRow, 2 * width);
                for (int k = 0; k < width; k += lineElems)
                {
                    unsafe
                    {
                        Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref ahead, k)));
                    }
                }
            }

            T local = T.Zero;
            for (int r = 0; r < rows; r++)
            {
                T g = Unsafe.Add(ref gi0, (r * n) + i);
                int s = off[r];
                int e = off[r + 1];
                if (g == T.Zero || s == e)
                {
                    continue;
                }

                foreach (int j in idx[s..e])
                {
                    ref T cell = ref Unsafe.Add(ref wRow, j);
                    T a = cell;
                    cell = a + g;
                    local += (a + a + g) * g;
                }
            }

            delta += double.CreateTruncating(local);
        }

        return delta;
    }

    /// <summary>Training batches of <see cref="MirrorBatch"/> or more rows read W_in's columns from its transposed mirror.</summary>
    private bool ReadsMirror(int batch) => batch >= MirrorBatch && Size <= MirrorRowLimit;

    /// <summary>
    /// row += Σ_k values[k] · mirror row cols[k] (values empty: binary inputs, plain sums), read from
    /// the mirror's contiguous rows instead of N strided gathers per input. The terms are summed into
    /// the zeroed <paramref name="sum"/> first, in column order, multiply and add rounded separately,
    /// so every element is summed exactly as <see cref="AddColumns"/> / <see cref="AddScaledColumns"/>
    /// sum it (identical results).
    /// </summary>
    private void AddMirrorRows(T[] wt, ReadOnlySpan<int> cols, ReadOnlySpan<T> values, Span<T> sum, Span<T> row)
    {
        int n = Size;
        sum.Clear();
        if (values.IsEmpty)
        {
            Kernels.AddRows<T>(cols, wt, sum, n);
        }
        else
        {
            for (int k = 0; k < cols.Length; k++)
            {
                TensorPrimitives.MultiplyAdd(wt.AsSpan(cols[k] * n, n), values[k], sum, sum);
            }
        }

        TensorPrimitives.Add(row, sum, row);
    }

    /// <summary>dst[i] += sum over active j of w[i * width + j] (columns of a row-major [N, width] matrix).</summary>
    private void AddColumns(ReadOnlySpan<int> act, T[] w, int width, Span<T> dst)
    {
        if (Workers is { } workers && act.Length * Size >= SharedGather)
        {
            // batch-1 training with helper threads: each takes a range of rows (the same sums)
            unsafe
            {
                fixed (int* a = act)
                fixed (T* wp = w)
                fixed (T* d = dst)
                {
                    _columnsJob.Set(a, act.Length, wp, width, d, Size);
                    workers.Run(_columnsJob);
                }
            }

            return;
        }

        AddColumnRows(act, w, width, dst, 0, Size);
    }

    /// <summary>dst[i] += Σ_j w[i, act[j]] for rows first ≤ i &lt; end, each row summed in the order of <paramref name="act"/>.</summary>
    private static void AddColumnRows(ReadOnlySpan<int> act, ReadOnlySpan<T> w, int width, Span<T> dst, int first, int end)
    {
        // four rows at a time: four independent sums (no add-latency chain) and more loads in flight
        ref T w0 = ref MemoryMarshal.GetReference(w);
        int i = first;
        for (; i + 4 <= end; i += 4)
        {
            ref T r0 = ref Unsafe.Add(ref w0, i * width);
            ref T r1 = ref Unsafe.Add(ref r0, width);
            ref T r2 = ref Unsafe.Add(ref r1, width);
            ref T r3 = ref Unsafe.Add(ref r2, width);
            T s0 = T.Zero, s1 = T.Zero, s2 = T.Zero, s3 = T.Zero;
            foreach (int j in act)
            {
                s0 += Unsafe.Add(ref r0, j);
                s1 += Unsafe.Add(ref r1, j);
                s2 += Unsafe.Add(ref r2, j);
                s3 += Unsafe.Add(ref r3, j);
            }

            dst[i] += s0;
            dst[i + 1] += s1;
            dst[i + 2] += s2;
            dst[i + 3] += s3;
        }

        for (; i < end; i++)
        {
            ref T wRow = ref Unsafe.Add(ref w0, i * width);
            T sum = T.Zero;
            foreach (int j in act)
            {
                sum += Unsafe.Add(ref wRow, j);
            }

            dst[i] += sum;
        }
    }

    /// <summary>
    /// <see cref="AddColumnRows"/> split by rows over <see cref="Workers"/>. Holds pointers to
    /// buffers the calling thread keeps pinned until <see cref="UpdateWorkers.Run"/> returns.
    /// </summary>
    private sealed unsafe class ColumnsJob : IShareJob
    {
        private int* _act;
        private int _count;
        private T* _w;
        private int _width;
        private T* _dst;
        private int _rows;

        public void Set(int* act, int count, T* w, int width, T* dst, int rows)
        {
            _act = act;
            _count = count;
            _w = w;
            _width = width;
            _dst = dst;
            _rows = rows;
        }

        public void RunShare(int share, int shares)
        {
            (int first, int end) = UpdateWorkers.Range(_rows, share, shares, 8);
            AddColumnRows(new ReadOnlySpan<int>(_act, _count), new ReadOnlySpan<T>(_w, _rows * _width), _width, new Span<T>(_dst, _rows), first, end);
        }
    }

    /// <summary>dst[i] += sum over k of v[k] w[i * width + j[k]] (scaled columns of a row-major [N, width] matrix).</summary>
    private void AddScaledColumns(ReadOnlySpan<int> cols, ReadOnlySpan<T> v, T[] w, int width, Span<T> dst)
    {
        ref T w0 = ref MemoryMarshal.GetArrayDataReference(w);
        int n = Size;
        for (int i = 0; i < n; i++)
        {
            ref T wRow = ref Unsafe.Add(ref w0, i * width);
            T sum = T.Zero;
            for (int k = 0; k < cols.Length; k++)
            {
                sum += Unsafe.Add(ref wRow, cols[k]) * v[k];
            }

            dst[i] += sum;
        }
    }

    /// <summary>W_in transposed ([D, N]), rebuilt when W_in's version changes.</summary>
    private T[] InputMirror() => _inputMirror.Get();
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
