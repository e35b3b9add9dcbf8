using System.Diagnostics;
using System.Text;
using System.Text.Json;
using EventSnn.Events;
using EventSnn.Snn.Classification;

namespace EventSnn.Pipeline.Serving;

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
/// Binning and classification of ONE event stream: events are pooled (x / p, y / p, polarity
/// channel), counted into time bins of <see cref="WindowClassifierOptions.BinUs"/> (one network
/// step each) and every window of <see cref="WindowClassifierOptions.WindowUs"/> ends in one
/// decision of this stream's own <see cref="OnlineSequenceClassifier"/> (its own weights and
/// network state). Windows are aligned to the stream's first event; a window is decided when an
/// event past its end arrives or when the stream ends (<see cref="Flush"/>); windows without events
/// are skipped (no decision). Decoding goes straight from the batch's arrays; nothing is allocated
/// per event or per step. Not thread-safe: one thread feeds one stream.
/// </summary>
public sealed class WindowClassifier
{
    private readonly WindowClassifierOptions _options;
    private readonly float[] _frame;
    private readonly int _pooledWidth;
    private readonly int _plane;
    private readonly int _steps;
    private bool _open;
    private long _windowStart;
    private int _bin;
    private long _windowEvents;
    private long _windowIndex;
    private int _truth = -1;

    /// <summary>Creates the stream's model (from <see cref="WindowClassifierOptions.Checkpoint"/> or <paramref name="checkpoint"/> when given).</summary>
    /// <param name="stream">Stream id used in the records.</param>
    /// <param name="geometry">Sensor size of the stream.</param>
    /// <param name="options">Binning and model settings.</param>
    /// <param name="checkpoint">Checkpoint overriding <see cref="WindowClassifierOptions.Checkpoint"/> (e.g. this stream's own saved state).</param>
    /// <exception cref="EventSnn.Snn.CheckpointException">The checkpoint does not load or does not fit the model shape.</exception>
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
        _pooledWidth = (geometry.Width + options.Pooling - 1) / options.Pooling;
        _plane = _pooledWidth * ((geometry.Height + options.Pooling - 1) / options.Pooling);
        _steps = options.StepsPerWindow;
        _frame = new float[2 * _plane];
        Model = new OnlineSequenceClassifier(new OnlineClassifierOptions
        {
            Inputs = _frame.Length,
            Classes = options.Classes,
            Steps = _steps,
            Recipe = new SequenceTrainerOptions
            {
                Hidden = options.Hidden,
                Chunks = options.Chunks,
                Seed = checked((int)options.Seed),
            },
        })
        {
            Learning = false,
        };
        if ((checkpoint ?? options.Checkpoint) is { } path)
        {
            Model.Load(path);
        }
    }

    /// <summary>Stream id.</summary>
    public string Stream { get; }

    /// <summary>Sensor size.</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>Network inputs (2 x pooled height x pooled width).</summary>
    public int Inputs => _frame.Length;

    /// <summary>This stream's model: its own weights and network state.</summary>
    public OnlineSequenceClassifier Model { get; }

    /// <summary>Events binned so far.</summary>
    public long Events { get; private set; }

    /// <summary>Events dropped because they lie outside the sensor.</summary>
    public long OutOfRange { get; private set; }

    /// <summary>Events older than the current bin (counted into the current bin).</summary>
    public long LateEvents { get; private set; }

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
        long received = Stopwatch.GetTimestamp();
        int n = batch.Count;
        long[] ts = batch.T;
        ushort[] xs = batch.X;
        ushort[] ys = batch.Y;
        byte[] ps = batch.P;
        long binUs = _options.BinUs;
        long windowUs = _options.WindowUs;
        int pooling = _options.Pooling;
        uint width = (uint)Geometry.Width, height = (uint)Geometry.Height;
        for (int i = 0; i < n; i++)
        {
            int x = xs[i], y = ys[i];
            if ((uint)x >= width || (uint)y >= height)
            {
                OutOfRange++;
                continue;
            }

            long t = ts[i];
            if (!_open)
            {
                Open(t);
            }
            else if (t - _windowStart >= windowUs)
            {
                Close(received, emit);

                // skip empty windows: the next window is the one holding t
                Open(_windowStart + ((t - _windowStart) / windowUs * windowUs));
            }

            long offset = t - _windowStart;
            if (offset < (long)_bin * binUs)
            {
                LateEvents++;
            }
            else
            {
                int bin = (int)(offset / binUs);
                while (_bin < bin)
                {
                    StepFrame();
                }
            }

            int channel = ps[i] != 0 ? 1 : 0;
            _frame[(channel * _plane) + (y / pooling * _pooledWidth) + (x / pooling)] += 1f;
            _windowEvents++;
            Events++;
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
        if (_open)
        {
            Close(Stopwatch.GetTimestamp(), emit);
        }
    }

    /// <summary>Saves this stream's model atomically.</summary>
    public void Save(string path) => Model.Save(path);

    private void Open(long start)
    {
        _windowStart = start;
        _bin = 0;
        _windowEvents = 0;
        Array.Clear(_frame);
        int truth = TruthOf?.Invoke(start, start + _options.WindowUs) ?? -1;
        _truth = truth >= 0 && truth < _options.Classes ? truth : -1;
        Model.BeginSample(_truth);
        _open = true;
    }

    private void StepFrame()
    {
        Model.Step(_frame);
        Array.Clear(_frame);
        _bin++;
    }

    private void Close(long received, Action<ClassificationRecord> emit)
    {
        while (_bin < _steps)
        {
            StepFrame();
        }

        SampleDecision d = Model.EndSample();
        _open = false;
        var record = new ClassificationRecord(
            _windowStart + _options.WindowUs,
            Stream,
            _options.ClassName(d.Label),
            d.Label,
            d.Confidence,
            Stopwatch.GetElapsedTime(received).TotalMilliseconds,
            _truth >= 0 ? _options.ClassName(_truth) : null,
            _windowIndex++,
            _windowEvents);
        emit(record);
    }
}
