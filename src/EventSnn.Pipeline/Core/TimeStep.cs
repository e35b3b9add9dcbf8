using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EventSnn.Events;

namespace EventSnn.Pipeline;

/// <summary>
/// One time step for the spiking network: the window [<see cref="StartUs"/>, <see cref="EndUs"/>)
/// in event time, the number of events in it, and, as configured by <see cref="Content"/>,
/// a dense float frame (<see cref="Frame"/>), the sparse list of active input indices
/// (<see cref="Active"/>) and a copy of the raw events (<see cref="Events"/>).
/// </summary>
/// <remarks>
/// <para>Storage is pooled. Ownership rules:</para>
/// <list type="bullet">
/// <item>A step received in <c>OnNext</c> from an operator is <b>borrowed</b>: it is valid only
/// during the call and is reused afterwards. Do not keep or dispose it; copy it with
/// <see cref="CopyTo"/> or <see cref="TimeStepPool.RentCopy"/> to keep it.</item>
/// <item>A step rented from a <see cref="TimeStepPool"/> (for example read from a
/// hand-off channel) is <b>owned</b>: dispose it exactly once to return it.</item>
/// </list>
/// The active indices are listed in order of first activation within the window, each once.
/// The frame is cleared sparsely (only the inputs that were touched), so a step costs time in
/// proportion to its events, not to the sensor size.
/// </remarks>
public sealed class TimeStep : IDisposable
{
    private readonly TimeStepPool? _pool;
    private float[] _frame;
    private int[] _active;
    private ulong[] _seen;
    private int _activeCount;
    private EventBatch? _events;
    private bool _disposed;

    /// <summary>Creates an unpooled step (owned by the caller; Dispose releases its arrays).</summary>
    public TimeStep(TimeStepOptions options)
        : this(options, null, borrowed: false)
    {
    }

    internal TimeStep(TimeStepOptions options, TimeStepPool? pool, bool borrowed)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _pool = pool;
        Borrowed = borrowed;
        int n = options.Layout.InputCount;
        _frame = (options.Content & TimeStepContent.Dense) != 0 ? ArrayPool<float>.Shared.Rent(n) : [];
        if (_frame.Length > 0)
        {
            Array.Clear(_frame, 0, n);
        }

