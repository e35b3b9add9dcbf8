using EventSnn.Events;

namespace EventSnn.IO.Internal;

/// <summary>Checks shared by the Prophesee writers, run before a batch is encoded so a bad batch writes nothing.</summary>
internal static class WriterSupport
{
    /// <summary>
    /// Requires non-negative, non-decreasing timestamps (from <paramref name="lastT"/> on, events and
    /// triggers each in order), addresses within the format's fields and trigger ids within range.
    /// </summary>
    public static void Validate(EventBatch batch, long lastT, int maxX, int maxY, int maxTriggerId, EventFormat id, string format)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ReadOnlySpan<long> t = batch.Timestamps;
        ReadOnlySpan<ushort> xs = batch.Xs;
        ReadOnlySpan<ushort> ys = batch.Ys;
        long prev = Math.Max(lastT, 0);
        for (int i = 0; i < t.Length; i++)
        {
            long ti = t[i];
            if (ti < prev)
            {
                throw new FormatLimitException(id, $"{format}: event {i} has timestamp {ti} us, before {prev} us; timestamps must be non-negative and non-decreasing.");
            }

            prev = ti;
            if (xs[i] > maxX || ys[i] > maxY)
            {
                throw new FormatLimitException(id, $"{format}: event {i} at ({xs[i]}, {ys[i]}) does not fit the format's address fields (x <= {maxX}, y <= {maxY}).");
            }
        }

        prev = Math.Max(lastT, 0);
        ReadOnlySpan<TriggerEvent> triggers = batch.Triggers.Items;
        for (int i = 0; i < triggers.Length; i++)
        {
            if (triggers[i].T < prev)
            {
                throw new FormatLimitException(id, $"{format}: trigger {i} has timestamp {triggers[i].T} us, before {prev} us; timestamps must be non-negative and non-decreasing.");
            }

            prev = triggers[i].T;
            if ((uint)triggers[i].Data > (uint)maxTriggerId)
            {
                throw new FormatLimitException(id, $"{format}: trigger {i} has channel id {triggers[i].Data}; the format holds 0..{maxTriggerId}.");
            }
        }
    }

    /// <summary>Edge value written for a trigger kind (1 = rising, 0 = falling; other kinds count as rising).</summary>
    public static uint TriggerValue(TriggerKind kind) => kind == TriggerKind.ExternalFalling ? 0u : 1u;
}

/// <summary>
/// Plans the TIME_HIGH words a writer emits so a reader that takes a drop of at least half the
/// counter range as a wrap reconstructs the full timestamp: the first value is the target itself
/// when it lies in the first counter period, and later jumps are cut into steps of at most a
/// quarter of the range (so each wrap shows as a drop of at least three quarters).
/// </summary>
internal struct TimeHighPlan
{
    private long _current;
    private bool _started;

    /// <summary>True once a TIME_HIGH was emitted.</summary>
    public readonly bool Started => _started;

    /// <summary>The full (unmasked) TIME_HIGH value last emitted.</summary>
    public readonly long Current => _current;

    /// <summary>Next (unmasked) TIME_HIGH value to emit to reach <paramref name="target"/>; false when there.</summary>
    public bool Next(long target, long range, out long value)
    {
        long maxStep = range / 4;
        if (!_started)
        {
            _started = true;
            _current = Math.Min(target, range - 1);
            value = _current;
            return true;
        }

        if (target - _current > maxStep)
        {
            _current += maxStep;
            value = _current;
            return true;
        }

        if (target != _current)
        {
            _current = target;
            value = target;
            return true;
        }

        value = 0;
        return false;
    }
}
