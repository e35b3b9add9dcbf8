using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn;

/// <summary>Chunking and loss-weighting helpers of FPTT.</summary>
public static class Fptt
{
    /// <summary>Loss weight (p+1)/P of chunk p of P for terminal-label tasks (reference §2).</summary>
    public static double ChunkWeight(int chunk, int chunks) => (chunk + 1.0) / chunks;

    /// <summary>Oracle-term weight 1 − (p+1)/P of chunk p of P.</summary>
    public static double OracleWeight(int chunk, int chunks) => 1.0 - ChunkWeight(chunk, chunks);

    /// <summary>
    /// The weight the authors' adding-task script actually applies, <c>(p+1/PARTS) * loss</c>
    /// (operator precedence makes it p + 1/P rather than (p+1)/P).
    /// </summary>
    public static double AddingScriptWeight(int chunk, int chunks) => chunk + (1.0 / chunks);

    /// <summary>First step of chunk <paramref name="chunk"/> when <paramref name="steps"/> steps are split into <paramref name="chunks"/> near-equal chunks.</summary>
    public static int ChunkStart(int chunk, int steps, int chunks) => (int)((long)chunk * steps / chunks);
}

/// <summary>Hyper-parameters of FPTT (reference §2).</summary>
public sealed record FpttOptions
{
    /// <summary>α: strength of the regulariser (reference: 0.1 for S-MNIST/DVS, 0.5 for the adding task).</summary>
    public double Alpha { get; init; } = 0.1;

    /// <summary>β: step of the running average W̄ (reference: 0.5).</summary>
    public double Beta { get; init; } = 0.5;

    /// <summary>Global gradient-norm clip (reference: 1.0; ≤ 0 disables).</summary>
    public double GradientClip { get; init; } = 1.0;

    /// <summary>Detect NaN/Inf loss or gradients and restore W ← W̄ (default on).</summary>
    public bool DivergenceGuard { get; init; } = true;
}

