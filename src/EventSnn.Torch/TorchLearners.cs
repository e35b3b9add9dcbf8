using EventSnn.Snn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace EventSnn.Torch;

/// <summary>
/// Base of the TorchSharp learners, with the managed <see cref="Learner{T}"/>'s protocol:
/// <c>Observe</c> runs one forward step with autograd and adds its loss to the chunk's,
/// <see cref="EndChunk"/> back-propagates through the chunk (autograd, surrogate in place of H')
/// and applies the learner's update with a torch.optim optimiser. The state entering a chunk is
/// detached, so gradients never cross chunk boundaries. Steps run in the network's training mode
/// (running statistics updated, batch normalisation on the batch's statistics, spike dropout with
/// masks from the learner's generator, seeded like the managed learner's so that both draw the same
/// masks). Per step, every temporary tensor lives in
/// a dispose scope; only the state and the running chunk loss survive the step (the autograd
/// graph holds what backward needs), and <see cref="EndChunk"/> frees the graph.
/// </summary>
public abstract class TorchLearner : IDisposable
{
    private readonly DropoutGenerators? _dropout;
    private TorchState? _chunkState;
    private Tensor? _chunkLoss;
    private float[][]? _captured;
    private bool _disposed;

    private protected TorchLearner(TorchNetwork network, TorchOptimizerOptions optimizer, int batch, int capacity, double gradientClip)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Network = network;
        OptimizerOptions = optimizer;
        Optimizer = optimizer.Create(network.Parameters);
        Batch = batch;
        Capacity = capacity;
        GradientClip = gradientClip;

