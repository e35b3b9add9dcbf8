using System.Numerics;
using System.Numerics.Tensors;

namespace EventSnn.Snn;

/// <summary>
/// The multi-Gaussian surrogate derivative of the Heaviside spike function used in the
/// backward pass (reference §1, the authors' ActFun_adp):
/// dH/dv ≈ gain [(1 + h) g(v; 0, w) − h g(v; w, s w) − h g(v; −w, s w)], with
/// g(v; μ, σ) = exp(−(v − μ)² / (2σ²)) / (√(2π) σ), w = 0.3, s = 6, h = 0.15, gain = 0.5.
/// </summary>
public static class Surrogate
{
    /// <summary>Width w of the central Gaussian.</summary>
    public const double Width = 0.3;

    /// <summary>Scale s of the side lobes' width (s w).</summary>
    public const double SideScale = 6.0;

    /// <summary>Height h of the side lobes.</summary>
    public const double Height = 0.15;

    /// <summary>Overall gain (the code's gamma).</summary>
    public const double Gain = 0.5;

    /// <summary>The surrogate derivative at <paramref name="v"/> = u − θ.</summary>
    public static double Derivative(double v) =>
        Gain * (((1 + Height) * Gaussian(v, 0, Width)) - (Height * Gaussian(v, Width, SideScale * Width)) - (Height * Gaussian(v, -Width, SideScale * Width)));

    /// <summary>
    /// The antiderivative of <see cref="Derivative"/> that is 0 at −∞ (test-only smooth spike
    /// function: a model using it instead of the Heaviside has exactly the surrogate as its
    /// true derivative, so finite differences can check the backward pass).
    /// </summary>
    public static double Integral(double v) =>
        Gain * (((1 + Height) * NormalCdf(v / Width)) - (Height * NormalCdf((v - Width) / (SideScale * Width))) - (Height * NormalCdf((v + Width) / (SideScale * Width))));

    /// <summary>Vectorised surrogate: <paramref name="dst"/>[i] = Derivative(v[i]); <paramref name="tmp"/> is scratch.</summary>
    public static void Derivative<T>(ReadOnlySpan<T> v, Span<T> dst, Span<T> tmp)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = v.Length;
        dst = dst[..n];
        tmp = tmp[..n];
        double sqrt2Pi = Math.Sqrt(2 * Math.PI);
        double side = SideScale * Width;

        // central lobe
        TensorPrimitives.Multiply(v, v, tmp);
        TensorPrimitives.Multiply(tmp, T.CreateTruncating(-1.0 / (2 * Width * Width)), tmp);
        TensorPrimitives.Exp(tmp, tmp);
        TensorPrimitives.Multiply(tmp, T.CreateTruncating(Gain * (1 + Height) / (sqrt2Pi * Width)), dst);

        // side lobes at +w and -w
        T sideCoef = T.CreateTruncating(-Gain * Height / (sqrt2Pi * side));
        T sideExp = T.CreateTruncating(-1.0 / (2 * side * side));
        SideLobe(v, dst, tmp, T.CreateTruncating(Width), sideExp, sideCoef);
        SideLobe(v, dst, tmp, T.CreateTruncating(-Width), sideExp, sideCoef);
    }

    private static void SideLobe<T>(ReadOnlySpan<T> v, Span<T> dst, Span<T> tmp, T mu, T sideExp, T sideCoef)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Subtract(v, mu, tmp);
        TensorPrimitives.Multiply(tmp, tmp, tmp);
        TensorPrimitives.Multiply(tmp, sideExp, tmp);
        TensorPrimitives.Exp(tmp, tmp);
        TensorPrimitives.MultiplyAdd(tmp, sideCoef, dst, dst);
    }

    private static double Gaussian(double v, double mu, double sigma) =>
        Math.Exp(-((v - mu) * (v - mu)) / (2 * sigma * sigma)) / (Math.Sqrt(2 * Math.PI) * sigma);

    private static double NormalCdf(double x) => 0.5 * (1 + MathNet.Numerics.SpecialFunctions.Erf(x / Math.Sqrt(2)));
}