/// <summary>
/// Forward Propagation Through Time (Kag &amp; Saligrama 2021, as used by Yin, Corradi &amp; Bohte):
/// for every chunk k with task loss l_k,
/// <code>
/// loss_k = l_k(W) − ⟨W, λ⟩ + (α/2) ‖W − W̄‖²        (the authors' code's form of (α/2)‖W − W̄ − λ/α‖²)
/// W      ← optimiser step on ∇loss_k, clipped to global norm 1.0 AFTER adding the regulariser
///          gradient (the code calls clip_grad_norm_ after (loss + regulariser).backward())
/// λ      ← λ − α (W − W̄)
/// W̄      ← (1 − β) W̄ + β W − (β/α) λ                   (with the new λ, as post_optimizer_updates)
/// </code>
/// and <see cref="EndEpoch"/> sets W ← W̄ (reset_named_params). The paper writes the linear
/// term with 1/(2α); this follows the code (1/α) to match its results. The regulariser covers
/// every trainable parameter. W̄ starts at W and λ at 0.
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class FpttLearner<T> : Learner<T>, IShareJob
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Parameters shorter than this are updated by the calling thread alone (sharing them costs more than it saves).</summary>
    private const int MinSharedLength = 8192;

    private readonly T[][] _average;
    private readonly T[][] _lambda;
    private readonly T[] _tmp = new T[Optimizer<T>.Block];
    private readonly int[] _synced;
    private double _regularizer;
    private bool _prefilled;
    private bool _adopted;
    private FpttStepConstants _step;
    private AdamRule _adam;
    private AdamaxRule _adamax;
    private UpdateWorkers? _workers;
    private double _shareScale;
    private double[] _shareReg = [];
    private double[] _shareGradSq = [];

    /// <summary>Creates the learner for chunks of up to <paramref name="chunkLength"/> steps of <paramref name="batch"/> streams.</summary>
    public FpttLearner(Network<T> network, Optimizer<T> optimizer, FpttOptions options, int batch, int chunkLength)
        : base(network, optimizer ?? throw new ArgumentNullException(nameof(optimizer)), batch, chunkLength, options?.GradientClip ?? 1.0)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Alpha <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "FPTT needs alpha > 0");
        }

        Options = options;
        ParameterSet<T> ps = network.Parameters;
        _average = new T[ps.Count][];
        _lambda = new T[ps.Count][];
        _synced = new int[ps.Count];
        for (int p = 0; p < ps.Count; p++)
        {
            _average[p] = (T[])ps[p].Data.Clone();
            _lambda[p] = new T[ps[p].Length];
            _synced[p] = ps[p].Version;
        }
    }

    /// <summary>Hyper-parameters.</summary>
    public FpttOptions Options { get; }

    /// <summary>
    /// Threads that share every update (null: the calling thread alone). Used by the fused float
    /// update (Adam or Adamax); each parameter's elements are split into equal contiguous ranges
    /// and the per-range sums are added in range order, so a given thread count always gives the
    /// same results. The forward steps of a batch of 1 split their strided column gathers and gate
    /// products by output rows over the same threads (every output's sum unchanged). The caller owns
    /// the workers and disposes them after the learner's last step (or sets this back to null first).
    /// </summary>
    public UpdateWorkers? UpdateWorkers
    {
        get => _workers;
        set
        {
            _workers = value;
            Network.SetWorkers(value);
        }
    }

    /// <summary>Bytes of the FPTT state (W̄ and λ).</summary>
    public long StateBytes => 2 * Network.Parameters.TotalLength * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();

    /// <summary>
    /// Recomputes the cached regulariser gradient after W̄ or λ were written through
    /// <see cref="GetAverage"/>/<see cref="GetLambda"/> (changes of W are detected through
    /// <see cref="Parameter{T}.MarkChanged"/>).
    /// </summary>
    public void Resynchronize()
    {
        ParameterSet<T> ps = Network.Parameters;
        ps.MarkChanged();
        if (_adopted && HoldsAdoptedGradient(ps))
        {
            // a checkpoint's regulariser gradient was loaded with W, W̄ and λ: it is the cache, bit for bit
            _adopted = false;
            for (int p = 0; p < ps.Count; p++)
            {
                _synced[p] = ps[p].Version;
            }

            return;
        }

        BeginChunk();
    }

    /// <summary>
    /// True between chunks after an update: every parameter's Grad holds exactly the next chunk's
    /// regulariser gradient α(W − W̄) − λ as the fused update wrote it. A checkpoint saved then
    /// carries it (<c>fptt.gradient/NAME</c>, with its squared norms and the regulariser value),
    /// so that training resumed from the middle of an epoch continues bit for bit: recomputing it
    /// from W, W̄ and λ rounds differently from the fused update.
    /// </summary>
    public bool HoldsRegularizerGradient
    {
        get
        {
            if (!_prefilled || StepsRecorded != 0 || !double.IsFinite(_regularizer))
            {
                return false;
            }

            ParameterSet<T> ps = Network.Parameters;
            for (int p = 0; p < ps.Count; p++)
            {
                if (_synced[p] != ps[p].Version || !double.IsFinite(ps[p].GradNormSq))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>True while nothing has changed a parameter since the adopted gradient was loaded (the versions <see cref="Resynchronize"/> just bumped once).</summary>
    private bool HoldsAdoptedGradient(ParameterSet<T> ps)
    {
        for (int p = 0; p < ps.Count; p++)
        {
            if (ps[p].Version != _synced[p] + 1)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The regulariser value −⟨W, λ⟩ + (α/2)‖W − W̄‖² of the next chunk (as last computed).</summary>
    internal double Regularizer => _regularizer;

    /// <summary>
    /// After a checkpoint's W, W̄, λ and regulariser gradient were written into the buffers (and the
    /// parameters marked changed): takes that gradient, its squared norms and the regulariser value
    /// as the cache, instead of recomputing them.
    /// </summary>
    internal void AdoptRegularizerGradient(IReadOnlyList<double> gradNormSq, double regularizer)
    {
        ParameterSet<T> ps = Network.Parameters;
        ArgumentOutOfRangeException.ThrowIfNotEqual(gradNormSq.Count, ps.Count, nameof(gradNormSq));
        for (int p = 0; p < ps.Count; p++)
        {
            ps[p].GradNormSq = gradNormSq[p];
            ps[p].GradNormTracked = false;
            _synced[p] = ps[p].Version;
        }

        _regularizer = regularizer;
        _prefilled = true;
        _adopted = true;
    }

    /// <summary>The running average W̄ of parameter <paramref name="parameterIndex"/> (live buffer; call <see cref="Resynchronize"/> after writing).</summary>
    public T[] GetAverage(int parameterIndex) => _average[parameterIndex];

    /// <summary>The tracker λ of parameter <paramref name="parameterIndex"/> (live buffer; call <see cref="Resynchronize"/> after writing).</summary>
    public T[] GetLambda(int parameterIndex) => _lambda[parameterIndex];

    /// <summary>End of an epoch: W ← W̄ (the reference code's reset_named_params).</summary>
    public void EndEpoch()
    {
        ParameterSet<T> ps = Network.Parameters;
        for (int p = 0; p < ps.Count; p++)
        {
            _average[p].CopyTo(ps[p].Data, 0);
            ps[p].MarkChanged();
        }
    }

    /// <summary>
    /// Divergence repair: W ← W̄, λ ← 0 and the optimiser moments reset. Called automatically
    /// when <see cref="FpttOptions.DivergenceGuard"/> detects NaN/Inf; also usable directly.
    /// </summary>
    public void RestoreAverage()
    {
        ParameterSet<T> ps = Network.Parameters;
        for (int p = 0; p < ps.Count; p++)
        {
            if (!double.IsFinite(Kernels.SumOfSquares<T>(_average[p])))
            {
                // W̄ is only written after a finite step, so this means it was corrupted externally
                throw new InvalidOperationException($"the running average of {ps[p].Name} is not finite; cannot restore");
            }

            _average[p].CopyTo(ps[p].Data, 0);
            Array.Clear(_lambda[p]);
            Array.Clear(ps[p].Grad);
            ps[p].MarkChanged();
        }

        Optimizer!.ResetState();
    }

    /// <summary>Re-initialises W̄ ← W and λ ← 0 (e.g. after loading plain weights).</summary>
    public void ResetAverage()
    {
        ParameterSet<T> ps = Network.Parameters;
        for (int p = 0; p < ps.Count; p++)
        {
            ps[p].Data.CopyTo(_average[p], 0);
            Array.Clear(_lambda[p]);
        }
    }

    /// <summary>
    /// The next backward pass accumulates the task gradient on top of the regulariser gradient
    /// α(W − W̄) − λ, which the previous update left in Grad. Parameters changed since (epoch end,
    /// restore, checkpoint load: anything that calls MarkChanged) get it recomputed here.
    /// </summary>
    private protected override void BeginChunk()
    {
        _adopted = false; // a loaded regulariser gradient is kept by the Resynchronize right after the load only
        ParameterSet<T> ps = Network.Parameters;
        bool changed = false;
        for (int p = 0; p < ps.Count; p++)
        {
            if (ps[p].Version != _synced[p])
            {
                RefillRegularizerGradient(p);
                changed = true;
            }
        }

        if (changed)
        {
            _regularizer = 0;
            for (int p = 0; p < ps.Count; p++)
            {
                _regularizer += RegularizerValue(p);
            }
        }
    }

    private protected override ChunkReport ApplyUpdate(ChunkReport report)
    {
        ParameterSet<T> ps = Network.Parameters;
        Optimizer<T> opt = Optimizer!;

        // Grad = α(W − W̄) − λ + ∇l_k: the clip norm includes the regulariser gradient
        double normSq = 0;
        for (int p = 0; p < ps.Count; p++)
        {
            // sparse scatters (W_in with spike input) keep ‖Grad‖² up to date: no pass over the big matrix
            normSq += ps[p].GradNormTracked ? ps[p].GradNormSq : Kernels.SumOfSquares<T>(ps[p].Grad);
            ps[p].GradNormTracked = false;
        }

        double norm = Math.Sqrt(normSq);
        report = report with { Regularizer = _regularizer, GradientNorm = norm };
        if (Options.DivergenceGuard && (!double.IsFinite(report.Loss) || !double.IsFinite(normSq)))
        {
            RestoreAverage();
            return report with { Diverged = true };
        }

        double scale = ClipScale(norm);
        double reg = 0;
        if (SupportsRangedUpdate)
        {
            BeginRangedStep();
            if (UpdateWorkers is { } workers)
            {
                reg = SharedUpdate(workers, scale);
            }
            else
            {
                for (int p = 0; p < ps.Count; p++)
                {
                    reg += UpdateRange(p, 0, ps[p].Length, scale, out double gradSq);
                    ps[p].GradNormSq = gradSq;
                }
            }
        }
        else
        {
            reg = BlockStep(opt, scale);
        }

        for (int p = 0; p < ps.Count; p++)
        {
            ps[p].MarkChanged();
            _synced[p] = ps[p].Version;
        }

        _regularizer = reg;
        _prefilled = true;
        return report with { Updated = true };
    }

    /// <summary>The fused step split over <paramref name="workers"/>: every parameter's share s goes to thread s; the shares' sums are added in share order.</summary>
    private double SharedUpdate(UpdateWorkers workers, double scale)
    {
        ParameterSet<T> ps = Network.Parameters;
        int shares = workers.Threads;
        if (_shareReg.Length != shares * ps.Count)
        {
            _shareReg = new double[shares * ps.Count];
            _shareGradSq = new double[shares * ps.Count];
        }

        _shareScale = scale;
        workers.Run(this);
        double reg = 0;
        for (int p = 0; p < ps.Count; p++)
        {
            double r = 0;
            double g = 0;
            for (int s = 0; s < shares; s++)
            {
                r += _shareReg[(s * ps.Count) + p];
                g += _shareGradSq[(s * ps.Count) + p];
            }

            reg += r;
            ps[p].GradNormSq = g;
        }

        return reg;
    }

    /// <summary>Share <paramref name="share"/> of the fused step (run by <see cref="UpdateWorkers"/>).</summary>
    void IShareJob.RunShare(int share, int shares)
    {
        ParameterSet<T> ps = Network.Parameters;
        for (int p = 0; p < ps.Count; p++)
        {
            int length = ps[p].Length;
            int start;
            int end;
            if (length < MinSharedLength)
            {
                start = 0;
                end = share == 0 ? length : 0;
            }
            else
            {
                // boundaries on 64-byte multiples, so no two threads write the same cache line
                (start, end) = UpdateWorkers.Range(length, share, shares, 16);
            }

            int at = (share * ps.Count) + p;
            double gradSq = 0;
            _shareReg[at] = end > start ? UpdateRange(p, start, end - start, _shareScale, out gradSq) : 0;
            _shareGradSq[at] = gradSq;
        }
    }

    /// <summary>True when the step runs through the fused float kernels (Adam or Adamax), whose elements are independent: disjoint ranges may then be updated by different threads.</summary>
    internal bool SupportsRangedUpdate => typeof(T) == typeof(float) && Optimizer is Adam<T> or Adamax<T>;

    /// <summary>Starts a fused step: the optimiser's step count and constants (call once, then <see cref="UpdateRange"/> over every element).</summary>
    internal void BeginRangedStep()
    {
        Optimizer<T> opt = Optimizer!;
        opt.BeginStep();
        _step = new FpttStepConstants(
            1,
            0,
            (float)Options.Alpha,
            (float)(1 - Options.Beta),
            (float)Options.Beta,
            (float)(Options.Beta / Options.Alpha));
        if (opt is Adam<T> adam)
        {
            _step = _step with { WeightDecay = (float)adam.WeightDecay };
            _adam = new AdamRule((float)(1 - adam.Beta1), (float)adam.Beta2, (float)(1 - adam.Beta2), float.CreateTruncating(adam.Bc2Sqrt), (float)adam.Epsilon, -float.CreateTruncating(adam.StepSize));
        }
        else if (opt is Adamax<T> adamax)
        {
            _step = _step with { WeightDecay = (float)adamax.WeightDecay };
            _adamax = new AdamaxRule((float)(1 - adamax.Beta1), (float)adamax.Beta2, (float)adamax.Epsilon, -float.CreateTruncating(adamax.StepSize));
        }
    }

    /// <summary>
    /// The fused optimiser + FPTT step of elements [<paramref name="start"/>, start + <paramref name="length"/>) of
    /// parameter <paramref name="p"/> (after <see cref="BeginRangedStep"/>) on the gradient scaled by
    /// <paramref name="clipScale"/>; returns their share of the next regulariser value and, in
    /// <paramref name="gradSq"/>, of ‖G‖² of the pre-filled regulariser gradient.
    /// </summary>
    internal double UpdateRange(int p, int start, int length, double clipScale, out double gradSq)
    {
        FpttStepConstants c = _step with { Scale = (float)clipScale };
        Parameter<T> par = Network.Parameters[p];
        Optimizer<T> opt = Optimizer!;
        Span<float> w = MemoryMarshal.Cast<T, float>(par.Data.AsSpan(start, length));
        Span<float> g = MemoryMarshal.Cast<T, float>(par.Grad.AsSpan(start, length));
        Span<float> m = MemoryMarshal.Cast<T, float>(opt.GetState(0, p).AsSpan(start, length));
        Span<float> v = MemoryMarshal.Cast<T, float>(opt.GetState(1, p).AsSpan(start, length));
        Span<float> bar = MemoryMarshal.Cast<T, float>(_average[p].AsSpan(start, length));
        Span<float> lam = MemoryMarshal.Cast<T, float>(_lambda[p].AsSpan(start, length));
        return opt is Adam<T>
            ? FusedUpdate.Fptt(w, g, m, v, bar, lam, c, _adam, out gradSq)
            : FusedUpdate.Fptt(w, g, m, v, bar, lam, c, _adamax, out gradSq);
    }

    /// <summary>
    /// Ends a step whose elements were all updated through <see cref="UpdateRange"/> (by any threads):
    /// <paramref name="regularizer"/> is the sum of their regulariser shares. The gradients' norms are
    /// no longer tracked (the next clip norm is recomputed from Grad).
    /// </summary>
    internal ChunkReport CompleteRangedStep(ChunkReport report, double regularizer)
    {
        ParameterSet<T> ps = Network.Parameters;
        report = report with { Regularizer = _regularizer, Updated = true };
        for (int p = 0; p < ps.Count; p++)
        {
            ps[p].GradNormTracked = false;
            ps[p].MarkChanged();
            _synced[p] = ps[p].Version;
        }

        _regularizer = regularizer;
        _prefilled = true;
        return report;
    }

    /// <summary>Divergence found outside <see cref="Learner{T}.EndChunk"/> (data-parallel step): W ← W̄, λ ← 0, moments reset, as the guard does.</summary>
    internal ChunkReport RestoreAfterDivergence(ChunkReport report)
    {
        report = report with { Regularizer = _regularizer };
        RestoreAverage();
        return report with { Diverged = true };
    }

    /// <summary>Any optimiser: its step block by block, then the FPTT updates on the block while it is in cache.</summary>
    private double BlockStep(Optimizer<T> opt, double clipScale)
    {
        ParameterSet<T> ps = Network.Parameters;
        T alpha = T.CreateTruncating(Options.Alpha);
        T negAlpha = -alpha;
        T oneMinusBeta = T.CreateTruncating(1 - Options.Beta);
        T beta = T.CreateTruncating(Options.Beta);
        T betaOverAlpha = T.CreateTruncating(Options.Beta / Options.Alpha);
        T scale = T.CreateTruncating(clipScale);
        Span<T> d = _tmp;
        double reg = 0;
        opt.BeginStep();
        for (int p = 0; p < ps.Count; p++)
        {
            Parameter<T> par = ps[p];
            for (int off = 0; off < par.Length; off += Optimizer<T>.Block)
            {
                int len = Math.Min(Optimizer<T>.Block, par.Length - off);
                opt.UpdateRange(p, off, len, scale);
                Span<T> w = par.Data.AsSpan(off, len);
                Span<T> wbar = _average[p].AsSpan(off, len);
                Span<T> lam = _lambda[p].AsSpan(off, len);
                Span<T> g = par.Grad.AsSpan(off, len);
                Span<T> dd = d[..len];

                // λ ← λ − α (W − W̄)
                TensorPrimitives.Subtract(w, wbar, dd);
                TensorPrimitives.MultiplyAdd(dd, negAlpha, lam, lam);

                // W̄ ← (1 − β) W̄ + (β W − (β/α) λ)
                TensorPrimitives.Multiply(w, beta, dd);
                TensorPrimitives.MultiplyAdd(lam, -betaOverAlpha, dd, dd);
                TensorPrimitives.Multiply(wbar, oneMinusBeta, wbar);
                TensorPrimitives.Add(wbar, dd, wbar);

                // next chunk's regulariser gradient α(W − W̄) − λ and value −⟨W, λ⟩ + (α/2)‖W − W̄‖²
                TensorPrimitives.Subtract(w, wbar, dd);
                reg += (0.5 * Options.Alpha * Kernels.SumOfSquares<T>(dd)) - double.CreateTruncating(TensorPrimitives.Dot<T>(w, lam));
                TensorPrimitives.Multiply(dd, alpha, g);
                TensorPrimitives.Subtract(g, lam, g);
            }

            par.GradNormSq = Kernels.SumOfSquares<T>(par.Grad);
        }

        return reg;
    }

    private void RefillRegularizerGradient(int p)
    {
        Parameter<T> par = Network.Parameters[p];
        T alpha = T.CreateTruncating(Options.Alpha);
        Span<T> g = par.Grad;
        TensorPrimitives.Subtract(par.Data, _average[p], g);
        TensorPrimitives.Multiply(g, alpha, g);
        TensorPrimitives.Subtract(g, _lambda[p], g);
        par.GradNormSq = Kernels.SumOfSquares<T>(g);
        par.GradNormTracked = false;
        _synced[p] = par.Version;
    }

    private double RegularizerValue(int p)
    {
        Parameter<T> par = Network.Parameters[p];
        double reg = 0;
        for (int i = 0; i < par.Length; i++)
        {
            double w = double.CreateTruncating(par.Data[i]);
            double d = w - double.CreateTruncating(_average[p][i]);
            reg += (0.5 * Options.Alpha * d * d) - (w * double.CreateTruncating(_lambda[p][i]));
        }

        return reg;
    }
}
