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

    private sealed class Stage : IEventStage
    {
        private readonly int _max;
        private readonly SensorGeometry _geometry;
        private ulong _seed;
        private int _dx;
        private int _dy;

        public Stage(int max, SensorGeometry geometry, ulong seed)
        {
            _max = max;
            _geometry = geometry;
            Reset(seed);
        }

        public void Reset() => Reset(_seed);

        public void Reset(ulong seed)
        {
            _seed = seed;
            var random = new TransformRandom(seed);
            _dx = (int)random.NextInclusive(-_max, _max);
            _dy = (int)random.NextInclusive(-_max, _max);
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
            uint w = (uint)_geometry.Width, h = (uint)_geometry.Height;
            int dx = _dx, dy = _dy;
            int kept = 0;
            for (int i = 0; i < n; i++)
            {
                int x = xi[i] + dx, y = yi[i] + dy;
                to[kept] = ti[i];
                xo[kept] = (ushort)x;
                yo[kept] = (ushort)y;
                po[kept] = pi[i];
                kept += ((uint)x < w) & ((uint)y < h) ? 1 : 0;
            }

            output.SetCount(kept);
        }
    }
}
