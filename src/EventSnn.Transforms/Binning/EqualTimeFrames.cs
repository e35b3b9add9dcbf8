namespace EventSnn.Transforms;

/// <summary>
/// <see cref="BinningKind.EqualTimeFrames"/>: N frames of equal duration over the sample's span
/// [start, end) of duration d; event t goes to frame floor((t - start) N / d). When the end is not known
/// in advance the sample's events are held and the span ends after the last event
/// (start = the first event's time when not given either).
/// </summary>
internal sealed class EqualTimeFrames(Preprocessing preprocessing, Action<BinnedStep> emit) : TimeIndexedBinner(preprocessing, emit)
{
    private readonly int _frames = preprocessing.Frames;
    private readonly SampleEvents _held = new();
    private bool _holding;

    public override void Add(ReadOnlySpan<long> t, ReadOnlySpan<int> features)
    {
        if (_holding)
        {
            _held.Add(t, features);
        }
        else
        {
            AddInOrder(t, features);
        }
    }

    protected override void OnBegin()
    {
        base.OnBegin();
        _held.Clear();
        _holding = !(StartKnown && EndKnown);
    }

    protected override void OnFinish()
    {
        if (_holding)
        {
            if (_held.Count > 0)
            {
                if (!StartKnown)
                {
                    SetStart(_held.Times[0]);
                }

                SetEnd(Math.Max(_held.MaxTime, Start) + 1);
                AddInOrder(_held.Times, _held.Features);
            }

            _held.Clear();
        }

        FinishInOrder();
    }

    protected override long BinOf(long t) => Math.Min(_frames - 1, (long)((Int128)(t - Start) * _frames / Span()));

    // frame k holds the times t with floor((t - start) N / d) = k: [start + ceil(k d / N), start + ceil((k + 1) d / N))
    protected override (long StartUs, long EndUs) BinSpan(long k) => (Start + CeilDiv(k * (Int128)Span(), _frames), Start + CeilDiv((k + 1) * (Int128)Span(), _frames));

    protected override long? NaturalBins() => _frames;

    private static long CeilDiv(Int128 a, long b) => (long)((a + b - 1) / b);

    private long Span() => StartKnown && EndKnown ? Math.Max(1, End - Start) : 1;
}
