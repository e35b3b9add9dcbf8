using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EventSnn.Snn.Internal;

/// <summary>Constants of one fused Adam + FPTT step.</summary>
internal readonly record struct AdamFpttStep(
    float Scale,
    float OneMinusBeta1,
    float Beta2,
    float OneMinusBeta2,
    float Bc2Sqrt,
    float Epsilon,
    float NegStepSize,
    float WeightDecay,
    float Alpha,
    float OneMinusBeta,
    float Beta,
    float BetaOverAlpha);

/// <summary>
/// One pass per element doing, exactly in this order: the Adam step (PyTorch semantics) on the
/// clipped gradient, λ ← λ − α(W − W̄), W̄ ← (1−β)W̄ + (βW − (β/α)λ), and the pre-fill of the
/// next chunk's regulariser gradient G ← α(W − W̄) − λ (so that the next backward pass
/// accumulates the task gradient on top of it). Also returns the next chunk's regulariser value
/// −⟨W, λ⟩ + (α/2)‖W − W̄‖².
/// </summary>
internal static class FusedUpdate
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe double AdamFptt(Span<float> wS, Span<float> gS, Span<float> mS, Span<float> vS, Span<float> barS, Span<float> lamS, in AdamFpttStep c, out double nextGradNormSq)
    {
        double gradSq = 0;
        int n = wS.Length;
        if (gS.Length < n || mS.Length < n || vS.Length < n || barS.Length < n || lamS.Length < n)
        {
            throw new ArgumentException("fused update buffers differ in length");
        }

        double reg = 0;
        fixed (float* w = wS, g = gS, m = mS, v = vS, bar = barS, lam = lamS)
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> scale = Vector256.Create(c.Scale);
                Vector256<float> omb1 = Vector256.Create(c.OneMinusBeta1);
                Vector256<float> b2 = Vector256.Create(c.Beta2);
                Vector256<float> omb2 = Vector256.Create(c.OneMinusBeta2);
                Vector256<float> invBc2 = Vector256.Create(1f / c.Bc2Sqrt);
                Vector256<float> eps = Vector256.Create(c.Epsilon);
                Vector256<float> negStep = Vector256.Create(c.NegStepSize);
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
                        mi = Vector256.FusedMultiplyAdd(gi - mi, omb1, mi);
                        Vector256<float> vi = Vector256.FusedMultiplyAdd(gi * gi, omb2, Vector256.Load(v + i) * b2);
                        Vector256<float> denom = Vector256.FusedMultiplyAdd(Vector256.Sqrt(vi), invBc2, eps); // √v/√(1−β2ᵗ) + ε
                        wi = Vector256.FusedMultiplyAdd(mi / denom, negStep, wi);
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

                float mi = m[i] + ((gi - m[i]) * c.OneMinusBeta1);
                float vi = (v[i] * c.Beta2) + (gi * gi * c.OneMinusBeta2);
                float wi = w[i] + ((mi / ((MathF.Sqrt(vi) * (1f / c.Bc2Sqrt)) + c.Epsilon)) * c.NegStepSize);
                m[i] = mi;
                v[i] = vi;
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
