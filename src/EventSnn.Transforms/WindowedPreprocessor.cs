using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// A continuous stream cut into fixed windows, each window one sample of the chain (Tonic's
/// SliceByTime without overlap): windows of <see cref="WindowUs"/> are aligned to the stream's
/// first kept event (or to a given <see cref="OriginUs"/>); a window is ended (its last step
/// emitted) when a kept event at or after its end arrives, or by <see cref="Flush"/>; windows
/// without events are skipped, so a gap of any length costs nothing. Events a little earlier than the open window are counted into it
/// (<see cref="Preprocessor.Late"/>); an event more than <see cref="ResetUs"/> earlier is a clock
/// reset (a sensor restarted, a timestamp wrapped): the open window is ended, the jump counted in
/// <see cref="BackwardJumps"/>, and windows start again aligned to that event. Steps carry the window
/// as their sample (<see cref="BinnedStep.Sample"/>, <see cref="BinnedStep.SampleStartUs"/>,
/// <see cref="BinnedStep.SampleEndUs"/>). Not thread-safe: one thread feeds one stream.
/// </summary>
public sealed class WindowedPreprocessor
{
    private const int Chunk = 4096;
    private readonly int[] _features = new int[Chunk];
    private long _windowStart;

    /// <summary>Creates the windowed chain of <paramref name="preprocessing"/>; <paramref name="onStep"/> receives every step (borrowed).</summary>
    public WindowedPreprocessor(Preprocessing preprocessing, long windowUs, Action<BinnedStep> onStep)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowUs, 1);
        WindowUs = windowUs;
        Preprocessor = new Preprocessor(preprocessing, onStep);
    }

    /// <summary>Window length (microseconds).</summary>
    public long WindowUs { get; }

    /// <summary>How far before the open window an event may be and still count as late rather than as a clock reset (microseconds; default 1 s).</summary>
    public long ResetUs { get; init; } = 1_000_000;

    /// <summary>Clock resets seen: events more than <see cref="ResetUs"/> before the open window, each starting a new run of windows.</summary>
    public long BackwardJumps { get; private set; }

    /// <summary>The chain (its counters count over all windows).</summary>
    public Preprocessor Preprocessor { get; }

    /// <summary>Events kept by the per-event stages and passed into windows (binned, or dropped later by max steps).</summary>
    public long Events { get; private set; }

    /// <summary>True while a window is open.</summary>
    public bool InWindow => Preprocessor.InSample;

    /// <summary>Start of the open (or last) window.</summary>
    public long WindowStartUs => _windowStart;

    /// <summary>
    /// The time windows are aligned to: window k spans [origin + k w, origin + (k + 1) w). Null
    /// until the first kept event sets it (to that event's time); a clock reset sets it again.
    /// Set it before the first event to continue a stream on the grid it had (e.g. after a restart).
    /// </summary>
    public long? OriginUs { get; set; }

    /// <summary>Adds DVS events (struct-of-arrays spans).</summary>
    public void Push(ReadOnlySpan<long> t, ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, ReadOnlySpan<byte> polarity)
    {
        if (x.Length != t.Length || y.Length != t.Length || polarity.Length != t.Length)
        {
            throw new ArgumentException("t, x, y and polarity must have the same length");
        }

        for (int start = 0; start < t.Length; start += Chunk)
        {
            int n = Math.Min(Chunk, t.Length - start);
            Span<int> f = _features.AsSpan(0, n);
            Preprocessor.MapEvents(x.Slice(start, n), y.Slice(start, n), polarity.Slice(start, n), f);
            Slice(t.Slice(start, n), f);
        }
    }

    /// <summary>Adds every event of a DVS batch.</summary>
    public void Push(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Push(batch.Timestamps, batch.Xs, batch.Ys, batch.Polarities);
    }

    /// <summary>Adds spikes (struct-of-arrays spans).</summary>
    public void PushSpikes(ReadOnlySpan<long> t, ReadOnlySpan<ushort> channel, ReadOnlySpan<byte> polarity)
    {
        if (channel.Length != t.Length || polarity.Length != t.Length)
        {
            throw new ArgumentException("t, channel and polarity must have the same length");
        }

        for (int start = 0; start < t.Length; start += Chunk)
        {
            int n = Math.Min(Chunk, t.Length - start);
            Span<int> f = _features.AsSpan(0, n);
            Preprocessor.MapSpikes(channel.Slice(start, n), polarity.Slice(start, n), f);
            Slice(t.Slice(start, n), f);
        }
    }

    /// <summary>Ends the open window (the stream ended or stops); no-op when none is open.</summary>
    public void Flush()
    {
        if (Preprocessor.InSample)
        {
            Preprocessor.EndSample();
        }
    }

    private void Slice(ReadOnlySpan<long> t, ReadOnlySpan<int> f)
    {
        int n = f.Length;
        int i = 0;
        while (i < n)
        {
            if (f[i] < 0)
            {
                i++;
                continue;
            }

            long ti = t[i];
            if (!Preprocessor.InSample)
            {
                OriginUs ??= ti;
                Open(OriginUs.Value + (Math.DivRem(ti - OriginUs.Value, WindowUs, out long rem) - (rem < 0 ? 1 : 0)) * WindowUs);
            }
            else if (ti < _windowStart - ResetUs)
            {
                // a clock reset: decide what is open and start again from here
                Preprocessor.EndSample();
                BackwardJumps++;
                OriginUs = ti;
                Open(ti);
            }
            else if (ti - _windowStart >= WindowUs)
            {
                Preprocessor.EndSample();

                // skip empty windows: the next window is the one holding ti
                Open(_windowStart + ((ti - _windowStart) / WindowUs * WindowUs));
            }

            int j = i + 1;
            long kept = 1;
            while (j < n && (f[j] < 0 || (t[j] - _windowStart < WindowUs && t[j] >= _windowStart - ResetUs)))
            {
                kept += f[j] >= 0 ? 1 : 0;
                j++;
            }

            Events += kept;
            Preprocessor.AddMapped(t[i..j], f[i..j]);
            i = j;
        }
    }

    private void Open(long start)
    {
        _windowStart = start;
        Preprocessor.BeginSample(start, start + WindowUs);
    }
}
