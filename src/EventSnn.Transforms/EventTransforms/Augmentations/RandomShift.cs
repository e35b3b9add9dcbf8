using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// A random translation of a whole sample (not in Tonic): offsets dx, dy drawn uniformly from
/// the integers in [-<see cref="MaxShift"/>, <see cref="MaxShift"/>] per sample (per
/// <see cref="IEventStage.Reset(ulong)"/>); events moved off the sensor are dropped. Text form
/// "shift:&lt;pixels&gt;". Needs the sensor size.
/// </summary>
public sealed class RandomShift : EventTransform
{
    /// <summary>Creates the transform (0..4096 pixels).</summary>
    public RandomShift(int maxShift)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxShift);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxShift, 4096);
        MaxShift = maxShift;
    }

    /// <summary>Largest translation in pixels per axis.</summary>
    public int MaxShift { get; }

    /// <inheritdoc />
    public override string Name => "shift";

    /// <inheritdoc />
    public override bool IsRandom => MaxShift > 0;

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => new Stage(MaxShift, Require(geometry), seed);

    /// <inheritdoc />
    public override string ToString() => TransformText.Of(Name, MaxShift);

    private sealed class Stage : SeededStage
    {
        private readonly int _max;
        private ShiftMap _map;

        public Stage(int max, SensorGeometry geometry, ulong seed)
        {
            _max = max;
            _map = new ShiftMap { Width = (uint)geometry.Width, Height = (uint)geometry.Height };
            Reset(seed);
        }

        public override void Process(EventBatch input, EventBatch output) => EventLoop.Run(input, output, ref _map);

        protected override void OnReset()
        {
            _map.Dx = (int)Random.NextInclusive(-_max, _max);
            _map.Dy = (int)Random.NextInclusive(-_max, _max);
        }
    }
}

/// <summary>A translation by (Dx, Dy) (negative: a crop's corner moved to the origin); events leaving [0, Width) x [0, Height) are dropped.</summary>
internal struct ShiftMap : IEventMap
{
    public int Dx;
    public int Dy;
    public uint Width;
    public uint Height;

    public readonly bool Map(ref long t, ref ushort x, ref ushort y, ref byte p)
    {
        int nx = x + Dx, ny = y + Dy;
        x = (ushort)nx;
        y = (ushort)ny;
        return ((uint)nx < Width) & ((uint)ny < Height);
    }
}
