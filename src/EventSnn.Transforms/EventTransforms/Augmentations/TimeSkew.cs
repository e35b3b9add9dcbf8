using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Tonic's <c>TimeSkew(coefficient, offset)</c>: <c>t' = trunc(t x coefficient + offset)</c> for
/// every event (truncated toward zero as NumPy's cast into Tonic's integer t field truncates).
/// Either parameter may be a range "a..b", drawn per sample (per
/// <see cref="IEventStage.Reset(ulong)"/>) as Tonic draws it per call. Text form
/// "time-skew:&lt;coefficient&gt;[:&lt;offset us&gt;]".
/// </summary>
public sealed class TimeSkew : EventTransform
{
    /// <summary>Creates the transform.</summary>
    public TimeSkew(ValueRange coefficient, ValueRange offset = default)
    {
        Check(coefficient, nameof(coefficient));
        Check(offset, nameof(offset));
        Coefficient = coefficient;
        Offset = offset;
    }

    /// <summary>Multiplier of the timestamps.</summary>
    public ValueRange Coefficient { get; }

    /// <summary>Added after the multiplication (us).</summary>
    public ValueRange Offset { get; }

    /// <inheritdoc />
    public override string Name => "time-skew";

    /// <inheritdoc />
    public override bool IsRandom => !Coefficient.IsFixed || !Offset.IsFixed;

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => new Stage(this, seed);

    /// <inheritdoc />
    public override string ToString() => TransformText.Of(Name, Coefficient, Offset == default ? null : Offset);

    private static void Check(ValueRange r, string name)
    {
        if (!double.IsFinite(r.Min) || !double.IsFinite(r.Max) || r.Max < r.Min)
        {
            throw new ArgumentOutOfRangeException(name, r, "must be finite (a range's end not below its start)");
        }
    }

    private sealed class Stage : SeededStage
    {
        private readonly TimeSkew _transform;
        private SkewMap _map;

        public Stage(TimeSkew transform, ulong seed)
        {
            _transform = transform;
            Reset(seed);
        }

        public override void Process(EventBatch input, EventBatch output) => EventLoop.Run(input, output, ref _map);

        protected override void OnReset()
        {
            _map.Coefficient = _transform.Coefficient.Draw(ref Random);
            _map.Offset = _transform.Offset.Draw(ref Random);
        }

        private struct SkewMap : IEventMap
        {
            public double Coefficient;
            public double Offset;

            public readonly bool Map(ref long t, ref ushort x, ref ushort y, ref byte p)
            {
                t = (long)((t * Coefficient) + Offset);
                return true;
            }
        }
    }
}
