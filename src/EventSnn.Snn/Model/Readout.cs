using System.Numerics;
using System.Numerics.Tensors;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn;

/// <summary>Base of the readout heads (non-spiking, reading the last recurrent layer).</summary>
/// <typeparam name="T">Element type.</typeparam>
public abstract class Readout<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int _normSteps;
    private readonly double _normGainInit;
    private readonly T _normMomentum;

    private protected Readout(int inputSize, int size, ReadoutConfig? config = null)
    {
        InputSize = inputSize;
        Size = size;
        Weight = new Parameter<T>("readout.w_out.weight", size, inputSize);
        Bias = new Parameter<T>("readout.w_out.bias", size);
        Norm = config?.Norm ?? InputNormKind.None;
        if (Norm == InputNormKind.None)
        {
            return;
        }

        if (Norm is not (InputNormKind.Running or InputNormKind.Timestep))
        {
            throw new ArgumentException($"the readout's current is normalised with running or per-timestep running statistics, not {Norm}", nameof(config));
        }

        _normSteps = Norm == InputNormKind.Running ? 1 : config!.NormSteps;
        _normGainInit = config!.NormGain;
        _normMomentum = T.CreateTruncating(config.NormMomentum);
        NormGain = new Parameter<T>("readout.norm.weight", size);
        RunningMean = Norm == InputNormKind.Running ? new Parameter<T>("readout.norm.running_mean", size) : new Parameter<T>("readout.norm.running_mean", _normSteps, size);
        RunningVar = Norm == InputNormKind.Running ? new Parameter<T>("readout.norm.running_var", size) : new Parameter<T>("readout.norm.running_var", _normSteps, size);
    }

    /// <summary>Neurons of the last recurrent layer (N).</summary>
    public int InputSize { get; }

    /// <summary>Outputs C.</summary>
    public int Size { get; }

    /// <summary>"readout.w_out.weight" [C, N].</summary>
    public Parameter<T> Weight { get; }

    /// <summary>"readout.w_out.bias" [C].</summary>
    public Parameter<T> Bias { get; }

    /// <summary>Normalisation of the current W_o s_t (<see cref="ReadoutConfig.Norm"/>).</summary>
    public InputNormKind Norm { get; }

    /// <summary>"readout.norm.weight" [C]: the normalisation's gain γ_o (null without normalisation).</summary>
    public Parameter<T>? NormGain { get; }

    /// <summary>"readout.norm.running_mean" ([C], or [NormSteps, C] per timestep; a buffer; null without normalisation).</summary>
    public Parameter<T>? RunningMean { get; }

    /// <summary>"readout.norm.running_var" (shaped as <see cref="RunningMean"/>; a buffer).</summary>
    public Parameter<T>? RunningVar { get; }

    /// <summary>Parameters in their fixed order.</summary>
    public abstract IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>Non-trainable state: the normalisation's running statistics (empty without normalisation).</summary>
    public IReadOnlyList<Parameter<T>> Buffers => RunningMean is null || RunningVar is null ? [] : [RunningMean, RunningVar];

    /// <summary>True when the current is normalised.</summary>
    private protected bool Normalized => NormGain is not null;

    internal abstract void Initialize(SnnRandom rng, InitializationScheme scheme);

    /// <summary>The head's own parameters followed by the normalisation's gain when there is one.</summary>
    private protected Parameter<T>[] WithNorm(params Parameter<T>[] own) => NormGain is null ? own : [.. own, NormGain];

    /// <summary>Gain γ_o = <see cref="ReadoutConfig.NormGain"/>, running statistics μ = 0, σ² = 1 (draws nothing from the generator).</summary>
    private protected void InitializeNorm()
    {
        if (NormGain is null || RunningMean is null || RunningVar is null)
        {
            return;
        }

        Init.Constant(NormGain, _normGainInit);
        Init.Constant(RunningMean, 0);
        Init.Constant(RunningVar, 1);
    }

    /// <summary>True when the output carries state from step to step (leaky and liquid heads): every step's output then feeds the later ones.</summary>
    internal virtual bool Stateful => true;

    /// <summary>True when the tape records the gate of a liquid head.</summary>
    internal virtual bool Gated => false;

    internal ReadoutTape<T> CreateTape(int batch, int capacity) => new(batch, Size, capacity, Gated, Normalized);

    /// <summary>
    /// Forward step t (tape slot) of timestep <paramref name="step"/> of the sequence: output written to
    /// tape slot O[t+1] (and the state for a stateful readout). Training steps (<paramref name="inference"/>
    /// false) move the normalisation's running statistics.
    /// </summary>
    internal abstract void Forward(ReadOnlySpan<T> spikes, ReadOnlySpan<T> membrane, T[] state, ReadoutTape<T> tape, int t, int step, bool inference);

    /// <summary>Backward step t given dL/doutput_t; adds dL/ds_t and dL/du_t of the last layer.</summary>
    internal abstract void Backward(ReadoutTape<T> tape, int t, ReadOnlySpan<T> gOut, Span<T> gSpikes, Span<T> gMembrane);

    /// <summary>Weight gradients over a chunk (rows = steps x B of the last layer's s_t and u_t).</summary>
    internal abstract void AccumulateGradients(ReadoutTape<T> tape, int steps, ReadOnlySpan<T> spikeRows, ReadOnlySpan<T> membraneRows);

    /// <summary>A bias as PyTorch's <c>nn.Linear</c> draws it (uniform ±1/√fan-in) under <see cref="InitializationScheme.TorchDefault"/>, else zero as the reference.</summary>
    private protected static void InitializeBias(Parameter<T> bias, SnnRandom rng, InitializationScheme scheme, int fanIn)
    {
        if (scheme == InitializationScheme.TorchDefault)
        {
            Init.Uniform(bias, rng, 1.0 / Math.Sqrt(fanIn));
        }
        else
        {
            Init.Constant(bias, 0);
        }
    }

    /// <summary>
    /// The input current z_t = W_o s_t + c_o of step t (with normalisation γ_o ⊙ norm(W_o s_t) + c_o) into
    /// tape slot H[t] (returned), and the entering state into O[0] at the chunk's first step: the common
    /// start of the stateful heads' forward step.
    /// </summary>
    private protected Span<T> LinearCurrent(ReadOnlySpan<T> spikes, T[] state, ReadoutTape<T> tape, int t, int step, bool inference)
    {
        int c = Size;
        Span<T> h = tape.Slot(tape.H, t);
        if (t == 0)
        {
            state.CopyTo(tape.Slot(tape.O, 0));
        }

        if (!Normalized)
        {
            for (int b = 0; b < tape.Batch; b++)
            {
                Bias.Data.CopyTo(h.Slice(b * c, c));
            }

            Kernels.MatMulABt(spikes, InputSize, Weight.Data, InputSize, h, c, tape.Batch, c, InputSize, accumulate: true);
            return h;
        }

        Span<T> z = tape.Slot(tape.Z, t);
        z.Clear();
        Kernels.MatMulABt(spikes, InputSize, Weight.Data, InputSize, z, c, tape.Batch, c, InputSize, accumulate: true);
        Span<T> zHat = tape.Slot(tape.ZHat, t);
        Normalize(tape, z, zHat, tape.NormInv.AsSpan(t * c, c), step, inference);
        for (int b = 0; b < tape.Batch; b++)
        {
            Span<T> row = h.Slice(b * c, c);
            TensorPrimitives.Multiply(zHat.Slice(b * c, c), NormGain!.Data, row);
            TensorPrimitives.Add(row, Bias.Data, row);
        }

        return h;
    }

    /// <summary>
    /// zHat = (z − μ) ⊙ inv with the running statistics (one set, or timestep <paramref name="step"/>'s),
    /// which a training step first moves toward the batch's (sums in double, over the data-parallel
    /// slices too) exactly as the layers' running normalisation does; <paramref name="inv"/> receives
    /// 1/√(σ² + ε). The statistics are constants for the backward pass.
    /// </summary>
    private void Normalize(ReadoutTape<T> tape, ReadOnlySpan<T> z, Span<T> zHat, Span<T> inv, int step, bool inference)
    {
        int c = Size;
        int batch = tape.Batch;
        int k = Math.Min(step, _normSteps - 1);
        Span<T> mean = RunningMean!.Data.AsSpan(k * c, c);
        Span<T> var = RunningVar!.Data.AsSpan(k * c, c);
        if (!inference)
        {
            Span<double> sums = tape.NormSums;
            RunningNorm<T>.BatchSums(z, batch, c, sums);
            tape.SumOverBatch(sums);
            RunningNorm<T>.Update(mean, var, sums, tape.TotalBatch, _normMomentum);
        }

        RunningNorm<T>.Apply(z, zHat, inv, mean, var, batch);
    }

    /// <summary>
    /// dL/d(W_o s_t) of step t from dL/dz_t (<paramref name="gz"/>): <paramref name="gz"/> itself, or with
    /// normalisation gz ⊙ γ_o ⊙ inv into tape slot GZ[t] (the statistics are constants).
    /// </summary>
    private protected ReadOnlySpan<T> CurrentGradient(ReadoutTape<T> tape, int t, ReadOnlySpan<T> gz)
    {
        if (!Normalized)
        {
            return gz;
        }

        int c = Size;
        Span<T> g = tape.Slot(tape.GZ, t);
        ReadOnlySpan<T> inv = tape.NormInv.AsSpan(t * c, c);
        for (int b = 0; b < tape.Batch; b++)
        {
            Span<T> row = g.Slice(b * c, c);
            TensorPrimitives.Multiply(gz.Slice(b * c, c), NormGain!.Data, row);
            TensorPrimitives.Multiply(row, inv, row);
        }

        return g;
    }

    internal void AccumulateLinear(ReadoutTape<T> tape, int rows, ReadOnlySpan<T> inputRows)
    {
        int c = Size;
        ReadOnlySpan<T> gh = tape.GH.AsSpan(0, rows * c);
        ReadOnlySpan<T> gw = Normalized ? tape.GZ.AsSpan(0, rows * c) : gh;
        Kernels.AddProduct(gw, 1, c, inputRows, InputSize, Weight.Grad, InputSize, c, rows, InputSize);
        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Add(Bias.Grad, gh.Slice(r * c, c), Bias.Grad);
        }

        if (Normalized)
        {
            // dL/dγ_o = Σ dL/dz ⊙ ẑ over the chunk's rows
            ReadOnlySpan<T> zHat = tape.ZHat.AsSpan(0, rows * c);
            for (int r = 0; r < rows; r++)
            {
                TensorPrimitives.MultiplyAdd(gh.Slice(r * c, c), zHat.Slice(r * c, c), NormGain!.Grad, NormGain.Grad);
            }
        }
    }
}

