using EventSnn.Events;

namespace EventSnn.Cli.Render;

/// <summary>
/// Cuts a DVS event stream into consecutive time windows of <see cref="WindowUs"/> from
/// <see cref="StartUs"/> and counts the ON and OFF events of each cell (a cell covers
/// <see cref="Pooling"/> x Pooling sensor pixels, row-major from the sensor's top-left corner).
/// Each finished window is handed to the callback as a <see cref="Frame"/> whose arrays are reused
/// for the next window; windows without events are frames too, so frame k always covers
/// [StartUs + k·WindowUs, StartUs + (k+1)·WindowUs). At most <see cref="MaxFrames"/> frames are
/// made; events after them are ignored. Events before the current window (out of order) count in
/// it; events outside the sensor are skipped. Nothing is allocated per event.
/// </summary>
internal sealed class EventFrames
{
    private readonly int[] _on;
    private readonly int[] _off;
    private readonly Action<Frame> _emit;
    private long _events;

    public EventFrames(SensorGeometry geometry, int pooling, long startUs, long windowUs, int maxFrames, Action<Frame> emit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pooling, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowUs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrames, 1);
        Geometry = geometry;
        Pooling = pooling;
        CellsW = (geometry.Width + pooling - 1) / pooling;
        CellsH = (geometry.Height + pooling - 1) / pooling;
        StartUs = startUs;
        WindowUs = windowUs;
        MaxFrames = maxFrames;
        _on = new int[CellsW * CellsH];
        _off = new int[CellsW * CellsH];
        _emit = emit;
    }

    public SensorGeometry Geometry { get; }

    public int Pooling { get; }

    public int CellsW { get; }

    public int CellsH { get; }

    public long StartUs { get; }

    public long WindowUs { get; }

    public int MaxFrames { get; }

    /// <summary>Frames handed out so far.</summary>
    public int Emitted { get; private set; }

    /// <summary>True once <see cref="MaxFrames"/> frames were made.</summary>
    public bool Full => Emitted >= MaxFrames;

    /// <summary>Events counted into frames (inside the sensor, within the frames made).</summary>
    public long EventsCounted { get; private set; }

    /// <summary>The number of frames a recording spanning [<paramref name="startUs"/>, <paramref name="lastUs"/>] needs.</summary>
    public static long FramesFor(long startUs, long lastUs, long windowUs) =>
        lastUs < startUs ? 1 : ((lastUs - startUs) / windowUs) + 1;

    /// <summary>Counts the events of <paramref name="batch"/>, handing out every window they close.</summary>
    public void Add(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ReadOnlySpan<long> ts = batch.Timestamps;
        ReadOnlySpan<ushort> xs = batch.Xs;
        ReadOnlySpan<ushort> ys = batch.Ys;
        ReadOnlySpan<byte> ps = batch.Polarities;
        int w = Geometry.Width, h = Geometry.Height, pooling = Pooling, cellsW = CellsW;
        long end = WindowEnd;
        for (int i = 0; i < ts.Length; i++)
        {
            while (ts[i] >= end)
            {
                Emit();
                if (Full)
                {
                    return;
                }

                end = WindowEnd;
            }

            int x = xs[i], y = ys[i];
            if (x >= w || y >= h)
            {
                continue;
            }

            int cell = ((y / pooling) * cellsW) + (x / pooling);
            if (ps[i] != 0)
            {
                _on[cell]++;
            }
            else
            {
                _off[cell]++;
            }

            _events++;
        }
    }

    /// <summary>Hands out the window in progress and the empty ones up to <paramref name="frames"/> frames in all.</summary>
    public void Finish(long frames)
    {
        while (Emitted < Math.Min(frames, MaxFrames))
        {
            Emit();
        }
    }

    private long WindowEnd => StartUs + ((Emitted + 1) * WindowUs);

    private void Emit()
    {
        long start = StartUs + (Emitted * WindowUs);
        _emit(new Frame(Emitted, start, start + WindowUs, _events, _on, _off, CellsW, CellsH, Pooling));
        EventsCounted += _events;
        _events = 0;
        Array.Clear(_on);
        Array.Clear(_off);
        Emitted++;
    }
}

/// <summary>One window's event counts per cell (the arrays are only valid during the callback).</summary>
internal readonly record struct Frame(int Index, long StartUs, long EndUs, long Events, int[] On, int[] Off, int CellsW, int CellsH, int Pooling);
