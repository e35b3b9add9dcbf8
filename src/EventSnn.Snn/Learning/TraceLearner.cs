using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn;

/// <summary>Where the e-prop learning signal of the hidden layers comes from.</summary>
public enum EpropFeedback
{
    /// <summary>The last layer's signal goes through the readout weights transposed (symmetric e-prop); lower layers use fixed random matrices.</summary>
    Symmetric,

    /// <summary>Every layer's signal goes through a fixed random matrix (random e-prop, feedback alignment).</summary>
    Random,
}

/// <summary>
/// Base of the online trace learners (<see cref="EligibilityPropLearner{T}"/>, <see cref="OstlLearner{T}"/>):
/// no tape over time. Every observed step runs forward on a one-step tape, then
/// <list type="number">
/// <item>the readout's gradient, exact (its own traces for the leaky readout);</item>
/// <item>per layer a learning signal (dL_t/ds_t, dL_t/du_t at this step), turned into dL_t/d(neuron state);</item>
/// <item>the temporal part: the eligibility traces of step t-1 carried through the neuron's own
/// (diagonal) Jacobian, times the learning signal, added to the gradient;</item>
/// <item>the immediate part: the layer's exact one-step backward (<c>Backward</c> on the one-step tape with
/// the learning signal as the incoming gradient) and its weight gradients;</item>
/// <item>the traces then take the step's immediate derivative.</item>
/// </list>
/// The update (clip, optimiser step) runs every <see cref="Learner{T}.Capacity"/> steps (<see cref="Learner{T}.EndChunk"/>).
/// Traces hold d(state)/dθ per stream, parameter and state variable: (m, b) for LTC (pre-reset
/// membrane, threshold adaptation), (u, b) for ALIF/LIF; one variable when the threshold does not
/// adapt. They are cleared when the state is reset (a new sequence). Memory: B x params x
/// variables, independent of the sequence length. Supports dense or sparse inputs, any stack of
/// LTC/ALIF/LIF layers, leaky or membrane readout, running or layer input normalisation (not the
/// offline per-timestep batch norm) and spike dropout (the learning signal and the next layer's
/// presynaptic values go through the step's mask, as in BPTT).
/// The derivation (and the gate approximation of the LTC neuron) is in the project README.
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public abstract class TraceLearner<T> : GradientLearner<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly LayerTraces<T>[] _layers;
    private readonly T[] _readoutW;
    private readonly T[] _readoutC;
    private readonly T[] _readoutP;
    private readonly T[] _xDense;
    private readonly T[] _one = [T.One];
    private readonly T[][] _feedback;
    private readonly bool _exactSpatial;
    private readonly T _reset;
    private readonly bool _selfRecurrence;

    private protected TraceLearner(Network<T> network, Optimizer<T>? optimizer, int batch, int chunkLength, double gradientClip, bool ostl, EpropFeedback feedback)
        : base(network, optimizer, batch, chunkLength, gradientClip, online: true)
    {
        _exactSpatial = ostl;
        _reset = ostl ? T.One : T.Zero;
        _selfRecurrence = ostl;
        Feedback = feedback;
        _layers = new LayerTraces<T>[network.Layers.Count];
        for (int l = 0; l < _layers.Length; l++)
        {
            _layers[l] = new LayerTraces<T>(network.Layers[l], batch);
        }

        int c = network.OutputSize;
        int top = network.TopLayer.Size;
        if (network.Readout is LiquidReadout<T>)
        {
            throw new ArgumentException("e-prop and OSTL train a leaky or membrane readout, not a liquid one", nameof(network));
        }

        if (network.Readout.Norm != InputNormKind.None)
        {
            throw new ArgumentException("e-prop and OSTL train a readout without normalisation (Readout.Norm)", nameof(network));
        }

        bool leaky = network.Readout is LeakyReadout<T>;
        _readoutW = leaky ? new T[batch * c * top] : [];
        _readoutC = leaky ? new T[batch * c] : [];
        _readoutP = leaky ? new T[batch * c] : [];
        _xDense = new T[batch * network.InputSize];

        // fixed random feedback matrices [C, N_l] (e-prop): every lower layer, and the last layer in random mode
        _feedback = new T[_layers.Length][];
        var rng = new SnnRandom((network.Config.Seed * 31) + 977);
        for (int l = 0; l < _layers.Length; l++)
        {
            bool random = !ostl && (l < _layers.Length - 1 || feedback == EpropFeedback.Random);
            int n = network.Layers[l].Size;
            _feedback[l] = random ? new T[c * n] : [];
            double bound = Math.Sqrt(6.0 / (c + n));
            for (int i = 0; i < _feedback[l].Length; i++)
            {
                _feedback[l][i] = T.CreateTruncating(rng.NextDouble(-bound, bound));
            }
        }
    }

    /// <summary>The e-prop feedback mode (OSTL propagates the exact spatial gradient instead).</summary>
    public EpropFeedback Feedback { get; }

    /// <summary>Bytes of the eligibility traces and their per-neuron coefficients (independent of the sequence length).</summary>
    public override long TraceBytes
    {
        get
        {
            long total = ((long)_readoutW.Length + _readoutC.Length + _readoutP.Length + _xDense.Length) * Unsafe.SizeOf<T>();
            foreach (LayerTraces<T> l in _layers)
            {
                total += l.Bytes;
            }

            foreach (T[] f in _feedback)
            {
                total += (long)f.Length * Unsafe.SizeOf<T>();
            }

            return total;
        }
    }

    /// <summary>Clears every trace (done automatically when the observed state was reset).</summary>
    public void ResetTraces()
    {
        foreach (LayerTraces<T> l in _layers)
        {
            l.Clear();
        }

        Array.Clear(_readoutW);
        Array.Clear(_readoutC);
        Array.Clear(_readoutP);
    }

    /// <summary>Test hook: the trace of one parameter's element for stream <paramref name="b"/> and state variable <paramref name="variable"/> (0: m or u, 1: b).</summary>
    internal T Trace(Parameter<T> parameter, int b, int variable, int row, int column)
    {
        foreach (LayerTraces<T> l in _layers)
        {
            if (l.TryTrace(parameter, b, variable, row, column, out T value))
            {
                return value;
            }
        }

        throw new ArgumentException($"no trace for {parameter.Name}", nameof(parameter));
    }

    private protected override void OnDiverged() => ResetTraces();

    private protected override void OnlineStep(bool sequenceStart, bool hasLoss)
    {
        if (sequenceStart)
        {
            ResetTraces();
        }

        ChunkTape<T> tape = Tape;
        RecurrentLayer<T>[] layers = Network.LayerArray;
        LayerTape<T> top = tape.Layers[^1];
        int c = Network.OutputSize;
        ReadOnlySpan<T> gOut = tape.GOut.AsSpan(0, Batch * c);
        ReadOnlySpan<T> topS = top.Slot(top.S, 1);
        ReadOnlySpan<T> topU = top.Slot(top.U, 1);
        foreach (LayerTape<T> lt in tape.Layers)
        {
            lt.ClearCarries();
        }

        bool dropout = tape.Dropout > 0;
        ReadOnlySpan<T> topUp = dropout ? tape.Dropped[^1].AsSpan(0, top.Row) : topS;
        if (Network.Readout is LeakyReadout<T> leaky)
        {
            LeakyReadoutStep(leaky, tape.Readout, topUp, gOut, hasLoss);
        }

        if (hasLoss)
        {
            // the readout's instantaneous gradient dL_t/ds_t or dL_t/du_t of the last layer (through the dropout mask)
            Array.Clear(tape.Readout.GO);
            Span<T> gTop = dropout ? tape.DropScratch.AsSpan(0, top.Row) : top.GS;
            gTop.Clear();
            Network.Readout.Backward(tape.Readout, 0, gOut, gTop, top.GU);
            if (dropout)
            {
                AddMasked(gTop, tape.Masks[^1].AsSpan(0, top.Row), top.GS);
            }

            Array.Clear(tape.Readout.GTau);
            if (Network.Readout is not LeakyReadout<T>)
            {
                Network.Readout.AccumulateGradients(tape.Readout, 1, topUp, topU);
            }
        }

        for (int l = layers.Length - 1; l >= 0; l--)
        {
            LayerTape<T> lt = tape.Layers[l];
            LayerTraces<T> tr = _layers[l];
            if (hasLoss && _feedback[l].Length > 0)
            {
                bool membrane = l == layers.Length - 1 && Network.Readout is not LeakyReadout<T>;
                Span<T> signal = membrane ? lt.GU : lt.GS;
                RandomSignal(l, gOut, signal);
                if (dropout && !membrane)
                {
                    // the signal of a spike passed up goes through this step's mask, as the readout's gradient does
                    System.Numerics.Tensors.TensorPrimitives.Multiply(signal, tape.Masks[l].AsSpan(0, lt.Row), signal);
                }
            }

            tr.Signal(lt, hasLoss, _reset);
            ReadOnlySpan<T> lowerUp = default;
            if (l > 0)
            {
                LayerTape<T> lower = tape.Layers[l - 1];
                lowerUp = dropout ? tape.Dropped[l - 1].AsSpan(0, lower.Row) : lower.Slot(lower.S, 1);
            }

            if (hasLoss)
            {
                Span<T> gxLower = default;
                if (_exactSpatial && l > 0)
                {
                    gxLower = dropout ? tape.DropScratch.AsSpan(0, tape.Layers[l - 1].Row) : tape.Layers[l - 1].GS;
                    if (dropout)
                    {
                        gxLower.Clear();
                    }
                }

                layers[l].Backward(lt, 0, gxLower);
                if (dropout && !gxLower.IsEmpty)
                {
                    LayerTape<T> lower = tape.Layers[l - 1];
                    AddMasked(gxLower, tape.Masks[l - 1].AsSpan(0, lower.Row), lower.GS);
                }

                if (l == 0)
                {
                    layers[0].AccumulateGradients(lt, 1, tape.Inputs(1));
                }
                else
                {
                    layers[l].AccumulateGradients(lt, 1, new ChunkInput<T>(lowerUp));
                }
            }

            ReadOnlySpan<T> x = l == 0 ? DenseInput(tape) : lowerUp;
            tr.Step(lt, x, _one, hasLoss, _reset, _selfRecurrence);
        }
    }

    /// <summary>The layer's learning signal B_l^T (error at the readout's input), written into the spike (or membrane) gradient.</summary>
    private void RandomSignal(int l, ReadOnlySpan<T> gOut, Span<T> dst)
    {
        int c = Network.OutputSize;
        int n = Network.Layers[l].Size;
        T[] fb = _feedback[l];
        Parameter<T>? tau = (Network.Readout as LeakyReadout<T>)?.TauParameter;
        dst.Clear();
        for (int b = 0; b < Batch; b++)
        {
            Span<T> row = dst.Slice(b * n, n);
            for (int k = 0; k < c; k++)
            {
                T g = gOut[(b * c) + k];
                if (tau is not null)
                {
                    g *= T.One / (T.One + T.Exp(-tau.Data[k]));
                }

                if (g != T.Zero)
                {
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(fb.AsSpan(k * n, n), g, row, row);
                }
            }
        }
    }

    /// <summary>The first layer's input of slot 0 as dense rows (sparse inputs are expanded into a scratch row).</summary>
    private ReadOnlySpan<T> DenseInput(ChunkTape<T> tape)
    {
        ChunkInput<T> input = tape.Inputs(1);
        if (!input.IsSparse)
        {
            return input.Dense;
        }

        int d = Network.InputSize;
        Array.Clear(_xDense);
        for (int b = 0; b < Batch; b++)
        {
            for (int k = input.Offsets[b]; k < input.Offsets[b + 1]; k++)
            {
                _xDense[(b * d) + input.Indices[k]] = T.One;
            }
        }

        return _xDense;
    }

    /// <summary>
    /// Exact gradient of the leaky readout o_t = o_{t-1} + (W s_t + c − o_{t-1}) τ, τ = sigmoid(p):
    /// do_t/dW = (1−τ) do_{t-1}/dW + τ s_t, do_t/dc = (1−τ) do_{t-1}/dc + τ,
    /// do_t/dp = (1−τ) do_{t-1}/dp + (h_t − o_{t-1}) τ (1−τ).
    /// </summary>
    private void LeakyReadoutStep(LeakyReadout<T> readout, ReadoutTape<T> rt, ReadOnlySpan<T> spikes, ReadOnlySpan<T> gOut, bool hasLoss)
    {
        int c = readout.Size;
        int n = readout.InputSize;
        ReadOnlySpan<T> h = rt.Slot(rt.H, 0);
        ReadOnlySpan<T> oPrev = rt.Slot(rt.O, 0);
        T[] gw = readout.Weight.Grad;
        for (int b = 0; b < Batch; b++)
        {
            ReadOnlySpan<T> s = spikes.Slice(b * n, n);
            for (int k = 0; k < c; k++)
            {
                int e = (b * c) + k;
                T tau = T.One / (T.One + T.Exp(-readout.TauParameter.Data[k]));
                T keep = T.One - tau;
                Span<T> ew = _readoutW.AsSpan(e * n, n);
                T g = hasLoss ? gOut[e] : T.Zero;
                TraceKernels.Decay(ew, keep, s, tau, gw.AsSpan(k * n, n), g);
                _readoutC[e] = (keep * _readoutC[e]) + tau;
                _readoutP[e] = (keep * _readoutP[e]) + ((h[e] - oPrev[e]) * tau * keep);
                readout.Bias.Grad[k] += g * _readoutC[e];
                readout.TauParameter.Grad[k] += g * _readoutP[e];
            }
        }
    }
}

