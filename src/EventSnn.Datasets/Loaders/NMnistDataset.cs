using System.Globalization;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Transforms;

namespace EventSnn.Datasets.Loaders;

/// <summary>
/// N-MNIST (or the generated N-MNIST-like set) as prepared sequences: the .bin files of
/// Train/&lt;digit&gt;/ or Test/&lt;digit&gt;/, read one at a time and pushed batch by batch
/// into the preprocessing chain as a sample starting at time 0 (by default
/// <see cref="PreprocessingPresets.NMnist"/>: 34 x 34 pooled 2 -> 2 x 17 x 17, 30 bins of 10 ms, log(1 + count)).
/// </summary>
public sealed class NMnistDataset : ISequenceDataset
{
    private readonly List<(string Path, int Label)> _files;
    private readonly ReaderOptions? _options;

    private static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    private NMnistDataset(string folder, List<(string, int)> files, Preprocessing preprocessing, ReaderOptions? options)
    {
        Name = folder;
        _files = files;
        Preprocessing = preprocessing;
        _options = options;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public int Classes => 10;

    /// <inheritdoc />
    public IReadOnlyList<string> ClassNames => Digits;

    /// <inheritdoc />
    public int Features => Preprocessing.Features;

    /// <inheritdoc />
    public int Count => _files.Count;

    /// <summary>How the samples are prepared.</summary>
    public Preprocessing Preprocessing { get; }

    /// <summary>
    /// Opens the Train or Test split below <paramref name="root"/> with <paramref name="preprocessing"/>
    /// (null: <see cref="PreprocessingPresets.NMnist"/>). A missing split folder throws
    /// <see cref="DirectoryNotFoundException"/> naming it; a split without digit folders or .bin
    /// files throws <see cref="FileNotFoundException"/>; a description that is not for the 34 x 34
    /// DVS sensor throws <see cref="PreprocessingException"/> naming the field and both values.
    /// </summary>
    public static NMnistDataset Open(string root, bool train, Preprocessing? preprocessing = null, ReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        Preprocessing p = preprocessing ?? PreprocessingPresets.NMnist;
        p.Validate();
        if (p.Input != InputKind.Dvs)
        {
            throw new PreprocessingException("input", $"{PreprocessingNames.Name(p.Input)} does not fit {root}, which holds DVS recordings");
        }

        SensorGeometry sensor = SensorGeometry.NMnist;
        if (p.Width != sensor.Width || p.Height != sensor.Height)
        {
            throw new PreprocessingException(p.Width != sensor.Width ? "width" : "height", string.Create(CultureInfo.InvariantCulture, $"{p.Width}x{p.Height} does not match the N-MNIST sensor {sensor}"));
        }

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

        return new NMnistDataset(folder, files, p, options);
    }

    /// <summary>The split's files with their digit labels, in the order <see cref="Samples"/> reads them.</summary>
    public IReadOnlyList<(string Path, int Label)> Files => _files;

    /// <inheritdoc />
    public IEnumerable<SpikeSequence> Samples()
    {
        var binner = new SequenceBinner(Preprocessing);
        using var batch = new EventBatch();
        foreach ((string path, int label) in _files)
        {
            binner.Begin(startUs: 0);
            using (var reader = new NMnistReader(path, _options))
            {
                while (reader.Read(batch))
                {
                    binner.Stream.Push(batch);
                }
            }

            yield return SpikeSequence.From(binner.End(), label, path);
        }
    }
}
