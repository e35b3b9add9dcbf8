using EventSnn.Events;

namespace EventSnn.IO;

/// <summary>
/// Streams every sample of an SHD/SSC file in order as audio spikes (see <see cref="ShdFile"/>
/// for the conversion). One <see cref="Read"/> never mixes samples: each batch holds spikes
/// of <see cref="CurrentSample"/> only, so a pipeline can cut samples on
/// <see cref="SampleStart"/>/<see cref="SampleEnd"/>. A sample larger than the batch
/// continues in the next batch; an empty sample is returned as one empty batch (Read returns
/// true with Count 0) so that every label is seen. Times restart near 0 with every sample,
/// as stored.
/// </summary>
/// <remarks>
/// Tolerant mode: when a truncated file's samples cannot be read any more, the reader records
/// a warning and ends (every complete sample before the cut has been returned). Strict mode
/// throws <see cref="EventFormatException"/> with <see cref="EventFormatException.IsTruncation"/>.
/// </remarks>
public sealed class ShdReader : ISpikeReader
{
    private readonly ShdFile _file;
    private readonly bool _ownsFile;
    private int _next;
    private int _offset;
    private bool _ended;

    /// <summary>Reads from an open file; disposes it with the reader when <paramref name="ownsFile"/>.</summary>
    public ShdReader(ShdFile file, bool ownsFile = false)
    {
        _file = file ?? throw new ArgumentNullException(nameof(file));
        _ownsFile = ownsFile;
        CurrentSample = -1;
        CurrentLabel = -1;
    }

    /// <summary>Opens <paramref name="path"/> (see <see cref="ShdFile.Open(string, ReaderOptions?)"/>) and streams it.</summary>
    public static ShdReader Open(string path, ReaderOptions? options = null) => new(ShdFile.Open(path, options), ownsFile: true);

    /// <summary>The underlying file (labels, keys, speakers, random access).</summary>
    public ShdFile File => _file;

    /// <inheritdoc />
    public string SourceName => _file.SourceName;

    /// <inheritdoc />
    public EventFormat Format => EventFormat.Shd;

    /// <summary>Highest byte offset read from the file so far (HDF5 is not read front to back).</summary>
    public long Position => _file.Position;

    /// <inheritdoc />
    public IReadOnlyList<FormatWarning> Warnings => _file.Warnings;

    /// <inheritdoc />
    public int Channels => _file.Channels;

    /// <summary>Always 1: SHD/SSC spikes come from one (mono) cochlea model.</summary>
    public int Ears => 1;

    /// <summary>Index of the sample the last batch came from (-1 before the first read).</summary>
    public int CurrentSample { get; private set; }

    /// <summary>Label of <see cref="CurrentSample"/> (-1 before the first read).</summary>
    public int CurrentLabel { get; private set; }

    /// <summary>Speaker of <see cref="CurrentSample"/>, or -1 when the file has no speakers.</summary>
    public int CurrentSpeaker => CurrentSample >= 0 && _file.Speakers.Length > 0 ? _file.Speakers[CurrentSample] : -1;

    /// <summary>True when the last batch holds the first spikes of <see cref="CurrentSample"/>.</summary>
    public bool SampleStart { get; private set; }

    /// <summary>True when the last batch holds the last spikes of <see cref="CurrentSample"/>.</summary>
    public bool SampleEnd { get; private set; }

    /// <summary>
    /// Clears <paramref name="batch"/> and fills it with the next spikes of the current sample
    /// (or of the next sample once the current one is done). Returns false at the end.
    /// </summary>
    public bool Read(SpikeBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        if (_ended || _next >= _file.Count)
        {
            return false;
        }

        int sample = _next;
        int total;
        int n;
        try
        {
            total = _file.SampleSpikeCount(sample);
            n = _file.ReadSample(sample, batch, _offset);
        }
        catch (EventFormatException ex) when (ex.IsTruncation && !_file.Options.Strict)
        {
            _file.Warn(ex.Offset, $"stopped at sample {sample} of {_file.Count}: {ex.Problem}");
            _ended = true;
            batch.Clear();
            return false;
        }

        SampleStart = _offset == 0;
        CurrentSample = sample;
        CurrentLabel = _file.Labels[sample];
        _offset += n;
        SampleEnd = _offset >= total;
        if (SampleEnd)
        {
            _next++;
            _offset = 0;
        }

        return true;
    }

    /// <summary>Disposes the file when the reader owns it.</summary>
    public void Dispose()
    {
        if (_ownsFile)
        {
            _file.Dispose();
        }
    }
}
