using System.Globalization;
using System.Text;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Transforms;

namespace EventSnn.Datasets.Loaders;

/// <summary>
/// DVS128 Gesture as prepared sequences: the recordings listed in trials_to_train.txt or
/// trials_to_test.txt (AEDAT 3.1 .aedat as published, or AEDAT4 .aedat4 as generated here),
/// each cut by its *_labels.csv (class,startTime_usec,endTime_usec; class 1-based) into
/// gestures; every gesture is a sample [start, end) of the preprocessing chain (by default
/// <see cref="PreprocessingPresets.DvsGesture"/>: 128 x 128 pooled 8 -> 2 x 16 x 16, 20
/// equal-count frames, mean count). A gesture receives the events from the first one at or
/// after its start until its end. Recordings are streamed one at a time and pushed into the chain
/// batch by batch.
/// </summary>
public sealed class DvsGestureDataset : ISequenceDataset
{
    private readonly string[] _trials;
    private readonly ReaderOptions? _options;

    private readonly Stack<SequenceBinner> _binners = new();

    private DvsGestureDataset(string root, bool train, string[] trials, int classes, Preprocessing preprocessing, ReaderOptions? options)
    {
        Root = root;
        Train = train;
        _trials = trials;
        Classes = classes;
        Preprocessing = preprocessing;
        _options = options;
        ClassNames = ClassNamesFile.For(root, classes, PublishedClassNames, firstLabel: 1);
    }

    /// <summary>Names of the 11 classes of the published DVS128 Gesture dataset, by label.</summary>
    public static IReadOnlyList<string> PublishedClassNames { get; } =
    [
        "hand_clapping", "right_hand_wave", "left_hand_wave", "right_arm_clockwise", "right_arm_counter_clockwise",
        "left_arm_clockwise", "left_arm_counter_clockwise", "arm_roll", "air_drums", "air_guitar", "other_gestures",
    ];

    /// <summary>The dataset folder.</summary>
    public string Root { get; }

    /// <summary>True for the training split.</summary>
    public bool Train { get; }

    /// <inheritdoc />
    public string Name => Path.Combine(Root, Train ? "trials_to_train.txt" : "trials_to_test.txt");

    /// <inheritdoc />
    public int Classes { get; }

    /// <inheritdoc />
    /// <remarks>The folder's <see cref="ClassNamesFile"/>, else the published names for 11 classes, else the label numbers (1-based, as in the label files).</remarks>
    public IReadOnlyList<string> ClassNames { get; }

    /// <inheritdoc />
    public int Features => Preprocessing.Features;

    /// <inheritdoc />
    public int Count => -1;

    /// <summary>How the gestures are prepared.</summary>
    public Preprocessing Preprocessing { get; }

    /// <summary>Sensor size assumed (the description's; recordings that declare another size are refused).</summary>
    public SensorGeometry Geometry => new(Preprocessing.Width, Preprocessing.Height);

    /// <summary>The recordings of the split, as listed.</summary>
    public IReadOnlyList<string> Trials => _trials;

