using System.Globalization;
using System.Numerics;
using EventSnn.Events;
using EventSnn.IO.Internal;
using PureHDF;
using PureHDF.Selections;

namespace EventSnn.IO;

/// <summary>Floating-point width of the stored spike times (seconds) in an SHD/SSC file.</summary>
public enum ShdTimeType
{
    /// <summary>IEEE half precision (2 bytes), as in the published SHD/SSC files.</summary>
    Float16 = 2,
    /// <summary>IEEE single precision (4 bytes).</summary>
    Float32 = 4,
    /// <summary>IEEE double precision (8 bytes).</summary>
    Float64 = 8,
}

/// <summary>
/// Random access to a Spiking Heidelberg Digits / Spiking Speech Commands HDF5 file
/// (Zenke lab layout, written with h5py or PyTables):
/// <c>/spikes/times</c> (one variable-length float array per sample, seconds; float16, float32
/// or float64 — the stored type is read, not assumed), <c>/spikes/units</c> (one
/// variable-length integer array per sample, channel 0..699), <c>/labels</c> (integer per
/// sample) and the optional <c>/extra/speaker</c>, <c>/extra/keys</c> (class id → word) and
/// <c>/extra/meta_info/*</c>.
/// </summary>
/// <remarks>
/// <para>Decoding uses PureHDF. Labels, speakers, keys and meta info are read at
/// <see cref="Open(string, ReaderOptions?)"/>; spikes are read per sample (in small blocks of consecutive samples
/// for sequential access), never the whole ragged dataset at once. PureHDF returns each
/// sample as a managed array, so reading allocates per sample (not per spike).</para>
/// <para>Spike times become microseconds: <c>T = round(seconds * 1e6)</c> (midpoint away
/// from zero), relative to the sample's own start as stored; Channel = unit; Ear, Neuron = 0;
/// ON polarity.</para>
/// <para><see cref="Channels"/> is 700 (SHD/SSC), unless the root attribute
/// <c>channels</c> (written by <see cref="ShdWriter"/> for other widths) says otherwise; a unit
/// at or above it is a format error. A sample may hold at most
/// <see cref="MaxSpikesPerSample"/> spikes (<see cref="ReaderOptions.MaxPacketBytes"/> / 16;
/// real SHD samples hold well under 20 000).</para>
/// <para>Bad input raises <see cref="EventFormatException"/> naming the file, the dataset path
/// (<c>/spikes/times</c>, ...) as field and, for errors inside PureHDF, the offset of the last
/// byte range it read. A file shorter than its superblock's end-of-file address is truncated:
/// strict mode throws at <see cref="Open(string, ReaderOptions?)"/> with <see cref="EventFormatException.IsTruncation"/>;
/// tolerant mode opens it with a warning, and samples that cannot be read then throw with
/// <see cref="EventFormatException.IsTruncation"/> set (<see cref="ShdReader"/> stops there).</para>
/// </remarks>
public sealed class ShdFile : IDisposable
{
    /// <summary>Path of the spike times dataset.</summary>
    public const string TimesPath = "/spikes/times";

    /// <summary>Path of the spike units (channels) dataset.</summary>
    public const string UnitsPath = "/spikes/units";

    /// <summary>Path of the labels dataset.</summary>
    public const string LabelsPath = "/labels";

    /// <summary>Path of the per-sample speaker dataset (optional).</summary>
    public const string SpeakerPath = "/extra/speaker";

    /// <summary>Path of the class names dataset (optional).</summary>
    public const string KeysPath = "/extra/keys";

    /// <summary>Path of the speaker meta information group (optional).</summary>
    public const string MetaInfoPath = "/extra/meta_info";

    /// <summary>Name of the optional root attribute holding the channel count.</summary>
    public const string ChannelsAttribute = "channels";

    /// <summary>Channels of the SHD/SSC cochlea model.</summary>
    public const int DefaultChannels = 700;

    private const int SequentialBlock = 64;
    private const int CountBlock = 256;
    private const int MaxKeys = 1 << 16;
    private const int MaxMetaValues = 1 << 20;

