namespace EventSnn.Snn.Classification;

/// <summary>
/// Tells a real divergence from an ordinary wrong answer. A loss is a divergence when it is not
/// finite, or when it exceeds <see cref="Factor"/> times max(running mean loss, ln C): a
/// confidently wrong answer costs a cross-entropy of a few tens at most, a running-away network
/// costs orders of magnitude more. The running mean is an exponential average of the accepted
/// losses; the ln C floor keeps a well-fitted stream (mean loss near 0) from treating its first
/// mistake as an explosion. Used by the offline trainer (per batch) and the streaming classifier
/// (per chunk); the caller rolls back and counts.
/// </summary>
public sealed class DivergenceGuard
{
    private readonly double _floor;
    private readonly double _rate;
    private double _mean = double.NaN;

    /// <summary>Creates the guard for <paramref name="classes"/> classes.</summary>
    /// <param name="classes">Classes C (the floor of the reference loss is ln C).</param>
    /// <param name="factor">Multiple of the reference loss that counts as an explosion.</param>
    /// <param name="rate">Weight of a new loss in the running mean.</param>
    public DivergenceGuard(int classes, double factor = 100, double rate = 0.05)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        if (!(factor > 1) || !double.IsFinite(factor))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "must be a finite number above 1");
        }

        Factor = factor;
        _floor = Math.Log(classes);
        _rate = rate;
    }

    /// <summary>Multiple of max(running mean, ln C) above which a loss is a divergence.</summary>
    public double Factor { get; }

    /// <summary>Running mean of the accepted losses (NaN before the first).</summary>
    public double MeanLoss => _mean;

    /// <summary>Divergences reported so far.</summary>
    public int Divergences { get; private set; }

    /// <summary>The loss above which a divergence is declared now.</summary>
    public double Limit => Factor * Math.Max(double.IsNaN(_mean) ? 0 : _mean, _floor);

    /// <summary>
    /// Judges <paramref name="loss"/>: returns true (and counts it) for a divergence; otherwise
    /// the loss joins the running mean and false is returned.
    /// </summary>
    public bool IsDivergence(double loss)
    {
        if (!double.IsFinite(loss) || loss > Limit)
        {
            Divergences++;
            return true;
        }

        _mean = double.IsNaN(_mean) ? loss : _mean + (_rate * (loss - _mean));
        return false;
    }

    /// <summary>Continues from a running mean saved earlier (<see cref="MeanLoss"/>), as when training resumes.</summary>
    public void Resume(double meanLoss)
    {
        if (!double.IsFinite(meanLoss) || meanLoss < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(meanLoss), meanLoss, "must be a finite loss of at least 0");
        }

        _mean = meanLoss;
    }

    /// <summary>Counts a divergence detected elsewhere (non-finite weights or gradients).</summary>
    public void Count() => Divergences++;
}
