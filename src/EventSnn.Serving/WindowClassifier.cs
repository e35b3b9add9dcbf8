using System.Diagnostics;
using System.Text.Json;
using System.Text;
using EventSnn.Datasets;
using EventSnn.Events;
using EventSnn.Pipeline;
using EventSnn.Snn.Classification;
using EventSnn.Transforms;

namespace EventSnn.Serving;

/// <summary>One classification published by the server.</summary>
/// <param name="TUs">End of the decided window in stream time (microseconds): the window is [TUs - WindowUs, TUs).</param>
/// <param name="Stream">Stream id (kind:peer or the configured name).</param>
/// <param name="Label">Predicted class name.</param>
/// <param name="LabelIndex">Predicted class index (-1 when the window had no steps).</param>
/// <param name="Confidence">Softmax probability of the predicted class.</param>
/// <param name="LatencyMs">Wall time from receiving the batch that closed the window to the decision.</param>
/// <param name="Truth">True class name when known, else null.</param>
/// <param name="Window">Index of the decision in its stream (0, 1, ...).</param>
/// <param name="Events">Events that fell in the window.</param>
public sealed record ClassificationRecord(long TUs, string Stream, string Label, int LabelIndex, double Confidence, double LatencyMs, string? Truth, long Window, long Events)
{
    /// <summary>The record as one JSON object (no newline): t_us, stream, label, label_index, confidence, latency_ms, truth, window, events.</summary>
    public string ToJson() => Encoding.UTF8.GetString(ToUtf8Json());

    /// <summary>The record as UTF-8 JSON (no newline).</summary>
    public byte[] ToUtf8Json()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("t_us", TUs);
            w.WriteString("stream", Stream);
            w.WriteString("label", Label);
            w.WriteNumber("label_index", LabelIndex);
            w.WriteNumber("confidence", Math.Round(Confidence, 6));
            w.WriteNumber("latency_ms", Math.Round(LatencyMs, 4));
            if (Truth is null)
            {
                w.WriteNull("truth");
            }
            else
            {
                w.WriteString("truth", Truth);
            }

            w.WriteNumber("window", Window);
            w.WriteNumber("events", Events);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>
/// Binning and classification of ONE event stream: the stream is cut into windows of
/// <see cref="WindowClassifierOptions.WindowUs"/> (aligned to the stream's first event; windows
/// without events are skipped), every window is one sample of the model's preprocessing chain
/// (<see cref="WindowedPreprocessor"/>: the description stored in the checkpoint, else
/// <see cref="WindowClassifierOptions.Preprocessing"/>, else time bins of
/// <see cref="WindowClassifierOptions.BinUs"/> pooled by <see cref="WindowClassifierOptions.Pooling"/>
/// with log(1 + count) values), and each window ends in one decision of this stream's own
/// <see cref="OnlineSequenceClassifier"/> (its own weights and network state). A window is decided
/// when an event past its end arrives or when the stream ends (<see cref="Flush"/>). Decoding goes
/// straight from the batch's arrays; nothing is allocated per event or per step. Not thread-safe:
/// one thread feeds one stream.
/// </summary>
public sealed class WindowClassifier
{
    private readonly WindowClassifierOptions _options;
    private readonly WindowedPreprocessor _windows;
    private readonly string[] _classNames;
    private Action<ClassificationRecord>? _emit;
    private long _received;
    private long _windowStart;
    private long _windowEvents;
    private long _windowIndex;
    private int _truth = -1;

