using System.Numerics;
using System.Runtime.CompilerServices;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn;

/// <summary>
/// Eligibility traces of one recurrent layer for the online trace learners: for every stream b,
/// state variable v (0: the membrane, m_t for LTC and u_t for ALIF/LIF; 1: the threshold
/// adaptation b_t, only when the threshold adapts) and parameter element θ, d(state_v)/dθ through
/// the neuron's own dynamics. Per step and neuron, the traces of all its parameters share one 2x2
/// (or 1x1) transition A and differ only in the immediate derivative (cm, cb) x_c, where x_c is the
/// presynaptic value (input, previous spike, gate input, or 1). With input normalisation the
/// current is I = γ ⊙ â + bias + W_rec s, â = (W_in x − μ) r: the statistics are constants
/// (running) or kept on their diagonal (layer norm, ∂â_j/∂a_j = r (1 − 1/N − â_j²/N)), so the
/// input weights' immediate coefficient is scaled per neuron by γ_j ∂â_j/∂a_j and the gain γ_j
/// has the presynaptic value â_j. See the project README for the derivation.
/// </summary>
internal sealed class LayerTraces<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Entry[] _entries;
    private readonly T[] _slope;

    public LayerTraces(RecurrentLayer<T> layer, int batch)
    {
        Layer = layer;
        Batch = batch;
        N = layer.Size;
        Ltc = layer is LtcLayer<T>;
        Beta = T.CreateTruncating(layer.Config.ThresholdAdaptation);
        B0 = T.CreateTruncating(layer.Config.ThresholdBase);
        bool adaptive = layer switch
        {
            LtcLayer<T> ltc => ltc.Adaptive,
            SoftResetLayer<T> alif => alif.Adaptive,
            _ => throw new ArgumentException($"no eligibility traces for {layer.GetType().Name}", nameof(layer)),
        };
        if (!adaptive)
        {
            Beta = T.Zero;
        }

        Vars = adaptive ? 2 : 1;
        int row = batch * N;
        Ps = new T[row];
        Qs = new T[row];
        Pu = new T[row];
        Qu = new T[row];
        Gm = new T[row];
        Gb = new T[row];
        A11 = new T[row];
        A12 = new T[row];
        A21 = new T[row];
        A22 = new T[row];
        CurM = new T[row];
        CurB = new T[row];
        Psi = new T[row];
        Tmp = new T[row];
        _slope = new T[N];
        if (layer.Norm is not (InputNormKind.None or InputNormKind.Running or InputNormKind.Layer))
        {
            throw new ArgumentException($"the trace learners (e-prop, OSTL) support running and layer normalisation, not {layer.Norm} (layer {layer.Index})", nameof(layer));
        }

        if (layer.RecurrentNormGain is not null)
        {
            throw new ArgumentException($"the trace learners (e-prop, OSTL) do not support a normalised recurrent current (layer {layer.Index}, RecurrentNorm)", nameof(layer));
        }

        NormScale = layer.Norm == InputNormKind.None ? null : new T[row];
        var entries = new List<Entry>
        {
            new(layer.InputWeight, layer.InputSize, Kind.Input, batch, Vars, N),
            new(layer.InputBias, 1, Kind.Bias, batch, Vars, N),
        };
        if (layer.NormGain is not null)
        {
            entries.Add(new Entry(layer.NormGain, 1, Kind.NormGain, batch, Vars, N));
        }
        if (layer.RecurrentWeight is not null)
        {
            entries.Add(new Entry(layer.RecurrentWeight, N, Kind.Recurrent, batch, Vars, N));
        }

        if (layer is LtcLayer<T> l)
        {
            TauM = new T[row];
            entries.Add(new Entry(l.TauWeight, 2 * N, Kind.TauWeight, batch, Vars, N));
            entries.Add(new Entry(l.TauBias, 1, Kind.TauBias, batch, Vars, N));
            if (l.TauSlope is not null)
            {
                SlopeTau = new T[row];
                entries.Add(new Entry(l.TauSlope, 1, Kind.TauSlope, batch, Vars, N));
            }

            if (adaptive)
            {
                RhoB = new T[row];
                entries.Add(new Entry(l.RhoWeight, 2 * N, Kind.RhoWeight, batch, Vars, N));
                entries.Add(new Entry(l.RhoBias, 1, Kind.RhoBias, batch, Vars, N));
                if (l.RhoSlope is not null)
                {
                    SlopeRho = new T[row];
                    entries.Add(new Entry(l.RhoSlope, 1, Kind.RhoSlope, batch, Vars, N));
                }
            }
        }
        else if (layer is SoftResetLayer<T> s)
        {
            AlphaM = new T[row];
            entries.Add(new Entry(s.TauMembrane, 1, Kind.TauMembrane, batch, Vars, N));
            if (s.TauAdaptation is not null)
            {
                AdpM = new T[row];
                AdpB = new T[row];
                entries.Add(new Entry(s.TauAdaptation, 1, Kind.TauAdaptation, batch, Vars, N));
            }
        }

        _entries = [.. entries];
    }

    private enum Kind
    {
        Input,
        Bias,
        NormGain,
        Recurrent,
        TauWeight,
        TauBias,
        TauSlope,
        RhoWeight,
        RhoBias,
        RhoSlope,
        TauMembrane,
        TauAdaptation,
    }

    public RecurrentLayer<T> Layer { get; }

    public int Batch { get; }

    public int N { get; }

    public bool Ltc { get; }

    /// <summary>State variables per trace: 2 (membrane, adaptation) or 1.</summary>
    public int Vars { get; }

    public T Beta { get; }

    public T B0 { get; }

    // ds_{t-1} = Ps dx1 + Qs db and (LTC) du_{t-1} = Pu dm + Qu db, from the previous step
    private T[] Ps { get; }

    private T[] Qs { get; }

    private T[] Pu { get; }

    private T[] Qu { get; }

    // dL_t/d(state) of this step
    private T[] Gm { get; }

    private T[] Gb { get; }

    private T[] A11 { get; }

    private T[] A12 { get; }

    private T[] A21 { get; }

    private T[] A22 { get; }

    // immediate coefficients per kind of parameter
    private T[] CurM { get; }

    private T[] CurB { get; }

    private T[]? TauM { get; }

    private T[]? RhoB { get; }

    private T[]? SlopeTau { get; }

    private T[]? SlopeRho { get; }

    private T[]? AlphaM { get; }

    private T[]? AdpM { get; }

    private T[]? AdpB { get; }

    private T[] Psi { get; }

    // normalised layers: γ_j ∂â_j/∂a_j per (stream, neuron), the input weights' scale
    private T[]? NormScale { get; }

    private T[] Tmp { get; }

    public long Bytes
    {
        get
        {
            long n = 0;
            foreach (Entry e in _entries)
            {
                n += e.Trace.Length;
            }

            int row = Batch * N;
            int coef = 14 + Count(NormScale) + Count(TauM) + Count(RhoB) + Count(SlopeTau) + Count(SlopeRho) + Count(AlphaM) + Count(AdpM) + Count(AdpB);
            return (n + ((long)coef * row) + _slope.Length) * Unsafe.SizeOf<T>();
        }
    }

    private static int Count(T[]? a) => a is null ? 0 : 1;

    public void Clear()
    {
        foreach (Entry e in _entries)
        {
            Array.Clear(e.Trace);
        }

        Array.Clear(Ps);
        Array.Clear(Qs);
        Array.Clear(Pu);
        Array.Clear(Qu);
    }

    public bool TryTrace(Parameter<T> parameter, int b, int variable, int row, int column, out T value)
    {
        foreach (Entry e in _entries)
        {
            if (ReferenceEquals(e.Parameter, parameter))
            {
                value = e.Trace[(((((b * Vars) + variable) * N) + row) * e.Width) + (e.Width == 1 ? 0 : column)];
                return true;
            }
        }

        value = T.Zero;
        return false;
    }

    /// <summary>
    /// This step's dL_t/d(state) from the learning signal in the tape's carries (GS = dL_t/ds_t,
    /// GU = dL_t/du_t); <paramref name="reset"/> = 1 differentiates the reset, 0 treats it as a constant.
    /// </summary>
    public void Signal(LayerTape<T> tape, bool hasLoss, T reset)
    {
        ReadOnlySpan<T> v = Ltc ? tape.Slot(((LtcTape<T>)tape).V, 0) : tape.Slot(((AlifTape<T>)tape).V, 0);
        Surrogate.Derivative(v, Psi, Tmp);
        if (!hasLoss)
        {
            Array.Clear(Gm);
            Array.Clear(Gb);
            return;
        }

        ReadOnlySpan<T> gs = tape.GS;
        ReadOnlySpan<T> gu = tape.GU;
        ReadOnlySpan<T> s = tape.Slot(tape.S, 1);
        for (int e = 0; e < Gm.Length; e++)
        {
            T psi = Psi[e];
            if (Ltc)
            {
                // u = (1 - s) m, s = H(m - b0 - beta b)
                T m = ((LtcTape<T>)tape).M[e];
                T gsTot = gs[e] - (reset * gu[e] * m);
                Gm[e] = (gu[e] * (T.One - s[e])) + (gsTot * psi);
                Gb[e] = -(Beta * gsTot * psi);
            }
            else
            {
                // s = H(u - b0 - beta b)
                Gm[e] = gu[e] + (gs[e] * psi);
                Gb[e] = -(Beta * gs[e] * psi);
            }
        }
    }

    /// <summary>
    /// Advances every trace by this step (tape slot 0): adds the temporal part times the signal to the
    /// gradient, then the immediate derivative to the trace. <paramref name="x"/>: the layer's input rows.
    /// </summary>
    public void Step(LayerTape<T> tape, ReadOnlySpan<T> x, ReadOnlySpan<T> one, bool hasLoss, T reset, bool selfRecurrence)
    {
        if (Ltc)
        {
            LtcCoefficients((LtcTape<T>)tape, selfRecurrence);
        }
        else
        {
            AlifCoefficients((AlifTape<T>)tape, reset, selfRecurrence);
        }

        int n = N;
        int d = Layer.InputSize;
        ReadOnlySpan<T> sPrev = tape.Slot(tape.S, 0);
        LtcTape<T>? lt = tape as LtcTape<T>;
        ReadOnlySpan<T> aHat = NormScale is null ? default : tape.Slot(tape.AHat, 0);
        if (NormScale is not null)
        {
            NormScales(tape);
        }

        foreach (Entry en in _entries)
        {
            int w = en.Width;
            bool slope = en.Kind is Kind.TauSlope or Kind.RhoSlope;
            if (slope)
            {
                Array.Clear(_slope);
            }

            for (int b = 0; b < Batch; b++)
            {
                ReadOnlySpan<T> xr = en.Kind switch
                {
                    Kind.Input => x.Slice(b * d, d),
                    Kind.Recurrent => sPrev.Slice(b * n, n),
                    Kind.TauWeight => lt!.Cat(lt.CatTau, 0).Slice(b * 2 * n, 2 * n),
                    Kind.RhoWeight => lt!.Cat(lt.CatRho, 0).Slice(b * 2 * n, 2 * n),
                    _ => one,
                };
                (T[]? cmA, T[]? cbA) = ImmediateOf(en.Kind);
                bool scaled = en.Kind == Kind.Input && NormScale is not null;
                for (int j = 0; j < n; j++)
                {
                    int e = (b * n) + j;
                    T cm = cmA is null ? T.Zero : cmA[e];
                    T cb = cbA is null ? T.Zero : cbA[e];
                    if (scaled)
                    {
                        cm *= NormScale![e];
                        cb *= NormScale[e];
                    }

                    if (en.Kind == Kind.NormGain)
                    {
                        xr = aHat.Slice(e, 1);
                    }

                    Span<T> grad = slope ? _slope.AsSpan(j, 1) : en.Parameter.Grad.AsSpan(j * w, w);
                    bool acc = hasLoss && (Gm[e] != T.Zero || Gb[e] != T.Zero);
                    int baseM = ((((b * Vars) + 0) * n) + j) * w;
                    if (Vars == 2)
                    {
                        int baseB = ((((b * Vars) + 1) * n) + j) * w;
                        TraceKernels.Row2(en.Trace.AsSpan(baseM, w), en.Trace.AsSpan(baseB, w), xr, A11[e], A12[e], A21[e], A22[e], cm, cb, Gm[e], Gb[e], grad, acc);
                    }
                    else
                    {
                        TraceKernels.Row1(en.Trace.AsSpan(baseM, w), xr, A11[e], cm, Gm[e], grad, acc);
                    }
                }
            }

            if (slope)
            {
                T sum = T.Zero;
                foreach (T g in _slope)
                {
                    sum += g;
                }

                en.Parameter.Grad[0] += sum;
            }
        }

        // coefficients of ds_t (and du_t) for the next step
        ReadOnlySpan<T> s = tape.Slot(tape.S, 1);
        for (int e = 0; e < Ps.Length; e++)
        {
            T psi = Psi[e];
            Ps[e] = psi;
            Qs[e] = -(Beta * psi);
            if (Ltc)
            {
                T m = lt!.M[e];
                Pu[e] = T.One - s[e] - (reset * m * psi);
                Qu[e] = reset * m * Beta * psi;
            }
        }
    }

    /// <summary>The immediate coefficients (on the membrane, on the adaptation) of a kind of parameter.</summary>
    private (T[]? Membrane, T[]? Adaptation) ImmediateOf(Kind kind)
    {
        switch (kind)
        {
            case Kind.Input:
            case Kind.Bias:
            case Kind.NormGain:
            case Kind.Recurrent:
                return (CurM, Ltc ? CurB : null);
            case Kind.TauWeight:
            case Kind.TauBias:
                return (TauM, null);
            case Kind.RhoWeight:
            case Kind.RhoBias:
                return (null, RhoB);
            case Kind.TauSlope:
                return (SlopeTau, null);
            case Kind.RhoSlope:
                return (null, SlopeRho);
            case Kind.TauMembrane:
                return (AlphaM, null);
            default:
                return (AdpM, AdpB);
        }
    }

    /// <summary>
    /// NormScale = γ_j ∂â_j/∂a_j of tape slot 0: running statistics are constants (∂â_j/∂a_j = r_j);
    /// layer norm keeps the diagonal of its Jacobian, r_b (1 − 1/N − â_bj²/N).
    /// </summary>
    private void NormScales(LayerTape<T> tape)
    {
        int n = N;
        T[] gain = Layer.NormGain!.Data;
        ReadOnlySpan<T> aHat = tape.Slot(tape.AHat, 0);
        T[] scale = NormScale!;
        if (Layer.Norm == InputNormKind.Running)
        {
            ReadOnlySpan<T> inv = tape.NormInv.AsSpan(0, n);
            for (int b = 0; b < Batch; b++)
            {
                for (int j = 0; j < n; j++)
                {
                    scale[(b * n) + j] = gain[j] * inv[j];
                }
            }

            return;
        }

        T invN = T.One / T.CreateTruncating(n);
        for (int b = 0; b < Batch; b++)
        {
            T r = tape.NormInv[b];
            for (int j = 0; j < n; j++)
            {
                int e = (b * n) + j;
                T h = aHat[e];
                scale[e] = gain[j] * r * (T.One - invN - (h * h * invN));
            }
        }
    }

    /// <summary>
    /// LTC, diagonal in the neuron: tau_j and rho_j keep only their own columns (W_tau[j, j] on I_j,
    /// W_tau[j, N+j] on u_j; W_rho[j, j], W_rho[j, N+j] on b_j); the self-recurrent synapse W_rec[j, j]
    /// only when <paramref name="selfRecurrence"/>.
    /// </summary>
    private void LtcCoefficients(LtcTape<T> tape, bool selfRecurrence)
    {
        var layer = (LtcLayer<T>)Layer;
        int n = N;
        int n2 = 2 * n;
        ReadOnlySpan<T> catTau = tape.Cat(tape.CatTau, 0);
        ReadOnlySpan<T> catRho = tape.Cat(tape.CatRho, 0);
        ReadOnlySpan<T> sPrev = tape.Slot(tape.S, 0);
        T kTau = layer.TauSlope is null ? T.One : layer.TauSlope.Data[0];
        T kRho = layer.RhoSlope is null ? T.One : layer.RhoSlope.Data[0];
        T[] wTau = layer.TauWeight.Data;
        T[] wRho = layer.RhoWeight.Data;
        T[]? wRec = selfRecurrence ? layer.RecurrentWeight?.Data : null;
        bool adaptive = Vars == 2;
        for (int b = 0; b < Batch; b++)
        {
            for (int j = 0; j < n; j++)
            {
                int e = (b * n) + j;
                T current = catTau[(b * n2) + j];
                T uPrev = catTau[(b * n2) + n + j];
                T tau = tape.Tau[e];
                T dTau = tau * (T.One - tau);
                T gTau = dTau * kTau;
                T dI = current - uPrev;
                T wrr = wRec is null ? T.Zero : wRec[(j * n) + j];
                T ku = (T.One - tau) + (dI * gTau * wTau[(j * n2) + n + j]);
                T kI = tau + (dI * gTau * wTau[(j * n2) + j]);
                A11[e] = (ku * Pu[e]) + (kI * wrr * Ps[e]);
                CurM[e] = kI;
                TauM![e] = dI * gTau;
                if (SlopeTau is not null)
                {
                    SlopeTau[e] = dI * dTau * tape.Za[e];
                }

                if (!adaptive)
                {
                    continue;
                }

                A12[e] = (ku * Qu[e]) + (kI * wrr * Qs[e]);
                T rho = tape.Rho[e];
                T dRho = rho * (T.One - rho);
                T gRho = dRho * kRho;
                T db = catRho[(b * n2) + n + j] - sPrev[e];
                T lb = rho + (db * gRho * wRho[(j * n2) + n + j]);
                T lI = db * gRho * wRho[(j * n2) + j];
                T viaS = (lI * wrr) + (T.One - rho);
                A21[e] = viaS * Ps[e];
                A22[e] = lb + (viaS * Qs[e]);
                CurB[e] = lI;
                RhoB![e] = db * gRho;
                if (SlopeRho is not null)
                {
                    SlopeRho[e] = db * dRho * tape.Zr[e];
                }
            }
        }
    }

    /// <summary>ALIF/LIF: u_t = α u + (1−α) I − θ_t s_{t-1}; the reset term differentiated when <paramref name="reset"/> = 1.</summary>
    private void AlifCoefficients(AlifTape<T> tape, T reset, bool selfRecurrence)
    {
        var layer = (SoftResetLayer<T>)Layer;
        int n = N;
        ReadOnlySpan<T> sPrev = tape.Slot(tape.S, 0);
        ReadOnlySpan<T> uPrev = tape.Slot(tape.U, 0);
        ReadOnlySpan<T> bPrev = tape.Slot(tape.B, 0);
        ReadOnlySpan<T> bNow = tape.Slot(tape.B, 1);
        ReadOnlySpan<T> current = tape.Slot(tape.I, 0);
        T[]? wRec = selfRecurrence ? layer.RecurrentWeight?.Data : null;
        bool adaptive = Vars == 2;
        for (int b = 0; b < Batch; b++)
        {
            for (int j = 0; j < n; j++)
            {
                int e = (b * n) + j;
                T alpha = tape.Alpha[j];
                T wrr = wRec is null ? T.Zero : wRec[(j * n) + j];
                T theta = B0 + (Beta * bNow[e]);
                T sp = sPrev[e];
                T tm = layer.TauMembrane.Data[j];
                CurM[e] = T.One - alpha;
                AlphaM![e] = (uPrev[e] - current[e]) * alpha / (tm * tm);
                if (!adaptive)
                {
                    A11[e] = alpha + ((T.One - alpha) * wrr * Ps[e]) - (reset * theta * Ps[e]);
                    continue;
                }

                T rho = tape.Rho[j];
                T a21 = (T.One - rho) * Ps[e];
                T a22 = rho + ((T.One - rho) * Qs[e]);
                A21[e] = a21;
                A22[e] = a22;
                A11[e] = alpha + ((T.One - alpha) * wrr * Ps[e]) - (reset * ((Beta * sp * a21) + (theta * Ps[e])));
                A12[e] = ((T.One - alpha) * wrr * Qs[e]) - (reset * ((Beta * sp * a22) + (theta * Qs[e])));
                CurB[e] = T.Zero;
                T ta = layer.TauAdaptation!.Data[j];
                T adpB = (bPrev[e] - sp) * rho / (ta * ta);
                AdpB![e] = adpB;
                AdpM![e] = -(reset * Beta * sp * adpB);
            }
        }
    }

    private sealed class Entry
    {
        public Entry(Parameter<T> parameter, int width, Kind kind, int batch, int vars, int n)
        {
            Parameter = parameter;
            Width = width;
            Kind = kind;
            Trace = new T[batch * vars * n * width];
        }

        public Parameter<T> Parameter { get; }

        public int Width { get; }

        public Kind Kind { get; }

        public T[] Trace { get; }
    }
}