/// <summary>
/// e-prop (Bellec et al. 2020): eligibility traces of the neuron's own dynamics with the reset
/// treated as a constant and no self-recurrent synapse in the trace (for LIF the trace of W_ji is
/// the pseudo-derivative times the presynaptic trace filtered with the neuron's decay; ALIF adds
/// the adaptation component), and a learning signal broadcast from the current output error:
/// L_j = Σ_k B_jk (y_k − y*_k) (times the leaky readout's τ_k), with B = W_out^T for the last
/// layer (<see cref="EpropFeedback.Symmetric"/>) or a fixed random matrix (<see cref="EpropFeedback.Random"/>,
/// and always for lower layers). The readout gets its exact gradient.
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class EligibilityPropLearner<T> : TraceLearner<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the learner: an update every <paramref name="chunkLength"/> observed steps.</summary>
    public EligibilityPropLearner(Network<T> network, Optimizer<T> optimizer, int batch, int chunkLength, EpropFeedback feedback = EpropFeedback.Symmetric, double gradientClip = 1.0)
        : base(network, optimizer, batch, chunkLength, gradientClip, ostl: false, feedback)
    {
    }

    /// <summary>Gradients only, no optimiser: one slice of a data-parallel batch whose update another learner applies.</summary>
    internal EligibilityPropLearner(Network<T> network, int batch, int chunkLength, EpropFeedback feedback)
        : base(network, null, batch, chunkLength, 0, ostl: false, feedback)
    {
    }
}

