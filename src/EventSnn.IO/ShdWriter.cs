using EventSnn.Events;
using PureHDF;

namespace EventSnn.IO;

/// <summary>
/// Writes spikes in the SHD/SSC HDF5 layout (via PureHDF) with true variable-length
/// datasets, as h5py/PyTables write them:
/// <list type="bullet">
/// <item><c>/spikes/times</c>: variable-length sequence of IEEE float16 (default, as the published
/// files), float32 or float64, seconds = microseconds / 1e6, one sequence per sample;</item>
/// <item><c>/spikes/units</c>: variable-length sequence of uint16;</item>
/// <item><c>/labels</c>: uint8 per sample;</item>
/// <item><c>/extra/speaker</c>: uint16 per sample;</item>
/// <item><c>/extra/keys</c>: variable-length UTF-8 strings (only when keys are given);</item>
/// <item><c>/extra/meta_info</c>: group holding the datasets set with <c>SetMetaInfo</c> (may be empty);</item>
/// <item>root attribute <c>channels</c> (int32) only when the channel count is not 700.</item>
/// </list>
/// Samples are kept in memory (about 4 bytes per spike with float16 times) and the file is
/// written by <see cref="Dispose"/>. Float16 keeps 11 significant bits: a time t seconds comes
/// back within t·2⁻¹¹ s plus 0.5 µs of rounding; float32 round-trips every time below 8 s to
/// the microsecond.
/// </summary>
public sealed class ShdWriter : IDisposable
{
    /// <summary>Largest time accepted, in microseconds (10⁹ s, as <see cref="ShdFile"/> reads).</summary>
    public const long MaxTimeMicroseconds = 1_000_000_000_000_000;

    private readonly string _path;
    private readonly string[]? _keys;
    private readonly List<Array> _times = [];
    private readonly List<ushort[]> _units = [];
    private readonly List<byte> _labels = [];
    private readonly List<ushort> _speakers = [];
    private readonly Dictionary<string, object> _metaInfo = new(StringComparer.Ordinal);
    private bool _disposed;

    private ShdWriter(string path, int channels, IReadOnlyList<string>? keys, ShdTimeType timeType)
    {
        _path = path;
        Channels = channels;
        TimeType = timeType;
        if (keys is not null)
        {
            _keys = new string[keys.Count];
            for (int i = 0; i < keys.Count; i++)
            {
                _keys[i] = keys[i] ?? throw new ArgumentException("keys must not contain null", nameof(keys));
            }
        }
    }

    /// <summary>Channel count (units must be below it).</summary>
    public int Channels { get; }

    /// <summary>Stored type of the spike times.</summary>
    public ShdTimeType TimeType { get; }

    /// <summary>Samples added so far.</summary>
    public int Count => _labels.Count;

