using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Tonic's <c>TimeJitter(std, clip_negative, sort_timestamps)</c>: every timestamp moves by a
/// normal deviate of standard deviation <see cref="Std"/> us, <c>t' = trunc(t + N(0, std²))</c>
/// (truncated toward zero as NumPy's cast into Tonic's integer t field truncates); with
/// <see cref="ClipNegative"/> (Tonic's default) events that land before 0 are dropped; with
/// <see cref="SortTimestamps"/> the events are sorted by their new times (stably), which over a
/// stream sorts within each batch only. Text form
/// "time-jitter:&lt;std&gt;[:&lt;clip_negative&gt;[:&lt;sort_timestamps&gt;]]".
/// </summary>
public sealed class TimeJitter : EventTransform
{
    /// <summary>Creates the transform.</summary>
    public TimeJitter(double std, bool clipNegative = true, bool sortTimestamps = false)
    {
        if (!(std >= 0) || !double.IsFinite(std))
        {
            throw new ArgumentOutOfRangeException(nameof(std), std, "must be a finite number >= 0");
        }

        Std = std;
        ClipNegative = clipNegative;
        SortTimestamps = sortTimestamps;
    }

    /// <summary>Standard deviation of the jitter (us).</summary>
    public double Std { get; }

    /// <summary>Drop events whose jittered time is negative.</summary>
    public bool ClipNegative { get; }

    /// <summary>Sort the events by their jittered times.</summary>
    public bool SortTimestamps { get; }

    /// <inheritdoc />
    public override string Name => "time-jitter";

    /// <inheritdoc />
    public override bool IsRandom => Std > 0;

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => new Stage(this, seed);

    /// <inheritdoc />
    public override string ToString() =>
        SortTimestamps ? TransformText.Of(Name, Std, ClipNegative, true)
        : TransformText.Of(Name, Std, ClipNegative ? null : false);

    private sealed class Stage : SeededStage
    {
        private readonly TimeJitter _transform;

        public Stage(TimeJitter transform, ulong seed)
        {
            _transform = transform;
            Reset(seed);
        }

        public override void Process(EventBatch input, EventBatch output)
        {
            var map = new JitterMap { Random = Random, Std = _transform.Std, Clip = _transform.ClipNegative };
            EventLoop.Run(input, output, ref map);
            Random = map.Random;
            if (_transform.SortTimestamps)
            {
                EventSorting.SortByTime(output);
            }
        }

        private struct JitterMap : IEventMap
        {
            public TransformRandom Random;
            public double Std;
            public bool Clip;

            public bool Map(ref long t, ref ushort x, ref ushort y, ref byte p)
            {
                t = (long)(t + (Std * Random.NextGaussian()));
                return !(Clip && t < 0);
            }
        }
    }
}
