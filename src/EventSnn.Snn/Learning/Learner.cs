using System.Numerics;
using System.Runtime.CompilerServices;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn;

/// <summary>Outcome of one chunk update.</summary>
public readonly record struct ChunkReport
{
    /// <summary>Steps in the chunk.</summary>
    public int Steps { get; init; }

    /// <summary>Weighted task loss of the chunk, l_k (without the FPTT regulariser).</summary>
    public double Loss { get; init; }

    /// <summary>FPTT regulariser value −⟨W, λ⟩ + (α/2)‖W − W̄‖² before the step (0 for other learners).</summary>
    public double Regularizer { get; init; }

    /// <summary>Global gradient norm before clipping.</summary>
    public double GradientNorm { get; init; }

    /// <summary>True when an optimiser step was applied.</summary>
    public bool Updated { get; init; }

    /// <summary>True when NaN/Inf was detected; the step was skipped and parameters restored.</summary>
    public bool Diverged { get; init; }
}

/// <summary>
/// Base of the learners: records forward steps of a chunk into a preallocated tape
/// (<see cref="Observe"/>), then <see cref="EndChunk"/> runs the hand-written BPTT through
/// the chunk (exact gradients of the chunk loss through all equations, surrogate in place of
/// H') and applies the learner's update. The state entering a chunk is treated as a constant
/// (detached), so gradients never cross chunk boundaries. After warm-up nothing is
/// allocated per step.
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public abstract class Learner<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ChunkTape<T> _tape;
    private readonly bool _online;
    private NetworkState<T>? _chunkState;
    private double _chunkLoss;
    private int _firstStream;
    private int _onlineSteps;

    private protected Learner(Network<T> network, Optimizer<T>? optimizer, int batch, int capacity, double gradientClip)
        : this(network, optimizer, batch, capacity, gradientClip, online: false)
    {
    }

    /// <summary>
    /// <paramref name="online"/>: the learner handles every step as it is observed
    /// (<see cref="OnlineStep"/>) on a one-step tape, and <paramref name="capacity"/> is the number
    /// of steps between updates, not a tape length.
    /// </summary>
    private protected Learner(Network<T> network, Optimizer<T>? optimizer, int batch, int capacity, double gradientClip, bool online)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        if (optimizer is not null && !ReferenceEquals(optimizer.Parameters, network.Parameters))
        {
            throw new ArgumentException("the optimiser must be built on network.Parameters", nameof(optimizer));
        }

        Network = network;
        Optimizer = optimizer;
        Batch = batch;
        Capacity = capacity;
        GradientClip = gradientClip;
        _online = online;
        _tape = new ChunkTape<T>(network, batch, online ? 1 : capacity);
        network.Parameters.ZeroGrad();
    }

    /// <summary>The network trained.</summary>
    public Network<T> Network { get; }

    /// <summary>The optimiser (null for gradient-only use).</summary>
    public Optimizer<T>? Optimizer { get; }

    /// <summary>Streams per step B.</summary>
    public int Batch { get; }

    /// <summary>Maximum steps per chunk (tape capacity).</summary>
    public int Capacity { get; }

    /// <summary>Global gradient-norm clip (≤ 0 disables), as torch.nn.utils.clip_grad_norm_.</summary>
    public double GradientClip { get; }

    /// <summary>When true, <see cref="Observe"/> ends the chunk automatically when the tape is full.</summary>
    public bool AutoUpdate { get; set; }

    /// <summary>Steps recorded in the current chunk.</summary>
    public int StepsRecorded => _online ? _onlineSteps : _tape.Count;

    /// <summary>Result of the last chunk.</summary>
    public ChunkReport LastReport { get; private set; }

    /// <summary>Number of chunks where divergence (NaN/Inf) was detected and repaired.</summary>
    public int DivergenceCount { get; private set; }

    /// <summary>Raised after a chunk in which divergence was detected (after the repair).</summary>
    public event Action<ChunkReport>? Diverged;

    /// <summary>Bytes of the activation tape (capacity x batch x widths).</summary>
    public long TapeBytes => _tape.Bytes;

    /// <summary>Bytes of the parameter gradients.</summary>
    public long GradientBytes => Network.Parameters.TotalLength * Unsafe.SizeOf<T>();

    /// <summary>The learner's working memory: activation tape, gradients and eligibility traces.</summary>
    public long WorkingMemoryBytes => TapeBytes + GradientBytes + TraceBytes;

    /// <summary>Bytes of the learner's own state besides the tape and the gradients (the eligibility traces of the online learners; 0 for the tape learners).</summary>
    public virtual long TraceBytes => 0;

    /// <summary>The one-step (online learners) or chunk tape.</summary>
    private protected ChunkTape<T> Tape => _tape;

    /// <summary>
    /// Records one forward step of <paramref name="state"/> on <paramref name="input"/> with its
    /// loss target; writes the readout into <paramref name="output"/> when given. All steps of
    /// a chunk must use the same state object.
    /// </summary>
    public void Observe(in StepInput<T> input, in StepTarget<T> target, NetworkState<T> state, Span<T> output = default)
    {
        using DenormalScope flush = DenormalScope.Enter();
        ArgumentNullException.ThrowIfNull(state);
        if (state.Batch != Batch)
        {
            throw new ArgumentException($"state batch {state.Batch} differs from the learner's {Batch}", nameof(state));
        }

        if (_online)
        {
            ObserveOnline(input, target, state, output);
            return;
        }

        if (_tape.Count == Capacity)
        {
            if (!AutoUpdate)
            {
                throw new InvalidOperationException($"the chunk is full ({Capacity} steps): call EndChunk");
            }

            EndChunk();
        }

        if (_tape.Count == 0)
        {
            _chunkState = state;
            BeginChunk();
        }
        else if (!ReferenceEquals(state, _chunkState))
        {
            throw new ArgumentException("all steps of a chunk must use the same state", nameof(state));
        }

        input.Validate(Batch, Network.InputSize);
        int t = _tape.Count;
        _tape.RecordInput(input, t);
        Network.ForwardRecord(input, state, _tape, t);
        int outRow = Batch * Network.OutputSize;
        ReadOnlySpan<T> o = _tape.Readout.Slot(_tape.Readout.O, t + 1);
        if (!output.IsEmpty)
        {
            o.CopyTo(output);
        }

        _chunkLoss += Losses.Apply(o, target, _tape.GOut.AsSpan(t * outRow, outRow), Batch, Network.OutputSize);
        _tape.HasLoss[t] = target.Active;
        _tape.Count = t + 1;
        if (AutoUpdate && _tape.Count == Capacity)
        {
            EndChunk();
        }
    }

    /// <summary>One step of an online learner: forward into tape slot 0, the loss gradient, then <see cref="OnlineStep"/>.</summary>
    private void ObserveOnline(in StepInput<T> input, in StepTarget<T> target, NetworkState<T> state, Span<T> output)
    {
        if (_onlineSteps == Capacity)
        {
            if (!AutoUpdate)
            {
                throw new InvalidOperationException($"the chunk is full ({Capacity} steps): call EndChunk");
            }

            EndChunk();
        }

        if (_onlineSteps == 0)
        {
            _chunkState = state;
        }
        else if (!ReferenceEquals(state, _chunkState))
        {
            throw new ArgumentException("all steps of a chunk must use the same state", nameof(state));
        }

        input.Validate(Batch, Network.InputSize);
        bool sequenceStart = state.Layers[0].Step == 0;
        _tape.RecordInput(input, 0);
        Network.ForwardRecord(input, state, _tape, 0);
        int outRow = Batch * Network.OutputSize;
        ReadOnlySpan<T> o = _tape.Readout.Slot(_tape.Readout.O, 1);
        if (!output.IsEmpty)
        {
            o.CopyTo(output);
        }

        _chunkLoss += Losses.Apply(o, target, _tape.GOut.AsSpan(0, outRow), Batch, Network.OutputSize);
        _tape.HasLoss[0] = target.Active;
        _tape.Count = 1;
        OnlineStep(sequenceStart, target.Active);
        _tape.Count = 0;
        _onlineSteps++;
        if (AutoUpdate && _onlineSteps == Capacity)
        {
            EndChunk();
        }
    }

    /// <summary>
    /// Online learners: called after every observed step with the step in tape slot 0 and dL_t/d(output)
    /// in GOut slot 0; adds the step's gradient contribution to Parameter.Grad.
    /// <paramref name="sequenceStart"/>: the state was reset before this step (a new sequence).
    /// </summary>
    private protected virtual void OnlineStep(bool sequenceStart, bool hasLoss) =>
        throw new InvalidOperationException("not an online learner");

    /// <summary>Backward through the recorded chunk and the learner's update; returns the report.</summary>
    public ChunkReport EndChunk()
    {
        using DenormalScope flush = DenormalScope.Enter();
        if (_online)
        {
            int done = _onlineSteps;
            return done == 0 ? default : UpdateRecorded(new ChunkReport { Steps = done, Loss = _chunkLoss });
        }

        int steps = BackwardRecorded();
        if (steps == 0)
        {
            return default;
        }

        return UpdateRecorded(new ChunkReport { Steps = steps, Loss = _chunkLoss });
    }

    /// <summary>Weighted task loss of the steps recorded in the current chunk.</summary>
    internal double RecordedLoss => _chunkLoss;

    /// <summary>
    /// Data-parallel training: this learner records and differentiates one slice of a batch whose
    /// slices share <paramref name="reducer"/> (batch statistics of the normalisations are summed
    /// over the slices); its streams are streams <paramref name="firstStream"/>.. of the whole batch
    /// (their dropout generators are those of the whole batch's streams).
    /// </summary>
    internal void JoinGroup(BatchReducer reducer, int worker, int firstStream)
    {
        _tape.AttachReducer(reducer, worker);
        _firstStream = firstStream;
        _tape.ReseedDropout(DropoutGenerators.SeedOf(Network.Config), firstStream);
    }

    /// <summary>Backward through the recorded chunk (gradients added to Parameter.Grad; online learners: already there) without an update; returns the steps recorded (the tape is kept until <see cref="UpdateRecorded"/> or <see cref="DiscardChunk"/>).</summary>
    internal int BackwardRecorded()
    {
        if (_online)
        {
            // the online learners added every step's gradient as it was observed
            return _onlineSteps;
        }

        int steps = _tape.Count;
        if (steps > 0)
        {
            Backward(steps);
        }

        return steps;
    }

    /// <summary>The learner's update after <see cref="BackwardRecorded"/> (Grad holding the gradient of <paramref name="report"/>'s loss), then the chunk's bookkeeping.</summary>
    internal ChunkReport UpdateRecorded(ChunkReport report) => CompleteChunk(ApplyUpdate(report));

    /// <summary>Ends the recorded chunk with <paramref name="report"/> (an update applied or skipped elsewhere): clears the tape, counts a divergence.</summary>
    internal ChunkReport CompleteChunk(ChunkReport report)
    {
        _tape.Count = 0;
        _onlineSteps = 0;
        _chunkLoss = 0;
        if (report.Diverged)
        {
            DivergenceCount++;
            if (_chunkState is not null)
            {
                Network.ResetState(_chunkState);
            }
        }

        LastReport = report;
        if (report.Diverged)
        {
            Diverged?.Invoke(report);
        }

        return report;
    }

    /// <summary>Test hook: restarts the dropout masks' generator.</summary>
    internal void ReseedDropout(long seed) => _tape.ReseedDropout(seed, _firstStream);

    /// <summary>Drops the recorded steps without an update.</summary>
    public void DiscardChunk()
    {
        _tape.Count = 0;
        _onlineSteps = 0;
        _chunkLoss = 0;
    }

    /// <summary>The update after the backward pass (gradients are in Parameter.Grad; on return they must hold what the next backward pass starts from).</summary>
    private protected abstract ChunkReport ApplyUpdate(ChunkReport report);

    /// <summary>Called before the first step of a chunk is recorded.</summary>
    private protected virtual void BeginChunk()
    {
    }

    /// <summary>Clipping coefficient of torch.nn.utils.clip_grad_norm_ for a gradient of global norm <paramref name="norm"/>.</summary>
    internal double ClipScaleOf(double norm) => ClipScale(norm);

    /// <summary>Clipping coefficient of torch.nn.utils.clip_grad_norm_.</summary>
    private protected double ClipScale(double norm) =>
        GradientClip > 0 ? Math.Min(1.0, GradientClip / (norm + 1e-6)) : 1.0;

    private void Backward(int steps)
    {
        // steps after the last loss term contribute nothing: backward and accumulate only up to it
        int last = steps - 1;
        while (last >= 0 && !_tape.HasLoss[last])
        {
            last--;
        }

        if (last < 0)
        {
            return;
        }

        steps = last + 1;
        RecurrentLayer<T>[] layers = Network.LayerArray;
        foreach (LayerTape<T> lt in _tape.Layers)
        {
            lt.ClearCarries();
        }

        Array.Clear(_tape.Readout.GO);
        int outRow = Batch * Network.OutputSize;
        LayerTape<T> top = _tape.Layers[^1];
        bool stateful = Network.Readout.Stateful;
        bool dropout = _tape.Dropout > 0;
        for (int t = steps - 1; t >= 0; t--)
        {
            if (stateful || _tape.HasLoss[t])
            {
                // with dropout the readout's spike gradient reaches s_t through the mask
                Span<T> gTop = dropout ? _tape.DropScratch.AsSpan(0, top.Row) : top.GS;
                if (dropout)
                {
                    gTop.Clear();
                }

                Network.Readout.Backward(_tape.Readout, t, _tape.GOut.AsSpan(t * outRow, outRow), gTop, top.GU);
                if (dropout)
                {
                    AddMasked(gTop, _tape.Masks[^1].AsSpan(t * top.Row, top.Row), top.GS);
                }
            }

            for (int l = layers.Length - 1; l >= 0; l--)
            {
                Span<T> gxLower = default;
                if (l > 0)
                {
                    LayerTape<T> lower = _tape.Layers[l - 1];
                    gxLower = dropout ? _tape.DropScratch.AsSpan(0, lower.Row) : lower.GS;
                    if (dropout)
                    {
                        gxLower.Clear();
                    }
                }

                layers[l].Backward(_tape.Layers[l], t, gxLower);
                if (dropout && l > 0)
                {
                    LayerTape<T> lower = _tape.Layers[l - 1];
                    AddMasked(gxLower, _tape.Masks[l - 1].AsSpan(t * lower.Row, lower.Row), lower.GS);
                }
            }
        }

        if (!stateful)
        {
            // the membrane readout's GH slots of steps without a loss were not written
            for (int t = 0; t < steps; t++)
            {
                if (!_tape.HasLoss[t])
                {
                    _tape.Readout.Slot(_tape.Readout.GH, t).Clear();
                }
            }
        }

        int rows = steps * Batch;
        ReadOnlySpan<T> topUp = dropout ? _tape.Dropped[^1].AsSpan(0, rows * top.Size) : top.S.AsSpan(top.Row, rows * top.Size);
        Network.Readout.AccumulateGradients(_tape.Readout, steps, topUp, top.U.AsSpan(top.Row, rows * top.Size));
        for (int l = 0; l < layers.Length; l++)
        {
            if (l == 0)
            {
                layers[l].AccumulateGradients(_tape.Layers[l], steps, _tape.Inputs(steps));
            }
            else
            {
                LayerTape<T> lower = _tape.Layers[l - 1];
                ReadOnlySpan<T> lowerUp = dropout ? _tape.Dropped[l - 1].AsSpan(0, rows * lower.Size) : lower.S.AsSpan(lower.Row, rows * lower.Size);
                var input = new ChunkInput<T>(lowerUp);
                layers[l].AccumulateGradients(_tape.Layers[l], steps, input);
            }
        }
    }

    /// <summary>dst += g ⊙ mask (a gradient reaching spikes through their dropout mask).</summary>
    private protected static void AddMasked(ReadOnlySpan<T> g, ReadOnlySpan<T> mask, Span<T> dst)
    {
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] += g[i] * mask[i];
        }
    }
}

/// <summary>Test hook: backward only, gradients left in Parameter.Grad.</summary>
internal sealed class GradientOnlyLearner<T> : Learner<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public GradientOnlyLearner(Network<T> network, int batch, int capacity)
        : base(network, null, batch, capacity, 0)
    {
    }

    private protected override ChunkReport ApplyUpdate(ChunkReport report) => report;
}
