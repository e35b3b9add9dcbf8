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
        var rng = new TransformRandom(seed);
        Flipping = _p >= 1 || rng.NextDouble() < _p;
    }

    /// <inheritdoc />
    public SensorGeometry OutputGeometry(SensorGeometry input) => input;

    /// <inheritdoc />
    public void Process(EventBatch input, EventBatch output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        int n = input.Count;
        long[] ti = input.T, to = output.T;
        ushort[] xi = input.X, yi = input.Y, xo = output.X, yo = output.Y;
        byte[] pi = input.P, po = output.P;
        int w = Geometry.Width, h = Geometry.Height;
        bool lr = LeftRight && Flipping, ud = UpDown && Flipping;
        int xm = lr ? w - 1 : 0, ym = ud ? h - 1 : 0;
        int xs = lr ? -1 : 1, ys = ud ? -1 : 1;
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            int x = xi[i], y = yi[i];
            to[kept] = ti[i];
            xo[kept] = (ushort)(xm + (xs * x));
            yo[kept] = (ushort)(ym + (ys * y));
            po[kept] = pi[i];
            kept += ((uint)x < (uint)w) & ((uint)y < (uint)h) ? 1 : 0;
        }

        output.SetCount(kept);
    }
}

/// <summary>
/// Tonic's <c>RandomFlipLR(p)</c>: mirrors a sample left-right (<c>x' = W - 1 - x</c>) with
/// probability <see cref="P"/> (1: always). Text form "flip-lr" (always) or "flip-lr:&lt;p&gt;"; also
/// "random-flip-lr[:&lt;p&gt;]" with Tonic's default p = 0.5. Needs the sensor size.
/// </summary>
public sealed class RandomFlipLR : EventTransform
{
    /// <summary>Creates the transform.</summary>
    public RandomFlipLR(double p = 0.5) => P = TransformText.Probability(p);

    /// <summary>Probability of flipping a sample.</summary>
    public double P { get; }

    /// <inheritdoc />
    public override string Name => "flip-lr";

    /// <inheritdoc />
    public override bool IsRandom => P is > 0 and < 1;

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => new FlipStage(Require(geometry), leftRight: true, upDown: false, P, seed);

    /// <inheritdoc />
    public override string ToString() => TransformText.Of(Name, P == 1 ? null : P);
}

/// <summary>
/// Tonic's <c>RandomFlipUD(p)</c>: mirrors a sample up-down (<c>y' = H - 1 - y</c>) with
/// probability <see cref="P"/> (1: always). Text form "flip-ud" (always) or "flip-ud:&lt;p&gt;"; also
/// "random-flip-ud[:&lt;p&gt;]" with Tonic's default p = 0.5. Needs the sensor size.
/// </summary>
public sealed class RandomFlipUD : EventTransform
{
    /// <summary>Creates the transform.</summary>
    public RandomFlipUD(double p = 0.5) => P = TransformText.Probability(p);

    /// <summary>Probability of flipping a sample.</summary>
    public double P { get; }

    /// <inheritdoc />
    public override string Name => "flip-ud";

    /// <inheritdoc />
    public override bool IsRandom => P is > 0 and < 1;

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => new FlipStage(Require(geometry), leftRight: false, upDown: true, P, seed);

    /// <inheritdoc />
    public override string ToString() => TransformText.Of(Name, P == 1 ? null : P);
}
