using System.Numerics;
using System.Numerics.Tensors;

namespace EventSnn.Snn;

/// <summary>
/// The optimisers with torch's first moment (Adam, Adamax): β1, β2, ε, L2 weight decay, their
/// hyper-parameter record, and the step they share: g ← g + wd·w; m ← m + (1−β1)(g − m).
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public abstract class MomentOptimizer<T> : Optimizer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private protected MomentOptimizer(ParameterSet<T> parameters, double learningRate, double beta1, double beta2, double epsilon, double weightDecay, IReadOnlyList<string> stateNames)
        : base(parameters, learningRate, stateNames)
    {
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
    }

    /// <summary>β1.</summary>
    public double Beta1 { get; }

    /// <summary>β2.</summary>
    public double Beta2 { get; }

    /// <summary>ε.</summary>
    public double Epsilon { get; }

    /// <summary>L2 weight decay added to the gradient.</summary>
    public double WeightDecay { get; }

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> HyperParameters => new Dictionary<string, double>
    {
        ["lr"] = LearningRate,
        ["beta1"] = Beta1,
        ["beta2"] = Beta2,
        ["eps"] = Epsilon,
        ["weight_decay"] = WeightDecay,
    };

    /// <summary>
    /// One block of the shared step: <paramref name="g"/> ← scale·grad (+ wd·w), then
    /// m ← m + (1−β1)(g − m), with <paramref name="scratch"/> as work space.
    /// </summary>
    private protected void GradientAndFirstMoment(ReadOnlySpan<T> grad, T gradScale, ReadOnlySpan<T> w, Span<T> m, Span<T> g, Span<T> scratch)
    {
        TensorPrimitives.Multiply(grad, gradScale, g);
        if (WeightDecay != 0)
        {
            TensorPrimitives.MultiplyAdd(w, T.CreateTruncating(WeightDecay), g, g);
        }

        TensorPrimitives.Subtract(g, m, scratch);
        TensorPrimitives.MultiplyAdd(scratch, T.CreateTruncating(1 - Beta1), m, m);
    }
}

/// <summary>
/// Adam exactly as torch.optim.Adam (amsgrad off): g ← g + wd·w; m ← m + (1−β1)(g − m)
/// (lerp); v ← β2 v + (1−β2) g²; w ← w − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε).
/// State names "exp_avg", "exp_avg_sq".
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class Adam<T> : MomentOptimizer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private T _stepSize;
    private T _bc2Sqrt;

    /// <summary>Creates the optimiser (PyTorch defaults; ε is added after the bias-corrected square root).</summary>
    public Adam(ParameterSet<T> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
        : base(parameters, learningRate, beta1, beta2, epsilon, weightDecay, ["exp_avg", "exp_avg_sq"])
    {
    }

    /// <inheritdoc/>
    public override string Name => "adam";

    /// <summary>lr / (1 − β1ᵗ) of the current step (after <see cref="BeginStep"/>).</summary>
    internal T StepSize => _stepSize;

    /// <summary>√(1 − β2ᵗ) of the current step.</summary>
    internal T Bc2Sqrt => _bc2Sqrt;

    /// <inheritdoc/>
    public override void BeginStep()
    {
        StepCount++;
        double bc1 = 1 - Math.Pow(Beta1, StepCount);
        double bc2 = 1 - Math.Pow(Beta2, StepCount);
        _stepSize = T.CreateTruncating(LearningRate / bc1);
        _bc2Sqrt = T.CreateTruncating(Math.Sqrt(bc2));
    }

    /// <inheritdoc/>
    public override void UpdateRange(int parameterIndex, int start, int length, T gradScale)
    {
        Parameter<T> p = Parameters[parameterIndex];
        T[] m = GetState(0, parameterIndex);
        T[] v = GetState(1, parameterIndex);
        T b2 = T.CreateTruncating(Beta2);
        T oneMinusB2 = T.CreateTruncating(1 - Beta2);
        T eps = T.CreateTruncating(Epsilon);
        T negStep = -_stepSize;
        for (int off = start; off < start + length; off += Block)
        {
            int len = Math.Min(Block, start + length - off);
            Span<T> g = Tmp1.AsSpan(0, len);
            Span<T> t2 = Tmp2.AsSpan(0, len);
            Span<T> w = p.Data.AsSpan(off, len);
            Span<T> mm = m.AsSpan(off, len);
            Span<T> vv = v.AsSpan(off, len);
            GradientAndFirstMoment(p.Grad.AsSpan(off, len), gradScale, w, mm, g, t2);
            TensorPrimitives.Multiply(vv, b2, vv);
            TensorPrimitives.Multiply(g, g, t2);
            TensorPrimitives.MultiplyAdd(t2, oneMinusB2, vv, vv);
            TensorPrimitives.Sqrt(vv, t2);
            TensorPrimitives.Divide(t2, _bc2Sqrt, t2);
            TensorPrimitives.Add(t2, eps, t2);
            TensorPrimitives.Divide(mm, t2, t2);
            TensorPrimitives.MultiplyAdd(t2, negStep, w, w);
        }
    }
}

