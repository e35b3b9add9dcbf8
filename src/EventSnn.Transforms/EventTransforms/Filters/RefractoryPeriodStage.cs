using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Per-pixel refractory period with Tonic's <c>refractory_period</c> semantics: an event is kept
/// when <c>t - last &gt; refractoryPeriod</c>, where <c>last</c> is the time of the pixel's
/// previous event, kept or not (every event updates the memory). Memories start at
/// <c>-refractoryPeriod</c> as in Tonic, so a pixel's first event passes when <c>t &gt; 0</c>.
/// Polarity is ignored (one memory per pixel).
/// </summary>
public sealed class RefractoryPeriodStage : IEventStage
{
    private readonly long[] _memory;

    /// <summary>Creates the filter for a sensor of <paramref name="geometry"/>.</summary>
    public RefractoryPeriodStage(SensorGeometry geometry, long refractoryPeriodUs = 10_000)
    {
        if (!geometry.IsKnown)
        {
            throw new ArgumentException("sensor geometry must be known", nameof(geometry));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(refractoryPeriodUs);
        Geometry = geometry;
        RefractoryPeriodUs = refractoryPeriodUs;
        _memory = new long[geometry.PixelCount];
        Reset();
    }

    /// <summary>Sensor size.</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>Refractory period in us.</summary>
    public long RefractoryPeriodUs { get; }

    /// <summary>Events dropped so far.</summary>
    public long Dropped { get; private set; }

    /// <summary>Events dropped because they lay outside the sensor.</summary>
    public long OutOfBounds { get; private set; }

    /// <inheritdoc />
    public void Reset() => Array.Fill(_memory, -RefractoryPeriodUs);

    /// <inheritdoc />
    public SensorGeometry OutputGeometry(SensorGeometry input) => input;

    /// <inheritdoc />
    public void Process(EventBatch input, EventBatch output)
    {
        var map = new RefractoryMap { Memory = _memory, Width = (uint)Geometry.Width, Height = (uint)Geometry.Height, Period = RefractoryPeriodUs };
        int kept = EventLoop.Run(input, output, ref map);
        OutOfBounds += map.Outside;
        Dropped += input.Count - kept - map.Outside;
    }

    /// <summary>Keeps an event when more than the period passed since its pixel's previous event; every event updates the memory.</summary>
    private struct RefractoryMap : IEventMap
    {
        public long[] Memory;
        public uint Width;
        public uint Height;
        public long Period;
        public long Outside;

        public bool Map(ref long t, ref ushort x, ref ushort y, ref byte p)
        {
            if (x >= Width || y >= Height)
            {
                Outside++;
                return false;
            }

            ref long last = ref Memory[(int)((y * Width) + x)];
            bool keep = t - last > Period;
            last = t;
            return keep;
        }
    }
}

/// <summary>
/// Tonic's <c>RefractoryPeriod(delta)</c>: per pixel, keeps an event when more than
/// <see cref="Delta"/> us passed since the pixel's previous event (see
/// <see cref="RefractoryPeriodStage"/>). Text form "refractory-period:&lt;delta us&gt;". Needs the sensor size.
/// </summary>
public sealed class RefractoryPeriod : EventTransform
{
    /// <summary>Creates the transform.</summary>
    public RefractoryPeriod(long delta = 10_000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(delta);
        Delta = delta;
    }

    /// <summary>Refractory period in us (Tonic's delta).</summary>
    public long Delta { get; }

    /// <inheritdoc />
    public override string Name => "refractory-period";

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => new RefractoryPeriodStage(Require(geometry), Delta);

    /// <inheritdoc />
    public override string ToString() => TransformText.Of(Name, Delta);
}
