namespace EventSnn.Snn.Classification;

/// <summary>
/// Accuracy of the same weights on the same samples under each <see cref="DecisionReadout"/>: the
/// last step's readout, the mean of log_softmax over the steps, and its maximum over the steps.
/// One inference pass reads all three, so choosing a reading needs no second evaluation.
/// </summary>
/// <param name="Last">Accuracy with <see cref="DecisionReadout.Last"/>.</param>
/// <param name="Mean">Accuracy with <see cref="DecisionReadout.Mean"/>.</param>
/// <param name="Max">Accuracy with <see cref="DecisionReadout.Max"/>.</param>
public readonly record struct DecisionAccuracies(double Last, double Mean, double Max)
{
    /// <summary>No samples: every reading NaN.</summary>
    public static DecisionAccuracies None { get; } = new(double.NaN, double.NaN, double.NaN);

    /// <summary>The accuracy under <paramref name="readout"/>.</summary>
    public double Of(DecisionReadout readout) => readout switch
    {
        DecisionReadout.Last => Last,
        DecisionReadout.Mean => Mean,
        DecisionReadout.Max => Max,
        _ => throw new ArgumentOutOfRangeException(nameof(readout), readout, "unknown decision readout"),
    };
}
