using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Background-activity filter with Tonic's <c>denoise</c> semantics: for each event the pixel's
/// memory is set to <c>t + filterTime</c>, then the event is kept when one of its four direct
/// neighbours (left, right, up, down; not itself) holds a memory greater than <c>t</c>, i.e.
/// a neighbour fired within the last <c>filterTime</c> us. Memories start at
/// <c>filterTime</c> as in Tonic (so events before <c>filterTime</c> pass). Events outside
/// the sensor are dropped and counted. O(1) per event, allocation-free.
/// </summary>
/// <remarks>
/// Memories are kept as 32-bit offsets from a base time (half the cache footprint of 64-bit
/// timestamps); when event time runs more than 2^30 us past the base, the base moves and the
/// memories are shifted (saturating), which keeps every comparison exact.
/// </remarks>
public sealed class DenoiseStage : IEventStage
{
    private const int Never = int.MinValue;
    private readonly int[] _memory;
    private readonly int _stride;
    private long _base = long.MinValue;
    private int[] _keep = [];

    /// <summary>Creates the filter for a sensor of <paramref name="geometry"/> (filter time at most 2^28 us, about 4.5 min).</summary>
    public DenoiseStage(SensorGeometry geometry, long filterTimeUs = 10_000)
    {
        if (!geometry.IsKnown)
        {
            throw new ArgumentException("sensor geometry must be known", nameof(geometry));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(filterTimeUs);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(filterTimeUs, 1L << 28);
        Geometry = geometry;
        FilterTimeUs = filterTimeUs;
        _stride = geometry.Width + 2;
        _memory = new int[_stride * (geometry.Height + 2)];
        Reset();
    }

    /// <summary>Sensor size.</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>Temporal neighbourhood in us.</summary>
    public long FilterTimeUs { get; }

    /// <summary>Events dropped as noise so far.</summary>
    public long Dropped { get; private set; }

    /// <summary>Events dropped because they lay outside the sensor.</summary>
    public long OutOfBounds { get; private set; }

    /// <inheritdoc />
    public void Reset()
    {
        _base = long.MinValue;
        Array.Fill(_memory, Never);
    }

    /// <summary>Chooses the base at the first event: memories start at filterTime (Tonic), the border ring never passes.</summary>
    private void Start(long t)
    {
        _base = t - (1L << 29);
        int initial = Offset(FilterTimeUs);
        for (int y = 0; y < Geometry.Height; y++)
        {
            _memory.AsSpan(((y + 1) * _stride) + 1, Geometry.Width).Fill(initial);
        }
    }

    private int Offset(long time)
    {
        long d = time - _base;
        return d <= Never + 1 ? Never + 1 : d >= int.MaxValue ? int.MaxValue : (int)d;
    }

    /// <summary>Moves the base so that <paramref name="t"/> + filterTime fits, shifting memories (saturating at "long ago").</summary>
    private void Rebase(long t)
    {
        long newBase = t - (1L << 29);
        long shift = newBase - _base;
        int[] mem = _memory;
        for (int i = 0; i < mem.Length; i++)
        {
            int v = mem[i];
            if (v == Never)
            {
                continue;
            }

            long nv = v - shift;
            mem[i] = nv <= Never + 1 ? Never + 1 : (int)Math.Min(nv, int.MaxValue);
        }

        _base = newBase;
    }

    /// <inheritdoc />
    public SensorGeometry OutputGeometry(SensorGeometry input) => input;

    /// <inheritdoc />
    [SkipLocalsInit]
    public void Process(EventBatch input, EventBatch output)
    {
        int n = EventLoop.CheckRoom(input, output);
        long[] ti = input.T, to = output.T;
        ushort[] xi = input.X, yi = input.Y, xo = output.X, yo = output.Y;
        byte[] pi = input.P, po = output.P;
        if (n > 0 && _base == long.MinValue)
        {
            Start(ti[0]);
        }

        // pass 1: decide, writing the indices of kept events (few live registers, no spills)
        if (_keep.Length < n)
        {
            _keep = new int[Math.Max(n, 1024)];
        }

        ref int mem = ref MemoryMarshal.GetArrayDataReference(_memory);
        ref int keepRef = ref MemoryMarshal.GetArrayDataReference(_keep);
        // n <= input.Capacity <= every input array's length and output.Capacity >= n (checked above)
        ref long tIn = ref MemoryMarshal.GetArrayDataReference(ti);
        ref ushort xIn = ref MemoryMarshal.GetArrayDataReference(xi);
        ref ushort yIn = ref MemoryMarshal.GetArrayDataReference(yi);
        nint stride = _stride;
        uint width = (uint)Geometry.Width, height = (uint)Geometry.Height;
        int ft = (int)FilterTimeUs;
        nint kept = 0;
        long outside = 0;
        nint i = 0;
        while (true)
        {
            // the hot loop lives in a call-free method so that nothing spills to the stack
            i = FastRun(ref mem, ref keepRef, ref tIn, ref xIn, ref yIn, i, n, stride, width, height, ft, _base, ref kept);
            if (i >= n)
            {
                break;
            }

            uint x = Unsafe.Add(ref xIn, i), y = Unsafe.Add(ref yIn, i);
            long t = Unsafe.Add(ref tIn, i);
            if (x >= width || y >= height)
            {
                outside++;
            }
            else if (t < _base + (1L << 28))
            {
                Unsafe.Add(ref keepRef, kept) = (int)i;
                kept += KeepSlow(t, x, y) ? 1 : 0;
            }
            else
            {
                Rebase(t);
                continue; // the event is now in range: FastRun takes it
            }

            i++;
        }

        // pass 2: gather the kept events
        Gather(ti, to, _keep, (int)kept);
        Gather(xi, xo, _keep, (int)kept);
        Gather(yi, yo, _keep, (int)kept);
        Gather(pi, po, _keep, (int)kept);
        output.SetCount((int)kept);
        OutOfBounds += outside;
        Dropped += n - kept - outside;
    }

    /// <summary>
    /// Decides events from <paramref name="i"/> on while they are inside the sensor and within
    /// [base + 2^28, base + 2^30) of event time; returns the index of the first event that is not.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint FastRun(ref int mem, ref int keepRef, ref long tIn, ref ushort xIn, ref ushort yIn, nint i, nint n, nint stride, uint width, uint height, int ft, long baseT, ref nint keptRef)
    {
        const ulong Span = (1UL << 30) - (1UL << 28);
        long low = baseT + (1L << 28);
        nint kept = keptRef;
        for (; i < n; i++)
        {
            uint x = Unsafe.Add(ref xIn, i), y = Unsafe.Add(ref yIn, i);
            long t = Unsafe.Add(ref tIn, i);
            if ((x >= width) | (y >= height) | ((ulong)(t - low) >= Span))
            {
                break;
            }

            int rel = (int)(t - baseT);
            ref int m = ref Unsafe.Add(ref mem, (nint)((y + 1) * (uint)stride) + (nint)x + 1);
            m = rel + ft;
            bool keep = (Unsafe.Add(ref m, -1) > rel) | (Unsafe.Add(ref m, 1) > rel)
                | (Unsafe.Subtract(ref m, stride) > rel) | (Unsafe.Add(ref m, stride) > rel);
            Unsafe.Add(ref keepRef, kept) = (int)i;
            kept += keep ? 1 : 0;
        }

        keptRef = kept;
        return i;
    }

    private static void Gather<T>(T[] source, T[] target, int[] indices, int count)
        where T : unmanaged
    {
        ref T src = ref MemoryMarshal.GetArrayDataReference(source);
        ref T dst = ref MemoryMarshal.GetArrayDataReference(target);
        ref int idx = ref MemoryMarshal.GetArrayDataReference(indices);
        for (nint k = 0; k < count; k++)
        {
            Unsafe.Add(ref dst, k) = Unsafe.Add(ref src, (nint)Unsafe.Add(ref idx, k));
        }
    }

    /// <summary>Events far behind the base (out of order by more than 2^28 us): exact comparison in 64 bits.</summary>
    private bool KeepSlow(long t, uint x, uint y)
    {
        int idx = (int)(((y + 1) * (uint)_stride) + x + 1);
        _memory[idx] = Offset(t + FilterTimeUs);
        long rel = t - _base;
        return _memory[idx - 1] > rel || _memory[idx + 1] > rel || _memory[idx - _stride] > rel || _memory[idx + _stride] > rel;
    }
}

/// <summary>
/// Tonic's <c>Denoise(filter_time)</c>: drops events none of whose four direct neighbours fired
/// within the last <see cref="FilterTime"/> us (see <see cref="DenoiseStage"/>). Text form
/// "denoise:&lt;filter_time us&gt;". Needs the sensor size.
/// </summary>
public sealed class Denoise : EventTransform
{
    /// <summary>Creates the transform (filter time 0..2^28 us).</summary>
    public Denoise(long filterTime = 10_000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(filterTime);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(filterTime, 1L << 28);
        FilterTime = filterTime;
    }

    /// <summary>Temporal neighbourhood in us (Tonic's filter_time).</summary>
    public long FilterTime { get; }

    /// <inheritdoc />
    public override string Name => "denoise";

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => new DenoiseStage(Require(geometry), FilterTime);

    /// <inheritdoc />
    public override string ToString() => TransformText.Of(Name, FilterTime);
}
