using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Training-time augmentation of a DVS sample's events, drawn afresh for every sample and epoch:
/// any composition of event transforms in their text form (<see cref="TransformSpec"/>), e.g.
/// "shift:16,drop-event:0.1,flip-polarity:0.5" or "drop-event:0.1,time-jitter:1000,
/// spatial-jitter:1,uniform-noise:500,random-flip-lr". Each sample is one batch through a stage
/// re-seeded per sample (<see cref="Augmenter"/>), so Tonic's per-sample semantics hold
/// (a flip's coin per sample, DropEvent's count per sample). "none" or an empty text is
/// <see cref="None"/>. Equal when their text forms are.
/// </summary>
public sealed class Augmentation : IEquatable<Augmentation>
{
    private readonly string _text;

    private Augmentation(EventTransform transform)
    {
        Transform = transform;
        _text = transform.ToString();
    }

    /// <summary>No augmentation.</summary>
    public static Augmentation None { get; } = new(Compose.None);

    /// <summary>The transform applied to every sample.</summary>
    public EventTransform Transform { get; }

    /// <summary>True when nothing is changed.</summary>
    public bool IsNone => Transform is Compose { Transforms.Count: 0 };

    /// <summary>Parses the text form; an empty text or "none" is <see cref="None"/>. Errors (<see cref="TransformException"/>) name the item and parameter.</summary>
    public static Augmentation Parse(string? text)
    {
        EventTransform t = TransformSpec.Parse(text);
        return t is Compose { Transforms.Count: 0 } ? None : new Augmentation(t);
    }

    /// <summary>The augmentation applying <paramref name="transform"/>.</summary>
    public static Augmentation From(EventTransform transform)
    {
        ArgumentNullException.ThrowIfNull(transform);
        return transform is Compose { Transforms.Count: 0 } ? None : new Augmentation(transform);
    }

    /// <inheritdoc/>
    public override string ToString() => _text;

    /// <inheritdoc/>
    public bool Equals(Augmentation? other) => other is not null && other._text == _text;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Augmentation);

    /// <inheritdoc/>
    public override int GetHashCode() => _text.GetHashCode(StringComparison.Ordinal);
}

/// <summary>
/// Applies an <see cref="Augmentation"/> to samples of one sensor: one stage kept for all
/// samples, re-seeded for each (<see cref="Apply"/>), so the same events and seed always give the
/// same result and nothing is allocated per sample once the scratch batches have grown.
/// </summary>
public sealed class Augmenter
{
    private readonly IEventStage _stage;

    /// <summary>Creates the augmenter for samples of a sensor of <paramref name="geometry"/>.</summary>
    public Augmenter(Augmentation augmentation, SensorGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(augmentation);
        Augmentation = augmentation;
        _stage = augmentation.Transform.Start(geometry);
    }

    /// <summary>The augmentation.</summary>
    public Augmentation Augmentation { get; }

    /// <summary>Room the output batch needs for a sample of <paramref name="inputCount"/> events.</summary>
    public int MaxOutputCount(int inputCount) => _stage.MaxOutputCount(inputCount);

    /// <summary>
    /// Writes sample <paramref name="input"/> augmented with <paramref name="seed"/> into
    /// <paramref name="output"/> (cleared first; a different batch with room for
    /// <see cref="MaxOutputCount"/> events).
    /// </summary>
    public void Apply(EventBatch input, EventBatch output, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        output.Clear();
        _stage.Reset(seed);
        _stage.Process(input, output);
    }

    /// <summary>The seed of sample <paramref name="sample"/> in epoch <paramref name="epoch"/> of a run seeded <paramref name="seed"/>.</summary>
    public static ulong SeedFor(long seed, int epoch, long sample)
    {
        var r = new TransformRandom(unchecked((ulong)seed * 0x9E3779B97F4A7C15UL) ^ ((ulong)epoch << 40) ^ (ulong)sample);
        return r.Next();
    }
}