        // the active list is always kept: it clears the frame sparsely and lists spikes
        _active = ArrayPool<int>.Shared.Rent(Math.Min(n, 1024));
        _seen = (options.Content & TimeStepContent.Dense) == 0 ? new ulong[(n + 63) / 64] : [];
        if ((options.Content & TimeStepContent.Events) != 0)
        {
            _events = new EventBatch(1024);
        }
    }

    /// <summary>The options the step was built with.</summary>
    public TimeStepOptions Options { get; }

    /// <summary>Input shape.</summary>
    public TimeStepLayout Layout => Options.Layout;

    /// <summary>What the step carries.</summary>
    public TimeStepContent Content => Options.Content;

    /// <summary>Sequence number of the step in its stream (0-based).</summary>
    public long Index { get; set; }

    /// <summary>Window start in event time (us, inclusive).</summary>
    public long StartUs { get; set; }

    /// <summary>Window end in event time (us, exclusive).</summary>
    public long EndUs { get; set; }

    /// <summary>Number of events accumulated (including those of merged channels).</summary>
    public int EventCount { get; set; }

    /// <summary>False for an incomplete trailing window emitted because of include-incomplete.</summary>
    public bool IsComplete { get; set; } = true;

    /// <summary>Class label of the sample the step belongs to, or -1.</summary>
    public int Label { get; set; } = -1;

    /// <summary>Index of the sample (segment) the step belongs to, or -1 for a continuous stream.</summary>
    public long Sample { get; set; } = -1;

    /// <summary>True on the last step of a labelled sample (segment binning, sample sources).</summary>
    public bool EndsSample { get; set; }

    /// <summary>True for the steps of a training-time augmented copy of a sample (to learn from, not to decide on).</summary>
    public bool Augmented { get; set; }

    /// <summary>Dense frame values (length <see cref="TimeStepLayout.InputCount"/>; empty when not dense).</summary>
    public Span<float> Frame => _frame.Length == 0 ? Span<float>.Empty : _frame.AsSpan(0, Layout.InputCount);

    /// <summary>Active input indices, each once, in order of first activation.</summary>
    public ReadOnlySpan<int> Active => _active.AsSpan(0, _activeCount);

    /// <summary>Number of active inputs.</summary>
    public int ActiveCount => _activeCount;

    /// <summary>The raw events of the window when <see cref="TimeStepContent.Events"/> is set, else null.</summary>
    public EventBatch? Events => _events;

    /// <summary>True when this step is borrowed from an operator (Dispose does nothing).</summary>
    internal bool Borrowed { get; }

    internal float[] FrameArray => _frame;

    /// <summary>True while the step sits idle in its pool (guards against double disposal).</summary>
    internal bool InPool { get; set; }

    /// <summary>Resets to an empty window [<paramref name="startUs"/>, <paramref name="endUs"/>).</summary>
    public void Reset(long index, long startUs, long endUs)
    {
        ClearValues();
        Index = index;
        StartUs = startUs;
        EndUs = endUs;
        EventCount = 0;
        IsComplete = true;
        Label = -1;
        Sample = -1;
        EndsSample = false;
        Augmented = false;
    }

    /// <summary>Forgets all values (sparse clear of the frame).</summary>
    public void ClearValues()
    {
        int n = _activeCount;
        if (_frame.Length > 0 && n > 0)
        {
            if (n > Layout.InputCount / 16)
            {
                Array.Clear(_frame, 0, Layout.InputCount);
            }
            else
            {
                float[] f = _frame;
                int[] a = _active;
                for (int i = 0; i < n; i++)
                {
                    f[a[i]] = 0f;
                }
            }
        }
        else if (_seen.Length > 0 && n > 0)
        {
            if (n > _seen.Length)
            {
                Array.Clear(_seen);
            }
            else
            {
                ulong[] s = _seen;
                int[] a = _active;
                for (int i = 0; i < n; i++)
                {
                    s[a[i] >> 6] = 0;
                }
            }
        }

        _activeCount = 0;
        EventCount = 0;
        _events?.Clear();
    }

    /// <summary>Adds one event at input <paramref name="index"/> (no bounds check on the layout).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddInput(int index)
    {
        EventCount++;
        if (_frame.Length > 0)
        {
            ref float v = ref _frame[index];
            if (v == 0f)
            {
                PushActive(index);
                v = 1f;
            }
            else if (Options.Mode == FrameMode.Counts)
            {
                v += 1f;
            }
        }
        else
        {
            ref ulong w = ref _seen[index >> 6];
            ulong bit = 1UL << index;
            if ((w & bit) == 0)
            {
                w |= bit;
                PushActive(index);
            }
        }
    }

    /// <summary>
    /// Accumulates DVS events [start, start + count) of <paramref name="batch"/>: input index
    /// from (polarity, y, x); events outside the layout are skipped and their number returned.
    /// </summary>
    public int AddEvents(EventBatch batch, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if ((uint)start > (uint)batch.Count || (uint)count > (uint)(batch.Count - start))
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        if (_events is not null)
        {
            AppendEvents(batch, start, count);
        }

        TimeStepLayout layout = Layout;
        int width = layout.Width, height = layout.Height, plane = layout.PlaneSize;
        bool polar = layout.Channels >= 2;
        ushort[] xs = batch.X, ys = batch.Y;
        byte[] ps = batch.P;
        int outside = 0;
        int end = start + count;
        if (_frame.Length > 0)
        {
            // branch-free: every event writes its index at the end of the active list, which
            // only grows when the input was still zero; the list has room for that extra slot
            int need = (int)Math.Min((long)_activeCount + count, layout.InputCount) + 1;
            if (_active.Length < need)
            {
                GrowActive(need);
            }

            float scale = Options.Mode == FrameMode.Counts ? 1f : 0f; // counts: old + 1; binary: 1
            nint n = _activeCount;
            outside = AccumulateDense(
                ref MemoryMarshal.GetArrayDataReference(_frame),
                ref MemoryMarshal.GetArrayDataReference(_active),
                ref MemoryMarshal.GetArrayDataReference(xs),
                ref MemoryMarshal.GetArrayDataReference(ys),
                ref MemoryMarshal.GetArrayDataReference(ps),
                start,
                end,
                (uint)width,
                (uint)height,
                polar ? plane : 0,
                scale,
                ref n);
            _activeCount = (int)n;
        }
        else
        {
            for (int i = start; i < end; i++)
            {
                int x = xs[i], y = ys[i];
                if ((uint)x >= (uint)width || (uint)y >= (uint)height)
                {
                    outside++;
                    continue;
                }

                int idx = y * width + x;
                if (polar && ps[i] != 0)
                {
                    idx += plane;
                }

                ref ulong w = ref _seen[idx >> 6];
                ulong bit = 1UL << idx;
                if ((w & bit) == 0)
                {
                    w |= bit;
                    PushActive(idx);
                }
            }
        }

        EventCount += count - outside;
        return outside;
    }

    /// <summary>
    /// Accumulates audio spikes [start, start + count): input index = ear * (Width / ears) +
    /// channel when the layout has room for both ears, else the channel. Returns the number skipped.
    /// </summary>
    public int AddSpikes(SpikeBatch batch, int start, int count, int channelsPerEar)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if ((uint)start > (uint)batch.Count || (uint)count > (uint)(batch.Count - start))
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        int inputs = Layout.InputCount;
        int outside = 0;
        ushort[] ch = batch.Channel;
        byte[] ear = batch.Ear;
        for (int i = start; i < start + count; i++)
        {
            int idx = ch[i];
            if (idx >= channelsPerEar)
            {
                outside++;
                continue;
            }

            idx += ear[i] * channelsPerEar;
            if ((uint)idx >= (uint)inputs)
            {
                outside++;
                continue;
            }

            AddInput(idx);
        }

        return outside;
    }

    /// <summary>
    /// The dense hot loop, call-free so that nothing spills: branch-free polarity channel and
    /// activation (every event writes its index at the end of the active list, which only grows
    /// when the input was still zero; the caller made room for that extra slot).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int AccumulateDense(ref float frame, ref int active, ref ushort xs, ref ushort ys, ref byte ps, nint start, nint end, uint width, uint height, int polarPlane, float scale, ref nint activeCount)
    {
        nint n = activeCount;
        int outside = 0;
        for (nint i = start; i < end; i++)
        {
            uint x = Unsafe.Add(ref xs, i), y = Unsafe.Add(ref ys, i);
            if ((x >= width) | (y >= height))
            {
                outside++;
                continue;
            }

            int on = (int)((uint)-Unsafe.Add(ref ps, i) >> 31);
            int idx = (int)((y * width) + x) + (polarPlane & -on);
            ref float v = ref Unsafe.Add(ref frame, (nint)idx);
            float old = v;
            Unsafe.Add(ref active, n) = idx;
            n += old == 0f ? 1 : 0;
            v = (old * scale) + 1f;
        }

        activeCount = n;
        return outside;
    }

    /// <summary>
    /// Takes the window, event count, end-of-sample flag and values of a step of the
    /// preprocessing chain (<see cref="EventSnn.Transforms.Preprocessor"/>); the values are the
    /// chain's (binary, count, log-count or mean), the active indices ascending. Label and sample
    /// index are left to the caller.
    /// </summary>
    public void Load(EventSnn.Transforms.BinnedStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (step.Features != Layout.InputCount)
        {
            throw new ArgumentException($"the step has {step.Features} features, the layout {Layout} holds {Layout.InputCount}", nameof(step));
        }

        Reset(step.Index, step.StartUs, step.EndUs);
        ReadOnlySpan<int> active = step.Active;
        ReadOnlySpan<float> values = step.Values;
        if (_active.Length < active.Length)
        {
            GrowActive(active.Length);
        }

        active.CopyTo(_active);
        _activeCount = active.Length;
        if (_frame.Length > 0)
        {
            for (int i = 0; i < active.Length; i++)
            {
                _frame[active[i]] = values[i];
            }
        }
        else
        {
            foreach (int idx in active)
            {
                _seen[idx >> 6] |= 1UL << idx;
            }
        }

        EventCount = step.EventCount;
        EndsSample = step.EndsSample;
    }

    /// <summary>Sorts the active indices ascending (for a canonical sparse vector).</summary>
    public void SortActive() => Array.Sort(_active, 0, _activeCount);

    /// <summary>Copies window, counters, values and events into <paramref name="target"/> (same layout).</summary>
    public void CopyTo(TimeStep target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (target.Layout != Layout)
        {
            throw new ArgumentException($"layout {target.Layout} differs from {Layout}", nameof(target));
        }

        target.ClearValues();
        target.Index = Index;
        target.StartUs = StartUs;
        target.EndUs = EndUs;
        target.IsComplete = IsComplete;
        target.Label = Label;
        target.Sample = Sample;
        target.EndsSample = EndsSample;
        target.Augmented = Augmented;
        ReadOnlySpan<int> active = Active;
        if (target._frame.Length > 0)
        {
            if (_frame.Length > 0)
            {
                foreach (int idx in active)
                {
                    target._frame[idx] = _frame[idx];
                }
            }
            else
            {
                foreach (int idx in active)
                {
                    target._frame[idx] = 1f;
                }
            }
        }
        else
        {
            foreach (int idx in active)
            {
                target._seen[idx >> 6] |= 1UL << idx;
            }
        }

        if (target._active.Length < active.Length)
        {
            ArrayPool<int>.Shared.Return(target._active);
            target._active = ArrayPool<int>.Shared.Rent(active.Length);
        }

        active.CopyTo(target._active);
        target._activeCount = active.Length;
        if (target._events is not null && _events is not null)
        {
            target.AppendEvents(_events, 0, _events.Count);
        }

        target.EventCount = EventCount;
    }

    /// <summary>Returns a pooled step to its pool, or releases the arrays of an unpooled one. Borrowed steps ignore it.</summary>
    public void Dispose()
    {
        if (Borrowed)
        {
            return;
        }

        if (_pool is not null)
        {
            _pool.Return(this);
            return;
        }

        Release();
    }

    internal void Release()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_frame.Length > 0)
        {
            ArrayPool<float>.Shared.Return(_frame);
        }

        ArrayPool<int>.Shared.Return(_active);
        _frame = [];
        _active = [];
        _activeCount = 0;
        _events?.Dispose();
        _events = null;
    }

    private void AppendEvents(EventBatch source, int start, int count)
    {
        EventBatch events = _events!;
        if (events.Remaining < count)
        {
            int capacity = events.Capacity;
            while (capacity - events.Count < count)
            {
                capacity = checked(capacity * 2);
            }

            var bigger = new EventBatch(capacity);
            bigger.Append(events, 0, events.Count);
            events.Dispose();
            _events = events = bigger;
        }

        events.Append(source, start, count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PushActive(int index)
    {
        if (_activeCount == _active.Length)
        {
            GrowActive();
        }

        _active[_activeCount++] = index;
    }

    private void GrowActive(int atLeast = 0)
    {
        int size = Math.Max(Math.Min(Math.Max(_active.Length * 2, 1024), Layout.InputCount + 1), atLeast);
        int[] bigger = ArrayPool<int>.Shared.Rent(size);
        _active.AsSpan(0, _activeCount).CopyTo(bigger);
        ArrayPool<int>.Shared.Return(_active);
        _active = bigger;
    }
}
