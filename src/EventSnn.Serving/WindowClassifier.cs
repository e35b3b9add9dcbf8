using System.Diagnostics;
using EventSnn.IO;
using EventSnn.Datasets;
using EventSnn.Events;
using EventSnn.Pipeline;
using EventSnn.Snn.Classification;
using EventSnn.Transforms;
using EventSnn.Snn;

namespace EventSnn.Serving;

/// <summary>
/// Binning and classification of ONE event stream: the stream is cut into windows of
/// <see cref="WindowClassifierOptions.WindowUs"/> (aligned to the stream's first event; windows
/// without events are skipped), every window is one sample of the model's preprocessing chain
/// (<see cref="WindowedPreprocessor"/>: the description stored in the checkpoint, else
/// <see cref="WindowClassifierOptions.Preprocessing"/>, else time bins of
/// <see cref="WindowClassifierOptions.BinUs"/> pooled by <see cref="WindowClassifierOptions.Pooling"/>
/// with log(1 + count) values), and each window ends in one decision of the stream's model: the
/// <see cref="WindowModel"/>'s frozen weights, shared with other streams, with this stream's own
/// network state; or, once <see cref="Learning"/> was set, an <see cref="OnlineSequenceClassifier"/>
/// of its own (own weights, learning after each labelled window's decision). A window is decided
/// when an event past its end arrives or when the stream ends (<see cref="Flush"/>). Decoding goes
/// straight from the batch's arrays; nothing is allocated per event or per step. Not thread-safe:
/// one thread feeds one stream.
/// </summary>
public sealed class WindowClassifier
{
    private readonly WindowModel _model;
    private readonly WindowedPreprocessor _windows;
    private readonly SampleInference _frozen;
    private OnlineSequenceClassifier? _online;
    private OnlineSequenceClassifier? _sampleModel;
    private Action<StreamDecision>? _emit;
    private long _received;
    private long _windowStart;
    private long _windowEvents;
    private long _windowIndex;
    private int _truth = -1;

    /// <summary>
    /// Creates the stream's classifier over a model of its own: read from
    /// <see cref="WindowClassifierOptions.Checkpoint"/> or <paramref name="checkpoint"/> when given (its
    /// shape, weights, preprocessing and class names), else fresh with the options' shape.
    /// </summary>
    /// <param name="stream">Stream id used in the records.</param>
    /// <param name="geometry">Sensor size of the stream.</param>
    /// <param name="options">Windows and model settings.</param>
    /// <param name="checkpoint">Checkpoint overriding <see cref="WindowClassifierOptions.Checkpoint"/> (e.g. this stream's own saved state).</param>
    /// <exception cref="EventSnn.Snn.CheckpointException">The checkpoint does not load or does not fit its preprocessing.</exception>
    /// <exception cref="PreprocessingException">The preprocessing is not for a DVS sensor of <paramref name="geometry"/>.</exception>
    public WindowClassifier(string stream, SensorGeometry geometry, WindowClassifierOptions options, string? checkpoint = null)
        : this(stream, geometry, WindowModel.Load(geometry, options, checkpoint))
    {
    }

    /// <summary>
    /// Creates the stream's classifier over <paramref name="model"/>, which several streams may share:
    /// while the stream does not learn it decides with the model's frozen weights and costs only
    /// its own state; setting <see cref="Learning"/> gives it weights of its own.
    /// </summary>
    /// <exception cref="PreprocessingException">The model's preprocessing is not for a sensor of <paramref name="geometry"/>.</exception>
    public WindowClassifier(string stream, SensorGeometry geometry, WindowModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Preprocessing.Width != geometry.Width || model.Preprocessing.Height != geometry.Height)
        {
            throw new PreprocessingException(model.Preprocessing.Width != geometry.Width ? "width" : "height", $"the model's sensor {model.Preprocessing.Width}x{model.Preprocessing.Height} does not match {stream}'s {geometry}");
        }

