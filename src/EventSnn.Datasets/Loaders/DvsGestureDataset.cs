using System.Globalization;
using System.Text;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Datasets.Loaders;

/// <summary>
/// DVS128 Gesture as binned sequences: the recordings listed in trials_to_train.txt or
/// trials_to_test.txt (AEDAT 3.1 .aedat as published, or AEDAT4 .aedat4 as generated here),
/// each cut by its *_labels.csv (class,startTime_usec,endTime_usec; class 1-based) into
/// gestures, each gesture turned into <see cref="Frames"/> equal-event-count frames pooled
/// <see cref="Pool"/> x <see cref="Pool"/> (default 128 x 128 / 4 = 2 x 32 x 32 features).
/// Recordings are streamed one at a time; a gesture's events are held until it ends.
/// </summary>
public sealed class DvsGestureDataset : ISequenceDataset
{
    private readonly string[] _trials;
    private readonly ReaderOptions? _options;

    private DvsGestureDataset(string root, bool train, string[] trials, int classes, int frames, int pool, SensorGeometry geometry, ReaderOptions? options)
    {
        Root = root;
        Train = train;
        _trials = trials;
        Classes = classes;
        Frames = frames;
        Pool = pool;
        Geometry = geometry;
        _options = options;
    }

    /// <summary>The dataset folder.</summary>
    public string Root { get; }

    /// <summary>True for the training split.</summary>
    public bool Train { get; }

    /// <inheritdoc />
    public string Name => Path.Combine(Root, Train ? "trials_to_train.txt" : "trials_to_test.txt");

    /// <inheritdoc />
    public int Classes { get; }

    /// <inheritdoc />
    public int Features => 2 * ((Geometry.Width + Pool - 1) / Pool) * ((Geometry.Height + Pool - 1) / Pool);

    /// <inheritdoc />
    public int Count => -1;

    /// <summary>Frames (time steps) per gesture.</summary>
    public int Frames { get; }

    /// <summary>Pooling factor.</summary>
    public int Pool { get; }

    /// <summary>Sensor size assumed (128 x 128).</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>The recordings of the split, as listed.</summary>
    public IReadOnlyList<string> Trials => _trials;