    private readonly Hdf5Input _input;
    private readonly PureHDF.VOL.Native.NativeFile _h5;
    private readonly IH5Dataset _times;
    private readonly IH5Dataset _units;
    private readonly int[] _labels;
    private readonly int[] _speakers;
    private readonly long _operationBudget;
    private readonly bool _truncated;
    private readonly WarningList _warnings = new();
    private readonly TimeColumn _timeBlock;
    private readonly UnitColumn _unitBlock;
    private int _blockStart = -1;
    private int _blockCount;
    private int _lastIndex = -2;
    private long _totalSpikes = -1;
    private bool _disposed;

    private ShdFile(string path, ReaderOptions options, Hdf5Input input, PureHDF.VOL.Native.NativeFile h5, bool truncated)
    {
        SourceName = path;
        Options = options;
        _input = input;
        _h5 = h5;
        _truncated = truncated;
        _operationBudget = (16 * input.Length) + (64L << 20);
        MaxSpikesPerSample = Math.Max(1, options.MaxPacketBytes / 16);

        _times = RequireDataset(TimesPath);
        _units = RequireDataset(UnitsPath);
        TimeType = CheckTimes(_times);
        _timeBlock = TimeColumn.Create(TimeType);
        _unitBlock = UnitColumn.Create(CheckUnits(_units), SourceName);

        Count = CheckSampleCount(_times, TimesPath);
        int unitCount = CheckSampleCount(_units, UnitsPath);
        if (unitCount != Count)
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"sample counts differ: {TimesPath} has {Count}, {UnitsPath} {unitCount}", UnitsPath);
        }

        if (truncated)
        {
            _warnings.Warn(input.Length, "file is truncated (shorter than the superblock's end-of-file address); samples past the cut cannot be read");
        }

        // In a truncated file (tolerant mode) what lies past the cut is given up with a
        // warning: labels become -1, speakers, keys and meta info stay empty.
        _labels = Tolerate(LabelsPath, () =>
        {
            IH5Dataset labels = RequireDataset(LabelsPath);
            int labelCount = CheckSampleCount(labels, LabelsPath);
            if (labelCount != Count)
            {
                throw new EventFormatException(SourceName, MetadataOffset, $"sample counts differ: {TimesPath} has {Count}, {LabelsPath} {labelCount}", LabelsPath);
            }

            return ReadIntegers(labels, LabelsPath, Count, nonNegative: true);
        }, () =>
        {
            var unknown = new int[Count];
            unknown.AsSpan().Fill(-1);
            return unknown;
        });

        (HasSpeakers, _speakers) = Tolerate(SpeakerPath, () =>
        {
            IH5Dataset? speakers = TryDataset(SpeakerPath);
            return (speakers is not null, speakers is not null ? ReadSpeakers(speakers) : []);
        }, () => (false, Array.Empty<int>()));
        Keys = Tolerate(KeysPath, () => TryDataset(KeysPath) is { } keys ? ReadStrings(keys, KeysPath, MaxKeys) : [], () => []);
        MetaInfo = Tolerate(MetaInfoPath, ReadMetaInfo, () => new Dictionary<string, string[]>(StringComparer.Ordinal));
        Channels = Tolerate("/@" + ChannelsAttribute, ReadChannels, () => DefaultChannels);

        int maxLabel = -1;
        foreach (int l in _labels)
        {
            maxLabel = Math.Max(maxLabel, l);
        }

        Classes = Keys.Count > 0 ? Keys.Count : maxLabel + 1;
        if (Keys.Count > 0 && maxLabel >= Keys.Count)
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"label {maxLabel} has no entry in {KeysPath} ({Keys.Count} keys)", LabelsPath);
        }
    }

    /// <summary>The file path.</summary>
    public string SourceName { get; }

    /// <summary>The options the file was opened with.</summary>
    public ReaderOptions Options { get; }

    /// <summary>Number of samples.</summary>
    public int Count { get; }

    /// <summary>Label (class id) of every sample (-1 where a truncated file lost them, tolerant mode).</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>Speaker id of every sample, or empty when <c>/extra/speaker</c> is absent.</summary>
    public ReadOnlySpan<int> Speakers => _speakers;

    /// <summary>True when the file has <c>/extra/speaker</c>.</summary>
    public bool HasSpeakers { get; }

    /// <summary>Class names by class id (<c>/extra/keys</c>), or empty when absent.</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>Number of classes: the number of keys when present, else the largest label + 1.</summary>
    public int Classes { get; }

    /// <summary>Input channels (700 unless the root attribute <c>channels</c> says otherwise).</summary>
    public int Channels { get; }

    /// <summary>Stored floating-point type of <c>/spikes/times</c>.</summary>
    public ShdTimeType TimeType { get; }

    /// <summary>Largest number of spikes accepted in one sample.</summary>
    public int MaxSpikesPerSample { get; }

    /// <summary>The datasets of <c>/extra/meta_info</c> (speaker gender, age, body height, ...), as text.</summary>
    public IReadOnlyDictionary<string, string[]> MetaInfo { get; }

    /// <summary>True when the file is shorter than its superblock says (tolerant mode only; strict throws).</summary>
    public bool IsTruncated => _truncated;

    /// <summary>Non-fatal problems met so far.</summary>
    public IReadOnlyList<FormatWarning> Warnings => _warnings;

    /// <summary>Highest byte offset read from the file so far.</summary>
    public long Position => _input.HighestOffset;

    /// <summary>
    /// Total number of spikes in the file. Computed on first access by reading
    /// <c>/spikes/units</c> block by block (PureHDF exposes no sequence lengths without
    /// reading the data): linear in the file size, then cached.
    /// </summary>
    public long TotalSpikes
    {
        get
        {
            if (_totalSpikes < 0)
            {
                _totalSpikes = CountAllSpikes();
            }

            return _totalSpikes;
        }
    }

    /// <summary>
    /// Opens an SHD/SSC file and reads its labels, keys, speakers and meta info.
    /// Throws <see cref="EventFormatException"/> for non-HDF5 input (at offset 0), missing or
    /// malformed datasets, and (strict mode) truncated files.
    /// </summary>
    public static ShdFile Open(string path, ReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= ReaderOptions.Default;
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, Math.Clamp(options.BufferBytes, 4096, 1 << 20), FileOptions.RandomAccess);
        return Open(stream, path, options);
    }

    /// <summary>
    /// Opens an SHD/SSC file from a seekable <paramref name="stream"/> (owned by the result);
    /// <paramref name="path"/> names it in errors.
    /// </summary>
    public static ShdFile Open(Stream stream, string path, ReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(path);
        if (!stream.CanSeek)
        {
            throw new ArgumentException("HDF5 needs a seekable stream", nameof(stream));
        }

        options ??= ReaderOptions.Default;
        Hdf5Filters.EnsureRegistered();
        var input = new Hdf5Input(stream);
        try
        {
            Hdf5Superblock sb = Hdf5Probe.Read(input, path);
            input.LengthsSize = sb.LengthsSize;
            input.OffsetsSize = sb.OffsetsSize;
            input.BaseAddress = sb.BaseAddress;
            bool truncated = sb.BaseAddress > input.Length || sb.EndOfFileAddress > input.Length - sb.BaseAddress;
            if (truncated && options.Strict)
            {
                throw new EventFormatException(path, input.Length, $"file is truncated: {input.Length} bytes, the superblock's end-of-file address is {sb.BaseAddress + sb.EndOfFileAddress}", "superblock") { IsTruncation = true };
            }

            input.ResetBudget((16 * input.Length) + (64L << 20));
            input.Position = 0;
            PureHDF.VOL.Native.NativeFile h5;
            try
            {
                h5 = H5File.Open(input, leaveOpen: true);
            }
            catch (Exception ex) when (ex is not (EventFormatException or OutOfMemoryException or OperationCanceledException))
            {
                throw Wrap(path, input, truncated, "/", "cannot open the HDF5 file", ex);
            }

            try
            {
                return new ShdFile(path, options, input, h5, truncated);
            }
            catch (Exception ex) when (ex is not (EventFormatException or OutOfMemoryException or OperationCanceledException))
            {
                h5.Dispose();
                throw Wrap(path, input, truncated, "/", "cannot read the file's structure", ex);
            }
            catch
            {
                h5.Dispose();
                throw;
            }
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }

    /// <summary>Label of sample <paramref name="index"/>.</summary>
    public int Label(int index) => _labels[CheckIndex(index)];

    /// <summary>Number of spikes in sample <paramref name="index"/>.</summary>
    public int SampleSpikeCount(int index)
    {
        CheckIndex(index);
        LoadBlockFor(index);
        return _unitBlock.Length(index - _blockStart);
    }

    /// <summary>
    /// Clears <paramref name="batch"/> and fills it with the spikes of sample
    /// <paramref name="index"/> from the first one; returns how many were copied. When the
    /// sample holds more than <see cref="SpikeBatch.Capacity"/> spikes
    /// (<see cref="SampleSpikeCount"/>), read the rest with
    /// <see cref="ReadSample(int, SpikeBatch, int)"/>.
    /// </summary>
    public int ReadSample(int index, SpikeBatch batch) => ReadSample(index, batch, 0);

    /// <summary>
    /// Clears <paramref name="batch"/> and fills it with the spikes of sample
    /// <paramref name="index"/> starting at spike <paramref name="offset"/>; returns how many
    /// were copied (0 once <paramref name="offset"/> reaches the end of the sample).
    /// </summary>
    public int ReadSample(int index, SpikeBatch batch, int offset)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        CheckIndex(index);
        LoadBlockFor(index);
        int rel = index - _blockStart;
        int length = _unitBlock.Length(rel);
        int n = Math.Clamp(length - offset, 0, batch.Capacity);
        batch.Clear();
        if (n == 0)
        {
            return 0;
        }

        if (!_timeBlock.ToMicroseconds(rel, offset, batch.T.AsSpan(0, n)))
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"sample {index}: spike time is not a finite, non-negative number of seconds below {TimeColumn.MaxSeconds:0}", TimesPath);
        }

        if (!_unitBlock.ToChannels(rel, offset, batch.Channel.AsSpan(0, n), Channels, out long bad))
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"sample {index}: unit {bad} is outside 0..{Channels - 1}", UnitsPath);
        }

        batch.Ear.AsSpan(0, n).Clear();
        batch.Neuron.AsSpan(0, n).Clear();
        batch.P.AsSpan(0, n).Fill(1);
        batch.SetCount(n);
        return n;
    }

    /// <summary>Closes the file.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _h5.Dispose();
        _input.Dispose();
    }

    internal void Warn(long offset, string message) => _warnings.Warn(offset, message);

    private static EventFormatException Wrap(string source, Hdf5Input input, bool truncated, string field, string what, Exception ex)
    {
        string problem = ex is Hdf5ReadBudgetException
            ? $"{what}: {ex.Message}"
            : $"{what} ({ex.GetType().Name}: {ex.Message})";
        // only a file shorter than its superblock says is truncated; reading past the end of a
        // complete file means a corrupt address
        bool cut = truncated;
        long offset = input.LastReadOffset;
        if (offset > input.Length)
        {
            // PureHDF followed an address past the end of the file: report the end
            problem += $" (address {offset} is past the end of the file)";
            offset = input.Length;
        }

        return new EventFormatException(source, offset, cut ? problem + " (the file is truncated)" : problem, field, ex) { IsTruncation = cut };
    }

    private EventFormatException Wrap(string field, string what, Exception ex) => Wrap(SourceName, _input, _truncated, field, what, ex);

    private T Tolerate<T>(string field, Func<T> read, Func<T> fallback)
    {
        try
        {
            return read();
        }
        catch (EventFormatException ex) when (ex.IsTruncation && _truncated && !Options.Strict)
        {
            _warnings.Warn(ex.Offset, $"{field}: not readable in the truncated file, ignored ({ex.Problem})");
            return fallback();
        }
    }

    private T Guard<T>(string field, string what, Func<T> action)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _input.ResetBudget(_operationBudget);
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is not (EventFormatException or OutOfMemoryException or OperationCanceledException))
        {
            throw Wrap(field, what, ex);
        }
    }

    /// <summary>Where the last metadata or data read started (clamped to the file): the closest offset we know.</summary>
    private long MetadataOffset => Math.Min(_input.LastReadOffset, _input.Length);

    private int CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"sample index must be in 0..{Count - 1}");
        }

        return index;
    }

    private IH5Dataset RequireDataset(string path) =>
        TryDataset(path) ?? throw new EventFormatException(
            SourceName,
            MetadataOffset,
            TryDataset("/events/t") is not null
                ? "required dataset is missing: this is an HDF5 event-array export (events/t, x, y, p), which EventSnn writes but does not read; open it with h5py"
                : "required dataset is missing",
            path);

    private IH5Dataset? TryDataset(string path) => Guard(path, "cannot look up the dataset", () =>
    {
        if (!_h5.LinkExists(path))
        {
            return null;
        }

        return _h5.Get(path) as IH5Dataset ?? throw new EventFormatException(SourceName, MetadataOffset, "is not a dataset", path);
    });

    private ShdTimeType CheckTimes(IH5Dataset ds)
    {
        IH5DataType type = Guard(TimesPath, "cannot read the datatype", () => ds.Type);
        if (type.Class != H5DataTypeClass.VariableLength)
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"expected variable-length arrays of floats, found {type.Class}", TimesPath);
        }

        IH5DataType element = Guard(TimesPath, "cannot read the datatype", () => type.VariableLength.BaseType);
        if (element.Class != H5DataTypeClass.FloatingPoint || element.Size is not (2 or 4 or 8))
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"expected float16/32/64 elements, found {element.Class} of {element.Size} bytes", TimesPath);
        }

        return (ShdTimeType)element.Size;
    }

    private (int Size, bool Signed) CheckUnits(IH5Dataset ds)
    {
        IH5DataType type = Guard(UnitsPath, "cannot read the datatype", () => ds.Type);
        if (type.Class != H5DataTypeClass.VariableLength)
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"expected variable-length arrays of integers, found {type.Class}", UnitsPath);
        }

        IH5DataType element = Guard(UnitsPath, "cannot read the datatype", () => type.VariableLength.BaseType);
        if (element.Class != H5DataTypeClass.FixedPoint || element.Size is not (1 or 2 or 4 or 8))
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"expected integer elements, found {element.Class} of {element.Size} bytes", UnitsPath);
        }

        return (element.Size, Guard(UnitsPath, "cannot read the datatype", () => element.FixedPoint.IsSigned));
    }

    private int CheckSampleCount(IH5Dataset ds, string path)
    {
        IH5Dataspace space = Guard(path, "cannot read the dataspace", () => ds.Space);
        ulong[] dims = Guard(path, "cannot read the dataspace", () => space.Dimensions);
        if (space.Type != H5DataspaceType.Simple || dims.Length != 1)
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"expected a one-dimensional dataset, found {space.Type} of rank {dims.Length}", path);
        }

        ulong n = dims[0];
        int elementSize = Guard(path, "cannot read the datatype", () => ds.Type.Size);
        H5DataLayoutClass layout = Guard(path, "cannot read the layout", () => ds.Layout.Class);
        if (n > (ulong)(Options.MaxPacketBytes / 4) || n > int.MaxValue)
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"claims {n} samples, more than the bound {Options.MaxPacketBytes / 4} (ReaderOptions.MaxPacketBytes / 4)", path);
        }

        if (layout is H5DataLayoutClass.Contiguous or H5DataLayoutClass.Compact && n * (ulong)Math.Max(1, elementSize) > (ulong)_input.Length)
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"claims {n} samples of {elementSize} bytes, more than the file's {_input.Length} bytes", path);
        }

        return (int)n;
    }

    private int[] ReadIntegers(IH5Dataset ds, string path, int expected, bool nonNegative)
    {
        IH5DataType type = Guard(path, "cannot read the datatype", () => ds.Type);
        if (type.Class != H5DataTypeClass.FixedPoint || type.Size is not (1 or 2 or 4 or 8))
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"expected integers, found {type.Class} of {type.Size} bytes", path);
        }

        bool signed = Guard(path, "cannot read the datatype", () => type.FixedPoint.IsSigned);
        long[] values = Guard(path, "cannot read the dataset", () => (type.Size, signed) switch
        {
            (1, false) => Widen(ds.Read<byte[]>()),
            (1, true) => Widen(ds.Read<sbyte[]>()),
            (2, false) => Widen(ds.Read<ushort[]>()),
            (2, true) => Widen(ds.Read<short[]>()),
            (4, false) => Widen(ds.Read<uint[]>()),
            (4, true) => Widen(ds.Read<int[]>()),
            (8, false) => Widen(ds.Read<ulong[]>()),
            _ => ds.Read<long[]>(),
        });

        if (values.Length != expected)
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"holds {values.Length} values, expected {expected}", path);
        }

        var result = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            long v = values[i];
            if (v > int.MaxValue || v < (nonNegative ? 0 : int.MinValue))
            {
                throw new EventFormatException(SourceName, MetadataOffset, $"value {v} at index {i} is out of range", path);
            }

            result[i] = (int)v;
        }

        return result;
    }

    private int[] ReadSpeakers(IH5Dataset ds)
    {
        int n = CheckSampleCount(ds, SpeakerPath);
        if (n != Count)
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"holds {n} values for {Count} samples", SpeakerPath);
        }

        return ReadIntegers(ds, SpeakerPath, Count, nonNegative: false);
    }

    private string[] ReadStrings(IH5Dataset ds, string path, int max)
    {
        IH5DataType type = Guard(path, "cannot read the datatype", () => ds.Type);
        IH5Dataspace space = Guard(path, "cannot read the dataspace", () => ds.Space);
        ulong[] dims = Guard(path, "cannot read the dataspace", () => space.Dimensions);
        // fixed-length strings are class String; variable-length strings are class VariableLength
        if (type.Class is not (H5DataTypeClass.String or H5DataTypeClass.VariableLength) || dims.Length != 1)
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"expected a one-dimensional string dataset, found {type.Class} of rank {dims.Length}", path);
        }

        if (dims[0] > (ulong)max || dims[0] * (ulong)Math.Max(1, type.Size) > (ulong)Options.MaxPacketBytes)
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"claims {dims[0]} strings of {type.Size} bytes, more than the bound", path);
        }

        string?[] raw = Guard(path, "cannot read the strings", () => ds.Read<string[]>());
        var result = new string[raw.Length];
        for (int i = 0; i < raw.Length; i++)
        {
            result[i] = (raw[i] ?? string.Empty).TrimEnd('\0');
        }

        return result;
    }

    private Dictionary<string, string[]> ReadMetaInfo()
    {
        var result = new Dictionary<string, string[]>(StringComparer.Ordinal);
        IH5Group? group = Guard(MetaInfoPath, "cannot look up the group", () =>
            _h5.LinkExists(MetaInfoPath) ? _h5.Get(MetaInfoPath) as IH5Group : null);
        if (group is null)
        {
            return result;
        }

        List<IH5Object> children = Guard(MetaInfoPath, "cannot list the group", () =>
        {
            var list = new List<IH5Object>();
            foreach (IH5Object child in group.Children())
            {
                if (list.Count >= 256)
                {
                    throw new EventFormatException(SourceName, MetadataOffset, "more than 256 entries", MetaInfoPath);
                }

                list.Add(child);
            }

            return list;
        });

        foreach (IH5Object child in children)
        {
            if (child is not IH5Dataset ds)
            {
                continue;
            }

            string path = MetaInfoPath + "/" + child.Name;
            IH5DataType type = Guard(path, "cannot read the datatype", () => ds.Type);
            ulong[] dims = Guard(path, "cannot read the dataspace", () => ds.Space.Dimensions);
            if (dims.Length != 1 || dims[0] > MaxMetaValues || dims[0] * (ulong)Math.Max(1, type.Size) > (ulong)Options.MaxPacketBytes)
            {
                _warnings.Warn(MetadataOffset, $"{path}: skipped (not a bounded one-dimensional dataset)");
                continue;
            }

            switch (type.Class)
            {
                case H5DataTypeClass.String or H5DataTypeClass.VariableLength:
                    result[child.Name] = ReadStrings(ds, path, MaxMetaValues);
                    break;
                case H5DataTypeClass.FixedPoint:
                    result[child.Name] = Array.ConvertAll(ReadIntegers(ds, path, (int)dims[0], nonNegative: false), v => v.ToString(CultureInfo.InvariantCulture));
                    break;
                case H5DataTypeClass.FloatingPoint when type.Size is 4 or 8:
                    double[] values = Guard(path, "cannot read the dataset", () => type.Size == 4 ? Array.ConvertAll(ds.Read<float[]>(), v => (double)v) : ds.Read<double[]>());
                    result[child.Name] = Array.ConvertAll(values, v => v.ToString("R", CultureInfo.InvariantCulture));
                    break;
                default:
                    _warnings.Warn(MetadataOffset, $"{path}: skipped (datatype {type.Class} of {type.Size} bytes)");
                    break;
            }
        }

        return result;
    }

    private int ReadChannels()
    {
        const string field = "/@" + ChannelsAttribute;
        IH5Attribute? attribute = Guard(field, "cannot read the attribute", () =>
            _h5.AttributeExists(ChannelsAttribute) ? _h5.Attribute(ChannelsAttribute) : null);
        if (attribute is null)
        {
            return DefaultChannels;
        }

        IH5DataType type = Guard(field, "cannot read the attribute", () => attribute.Type);
        long value = Guard(field, "cannot read the attribute", () => (type.Class, type.Size) switch
        {
            (H5DataTypeClass.FixedPoint, 2) => attribute.Read<short>(),
            (H5DataTypeClass.FixedPoint, 4) => attribute.Read<int>(),
            (H5DataTypeClass.FixedPoint, 8) => attribute.Read<long>(),
            _ => -1L,
        });

        if (value is < 1 or > ushort.MaxValue + 1)
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"channel count must be an integer in 1..65536, found {(value < 0 ? type.Class + " " + type.Size + " bytes" : value.ToString(CultureInfo.InvariantCulture))}", field);
        }

        return (int)value;
    }

    private void LoadBlockFor(int index)
    {
        if (index >= _blockStart && index < _blockStart + _blockCount)
        {
            _lastIndex = index;
            return;
        }

        // sequential readers get blocks; random access reads a single sample
        int count = index == _lastIndex + 1 ? Math.Min(SequentialBlock, Count - index) : 1;
        _blockStart = -1;
        _blockCount = 0;
        var selection = new HyperslabSelection(start: (ulong)index, block: (ulong)count);
        Guard(TimesPath, $"cannot read samples {index}..{index + count - 1}", () => _timeBlock.Load(_times, selection));
        Guard(UnitsPath, $"cannot read samples {index}..{index + count - 1}", () => _unitBlock.Load(_units, selection));
        if (_timeBlock.Count != count || _unitBlock.Count != count)
        {
            throw new EventFormatException(SourceName, MetadataOffset, $"read {_timeBlock.Count} time arrays and {_unitBlock.Count} unit arrays for {count} samples", TimesPath);
        }

        for (int i = 0; i < count; i++)
        {
            int nt = _timeBlock.Length(i);
            int nu = _unitBlock.Length(i);
            if (nt != nu)
            {
                throw new EventFormatException(SourceName, MetadataOffset, $"sample {index + i} has {nt} spike times but {nu} units", UnitsPath);
            }

            if (nt > MaxSpikesPerSample)
            {
                throw new EventFormatException(SourceName, MetadataOffset, $"sample {index + i} holds {nt} spikes, more than the bound {MaxSpikesPerSample} (ReaderOptions.MaxPacketBytes / 16)", TimesPath);
            }
        }

        _blockStart = index;
        _blockCount = count;
        _lastIndex = index;
    }

    private long CountAllSpikes()
    {
        UnitColumn column = UnitColumn.Create(_unitBlock.ElementType, SourceName);
        long total = 0;
        for (int start = 0; start < Count; start += CountBlock)
        {
            int count = Math.Min(CountBlock, Count - start);
            var selection = new HyperslabSelection(start: (ulong)start, block: (ulong)count);
            Guard(UnitsPath, $"cannot read samples {start}..{start + count - 1}", () => column.Load(_units, selection));
            for (int i = 0; i < column.Count; i++)
            {
                total += column.Length(i);
            }
        }

        return total;
    }

    private static long[] Widen<T>(T[] values)
        where T : unmanaged, IBinaryInteger<T>
    {
        var result = new long[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = long.CreateSaturating(values[i]);
        }

        return result;
    }

    /// <summary>A block of consecutive samples' spike times, in the stored float type.</summary>
    private abstract class TimeColumn
    {
        /// <summary>Largest accepted time in seconds (about 31 years): microseconds stay far inside int64.</summary>
        public const double MaxSeconds = 1e9;

        public abstract int Count { get; }

        public static TimeColumn Create(ShdTimeType type) => type switch
        {
            ShdTimeType.Float16 => new Typed<Half>(),
            ShdTimeType.Float32 => new Typed<float>(),
            _ => new Typed<double>(),
        };

        public abstract bool Load(IH5Dataset ds, Selection selection);

        public abstract int Length(int sample);

        /// <summary>Converts to microseconds; false when a value is not a finite time in range.</summary>
        public abstract bool ToMicroseconds(int sample, int offset, Span<long> destination);

        private sealed class Typed<T> : TimeColumn
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            private T[]?[] _block = [];

            public override int Count => _block.Length;

            public override bool Load(IH5Dataset ds, Selection selection)
            {
                _block = ds.Read<T[][]>(fileSelection: selection);
                return true;
            }

            public override int Length(int sample) => _block[sample]?.Length ?? 0;

            public override bool ToMicroseconds(int sample, int offset, Span<long> destination)
            {
                ReadOnlySpan<T> src = _block[sample].AsSpan(offset, destination.Length);
                for (int i = 0; i < src.Length; i++)
                {
                    double s = double.CreateTruncating(src[i]);
                    if (!(s >= 0 && s <= MaxSeconds))
                    {
                        return false;
                    }

                    destination[i] = (long)Math.Round(s * 1e6, MidpointRounding.AwayFromZero);
                }

                return true;
            }
        }
    }

    /// <summary>A block of consecutive samples' units, in the stored integer type.</summary>
    private abstract class UnitColumn
    {
        public (int Size, bool Signed) ElementType { get; private init; }

        public abstract int Count { get; }

        public static UnitColumn Create((int Size, bool Signed) type, string source) => type switch
        {
            (1, false) => new Typed<byte> { ElementType = type },
            (1, true) => new Typed<sbyte> { ElementType = type },
            (2, false) => new Typed<ushort> { ElementType = type },
            (2, true) => new Typed<short> { ElementType = type },
            (4, false) => new Typed<uint> { ElementType = type },
            (4, true) => new Typed<int> { ElementType = type },
            (8, false) => new Typed<ulong> { ElementType = type },
            (8, true) => new Typed<long> { ElementType = type },
            _ => throw new EventFormatException(source, 0, $"unsupported unit type of {type.Size} bytes", UnitsPath),
        };

        public abstract bool Load(IH5Dataset ds, Selection selection);

        public abstract int Length(int sample);

        /// <summary>Copies units as channels; false (with the unit) when one is outside 0..channels-1.</summary>
        public abstract bool ToChannels(int sample, int offset, Span<ushort> destination, int channels, out long badUnit);

        private sealed class Typed<T> : UnitColumn
            where T : unmanaged, IBinaryInteger<T>
        {
            private T[]?[] _block = [];

            public override int Count => _block.Length;

            public override bool Load(IH5Dataset ds, Selection selection)
            {
                _block = ds.Read<T[][]>(fileSelection: selection);
                return true;
            }

            public override int Length(int sample) => _block[sample]?.Length ?? 0;

            public override bool ToChannels(int sample, int offset, Span<ushort> destination, int channels, out long badUnit)
            {
                ReadOnlySpan<T> src = _block[sample].AsSpan(offset, destination.Length);
                for (int i = 0; i < src.Length; i++)
                {
                    long u = long.CreateSaturating(src[i]);
                    if ((ulong)u >= (ulong)channels)
                    {
                        badUnit = u;
                        return false;
                    }

                    destination[i] = (ushort)u;
                }

                badUnit = 0;
                return true;
            }
        }
    }
}
