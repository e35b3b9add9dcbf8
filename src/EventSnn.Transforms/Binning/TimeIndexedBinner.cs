namespace EventSnn.Transforms;

/// <summary>
/// Binnings whose step follows from an event's time (time bins, equal-time frames): bins close in
/// order as later events arrive; an event earlier than the open bin is counted into it; bins
/// beyond the limit (max steps, the sample's end) are dropped. When nothing bounds the sample, a
/// gap emits at most <see cref="Preprocessing.MaxGapSteps"/> empty bins and skips the others.
/// </summary>
internal abstract class TimeIndexedBinner(Preprocessing preprocessing, Action<BinnedStep> emit) : SampleBinner(preprocessing, emit)
{
    private long _open;
    private bool _any;

    /// <summary>Bin of an event at <paramref name="t"/> (Start &lt;= t &lt; End).</summary>
    protected abstract long BinOf(long t);

    /// <summary>[start, end) of bin <paramref name="k"/>.</summary>
    protected abstract (long StartUs, long EndUs) BinSpan(long k);

    /// <summary>Bins over [Start, End) when that is known, else null.</summary>
    protected abstract long? NaturalBins();

    protected override int? NaturalSteps() => NaturalBins() is long n ? (int)Math.Min(n, int.MaxValue) : null;

    protected override void OnBegin()
    {
        _open = 0;
        _any = false;
    }

    protected override (long StartUs, long EndUs) EmptyStepSpan(int index) => BinSpan(index);

    /// <summary>Bins events as they come.</summary>
    protected void AddInOrder(ReadOnlySpan<long> t, ReadOnlySpan<int> features)
    {
        long limit = Limit();
        for (int i = 0; i < features.Length; i++)
        {
            int f = features[i];
            if (f < 0)
            {
                continue;
            }

            long ti = t[i];
            if (!StartKnown)
            {
                SetStart(ti);
                limit = Limit();
            }

            if (ti >= End)
            {
                Outside++;
                continue;
            }

            long bin;
            if (ti < Start)
            {
                bin = _open;
                Late++;
            }
            else
            {
                bin = BinOf(ti);
                if (bin < _open)
                {
                    bin = _open;
                    Late++;
                }
            }

            if (bin >= limit)
            {
                CloseUpTo(limit);
                Truncated++;
                continue;
            }

            if (limit == long.MaxValue && bin - _open - 1 > MaxGapSteps)
            {
                // unbounded sample: a gap emits at most MaxGapSteps empty bins, the rest is skipped
                CloseUpTo(_open + 1 + MaxGapSteps);
                SkippedSteps += bin - _open;
                _open = bin;
            }

            CloseUpTo(bin);
            Accumulator.Add(f, ti);
            _any = true;
        }
    }

    /// <summary>Closes the bins up to the sample's end (or up to the last event's bin when the end is unknown).</summary>
    protected void FinishInOrder()
    {
        long limit = Limit();
        long target = NaturalBins() is long n ? Math.Min(n, limit) : _any ? Math.Min(_open + 1, limit) : 0;
        CloseUpTo(target);
    }

    private void CloseUpTo(long bin)
    {
        while (_open < bin)
        {
            (long s, long e) = BinSpan(_open);
            CloseStep(s, e);
            _open++;
        }
    }

    private long Limit()
    {
        long limit = MaxSteps > 0 ? MaxSteps : long.MaxValue;
        return NaturalBins() is long n ? Math.Min(limit, n) : limit;
    }
}
