using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn.Classification;

/// <summary>Configuration of a <see cref="StreamClassifier"/>.</summary>
public sealed record StreamClassifierOptions
{
    /// <summary>
    /// 0 (default): segments are delimited by the caller (a new sample index, or a step that ends
    /// its sample). Greater than 0: a continuous stream is cut into consecutive windows of this
    /// many microseconds of step time (aligned to the first step's start), one decision each.
    /// </summary>
    public long WindowUs { get; init; }

    /// <summary>
    /// Decided segments whose truth is not yet known kept for late label feedback (their inputs
    /// are kept too when learning, to learn from them once the label arrives). Oldest first out.
    /// </summary>
    public int PendingSegments { get; init; } = 64;

    /// <summary>Labels received ahead of the segment they apply to that are kept (oldest first out).</summary>
    public int FutureLabels { get; init; } = 1024;

    /// <summary>Stream id written into the decisions.</summary>
    public string Stream { get; init; } = string.Empty;

    /// <summary>Class names written into the decisions (index = class); null: the class numbers.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (WindowUs < 0)
        {
            throw new ArgumentException($"WindowUs = {WindowUs} must be >= 0", nameof(WindowUs));
        }

        if (PendingSegments < 0 || FutureLabels < 0)
        {
            throw new ArgumentException("PendingSegments and FutureLabels must be >= 0", nameof(PendingSegments));
        }
    }
}

/// <summary>
/// Streaming classification of one event stream with an <see cref="OnlineSequenceClassifier"/>:
/// cuts the stream of time steps into segments (the caller's labelled samples, or fixed windows
/// of event time), makes one decision per segment (prequential: before learning on it), learns
/// online with FPTT when the truth is known, and takes label feedback that arrives after the
/// decision (<see cref="Label"/>: "the segment ending at t has class c"), learning from the kept
/// inputs of that segment then. Keeps the accuracy tally. Single consumer: call
/// <see cref="Step"/> and <see cref="Complete"/> from one thread; <see cref="Label"/> may be
/// called from any thread.
/// </summary>
public sealed class StreamClassifier : IDisposable
{
    private readonly StreamClassifierOptions _options;
    private readonly ConcurrentQueue<(long TUs, int Label)> _incoming = new();
    private readonly List<(long TUs, int Label)> _future = [];
    private readonly List<Pending> _pending = [];
    private bool _open;
    private long _segStart;
    private long _segEnd;
    private long _segSample;
    private long _segEvents;
    private int _segTruth;
    private long _origin = long.MinValue;
    private long _lastClosedEnd = long.MinValue;
    private float[]? _buffer;
    private int _bufferSteps;

    /// <summary>Wraps <paramref name="classifier"/>.</summary>
    public StreamClassifier(OnlineSequenceClassifier classifier, StreamClassifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        options ??= new StreamClassifierOptions();
        options.Validate();
        Classifier = classifier;
        _options = options;
    }

    /// <summary>The model.</summary>
    public OnlineSequenceClassifier Classifier { get; }

    /// <summary>Accuracy so far (late labels included).</summary>
    public ClassificationTally Tally { get; } = new();

    /// <summary>Called with every decision as soon as it is made.</summary>
    public Action<StreamDecision>? Decided { get; set; }

    /// <summary>Time steps fed.</summary>
    public long Steps { get; private set; }

    /// <summary>Events of the steps fed.</summary>
    public long Events { get; private set; }

    /// <summary>Labels received (<see cref="Label"/>).</summary>
    public long LabelsReceived { get; private set; }

    /// <summary>Late labels that found no kept segment (too old, or between segments).</summary>
    public long LabelsUnmatched { get; private set; }

    /// <summary>Segments learned from after their decision, when their label arrived.</summary>
    public long LateLearned { get; private set; }

    /// <summary>True while a segment is open.</summary>
    public bool InSegment => _open;