/// <summary>
/// Online Spatio-Temporal Learning (Bohnstingl et al. 2022): the gradient is split into a spatial
/// part, the exact gradient of the current loss with respect to every layer's state at this step
/// (backpropagated through the readout and down the layers within the step), and a temporal part,
/// per-synapse traces of d(state)/dθ through each neuron's own dynamics (reset and self-recurrent
/// synapse included), dropping the recurrence through other neurons. With one neuron per layer
/// and a membrane readout it is exact BPTT. The readout gets its exact gradient.
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class OstlLearner<T> : TraceLearner<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the learner: an update every <paramref name="chunkLength"/> observed steps.</summary>
    public OstlLearner(Network<T> network, Optimizer<T> optimizer, int batch, int chunkLength, double gradientClip = 1.0)
        : base(network, optimizer, batch, chunkLength, gradientClip, ostl: true, EpropFeedback.Symmetric)
    {
    }

    /// <summary>Gradients only, no optimiser: one slice of a data-parallel batch whose update another learner applies.</summary>
    internal OstlLearner(Network<T> network, int batch, int chunkLength)
        : base(network, null, batch, chunkLength, 0, ostl: true, EpropFeedback.Symmetric)
    {
    }
}

/// <summary>SIMD loops over trace rows.</summary>
internal static class TraceKernels
{
    /// <summary>
    /// One row of a two-variable trace: temporal part (tm, tb) = A (em, eb); grad += gm tm + gb tb
    /// (when <paramref name="accumulate"/>); then em = tm + cm x, eb = tb + cb x.
    /// </summary>
    public static void Row2<T>(Span<T> em, Span<T> eb, ReadOnlySpan<T> x, T a11, T a12, T a21, T a22, T cm, T cb, T gm, T gb, Span<T> grad, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = em.Length;
        int i = 0;
        ref T pm = ref MemoryMarshal.GetReference(em);
        ref T pb = ref MemoryMarshal.GetReference(eb);
        ref T px = ref MemoryMarshal.GetReference(x);
        ref T pg = ref MemoryMarshal.GetReference(grad);
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported && w >= Vector<T>.Count)
        {
            var v11 = new Vector<T>(a11);
            var v12 = new Vector<T>(a12);
            var v21 = new Vector<T>(a21);
            var v22 = new Vector<T>(a22);
            var vcm = new Vector<T>(cm);
            var vcb = new Vector<T>(cb);
            var vgm = new Vector<T>(gm);
            var vgb = new Vector<T>(gb);
            for (; i <= w - Vector<T>.Count; i += Vector<T>.Count)
            {
                Vector<T> m = Vector.LoadUnsafe(ref pm, (nuint)i);
                Vector<T> b = Vector.LoadUnsafe(ref pb, (nuint)i);
                Vector<T> xv = Vector.LoadUnsafe(ref px, (nuint)i);
                Vector<T> tm = (v11 * m) + (v12 * b);
                Vector<T> tb = (v21 * m) + (v22 * b);
                if (accumulate)
                {
                    Vector<T> g = Vector.LoadUnsafe(ref pg, (nuint)i);
                    ((g + (vgm * tm)) + (vgb * tb)).StoreUnsafe(ref pg, (nuint)i);
                }

                (tm + (vcm * xv)).StoreUnsafe(ref pm, (nuint)i);
                (tb + (vcb * xv)).StoreUnsafe(ref pb, (nuint)i);
            }
        }

