using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Mirrors events: left-right (<c>x' = W - 1 - x</c>, Tonic's FlipLR) and/or up-down
/// (<c>y' = H - 1 - y</c>, Tonic's FlipUD). Events outside the sensor are dropped. With a
/// probability below 1 (Tonic's <c>RandomFlipLR/UD(p)</c>) the stage flips a whole sample or
/// stream or none of it: the coin is drawn from the seed at every <see cref="Reset(ulong)"/>.
/// </summary>
public sealed class FlipStage : IEventStage
{
    private readonly double _p;
    private ulong _seed;

    /// <summary>Creates the stage (always flips).</summary>
    public FlipStage(SensorGeometry geometry, bool leftRight, bool upDown)
        : this(geometry, leftRight, upDown, 1, 0)
    {
    }

    /// <summary>Creates the stage that flips with probability <paramref name="p"/> per sample (seeded by <paramref name="seed"/>).</summary>
    public FlipStage(SensorGeometry geometry, bool leftRight, bool upDown, double p, ulong seed)
    {
        if (!geometry.IsKnown)
        {
            throw new ArgumentException("sensor geometry must be known", nameof(geometry));
        }

        if (!(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "a probability is in 0..1");
        }

        Geometry = geometry;
        LeftRight = leftRight;
        UpDown = upDown;
        _p = p;
        Reset(seed);
    }

    /// <summary>Sensor size.</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>Mirror x.</summary>
    public bool LeftRight { get; }

    /// <summary>Mirror y.</summary>
    public bool UpDown { get; }

    /// <summary>True when the current sample is flipped (the coin of the last reset).</summary>
    public bool Flipping { get; private set; }

    /// <inheritdoc />
    public void Reset() => Reset(_seed);

    /// <inheritdoc />
    public void Reset(ulong seed)
    {
        _seed = seed;
        Flipping = TransformRandom.Coin(seed, _p);
    }

    /// <inheritdoc />
    public SensorGeometry OutputGeometry(SensorGeometry input) => input;

    /// <inheritdoc />
    public void Process(EventBatch input, EventBatch output)
    {
        int w = Geometry.Width, h = Geometry.Height;
        bool lr = LeftRight && Flipping, ud = UpDown && Flipping;
        var map = new FlipMap
        {
            Width = (uint)w,
            Height = (uint)h,
            XBase = lr ? w - 1 : 0,
            YBase = ud ? h - 1 : 0,
            XSign = lr ? -1 : 1,
            YSign = ud ? -1 : 1,
        };
        EventLoop.Run(input, output, ref map);
    }

    /// <summary>x' = XBase + XSign x, y' likewise; events off the sensor are dropped.</summary>
    private struct FlipMap : IEventMap
    {
        public uint Width;
        public uint Height;
        public int XBase;
        public int YBase;
        public int XSign;
        public int YSign;

        public readonly bool Map(ref long t, ref ushort x, ref ushort y, ref byte p)
        {
            int ox = x, oy = y;
            x = (ushort)(XBase + (XSign * ox));
            y = (ushort)(YBase + (YSign * oy));
            return ((uint)ox < Width) & ((uint)oy < Height);
        }
    }
}

/// <summary>The flips of a whole sample with a probability (<see cref="RandomFlipLR"/>, <see cref="RandomFlipUD"/>; see <see cref="FlipStage"/>). Needs the sensor size.</summary>
public abstract class RandomFlip : EventTransform
{
    private readonly bool _leftRight;

    private protected RandomFlip(double p, bool leftRight)
    {
        P = TransformText.Probability(p);
        _leftRight = leftRight;
    }

    /// <summary>Probability of flipping a sample.</summary>
    public double P { get; }

    /// <inheritdoc />
    public override bool IsRandom => P is > 0 and < 1;

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => new FlipStage(Require(geometry), _leftRight, !_leftRight, P, seed);

    /// <inheritdoc />
    public override string ToString() => TransformText.Of(Name, P == 1 ? null : P);
}

/// <summary>
/// Tonic's <c>RandomFlipLR(p)</c>: mirrors a sample left-right (<c>x' = W - 1 - x</c>) with
/// probability <see cref="RandomFlip.P"/> (1: always). Text form "flip-lr" (always) or "flip-lr:&lt;p&gt;"; also
/// "random-flip-lr[:&lt;p&gt;]" with Tonic's default p = 0.5.
/// </summary>
public sealed class RandomFlipLR(double p = 0.5) : RandomFlip(p, leftRight: true)
{
    /// <inheritdoc />
    public override string Name => "flip-lr";
}

/// <summary>
/// Tonic's <c>RandomFlipUD(p)</c>: mirrors a sample up-down (<c>y' = H - 1 - y</c>) with
/// probability <see cref="RandomFlip.P"/> (1: always). Text form "flip-ud" (always) or "flip-ud:&lt;p&gt;"; also
/// "random-flip-ud[:&lt;p&gt;]" with Tonic's default p = 0.5.
/// </summary>
public sealed class RandomFlipUD(double p = 0.5) : RandomFlip(p, leftRight: false)
{
    /// <inheritdoc />
    public override string Name => "flip-ud";
}
