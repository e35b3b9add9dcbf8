using System.Numerics;

namespace EventSnn.Snn;

/// <summary>Base of the plain gradient learners (no FPTT regulariser).</summary>
/// <typeparam name="T">Element type.</typeparam>
public abstract class GradientLearner<T> : Learner<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private protected GradientLearner(Network<T> network, Optimizer<T> optimizer, int batch, int capacity, double gradientClip)
        : base(network, optimizer ?? throw new ArgumentNullException(nameof(optimizer)), batch, capacity, gradientClip)
    {
    }

    /// <summary>
    /// <paramref name="online"/>: see <see cref="Learner{T}"/>. An online learner without an optimiser
    /// only computes gradients (<see cref="GradientOnly"/>), e.g. for one slice of a data-parallel batch.
    /// </summary>
    private protected GradientLearner(Network<T> network, Optimizer<T>? optimizer, int batch, int capacity, double gradientClip, bool online)
        : base(network, optimizer ?? (online ? null : throw new ArgumentNullException(nameof(optimizer))), batch, capacity, gradientClip, online)
    {
        GradientOnly = optimizer is null;
    }

    /// <summary>Test hook: keep the gradient in Parameter.Grad and apply no step.</summary>
    internal bool GradientOnly { get; set; }

    /// <summary>Detect NaN/Inf loss or gradients: skip the step and reset the optimiser (default on).</summary>
    public bool DivergenceGuard { get; set; } = true;

    private protected override ChunkReport ApplyUpdate(ChunkReport report)
    {
        ParameterSet<T> ps = Network.Parameters;
        Optimizer<T> opt = Optimizer!;
        double normSq = 0;
        for (int p = 0; p < ps.Count; p++)
        {
            normSq += Internal.Kernels.SumOfSquares<T>(ps[p].Grad);
            ps[p].GradNormTracked = false;
            ps[p].GradNormSq = 0;
        }

        double norm = Math.Sqrt(normSq);
        report = report with { GradientNorm = norm };
        if (GradientOnly)
        {
            return report;
        }

        if (DivergenceGuard && (!double.IsFinite(report.Loss) || !double.IsFinite(normSq)))
        {
            ps.ZeroGrad();
            opt.ResetState();
            OnDiverged();
            return report with { Diverged = true };
        }

        T scale = T.CreateTruncating(ClipScale(norm));
        opt.BeginStep();
        for (int p = 0; p < ps.Count; p++)
        {
            Parameter<T> par = ps[p];
            for (int off = 0; off < par.Length; off += Optimizer<T>.Block)
            {
                int len = Math.Min(Optimizer<T>.Block, par.Length - off);
                opt.UpdateRange(p, off, len, scale);
                par.Grad.AsSpan(off, len).Clear();
            }

            par.MarkChanged();
        }

        return report with { Updated = true };
    }

    /// <summary>Called when a diverged step was skipped (the chunk's state is reset afterwards).</summary>
    private protected virtual void OnDiverged()
    {
    }
}

/// <summary>
/// Full backpropagation through time: the whole sequence (up to <see cref="Learner{T}.Capacity"/>
/// steps) is one chunk; call <see cref="Learner{T}.EndChunk"/> at the end of the sequence.
/// Memory grows with the sequence length.
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class BpttLearner<T> : GradientLearner<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the learner for sequences of up to <paramref name="maxSteps"/> steps.</summary>
    public BpttLearner(Network<T> network, Optimizer<T> optimizer, int batch, int maxSteps, double gradientClip = 1.0)
        : base(network, optimizer, batch, maxSteps, gradientClip)
    {
    }
}

/// <summary>
/// Truncated BPTT: an update every <see cref="Learner{T}.Capacity"/> steps with gradients
/// truncated at the window boundary (the state is carried, detached).
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class TruncatedBpttLearner<T> : GradientLearner<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the learner with the given truncation length.</summary>
    public TruncatedBpttLearner(Network<T> network, Optimizer<T> optimizer, int batch, int truncation, double gradientClip = 1.0)
        : base(network, optimizer, batch, truncation, gradientClip)
    {
        AutoUpdate = true;
    }
}