    /// <summary>
    /// Feeds one time step. With <see cref="StreamClassifierOptions.WindowUs"/> = 0 a change of
    /// <paramref name="sample"/> starts a new segment and <paramref name="endsSample"/> closes it;
    /// otherwise the window of <paramref name="startUs"/> decides. <paramref name="truth"/> is the
    /// segment's class when known (-1 if not).
    /// </summary>
    public void Step(ReadOnlySpan<float> frame, long startUs, long endUs, long sample = -1, int truth = -1, bool endsSample = false, int events = 0)
    {
        using DenormalScope flush = DenormalScope.Enter();
        if (_options.WindowUs > 0)
        {
            long w = _options.WindowUs;
            if (_origin == long.MinValue)
            {
                _origin = startUs;
            }

            if (_open && startUs >= _segEnd)
            {
                Close();
            }

            if (!_open)
            {
                long k = (startUs - _origin) >= 0 ? (startUs - _origin) / w : -1;
                long start = _origin + (k * w);
                Open(start, start + w, k, truth);
            }
        }
        else
        {
            if (_open && sample != _segSample)
            {
                Close();
            }

            if (!_open)
            {
                Open(startUs, endUs, sample, truth);
            }
        }

        Classifier.Step(frame);
        Keep(frame);
        Steps++;
        Events += events;
        _segEvents += events;
        if (_options.WindowUs == 0)
        {
            _segEnd = Math.Max(_segEnd, endUs);
            if (endsSample)
            {
                Close();
            }
        }
        else if (endUs >= _segEnd)
        {
            Close();
        }
    }

    /// <summary>
    /// Label feedback (thread-safe): the segment ending at <paramref name="tUs"/> (the one with
    /// start &lt; t &lt;= end) has class <paramref name="label"/>. Applied at the next segment
    /// boundary: a decided segment is scored and, when learning, learned from; a label for a
    /// segment still to come becomes its truth.
    /// </summary>
    public void Label(long tUs, int label)
    {
        if (label < 0 || label >= Classifier.Options.Classes)
        {
            throw new ArgumentOutOfRangeException(nameof(label), $"class {label} outside 0..{Classifier.Options.Classes - 1}");
        }

        _incoming.Enqueue((tUs, label));
    }

    /// <summary>End of the stream (or cancellation): decides the open segment and applies the labels received.</summary>
    public void Complete()
    {
        using DenormalScope flush = DenormalScope.Enter();
        if (_open)
        {
            Close();
        }
        else
        {
            ApplyLabels();
        }
    }

    /// <summary>Returns the kept inputs to the pool.</summary>
    public void Dispose()
    {
        foreach (Pending p in _pending)
        {
            Return(p.Frames);
        }

        _pending.Clear();
        Return(_buffer);
        _buffer = null;
    }

    private void Open(long start, long end, long sample, int truth)
    {
        ApplyLabels();
        if (truth < 0 && _options.WindowUs > 0)
        {
            for (int i = 0; i < _future.Count; i++)
            {
                if (_future[i].TUs > start && _future[i].TUs <= end)
                {
                    truth = _future[i].Label;
                    _future.RemoveAt(i);
                    break;
                }
            }
        }

        _segStart = start;
        _segEnd = end;
        _segSample = sample;
        _segTruth = truth >= 0 && truth < Classifier.Options.Classes ? truth : -1;
        _segEvents = 0;
        _bufferSteps = 0;
        Classifier.BeginSample(_segTruth);
        _open = true;
    }

    private void Keep(ReadOnlySpan<float> frame)
    {
        // inputs are kept only when a late label could make them worth learning from
        if (_segTruth >= 0 || !Classifier.Learning || _options.PendingSegments == 0)
        {
            return;
        }

        int n = frame.Length;
        int need = (_bufferSteps + 1) * n;
        if (_buffer is null || _buffer.Length < need)
        {
            float[] grown = ArrayPool<float>.Shared.Rent(Math.Max(need, Math.Max(n * Classifier.Options.Steps, _buffer?.Length * 2 ?? 0)));
            if (_buffer is not null)
            {
                _buffer.AsSpan(0, _bufferSteps * n).CopyTo(grown);
                Return(_buffer);
            }

            _buffer = grown;
        }

        frame.CopyTo(_buffer.AsSpan(_bufferSteps * n));
        _bufferSteps++;
    }