/// <summary>
/// Leaky-integrator readout over the last layer's spikes (reference §1):
/// o_t = o_{t-1} + (W_o s_t + c_o − o_{t-1}) τ_o with τ_o = sigmoid(p) per class, p initialised
/// to 0 (τ_o = 0.5). The output is o_t; classification uses log_softmax(o_t). Parameters in
/// order: "readout.w_out.weight" [C, N], "readout.w_out.bias" [C], "readout.tau_o" [C] (p), and with
/// <see cref="ReadoutConfig.Norm"/> "readout.norm.weight" [C] (W_o s_t + c_o becomes γ_o ⊙ norm(W_o s_t) + c_o).
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class LeakyReadout<T> : Readout<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;

    /// <summary>Creates the readout (<paramref name="config"/>: its normalisation; null: none).</summary>
    public LeakyReadout(int inputSize, int size, ReadoutConfig? config = null)
        : base(inputSize, size, config)
    {
        TauParameter = new Parameter<T>("readout.tau_o", size);
        _parameters = WithNorm(Weight, Bias, TauParameter);
    }

    /// <summary>"readout.tau_o" [C]: τ_o = sigmoid(value).</summary>
    public Parameter<T> TauParameter { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    internal override void Initialize(SnnRandom rng, InitializationScheme scheme)
    {
        Init.XavierUniform(Weight, rng);
        InitializeBias(Bias, rng, scheme, InputSize);

        Init.Constant(TauParameter, 0);
        InitializeNorm();
    }

    internal override void Forward(ReadOnlySpan<T> spikes, ReadOnlySpan<T> membrane, T[] state, ReadoutTape<T> tape, int t, int step, bool inference)
    {
        int batch = tape.Batch;
        int c = Size;
        Span<T> h = LinearCurrent(spikes, state, tape, t, step, inference);
        Span<T> oPrev = tape.Slot(tape.O, t);
        Span<T> o = tape.Slot(tape.O, t + 1);
        for (int b = 0; b < batch; b++)
        {
            for (int k = 0; k < c; k++)
            {
                int e = (b * c) + k;
                T tau = T.One / (T.One + T.Exp(-TauParameter.Data[k]));
                o[e] = oPrev[e] + ((h[e] - oPrev[e]) * tau);
            }
        }

        o.CopyTo(state);
    }

    internal override void Backward(ReadoutTape<T> tape, int t, ReadOnlySpan<T> gOut, Span<T> gSpikes, Span<T> gMembrane)
    {
        int batch = tape.Batch;
        int c = Size;
        ReadOnlySpan<T> h = tape.Slot(tape.H, t);
        ReadOnlySpan<T> oPrev = tape.Slot(tape.O, t);
        Span<T> gh = tape.Slot(tape.GH, t);
        Span<T> go = tape.GO;
        for (int b = 0; b < batch; b++)
        {
            for (int k = 0; k < c; k++)
            {
                int e = (b * c) + k;
                T tau = T.One / (T.One + T.Exp(-TauParameter.Data[k]));
                T g = go[e] + gOut[e];
                tape.GTau[k] += double.CreateTruncating(g * (h[e] - oPrev[e]));
                gh[e] = g * tau;
                go[e] = g * (T.One - tau);
            }
        }

        Kernels.AddProduct<T>(CurrentGradient(tape, t, gh), c, 1, Weight.Data, InputSize, gSpikes, InputSize, batch, c, InputSize);
    }

    internal override void AccumulateGradients(ReadoutTape<T> tape, int steps, ReadOnlySpan<T> spikeRows, ReadOnlySpan<T> membraneRows)
    {
        AccumulateLinear(tape, steps * tape.Batch, spikeRows);
        for (int k = 0; k < Size; k++)
        {
            double tau = 1.0 / (1.0 + Math.Exp(-double.CreateTruncating(TauParameter.Data[k])));
            TauParameter.Grad[k] += T.CreateTruncating(tape.GTau[k] * tau * (1 - tau));
        }

        Array.Clear(tape.GTau);
    }
}

