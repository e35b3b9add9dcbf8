using System.Numerics;

namespace EventSnn.Snn;

/// <summary>Loss applied to a step's readout output.</summary>
public enum LossKind
{
    /// <summary>No loss at this step.</summary>
    None,

    /// <summary>Negative log-likelihood of log_softmax(output) (mean over the batch), plus an optional oracle term.</summary>
    Classification,

    /// <summary>Mean squared error over batch and outputs (PyTorch MSELoss, reduction mean).</summary>
    Regression,
}

/// <summary>
/// The target of one step for B streams and its loss weight:
/// classification: weight · mean_b(−log p_b[y_b]) + oracleWeight · mean_{b,c}(−q[b,c] log p_b[c]);
/// regression: weight · mean_{b,c}(output − y)².
/// FPTT's terminal-label weighting uses weight = (p+1)/P and oracleWeight = 1 − (p+1)/P
/// (see <see cref="Fptt.ChunkWeight"/>).
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public readonly ref struct StepTarget<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Classification target: one label per stream.</summary>
    public StepTarget(ReadOnlySpan<int> labels, double weight, ReadOnlySpan<T> oracle = default, double oracleWeight = 0)
    {
        Kind = LossKind.Classification;
        Labels = labels;
        Weight = weight;
        Oracle = oracle;
        OracleWeight = oracleWeight;
    }

    /// <summary>Regression target: B x C values.</summary>
    public StepTarget(ReadOnlySpan<T> values, double weight)
    {
        Kind = LossKind.Regression;
        Values = values;
        Weight = weight;
    }

    /// <summary>Kind of loss (default: none).</summary>
    public LossKind Kind { get; }

    /// <summary>Labels (classification), one per stream.</summary>
    public ReadOnlySpan<int> Labels { get; }

    /// <summary>Targets (regression), B x C.</summary>
    public ReadOnlySpan<T> Values { get; }

    /// <summary>Weight of the main term.</summary>
    public double Weight { get; }

    /// <summary>Oracle class distribution q (B x C), optional.</summary>
    public ReadOnlySpan<T> Oracle { get; }

    /// <summary>Weight of the oracle term.</summary>
    public double OracleWeight { get; }

    /// <summary>True when this step contributes to the loss.</summary>
    public bool Active => Kind != LossKind.None && (Weight != 0 || (OracleWeight != 0 && !Oracle.IsEmpty));
}
