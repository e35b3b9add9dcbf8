namespace EventSnn.Snn;

/// <summary>A learning rate as a function of the epoch (PyTorch's schedulers in closed form).</summary>
public interface ILearningRateSchedule
{
    /// <summary>Learning rate to use during epoch <paramref name="epoch"/> (0-based).</summary>
    double LearningRate(int epoch);
}

/// <summary>
/// Step decay: lr = base · γ^k where k is the number of milestones ≤ epoch
/// (torch.optim.lr_scheduler.MultiStepLR; <see cref="Every"/> gives StepLR).
/// </summary>
public sealed class StepSchedule : ILearningRateSchedule
{
    private readonly int[] _milestones;
    private readonly int _every;

    /// <summary>MultiStepLR with the given milestones (epochs at which lr is multiplied by <paramref name="gamma"/>).</summary>
    public StepSchedule(double baseLearningRate, IEnumerable<int> milestones, double gamma)
    {
        ArgumentNullException.ThrowIfNull(milestones);
        BaseLearningRate = baseLearningRate;
        Gamma = gamma;
        _milestones = [.. milestones];
        Array.Sort(_milestones);
    }

    private StepSchedule(double baseLearningRate, int every, double gamma)
    {
        BaseLearningRate = baseLearningRate;
        Gamma = gamma;
        _milestones = [];
        _every = every;
    }

    /// <summary>Initial learning rate.</summary>
    public double BaseLearningRate { get; }

    /// <summary>Decay factor.</summary>
    public double Gamma { get; }

    /// <summary>StepLR: multiply by <paramref name="gamma"/> every <paramref name="stepSize"/> epochs.</summary>
    public static StepSchedule Every(double baseLearningRate, int stepSize, double gamma)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepSize, 1);
        return new StepSchedule(baseLearningRate, stepSize, gamma);
    }

    /// <inheritdoc/>
    public double LearningRate(int epoch)
    {
        int k;
        if (_every > 0)
        {
            k = epoch / _every;
        }
        else
        {
            k = 0;
            foreach (int m in _milestones)
            {
                if (m <= epoch)
                {
                    k++;
                }
            }
        }

        return BaseLearningRate * Math.Pow(Gamma, k);
    }
}

/// <summary>
/// Cosine annealing (torch.optim.lr_scheduler.CosineAnnealingLR, closed form):
/// lr = η_min + (base − η_min)(1 + cos(π · epoch / T_max)) / 2.
/// </summary>
public sealed class CosineSchedule : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    public CosineSchedule(double baseLearningRate, int maxEpochs, double minLearningRate = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEpochs, 1);
        BaseLearningRate = baseLearningRate;
        MaxEpochs = maxEpochs;
        MinLearningRate = minLearningRate;
    }

    /// <summary>Initial learning rate.</summary>
    public double BaseLearningRate { get; }

    /// <summary>T_max.</summary>
    public int MaxEpochs { get; }

    /// <summary>η_min.</summary>
    public double MinLearningRate { get; }

    /// <inheritdoc/>
    public double LearningRate(int epoch) =>
        MinLearningRate + ((BaseLearningRate - MinLearningRate) * (1 + Math.Cos(Math.PI * epoch / MaxEpochs)) / 2);
}
