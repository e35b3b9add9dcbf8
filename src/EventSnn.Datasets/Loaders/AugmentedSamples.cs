using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Datasets.Loaders;

/// <summary>One labelled DVS sample's raw events (struct of arrays) over [<paramref name="StartUs"/>, <paramref name="EndUs"/>).</summary>
/// <param name="T">Timestamps (us, ascending).</param>
/// <param name="X">Columns.</param>
/// <param name="Y">Rows.</param>
/// <param name="P">Polarities (1 = ON).</param>
/// <param name="Label">Class (0-based).</param>
/// <param name="StartUs">Start of the labelled interval.</param>
/// <param name="EndUs">End of the labelled interval (exclusive).</param>
/// <param name="Id">Where the sample came from.</param>
public sealed record DvsSample(long[] T, ushort[] X, ushort[] Y, byte[] P, int Label, long StartUs, long EndUs, string Id);

/// <summary>
/// Training samples augmented afresh every epoch: each sample's raw events go through
/// <see cref="Augmenter"/> (seeded by the run's seed, the epoch and the sample) and then the one
/// preprocessing chain (<see cref="SequenceBinner"/>), so every epoch sees new translations, drops,
/// jitters and flips of the same gestures. Epoch e's samples depend only on (seed, e).
/// </summary>
public sealed class AugmentedSamples
{
    private readonly IReadOnlyList<DvsSample> _samples;
    private readonly SequenceBinner _binner;
    private readonly Augmenter _augmenter;
    private EventBatch? _in;
    private EventBatch? _out;

    /// <summary>Creates the source over <paramref name="samples"/> prepared by <paramref name="preprocessing"/>.</summary>
    public AugmentedSamples(IReadOnlyList<DvsSample> samples, Preprocessing preprocessing, Augmentation augmentation, long seed)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(preprocessing);
        ArgumentNullException.ThrowIfNull(augmentation);
        if (preprocessing.Input != InputKind.Dvs)
        {
            throw new PreprocessingException("augment", "augmentation applies to DVS events; this input is " + PreprocessingNames.Name(preprocessing.Input));
        }

        _samples = samples;
        _binner = new SequenceBinner(preprocessing);
        _augmenter = new Augmenter(augmentation, new SensorGeometry(preprocessing.Width, preprocessing.Height));
        Preprocessing = preprocessing;
        Augmentation = augmentation;
        Seed = seed;
    }

    /// <summary>The chain.</summary>
    public Preprocessing Preprocessing { get; }

    /// <summary>The augmentation.</summary>
    public Augmentation Augmentation { get; }

    /// <summary>The seed.</summary>
    public long Seed { get; }

    /// <summary>Number of samples.</summary>
    public int Count => _samples.Count;

    /// <summary>The samples of epoch <paramref name="epoch"/> (1-based), augmented and binned.</summary>
    public List<SpikeSequence> ForEpoch(int epoch)
    {
        var result = new List<SpikeSequence>(_samples.Count);
        for (int i = 0; i < _samples.Count; i++)
        {
            result.Add(Sample(i, epoch));
        }

        return result;
    }

    /// <summary>Sample <paramref name="index"/> as epoch <paramref name="epoch"/> sees it.</summary>
    public SpikeSequence Sample(int index, int epoch)
    {
        DvsSample s = _samples[index];
        int n = s.T.Length;
        EventBatch input = Grow(ref _in, n);
        EventBatch output = Grow(ref _out, _augmenter.MaxOutputCount(n));
        s.T.CopyTo(input.T, 0);
        s.X.CopyTo(input.X, 0);
        s.Y.CopyTo(input.Y, 0);
        s.P.CopyTo(input.P, 0);
        input.SetCount(n);
        _augmenter.Apply(input, output, Augmenter.SeedFor(Seed, epoch, index));
        SparseSequence steps = _binner.Apply(output.Timestamps, output.Xs, output.Ys, output.Polarities, s.StartUs, s.EndUs);
        return SpikeSequence.From(steps, s.Label, s.Id);
    }

    private static EventBatch Grow(ref EventBatch? batch, int capacity)
    {
        if (batch is null || batch.Capacity < capacity)
        {
            batch?.Dispose();
            batch = new EventBatch(Math.Max(1, capacity));
        }

        return batch;
    }
}