    /// <summary>
    /// Creates the stream's model: from <see cref="WindowClassifierOptions.Checkpoint"/> or
    /// <paramref name="checkpoint"/> when given (its shape, weights, preprocessing and class names),
    /// else fresh with the options' shape.
    /// </summary>
    /// <param name="stream">Stream id used in the records.</param>
    /// <param name="geometry">Sensor size of the stream.</param>
    /// <param name="options">Windows and model settings.</param>
    /// <param name="checkpoint">Checkpoint overriding <see cref="WindowClassifierOptions.Checkpoint"/> (e.g. this stream's own saved state).</param>
    /// <exception cref="EventSnn.Snn.CheckpointException">The checkpoint does not load or does not fit its preprocessing.</exception>
    /// <exception cref="PreprocessingException">The preprocessing is not for a DVS sensor of <paramref name="geometry"/>.</exception>
    public WindowClassifier(string stream, SensorGeometry geometry, WindowClassifierOptions options, string? checkpoint = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!geometry.IsKnown)
        {
            throw new ArgumentException("the sensor size must be known", nameof(geometry));
        }

        Stream = stream;
        Geometry = geometry;
        _options = options;
        string? path = checkpoint ?? options.Checkpoint;
        EventSnn.Snn.CheckpointData? data = path is null ? null : EventSnn.Snn.Checkpoint.Read(path);
        Preprocessing? stored = data is null ? null : ModelMetadata.ReadPreprocessing(data);
        PreprocessingStored = stored is not null;
        Preprocessing = stored ?? options.Preprocessing ?? options.PreprocessingFor(geometry);
        if (Preprocessing.Input != InputKind.Dvs)
        {
            throw new PreprocessingException("input", $"the model takes {PreprocessingNames.Name(Preprocessing.Input)} input; {stream} is a DVS stream");
        }

        if (Preprocessing.Width != geometry.Width || Preprocessing.Height != geometry.Height)
        {
            throw new PreprocessingException(Preprocessing.Width != geometry.Width ? "width" : "height", $"the model's sensor {Preprocessing.Width}x{Preprocessing.Height} does not match {stream}'s {geometry}");
        }

        EventSnn.Snn.NetworkConfig? shape = data?.Config;
        if (shape is not null && shape.InputSize != Preprocessing.Features)
        {
            throw new EventSnn.Snn.CheckpointException(path!, $"the model takes {shape.InputSize} inputs; its preprocessing ({Preprocessing.Describe()}) gives {Preprocessing.Features}");
        }

        int classes = shape?.Readout.Size ?? options.Classes;
        StepsPerWindow = Math.Max(1, Preprocessing.StepsPerSample(options.WindowUs) ?? (Preprocessing.MaxSteps > 0 ? Preprocessing.MaxSteps : options.StepsPerWindow));
        _classNames = ModelMetadata.ClassNames(options.ClassNames.Count > 0 ? options.ClassNames : data is null ? null : ModelMetadata.ReadClasses(data), classes);
        Model = new OnlineSequenceClassifier(new OnlineClassifierOptions
        {
            Inputs = Preprocessing.Features,
            Classes = classes,
            Steps = StepsPerWindow,
            Recipe = data is null
                ? new SequenceTrainerOptions { Hidden = options.Hidden, Chunks = Math.Clamp(options.Chunks, 1, StepsPerWindow), Seed = (int)options.Seed, Batch = 1 }
                : SequenceTrainerOptions.ForCheckpoint(data),
        })
        {
            Learning = false,
        };
        if (path is not null)
        {
            Model.Load(path);
        }

        _windows = new WindowedPreprocessor(Preprocessing, options.WindowUs, OnStep);
    }

    /// <summary>Stream id.</summary>
    public string Stream { get; }

    /// <summary>Sensor size.</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>How every window is prepared for the model.</summary>
    public Preprocessing Preprocessing { get; }

    /// <summary>True when <see cref="Preprocessing"/> came from the checkpoint; false when it was configured or assumed.</summary>
    public bool PreprocessingStored { get; }

    /// <summary>Network inputs (the preprocessing's features).</summary>
    public int Inputs => Preprocessing.Features;

    /// <summary>Steps of one window.</summary>
    public int StepsPerWindow { get; }

    /// <summary>Class names (index = class).</summary>
    public IReadOnlyList<string> ClassNames => _classNames;

    /// <summary>This stream's model: its own weights and network state.</summary>
    public OnlineSequenceClassifier Model { get; }