        // the managed learner's mask generators (its chunk tape's): one per stream, same seeds, same order of draws
        _dropout = network.Config.Dropout > 0 ? new DropoutGenerators(batch, DropoutGenerators.SeedOf(network.Config)) : null;
    }

    /// <summary>The network trained.</summary>
    public TorchNetwork Network { get; }

    /// <summary>The torch.optim optimiser.</summary>
    public OptimizerHelper Optimizer { get; private set; }

    /// <summary>Its hyper-parameters.</summary>
    public TorchOptimizerOptions OptimizerOptions { get; }

    /// <summary>Streams per step B.</summary>
    public int Batch { get; }

    /// <summary>Maximum steps per chunk.</summary>
    public int Capacity { get; }

    /// <summary>Global gradient-norm clip (≤ 0 disables), torch.nn.utils.clip_grad_norm_.</summary>
    public double GradientClip { get; }

    /// <summary>When true, <c>Observe</c> ends the chunk automatically when it is full.</summary>
    public bool AutoUpdate { get; set; }

    /// <summary>Steps recorded in the current chunk.</summary>
    public int StepsRecorded { get; private set; }

    /// <summary>Result of the last chunk.</summary>
    public ChunkReport LastReport { get; private set; }

    /// <summary>Chunks in which divergence (NaN/Inf) was detected and repaired.</summary>
    public int DivergenceCount { get; private set; }

    /// <summary>Detect NaN/Inf loss or gradients and skip the step (default on).</summary>
    public bool DivergenceGuard { get; set; } = true;

    /// <summary>
    /// When true, <see cref="EndChunk"/> keeps a copy of every parameter's gradient of the full
    /// chunk loss (before clipping) for <see cref="CapturedGradient"/> (cross-checks).
    /// </summary>
    public bool CaptureGradients { get; set; }

    /// <summary>Gradient of parameter <paramref name="index"/> captured by the last <see cref="EndChunk"/>.</summary>
    public float[] CapturedGradient(int index) =>
        _captured?[index] ?? throw new InvalidOperationException("no gradient captured: set CaptureGradients before EndChunk");

    /// <summary>Steps the optimiser has taken.</summary>
    public long StepCount => TorchOptimizerState.StepCount(Optimizer);

    /// <summary>
    /// Records one step of <paramref name="state"/> on <paramref name="input"/> with its loss
    /// target (the managed <see cref="StepTarget{T}"/>); writes the readout into
    /// <paramref name="output"/> when given. All steps of a chunk must use the same state.
    /// </summary>
    public void Observe(in StepInput<float> input, in StepTarget<float> target, TorchState state, Span<float> output = default)
    {
        BeforeStep(state);
        using var scope = NewDisposeScope();
        Tensor o = Network.Forward(input, state, training: true, _dropout);
        if (!output.IsEmpty)
        {
            o.data<float>().CopyTo(output, 0, 0);
        }

        if (target.Active)
        {
            AddLoss(StepLoss(o, target, state.Batch));
        }

        AfterStep();
    }

    /// <summary>
    /// Records one step on a dense input tensor [B, D] with an optional loss function of the
    /// readout (returns a scalar tensor or null for no loss at this step).
    /// </summary>
    public void Observe(Tensor input, TorchState state, Func<Tensor, Tensor?>? loss)
    {
        ArgumentNullException.ThrowIfNull(input);
        BeforeStep(state);
        using var scope = NewDisposeScope();
        Tensor o = Network.Forward(input, state, training: true, _dropout);
        if (loss?.Invoke(o) is Tensor l)
        {
            AddLoss(l);
        }

        AfterStep();
    }

    /// <summary>Back-propagates through the recorded chunk and applies the update; returns the report.</summary>
    public ChunkReport EndChunk()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int steps = StepsRecorded;
        if (steps == 0)
        {
            return default;
        }

        ChunkReport report;
        using (var scope = NewDisposeScope())
        {
            double loss = _chunkLoss is null ? 0 : _chunkLoss.item<float>();
            Tensor? objective = _chunkLoss;
            Tensor? reg = Regularizer();
            if (reg is not null)
            {
                objective = objective is null ? reg : objective.add(reg);
            }

            if (objective is not null && objective.requires_grad)
            {
                objective.backward();
            }

            foreach (Parameter p in Network.Parameters)
            {
                if (p.grad is null)
                {
                    // never reached by the loss (e.g. W_rho of a beta = 0 layer): a zero gradient, as the managed engine has
                    p.grad = zeros_like(p).DetachFromDisposeScope();
                }
            }

            Capture();
            report = new ChunkReport { Steps = steps, Loss = loss, Regularizer = reg is null ? 0 : reg.item<float>() };
            report = Update(report);
            Optimizer.zero_grad();
        }

        _chunkLoss?.Dispose();
        _chunkLoss = null;
        StepsRecorded = 0;
        _chunkState?.Detach();
        if (report.Diverged)
        {
            DivergenceCount++;
            if (_chunkState is not null)
            {
                Network.ResetState(_chunkState);
            }
        }

        LastReport = report;
        return report;
    }

    /// <summary>Test hook: restarts the dropout masks' generator (as the managed learner's ReseedDropout).</summary>
    internal void ReseedDropout(long seed) => _dropout?.Reseed(seed);

    /// <summary>Drops the recorded steps without an update (nothing to do when no step is recorded).</summary>
    public void DiscardChunk()
    {
        if (StepsRecorded == 0)
        {
            // the last chunk's state may already be disposed (TorchTrainer disposes it after the batch)
            return;
        }

        _chunkLoss?.Dispose();
        _chunkLoss = null;
        StepsRecorded = 0;
        _chunkState?.Detach();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the optimiser and any pending chunk.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (disposing)
        {
            _chunkLoss?.Dispose();
            Optimizer.Dispose();
        }
    }

    /// <summary>The loss of one step: weight · NLL(log_softmax) (+ oracle term) or weight · MSE, as the managed engine.</summary>
    internal static Tensor StepLoss(Tensor output, in StepTarget<float> target, int batch)
    {
        int classes = (int)output.shape[1];
        if (target.Kind == LossKind.Classification)
        {
            if (target.Labels.Length < batch)
            {
                throw new ArgumentException($"classification target needs {batch} labels");
            }

            var labels = new long[batch];
            for (int b = 0; b < batch; b++)
            {
                int y = target.Labels[b];
                if ((uint)y >= (uint)classes)
                {
                    throw new ArgumentOutOfRangeException(nameof(target), $"label {y} outside [0, {classes})");
                }

                labels[b] = y;
            }

            Tensor logp = F.log_softmax(output, 1);
            Tensor y1 = tensor(labels, ScalarType.Int64).unsqueeze(1);
            Tensor loss = logp.gather(1, y1).mean().mul(-target.Weight);
            if (target.OracleWeight != 0 && !target.Oracle.IsEmpty)
            {
                Tensor q = empty([batch, classes], ScalarType.Float32);
                q.data<float>().CopyFrom(target.Oracle[..(batch * classes)], 0, 0);
                loss = loss.add(q.mul(logp).mean().mul(-target.OracleWeight));
            }

            return loss;
        }

        if (target.Values.Length < batch * classes)
        {
            throw new ArgumentException($"regression target needs {batch * classes} values");
        }

        Tensor v = empty([batch, classes], ScalarType.Float32);
        v.data<float>().CopyFrom(target.Values[..(batch * classes)], 0, 0);
        return output.sub(v).square().mean().mul(target.Weight);
    }

    /// <summary>The regulariser added to the chunk loss before backward (null for none).</summary>
    private protected virtual Tensor? Regularizer() => null;

    /// <summary>The update after backward (gradients in the parameters' grad).</summary>
    private protected abstract ChunkReport Update(ChunkReport report);

    /// <summary>Replaces the optimiser by a fresh one (divergence repair).</summary>
    private protected void ResetOptimizer()
    {
        Optimizer.Dispose();
        Optimizer = OptimizerOptions.Create(Network.Parameters);
    }

    /// <summary>Clips the global gradient norm (if enabled) and returns the norm before clipping.</summary>
    private protected double ClipGradients()
    {
        if (GradientClip > 0)
        {
            return nn.utils.clip_grad_norm_(Network.Parameters, GradientClip);
        }

        double sum = 0;
        foreach (Parameter p in Network.Parameters)
        {
            using Tensor g = p.grad!;
            using Tensor sq = g.square().sum();
            sum += sq.item<float>();
        }

        return Math.Sqrt(sum);
    }

    private void BeforeStep(TorchState state)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(state);
        if (state.Batch != Batch)
        {
            throw new ArgumentException($"state batch {state.Batch} differs from the learner's {Batch}", nameof(state));
        }

        if (StepsRecorded == Capacity)
        {
            if (!AutoUpdate)
            {
                throw new InvalidOperationException($"the chunk is full ({Capacity} steps): call EndChunk");
            }

            EndChunk();
        }

        if (StepsRecorded == 0)
        {
            _chunkState = state;
            state.Detach();
        }
        else if (!ReferenceEquals(state, _chunkState))
        {
            throw new ArgumentException("all steps of a chunk must use the same state", nameof(state));
        }
    }

    private void AfterStep()
    {
        StepsRecorded++;
        if (AutoUpdate && StepsRecorded == Capacity)
        {
            EndChunk();
        }
    }

    private void AddLoss(Tensor loss)
    {
        Tensor sum = _chunkLoss is null ? loss.alias() : _chunkLoss.add(loss);
        sum.DetachFromDisposeScope();
        _chunkLoss?.Dispose();
        _chunkLoss = sum;
    }

    private void Capture()
    {
        if (!CaptureGradients)
        {
            return;
        }

        IReadOnlyList<Parameter> ps = Network.Parameters;
        _captured ??= new float[ps.Count][];
        for (int i = 0; i < ps.Count; i++)
        {
            _captured[i] = new float[ps[i].numel()];
            using Tensor g = ps[i].grad!;
            TorchState.ToArray(g, _captured[i]);
        }
    }
}

