namespace EventSnn.Snn.Classification;

/// <summary>
/// Loss weights of the steps of a training sequence per the recipe (loss placement, weighting,
/// oracle term), shared by every batch backend so that they weight the same steps identically.
/// </summary>
public static class LossSchedule
{
    /// <summary>
    /// The NLL weight and the oracle-term weight of step <paramref name="t"/> of a sequence of
    /// <paramref name="steps"/> steps, in chunk <paramref name="chunk"/> of <paramref name="chunks"/>
    /// spanning [<paramref name="start"/>, <paramref name="end"/>). Every step: progress (t+1)/T
    /// (linear) or 1 (uniform), oracle weight 1 − progress, both divided by the chunk's steps.
    /// Chunk end: only the last step of a chunk; FPTT weights chunk p of P (p+1)/P (linear) or 1
    /// with oracle weight 1 − (p+1)/P, BPTT weights its single chunk 1 without oracle term; the other chunked methods (TBPTT, e-prop, OSTL) weight chunks as FPTT.
    /// </summary>
    public static (double Weight, double Oracle) Weights(LossPlacement loss, LossWeighting weighting, bool oracle, SequenceTrainingMethod method, int steps, int t, int chunk, int chunks, int start, int end)
    {
        bool linear = weighting == LossWeighting.Linear;
        if (loss == LossPlacement.EveryStep)
        {
            double progress = (t + 1.0) / steps;
            double w = linear ? progress : 1.0;
            double share = 1.0 / (end - start);
            return (w * share, oracle ? (1 - progress) * share : 0);
        }

        if (t != end - 1)
        {
            return (0, 0);
        }

        if (!SequenceTrainingMethods.Chunked(method))
        {
            return (1, 0);
        }

        double cw = Fptt.ChunkWeight(chunk, chunks);
        return (linear ? cw : 1.0, oracle ? 1 - cw : 0);
    }
}
