using System.Numerics;
using System.Numerics.Tensors;
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
public sealed class FpttLearner<T> : Learner<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] _average;
    private readonly T[][] _lambda;
    private readonly T[] _tmp = new T[Optimizer<T>.Block];

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
        for (int p = 0; p < ps.Count; p++)
        {
            _average[p] = (T[])ps[p].Data.Clone();
            _lambda[p] = new T[ps[p].Length];
        }
    }

    /// <summary>Hyper-parameters.</summary>
    public FpttOptions Options { get; }

    /// <summary>Bytes of the FPTT state (W̄ and λ).</summary>
    public long StateBytes => 2 * Network.Parameters.TotalLength * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();

    /// <summary>The running average W̄ of parameter <paramref name="parameterIndex"/> (live buffer).</summary>
    public T[] GetAverage(int parameterIndex) => _average[parameterIndex];

    /// <summary>The tracker λ of parameter <paramref name="parameterIndex"/> (live buffer).</summary>
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

    private protected override ChunkReport ApplyUpdate(ChunkReport report)
    {
        ParameterSet<T> ps = Network.Parameters;
        Optimizer<T> opt = Optimizer!;
        T alpha = T.CreateTruncating(Options.Alpha);
        T negAlpha = -alpha;
        T oneMinusBeta = T.CreateTruncating(1 - Options.Beta);
        T beta = T.CreateTruncating(Options.Beta);
        T betaOverAlpha = T.CreateTruncating(Options.Beta / Options.Alpha);
        double halfAlpha = 0.5 * Options.Alpha;

        // pass 1: add the regulariser gradient −λ + α (W − W̄), measure the norm
        double normSq = 0;
        double reg = 0;
        Span<T> tmp = _tmp;
        for (int p = 0; p < ps.Count; p++)
        {
            Parameter<T> par = ps[p];
            for (int off = 0; off < par.Length; off += Optimizer<T>.Block)
            {
                int len = Math.Min(Optimizer<T>.Block, par.Length - off);
                Span<T> w = par.Data.AsSpan(off, len);
                Span<T> g = par.Grad.AsSpan(off, len);
                Span<T> wbar = _average[p].AsSpan(off, len);
                Span<T> lam = _lambda[p].AsSpan(off, len);
                Span<T> d = tmp[..len];
                TensorPrimitives.Subtract(w, wbar, d);
                reg += (halfAlpha * Kernels.SumOfSquares<T>(d)) - double.CreateTruncating(TensorPrimitives.Dot<T>(w, lam));
                TensorPrimitives.MultiplyAdd(d, alpha, g, g);
                TensorPrimitives.Subtract(g, lam, g);
                normSq += Kernels.SumOfSquares<T>(g);
            }
        }

        double norm = Math.Sqrt(normSq);
        report = report with { Regularizer = reg, GradientNorm = norm };
        if (Options.DivergenceGuard && (!double.IsFinite(report.Loss) || !double.IsFinite(normSq)))
        {
            RestoreAverage();
            return report with { Diverged = true };
        }

        // pass 2, block-fused: optimiser step, λ and W̄ updates, gradient reset
        T scale = T.CreateTruncating(ClipScale(norm));
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
                Span<T> d = tmp[..len];

                // λ ← λ − α (W − W̄)
                TensorPrimitives.Subtract(w, wbar, d);
                TensorPrimitives.MultiplyAdd(d, negAlpha, lam, lam);

                // W̄ ← (1 − β) W̄ + (β W − (β/α) λ)
                TensorPrimitives.Multiply(w, beta, d);
                TensorPrimitives.MultiplyAdd(lam, -betaOverAlpha, d, d);
                TensorPrimitives.Multiply(wbar, oneMinusBeta, wbar);
                TensorPrimitives.Add(wbar, d, wbar);
                par.Grad.AsSpan(off, len).Clear();
            }

            par.MarkChanged();
        }

        return report with { Updated = true };
    }
}
