using System.Buffers;
using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>How past events fade in a <see cref="ToAveragedTimeSurface"/>.</summary>
public enum SurfaceDecay
{
    /// <summary><c>exp(-Δt / tau)</c> (Tonic's "exp").</summary>
    Exponential = 0,

    /// <summary><c>1 - Δt / (3 tau)</c> (Tonic's "lin"; negative past 3 tau within the time window).</summary>
    Linear = 1,
}

/// <summary>
/// Tonic's <c>ToAveragedTimesurface</c> (HATS, Sironi et al. 2018): the sensor is tiled into cells
/// of <see cref="CellSize"/> x <see cref="CellSize"/> pixels; for every event a local surface of
/// <see cref="SurfaceSize"/> x <see cref="SurfaceSize"/> (odd, radius r = size / 2) centred on it
/// gets 1 at the centre plus, for every earlier event of the same cell and polarity with
/// <c>t_j &gt;= max(0, t_i - time_window)</c> and within r pixels in x and y, the decayed value of
/// <c>t_i - t_j</c> at its relative position; each cell and polarity's histogram is the sum of its
/// events' surfaces divided by their number (at least 1). Output cells x polarities x size x size
/// (float32; cells row-major over ceil(W / cell) x ceil(H / cell)). "Earlier" is the order of
/// the events, as in Tonic; time differences are computed in float64 (Tonic: float32, which
/// rounds large timestamps). Past events are found through a per-cell chain (pooled scratch),
/// so time-ordered samples cost O(events x neighbours within the window).
/// </summary>
public sealed class ToAveragedTimeSurface
{
    /// <summary>Creates the representation with Tonic's defaults (surface 5, cell 10, window 1000 us, tau 100 us, exponential).</summary>
    public ToAveragedTimeSurface(SensorGeometry sensor, int surfaceSize = 5, int cellSize = 10, double timeWindow = 1e3, double tau = 100, SurfaceDecay decay = SurfaceDecay.Exponential, int polarities = 2)
    {
        if (!sensor.IsKnown)
        {
            throw new ArgumentException("sensor geometry must be known", nameof(sensor));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cellSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(surfaceSize);
        if (surfaceSize % 2 == 0 || surfaceSize > cellSize)
        {
            throw new ArgumentOutOfRangeException(nameof(surfaceSize), surfaceSize, "must be odd and at most the cell size");
        }

        if (!(timeWindow >= 0) || !double.IsFinite(timeWindow))
        {
            throw new ArgumentOutOfRangeException(nameof(timeWindow), timeWindow, "must be a duration >= 0");
        }

        if (!(tau > 0) || !double.IsFinite(tau))
        {
            throw new ArgumentOutOfRangeException(nameof(tau), tau, "must be a positive time constant");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(polarities, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(polarities, 2);
        Sensor = sensor;
        SurfaceSize = surfaceSize;
        CellSize = cellSize;
        TimeWindow = timeWindow;
        Tau = tau;
        Decay = decay;
        Polarities = polarities;
        CellsX = (sensor.Width + cellSize - 1) / cellSize;
        CellsY = (sensor.Height + cellSize - 1) / cellSize;
    }

    /// <summary>Sensor size.</summary>
    public SensorGeometry Sensor { get; }

    /// <summary>Side of a local surface (odd).</summary>
    public int SurfaceSize { get; }

    /// <summary>Side of a cell.</summary>
    public int CellSize { get; }

    /// <summary>How far back past events count (us).</summary>
    public double TimeWindow { get; }

    /// <summary>Decay time constant (us).</summary>
    public double Tau { get; }

    /// <summary>Decay shape.</summary>
    public SurfaceDecay Decay { get; }

    /// <summary>Polarity planes.</summary>
    public int Polarities { get; }

    /// <summary>Cells across.</summary>
    public int CellsX { get; }

    /// <summary>Cells down.</summary>
    public int CellsY { get; }

    /// <summary>Elements of the output (cells x polarities x size x size).</summary>
    public int Length => CellsX * CellsY * Polarities * SurfaceSize * SurfaceSize;

    /// <summary>Writes the histograms into <paramref name="histograms"/> (length <see cref="Length"/>; cleared first).</summary>
    public void Apply(EventView events, Span<float> histograms)
    {
        if (histograms.Length != Length)
        {
            throw new ArgumentException($"the histograms hold {Length} values", nameof(histograms));
        }

        histograms.Clear();
        int n = events.Count;
        int groups = CellsX * CellsY * Polarities;
        int s = SurfaceSize, r = s / 2, area = s * s;
        int[] previousRented = ArrayPool<int>.Shared.Rent(Math.Max(1, n));
        int[] lastRented = ArrayPool<int>.Shared.Rent(groups);
        int[] countRented = ArrayPool<int>.Shared.Rent(groups);
        try
        {
            Span<int> previous = previousRented.AsSpan(0, n);
            Span<int> last = lastRented.AsSpan(0, groups);
            Span<int> count = countRented.AsSpan(0, groups);
            last.Fill(-1);
            count.Clear();
            bool sorted = EventSorting.IsSorted(events.T);
            for (int i = 0; i < n; i++)
            {
                int x = events.X[i], y = events.Y[i];
                if (x >= Sensor.Width || y >= Sensor.Height)
                {
                    previous[i] = -1;
                    continue;
                }

                int group = Group(x, y, events.P[i]);
                Span<float> hist = histograms.Slice(group * area, area);
                double ti = events.T[i];
                double start = Math.Max(0, ti - TimeWindow);
                for (int j = last[group]; j >= 0; j = previous[j])
                {
                    double tj = events.T[j];
                    if (tj < start)
                    {
                        if (sorted)
                        {
                            break; // every earlier event of the chain is older still
                        }

                        continue;
                    }

                    int dx = events.X[j] - x, dy = events.Y[j] - y;
                    if (Math.Abs(dx) <= r && Math.Abs(dy) <= r)
                    {
                        double age = ti - tj;
                        double v = Decay == SurfaceDecay.Exponential ? Math.Exp(-age / Tau) : 1 - (age / (3 * Tau));
                        hist[((dy + r) * s) + dx + r] += (float)v;
                    }
                }

                hist[(r * s) + r] += 1;
                count[group]++;
                previous[i] = last[group];
                last[group] = i;
            }

            for (int g = 0; g < groups; g++)
            {
                if (count[g] > 1)
                {
                    float scale = 1f / count[g];
                    Span<float> hist = histograms.Slice(g * area, area);
                    for (int c = 0; c < area; c++)
                    {
                        hist[c] *= scale;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(previousRented);
            ArrayPool<int>.Shared.Return(lastRented);
            ArrayPool<int>.Shared.Return(countRented);
        }
    }

    /// <summary>The histograms as a tensor cells x polarities x size x size.</summary>
    public EventTensor<float> Apply(EventView events)
    {
        var tensor = new EventTensor<float>(CellsX * CellsY, Polarities, SurfaceSize, SurfaceSize);
        Apply(events, tensor.Data);
        return tensor;
    }

    private int Group(int x, int y, byte p)
    {
        int cell = ((y / CellSize) * CellsX) + (x / CellSize);
        return (cell * Polarities) + (Polarities == 2 && p != 0 ? 1 : 0);
    }
}