        Stream = stream;
        Geometry = geometry;
        _model = model;
        _frozen = new SampleInference(model.Decision, model.ClassifierOptions.Recipe.Decision);
        _windows = new WindowedPreprocessor(model.Preprocessing, _model.Options.WindowUs, OnStep);
    }

    /// <summary>Stream id.</summary>
    public string Stream { get; }

    /// <summary>Sensor size.</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>How every window is prepared for the model.</summary>
    public Preprocessing Preprocessing => _model.Preprocessing;

    /// <summary>True when <see cref="Preprocessing"/> came from the checkpoint; false when it was configured or assumed.</summary>
    public bool PreprocessingStored => _model.PreprocessingStored;

    /// <summary>Network inputs (the preprocessing's features).</summary>
    public int Inputs => _model.Preprocessing.Features;

    /// <summary>Steps of one window.</summary>
    public int StepsPerWindow => _model.StepsPerWindow;

    /// <summary>Class names (index = class).</summary>
    public IReadOnlyList<string> ClassNames => _model.ClassNames;

    /// <summary>Chunk updates this stream's own model has applied (0 while it only classifies).</summary>
    public long Updates => _online?.Updates ?? 0;

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

    /// <summary>
    /// Whether windows with a known truth are learned from (FPTT, after their decision). Default
    /// false. The first time it is set the stream gets weights of its own (from the model), which
    /// it keeps from then on; it takes effect at the next window.
    /// </summary>
    public bool Learning
    {
        get => _online?.Learning ?? false;
        set
        {
            if (value && _online is null)
            {
                _online = _model.CreateLearner();
            }

            if (_online is not null)
            {
                _online.Learning = value;
            }
        }
    }

    /// <summary>Bins all events of <paramref name="batch"/>; calls <paramref name="emit"/> for every window it completes.</summary>
    public void Process(EventBatch batch, Action<StreamDecision> emit)
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
    public void Flush(Action<StreamDecision> emit)
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

    /// <summary>Saves this stream's model atomically (its own weights, else the shared model's), with its preprocessing and class names.</summary>
    public void Save(string path)
    {
        using (ModelMetadata.Attach(Preprocessing, _model.ClassNames))
        {
            (_online ?? _model.CreateLearner()).Save(path);
        }
    }

    private void OnStep(BinnedStep step)
    {
        if (step.Index == 0)
        {
            _windowStart = step.SampleStartUs;
            _windowEvents = 0;
            int truth = TruthOf?.Invoke(_windowStart, _windowStart + _model.Options.WindowUs) ?? -1;
            _truth = truth >= 0 && truth < _model.ClassifierOptions.Classes ? truth : -1;
            _sampleModel = _online;
            if (_sampleModel is null)
            {
                _frozen.Begin();
            }
            else
            {
                _sampleModel.BeginSample(_truth);
            }
        }

        if (_sampleModel is null)
        {
            _frozen.Step(step.Frame);
        }
        else
        {
            _sampleModel.Step(step.Frame);
        }

        _windowEvents += step.EventCount;
        if (step.EndsSample)
        {
            SampleDecision d = _sampleModel?.EndSample() ?? new SampleDecision(_frozen.Decide(), _frozen.Confidence(), _truth, _frozen.Steps, 0);
            var record = new StreamDecision
            {
                TUs = _windowStart + _model.Options.WindowUs,
                StartUs = _windowStart,
                Stream = Stream,
                Label = StreamDecision.ClassName(_model.ClassNames, d.Label),
                LabelIndex = d.Label,
                Confidence = d.Confidence,
                LatencyMs = Stopwatch.GetElapsedTime(_received).TotalMilliseconds,
                Truth = _truth >= 0 ? StreamDecision.ClassName(_model.ClassNames, _truth) : null,
                TruthIndex = _truth,
                Index = _windowIndex++,
                Steps = d.Steps,
                Events = _windowEvents,
            };
            _emit?.Invoke(record);
        }
    }
}
