using System.Globalization;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Datasets.Loaders;

/// <summary>
/// N-MNIST (or the generated N-MNIST-like set) as binned sequences: the .bin files of
/// Train/&lt;digit&gt;/ or Test/&lt;digit&gt;/, read one at a time, binned into
/// <see cref="Steps"/> frames of <see cref="BinUs"/> microseconds, counted per polarity and
/// pixel of the 34 x 34 sensor (pooled by <see cref="Pool"/>).
/// </summary>
public sealed class NMnistDataset : ISequenceDataset
{
    private readonly List<(string Path, int Label)> _files;
    private readonly ReaderOptions? _options;

    private NMnistDataset(string folder, List<(string, int)> files, int steps, long binUs, int pool, ReaderOptions? options)
    {
        Name = folder;
        _files = files;
        Steps = steps;
        BinUs = binUs;
        Pool = pool;
        _options = options;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public int Classes => 10;

    /// <inheritdoc />
    public int Features => 2 * ((34 + Pool - 1) / Pool) * ((34 + Pool - 1) / Pool);

    /// <inheritdoc />
    public int Count => _files.Count;

    /// <summary>Time steps per sample.</summary>
    public int Steps { get; }

    /// <summary>Bin width in microseconds.</summary>
    public long BinUs { get; }

    /// <summary>Pooling factor.</summary>
    public int Pool { get; }

    /// <summary>
    /// Opens the Train or Test split below <paramref name="root"/>. A missing split folder
    /// throws <see cref="DirectoryNotFoundException"/> naming it; a split without digit
    /// folders or .bin files throws <see cref="FileNotFoundException"/>.
    /// </summary>
    public static NMnistDataset Open(string root, bool train, int steps = 30, long binUs = 10_000, int pool = 1, ReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        string folder = Path.Combine(root, train ? "Train" : "Test");
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"N-MNIST split folder not found: {folder}");
        }

        var files = new List<(string, int)>();
        for (int d = 0; d < 10; d++)
        {
            string digit = Path.Combine(folder, d.ToString(CultureInfo.InvariantCulture));
            if (!Directory.Exists(digit))
            {
                continue;
            }

            string[] bins = Directory.GetFiles(digit, "*.bin");
            Array.Sort(bins, StringComparer.Ordinal);
            foreach (string b in bins)
            {
                files.Add((b, d));
            }
        }

        if (files.Count == 0)
        {
            throw new FileNotFoundException($"no .bin files in {folder}/<digit>/ (expected the N-MNIST layout Train/0..9/*.bin)", folder);
        }

        return new NMnistDataset(folder, files, steps, binUs, pool, options);
    }

    /// <inheritdoc />
    public IEnumerable<SpikeSequence> Samples()
    {
        var events = new List<DvsEvent>(8192);
        using var batch = new EventBatch();
        foreach ((string path, int label) in _files)
        {
            events.Clear();
            using (var reader = new NMnistReader(path, _options))
            {
                while (reader.Read(batch))
                {
                    for (int i = 0; i < batch.Count; i++)
                    {
                        events.Add(batch[i]);
                    }
                }
            }

            yield return Binning.TimeFrames(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(events), SensorGeometry.NMnist, 0, BinUs, Steps, Pool, label, path);
        }
    }
}
