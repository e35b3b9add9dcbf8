using System.Globalization;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Transforms;

namespace EventSnn.Datasets.Loaders;

/// <summary>
/// SHD / SSC (or any file in their HDF5 layout, such as the generated spoken digits and
/// S-MNIST) as sequences prepared by the preprocessing chain (by default
/// <see cref="PreprocessingPresets.Shd"/>: 100 bins of 10 ms over the file's channels, binary).
/// A sample's spikes start at time 0. Samples are read one at a time from the file.
/// </summary>
public sealed class ShdDataset : ISequenceDataset, IDisposable
{
    private readonly ShdFile _file;
    private readonly SequenceBinner _binner;

    private ShdDataset(ShdFile file, string path, Preprocessing preprocessing)
    {
        _file = file;
        Name = path;
        Preprocessing = preprocessing;
        _binner = new SequenceBinner(preprocessing);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public int Classes => _file.Classes;

    /// <inheritdoc />
    public IReadOnlyList<string> ClassNames => _file.Keys;

    /// <inheritdoc />
    public int Features => Preprocessing.Features;

    /// <inheritdoc />
    public int Count => _file.Count;

    /// <summary>How the samples are prepared.</summary>
    public Preprocessing Preprocessing { get; }

    /// <summary>The underlying file (labels, keys, speakers).</summary>
    public ShdFile File => _file;

    /// <summary>
    /// Opens <paramref name="path"/> with <paramref name="preprocessing"/> (null: <see cref="PreprocessingPresets.Shd"/>
    /// for the file's channels). A missing file throws <see cref="FileNotFoundException"/> naming
    /// it; a malformed one <see cref="EventFormatException"/>; a description that is not for audio
    /// input of the file's channels <see cref="PreprocessingException"/> naming the field and both values.
    /// </summary>
    public static ShdDataset Open(string path, Preprocessing? preprocessing = null, ReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!System.IO.File.Exists(path))
        {
            throw new FileNotFoundException($"SHD file not found: {path}", path);
        }

        ShdFile file = ShdFile.Open(path, options);
        try
        {
            Preprocessing p = preprocessing ?? PreprocessingPresets.Shd.ForChannels(file.Channels);
            p.Validate();
            if (p.Input != InputKind.Audio)
            {
                throw new PreprocessingException("input", $"{PreprocessingNames.Name(p.Input)} does not fit {path}, which holds audio spikes");
            }

            if (p.Channels != file.Channels)
            {
                throw new PreprocessingException("channels", string.Create(CultureInfo.InvariantCulture, $"{p.Channels} does not match the {file.Channels} channels of {path}"));
            }

            return new ShdDataset(file, path, p);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Sample <paramref name="index"/>, prepared by the chain.</summary>
    public SpikeSequence Read(int index)
    {
        using var batch = new SpikeBatch(1 << 14);
        _binner.Begin(startUs: 0);
        int offset = 0;
        while (true)
        {
            int n = _file.ReadSample(index, batch, offset);
            if (n == 0)
            {
                break;
            }

            _binner.Stream.Push(batch, 0, n);
            offset += n;
        }

        return SpikeSequence.From(_binner.End(), _file.Label(index), $"{Name}#{index}");
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
