using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// An event-to-event transform with Tonic's semantics where Tonic defines one: an immutable
/// description (its parameters; <see cref="ToString"/> is its text form, which
/// <see cref="TransformSpec.Parse"/> reads back) that <see cref="Start"/>s a stage for a sensor of
/// a given geometry and a seed. The stage is the pure function applied batch by batch: a sample
/// processed in one batch or in several gives the same events for every transform except where
/// its documentation says otherwise (per-batch counts of <see cref="DropEvent"/> and
/// <see cref="UniformNoise"/>, per-batch sorting of <see cref="TimeJitter"/>, per-batch hot-pixel
/// rates of <see cref="DropPixel"/>). Random transforms draw from the seed only: the same events,
/// geometry and seed give the same output. Compose transforms with <see cref="Compose"/>.
/// </summary>
public abstract class EventTransform
{
    /// <summary>The name in the text form (e.g. "denoise").</summary>
    public abstract string Name { get; }

    /// <summary>True when the output depends on the seed.</summary>
    public virtual bool IsRandom => false;

    /// <summary>Sensor geometry after this transform, given the geometry before it.</summary>
    public virtual SensorGeometry OutputGeometry(SensorGeometry input) => input;

    /// <summary>
    /// Starts the transform over a stream or sample from a sensor of <paramref name="geometry"/>
    /// (transforms that need the sensor size throw <see cref="TransformException"/> when it is
    /// unknown), seeded by <paramref name="seed"/>.
    /// </summary>
    public abstract IEventStage Start(SensorGeometry geometry, ulong seed = 0);

    /// <summary>
    /// Applies the transform to one sample (a fresh stage) and returns the result in a new batch
    /// (convenience for tests and tools; streams keep a stage from <see cref="Start"/>).
    /// </summary>
    public EventBatch Apply(EventBatch events, SensorGeometry geometry, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(events);
        IEventStage stage = Start(geometry, seed);
        var output = new EventBatch(Math.Max(1, stage.MaxOutputCount(events.Count)));
        stage.Process(events, output);
        return output;
    }

    /// <summary>The text form: the name and the parameters that differ from their defaults (e.g. "time-jitter:1000").</summary>
    public abstract override string ToString();

    /// <summary>The geometry, or an error naming this transform when the sensor size is unknown.</summary>
    protected SensorGeometry Require(SensorGeometry geometry) =>
        geometry.IsKnown ? geometry : throw new TransformException(ToString(), null, "needs the sensor size, which the source does not declare");
}

/// <summary>
/// A transform description is invalid or cannot be applied: the message names the item of the
/// text form (<see cref="Item"/>) and, where one is at fault, its parameter (<see cref="Parameter"/>).
/// </summary>
public sealed class TransformException : ArgumentException
{
    /// <summary>Creates the exception for <paramref name="item"/> (and <paramref name="parameter"/>).</summary>
    public TransformException(string item, string? parameter, string problem)
        : base(parameter is null ? $"'{item}': {problem}" : $"'{item}': {parameter} {problem}")
    {
        Item = item;
        Parameter = parameter;
        Problem = problem;
    }

    /// <summary>Creates the exception.</summary>
    public TransformException()
        : this("(unknown)", null, "invalid")
    {
    }

    /// <summary>Creates the exception.</summary>
    public TransformException(string message)
        : base(message)
    {
        Item = string.Empty;
        Problem = message;
    }

    /// <summary>Creates the exception.</summary>
    public TransformException(string message, Exception innerException)
        : base(message, innerException)
    {
        Item = string.Empty;
        Problem = message;
    }

    /// <summary>The item of the text form at fault (e.g. "time-jitter:abc").</summary>
    public string Item { get; }

    /// <summary>The parameter at fault (Tonic's name, e.g. "std"), or null when the item as a whole is.</summary>
    public string? Parameter { get; }

    /// <summary>What is wrong.</summary>
    public string Problem { get; }
}
