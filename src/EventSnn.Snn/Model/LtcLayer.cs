using System.Numerics;
using System.Numerics.Tensors;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn;

/// <summary>
/// Liquid-time-constant spiking layer (reference §1):
/// <code>
/// I_t     = W_in x_t + W_rec s_{t-1} + bias
/// tau_t   = sigmoid(k_tau (W_tau [I_t ; u_{t-1}] + c_tau))
/// rho_t   = sigmoid(k_rho (W_rho [I_t ; b_{t-1}] + c_rho))
/// b_t     = rho_t b_{t-1} + (1 - rho_t) s_{t-1}
/// theta_t = b0 + beta b_t
/// m_t     = u_{t-1} + (I_t - u_{t-1}) tau_t        (= (1 - tau) u + tau I, written as the authors' code)
/// s_t     = H(m_t - theta_t)
/// u_t     = (1 - s_t) m_t                          (hard reset; the gradient flows through s_t too, as in autograd)
/// </code>
/// Parameters in order: "layers.{l}.w_in.weight" [N, D], "layers.{l}.w_in.bias" [N],
/// "layers.{l}.w_rec.weight" [N, N] (if recurrent), "layers.{l}.w_tau.weight" [N, 2N],
/// "layers.{l}.w_tau.bias" [N] (c_tau), "layers.{l}.w_rho.weight" [N, 2N],
/// "layers.{l}.w_rho.bias" [N] (c_rho), then "layers.{l}.k_tau" [1] and "layers.{l}.k_rho" [1]
/// when the slope is learnable (k = 1 otherwise). Column j &lt; N of W_tau multiplies I_j,
/// column N + j multiplies u_j (likewise b_j for W_rho). With beta = 0 (the authors' adding-task
/// model: fixed threshold) the rho/b path is skipped, see <see cref="Adaptive"/>.
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class LtcLayer<T> : RecurrentLayer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;
    private readonly TransposedMirror<T> _tauMirror;
    private readonly TransposedMirror<T> _rhoMirror;
    private readonly GateGradientsJob _gradientsJob = new();

    /// <summary>Creates the layer (parameters zero until initialised by the network).</summary>
    public LtcLayer(int index, int inputSize, LayerConfig config)
        : base(index, inputSize, config)
    {
        int n = Size;
        TauWeight = new Parameter<T>(Prefix + "w_tau.weight", n, 2 * n);
        TauBias = new Parameter<T>(Prefix + "w_tau.bias", n);
        RhoWeight = new Parameter<T>(Prefix + "w_rho.weight", n, 2 * n);
        RhoBias = new Parameter<T>(Prefix + "w_rho.bias", n);
        _tauMirror = new TransposedMirror<T>(TauWeight, n, 2 * n);
        _rhoMirror = new TransposedMirror<T>(RhoWeight, n, 2 * n);
        if (config.LearnableSlope)
        {
            TauSlope = new Parameter<T>(Prefix + "k_tau", 1);
            RhoSlope = new Parameter<T>(Prefix + "k_rho", 1);
        }

        var list = new List<Parameter<T>> { InputWeight, InputBias };
        if (RecurrentWeight is not null)
        {
            list.Add(RecurrentWeight);
        }

        list.AddRange([TauWeight, TauBias, RhoWeight, RhoBias]);
        if (TauSlope is not null && RhoSlope is not null)
        {
            list.Add(TauSlope);
            list.Add(RhoSlope);
        }

        AddNormParameters(list);
        _parameters = [.. list];
    }

    /// <summary>W_tau [N, 2N].</summary>
    public Parameter<T> TauWeight { get; }

    /// <summary>c_tau [N].</summary>
    public Parameter<T> TauBias { get; }

    /// <summary>W_rho [N, 2N].</summary>
    public Parameter<T> RhoWeight { get; }

    /// <summary>c_rho [N].</summary>
    public Parameter<T> RhoBias { get; }

    /// <summary>Learnable slope k_tau [1], or null.</summary>
    public Parameter<T>? TauSlope { get; }

    /// <summary>Learnable slope k_rho [1], or null.</summary>
    public Parameter<T>? RhoSlope { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <summary>
    /// False when beta = 0: the threshold is then the constant b0, so the rho gate and b cannot
    /// influence any output; they are not computed (b keeps its value, W_rho and c_rho get zero
    /// gradient), which saves a third of the layer's work.
    /// </summary>
    public bool Adaptive => ThresholdAdaptation != T.Zero;

    internal override void Initialize(SnnRandom rng, InitializationScheme scheme)
    {
        // Reference: Xavier for the input and gate layers, orthogonal W_rec, zero biases (reference §1)
        InitializeCurrent(rng, scheme);
        if (scheme == InitializationScheme.TorchDefault)
        {
            double bound = 1.0 / Math.Sqrt(2 * Size);
            Init.Uniform(TauWeight, rng, bound);
            Init.Uniform(TauBias, rng, bound);
            Init.Uniform(RhoWeight, rng, bound);
            Init.Uniform(RhoBias, rng, bound);
        }
        else
        {
            Init.XavierUniform(TauWeight, rng);
            Init.Constant(TauBias, Config.TauBiasInit);
            Init.XavierUniform(RhoWeight, rng);
            Init.Constant(RhoBias, Config.RhoBiasInit);
        }

        if (TauSlope is not null && RhoSlope is not null)
        {
            Init.Constant(TauSlope, 1);
            Init.Constant(RhoSlope, 1);
        }
    }

    internal override LayerTape<T> CreateTape(int batch, int capacity) => new LtcTape<T>(batch, Size, capacity, Normalized, RecurrentNormalized);

    internal override void Forward(in StepInput<T> x, LayerState<T> state, LayerTape<T> tapeBase, int t, bool inference)
    {
        var tape = (LtcTape<T>)tapeBase;
        int batch = state.Batch;
        int n = Size;
        int n2 = 2 * n;
        Span<T> sPrev = tape.Slot(tape.S, t);
        if (t == 0)
        {
            state.S.CopyTo(sPrev);
            state.U.CopyTo(tape.Slot(tape.U, 0));
        }

        Span<T> catTau = tape.Cat(tape.CatTau, t);
        Span<T> catRho = tape.Cat(tape.CatRho, t);
        ComputeCurrent(x, sPrev, catTau, n2, batch, inference, tape, t, state.Step);
        bool adaptive = Adaptive;
        for (int b = 0; b < batch; b++)
        {
            Span<T> ct = catTau.Slice(b * n2, n2);
            state.U.AsSpan(b * n, n).CopyTo(ct[n..]);
            if (adaptive)
            {
                Span<T> cr = catRho.Slice(b * n2, n2);
                ct[..n].CopyTo(cr);
                state.B.AsSpan(b * n, n).CopyTo(cr[n..]);
            }
        }

        Span<T> za = tape.Slot(tape.Za, t);
        Span<T> zr = tape.Slot(tape.Zr, t);
        for (int b = 0; b < batch; b++)
        {
            TauBias.Data.CopyTo(za.Slice(b * n, n));
            if (adaptive)
            {
                RhoBias.Data.CopyTo(zr.Slice(b * n, n));
            }
        }

        if (!inference && batch == 1 && Workers is { } workers)
        {
            SharedGateProducts(workers, catTau, za, adaptive ? catRho : default, zr);
        }
        else
        {
            GateProduct(catTau, TauWeight, _tauMirror, za, batch, inference);
            if (adaptive)
            {
                GateProduct(catRho, RhoWeight, _rhoMirror, zr, batch, inference);
            }
        }

        Span<T> tau = tape.Slot(tape.Tau, t);
        Span<T> rho = tape.Slot(tape.Rho, t);
        Gate(za, TauSlope, tau);
        if (adaptive)
        {
            Gate(zr, RhoSlope, rho);
        }

        Span<T> m = tape.Slot(tape.M, t);
        Span<T> v = tape.Slot(tape.V, t);
        Span<T> sOut = tape.Slot(tape.S, t + 1);
        Span<T> uOut = tape.Slot(tape.U, t + 1);
        T b0 = ThresholdBase;
        T beta = ThresholdAdaptation;
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> ct = catTau.Slice(b * n2, n2);
            ReadOnlySpan<T> cr = catRho.Slice(b * n2, n2);
            int o = b * n;
            int first = SmoothSpikes ? 0 : UpdateNeurons(ct, adaptive ? cr[n..] : default, rho.Slice(o, n), sPrev.Slice(o, n), tau.Slice(o, n), state, o, m.Slice(o, n), v.Slice(o, n), sOut.Slice(o, n), uOut.Slice(o, n));
            for (int i = first; i < n; i++)
            {
                int e = o + i;
                T current = ct[i];
                T uPrev = ct[n + i];
                T bNew;
                if (adaptive)
                {
                    T rhoE = rho[e];
                    bNew = (rhoE * cr[n + i]) + ((T.One - rhoE) * sPrev[e]);
                }
                else
                {
                    bNew = state.B[e]; // beta = 0: b cannot affect anything and is not advanced
                }

                T theta = b0 + (beta * bNew);
                T mem = uPrev + ((current - uPrev) * tau[e]);
                T vE = mem - theta;
                T s = Spike(vE);
                T u = (T.One - s) * mem;
                m[e] = mem;
                v[e] = vE;
                state.B[e] = bNew;
                state.S[e] = s;
                state.U[e] = u;
                sOut[e] = s;
                uOut[e] = u;
            }
        }

        state.Step++;
    }

    /// <summary>
    /// The neuron update of <see cref="Forward"/> for one stream, <see cref="Vector{T}"/> lanes at a
    /// time, with exactly the scalar loop's operations (no fused multiply-add), so the results are
    /// identical. Returns how many neurons it did; the scalar loop does the rest.
    /// </summary>
    private int UpdateNeurons(ReadOnlySpan<T> ct, ReadOnlySpan<T> bPrev, ReadOnlySpan<T> rho, ReadOnlySpan<T> sPrev, ReadOnlySpan<T> tau, LayerState<T> state, int o, Span<T> m, Span<T> v, Span<T> sOut, Span<T> uOut)
    {
        if (!Vector.IsHardwareAccelerated || !Vector<T>.IsSupported)
        {
            return 0;
        }

        int n = Size;
        int w = Vector<T>.Count;
        ReadOnlySpan<T> currents = ct[..n];
        ReadOnlySpan<T> uPrevs = ct.Slice(n, n);
        Span<T> bState = state.B.AsSpan(o, n);
        Span<T> sState = state.S.AsSpan(o, n);
        Span<T> uState = state.U.AsSpan(o, n);
        bool adaptive = !bPrev.IsEmpty;
        var one = Vector<T>.One;
        var b0 = new Vector<T>(ThresholdBase);
        var beta = new Vector<T>(ThresholdAdaptation);
        int i = 0;
        for (; i + w <= n; i += w)
        {
            Vector<T> bNew;
            if (adaptive)
            {
                var rhoE = new Vector<T>(rho[i..]);
                bNew = (rhoE * new Vector<T>(bPrev[i..])) + ((one - rhoE) * new Vector<T>(sPrev[i..]));
            }
            else
            {
                bNew = new Vector<T>(bState[i..]);
            }

            var uPrev = new Vector<T>(uPrevs[i..]);
            Vector<T> theta = b0 + (beta * bNew);
            Vector<T> mem = uPrev + ((new Vector<T>(currents[i..]) - uPrev) * new Vector<T>(tau[i..]));
            Vector<T> vE = mem - theta;
            Vector<T> spike = Vector.ConditionalSelect(Vector.GreaterThan(vE, Vector<T>.Zero), one, Vector<T>.Zero);
            Vector<T> u = (one - spike) * mem;
            mem.CopyTo(m[i..]);
            vE.CopyTo(v[i..]);
            bNew.CopyTo(bState[i..]);
            spike.CopyTo(sState[i..]);
            u.CopyTo(uState[i..]);
            spike.CopyTo(sOut[i..]);
            u.CopyTo(uOut[i..]);
        }

        return i;
    }

    /// <summary>
    /// Both gate products of one stream (batch-1 training), split by output rows over
    /// <paramref name="workers"/>: every output sums exactly as in <see cref="GateProduct"/>.
    /// </summary>
    private unsafe void SharedGateProducts(UpdateWorkers workers, Span<T> catTau, Span<T> za, Span<T> catRho, Span<T> zr)
    {
        fixed (T* ct = catTau)
        fixed (T* zt = za)
        fixed (T* wt = TauWeight.Data)
        fixed (T* cr = catRho)
        fixed (T* zp = zr)
        fixed (T* wr = RhoWeight.Data)
        {
            RowProducts.Set(Size, ct, wt, zt, 2 * Size, catRho.IsEmpty ? null : cr, wr, zp, 2 * Size);
            workers.Run(RowProducts);
        }
    }

    /// <summary>
    /// Columns [<paramref name="first"/>, <paramref name="end"/>) of gI += gza W_tau[:, :N] (+ gzr
    /// W_rho[:, :N]), gU += gza W_tau[:, N:], gB += gzr W_rho[:, N:] (each column sums in the same
    /// order whatever the range).
    /// </summary>
    private void GateGradients(ReadOnlySpan<T> gza, ReadOnlySpan<T> gzr, Span<T> gI, Span<T> gU, Span<T> gB, bool adaptive, int batch, int first, int end)
    {
        int n = Size;
        int n2 = 2 * n;
        int cols = end - first;
        Kernels.AddProduct<T>(gza, n, 1, TauWeight.Data.AsSpan(first), n2, gI[first..], n, batch, n, cols);
        Kernels.AddProduct<T>(gza, n, 1, TauWeight.Data.AsSpan(n + first), n2, gU[first..], n, batch, n, cols);
        if (adaptive)
        {
            Kernels.AddProduct<T>(gzr, n, 1, RhoWeight.Data.AsSpan(first), n2, gI[first..], n, batch, n, cols);
            Kernels.AddProduct<T>(gzr, n, 1, RhoWeight.Data.AsSpan(n + first), n2, gB[first..], n, batch, n, cols);
        }
    }

    /// <summary><see cref="GateGradients"/> of one stream split by columns over <paramref name="workers"/>.</summary>
    private unsafe void SharedGateGradients(UpdateWorkers workers, Span<T> gza, Span<T> gzr, Span<T> gI, Span<T> gU, Span<T> gB, bool adaptive)
    {
        fixed (T* a = gza)
        fixed (T* r = gzr)
        fixed (T* i = gI)
        fixed (T* u = gU)
        fixed (T* b = gB)
        {
            _gradientsJob.Set(this, a, r, i, u, b, adaptive);
            workers.Run(_gradientsJob);
        }
    }

    /// <summary>The columns of the gate gradients one thread computes (pointers pinned by the caller until the run returns).</summary>
    private sealed unsafe class GateGradientsJob : IShareJob
    {
        private LtcLayer<T>? _layer;
        private T* _gza;
        private T* _gzr;
        private T* _gI;
        private T* _gU;
        private T* _gB;
        private bool _adaptive;

        public void Set(LtcLayer<T> layer, T* gza, T* gzr, T* gI, T* gU, T* gB, bool adaptive)
        {
            _layer = layer;
            _gza = gza;
            _gzr = gzr;
            _gI = gI;
            _gU = gU;
            _gB = gB;
            _adaptive = adaptive;
        }

        public void RunShare(int share, int shares)
        {
            int n = _layer!.Size;
            (int first, int end) = UpdateWorkers.Range(n, share, shares, 16);
            if (end > first)
            {
                _layer.GateGradients(new ReadOnlySpan<T>(_gza, n), new ReadOnlySpan<T>(_gzr, n), new Span<T>(_gI, n), new Span<T>(_gU, n), new Span<T>(_gB, n), _adaptive, 1, first, end);
            }
        }
    }

    /// <summary>
    /// z rows += W [I; u] rows. Inference streams the gate's transposed mirror once per row (one FMA
    /// chain per output, no horizontal sums: ~1.5x faster at batch 1); training multiplies the
    /// [out, in] weights directly, whose values change every update. The two sum in different orders,
    /// so they agree to rounding, not bit for bit.
    /// </summary>
    private void GateProduct(ReadOnlySpan<T> cat, Parameter<T> weight, TransposedMirror<T> mirror, Span<T> z, int batch, bool inference)
    {
        int n = Size;
        int n2 = 2 * n;
        if (inference)
        {
            T[] wt = mirror.Get();
            for (int b = 0; b < batch; b++)
            {
                Kernels.AddVecMatT<T>(cat.Slice(b * n2, n2), wt, z.Slice(b * n, n), n, n2);
            }

            return;
        }

        Kernels.MatMulABt(cat, n2, weight.Data, n2, z, n, batch, n, n2, accumulate: true);
    }

    internal override void Backward(LayerTape<T> tapeBase, int t, Span<T> gxLower)
    {
        var tape = (LtcTape<T>)tapeBase;
        int batch = tape.Batch;
        int n = Size;
        int n2 = 2 * n;
        ReadOnlySpan<T> v = tape.Slot(tape.V, t);
        Span<T> sg = tape.SG;
        Surrogate.Derivative(v, sg, tape.Tmp);

        ReadOnlySpan<T> catTau = tape.Cat(tape.CatTau, t);
        ReadOnlySpan<T> catRho = tape.Cat(tape.CatRho, t);
        ReadOnlySpan<T> m = tape.Slot(tape.M, t);
        ReadOnlySpan<T> tau = tape.Slot(tape.Tau, t);
        ReadOnlySpan<T> rho = tape.Slot(tape.Rho, t);
        ReadOnlySpan<T> za = tape.Slot(tape.Za, t);
        ReadOnlySpan<T> zr = tape.Slot(tape.Zr, t);
        ReadOnlySpan<T> sPrev = tape.Slot(tape.S, t);
        ReadOnlySpan<T> sNow = tape.Slot(tape.S, t + 1);
        Span<T> gI = tape.Slot(tape.GI, t);
        Span<T> gza = tape.Slot(tape.GZa, t);
        Span<T> gzr = tape.Slot(tape.GZr, t);
        Span<T> gU = tape.GU;
        Span<T> gS = tape.GS;
        Span<T> gB = tape.GB;
        T kTau = TauSlope is null ? T.One : TauSlope.Data[0];
        T kRho = RhoSlope is null ? T.One : RhoSlope.Data[0];
        T beta = ThresholdAdaptation;
        bool adaptive = Adaptive;
        double gkTau = 0;
        double gkRho = 0;
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> ct = catTau.Slice(b * n2, n2);
            ReadOnlySpan<T> cr = catRho.Slice(b * n2, n2);
            int o = b * n;
            for (int i = 0; i < n; i++)
            {
                int e = o + i;
                T mem = m[e];
                T s = sNow[e];
                T tauE = tau[e];
                T current = ct[i];
                T uPrev = ct[n + i];

                // u_t = (1 - s_t) m_t ; s_t = H(m_t - theta_t)
                T gsTot = gS[e] - (gU[e] * mem);
                T gv = gsTot * sg[e];
                T gm = (gU[e] * (T.One - s)) + gv;

                // theta_t = b0 + beta b_t
                T gbTot = gB[e] - (beta * gv);

                // m_t = u_{t-1} + (I_t - u_{t-1}) tau_t
                T gTau = gm * (current - uPrev);
                gI[e] = gm * tauE;
                T guPrev = gm * (T.One - tauE);

                gU[e] = guPrev;

                // tau gate: tau = sigmoid(k z)
                T gya = gTau * tauE * (T.One - tauE);
                gza[e] = gya * kTau;
                gkTau += double.CreateTruncating(gya * za[e]);

                if (adaptive)
                {
                    // b_t = rho b_{t-1} + (1 - rho) s_{t-1}; rho = sigmoid(k z)
                    T rhoE = rho[e];
                    T gRho = gbTot * (cr[n + i] - sPrev[e]);
                    gB[e] = gbTot * rhoE;
                    gS[e] = gbTot * (T.One - rhoE);
                    T gyr = gRho * rhoE * (T.One - rhoE);
                    gzr[e] = gyr * kRho;
                    gkRho += double.CreateTruncating(gyr * zr[e]);
                }
                else
                {
                    gB[e] = T.Zero;
                    gS[e] = T.Zero;
                }
            }
        }

        tape.SlopeGradTau += gkTau;
        tape.SlopeGradRho += gkRho;

        // through the gate matrices: [gI ; gu_prev] += gza W_tau, [gI ; gb_prev] += gzr W_rho
        if (batch == 1 && Workers is { } workers)
        {
            SharedGateGradients(workers, gza, gzr, gI, gU, gB, adaptive);
        }
        else
        {
            GateGradients(gza, gzr, gI, gU, gB, adaptive, batch, 0, n);
        }

        // through the current: gs_prev += gI W_rec, gx += gI W_in
        BackwardCurrent(tape, t, gS, gxLower, batch);
    }

    internal override void AccumulateGradients(LayerTape<T> tapeBase, int steps, in ChunkInput<T> input)
    {
        var tape = (LtcTape<T>)tapeBase;
        int n = Size;
        int n2 = 2 * n;
        int rows = steps * tape.Batch;
        ReadOnlySpan<T> gza = tape.GZa.AsSpan(0, rows * n);
        ReadOnlySpan<T> gzr = tape.GZr.AsSpan(0, rows * n);

        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Add(TauBias.Grad, gza.Slice(r * n, n), TauBias.Grad);
            if (Adaptive)
            {
                TensorPrimitives.Add(RhoBias.Grad, gzr.Slice(r * n, n), RhoBias.Grad);
            }
        }

        if (TauSlope is not null && RhoSlope is not null)
        {
            TauSlope.Grad[0] += T.CreateTruncating(tape.SlopeGradTau);
            RhoSlope.Grad[0] += T.CreateTruncating(tape.SlopeGradRho);
        }

        tape.SlopeGradTau = 0;
        tape.SlopeGradRho = 0;
        AccumulateCurrentGradients(tape.GI.AsSpan(0, rows * n), tape.S.AsSpan(0, rows * n), input, rows, tape);
    }

    private Parameter<T>[]? _ownRows;

    /// <inheritdoc/>
    private protected override Parameter<T>[] OwnRowParameters => _ownRows ??= [TauWeight, RhoWeight];

    /// <summary>The gate weights' gradient rows [first, end): W_tau.grad += gzaᵀ [I; u], W_rho.grad += gzrᵀ [I; b] over the chunk's rows.</summary>
    private protected override void AccumulateOwnRows(LayerTape<T> tapeBase, int rows, int first, int end)
    {
        var tape = (LtcTape<T>)tapeBase;
        int n = Size;
        int n2 = 2 * n;
        ReadOnlySpan<T> gza = tape.GZa.AsSpan(0, rows * n);
        ReadOnlySpan<T> gzr = tape.GZr.AsSpan(0, rows * n);
        Kernels.AddProduct(gza[first..], 1, n, tape.CatTau.AsSpan(0, rows * n2), n2, TauWeight.Grad.AsSpan(first * n2), n2, end - first, rows, n2);
        if (Adaptive)
        {
            Kernels.AddProduct(gzr[first..], 1, n, tape.CatRho.AsSpan(0, rows * n2), n2, RhoWeight.Grad.AsSpan(first * n2), n2, end - first, rows, n2);
        }
    }

    private static void Gate(ReadOnlySpan<T> z, Parameter<T>? slope, Span<T> dst)
    {
        if (slope is null)
        {
            TensorPrimitives.Sigmoid(z, dst);
        }
        else
        {
            TensorPrimitives.Multiply(z, slope.Data[0], dst);
            TensorPrimitives.Sigmoid(dst, dst);
        }
    }
}
