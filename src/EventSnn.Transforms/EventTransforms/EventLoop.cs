using System.Runtime.CompilerServices;
using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// What a stage does to one event: rewrites its fields in place and says whether it is kept.
/// Implemented by structs, so <see cref="EventLoop.Run"/> is specialised and inlined per stage.
/// </summary>
internal interface IEventMap
{
    /// <summary>Maps one event; false drops it.</summary>
    bool Map(ref long t, ref ushort x, ref ushort y, ref byte p);
}

/// <summary>The one loop of the per-event stages: map every event of a batch, keep those the map keeps, in order.</summary>
internal static class EventLoop
{
    /// <summary>The number of input events, after checking both batches and that the output has room for them all.</summary>
    public static int CheckRoom(EventBatch input, EventBatch output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        int n = input.Count;
        if (output.Capacity < n)
        {
            throw new ArgumentException("output batch too small", nameof(output));
        }

        return n;
    }

    /// <summary>
    /// Writes the mapped events of <paramref name="input"/> that <paramref name="map"/> keeps into
    /// <paramref name="output"/> (room for input.Count events) and returns how many; the map's
    /// state (counters, random source) is updated in place.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Run<TMap>(EventBatch input, EventBatch output, ref TMap map)
        where TMap : struct, IEventMap
    {
        int n = CheckRoom(input, output);
        long[] ti = input.T, to = output.T;
        ushort[] xi = input.X, yi = input.Y, xo = output.X, yo = output.Y;
        byte[] pi = input.P, po = output.P;
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            long t = ti[i];
            ushort x = xi[i], y = yi[i];
            byte p = pi[i];
            bool keep = map.Map(ref t, ref x, ref y, ref p);

            // written whatever the decision (branch-free); a dropped event is overwritten by the next kept one
            to[kept] = t;
            xo[kept] = x;
            yo[kept] = y;
            po[kept] = p;
            kept += keep ? 1 : 0;
        }

        output.SetCount(kept);
        return kept;
    }
}

/// <summary>
/// Base of the random stages: the seed, the random source restarted from it at every
/// <see cref="Reset(ulong)"/>, and the per-sample draws (<see cref="OnReset"/>) made there.
/// Derived constructors end with <c>Reset(seed)</c>.
/// </summary>
internal abstract class SeededStage : IEventStage
{
    private ulong _seed;

    /// <summary>The random source of the current sample.</summary>
    protected TransformRandom Random;

    public void Reset() => Reset(_seed);

    public void Reset(ulong seed)
    {
        _seed = seed;
        Random = new TransformRandom(seed);
        OnReset();
    }

    public virtual SensorGeometry OutputGeometry(SensorGeometry input) => input;

    public virtual int MaxOutputCount(int inputCount) => inputCount;

    public abstract void Process(EventBatch input, EventBatch output);

    /// <summary>Draws what holds for the whole sample (from <see cref="Random"/>).</summary>
    protected virtual void OnReset()
    {
    }
}