    /// <summary>
    /// Opens a split. Missing lists, recordings or label files throw
    /// <see cref="FileNotFoundException"/> naming the file; malformed label files throw
    /// <see cref="EventFormatException"/> naming the file and line.
    /// </summary>
    public static DvsGestureDataset Open(string root, bool train, int frames = 20, int pool = 4, SensorGeometry? geometry = null, ReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"DVS128 Gesture folder not found: {root}");
        }

        string list = Path.Combine(root, train ? "trials_to_train.txt" : "trials_to_test.txt");
        string[] trials = ReadTrials(list);
        int classes = 0;
        foreach (string other in new[] { "trials_to_train.txt", "trials_to_test.txt" })
        {
            string path = Path.Combine(root, other);
            if (!System.IO.File.Exists(path))
            {
                continue;
            }

            foreach (string trial in ReadTrials(path))
            {
                foreach (LabelledInterval l in ReadLabels(LabelsPath(root, trial)))
                {
                    classes = Math.Max(classes, l.Class);
                }
            }
        }

        foreach (string trial in trials)
        {
            string file = Path.Combine(root, trial);
            if (!System.IO.File.Exists(file))
            {
                throw new FileNotFoundException($"recording listed in {list} not found: {file}", file);
            }
        }

        return new DvsGestureDataset(root, train, trials, classes, frames, pool, geometry ?? SensorGeometry.Dvs128, options);
    }

    /// <summary>The label file of a recording: name without extension + "_labels.csv".</summary>
    public static string LabelsPath(string root, string trial) =>
        Path.Combine(root, Path.GetFileNameWithoutExtension(trial) + "_labels.csv");

    /// <summary>One labelled interval of a recording (class 1-based as in the CSV).</summary>
    public readonly record struct LabelledInterval(int Class, long StartUs, long EndUs);

    /// <summary>Parses a DVS128 Gesture labels CSV (header line, then class,startTime_usec,endTime_usec).</summary>
    public static List<LabelledInterval> ReadLabels(string path)
    {
        if (!System.IO.File.Exists(path))
        {
            throw new FileNotFoundException($"label file not found: {path}", path);
        }

        byte[] bytes = System.IO.File.ReadAllBytes(path);
        string text = Encoding.UTF8.GetString(bytes);
        var result = new List<LabelledInterval>();
        int lineNo = 0;
        int offset = 0;
        foreach (string raw in text.Split('\n'))
        {
            lineNo++;
            int lineOffset = offset;
            offset += Encoding.UTF8.GetByteCount(raw) + 1;
            string line = raw.TrimEnd('\r').Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (lineNo == 1 && !char.IsAsciiDigit(line[0]))
            {
                if (!line.StartsWith("class", StringComparison.OrdinalIgnoreCase))
                {
                    throw new EventFormatException(path, 0, $"line 1: expected the header 'class,startTime_usec,endTime_usec', found '{line}'", "header");
                }

                continue;
            }

            string[] parts = line.Split(',');
            if (parts.Length < 3
                || !int.TryParse(parts[0].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int cls)
                || !long.TryParse(parts[1].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long start)
                || !long.TryParse(parts[2].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long end))
            {
                throw new EventFormatException(path, lineOffset, $"line {lineNo}: expected class,startTime_usec,endTime_usec (integers), found '{line}'", "line");
            }

            if (cls is < 1 or > 255)
            {
                throw new EventFormatException(path, lineOffset, $"line {lineNo}: class {cls} is not 1..255", "class");
            }

            if (end <= start)
            {
                throw new EventFormatException(path, lineOffset, $"line {lineNo}: end time {end} is not after start time {start}", "endTime_usec");
            }

            result.Add(new LabelledInterval(cls, start, end));
        }

        result.Sort((a, b) => a.StartUs.CompareTo(b.StartUs));
        return result;
    }

    /// <inheritdoc />
    public IEnumerable<SpikeSequence> Samples()
    {
        foreach (string trial in _trials)
        {
            foreach (SpikeSequence s in Cut(trial))
            {
                yield return s;
            }
        }
    }

    private static string[] ReadTrials(string list)
    {
        if (!System.IO.File.Exists(list))
        {
            throw new FileNotFoundException($"trial list not found: {list}", list);
        }

        var trials = new List<string>();
        foreach (string raw in System.IO.File.ReadAllLines(list))
        {
            string line = raw.Trim();
            if (line.Length > 0)
            {
                trials.Add(line);
            }
        }

        return [.. trials];
    }

    private IEnumerable<SpikeSequence> Cut(string trial)
    {
        string file = Path.Combine(Root, trial);
        List<LabelledInterval> labels = ReadLabels(LabelsPath(Root, trial));
        var open = new List<(LabelledInterval Label, List<DvsEvent> Events, int Index)>();
        int next = 0;
        using IDvsEventReader reader = OpenReader(file);
        using var batch = new EventBatch();
        while (reader.Read(batch))
        {
            for (int i = 0; i < batch.Count; i++)
            {
                long t = batch.T[i];
                while (next < labels.Count && labels[next].StartUs <= t)
                {
                    open.Add((labels[next], new List<DvsEvent>(), next));
                    next++;
                }

                for (int k = 0; k < open.Count; k++)
                {
                    if (t < open[k].Label.EndUs)
                    {
                        open[k].Events.Add(batch[i]);
                    }
                }
            }

            // emit the gestures that ended before this batch's last event
            long last = batch.Count > 0 ? batch.T[batch.Count - 1] : long.MinValue;
            for (int k = 0; k < open.Count; k++)
            {
                if (open[k].Label.EndUs <= last)
                {
                    yield return Frame(open[k], trial);
                    open.RemoveAt(k);
                    k--;
                }
            }
        }

        foreach (var o in open)
        {
            yield return Frame(o, trial);
        }
    }

    private SpikeSequence Frame((LabelledInterval Label, List<DvsEvent> Events, int Index) o, string trial) =>
        Binning.EqualCountFrames(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(o.Events), Geometry, Frames, Pool, o.Label.Class - 1, $"{trial}#{o.Index}");

    private IDvsEventReader OpenReader(string file) =>
        Path.GetExtension(file).Equals(".aedat4", StringComparison.OrdinalIgnoreCase)
            ? Aedat4Reader.Open(file, _options)
            : new Aedat31Reader(file, _options);
}
