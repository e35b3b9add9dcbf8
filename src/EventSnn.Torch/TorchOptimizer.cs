using EventSnn.Snn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EventSnn.Torch;

/// <summary>Optimiser family of the TorchSharp backend (torch.optim implementations).</summary>
public enum TorchOptimizerKind
{
    /// <summary>torch.optim.Adam (amsgrad off).</summary>
    Adam,

    /// <summary>torch.optim.Adamax.</summary>
    Adamax,

    /// <summary>torch.optim.SGD (momentum, dampening, Nesterov).</summary>
    Sgd,
}

/// <summary>
/// Hyper-parameters of a torch.optim optimiser, with the PyTorch defaults (note: TorchSharp's
/// <c>torch.optim.Adam</c> factory defaults beta2 to 0.99; this record always passes 0.999
/// unless told otherwise, like PyTorch and the managed <see cref="Adam{T}"/>).
/// </summary>
public sealed record TorchOptimizerOptions
{
    /// <summary>Family.</summary>
    public TorchOptimizerKind Kind { get; init; } = TorchOptimizerKind.Adam;

    /// <summary>Learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>β1 (Adam, Adamax).</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>β2 (Adam, Adamax).</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>ε (Adam, Adamax).</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>L2 weight decay.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Momentum (SGD).</summary>
    public double Momentum { get; init; }

    /// <summary>Dampening (SGD).</summary>
    public double Dampening { get; init; }

    /// <summary>Nesterov momentum (SGD).</summary>
    public bool Nesterov { get; init; }

    /// <summary>The managed optimiser's name ("adam", "adamax", "sgd"), as stored in checkpoints.</summary>
    public string Name => Kind switch
    {
        TorchOptimizerKind.Adam => "adam",
        TorchOptimizerKind.Adamax => "adamax",
        _ => "sgd",
    };

    /// <summary>The same hyper-parameters as a managed optimiser's.</summary>
    public static TorchOptimizerOptions FromManaged(Optimizer<float> optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        return optimizer switch
        {
            Adam<float> a => new TorchOptimizerOptions { Kind = TorchOptimizerKind.Adam, LearningRate = a.LearningRate, Beta1 = a.Beta1, Beta2 = a.Beta2, Epsilon = a.Epsilon, WeightDecay = a.WeightDecay },
            Adamax<float> a => new TorchOptimizerOptions { Kind = TorchOptimizerKind.Adamax, LearningRate = a.LearningRate, Beta1 = a.Beta1, Beta2 = a.Beta2, Epsilon = a.Epsilon, WeightDecay = a.WeightDecay },
            Sgd<float> s => new TorchOptimizerOptions { Kind = TorchOptimizerKind.Sgd, LearningRate = s.LearningRate, Momentum = s.Momentum, Dampening = s.Dampening, Nesterov = s.Nesterov, WeightDecay = s.WeightDecay },
            _ => throw new ArgumentException($"no torch.optim counterpart for '{optimizer.Name}'", nameof(optimizer)),
        };
    }

    /// <summary>A managed optimiser with the same hyper-parameters on <paramref name="parameters"/>.</summary>
    public Optimizer<float> CreateManaged(ParameterSet<float> parameters) => Kind switch
    {
        TorchOptimizerKind.Adam => new Adam<float>(parameters, LearningRate, Beta1, Beta2, Epsilon, WeightDecay),
        TorchOptimizerKind.Adamax => new Adamax<float>(parameters, LearningRate, Beta1, Beta2, Epsilon, WeightDecay),
        _ => new Sgd<float>(parameters, LearningRate, Momentum, Dampening, Nesterov, WeightDecay),
    };

    /// <summary>Creates the torch.optim optimiser on <paramref name="parameters"/>.</summary>
    public OptimizerHelper Create(IEnumerable<Parameter> parameters) => Kind switch
    {
        TorchOptimizerKind.Adam => new Adam(parameters, LearningRate, Beta1, Beta2, Epsilon, WeightDecay),
        TorchOptimizerKind.Adamax => new Adamax(parameters, LearningRate, Beta1, Beta2, Epsilon, WeightDecay),
        _ => new SGD(parameters, LearningRate, Momentum, Dampening, WeightDecay, Nesterov),
    };
}

