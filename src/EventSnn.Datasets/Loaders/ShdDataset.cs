using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Datasets.Loaders;

/// <summary>
/// SHD / SSC (or any file in their HDF5 layout, such as the generated spoken digits and
/// S-MNIST) as binned sequences: by default the reference binning of 250 steps of 4 ms over
/// 700 channels, binary. Samples are read one at a time from the file.
/// </summary>
public sealed class ShdDataset : ISequenceDataset, IDisposable
{
    private readonly ShdFile _file;

    private ShdDataset(ShdFile file, string path, int steps, double binSeconds, bool binary)
    {
        _file = file;
        Name = path;
        Steps = steps;
        BinSeconds = binSeconds;
        Binary = binary;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public int Classes => _file.Classes;

    /// <inheritdoc />
    public int Features => _file.Channels;

    /// <inheritdoc />
    public int Count => _file.Count;

    /// <summary>Time steps per sample.</summary>
    public int Steps { get; }

    /// <summary>Bin width in seconds.</summary>
    public double BinSeconds { get; }

    /// <summary>True when bins hold 0/1 rather than spike counts.</summary>
    public bool Binary { get; }

    /// <summary>The underlying file (labels, keys, speakers).</summary>
    public ShdFile File => _file;

    /// <summary>
    /// Opens <paramref name="path"/>. A missing file throws <see cref="FileNotFoundException"/>
    /// naming it; a malformed one <see cref="EventFormatException"/>.
    /// </summary>
    public static ShdDataset Open(string path, int steps = 250, double binSeconds = 0.004, bool binary = true, ReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!System.IO.File.Exists(path))
        {
            throw new FileNotFoundException($"SHD file not found: {path}", path);
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(binSeconds, 0);
        return new ShdDataset(ShdFile.Open(path, options), path, steps, binSeconds, binary);
    }

    /// <summary>Sample <paramref name="index"/> binned.</summary>
    public SpikeSequence Read(int index)
    {
        int channels = _file.Channels;
        var dense = new float[Steps * channels];
        using var batch = new SpikeBatch(1 << 14);
        int offset = 0;
        while (true)
        {
            int n = _file.ReadSample(index, batch, offset);
            if (n == 0)
            {
                break;
            }

            Binning.AccumulateShd(batch.Timestamps, batch.Channels, dense, Steps, BinSeconds, channels, Binary);
            offset += n;
        }

        return SpikeSequence.FromDense(dense, Steps, channels, _file.Label(index), $"{Name}#{index}");
    }

    /// <inheritdoc />
    public IEnumerable<SpikeSequence> Samples()
    {
        for (int i = 0; i < _file.Count; i++)
        {
            yield return Read(i);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();
}
