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

    private sealed class Stage : SeededStage
    {
        private readonly ValueRange _range;
        private double _p;

        public Stage(ValueRange range, ulong seed)
        {
            _range = range;
            Reset(seed);
        }

        public override void Process(EventBatch input, EventBatch output)
        {
            ArgumentNullException.ThrowIfNull(input);
            int n = input.Count;
            var map = new DropMap { Random = Random, Left = n, Drop = Math.Min(n, (long)((_p * n) + 0.5)) };
            EventLoop.Run(input, output, ref map);
            Random = map.Random;
        }

        protected override void OnReset() => _p = _range.Draw(ref Random);

        /// <summary>
        /// Selection sampling (Knuth's algorithm S): drops an event with probability
        /// (drops still to make) / (events left), which drops exactly the count, every subset alike.
        /// </summary>
        private struct DropMap : IEventMap
        {
            public TransformRandom Random;
            public long Drop;
            public long Left;

            public bool Map(ref long t, ref ushort x, ref ushort y, ref byte p)
            {
                bool dropped = Drop > 0 && Random.NextBelow((ulong)Left) < (ulong)Drop;
                Left--;
                Drop -= dropped ? 1 : 0;
                return !dropped;
            }
        }
    }
}
