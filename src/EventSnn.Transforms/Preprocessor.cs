using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// The chain of a <see cref="Preprocessing"/> (pool -> polarity -> bin -> value) for one stream:
/// events are pushed batch by batch (struct-of-arrays spans) between <see cref="BeginSample"/>
/// and <see cref="EndSample"/>, and every time step is handed to the callback as soon as it is
/// complete. Feeding a whole sample in one push (offline, <see cref="SequenceBinner"/>) or in
/// any split into batches (streaming) gives the same steps with the same values. Nothing is
/// allocated per event or per step. Not thread-safe: one thread feeds one stream.
/// </summary>
public sealed class Preprocessor
{
    private const int Chunk = 4096;
    private readonly SampleBinner _binner;
    private readonly int[] _features = new int[Chunk];

    /// <summary>Builds the chain of <paramref name="preprocessing"/> (validated); <paramref name="onStep"/> receives every step (borrowed).</summary>
    public Preprocessor(Preprocessing preprocessing, Action<BinnedStep> onStep)
    {
        ArgumentNullException.ThrowIfNull(preprocessing);
        ArgumentNullException.ThrowIfNull(onStep);
        preprocessing.Validate();
        Description = preprocessing;
        Map = new FeatureMap(preprocessing);
        _binner = preprocessing.Binning switch
        {
            BinningKind.Time => new TimeBins(preprocessing, onStep),
            BinningKind.Count => new CountBins(preprocessing, onStep),
            BinningKind.EqualCountFrames => new EqualCountFrames(preprocessing, onStep),
            _ => new EqualTimeFrames(preprocessing, onStep),
        };
    }

    /// <summary>The description this chain implements.</summary>
    public Preprocessing Description { get; }

    /// <summary>The per-event stages (pooling, polarity).</summary>
    public FeatureMap Map { get; }

    /// <summary>Number of features of every step.</summary>
    public int Features => Map.Features;

    /// <summary>True between <see cref="BeginSample"/> and <see cref="EndSample"/>.</summary>
    public bool InSample => _binner.InSample;

    /// <summary>Samples begun so far.</summary>
    public long Samples { get; private set; }

    /// <summary>Events binned into steps.</summary>
    public long Events => _binner.Events;

    /// <summary>Events dropped by the per-event stages (outside the sensor or the channels, or of a filtered polarity).</summary>
    public long Dropped { get; private set; }

    /// <summary>Events older than the open step (out of order, or before the sample's start), counted into the open step.</summary>
    public long Late => _binner.Late;

    /// <summary>Events after the last allowed step (<see cref="Preprocessing.MaxSteps"/>), dropped.</summary>
    public long Truncated => _binner.Truncated;

    /// <summary>Empty steps of long gaps in unbounded samples, not emitted (<see cref="Preprocessing.MaxGapSteps"/>).</summary>
    public long SkippedSteps => _binner.SkippedSteps;

    /// <summary>Events at or after the sample's given end, dropped.</summary>
    public long OutsideSample => _binner.Outside;

    /// <summary>
    /// Starts a sample over [<paramref name="startUs"/>, <paramref name="endUs"/>): time bins count
    /// from the start (null: the first event's time); a known end fixes the number of time bins and
    /// drops later events (null: the sample ends with <see cref="EndSample"/>). Ends an open sample first.
    /// </summary>
    public void BeginSample(long? startUs = null, long? endUs = null)
    {
        if (InSample)
        {
            EndSample();
        }

        _binner.Begin(startUs, endUs, Samples);
        Samples++;
    }

    /// <summary>Adds DVS events given as struct-of-arrays spans (time, x, y, polarity 1 = ON).</summary>
    public void Push(ReadOnlySpan<long> t, ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, ReadOnlySpan<byte> polarity)
    {
        CheckOpen();
        if (x.Length != t.Length || y.Length != t.Length || polarity.Length != t.Length)
        {
            throw new ArgumentException("t, x, y and polarity must have the same length");
        }

        for (int start = 0; start < t.Length; start += Chunk)
        {
            int n = Math.Min(Chunk, t.Length - start);
            Span<int> f = _features.AsSpan(0, n);
            Dropped += Map.MapEvents(x.Slice(start, n), y.Slice(start, n), polarity.Slice(start, n), f);
            _binner.Add(t.Slice(start, n), f);
        }
    }

