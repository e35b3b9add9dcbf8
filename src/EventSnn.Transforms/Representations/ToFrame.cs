using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Tonic's <c>ToFrame</c>: cuts a sample into slices (<see cref="FrameSlicing"/>: time_window,
/// event_count, n_time_bins or n_event_bins, with overlap) and counts each slice's events per
/// polarity and pixel: a tensor frames x polarities x height x width. With one polarity every
/// event counts in plane 0 (Tonic refuses events of both polarities there). An empty sample
/// gives one zero frame, or n zero frames with bins, as Tonic does. Events outside the sensor are
/// left out. Counts are 32-bit (Tonic's are 16-bit). Allocation-free per event:
/// <see cref="Apply(EventView, Span{int})"/> writes into the caller's buffer.
/// </summary>
public sealed class ToFrame
{
    /// <summary>Creates the representation for a sensor of <paramref name="sensor"/> with <paramref name="polarities"/> (1 or 2) planes.</summary>
    public ToFrame(SensorGeometry sensor, FrameSlicing slicing, int polarities = 2)
    {
        ArgumentNullException.ThrowIfNull(slicing);
        if (!sensor.IsKnown)
        {
            throw new ArgumentException("sensor geometry must be known", nameof(sensor));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(polarities, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(polarities, 2);
        Sensor = sensor;
        Slicing = slicing;
        Polarities = polarities;
    }

    /// <summary>Sensor size (Tonic's sensor_size W, H).</summary>
    public SensorGeometry Sensor { get; }

    /// <summary>How the sample is cut.</summary>
    public FrameSlicing Slicing { get; }

    /// <summary>Polarity planes (Tonic's sensor_size P).</summary>
    public int Polarities { get; }

    /// <summary>Elements of one frame (polarities x height x width).</summary>
    public int FrameSize => Polarities * Sensor.PixelCount;

    /// <summary>Number of frames the sample gives.</summary>
    public int FrameCount(EventView events) => Slicing.Count(events.T);

    /// <summary>Counts the sample's frames into <paramref name="frames"/> (length <see cref="FrameCount"/> x <see cref="FrameSize"/>; cleared first).</summary>
    public void Apply(EventView events, Span<int> frames)
    {
        int count = FrameCount(events);
        int size = FrameSize;
        if (frames.Length != (long)count * size)
        {
            throw new ArgumentException($"frames must hold {count} x {size} counts", nameof(frames));
        }

        frames.Clear();
        for (int k = 0; k < count; k++)
        {
            (int start, int end) = Slicing.Slice(events.T, k);
            Accumulate(events, start, end, frames.Slice(k * size, size));
        }
    }

    /// <summary>The sample's frames as a tensor frames x polarities x height x width.</summary>
    public EventTensor<int> Apply(EventView events)
    {
        var tensor = new EventTensor<int>(FrameCount(events), Polarities, Sensor.Height, Sensor.Width);
        Apply(events, tensor.Data);
        return tensor;
    }

    /// <summary>Counts events [start, end) into one frame.</summary>
    internal void Accumulate(EventView events, int start, int end, Span<int> frame)
    {
        int w = Sensor.Width, h = Sensor.Height, plane = w * h;
        bool split = Polarities == 2;
        ReadOnlySpan<ushort> xs = events.X, ys = events.Y;
        ReadOnlySpan<byte> ps = events.P;
        for (int i = start; i < end; i++)
        {
            int x = xs[i], y = ys[i];
            if (x < w && y < h)
            {
                frame[(split && ps[i] != 0 ? plane : 0) + (y * w) + x]++;
            }
        }
    }
}

/// <summary>
/// Tonic's <c>ToSparseTensor</c> (ToFrame's frames, kept sparse) as index output: the non-zero
/// counts of the frames with their coordinates (frame, polarity, y, x), in row-major order as a
/// coalesced PyTorch sparse tensor lists them. Works per slice with a pooled per-pixel count, so
/// memory follows the events, not frames x pixels.
/// </summary>
public sealed class ToSparseTensor
{
    private readonly ToFrame _frames;

    /// <summary>Creates the representation (parameters as <see cref="ToFrame"/>).</summary>
    public ToSparseTensor(SensorGeometry sensor, FrameSlicing slicing, int polarities = 2) => _frames = new ToFrame(sensor, slicing, polarities);

    /// <summary>The frame parameters.</summary>
    public ToFrame Frames => _frames;

    /// <summary>The sample's non-zero frame counts.</summary>
    public SparseEventTensor Apply(EventView events)
    {
        int count = _frames.FrameCount(events);
        int size = _frames.FrameSize;
        int w = _frames.Sensor.Width, plane = _frames.Sensor.PixelCount;
        int[] counts = System.Buffers.ArrayPool<int>.Shared.Rent(size);
        int[] touched = System.Buffers.ArrayPool<int>.Shared.Rent(Math.Max(1, Math.Min(size, events.Count)));
        var indices = new List<int>();
        var values = new List<int>();
        try
        {
            Span<int> frame = counts.AsSpan(0, size);
            frame.Clear();
            for (int k = 0; k < count; k++)
            {
                (int start, int end) = _frames.Slicing.Slice(events.T, k);
                _frames.Accumulate(events, start, end, frame);

                // the cells this slice touched (each once: its count is negated when taken), in row-major order
                int active = 0;
                for (int i = start; i < end; i++)
                {
                    int cell = Cell(events, i, w, _frames.Sensor.Height, plane);
                    if (cell >= 0 && frame[cell] > 0)
                    {
                        touched[active++] = cell;
                        frame[cell] = -frame[cell];
                    }
                }

                Span<int> cells = touched.AsSpan(0, active);
                cells.Sort();
                foreach (int cell in cells)
                {
                    int p = cell / plane, rest = cell % plane;
                    indices.Add(k);
                    indices.Add(p);
                    indices.Add(rest / w);
                    indices.Add(rest % w);
                    values.Add(-frame[cell]);
                    frame[cell] = 0;
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<int>.Shared.Return(counts);
            System.Buffers.ArrayPool<int>.Shared.Return(touched);
        }

        return new SparseEventTensor([count, _frames.Polarities, _frames.Sensor.Height, w], [.. indices], [.. values]);
    }

    private int Cell(EventView events, int i, int w, int h, int plane)
    {
        int x = events.X[i], y = events.Y[i];
        if (x >= w || y >= h)
        {
            return -1;
        }

        return (_frames.Polarities == 2 && events.P[i] != 0 ? plane : 0) + (y * w) + x;
    }
}

/// <summary>
/// A sparse tensor in coordinate form: <see cref="NonZeros"/> entries, entry j at coordinates
/// <c>Indices[j * Rank .. (j + 1) * Rank)</c> with value <c>Values[j]</c>, in row-major order of
/// the coordinates, over a dense <see cref="Shape"/>.
/// </summary>
public sealed class SparseEventTensor
{
    private readonly int[] _shape;

    /// <summary>Creates the tensor.</summary>
    public SparseEventTensor(int[] shape, int[] indices, int[] values)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(values);
        if (indices.Length != values.Length * shape.Length)
        {
            throw new ArgumentException("one index per dimension and value", nameof(indices));
        }

        _shape = [.. shape];
        Indices = indices;
        Values = values;
    }

    /// <summary>The dense shape.</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of stored (non-zero) entries.</summary>
    public int NonZeros => Values.Length;

    /// <summary>Coordinates, <see cref="Rank"/> per entry.</summary>
    public int[] Indices { get; }

    /// <summary>Values, one per entry.</summary>
    public int[] Values { get; }

    /// <summary>The dense tensor.</summary>
    public EventTensor<int> ToDense()
    {
        var dense = new EventTensor<int>(_shape);
        for (int j = 0; j < NonZeros; j++)
        {
            dense.Data[dense.Offset(Indices.AsSpan(j * Rank, Rank))] = Values[j];
        }

        return dense;
    }
}
