namespace EventSnn.Transforms;

/// <summary>
/// <see cref="BinningKind.EqualCountFrames"/>: the sample's n events are held until it ends, then
/// event i goes to frame floor(i x N / n) (Tonic's n_event_bins without overlap, spreading the
/// remainder). A frame spans its first to its last event.
/// </summary>
internal sealed class EqualCountFrames(Preprocessing preprocessing, Action<BinnedStep> emit) : SampleBinner(preprocessing, emit)
{
    private readonly int _frames = preprocessing.Frames;
    private readonly SampleEvents _held = new();

    public override void Add(ReadOnlySpan<long> t, ReadOnlySpan<int> features) => Outside += _held.Add(t, features, End);

    protected override void OnBegin() => _held.Clear();

    protected override void OnFinish()
    {
        int n = _held.Count;
        ReadOnlySpan<long> t = _held.Times;
        ReadOnlySpan<int> f = _held.Features;
        int open = 0;
        for (int i = 0; i < n; i++)
        {
            int frame = (int)((long)i * _frames / n);
            while (open < frame)
            {
                Close();
                open++;
            }

            if (Full)
            {
                Truncated += n - i;
                break;
            }

            Accumulator.Add(f[i], t[i]);
        }

        while (open < _frames && !Full)
        {
            Close();
            open++;
        }

        _held.Clear();
    }

    protected override int? NaturalSteps() => _frames;

    private void Close()
    {
        if (Accumulator.Events > 0)
        {
            CloseStep(Accumulator.FirstUs, Accumulator.LastUs + 1);
        }
        else
        {
            (long s, long e) = EmptyStepSpan(Emitted);
            CloseStep(s, e);
        }
    }
}