    /// <summary>Adds the events [<paramref name="start"/>, start + <paramref name="count"/>) of a DVS batch.</summary>
    public void Push(EventBatch batch, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if ((uint)start > (uint)batch.Count || (uint)count > (uint)(batch.Count - start))
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        Push(batch.T.AsSpan(start, count), batch.X.AsSpan(start, count), batch.Y.AsSpan(start, count), batch.P.AsSpan(start, count));
    }

    /// <summary>Adds every event of a DVS batch.</summary>
    public void Push(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Push(batch, 0, batch.Count);
    }

    /// <summary>Adds spikes given as struct-of-arrays spans (time, channel, polarity 1 = ON).</summary>
    public void PushSpikes(ReadOnlySpan<long> t, ReadOnlySpan<ushort> channel, ReadOnlySpan<byte> polarity)
    {
        CheckOpen();
        if (channel.Length != t.Length || polarity.Length != t.Length)
        {
            throw new ArgumentException("t, channel and polarity must have the same length");
        }

        for (int start = 0; start < t.Length; start += Chunk)
        {
            int n = Math.Min(Chunk, t.Length - start);
            Span<int> f = _features.AsSpan(0, n);
            Dropped += Map.MapSpikes(channel.Slice(start, n), polarity.Slice(start, n), f);
            _binner.Add(t.Slice(start, n), f);
        }
    }

    /// <summary>Adds the spikes [<paramref name="start"/>, start + <paramref name="count"/>) of a spike batch.</summary>
    public void Push(SpikeBatch batch, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if ((uint)start > (uint)batch.Count || (uint)count > (uint)(batch.Count - start))
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        PushSpikes(batch.T.AsSpan(start, count), batch.Channel.AsSpan(start, count), batch.P.AsSpan(start, count));
    }

    /// <summary>Adds every spike of a spike batch.</summary>
    public void Push(SpikeBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Push(batch, 0, batch.Count);
    }

    /// <summary>Adds events already mapped to features by <see cref="Map"/> (-1 = dropped, skipped).</summary>
    public void PushFeatures(ReadOnlySpan<long> t, ReadOnlySpan<int> features)
    {
        CheckOpen();
        if (features.Length != t.Length)
        {
            throw new ArgumentException("t and features must have the same length");
        }

        for (int i = 0; i < features.Length; i++)
        {
            if ((uint)(features[i] + 1) > (uint)Features)
            {
                throw new ArgumentOutOfRangeException(nameof(features), $"feature {features[i]} is not in -1..{Features - 1}");
            }
        }

        _binner.Add(t, features);
    }

    /// <summary>Ends the sample: its remaining steps are emitted, the last with <see cref="BinnedStep.EndsSample"/>.</summary>
    public void EndSample()
    {
        if (!InSample)
        {
            throw new InvalidOperationException("no sample in progress: call BeginSample first");
        }

        _binner.Finish();
    }

    /// <summary>Maps a DVS chunk into <paramref name="features"/> (counting drops) without binning it (for windowing).</summary>
    internal void MapEvents(ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, ReadOnlySpan<byte> polarity, Span<int> features) =>
        Dropped += Map.MapEvents(x, y, polarity, features);

    /// <summary>Maps a spike chunk into <paramref name="features"/> (counting drops) without binning it.</summary>
    internal void MapSpikes(ReadOnlySpan<ushort> channel, ReadOnlySpan<byte> polarity, Span<int> features) =>
        Dropped += Map.MapSpikes(channel, polarity, features);

    /// <summary>Bins mapped events (trusted: produced by <see cref="Map"/>).</summary>
    internal void AddMapped(ReadOnlySpan<long> t, ReadOnlySpan<int> features) => _binner.Add(t, features);

    private void CheckOpen()
    {
        if (!InSample)
        {
            throw new InvalidOperationException("no sample in progress: call BeginSample first");
        }
    }
}
