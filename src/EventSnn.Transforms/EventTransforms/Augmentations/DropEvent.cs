using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Tonic's <c>DropEvent(p)</c>: of a batch's n events exactly <c>int(p n + 0.5)</c>, chosen
/// uniformly at random without replacement, are dropped (the others keep their order). With a
/// range "a..b" p is drawn per sample (per <see cref="IEventStage.Reset(ulong)"/>) as Tonic
/// draws it per call. Over a stream the count is per batch. Text form "drop-event:&lt;p&gt;" or
/// "drop-event:&lt;a&gt;..&lt;b&gt;".
/// </summary>
public sealed class DropEvent : EventTransform
{
    /// <summary>Creates the transform (p, or its range, within 0..1).</summary>
    public DropEvent(ValueRange p)
    {
        TransformText.Probability(p.Min);
        TransformText.Probability(p.Max);
        if (p.Max < p.Min)
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "the range's end is below its start");
        }

        P = p;
    }

    /// <summary>Probability of dropping an event (Tonic's p).</summary>
    public ValueRange P { get; }

    /// <inheritdoc />
    public override string Name => "drop-event";

    /// <inheritdoc />
    public override bool IsRandom => P.Max > 0;

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => new Stage(P, seed);

    /// <inheritdoc />
    public override string ToString() => TransformText.Of(Name, P);

    private sealed class Stage : IEventStage
    {
        private readonly ValueRange _range;
        private TransformRandom _random;
        private double _p;
        private ulong _seed;

        public Stage(ValueRange range, ulong seed)
        {
            _range = range;
            Reset(seed);
        }

        public void Reset() => Reset(_seed);

        public void Reset(ulong seed)
        {
            _seed = seed;
            _random = new TransformRandom(seed);
            _p = _range.Draw(ref _random);
        }

        public SensorGeometry OutputGeometry(SensorGeometry input) => input;

        public void Process(EventBatch input, EventBatch output)
        {
            ArgumentNullException.ThrowIfNull(input);
            ArgumentNullException.ThrowIfNull(output);
            int n = input.Count;
            long[] ti = input.T, to = output.T;
            ushort[] xi = input.X, yi = input.Y, xo = output.X, yo = output.Y;
            byte[] pi = input.P, po = output.P;

            // selection sampling (Knuth's algorithm S): drop event i with probability
            // (drops still to make) / (events left), which drops exactly `drop` events, every
            // subset of that size alike
            long drop = Math.Min(n, (long)((_p * n) + 0.5));
            int kept = 0;
            for (int i = 0; i < n; i++)
            {
                bool dropped = drop > 0 && _random.NextBelow((ulong)(n - i)) < (ulong)drop;
                drop -= dropped ? 1 : 0;
                to[kept] = ti[i];
                xo[kept] = xi[i];
                yo[kept] = yi[i];
                po[kept] = pi[i];
                kept += dropped ? 0 : 1;
            }

            output.SetCount(kept);
        }
    }
}
