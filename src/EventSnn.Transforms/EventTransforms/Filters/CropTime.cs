using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Tonic's <c>CropTime(min, max)</c>: keeps the events with <c>min &lt;= t &lt;= max</c> (no
/// upper bound when <see cref="Max"/> is null; Tonic then takes the sample's last time, which
/// keeps every event at or after min alike). Text form "crop-time:&lt;min us&gt;[:&lt;max us&gt;]".
/// </summary>
public sealed class CropTime : EventTransform
{
    /// <summary>Creates the transform.</summary>
    public CropTime(long min = 0, long? max = null)
    {
        if (max < min)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, "max is below min");
        }

        Min = min;
        Max = max;
    }

    /// <summary>Earliest time kept (us).</summary>
    public long Min { get; }

    /// <summary>Latest time kept (us), or null.</summary>
    public long? Max { get; }

    /// <inheritdoc />
    public override string Name => "crop-time";

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => new Stage(Min, Max ?? long.MaxValue);

    /// <inheritdoc />
    public override string ToString() => TransformText.Of(Name, Min, Max);

    private sealed class Stage(long min, long max) : IEventStage
    {
        private TimeRangeMap _map = new() { Min = min, Max = max };

        public void Reset()
        {
        }

        public SensorGeometry OutputGeometry(SensorGeometry input) => input;

        public void Process(EventBatch input, EventBatch output) => EventLoop.Run(input, output, ref _map);

        private struct TimeRangeMap : IEventMap
        {
            public long Min;
            public long Max;

            public readonly bool Map(ref long t, ref ushort x, ref ushort y, ref byte p) => t >= Min && t <= Max;
        }
    }
}
