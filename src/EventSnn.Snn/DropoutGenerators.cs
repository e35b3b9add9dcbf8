namespace EventSnn.Snn;

/// <summary>
/// The generators of spike-dropout masks of a batch, one per stream. Stream b's generator depends
/// only on the seed and b's index in the whole batch, so a batch split into data-parallel slices
/// draws exactly the masks of the whole batch, and every backend draws the same masks.
/// </summary>
public sealed class DropoutGenerators
{
    private const long StreamStride = 0x3C6EF372FE94F82AL;
    private SnnRandom[] _streams;
    private long _seed;
    private int _firstStream;

    /// <summary>Generators for <paramref name="streams"/> streams, the first being stream <paramref name="firstStream"/> of the whole batch.</summary>
    public DropoutGenerators(int streams, long seed, int firstStream = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(streams);
        _streams = new SnnRandom[streams];
        for (int b = 0; b < streams; b++)
        {
            _streams[b] = new SnnRandom(0);
        }

        Reseed(seed, firstStream);
    }

    /// <summary>The seed of a network's dropout masks.</summary>
    public static long SeedOf(NetworkConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Seed ^ 0xD7D7;
    }

    /// <summary>Number of streams.</summary>
    public int Count => _streams.Length;

    /// <summary>The generator of stream <paramref name="stream"/> (0-based within this object).</summary>
    public SnnRandom this[int stream] => _streams[stream];

    /// <summary>Restarts every generator: stream b here is stream <paramref name="firstStream"/> + b of the whole batch.</summary>
    public void Reseed(long seed, int firstStream = 0)
    {
        _seed = seed;
        _firstStream = firstStream;
        for (int b = 0; b < _streams.Length; b++)
        {
            _streams[b].Reseed(unchecked(seed + ((firstStream + b) * StreamStride)));
        }
    }

    /// <summary>Grows to at least <paramref name="streams"/> streams; new streams start from their seeds, existing ones keep their positions.</summary>
    public void EnsureStreams(int streams)
    {
        if (streams <= _streams.Length)
        {
            return;
        }

        int old = _streams.Length;
        Array.Resize(ref _streams, streams);
        for (int b = old; b < streams; b++)
        {
            _streams[b] = new SnnRandom(unchecked(_seed + ((_firstStream + b) * StreamStride)));
        }
    }
}
