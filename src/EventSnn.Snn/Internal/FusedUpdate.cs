using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EventSnn.Snn.Internal;

/// <summary>Constants of the FPTT part of a fused step (and the clip scale of the gradient).</summary>
internal readonly record struct FpttStepConstants(
    float Scale,
    float WeightDecay,
    float Alpha,
    float OneMinusBeta,
    float Beta,
    float BetaOverAlpha);

/// <summary>The optimiser's per-element rule inside a fused step: updates the moments m, v and returns the new weight.</summary>
internal interface IFusedRule
{
    Vector256<float> Step(Vector256<float> w, Vector256<float> g, ref Vector256<float> m, ref Vector256<float> v);

    float Step(float w, float g, ref float m, ref float v);
}

/// <summary>Adam (PyTorch semantics): m ← m + (1−β1)(g − m); v ← β2 v + (1−β2) g²; w ← w − (lr/(1−β1ᵗ)) m / (√v/√(1−β2ᵗ) + ε).</summary>
internal readonly struct AdamRule : IFusedRule
{
    // the constants broadcast once (a broadcast inside the update loop costs a vector instruction per use);
    // the scalar tail reads lane 0
    private readonly Vector256<float> _vOneMinusBeta1;
    private readonly Vector256<float> _vBeta2;
    private readonly Vector256<float> _vOneMinusBeta2;
    private readonly Vector256<float> _vInvBc2Sqrt;
    private readonly Vector256<float> _vEpsilon;
    private readonly Vector256<float> _vNegStepSize;

    public AdamRule(float oneMinusBeta1, float beta2, float oneMinusBeta2, float bc2Sqrt, float epsilon, float negStepSize)
    {
        _vOneMinusBeta1 = Vector256.Create(oneMinusBeta1);
        _vBeta2 = Vector256.Create(beta2);
        _vOneMinusBeta2 = Vector256.Create(oneMinusBeta2);
        _vInvBc2Sqrt = Vector256.Create(1f / bc2Sqrt);
        _vEpsilon = Vector256.Create(epsilon);
        _vNegStepSize = Vector256.Create(negStepSize);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Step(Vector256<float> w, Vector256<float> g, ref Vector256<float> m, ref Vector256<float> v)
    {
        m = Vector256.FusedMultiplyAdd(g - m, _vOneMinusBeta1, m);
        v = Vector256.FusedMultiplyAdd(g * g, _vOneMinusBeta2, v * _vBeta2);
        Vector256<float> denom = Vector256.FusedMultiplyAdd(Vector256.Sqrt(v), _vInvBc2Sqrt, _vEpsilon); // √v/√(1−β2ᵗ) + ε
        return Vector256.FusedMultiplyAdd(m / denom, _vNegStepSize, w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Step(float w, float g, ref float m, ref float v)
    {
        m += (g - m) * _vOneMinusBeta1.ToScalar();
        v = (v * _vBeta2.ToScalar()) + (g * g * _vOneMinusBeta2.ToScalar());
        return w + ((m / ((MathF.Sqrt(v) * _vInvBc2Sqrt.ToScalar()) + _vEpsilon.ToScalar())) * _vNegStepSize.ToScalar());
    }
}

/// <summary>Adamax (PyTorch semantics): m ← m + (1−β1)(g − m); u ← max(β2 u, |g| + ε); w ← w − (lr/(1−β1ᵗ)) m / u.</summary>
internal readonly struct AdamaxRule : IFusedRule
{
    // the constants broadcast once, as in AdamRule
    private readonly Vector256<float> _vOneMinusBeta1;
    private readonly Vector256<float> _vBeta2;
    private readonly Vector256<float> _vEpsilon;
    private readonly Vector256<float> _vNegStepSize;

    public AdamaxRule(float oneMinusBeta1, float beta2, float epsilon, float negStepSize)
    {
        _vOneMinusBeta1 = Vector256.Create(oneMinusBeta1);
        _vBeta2 = Vector256.Create(beta2);
        _vEpsilon = Vector256.Create(epsilon);
        _vNegStepSize = Vector256.Create(negStepSize);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Step(Vector256<float> w, Vector256<float> g, ref Vector256<float> m, ref Vector256<float> v)
    {
        m = Vector256.FusedMultiplyAdd(g - m, _vOneMinusBeta1, m);
        v = Vector256.Max(v * _vBeta2, Vector256.Abs(g) + _vEpsilon);
        return Vector256.FusedMultiplyAdd(m / v, _vNegStepSize, w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Step(float w, float g, ref float m, ref float v)
    {
        m += (g - m) * _vOneMinusBeta1.ToScalar();
        v = MathF.Max(v * _vBeta2.ToScalar(), MathF.Abs(g) + _vEpsilon.ToScalar());
        return w + ((m / v) * _vNegStepSize.ToScalar());
    }
}

/// <summary>
/// One pass per element doing, exactly in this order: the optimiser step (Adam or Adamax, PyTorch
/// semantics) on the clipped gradient, λ ← λ − α(W − W̄), W̄ ← (1−β)W̄ + (βW − (β/α)λ), and the
/// pre-fill of the next chunk's regulariser gradient G ← α(W − W̄) − λ (so that the next backward
/// pass accumulates the task gradient on top of it). Also returns the next chunk's regulariser
/// value −⟨W, λ⟩ + (α/2)‖W − W̄‖² of the elements. Elements are independent, so disjoint ranges
/// of a parameter may be updated concurrently.
/// </summary>
internal static class FusedUpdate
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe double Fptt<TRule>(Span<float> wS, Span<float> gS, Span<float> mS, Span<float> vS, Span<float> barS, Span<float> lamS, in FpttStepConstants c, in TRule rule, out double nextGradNormSq)
        where TRule : struct, IFusedRule
    {
        double gradSq = 0;
        int n = wS.Length;
        if (gS.Length < n || mS.Length < n || vS.Length < n || barS.Length < n || lamS.Length < n)
        {
            throw new ArgumentException("fused update buffers differ in length");
        }

        double reg = 0;

        // a local copy: read through the `in` reference, the rule's constants are loaded again after every
        // store through the float pointers (which might alias them)
        TRule r = rule;
        fixed (float* w = wS, g = gS, m = mS, v = vS, bar = barS, lam = lamS)
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> scale = Vector256.Create(c.Scale);
                Vector256<float> wd = Vector256.Create(c.WeightDecay);
                Vector256<float> alpha = Vector256.Create(c.Alpha);
                Vector256<float> negAlpha = Vector256.Create(-c.Alpha);
                Vector256<float> ombeta = Vector256.Create(c.OneMinusBeta);
                Vector256<float> beta = Vector256.Create(c.Beta);
                Vector256<float> negBoA = Vector256.Create(-c.BetaOverAlpha);
                bool decay = c.WeightDecay != 0;
                while (i + 8 <= n)
                {
                    int end = Math.Min(n & ~7, i + 512);
                    Vector256<float> accLin = Vector256<float>.Zero;
                    Vector256<float> accSq = Vector256<float>.Zero;
                    Vector256<float> accG = Vector256<float>.Zero;
                    for (; i < end; i += 8)
                    {
                        Vector256<float> wi = Vector256.Load(w + i);
                        Vector256<float> gi = Vector256.Load(g + i) * scale;
                        if (decay)
                        {
                            gi = Vector256.FusedMultiplyAdd(wi, wd, gi);
                        }

                        Vector256<float> mi = Vector256.Load(m + i);
                        Vector256<float> vi = Vector256.Load(v + i);
                        wi = r.Step(wi, gi, ref mi, ref vi);
                        mi.Store(m + i);
                        vi.Store(v + i);
                        wi.Store(w + i);

                        Vector256<float> bari = Vector256.Load(bar + i);
                        Vector256<float> lami = Vector256.FusedMultiplyAdd(wi - bari, negAlpha, Vector256.Load(lam + i));
                        bari = (bari * ombeta) + Vector256.FusedMultiplyAdd(lami, negBoA, wi * beta);
                        lami.Store(lam + i);
                        bari.Store(bar + i);

                        Vector256<float> d = wi - bari;
                        Vector256<float> gNext = Vector256.FusedMultiplyAdd(d, alpha, -lami);
                        gNext.Store(g + i);
                        accG = Vector256.FusedMultiplyAdd(gNext, gNext, accG);
                        accLin = Vector256.FusedMultiplyAdd(wi, lami, accLin);
                        accSq = Vector256.FusedMultiplyAdd(d, d, accSq);
                    }

                    reg += (0.5 * c.Alpha * Vector256.Sum(accSq)) - Vector256.Sum(accLin);
                    gradSq += Vector256.Sum(accG);
                }
            }

            for (; i < n; i++)
            {
                float gi = g[i] * c.Scale;
                if (c.WeightDecay != 0)
                {
                    gi += c.WeightDecay * w[i];
                }

                float wi = r.Step(w[i], gi, ref m[i], ref v[i]);
                w[i] = wi;
                float lami = lam[i] - (c.Alpha * (wi - bar[i]));
                float bari = (bar[i] * c.OneMinusBeta) + ((c.Beta * wi) - (c.BetaOverAlpha * lami));
                lam[i] = lami;
                bar[i] = bari;
                float d = wi - bari;
                g[i] = (c.Alpha * d) - lami;
                gradSq += (double)g[i] * g[i];
                reg += (0.5 * c.Alpha * d * d) - ((double)wi * lami);
            }
        }

        nextGradNormSq = gradSq;
        return reg;
    }
}
