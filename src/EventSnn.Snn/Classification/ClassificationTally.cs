namespace EventSnn.Snn.Classification;

/// <summary>
/// Accuracy bookkeeping of a stream of decisions whose truth may arrive late: decisions, labelled
/// decisions (truth known) and correct ones. One writer at a time adds and resolves; the counts may
/// be read from any thread (a reader never sees more correct than labelled decisions). With
/// <c>keepOutcomes</c> (the default) it keeps one byte per decision for late labels
/// (<see cref="Resolve"/>), <see cref="Outcome"/> and the half accuracies; without, it only counts
/// (a long-running server stream).
/// </summary>
public sealed class ClassificationTally
{
    private readonly List<sbyte>? _outcomes;
    private long _decisions;
    private long _labelled;
    private long _correct;

    /// <summary>A tally; <paramref name="keepOutcomes"/> false counts only (no late labels, no halves).</summary>
    public ClassificationTally(bool keepOutcomes = true)
    {
        _outcomes = keepOutcomes ? [] : null;
    }

    /// <summary>Decisions made.</summary>
    public long Decisions => Interlocked.Read(ref _decisions);

    /// <summary>Decisions whose truth is known.</summary>
    public long Labelled => Interlocked.Read(ref _labelled);

    /// <summary>Labelled decisions that were right.</summary>
    public long Correct => Interlocked.Read(ref _correct);

    /// <summary>Correct and labelled read together (correct first, so never above labelled).</summary>
    public (long Labelled, long Correct) Counts
    {
        get
        {
            long correct = Correct;
            return (Labelled, correct);
        }
    }

    /// <summary>Correct / labelled (0 when nothing is labelled).</summary>
    public double Accuracy => AccuracyOrNull ?? 0;

    /// <summary>Correct / labelled; null while nothing is labelled.</summary>
    public double? AccuracyOrNull
    {
        get
        {
            (long labelled, long correct) = Counts;
            return labelled == 0 ? null : correct / (double)labelled;
        }
    }

    /// <summary>Accuracy over the first half of the labelled decisions (in decision order; 0 without outcomes).</summary>
    public double AccuracyFirstHalf => Ratio(Half(first: true));

    /// <summary>Accuracy over the second half of the labelled decisions (in decision order; 0 without outcomes).</summary>
    public double AccuracySecondHalf => Ratio(Half(first: false));

    /// <summary>Outcome of decision <paramref name="index"/>: null while its truth is unknown.</summary>
    /// <exception cref="InvalidOperationException">The tally keeps no outcomes.</exception>
    public bool? Outcome(int index)
    {
        List<sbyte> outcomes = Outcomes();
        return outcomes[index] < 0 ? null : outcomes[index] == 1;
    }

    /// <summary>Records <paramref name="decision"/> with the truth it carries; returns its index.</summary>
    public int Add(StreamDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        return Add(decision.LabelIndex, decision.TruthIndex);
    }

    /// <summary>Records a decision (<paramref name="truth"/> -1 when unknown); returns its index.</summary>
    public int Add(int label, int truth)
    {
        long index = Interlocked.Increment(ref _decisions) - 1;
        _outcomes?.Add(-1);
        if (truth >= 0)
        {
            Count(label == truth);
            if (_outcomes is not null)
            {
                _outcomes[(int)index] = label == truth ? (sbyte)1 : (sbyte)0;
            }
        }

        return (int)Math.Min(index, int.MaxValue);
    }

    /// <summary>Sets the truth of a decision recorded without one (a late label); ignored if already known.</summary>
    /// <exception cref="InvalidOperationException">The tally keeps no outcomes.</exception>
    public void Resolve(int index, int label, int truth)
    {
        List<sbyte> outcomes = Outcomes();
        if (truth < 0 || outcomes[index] >= 0)
        {
            return;
        }

        bool right = label == truth;
        outcomes[index] = right ? (sbyte)1 : (sbyte)0;
        Count(right);
    }

    /// <summary>Continues from saved counts (a tally without outcomes, e.g. a restarted cluster stream).</summary>
    /// <exception cref="InvalidOperationException">The tally keeps outcomes.</exception>
    public void Restore(long decisions, long labelled, long correct)
    {
        if (_outcomes is not null)
        {
            throw new InvalidOperationException("a tally that keeps outcomes cannot be restored from counts");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(correct);
        ArgumentOutOfRangeException.ThrowIfLessThan(labelled, correct);
        ArgumentOutOfRangeException.ThrowIfLessThan(decisions, labelled);
        Interlocked.Exchange(ref _decisions, decisions);
        Interlocked.Exchange(ref _labelled, labelled);
        Interlocked.Exchange(ref _correct, correct);
    }

    /// <summary>Labelled and correct decisions of the first (or second) half of the labelled decisions, in decision order.</summary>
    public (int Labelled, int Correct) Half(bool first)
    {
        if (_outcomes is null)
        {
            return (0, 0);
        }

        int half = (int)(Labelled / 2), seen = 0, n = 0, right = 0;
        foreach (sbyte o in _outcomes)
        {
            if (o < 0)
            {
                continue;
            }

            bool inFirst = seen < half;
            seen++;
            if (inFirst == first)
            {
                n++;
                right += o;
            }
        }

        return (n, right);
    }

    private static double Ratio((int Labelled, int Correct) c) => c.Labelled == 0 ? 0 : c.Correct / (double)c.Labelled;

    // labelled before correct: a reader reading correct first never sees more correct than labelled
    private void Count(bool right)
    {
        Interlocked.Increment(ref _labelled);
        if (right)
        {
            Interlocked.Increment(ref _correct);
        }
    }

    private List<sbyte> Outcomes() => _outcomes ?? throw new InvalidOperationException("this tally keeps no outcomes");
}