/// <summary>
/// Regression head on the last layer's membrane potential, y_t = W u_t + c (the adding-task
/// model of the authors' code reads <c>self.lin(mem_1)</c>, the post-reset membrane of the
/// last step). Parameters in order: "readout.w_out.weight" [C, N] (Xavier-normal like the
/// authors' code), "readout.w_out.bias" [C] (zero).
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class MembraneReadout<T> : Readout<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;

    /// <summary>Creates the readout.</summary>
    public MembraneReadout(int inputSize, int size)
        : base(inputSize, size)
    {
        _parameters = [Weight, Bias];
    }

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    internal override bool Stateful => false;

    internal override void Initialize(SnnRandom rng, InitializationScheme scheme)
    {
        Init.XavierNormal(Weight, rng);
        InitializeBias(Bias, rng, scheme, InputSize);
    }

    internal override void Forward(ReadOnlySpan<T> spikes, ReadOnlySpan<T> membrane, T[] state, ReadoutTape<T> tape, int t, int step, bool inference)
    {
        int batch = tape.Batch;
        int c = Size;
        Span<T> y = tape.Slot(tape.O, t + 1);
        for (int b = 0; b < batch; b++)
        {
            Bias.Data.CopyTo(y.Slice(b * c, c));
        }

        Kernels.MatMulABt(membrane, InputSize, Weight.Data, InputSize, y, c, batch, c, InputSize, accumulate: true);
    }

    internal override void Backward(ReadoutTape<T> tape, int t, ReadOnlySpan<T> gOut, Span<T> gSpikes, Span<T> gMembrane)
    {
        int c = Size;
        Span<T> gh = tape.Slot(tape.GH, t);
        gOut.CopyTo(gh);
        Kernels.AddProduct<T>(gh, c, 1, Weight.Data, InputSize, gMembrane, InputSize, tape.Batch, c, InputSize);
    }

    internal override void AccumulateGradients(ReadoutTape<T> tape, int steps, ReadOnlySpan<T> spikeRows, ReadOnlySpan<T> membraneRows) =>
        AccumulateLinear(tape, steps * tape.Batch, membraneRows);
}

