using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>What <see cref="PolarityStage"/> does to the polarity.</summary>
public enum PolarityOperation
{
    /// <summary>Tonic's MergePolarities: every polarity becomes 0.</summary>
    Merge = 0,

    /// <summary>ON becomes OFF and OFF becomes ON.</summary>
    Flip = 1,

    /// <summary>Keep only ON events.</summary>
    OnlyOn = 2,

    /// <summary>Keep only OFF events.</summary>
    OnlyOff = 3,
}

/// <summary>
/// Polarity merge (Tonic: all polarities set to 0), flip, or selection. A flip with a probability
/// below 1 (Tonic's <c>RandomFlipPolarity(p)</c>) flips a whole sample or stream or none of it:
/// the coin is drawn from the seed at every <see cref="Reset(ulong)"/>.
/// </summary>
public sealed class PolarityStage : IEventStage
{
    private readonly double _p;
    private ulong _seed;
    private bool _flipping = true;

    /// <summary>Creates the stage.</summary>
    public PolarityStage(PolarityOperation operation)
        : this(operation, 1, 0)
    {
    }

    /// <summary>Creates the stage; a <see cref="PolarityOperation.Flip"/> happens with probability <paramref name="p"/> per sample.</summary>
    public PolarityStage(PolarityOperation operation, double p, ulong seed)
    {
        if (!(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "a probability is in 0..1");
        }

        Operation = operation;
        _p = p;
        Reset(seed);
    }

    /// <summary>The operation.</summary>
    public PolarityOperation Operation { get; }

    /// <inheritdoc />
    public void Reset() => Reset(_seed);

    /// <inheritdoc />
    public void Reset(ulong seed)
    {
        _seed = seed;
        _flipping = TransformRandom.Coin(seed, _p);
    }

    /// <inheritdoc />
    public SensorGeometry OutputGeometry(SensorGeometry input) => input;

    /// <inheritdoc />
    public void Process(EventBatch input, EventBatch output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        int n = input.Count;
        byte[] pi = input.P, po = output.P;
        switch (Operation)
        {
            case PolarityOperation.Merge:
            case PolarityOperation.Flip:
                Array.Copy(input.T, output.T, n);
                Array.Copy(input.X, output.X, n);
                Array.Copy(input.Y, output.Y, n);
                if (Operation == PolarityOperation.Merge)
                {
                    Array.Clear(po, 0, n);
                }
                else if (!_flipping)
                {
                    Array.Copy(pi, po, n);
                }
                else
                {
                    for (int i = 0; i < n; i++)
                    {
                        po[i] = pi[i] != 0 ? (byte)0 : (byte)1;
                    }
                }

                output.SetCount(n);
                break;
            default:
                byte want = Operation == PolarityOperation.OnlyOn ? (byte)1 : (byte)0;
                long[] ti = input.T, to = output.T;
                ushort[] xi = input.X, yi = input.Y, xo = output.X, yo = output.Y;
                int kept = 0;
                for (int i = 0; i < n; i++)
                {
                    byte p = pi[i] != 0 ? (byte)1 : (byte)0;
                    to[kept] = ti[i];
                    xo[kept] = xi[i];
                    yo[kept] = yi[i];
                    po[kept] = p;
                    kept += p == want ? 1 : 0;
                }

                output.SetCount(kept);
                break;
        }
    }
}

/// <summary>Tonic's <c>MergePolarities</c>: every polarity becomes 0 (OFF). Text form "merge-polarities".</summary>
public sealed class MergePolarities : EventTransform
{
    /// <inheritdoc />
    public override string Name => "merge-polarities";

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => new PolarityStage(PolarityOperation.Merge);

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>
/// Tonic's <c>RandomFlipPolarity(p)</c>: with probability <see cref="P"/> per sample, ON becomes
/// OFF and OFF becomes ON for every event of the sample. Text form "flip-polarity" (always) or
/// "flip-polarity:&lt;p&gt;"; also "random-flip-polarity[:&lt;p&gt;]" with Tonic's default p = 0.5.
/// </summary>
public sealed class RandomFlipPolarity : EventTransform
{
    /// <summary>Creates the transform.</summary>
    public RandomFlipPolarity(double p = 0.5) => P = TransformText.Probability(p);

    /// <summary>Probability of flipping a sample.</summary>
    public double P { get; }

    /// <inheritdoc />
    public override string Name => "flip-polarity";

    /// <inheritdoc />
    public override bool IsRandom => P is > 0 and < 1;

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => new PolarityStage(PolarityOperation.Flip, P, seed);

    /// <inheritdoc />
    public override string ToString() => TransformText.Of(Name, P == 1 ? null : P);
}

/// <summary>Keeps the events of one polarity: text form "only-on" or "only-off".</summary>
public sealed class KeepPolarity : EventTransform
{
    /// <summary>Creates the transform keeping ON (<paramref name="on"/>) or OFF events.</summary>
    public KeepPolarity(bool on) => On = on;

    /// <summary>True: keep ON events; false: keep OFF events.</summary>
    public bool On { get; }

    /// <inheritdoc />
    public override string Name => On ? "only-on" : "only-off";

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => new PolarityStage(On ? PolarityOperation.OnlyOn : PolarityOperation.OnlyOff);

    /// <inheritdoc />
    public override string ToString() => Name;
}