/// <summary>
/// Adamax exactly as torch.optim.Adamax: g ← g + wd·w; m ← m + (1−β1)(g − m);
/// u ← max(β2 u, |g| + ε); w ← w − (lr / (1−β1ᵗ)) · m / u. State names "exp_avg", "exp_inf".
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class Adamax<T> : MomentOptimizer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private T _clr;

    /// <summary>Creates the optimiser (PyTorch defaults; ε is added to |g| inside the max).</summary>
    public Adamax(ParameterSet<T> parameters, double learningRate = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
        : base(parameters, learningRate, beta1, beta2, epsilon, weightDecay, ["exp_avg", "exp_inf"])
    {
    }

    /// <inheritdoc/>
    public override string Name => "adamax";

    /// <summary>lr / (1 − β1ᵗ) of the current step (after <see cref="BeginStep"/>).</summary>
    internal T StepSize => _clr;

    /// <inheritdoc/>
    public override void BeginStep()
    {
        StepCount++;
        _clr = T.CreateTruncating(LearningRate / (1 - Math.Pow(Beta1, StepCount)));
    }

    /// <inheritdoc/>
    public override void UpdateRange(int parameterIndex, int start, int length, T gradScale)
    {
        Parameter<T> p = Parameters[parameterIndex];
        T[] m = GetState(0, parameterIndex);
        T[] u = GetState(1, parameterIndex);
        T b2 = T.CreateTruncating(Beta2);
        T eps = T.CreateTruncating(Epsilon);
        for (int off = start; off < start + length; off += Block)
        {
            int len = Math.Min(Block, start + length - off);
            Span<T> g = Tmp1.AsSpan(0, len);
            Span<T> t2 = Tmp2.AsSpan(0, len);
            Span<T> w = p.Data.AsSpan(off, len);
            Span<T> mm = m.AsSpan(off, len);
            Span<T> uu = u.AsSpan(off, len);
            GradientAndFirstMoment(p.Grad.AsSpan(off, len), gradScale, w, mm, g, t2);
            TensorPrimitives.Abs(g, t2);
            TensorPrimitives.Add(t2, eps, t2);
            TensorPrimitives.Multiply(uu, b2, uu);
            TensorPrimitives.Max(uu, t2, uu);
            TensorPrimitives.Divide(mm, uu, t2);
            TensorPrimitives.MultiplyAdd(t2, -_clr, w, w);
        }
    }
}

/// <summary>
/// SGD with momentum exactly as torch.optim.SGD: d ← g + wd·w; buf ← d on the first step,
/// else μ·buf + (1 − dampening)·d; d ← d + μ·buf (Nesterov) or buf; w ← w − lr·d.
/// State name "momentum_buffer".
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class Sgd<T> : Optimizer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the optimiser.</summary>
    public Sgd(ParameterSet<T> parameters, double learningRate, double momentum = 0, double dampening = 0, bool nesterov = false, double weightDecay = 0)
        : base(parameters, learningRate, ["momentum_buffer"])
    {
        if (nesterov && (momentum <= 0 || dampening != 0))
        {
            throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening");
        }

        Momentum = momentum;
        Dampening = dampening;
        Nesterov = nesterov;
        WeightDecay = weightDecay;
    }

    /// <summary>μ.</summary>
    public double Momentum { get; }

    /// <summary>Dampening.</summary>
    public double Dampening { get; }

    /// <summary>Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <summary>L2 weight decay.</summary>
    public double WeightDecay { get; }

    /// <inheritdoc/>
    public override string Name => "sgd";

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> HyperParameters => new Dictionary<string, double>
    {
        ["lr"] = LearningRate,
        ["momentum"] = Momentum,
        ["dampening"] = Dampening,
        ["nesterov"] = Nesterov ? 1 : 0,
        ["weight_decay"] = WeightDecay,
    };

    /// <inheritdoc/>
    public override void BeginStep() => StepCount++;

    /// <inheritdoc/>
    public override void UpdateRange(int parameterIndex, int start, int length, T gradScale)
    {
        Parameter<T> p = Parameters[parameterIndex];
        T[] buf = GetState(0, parameterIndex);
        T mu = T.CreateTruncating(Momentum);
        T oneMinusDamp = T.CreateTruncating(1 - Dampening);
        T wd = T.CreateTruncating(WeightDecay);
        T negLr = T.CreateTruncating(-LearningRate);
        bool first = StepCount == 1;
        for (int off = start; off < start + length; off += Block)
        {
            int len = Math.Min(Block, start + length - off);
            Span<T> d = Tmp1.AsSpan(0, len);
            Span<T> w = p.Data.AsSpan(off, len);
            TensorPrimitives.Multiply(p.Grad.AsSpan(off, len), gradScale, d);
            if (WeightDecay != 0)
            {
                TensorPrimitives.MultiplyAdd(w, wd, d, d);
            }

            if (Momentum != 0)
            {
                Span<T> b = buf.AsSpan(off, len);
                if (first)
                {
                    d.CopyTo(b);
                }
                else
                {
                    TensorPrimitives.Multiply(b, mu, b);
                    TensorPrimitives.MultiplyAdd(d, oneMinusDamp, b, b);
                }

                if (Nesterov)
                {
                    TensorPrimitives.MultiplyAdd(b, mu, d, d);
                }
                else
                {
                    b.CopyTo(d);
                }
            }

            TensorPrimitives.MultiplyAdd(d, negLr, w, w);
        }
    }
}