/// <summary>
/// FPTT with autograd, the same equations and order as the managed <see cref="FpttLearner{T}"/>:
/// per chunk, backward of <c>l_k − Σ⟨W, λ⟩ + (α/2) Σ‖W − W̄‖²</c>, global-norm clip of the whole
/// gradient (regulariser included), ONE torch.optim step, then <c>λ ← λ − α (W − W̄)</c> and
/// <c>W̄ ← (1 − β) W̄ + β W − (β/α) λ</c>; <see cref="EndEpoch"/> sets W ← W̄.
/// </summary>
public sealed class TorchFpttLearner : TorchLearner
{
    private readonly Tensor[] _average;
    private readonly Tensor[] _lambda;

    /// <summary>Creates the learner (W̄ = W, λ = 0).</summary>
    public TorchFpttLearner(TorchNetwork network, TorchOptimizerOptions optimizer, FpttOptions options, int batch, int chunkLength)
        : base(network, optimizer, batch, chunkLength, options?.GradientClip ?? 1.0)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Alpha <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "FPTT needs alpha > 0");
        }

        Options = options;
        IReadOnlyList<Parameter> ps = network.Parameters;
        _average = new Tensor[ps.Count];
        _lambda = new Tensor[ps.Count];
        using var noGrad = no_grad();
        for (int i = 0; i < ps.Count; i++)
        {
            _average[i] = ps[i].detach().clone().DetachFromDisposeScope();
            _lambda[i] = zeros_like(ps[i]).DetachFromDisposeScope();
        }
    }

    /// <summary>Hyper-parameters.</summary>
    public FpttOptions Options { get; }

    /// <summary>W̄ of parameter <paramref name="index"/> (owned by the learner).</summary>
    public Tensor Average(int index) => _average[index];

    /// <summary>λ of parameter <paramref name="index"/> (owned by the learner).</summary>
    public Tensor Lambda(int index) => _lambda[index];

    /// <summary>End of a training epoch: W ← W̄ (the reference's reset_named_params).</summary>
    public void EndEpoch()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (int i = 0; i < _average.Length; i++)
        {
            Network.Parameters[i].copy_(_average[i]);
        }
    }

    /// <summary>Divergence repair: W ← W̄, λ ← 0, fresh optimiser state.</summary>
    public void RestoreAverage()
    {
        using (var noGrad = no_grad())
        using (var scope = NewDisposeScope())
        {
            for (int i = 0; i < _average.Length; i++)
            {
                Network.Parameters[i].copy_(_average[i]);
                _lambda[i].zero_();
            }
        }

        ResetOptimizer();
    }

    /// <summary>Copies W̄ and λ from a managed learner over a network with the same layout.</summary>
    public void CopyFrom(FpttLearner<float> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var noGrad = no_grad();
        for (int i = 0; i < _average.Length; i++)
        {
            _average[i].data<float>().CopyFrom(source.GetAverage(i), 0, 0);
            _lambda[i].data<float>().CopyFrom(source.GetLambda(i), 0, 0);
        }
    }

    /// <summary>Copies W̄ and λ into a managed learner over a network with the same layout (and resynchronises it).</summary>
    public void CopyTo(FpttLearner<float> target)
    {
        ArgumentNullException.ThrowIfNull(target);
        for (int i = 0; i < _average.Length; i++)
        {
            TorchState.ToArray(_average[i], target.GetAverage(i));
            TorchState.ToArray(_lambda[i], target.GetLambda(i));
        }

        target.Resynchronize();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (Tensor t in _average)
            {
                t.Dispose();
            }

            foreach (Tensor t in _lambda)
            {
                t.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private protected override Tensor? Regularizer()
    {
        Tensor? reg = null;
        IReadOnlyList<Parameter> ps = Network.Parameters;
        for (int i = 0; i < ps.Count; i++)
        {
            Tensor term = ps[i].sub(_average[i]).square().sum().mul(0.5 * Options.Alpha).sub(ps[i].mul(_lambda[i]).sum());
            reg = reg is null ? term : reg.add(term);
        }

        return reg;
    }

    private protected override ChunkReport Update(ChunkReport report)
    {
        double norm = ClipGradients();
        report = report with { GradientNorm = norm };
        if (Options.DivergenceGuard && (!double.IsFinite(report.Loss) || !double.IsFinite(norm)))
        {
            RestoreAverage();
            return report with { Diverged = true };
        }

        Optimizer.step();
        using var noGrad = no_grad();
        IReadOnlyList<Parameter> ps = Network.Parameters;
        double alpha = Options.Alpha;
        double beta = Options.Beta;
        for (int i = 0; i < ps.Count; i++)
        {
            // λ ← λ − α (W − W̄);  W̄ ← (1 − β) W̄ + β W − (β/α) λ
            _lambda[i].sub_(ps[i].sub(_average[i]).mul(alpha));
            _average[i].mul_(1 - beta).add_(ps[i].mul(beta).sub(_lambda[i].mul(beta / alpha)));
        }

        return report with { Updated = true };
    }
}

/// <summary>
/// Full BPTT with autograd (one chunk = the sequence, up to <see cref="TorchLearner.Capacity"/>
/// steps), like the managed <see cref="BpttLearner{T}"/>: backward, global-norm clip, one
/// optimiser step, gradients cleared. With <see cref="TorchLearner.AutoUpdate"/> it is truncated BPTT.
/// </summary>
public sealed class TorchBpttLearner : TorchLearner
{
    /// <summary>Creates the learner for sequences of up to <paramref name="maxSteps"/> steps.</summary>
    public TorchBpttLearner(TorchNetwork network, TorchOptimizerOptions optimizer, int batch, int maxSteps, double gradientClip = 1.0)
        : base(network, optimizer, batch, maxSteps, gradientClip)
    {
    }

    private protected override ChunkReport Update(ChunkReport report)
    {
        double norm = ClipGradients();
        report = report with { GradientNorm = norm };
        if (DivergenceGuard && (!double.IsFinite(report.Loss) || !double.IsFinite(norm)))
        {
            ResetOptimizer();
            return report with { Diverged = true };
        }

        Optimizer.step();
        return report with { Updated = true };
    }
}
