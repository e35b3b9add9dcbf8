using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Transforms applied in order (Tonic's <c>Compose</c>): each one's output is the next one's
/// input, and each gets the geometry the previous ones leave (a crop's size, a downsample's). The
/// first transform gets the composition's seed and the i-th a seed derived from it and i, so a
/// one-item composition is that transform and appending a transform does not change the random
/// draws of those before it. Nested compositions are flattened;
/// the empty composition is the identity (text form "none").
/// </summary>
public sealed class Compose : EventTransform
{
    private readonly EventTransform[] _transforms;

    /// <summary>Composes <paramref name="transforms"/> (applied first to last).</summary>
    public Compose(params IEnumerable<EventTransform> transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        var flat = new List<EventTransform>();
        foreach (EventTransform t in transforms)
        {
            ArgumentNullException.ThrowIfNull(t);
            if (t is Compose c)
            {
                flat.AddRange(c._transforms);
            }
            else
            {
                flat.Add(t);
            }
        }

        _transforms = [.. flat];
    }

    /// <summary>The identity.</summary>
    public static Compose None { get; } = new();

    /// <summary>The transforms, first applied first.</summary>
    public IReadOnlyList<EventTransform> Transforms => _transforms;

    /// <inheritdoc />
    public override string Name => "compose";

    /// <inheritdoc />
    public override bool IsRandom => Array.Exists(_transforms, t => t.IsRandom);

    /// <inheritdoc />
    public override SensorGeometry OutputGeometry(SensorGeometry input)
    {
        foreach (EventTransform t in _transforms)
        {
            input = t.OutputGeometry(input);
        }

        return input;
    }

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0)
    {
        var stages = new IEventStage[_transforms.Length];
        for (int i = 0; i < stages.Length; i++)
        {
            stages[i] = _transforms[i].Start(geometry, SeedOf(seed, i));
            geometry = _transforms[i].OutputGeometry(geometry);
        }

        return new ComposeStage(stages, seed);
    }

    /// <summary>The seed of the <paramref name="index"/>-th transform of a composition seeded <paramref name="seed"/>.</summary>
    internal static ulong SeedOf(ulong seed, int index) => index == 0 ? seed : TransformRandom.Derive(seed, (ulong)index);

    /// <inheritdoc />
    public override string ToString() => _transforms.Length == 0 ? "none" : string.Join(",", (IEnumerable<EventTransform>)_transforms);
}

/// <summary>The stage of a <see cref="Compose"/>: runs its stages through pooled intermediate batches that grow when needed.</summary>
internal sealed class ComposeStage : IEventStage, IDisposable
{
    private readonly IEventStage[] _stages;
    private readonly EventBatch?[] _between;
    private ulong _seed;

    public ComposeStage(IEventStage[] stages, ulong seed)
    {
        _stages = stages;
        _between = new EventBatch?[Math.Max(0, stages.Length - 1)];
        _seed = seed;
    }

    public void Process(EventBatch input, EventBatch output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        if (_stages.Length == 0)
        {
            output.Clear();
            output.Append(input, 0, input.Count);
            return;
        }

        EventBatch current = input;
        for (int i = 0; i < _stages.Length; i++)
        {
            EventBatch next;
            if (i == _stages.Length - 1)
            {
                next = output;
            }
            else
            {
                int need = Math.Max(1, _stages[i].MaxOutputCount(current.Count));
                EventBatch? b = _between[i];
                if (b is null || b.Capacity < need)
                {
                    // room for whatever the stage makes of any batch the size of the current one
                    b?.Dispose();
                    b = new EventBatch(Math.Max(need, _stages[i].MaxOutputCount(current.Capacity)));
                    _between[i] = b;
                }

                next = b;
            }

            _stages[i].Process(current, next);
            current = next;
        }
    }

    public void Reset() => Reset(_seed);

    public void Reset(ulong seed)
    {
        _seed = seed;
        for (int i = 0; i < _stages.Length; i++)
        {
            _stages[i].Reset(Compose.SeedOf(seed, i));
        }
    }

    public SensorGeometry OutputGeometry(SensorGeometry input)
    {
        foreach (IEventStage s in _stages)
        {
            input = s.OutputGeometry(input);
        }

        return input;
    }

    public int MaxOutputCount(int inputCount)
    {
        long n = inputCount;
        foreach (IEventStage s in _stages)
        {
            n = s.MaxOutputCount((int)Math.Min(n, int.MaxValue));
        }

        return (int)Math.Min(n, int.MaxValue);
    }

    public void Dispose()
    {
        for (int i = 0; i < _between.Length; i++)
        {
            _between[i]?.Dispose();
            _between[i] = null;
        }
    }
}
