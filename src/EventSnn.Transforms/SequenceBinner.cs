using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// The chain applied offline: a whole sample's events (in one call, or pushed in chunks as they
/// are read) become a <see cref="SparseSequence"/> — the same <see cref="Preprocessor"/> that
/// streams, collecting its steps.
/// </summary>
public sealed class SequenceBinner
{
    private readonly List<int> _stepStart = [];
    private int[] _index = new int[1024];
    private float[] _value = new float[1024];
    private int _count;

    /// <summary>Builds the chain of <paramref name="preprocessing"/>.</summary>
    public SequenceBinner(Preprocessing preprocessing) => Stream = new Preprocessor(preprocessing, Collect);

    /// <summary>The streaming chain underneath (push chunks into it between <see cref="Begin"/> and <see cref="End"/>).</summary>
    public Preprocessor Stream { get; }

    /// <summary>The description.</summary>
    public Preprocessing Description => Stream.Description;

    /// <summary>Starts a sample (see <see cref="Preprocessor.BeginSample"/>).</summary>
    public void Begin(long? startUs = null, long? endUs = null)
    {
        if (Stream.InSample)
        {
            Stream.EndSample(); // an abandoned sample: its steps are discarded below
        }

        _stepStart.Clear();
        _count = 0;
        Stream.BeginSample(startUs, endUs);
    }

    /// <summary>Ends the sample and returns its steps.</summary>
    public SparseSequence End()
    {
        Stream.EndSample();
        int steps = _stepStart.Count;
        var start = new int[steps + 1];
        _stepStart.CopyTo(start);
        start[steps] = _count;
        return new SparseSequence(steps, Stream.Features, start, _index.AsSpan(0, _count).ToArray(), _value.AsSpan(0, _count).ToArray());
    }

    /// <summary>The steps of one sample of DVS events.</summary>
    public SparseSequence Apply(ReadOnlySpan<long> t, ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, ReadOnlySpan<byte> polarity, long? startUs = null, long? endUs = null)
    {
        Begin(startUs, endUs);
        Stream.Push(t, x, y, polarity);
        return End();
    }

    /// <summary>The steps of one sample held in a DVS batch.</summary>
    public SparseSequence Apply(EventBatch events, long? startUs = null, long? endUs = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        return Apply(events.Timestamps, events.Xs, events.Ys, events.Polarities, startUs, endUs);
    }

    /// <summary>The steps of one sample of spikes.</summary>
    public SparseSequence ApplySpikes(ReadOnlySpan<long> t, ReadOnlySpan<ushort> channel, ReadOnlySpan<byte> polarity, long? startUs = null, long? endUs = null)
    {
        Begin(startUs, endUs);
        Stream.PushSpikes(t, channel, polarity);
        return End();
    }

    private void Collect(BinnedStep step)
    {
        _stepStart.Add(_count);
        int n = step.ActiveCount;
        if (_count + n > _index.Length)
        {
            int size = Math.Max(_index.Length * 2, _count + n);
            Array.Resize(ref _index, size);
            Array.Resize(ref _value, size);
        }

        step.Active.CopyTo(_index.AsSpan(_count));
        step.Values.CopyTo(_value.AsSpan(_count));
        _count += n;
    }
}
