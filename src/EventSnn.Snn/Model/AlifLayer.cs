using System.Numerics;
using System.Numerics.Tensors;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn;

/// <summary>
/// Shared dynamics of the baseline layers with fixed learned time constants and soft reset
/// (reference §1, "Baseline neuron"):
/// <code>
/// alpha = exp(-1 / tau_m), rho = exp(-1 / tau_adp)        (per neuron, dt = 1)
/// b_t     = rho b_{t-1} + (1 - rho) s_{t-1}
/// theta_t = b0 + beta b_t
/// u_t     = alpha u_{t-1} + (1 - alpha) I_t - theta_t s_{t-1}   (soft reset)
/// s_t     = H(u_t - theta_t)
/// </code>
/// The LIF variant has no adaptation (theta = b0, b stays 0).
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public abstract class SoftResetLayer<T> : RecurrentLayer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;

    private protected SoftResetLayer(int index, int inputSize, LayerConfig config, bool adaptive)
        : base(index, inputSize, config)
    {
        Adaptive = adaptive;
        TauMembrane = new Parameter<T>(Prefix + "tau_m", Size);
        TauAdaptation = adaptive ? new Parameter<T>(Prefix + "tau_adp", Size) : null;
        var list = new List<Parameter<T>> { InputWeight, InputBias };
        if (RecurrentWeight is not null)
        {
            list.Add(RecurrentWeight);
        }

        list.Add(TauMembrane);
        if (TauAdaptation is not null)
        {
            list.Add(TauAdaptation);
        }

        AddNormParameters(list);
        _parameters = [.. list];
    }

    /// <summary>Membrane time constants tau_m [N] (steps).</summary>
    public Parameter<T> TauMembrane { get; }

    /// <summary>Adaptation time constants tau_adp [N] (steps), or null for LIF.</summary>
    public Parameter<T>? TauAdaptation { get; }

    /// <summary>Whether the threshold adapts.</summary>
    public bool Adaptive { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    private T Beta => Adaptive ? ThresholdAdaptation : T.Zero;

    internal override void Initialize(SnnRandom rng, InitializationScheme scheme)
    {
        InitializeCurrent(rng, scheme);

        Init.Normal(TauMembrane, rng, Config.TauMembraneMean, Config.TauMembraneStd);
        if (TauAdaptation is not null)
        {
            Init.Normal(TauAdaptation, rng, Config.TauAdaptationMean, Config.TauAdaptationStd);
        }
    }

    internal override void ResetState(LayerState<T> state, InitialStateMode mode, SnnRandom rng)
    {
        base.ResetState(state, mode, rng);
        if (!Adaptive)
        {
            Array.Clear(state.B);
        }
    }

    internal override LayerTape<T> CreateTape(int batch, int capacity) => new AlifTape<T>(batch, Size, capacity, Normalized, RecurrentNormalized);

    internal override void Forward(in StepInput<T> x, LayerState<T> state, LayerTape<T> tapeBase, int t, bool inference)
    {
        var tape = (AlifTape<T>)tapeBase;
        int batch = state.Batch;
        int n = Size;
        Span<T> sPrev = tape.Slot(tape.S, t);
        if (t == 0)
        {
            state.S.CopyTo(sPrev);
            state.U.CopyTo(tape.Slot(tape.U, 0));
            state.B.CopyTo(tape.Slot(tape.B, 0));
            Decay(TauMembrane.Data, tape.Alpha);
            if (TauAdaptation is not null)
            {
                Decay(TauAdaptation.Data, tape.Rho);
            }
        }

        Span<T> current = tape.Slot(tape.I, t);
        ComputeCurrent(x, sPrev, current, n, batch, inference, tape, t, state.Step);
        ReadOnlySpan<T> uPrev = tape.Slot(tape.U, t);
        ReadOnlySpan<T> bPrev = tape.Slot(tape.B, t);
        Span<T> uOut = tape.Slot(tape.U, t + 1);
        Span<T> sOut = tape.Slot(tape.S, t + 1);
        Span<T> bOut = tape.Slot(tape.B, t + 1);
        Span<T> v = tape.Slot(tape.V, t);
        T b0 = ThresholdBase;
        T beta = Beta;
        for (int b = 0; b < batch; b++)
        {
            int o = b * n;
            for (int i = 0; i < n; i++)
            {
                int e = o + i;
                T alpha = tape.Alpha[i];
                T sP = sPrev[e];
                T bNew = Adaptive ? (tape.Rho[i] * bPrev[e]) + ((T.One - tape.Rho[i]) * sP) : T.Zero;
                T theta = b0 + (beta * bNew);
                T u = (alpha * uPrev[e]) + ((T.One - alpha) * current[e]) - (theta * sP);
                T vE = u - theta;
                T s = Spike(vE);
                v[e] = vE;
                uOut[e] = u;
                sOut[e] = s;
                bOut[e] = bNew;
                state.U[e] = u;
                state.S[e] = s;
                state.B[e] = bNew;
            }
        }

        state.Step++;
    }

    internal override void Backward(LayerTape<T> tapeBase, int t, Span<T> gxLower)
    {
        var tape = (AlifTape<T>)tapeBase;
        int batch = tape.Batch;
        int n = Size;
        Span<T> sg = tape.SG;
        Surrogate.Derivative<T>(tape.Slot(tape.V, t), sg, tape.Tmp);
        ReadOnlySpan<T> current = tape.Slot(tape.I, t);
        ReadOnlySpan<T> uPrev = tape.Slot(tape.U, t);
        ReadOnlySpan<T> bPrev = tape.Slot(tape.B, t);
        ReadOnlySpan<T> bNow = tape.Slot(tape.B, t + 1);
        ReadOnlySpan<T> sPrev = tape.Slot(tape.S, t);
        Span<T> gI = tape.Slot(tape.GI, t);
        Span<T> gU = tape.GU;
        Span<T> gS = tape.GS;
        Span<T> gB = tape.GB;
        T b0 = ThresholdBase;
        T beta = Beta;
        for (int b = 0; b < batch; b++)
        {
            int o = b * n;
            for (int i = 0; i < n; i++)
            {
                int e = o + i;
                T alpha = tape.Alpha[i];
                T sP = sPrev[e];
                T theta = b0 + (beta * bNow[e]);
                T gv = gS[e] * sg[e];
                T guTot = gU[e] + gv;

                // theta enters through s_t = H(u_t - theta_t) and through the soft reset - theta_t s_{t-1}
                T gTheta = -gv - (guTot * sP);
                T gbTot = gB[e] + (beta * gTheta);
                tape.GAlpha[i] += double.CreateTruncating(guTot * (uPrev[e] - current[e]));
                gI[e] = guTot * (T.One - alpha);
                gU[e] = guTot * alpha;
                if (Adaptive)
                {
                    T rho = tape.Rho[i];
                    tape.GRho[i] += double.CreateTruncating(gbTot * (bPrev[e] - sP));
                    gS[e] = -(guTot * theta) + (gbTot * (T.One - rho));
                    gB[e] = gbTot * rho;
                }
                else
                {
                    gS[e] = -(guTot * theta);
                    gB[e] = T.Zero;
                }
            }
        }

        BackwardCurrent(tape, t, gS, gxLower, batch);
    }

    internal override void AccumulateGradients(LayerTape<T> tapeBase, int steps, in ChunkInput<T> input)
    {
        var tape = (AlifTape<T>)tapeBase;
        int n = Size;
        int rows = steps * tape.Batch;

        // d exp(-1/tau) / d tau = exp(-1/tau) / tau^2
        for (int i = 0; i < n; i++)
        {
            double tm = double.CreateTruncating(TauMembrane.Data[i]);
            TauMembrane.Grad[i] += T.CreateTruncating(tape.GAlpha[i] * double.CreateTruncating(tape.Alpha[i]) / (tm * tm));
            if (TauAdaptation is not null)
            {
                double ta = double.CreateTruncating(TauAdaptation.Data[i]);
                TauAdaptation.Grad[i] += T.CreateTruncating(tape.GRho[i] * double.CreateTruncating(tape.Rho[i]) / (ta * ta));
            }
        }

        Array.Clear(tape.GAlpha);
        Array.Clear(tape.GRho);
        AccumulateCurrentGradients(tape.GI.AsSpan(0, rows * n), tape.S.AsSpan(0, rows * n), input, rows, tape);
    }

    /// <summary>dst = exp(-1 / tau).</summary>
    private static void Decay(ReadOnlySpan<T> tau, Span<T> dst)
    {
        TensorPrimitives.Reciprocal(tau, dst);
        TensorPrimitives.Negate(dst, dst);
        TensorPrimitives.Exp(dst, dst);
    }
}

/// <summary>
/// Adaptive LIF baseline: parameters "layers.{l}.w_in.weight", "layers.{l}.w_in.bias",
/// "layers.{l}.w_rec.weight", "layers.{l}.tau_m" [N], "layers.{l}.tau_adp" [N]
/// (time constants in steps, initialised from N(mean, std) of the configuration).
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class AlifLayer<T> : SoftResetLayer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the layer.</summary>
    public AlifLayer(int index, int inputSize, LayerConfig config)
        : base(index, inputSize, config, adaptive: true)
    {
    }
}

/// <summary>
/// LIF baseline (fixed threshold b0, soft reset): parameters "layers.{l}.w_in.weight",
/// "layers.{l}.w_in.bias", "layers.{l}.w_rec.weight", "layers.{l}.tau_m" [N].
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class LifLayer<T> : SoftResetLayer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the layer.</summary>
    public LifLayer(int index, int inputSize, LayerConfig config)
        : base(index, inputSize, config, adaptive: false)
    {
    }
}