        for (; i < w; i++)
        {
            T m = Unsafe.Add(ref pm, i);
            T b = Unsafe.Add(ref pb, i);
            T xv = Unsafe.Add(ref px, i);
            T tm = (a11 * m) + (a12 * b);
            T tb = (a21 * m) + (a22 * b);
            if (accumulate)
            {
                Unsafe.Add(ref pg, i) += (gm * tm) + (gb * tb);
            }

            Unsafe.Add(ref pm, i) = tm + (cm * xv);
            Unsafe.Add(ref pb, i) = tb + (cb * xv);
        }
    }

    /// <summary>One row of a one-variable trace: t = a e; grad += g t (when accumulating); e = t + c x.</summary>
    public static void Row1<T>(Span<T> e, ReadOnlySpan<T> x, T a, T c, T g, Span<T> grad, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = e.Length;
        int i = 0;
        ref T pe = ref MemoryMarshal.GetReference(e);
        ref T px = ref MemoryMarshal.GetReference(x);
        ref T pg = ref MemoryMarshal.GetReference(grad);
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported && w >= Vector<T>.Count)
        {
            var va = new Vector<T>(a);
            var vc = new Vector<T>(c);
            var vg = new Vector<T>(g);
            for (; i <= w - Vector<T>.Count; i += Vector<T>.Count)
            {
                Vector<T> t = va * Vector.LoadUnsafe(ref pe, (nuint)i);
                if (accumulate)
                {
                    (Vector.LoadUnsafe(ref pg, (nuint)i) + (vg * t)).StoreUnsafe(ref pg, (nuint)i);
                }

                (t + (vc * Vector.LoadUnsafe(ref px, (nuint)i))).StoreUnsafe(ref pe, (nuint)i);
            }
        }

        for (; i < w; i++)
        {
            T t = a * Unsafe.Add(ref pe, i);
            if (accumulate)
            {
                Unsafe.Add(ref pg, i) += g * t;
            }

            Unsafe.Add(ref pe, i) = t + (c * Unsafe.Add(ref px, i));
        }
    }

    /// <summary>Leaky filter with the gradient after the step: e = keep e + c x; grad += g e (when g ≠ 0).</summary>
    public static void Decay<T>(Span<T> e, T keep, ReadOnlySpan<T> x, T c, Span<T> grad, T g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < e.Length; i++)
        {
            e[i] = (keep * e[i]) + (c * x[i]);
        }

        if (g != T.Zero)
        {
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(e, g, grad, grad);
        }
    }
}
