using EventSnn.Events;

namespace EventSnn.Testing;

/// <summary>Small event arrays and batches for the tests of the projects that handle DVS events (linked by those projects: Shared/Events needs EventSnn.Events).</summary>
public static class EventArrays
{
    /// <summary>A batch holding <paramref name="events"/> (capacity at least 1).</summary>
    public static EventBatch Batch(params DvsEvent[] events)
    {
        var b = new EventBatch(Math.Max(1, events.Length));
        foreach (DvsEvent e in events)
        {
            b.Add(e);
        }

        return b;
    }

    /// <summary>Time-ordered random events on a small sensor: steps of 0..<paramref name="maxStep"/> us from a start in 0..999.</summary>
    public static DvsEvent[] Random(int seed, int count, int width, int height, int maxStep)
    {
        var rng = new Random(seed);
        var result = new DvsEvent[count];
        long t = rng.Next(0, 1000);
        for (int i = 0; i < count; i++)
        {
            t += rng.Next(0, maxStep + 1);
            result[i] = new DvsEvent(t, (ushort)rng.Next(width), (ushort)rng.Next(height), rng.Next(2) == 1);
        }

        return result;
    }
}
