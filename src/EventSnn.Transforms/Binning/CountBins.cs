namespace EventSnn.Transforms;

/// <summary><see cref="BinningKind.Count"/>: a step closes after every k events; the last partial step is kept.</summary>
internal sealed class CountBins(Preprocessing preprocessing, Action<BinnedStep> emit) : SampleBinner(preprocessing, emit)
{
    private readonly int _events = preprocessing.BinEvents;

    public override void Add(ReadOnlySpan<long> t, ReadOnlySpan<int> features)
    {
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
            }

            if (ti >= End)
            {
                Outside++;
                continue;
            }

            if (Full)
            {
                Truncated++;
                continue;
            }

            Accumulator.Add(f, ti);
            if (Accumulator.Events == _events)
            {
                CloseStep(Accumulator.FirstUs, Accumulator.LastUs + 1);
            }
        }
    }

    protected override void OnFinish()
    {
        if (Accumulator.Events > 0)
        {
            CloseStep(Accumulator.FirstUs, Accumulator.LastUs + 1);
        }
    }

    protected override int? NaturalSteps() => null;
}
