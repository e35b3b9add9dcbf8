using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline.Tests;

/// <summary>An in-memory DVS reader over an event array, handing out at most <c>chunk</c> events per Read.</summary>
internal sealed class FakeDvsReader : IDvsEventReader
{
    private readonly DvsEvent[] _events;
    private readonly int _chunk;
    private readonly int _failAt;
    private readonly Exception? _failure;
    private int _next;

    public FakeDvsReader(DvsEvent[] events, int chunk = 1 << 16, SensorGeometry geometry = default, int failAt = -1, Exception? failure = null, string name = "fake.aedat")
    {
        _events = events;
        _chunk = chunk;
        Geometry = geometry;
        _failAt = failAt;
        _failure = failure;
        SourceName = name;
    }

    public string SourceName { get; }

    public EventFormat Format => EventFormat.Aedat4;

    public long Position => _next * 16L;

    public IReadOnlyList<FormatWarning> Warnings { get; } = [];

    public SensorGeometry Geometry { get; }

    public bool Disposed { get; private set; }

    public int Reads { get; private set; }

    public bool Read(EventBatch batch)
    {
        Reads++;
        batch.Clear();
        if (_failAt >= 0 && _next >= _failAt)
        {
            throw _failure ?? new IOException("disk on fire");
        }

        int n = Math.Min(Math.Min(_chunk, batch.Capacity), _events.Length - _next);
        if (_failAt >= 0)
        {
            n = Math.Min(n, _failAt - _next);
        }

        for (int i = 0; i < n; i++)
        {
            batch.Add(_events[_next + i]);
        }

        _next += n;
        return n > 0;
    }

    public void Dispose() => Disposed = true;
}

/// <summary>An in-memory spike reader.</summary>
internal sealed class FakeSpikeReader(AudioSpike[] spikes, int channels) : ISpikeReader
{
    private int _next;

    public string SourceName => "fake.nas";

    public EventFormat Format => EventFormat.Nas;

    public long Position => _next * 8L;

    public IReadOnlyList<FormatWarning> Warnings { get; } = [];

    public int Channels => channels;

    public int Ears => 1;

    public bool Read(SpikeBatch batch)
    {
        batch.Clear();
        int n = Math.Min(batch.Capacity, spikes.Length - _next);
        for (int i = 0; i < n; i++)
        {
            batch.Add(spikes[_next + i]);
        }

        _next += n;
        return n > 0;
    }

    public void Dispose()
    {
    }
}

internal static class Ev
{
    /// <summary>Events at the given times, x = i % width, y = 0, ON.</summary>
    public static DvsEvent[] AtTimes(params long[] times)
    {
        var result = new DvsEvent[times.Length];
        for (int i = 0; i < times.Length; i++)
        {
            result[i] = new DvsEvent(times[i], (ushort)(i % 8), 0, true);
        }

        return result;
    }

    public static EventBatch Batch(params DvsEvent[] events) => EventSnn.Testing.EventArrays.Batch(events);

    /// <summary>Random sorted events on a small sensor.</summary>
    public static DvsEvent[] Random(int seed, int count, int width, int height, int maxStep) => EventSnn.Testing.EventArrays.Random(seed, count, width, height, maxStep);

    /// <summary>Pushes <paramref name="events"/> through <paramref name="push"/> in batches of random sizes.</summary>
    public static void InRandomBatches(DvsEvent[] events, int seed, Action<EventBatch> push)
    {
        var rng = new Random(seed);
        int i = 0;
        using var batch = new EventBatch(64);
        while (i < events.Length)
        {
            int n = Math.Min(rng.Next(1, 65), events.Length - i);
            batch.Clear();
            for (int k = 0; k < n; k++)
            {
                batch.Add(events[i + k]);
            }

            push(batch);
            i += n;
        }
    }
}

/// <summary>A snapshot of a time step (steps are borrowed, so tests copy what they check).</summary>
internal sealed record StepSnapshot(long Index, long StartUs, long EndUs, int EventCount, bool IsComplete, int Label, float[] Frame, int[] Active)
{
    public static StepSnapshot Of(TimeStep s) =>
        new(s.Index, s.StartUs, s.EndUs, s.EventCount, s.IsComplete, s.Label, s.Frame.ToArray(), s.Active.ToArray());
}
