using System.Buffers;
using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Tonic's <c>ToTimesurface(dt, tau)</c> (global time surfaces after Lagorce et al. 2016): the
/// sample is cut into windows of <see cref="Dt"/> us (<see cref="FrameSlicing.ByTime"/> with
/// overlap and include_incomplete); a memory per polarity and pixel holds the time of its latest
/// event (-infinity before any), updated with each window's events in order; after window i the
/// surface is <c>exp(-(t_ref - memory) / tau)</c> with <c>t_ref = (i + 1) dt + t_first</c> (Tonic's
/// reference time, the window's end without overlap) — 1 for an event at t_ref, 0 where no event
/// ever came. Output windows x polarities x height x width (float32). An empty sample gives one
/// zero surface (Tonic has no answer). Events outside the sensor are left out.
/// </summary>
public sealed class ToTimeSurface
{
    private readonly FrameSlicing _slicing;

    /// <summary>Creates the representation.</summary>
    public ToTimeSurface(SensorGeometry sensor, double dt, double tau, double overlap = 0, bool includeIncomplete = false, int polarities = 2)
    {
        if (!sensor.IsKnown)
        {
            throw new ArgumentException("sensor geometry must be known", nameof(sensor));
        }

        if (!(tau > 0) || !double.IsFinite(tau))
        {
            throw new ArgumentOutOfRangeException(nameof(tau), tau, "must be a positive time constant");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(polarities, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(polarities, 2);
        _slicing = FrameSlicing.ByTime(dt, overlap, includeIncomplete);
        Sensor = sensor;
        Dt = dt;
        Tau = tau;
        Polarities = polarities;
    }

    /// <summary>Sensor size.</summary>
    public SensorGeometry Sensor { get; }

    /// <summary>Interval between surfaces (us; Tonic's dt).</summary>
    public double Dt { get; }

    /// <summary>Decay time constant (us; Tonic's tau).</summary>
    public double Tau { get; }

    /// <summary>Polarity planes.</summary>
    public int Polarities { get; }

    /// <summary>Elements of one surface.</summary>
    public int SurfaceSize => Polarities * Sensor.PixelCount;

    /// <summary>Number of surfaces the sample gives.</summary>
    public int SurfaceCount(EventView events) => _slicing.Count(events.T);

    /// <summary>Writes the surfaces into <paramref name="surfaces"/> (length <see cref="SurfaceCount"/> x <see cref="SurfaceSize"/>).</summary>
    public void Apply(EventView events, Span<float> surfaces)
    {
        int count = SurfaceCount(events), size = SurfaceSize;
        if (surfaces.Length != (long)count * size)
        {
            throw new ArgumentException($"surfaces must hold {count} x {size} values", nameof(surfaces));
        }

        if (events.Count == 0)
        {
            surfaces.Clear();
            return;
        }

        double[] rented = ArrayPool<double>.Shared.Rent(size);
        try
        {
            Span<double> memory = rented.AsSpan(0, size);
            memory.Fill(double.NegativeInfinity);
            int w = Sensor.Width, h = Sensor.Height, plane = w * h;
            bool split = Polarities == 2;
            long start = events.T[0];
            for (int k = 0; k < count; k++)
            {
                (int from, int to) = _slicing.Slice(events.T, k);
                for (int i = from; i < to; i++)
                {
                    int x = events.X[i], y = events.Y[i];
                    if (x < w && y < h)
                    {
                        memory[(split && events.P[i] != 0 ? plane : 0) + (y * w) + x] = events.T[i];
                    }
                }

                double reference = ((k + 1) * Dt) + start;
                Span<float> surface = surfaces.Slice(k * size, size);
                for (int c = 0; c < size; c++)
                {
                    surface[c] = (float)Math.Exp(-(reference - memory[c]) / Tau);
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(rented);
        }
    }

    /// <summary>The surfaces as a tensor windows x polarities x height x width.</summary>
    public EventTensor<float> Apply(EventView events)
    {
        var tensor = new EventTensor<float>(SurfaceCount(events), Polarities, Sensor.Height, Sensor.Width);
        Apply(events, tensor.Data);
        return tensor;
    }
}
