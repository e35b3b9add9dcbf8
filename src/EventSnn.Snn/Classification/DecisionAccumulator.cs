namespace EventSnn.Snn.Classification;

/// <summary>
/// Reads the decisions of B samples from their readout over the steps, per
/// <see cref="DecisionReadout"/>: the last step's readout, the mean over the steps of
/// log_softmax(readout), or the maximum over the steps of log_softmax(readout). The same
/// reading serves offline evaluation, training accuracy and the streaming classifiers, so a
/// sample gets the same decision whichever path classifies it. Allocates only when created.
/// </summary>
public sealed class DecisionAccumulator
{
    private readonly double[] _scores;
    private readonly double[] _logp;

    /// <summary>Creates the accumulator for <paramref name="batch"/> samples of <paramref name="classes"/> classes.</summary>
    public DecisionAccumulator(DecisionReadout mode, int batch, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        Mode = mode;
        Batch = batch;
        Classes = classes;
        _scores = new double[batch * classes];
        _logp = new double[classes];
        Reset();
    }

    /// <summary>How decisions are read.</summary>
    public DecisionReadout Mode { get; }

    /// <summary>Samples B.</summary>
    public int Batch { get; }

    /// <summary>Classes C.</summary>
    public int Classes { get; }

    /// <summary>Steps added since <see cref="Reset"/>.</summary>
    public int Steps { get; private set; }

    /// <summary>Forgets every step.</summary>
    public void Reset()
    {
        Array.Fill(_scores, Mode == DecisionReadout.Max ? double.NegativeInfinity : 0);
        Steps = 0;
    }

    /// <summary>Adds one step's readout of the first <paramref name="rows"/> samples (rows x C values).</summary>
    public void Add(ReadOnlySpan<float> outputs, int rows)
    {
        int c = Classes;
        for (int b = 0; b < rows; b++)
        {
            ReadOnlySpan<float> o = outputs.Slice(b * c, c);
            Span<double> s = _scores.AsSpan(b * c, c);
            if (Mode == DecisionReadout.Last)
            {
                for (int k = 0; k < c; k++)
                {
                    s[k] = o[k];
                }

                continue;
            }

            LogSoftmax(o, _logp);
            if (Mode == DecisionReadout.Mean)
            {
                for (int k = 0; k < c; k++)
                {
                    s[k] += _logp[k];
                }
            }
            else
            {
                for (int k = 0; k < c; k++)
                {
                    s[k] = Math.Max(s[k], _logp[k]);
                }
            }
        }

        Steps++;
    }

    /// <summary>The decided class of sample <paramref name="row"/>.</summary>
    public int Decide(int row)
    {
        ReadOnlySpan<double> s = _scores.AsSpan(row * Classes, Classes);
        int best = 0;
        for (int k = 1; k < s.Length; k++)
        {
            if (s[k] > s[best])
            {
                best = k;
            }
        }

        return best;
    }

    /// <summary>
    /// Confidence of the decision of sample <paramref name="row"/>: the softmax probability of the
    /// decided class under the scores (last step: the readout; mean: the mean log-probabilities;
    /// max: the maxima).
    /// </summary>
    public double Confidence(int row)
    {
        ReadOnlySpan<double> s = _scores.AsSpan(row * Classes, Classes);
        int best = Decide(row);
        double max = s[best];
        if (Mode == DecisionReadout.Mean && Steps > 0)
        {
            double sum = 0;
            foreach (double v in s)
            {
                sum += Math.Exp((v - max) / Steps);
            }

            return 1.0 / sum;
        }

        double total = 0;
        foreach (double v in s)
        {
            total += Math.Exp(v - max);
        }

        return 1.0 / total;
    }

    /// <summary>
    /// Negative log-likelihood of class <paramref name="label"/> for sample <paramref name="row"/>
    /// under the decision's reading: −log p_T(y) (last), −mean_t log p_t(y) (mean), −max_t log p_t(y) (max).
    /// </summary>
    public double Nll(int row, int label)
    {
        ReadOnlySpan<double> s = _scores.AsSpan(row * Classes, Classes);
        return Mode switch
        {
            DecisionReadout.Last => -LogSoftmaxAt(s, label),
            DecisionReadout.Mean => Steps == 0 ? Math.Log(Classes) : -s[label] / Steps,
            _ => -s[label],
        };
    }

    private static double LogSoftmaxAt(ReadOnlySpan<double> o, int k)
    {
        double max = double.NegativeInfinity;
        foreach (double v in o)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (double v in o)
        {
            sum += Math.Exp(v - max);
        }

        return o[k] - max - Math.Log(sum);
    }

    /// <summary>log_softmax of <paramref name="o"/> into <paramref name="logp"/>.</summary>
    public static void LogSoftmax(ReadOnlySpan<float> o, Span<double> logp)
    {
        double max = double.NegativeInfinity;
        foreach (float v in o)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (float v in o)
        {
            sum += Math.Exp(v - max);
        }

        double lse = max + Math.Log(sum);
        for (int k = 0; k < o.Length; k++)
        {
            logp[k] = o[k] - lse;
        }
    }
}