/// <summary>Moves optimiser state between torch.optim optimisers and the managed optimisers (same names as PyTorch).</summary>
public static class TorchOptimizerState
{
    /// <summary>Steps taken (Adam/Adamax: the first parameter's step; SGD: 1 once a momentum buffer exists, else 0).</summary>
    public static long StepCount(OptimizerHelper optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        List<OptimizerState> states = optimizer.state_dict().State;
        if (states.Count == 0)
        {
            return 0;
        }

        return states[0] switch
        {
            Adam.State a => a.step,
            Adamax.State a => a.step,
            SGD.State s => s.momentum_buffer is null ? 0 : 1,
            _ => 0,
        };
    }

    /// <summary>Copies the state of <paramref name="optimizer"/> into the managed <paramref name="target"/> (same family and parameter layout).</summary>
    public static void CopyTo(OptimizerHelper optimizer, Optimizer<float> target, long stepCount)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(target);
        List<OptimizerState> states = optimizer.state_dict().State;
        for (int p = 0; p < states.Count; p++)
        {
            switch (states[p])
            {
                case Adam.State a:
                    TorchState.ToArray(a.exp_avg, target.GetState(0, p));
                    TorchState.ToArray(a.exp_avg_sq, target.GetState(1, p));
                    break;
                case Adamax.State a:
                    TorchState.ToArray(a.exp_avg, target.GetState(0, p));
                    TorchState.ToArray(a.exp_inf, target.GetState(1, p));
                    break;
                case SGD.State s:
                    if (s.momentum_buffer is null)
                    {
                        Array.Clear(target.GetState(0, p));
                    }
                    else
                    {
                        TorchState.ToArray(s.momentum_buffer, target.GetState(0, p));
                    }

                    break;
                default:
                    throw new ArgumentException($"unsupported optimiser state {states[p].GetType().Name}", nameof(optimizer));
            }
        }

        target.SetStepCount(stepCount);
    }

    /// <summary>Copies the managed optimiser's state into <paramref name="optimizer"/> (same family and parameter layout).</summary>
    public static void CopyFrom(OptimizerHelper optimizer, Optimizer<float> source)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(source);
        List<OptimizerState> states = optimizer.state_dict().State;
        using var noGrad = no_grad();
        for (int p = 0; p < states.Count; p++)
        {
            switch (states[p])
            {
                case Adam.State a:
                    a.exp_avg.data<float>().CopyFrom(source.GetState(0, p), 0, 0);
                    a.exp_avg_sq.data<float>().CopyFrom(source.GetState(1, p), 0, 0);
                    a.step = source.StepCount;
                    break;
                case Adamax.State a:
                    a.exp_avg.data<float>().CopyFrom(source.GetState(0, p), 0, 0);
                    a.exp_inf.data<float>().CopyFrom(source.GetState(1, p), 0, 0);
                    a.step = source.StepCount;
                    break;
                case SGD.State s:
                    s.momentum_buffer?.Dispose();
                    s.momentum_buffer = null;
                    if (source.StepCount > 0 && source.GetState(0, p).Length > 0)
                    {
                        Tensor buf = empty(optimizer.parameters().ElementAt(p).shape, ScalarType.Float32);
                        buf.data<float>().CopyFrom(source.GetState(0, p), 0, 0);
                        s.momentum_buffer = buf.DetachFromDisposeScope();
                    }

                    break;
                default:
                    throw new ArgumentException($"unsupported optimiser state {states[p].GetType().Name}", nameof(optimizer));
            }
        }

        foreach (optim.ILearningRateController g in optimizer.ParamGroups)
        {
            g.LearningRate = source.LearningRate;
        }
    }
}