    /// <summary>
    /// Starts a file at <paramref name="path"/> (written on <see cref="Dispose"/>).
    /// <paramref name="keys"/> are the class names by class id (SHD: 20, SSC: 35); labels must
    /// then be below their count.
    /// </summary>
    public static ShdWriter Create(string path, int channels = ShdFile.DefaultChannels, IReadOnlyList<string>? keys = null, ShdTimeType timeType = ShdTimeType.Float16)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(channels, ushort.MaxValue + 1);
        if (keys is not null && keys.Count is 0 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(keys), "1..256 keys (labels are stored as uint8)");
        }

        if (timeType is not (ShdTimeType.Float16 or ShdTimeType.Float32 or ShdTimeType.Float64))
        {
            throw new ArgumentOutOfRangeException(nameof(timeType));
        }

        return new ShdWriter(path, channels, keys, timeType);
    }

    /// <summary>
    /// Adds one sample: spike times in microseconds (0 ≤ t ≤ <see cref="MaxTimeMicroseconds"/>;
    /// float16 also needs t ≤ 65504 s) and their units (below <see cref="Channels"/>), its label
    /// (0..255, below the number of keys when given) and speaker (0..65535).
    /// </summary>
    public void Add(ReadOnlySpan<long> timesUs, ReadOnlySpan<ushort> units, int label, int speaker = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (timesUs.Length != units.Length)
        {
            throw new ArgumentException($"{timesUs.Length} times but {units.Length} units", nameof(units));
        }

        int classes = _keys?.Length ?? 256;
        if ((uint)label >= (uint)classes)
        {
            throw new ArgumentOutOfRangeException(nameof(label), label, $"label must be in 0..{classes - 1}");
        }

        if ((uint)speaker > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(speaker), speaker, "speaker must be in 0..65535");
        }

        for (int i = 0; i < units.Length; i++)
        {
            if (units[i] >= Channels)
            {
                throw new ArgumentOutOfRangeException(nameof(units), units[i], $"unit must be below {Channels}");
            }
        }

        long maxUs = TimeType == ShdTimeType.Float16 ? 65_504_000_000 : MaxTimeMicroseconds;
        for (int i = 0; i < timesUs.Length; i++)
        {
            if ((ulong)timesUs[i] > (ulong)maxUs)
            {
                throw new ArgumentOutOfRangeException(nameof(timesUs), timesUs[i], $"time must be in 0..{maxUs} us for {TimeType}");
            }
        }

        _times.Add(TimeType switch
        {
            ShdTimeType.Float16 => Convert<Half>(timesUs, static s => (Half)s),
            ShdTimeType.Float32 => Convert<float>(timesUs, static s => (float)s),
            _ => Convert<double>(timesUs, static s => s),
        });
        _units.Add(units.ToArray());
        _labels.Add((byte)label);
        _speakers.Add((ushort)speaker);
    }

    /// <summary>Adds the spikes of <paramref name="batch"/> (timestamps and channels) as one sample.</summary>
    public void Add(SpikeBatch batch, int label, int speaker = 0)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Add(batch.Timestamps, batch.Channels, label, speaker);
    }

    /// <summary>Sets a text dataset of <c>/extra/meta_info</c> (e.g. "gender").</summary>
    public void SetMetaInfo(string name, IReadOnlyList<string> values)
    {
        CheckMetaName(name);
        ArgumentNullException.ThrowIfNull(values);
        var copy = new string[values.Count];
        for (int i = 0; i < copy.Length; i++)
        {
            copy[i] = values[i] ?? string.Empty;
        }

        _metaInfo[name] = copy;
    }

    /// <summary>Sets an integer (int32) dataset of <c>/extra/meta_info</c> (e.g. "age", "body_height").</summary>
    public void SetMetaInfo(string name, ReadOnlySpan<int> values)
    {
        CheckMetaName(name);
        _metaInfo[name] = values.ToArray();
    }

    /// <summary>Writes the file (once) and releases the samples.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        var metaInfo = new H5Group();
        foreach (KeyValuePair<string, object> entry in _metaInfo)
        {
            metaInfo[entry.Key] = entry.Value;
        }

        var extra = new H5Group
        {
            ["speaker"] = _speakers.ToArray(),
            ["meta_info"] = metaInfo,
        };
        if (_keys is not null)
        {
            extra["keys"] = _keys;
        }

        var file = new H5File
        {
            ["spikes"] = new H5Group
            {
                ["times"] = TimesArray(),
                ["units"] = _units.ToArray(),
            },
            ["labels"] = _labels.ToArray(),
            ["extra"] = extra,
        };
        if (Channels != ShdFile.DefaultChannels)
        {
            file.Attributes[ShdFile.ChannelsAttribute] = Channels;
        }

        file.Write(_path);
        _times.Clear();
        _units.Clear();
    }

    private object TimesArray() => TimeType switch
    {
        ShdTimeType.Float16 => _times.ConvertAll(static a => (Half[])a).ToArray(),
        ShdTimeType.Float32 => _times.ConvertAll(static a => (float[])a).ToArray(),
        _ => _times.ConvertAll(static a => (double[])a).ToArray(),
    };

    private static T[] Convert<T>(ReadOnlySpan<long> timesUs, Func<double, T> convert)
    {
        var result = new T[timesUs.Length];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = convert(timesUs[i] / 1e6);
        }

        return result;
    }

    private static void CheckMetaName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
        {
            throw new ArgumentException("meta info names are plain dataset names", nameof(name));
        }
    }
}
