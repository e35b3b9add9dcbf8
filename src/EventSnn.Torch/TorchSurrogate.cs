using EventSnn.Snn;
using TorchSharp;
using static TorchSharp.torch;

namespace EventSnn.Torch;

/// <summary>
/// The spike function of the TorchSharp backend: the Heaviside step in the forward pass and
/// exactly the managed engine's multi-Gaussian surrogate (<see cref="Surrogate"/>) in the
/// backward pass, in the straight-through form
/// <c>s = H(v) + (v − v.detach()) · σ'(v).detach()</c>. In the forward pass the second term is
/// exactly zero (x − x = 0 in IEEE arithmetic), so s = H(v) bit for bit; its derivative with
/// respect to v is σ'(v), the surrogate itself (not the derivative of an approximation of its
/// antiderivative).
/// </summary>
public static class TorchSurrogate
{
    private static readonly double Side = Surrogate.SideScale * Surrogate.Width;
    private static readonly double Sqrt2Pi = Math.Sqrt(2 * Math.PI);
    private static readonly double CentralCoef = Surrogate.Gain * (1 + Surrogate.Height) / (Sqrt2Pi * Surrogate.Width);
    private static readonly double CentralExp = -1.0 / (2 * Surrogate.Width * Surrogate.Width);
    private static readonly double SideCoef = -Surrogate.Gain * Surrogate.Height / (Sqrt2Pi * Side);
    private static readonly double SideExp = -1.0 / (2 * Side * Side);

    /// <summary>The surrogate derivative σ'(v) element-wise (no autograd history).</summary>
    public static Tensor Derivative(Tensor v)
    {
        ArgumentNullException.ThrowIfNull(v);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor central = v.square().mul_(CentralExp).exp_().mul_(CentralCoef);
        Tensor plus = v.sub(Surrogate.Width).square().mul_(SideExp).exp_();
        Tensor minus = v.add(Surrogate.Width).square().mul_(SideExp).exp_();
        Tensor result = central.add_(plus.add_(minus).mul_(SideCoef));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Spikes H(v) (float 0/1). When <paramref name="v"/> requires a gradient, the result carries
    /// the surrogate gradient through the straight-through form; otherwise it is the plain step.
    /// </summary>
    public static Tensor Spike(Tensor v)
    {
        ArgumentNullException.ThrowIfNull(v);
        using var scope = NewDisposeScope();
        Tensor h = v.gt(0).to_type(ScalarType.Float32);
        if (!v.requires_grad)
        {
            return h.MoveToOuterDisposeScope();
        }

        Tensor sg = Derivative(v);
        Tensor st = v.sub(v.detach()).mul(sg);
        return h.add(st).MoveToOuterDisposeScope();
    }
}
