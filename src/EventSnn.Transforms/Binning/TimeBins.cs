namespace EventSnn.Transforms;

/// <summary><see cref="BinningKind.Time"/>: bin k holds the events of [start + k w, start + (k + 1) w).</summary>
internal sealed class TimeBins(Preprocessing preprocessing, Action<BinnedStep> emit) : TimeIndexedBinner(preprocessing, emit)
{
    private readonly long _width = preprocessing.BinUs;

    public override void Add(ReadOnlySpan<long> t, ReadOnlySpan<int> features) => AddInOrder(t, features);

    protected override void OnFinish() => FinishInOrder();

    protected override long BinOf(long t) => (t - Start) / _width;

    protected override (long StartUs, long EndUs) BinSpan(long k) => (Start + (k * _width), Start + ((k + 1) * _width));

    protected override long? NaturalBins() => StartKnown && EndKnown ? (End - Start + _width - 1) / _width : null;
}