    /// <summary>Events taken into windows so far.</summary>
    public long Events => _windows.Events;

    /// <summary>Events dropped because they lie outside the sensor.</summary>
    public long OutOfRange => _windows.Preprocessor.Dropped;

    /// <summary>Events older than the current bin (counted into the current bin).</summary>
    public long LateEvents => _windows.Preprocessor.Late;

    /// <summary>Decisions made so far.</summary>
    public long Decisions => _windowIndex;

    /// <summary>Ground truth of a window [start, end) in stream time: a class index, or -1 when unknown (null: never known).</summary>
    public Func<long, long, int>? TruthOf { get; set; }

    /// <summary>Whether windows with a known truth are learned from (FPTT, after their decision). Default false.</summary>
    public bool Learning
    {
        get => Model.Learning;
        set => Model.Learning = value;
    }

    /// <summary>Bins all events of <paramref name="batch"/>; calls <paramref name="emit"/> for every window it completes.</summary>
    public void Process(EventBatch batch, Action<ClassificationRecord> emit)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(emit);
        _received = Stopwatch.GetTimestamp();
        _emit = emit;
        try
        {
            _windows.Push(batch);
        }
        finally
        {
            _emit = null;
        }
    }

    /// <summary>
    /// A <see cref="TruthOf"/> from labelled segments: the class of the segment holding the window's
    /// midpoint (its label minus <paramref name="labelBase"/>), else -1.
    /// </summary>
    public static Func<long, long, int> TruthFromSegments(IReadOnlyList<LabelSegment> segments, int labelBase)
    {
        ArgumentNullException.ThrowIfNull(segments);
        LabelSegment[] sorted = [.. segments];
        Array.Sort(sorted, (a, b) => a.StartUs.CompareTo(b.StartUs));
        return (start, end) =>
        {
            long mid = start + ((end - start) / 2);
            int lo = 0, hi = sorted.Length - 1, found = -1;
            while (lo <= hi)
            {
                int m = (lo + hi) >>> 1;
                if (sorted[m].StartUs <= mid)
                {
                    found = m;
                    lo = m + 1;
                }
                else
                {
                    hi = m - 1;
                }
            }

            return found >= 0 && mid < sorted[found].EndUs ? sorted[found].Label - labelBase : -1;
        };
    }

    /// <summary>Decides the window in progress (the stream ended or the server stops); no-op when none is open.</summary>
    public void Flush(Action<ClassificationRecord> emit)
    {
        ArgumentNullException.ThrowIfNull(emit);
        _received = Stopwatch.GetTimestamp();
        _emit = emit;
        try
        {
            _windows.Flush();
        }
        finally
        {
            _emit = null;
        }
    }

    /// <summary>Saves this stream's model atomically, with its preprocessing and class names.</summary>
    public void Save(string path)
    {
        using (ModelMetadata.Attach(Preprocessing, _classNames))
        {
            Model.Save(path);
        }
    }

    private string ClassName(int index) => index < 0 ? "?" : index < _classNames.Length ? _classNames[index] : index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private void OnStep(BinnedStep step)
    {
        if (step.Index == 0)
        {
            _windowStart = step.SampleStartUs;
            _windowEvents = 0;
            int truth = TruthOf?.Invoke(_windowStart, _windowStart + _options.WindowUs) ?? -1;
            _truth = truth >= 0 && truth < Model.Options.Classes ? truth : -1;
            Model.BeginSample(_truth);
        }

        Model.Step(step.Frame);
        _windowEvents += step.EventCount;
        if (step.EndsSample)
        {
            SampleDecision d = Model.EndSample();
            var record = new ClassificationRecord(
                _windowStart + _options.WindowUs,
                Stream,
                ClassName(d.Label),
                d.Label,
                d.Confidence,
                Stopwatch.GetElapsedTime(_received).TotalMilliseconds,
                _truth >= 0 ? ClassName(_truth) : null,
                _windowIndex++,
                _windowEvents);
            _emit?.Invoke(record);
        }
    }
}
