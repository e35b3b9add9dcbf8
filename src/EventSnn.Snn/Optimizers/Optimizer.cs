using System.Numerics;

namespace EventSnn.Snn;

/// <summary>
/// Base of the optimisers (PyTorch semantics). A step is <see cref="BeginStep"/> followed
/// by <see cref="UpdateRange"/> over every element of every parameter; the learners call
/// UpdateRange block by block so that the FPTT updates run on data still in cache.
/// Gradients are read from <see cref="Parameter{T}.Grad"/> multiplied by a scale (the
/// gradient-clipping coefficient).
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public abstract class Optimizer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Elements processed per inner block.</summary>
    internal const int Block = 1024;

    private readonly T[][][] _state;

    /// <summary>Creates the optimiser with one state buffer per parameter for each of <paramref name="stateNames"/>.</summary>
    private protected Optimizer(ParameterSet<T> parameters, double learningRate, IReadOnlyList<string> stateNames)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfNegative(learningRate);
        Parameters = parameters;
        LearningRate = learningRate;
        StateNames = stateNames;
        _state = new T[stateNames.Count][][];
        for (int s = 0; s < _state.Length; s++)
        {
            _state[s] = new T[parameters.Count][];
            for (int p = 0; p < parameters.Count; p++)
            {
                _state[s][p] = new T[parameters[p].Length];
            }
        }

        Tmp1 = new T[Block];
        Tmp2 = new T[Block];
    }

    /// <summary>Parameters updated.</summary>
    public ParameterSet<T> Parameters { get; }

    /// <summary>Current learning rate (set by a schedule between steps).</summary>
    public double LearningRate { get; set; }

    /// <summary>Steps taken (PyTorch's "step" state, used by bias corrections).</summary>
    public long StepCount { get; private protected set; }

    /// <summary>Name: "adam", "adamax" or "sgd".</summary>
    public abstract string Name { get; }

    /// <summary>Hyper-parameters as name/value pairs (for checkpoints).</summary>
    public abstract IReadOnlyDictionary<string, double> HyperParameters { get; }

    /// <summary>Names of the per-parameter state buffers (PyTorch's names, e.g. "exp_avg").</summary>
    public IReadOnlyList<string> StateNames { get; }

    /// <summary>Bytes of the optimiser state.</summary>
    public long StateBytes => StateNames.Count * Parameters.TotalLength * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();

    private protected T[] Tmp1 { get; }

    private protected T[] Tmp2 { get; }

    /// <summary>State buffer <paramref name="slot"/> of parameter <paramref name="parameterIndex"/>.</summary>
    public T[] GetState(int slot, int parameterIndex) => _state[slot][parameterIndex];

    /// <summary>Zeroes all moments and the step count.</summary>
    public virtual void ResetState()
    {
        foreach (T[][] slot in _state)
        {
            foreach (T[] buf in slot)
            {
                Array.Clear(buf);
            }
        }

        StepCount = 0;
    }

    /// <summary>Restores the step count (checkpoint loading).</summary>
    public void SetStepCount(long steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        StepCount = steps;
    }

    /// <summary>One full step over all parameters with gradients scaled by <paramref name="gradScale"/>.</summary>
    public void Step(double gradScale = 1.0)
    {
        BeginStep();
        T scale = T.CreateTruncating(gradScale);
        for (int p = 0; p < Parameters.Count; p++)
        {
            UpdateRange(p, 0, Parameters[p].Length, scale);
            Parameters[p].MarkChanged();
        }
    }

    /// <summary>Starts a step: increments the step count and computes the step's constants.</summary>
    public abstract void BeginStep();

    /// <summary>Updates elements [start, start + length) of parameter <paramref name="parameterIndex"/>.</summary>
    public abstract void UpdateRange(int parameterIndex, int start, int length, T gradScale);
}