    /// <summary>
    /// Opens a split with <paramref name="preprocessing"/> (null: <see cref="PreprocessingPresets.DvsGesture"/>).
    /// Missing lists, recordings or label files throw <see cref="FileNotFoundException"/> naming
    /// the file; malformed label files throw <see cref="EventFormatException"/> naming the file and
    /// line; a description that is not for DVS input throws <see cref="PreprocessingException"/>
    /// (and, when read, a recording declaring another sensor size).
    /// </summary>
    public static DvsGestureDataset Open(string root, bool train, Preprocessing? preprocessing = null, ReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        Preprocessing p = preprocessing ?? PreprocessingPresets.DvsGesture;
        p.Validate();
        if (p.Input != InputKind.Dvs)
        {
            throw new PreprocessingException("input", $"{PreprocessingNames.Name(p.Input)} does not fit {root}, which holds DVS recordings");
        }

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
                foreach (LabelSegment l in ReadLabels(LabelsPath(root, trial)))
                {
                    classes = Math.Max(classes, l.Label);
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

        return new DvsGestureDataset(root, train, trials, classes, p, options);
    }

    /// <summary>The label file of a recording: name without extension + "_labels.csv".</summary>
    public static string LabelsPath(string root, string trial) =>
        Path.Combine(root, Path.GetFileNameWithoutExtension(trial) + "_labels.csv");

    /// <summary>
    /// Reads a DVS128 Gesture labels CSV (<see cref="LabelCsv"/>; classes 1-based, so class 0 is an
    /// error), sorted by start time.
    /// </summary>
    public static List<LabelSegment> ReadLabels(string path)
    {
        List<LabelSegment> result = LabelCsv.Read(path, firstClass: 1);
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

    /// <summary>
    /// The raw events of every gesture (those in [start, end) of its label interval), in the order
    /// of <see cref="Samples"/>: what augmentation transforms before the chain bins them.
    /// </summary>
    public IEnumerable<DvsSample> RawSamples()
    {
        foreach (string trial in _trials)
        {
            string file = Path.Combine(Root, trial);
            List<LabelSegment> labels = ReadLabels(LabelsPath(Root, trial));
            var t = new List<long>();
            var x = new List<ushort>();
            var y = new List<ushort>();
            var p = new List<byte>();
            using (IDvsEventReader reader = OpenReader(file))
            {
                using var batch = new EventBatch();
                while (reader.Read(batch))
                {
                    t.AddRange(batch.Timestamps);
                    x.AddRange(batch.Xs);
                    y.AddRange(batch.Ys);
                    p.AddRange(batch.Polarities);
                }
            }

            long[] ts = [.. t];
            for (int k = 0; k < labels.Count; k++)
            {
                LabelSegment l = labels[k];
                int a = LowerBound(ts, l.StartUs), b = LowerBound(ts, l.EndUs);
                yield return new DvsSample(
                    ts[a..b],
                    System.Runtime.InteropServices.CollectionsMarshal.AsSpan(x)[a..b].ToArray(),
                    System.Runtime.InteropServices.CollectionsMarshal.AsSpan(y)[a..b].ToArray(),
                    System.Runtime.InteropServices.CollectionsMarshal.AsSpan(p)[a..b].ToArray(),
                    l.Label - 1,
                    l.StartUs,
                    l.EndUs,
                    $"{trial}#{k}");
            }
        }
    }

    private static int LowerBound(long[] t, long value)
    {
        int lo = 0, hi = t.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (t[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private IEnumerable<SpikeSequence> Cut(string trial)
    {
        string file = Path.Combine(Root, trial);
        List<LabelSegment> labels = ReadLabels(LabelsPath(Root, trial));
        var open = new List<(LabelSegment Label, SequenceBinner Binner, int Index)>();
        int next = 0;
        using IDvsEventReader reader = OpenReader(file);
        if (reader.Geometry.IsKnown && (reader.Geometry.Width != Preprocessing.Width || reader.Geometry.Height != Preprocessing.Height))
        {
            throw new PreprocessingException(reader.Geometry.Width != Preprocessing.Width ? "width" : "height", string.Create(CultureInfo.InvariantCulture, $"{Preprocessing.Width}x{Preprocessing.Height} does not match the {reader.Geometry} sensor of {file}"));
        }

        using var batch = new EventBatch();
        try
        {
            while (reader.Read(batch))
            {
                long[] t = batch.T;
                int n = batch.Count;
                int i = 0;
                while (i < n)
                {
                    while (next < labels.Count && labels[next].StartUs <= t[i])
                    {
                        SequenceBinner binner = _binners.Count > 0 ? _binners.Pop() : new SequenceBinner(Preprocessing);
                        binner.Begin(labels[next].StartUs, labels[next].EndUs);
                        open.Add((labels[next], binner, next));
                        next++;
                    }

                    // a run of events up to the next gesture's start goes to every open gesture (the chain drops what lies after a gesture's end)
                    long nextStart = next < labels.Count ? labels[next].StartUs : long.MaxValue;
                    int j = i + 1;
                    while (j < n && t[j] < nextStart)
                    {
                        j++;
                    }

                    foreach ((LabelSegment _, SequenceBinner binner, int _) in open)
                    {
                        binner.Stream.Push(batch, i, j - i);
                    }

                    i = j;
                }

                // emit the gestures that ended before this batch's last event
                long last = n > 0 ? t[n - 1] : long.MinValue;
                for (int k = 0; k < open.Count; k++)
                {
                    if (open[k].Label.EndUs <= last)
                    {
                        yield return Finish(open[k], trial);
                        open.RemoveAt(k);
                        k--;
                    }
                }
            }

            foreach (var o in open)
            {
                yield return Finish(o, trial);
            }

            open.Clear();
        }
        finally
        {
            foreach (var o in open)
            {
                _binners.Push(o.Binner);
            }
        }
    }

    private SpikeSequence Finish((LabelSegment Label, SequenceBinner Binner, int Index) o, string trial)
    {
        SpikeSequence s = SpikeSequence.From(o.Binner.End(), o.Label.Label - 1, $"{trial}#{o.Index}");
        _binners.Push(o.Binner);
        return s;
    }

    private IDvsEventReader OpenReader(string file) =>
        Path.GetExtension(file).Equals(".aedat4", StringComparison.OrdinalIgnoreCase)
            ? Aedat4Reader.Open(file, _options)
            : new Aedat31Reader(file, _options);
}
