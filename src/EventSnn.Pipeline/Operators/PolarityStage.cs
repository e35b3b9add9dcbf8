using EventSnn.Events;

namespace EventSnn.Pipeline;

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

/// <summary>Polarity merge (Tonic: all polarities set to 0), flip, or selection.</summary>
public sealed class PolarityStage : IEventStage
{
    /// <summary>Creates the stage.</summary>
    public PolarityStage(PolarityOperation operation) => Operation = operation;

    /// <summary>The operation.</summary>
    public PolarityOperation Operation { get; }

    /// <inheritdoc />
    public void Reset()
    {
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

public static partial class EventPipeline
{
    /// <summary>Tonic's MergePolarities: every polarity becomes 0.</summary>
    public static IObservable<EventBatch> MergePolarities(this IObservable<EventBatch> source) =>
        source.Through(() => new PolarityStage(PolarityOperation.Merge));

    /// <summary>Polarity merge, flip or selection.</summary>
    public static IObservable<EventBatch> Polarity(this IObservable<EventBatch> source, PolarityOperation operation) =>
        source.Through(() => new PolarityStage(operation));
}