/// <summary>
/// Liquid readout, the head of the reference's S-MNIST model: a leaky integrator whose rate is
/// computed per step like an LTC gate from the new input and its own state,
/// <code>
/// z_t = W_o s_t + c_o
/// τ_t = sigmoid(k (W_τ [z_t ; o_{t-1}] + c_τ))
/// o_t = o_{t-1} + (z_t − o_{t-1}) τ_t
/// </code>
/// with one learnable slope k (initialised to 1; the reference's <c>sigmoid_beta</c>). The
/// reference also batch-normalises W_o s_t per timestep (gain 0.1); here <see cref="ReadoutConfig.Norm"/>
/// normalises it with running statistics (one set or one per timestep, constants for the gradient).
/// Parameters in order: "readout.w_out.weight" [C, N], "readout.w_out.bias" [C],
/// "readout.w_tau.weight" [C, 2C], "readout.w_tau.bias" [C], "readout.k_tau" [1] (then "readout.norm.weight"
/// [C] with normalisation); the weights
/// Xavier-normal and the biases zero as in the reference.
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class LiquidReadout<T> : Readout<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;

    /// <summary>Creates the readout (<paramref name="config"/>: its normalisation; null: none).</summary>
    public LiquidReadout(int inputSize, int size, ReadoutConfig? config = null)
        : base(inputSize, size, config)
    {
        GateWeight = new Parameter<T>("readout.w_tau.weight", size, 2 * size);
        GateBias = new Parameter<T>("readout.w_tau.bias", size);
        Slope = new Parameter<T>("readout.k_tau", 1);
        _parameters = WithNorm(Weight, Bias, GateWeight, GateBias, Slope);
    }

    /// <summary>"readout.w_tau.weight" [C, 2C]: the gate's weights on [z_t ; o_{t-1}].</summary>
    public Parameter<T> GateWeight { get; }

    /// <summary>"readout.w_tau.bias" [C].</summary>
    public Parameter<T> GateBias { get; }

    /// <summary>"readout.k_tau" [1]: the gate's slope k.</summary>
    public Parameter<T> Slope { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    internal override bool Gated => true;

    internal override void Initialize(SnnRandom rng, InitializationScheme scheme)
    {
        Init.XavierNormal(Weight, rng);
        Init.XavierNormal(GateWeight, rng);
        InitializeBias(Bias, rng, scheme, InputSize);
        InitializeBias(GateBias, rng, scheme, 2 * Size);

        Init.Constant(Slope, 1);
        InitializeNorm();
    }

    internal override void Forward(ReadOnlySpan<T> spikes, ReadOnlySpan<T> membrane, T[] state, ReadoutTape<T> tape, int t, int step, bool inference)
    {
        int batch = tape.Batch;
        int c = Size;
        Span<T> z = LinearCurrent(spikes, state, tape, t, step, inference);
        Span<T> oPrev = tape.Slot(tape.O, t);
        Span<T> a = tape.Slot(tape.A, t);
        Span<T> tau = tape.Slot(tape.Tau, t);
        Span<T> o = tape.Slot(tape.O, t + 1);
        T k = Slope.Data[0];
        T[] w = GateWeight.Data;
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> zb = z.Slice(b * c, c);
            ReadOnlySpan<T> ob = oPrev.Slice(b * c, c);
            for (int i = 0; i < c; i++)
            {
                ReadOnlySpan<T> row = w.AsSpan(i * 2 * c, 2 * c);
                T pre = GateBias.Data[i] + TensorPrimitives.Dot(row[..c], zb) + TensorPrimitives.Dot(row[c..], ob);
                int e = (b * c) + i;
                a[e] = pre;
                T g = T.One / (T.One + T.Exp(-(k * pre)));
                tau[e] = g;
                o[e] = ob[i] + ((zb[i] - ob[i]) * g);
            }
        }

        o.CopyTo(state);
    }

    internal override void Backward(ReadoutTape<T> tape, int t, ReadOnlySpan<T> gOut, Span<T> gSpikes, Span<T> gMembrane)
    {
        int batch = tape.Batch;
        int c = Size;
        ReadOnlySpan<T> z = tape.Slot(tape.H, t);
        ReadOnlySpan<T> oPrev = tape.Slot(tape.O, t);
        ReadOnlySpan<T> a = tape.Slot(tape.A, t);
        ReadOnlySpan<T> tau = tape.Slot(tape.Tau, t);
        Span<T> gz = tape.Slot(tape.GH, t);
        Span<T> ga = tape.Slot(tape.GA, t);
        Span<T> go = tape.GO;
        T k = Slope.Data[0];
        T[] w = GateWeight.Data;
        for (int b = 0; b < batch; b++)
        {
            int row = b * c;
            for (int i = 0; i < c; i++)
            {
                int e = row + i;
                T g = go[e] + gOut[e];
                T gTau = g * (z[e] - oPrev[e]);
                T dSig = gTau * tau[e] * (T.One - tau[e]);
                tape.GSlope += double.CreateTruncating(dSig * a[e]);
                ga[e] = dSig * k;
                gz[e] = g * tau[e];
                go[e] = g * (T.One - tau[e]); // the carry to o_{t-1}; the gate's share is added below
            }

            // through the gate's pre-activation: W_τ [:, :C]ᵀ ga to z_t and W_τ [:, C:]ᵀ ga to o_{t-1}
            for (int i = 0; i < c; i++)
            {
                T gai = ga[row + i];
                ReadOnlySpan<T> wRow = w.AsSpan(i * 2 * c, 2 * c);
                TensorPrimitives.MultiplyAdd(wRow[..c], gai, gz.Slice(row, c), gz.Slice(row, c));
                TensorPrimitives.MultiplyAdd(wRow[c..], gai, go.Slice(row, c), go.Slice(row, c));
            }
        }

        Kernels.AddProduct<T>(CurrentGradient(tape, t, gz), c, 1, Weight.Data, InputSize, gSpikes, InputSize, batch, c, InputSize);
    }

    internal override void AccumulateGradients(ReadoutTape<T> tape, int steps, ReadOnlySpan<T> spikeRows, ReadOnlySpan<T> membraneRows)
    {
        int rows = steps * tape.Batch;
        int c = Size;
        AccumulateLinear(tape, rows, spikeRows);
        ReadOnlySpan<T> ga = tape.GA.AsSpan(0, rows * c);
        ReadOnlySpan<T> z = tape.H.AsSpan(0, rows * c);
        ReadOnlySpan<T> oPrev = tape.O.AsSpan(0, rows * c); // slot t holds o_{t-1} of step t
        Span<T> gw = GateWeight.Grad;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<T> zr = z.Slice(r * c, c);
            ReadOnlySpan<T> or = oPrev.Slice(r * c, c);
            for (int i = 0; i < c; i++)
            {
                T g = ga[(r * c) + i];
                Span<T> wRow = gw.Slice(i * 2 * c, 2 * c);
                TensorPrimitives.MultiplyAdd(zr, g, wRow[..c], wRow[..c]);
                TensorPrimitives.MultiplyAdd(or, g, wRow[c..], wRow[c..]);
                GateBias.Grad[i] += g;
            }
        }

        Slope.Grad[0] += T.CreateTruncating(tape.GSlope);
        tape.GSlope = 0;
    }
}