    private void Close()
    {
        long began = Stopwatch.GetTimestamp();
        StreamDecision? decision = null;
        int truth = _segTruth;
        long start = _segStart, end = _segEnd, sample = _segSample, events = _segEvents;
        Classifier.EndSample(d =>
        {
            double latency = Stopwatch.GetElapsedTime(began).TotalMilliseconds;
            decision = new StreamDecision
            {
                TUs = end,
                StartUs = start,
                Stream = _options.Stream,
                Label = StreamDecision.ClassName(_options.ClassNames, d.Label),
                LabelIndex = d.Label,
                Confidence = d.Confidence,
                LatencyMs = latency,
                Truth = truth >= 0 ? StreamDecision.ClassName(_options.ClassNames, truth) : null,
                TruthIndex = truth,
                Index = Tally.Decisions,
                Sample = sample,
                Steps = d.Steps,
                Events = events,
            };
        });
        _open = false;
        _lastClosedEnd = Math.Max(_lastClosedEnd, end);
        StreamDecision decided = decision ?? throw new InvalidOperationException("the classifier made no decision");
        int index = Tally.Add(decided);
        if (truth < 0 && _options.PendingSegments > 0)
        {
            float[]? frames = null;
            if (_bufferSteps > 0)
            {
                frames = _buffer;
                _buffer = null;
            }

            _pending.Add(new Pending(start, end, index, decided.LabelIndex, frames, _bufferSteps));
            if (_pending.Count > _options.PendingSegments)
            {
                Return(_pending[0].Frames);
                _pending.RemoveAt(0);
            }
        }

        _bufferSteps = 0;
        Decided?.Invoke(decided);
        ApplyLabels();
    }

    private void ApplyLabels()
    {
        while (_incoming.TryDequeue(out (long TUs, int Label) item))
        {
            LabelsReceived++;
            _future.Add(item);
        }

        for (int i = 0; i < _future.Count; i++)
        {
            (long t, int label) = _future[i];
            int match = -1;
            for (int p = 0; p < _pending.Count; p++)
            {
                if (t > _pending[p].StartUs && t <= _pending[p].EndUs)
                {
                    match = p;
                    break;
                }
            }

            if (match >= 0)
            {
                Pending seg = _pending[match];
                _pending.RemoveAt(match);
                Tally.Resolve(seg.Decision, seg.Label, label);
                LearnLate(seg, label);
                Return(seg.Frames);
                _future.RemoveAt(i--);
            }
            else if (t <= _lastClosedEnd && (!_open || t <= _segStart))
            {
                LabelsUnmatched++;
                _future.RemoveAt(i--);
            }
        }

        while (_future.Count > _options.FutureLabels)
        {
            _future.RemoveAt(0);
            LabelsUnmatched++;
        }
    }

    private void LearnLate(Pending seg, int label)
    {
        if (seg.Frames is null || seg.Steps == 0 || !Classifier.Learning || _open)
        {
            return;
        }

        int n = Classifier.Options.Inputs;
        Classifier.BeginSample(label);
        for (int s = 0; s < seg.Steps; s++)
        {
            Classifier.Step(seg.Frames.AsSpan(s * n, n));
        }

        Classifier.EndSample();
        LateLearned++;
    }

    private static void Return(float[]? array)
    {
        if (array is not null)
        {
            ArrayPool<float>.Shared.Return(array);
        }
    }

    private readonly record struct Pending(long StartUs, long EndUs, int Decision, int Label, float[]? Frames, int Steps);
}
