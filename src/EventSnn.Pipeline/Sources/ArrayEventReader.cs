using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>
/// An <see cref="IDvsEventReader"/> over events already in memory (struct-of-arrays), for
/// synthetic inputs, benchmarks and tests: Read copies the next slice into the batch.
/// </summary>
public sealed class ArrayEventReader : IDvsEventReader
{
    private readonly long[] _t;
    private readonly ushort[] _x;
    private readonly ushort[] _y;
    private readonly byte[] _p;
    private readonly int _count;
    private int _next;

    /// <summary>Creates a reader over the first <paramref name="count"/> events of the arrays (not copied).</summary>
    public ArrayEventReader(long[] t, ushort[] x, ushort[] y, byte[] p, int count, SensorGeometry geometry, string sourceName = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(t);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(p);
        if (count < 0 || count > t.Length || count > x.Length || count > y.Length || count > p.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        (_t, _x, _y, _p, _count) = (t, x, y, p, count);
        Geometry = geometry;
        SourceName = sourceName;
    }

    /// <summary>Generates <paramref name="count"/> events with <see cref="SyntheticEventGenerator"/> into new arrays.</summary>
    public static ArrayEventReader Synthetic(SensorGeometry geometry, int count, double eventsPerSecond = 20e6, ulong seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var t = new long[count];
        var x = new ushort[count];
        var y = new ushort[count];
        var p = new byte[count];
        var generator = new SyntheticEventGenerator(geometry, eventsPerSecond, seed);
        using var batch = new EventBatch();
        for (int done = 0; done < count; done += batch.Count)
        {
            generator.Fill(batch, count - done);
            batch.Timestamps.CopyTo(t.AsSpan(done));
            batch.Xs.CopyTo(x.AsSpan(done));
            batch.Ys.CopyTo(y.AsSpan(done));
            batch.Polarities.CopyTo(p.AsSpan(done));
        }

        return new ArrayEventReader(t, x, y, p, count, geometry, "<synthetic>");
    }

    /// <summary>A fresh reader over the same arrays (for replays that re-open per pass).</summary>
    public ArrayEventReader Reopen() => new(_t, _x, _y, _p, _count, Geometry, SourceName);

    /// <summary>Number of events.</summary>
    public int Count => _count;

    /// <inheritdoc />
    public string SourceName { get; }

    /// <inheritdoc />
    public EventFormat Format => EventFormat.Unknown;

    /// <inheritdoc />
    public long Position => _next;

    /// <inheritdoc />
    public IReadOnlyList<FormatWarning> Warnings => [];

    /// <inheritdoc />
    public SensorGeometry Geometry { get; }

    /// <inheritdoc />
    public bool Read(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        int n = Math.Min(batch.Capacity, _count - _next);
        if (n <= 0)
        {
            return false;
        }

        Array.Copy(_t, _next, batch.T, 0, n);
        Array.Copy(_x, _next, batch.X, 0, n);
        Array.Copy(_y, _next, batch.Y, 0, n);
        Array.Copy(_p, _next, batch.P, 0, n);
        batch.SetCount(n);
        _next += n;
        return true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
