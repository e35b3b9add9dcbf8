using System.Diagnostics;
using EventSnn.IO;
using EventSnn.Events;
using EventSnn.Pipeline;
using EventSnn.Snn.Classification;
using EventSnn.Transforms;

namespace EventSnn.Cluster;

/// <summary>What a stream has to keep to resume exactly where it left off (at a sample boundary).</summary>
/// <param name="Model">The classifier's checkpoint (weights, FPTT W̄ and λ, optimiser), or empty before the first decision.</param>
/// <param name="Segments">Label segments not yet decided.</param>
/// <param name="ResumeTimeUs">Events before this time are done with (see <see cref="LabelledStreamProcessor.ResumeTimeUs"/>).</param>
/// <param name="Decisions">Decisions made.</param>
/// <param name="Labelled">Decisions whose truth was known.</param>
/// <param name="Correct">Labelled decisions that were right.</param>
/// <param name="Events">Events processed up to the boundary.</param>
/// <param name="WindowOriginUs">Window mode: the time the windows are aligned to (null before the first window).</param>
public sealed record StreamSnapshot(byte[] Model, LabelSegment[] Segments, long ResumeTimeUs, long Decisions, long Labelled, long Correct, long Events, long? WindowOriginUs = null);

/// <summary>
/// The work of one stream grain, without Orleans or NATS: label segments and event packets in
/// publish order become one decision per labelled sample through the model's preprocessing chain
/// and streaming classifier, which learns online from every sample whose class it knows. A stream
/// without labels (none has arrived yet) is decided in fixed windows instead, as serve and classify
/// decide unlabelled streams, without learning; from its first label on, its labels cut it. After
/// a restart from a <see cref="Snapshot"/>, replayed events before <see cref="ResumeTimeUs"/> are
/// skipped and windows keep their grid, so every sample or window is decided once. Not
/// thread-safe (a grain runs one call at a time).
/// </summary>
public sealed class LabelledStreamProcessor : IDisposable
{
    private readonly ClusterModel _model;
    private readonly OnlineSequenceClassifier _classifier;
    private readonly Preprocessor _chain;
    private readonly int _labelBase;
    private readonly List<LabelSegment> _pending = [];
    private readonly WindowedPreprocessor? _windows;
    private LabelCutter _cutter;
    private Action<StreamDecision>? _decided;
    private long _packetTicks;
    private bool _labelled;
    private long _windowEvents;

    /// <summary>
    /// A processor for <paramref name="stream"/> starting from <paramref name="model"/>; label
    /// classes are counted from <paramref name="labelBase"/>; a stream without labels is decided in
    /// windows of <paramref name="windowUs"/> (0: not at all).
    /// </summary>
    public LabelledStreamProcessor(string stream, ClusterModel model, int labelBase = 1, long windowUs = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegative(windowUs);
        Stream = ClusterNames.Checked(stream);
        _model = model;
        _labelBase = labelBase;
        _classifier = model.CreateClassifier();
        _chain = new Preprocessor(model.Preprocessing, OnStep);
        _cutter = new LabelCutter([]);
        if (windowUs > 0)
        {
            _windows = new WindowedPreprocessor(model.Preprocessing, windowUs, OnWindowStep);
        }
    }

    /// <summary>True once the stream has labels: its samples are then cut by them.</summary>
    public bool HasLabels => _labelled;

    /// <summary>The sensor stream's name.</summary>
    public string Stream { get; }

    /// <summary>
    /// Events before this time are done with (skipped when replayed): the end of the last decided
    /// sample or window, or later when no undecided label segment covers the events in between.
    /// </summary>
    public long ResumeTimeUs { get; private set; } = long.MinValue;

    /// <summary>Decisions made, labelled (truth known) and correct (counts only; restored with a snapshot).</summary>
    public ClassificationTally Tally { get; } = new(keepOutcomes: false);

    /// <summary>Decisions made.</summary>
    public long Decisions => Tally.Decisions;

    /// <summary>Decisions whose truth was known.</summary>
    public long Labelled => Tally.Labelled;

    /// <summary>Labelled decisions that were right.</summary>
    public long Correct => Tally.Correct;

    /// <summary>Correct / labelled (0 before the first labelled decision).</summary>
    public double Accuracy => Tally.Accuracy;

    /// <summary>Events processed (those of decided samples and the gaps between them).</summary>
    public long Events { get; private set; }

    /// <summary>Replayed events skipped because they came before <see cref="ResumeTimeUs"/>.</summary>
    public long Skipped { get; private set; }

    /// <summary>Online updates of the classifier.</summary>
    public long Updates => _classifier.Updates;

    /// <summary>Class names (index = class).</summary>
    public IReadOnlyList<string> ClassNames => _model.ClassNames;

    /// <summary>
    /// Adds label segments (class, start, end); they must arrive before the events they cover.
    /// Segments already known or already decided are ignored (a replay repeats them).
    /// </summary>
    public void AddLabels(IEnumerable<LabelSegment> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var fresh = new List<LabelSegment>();
        foreach (LabelSegment s in segments)
        {
            _labelled = true;

            // a replayed label message repeats segments already known or decided
            if (s.EndUs > ResumeTimeUs && !_pending.Contains(s))
            {
                fresh.Add(s);
                _pending.Add(s);
            }
        }

        _cutter.AddSegments(fresh);
    }

    /// <summary>Processes events in time order; <paramref name="decided"/> receives every sample decided.</summary>
    public void Process(EventBatch batch, Action<StreamDecision> decided)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(decided);
        _decided = decided;
        _packetTicks = Stopwatch.GetTimestamp();
        int start = 0;
        long[] t = batch.T;
        while (start < batch.Count && t[start] < ResumeTimeUs)
        {
            start++;
        }

        Skipped += start;
        if (start == batch.Count)
        {
            return;
        }

        if (!_labelled && _windows is not null)
        {
            _windows.Push(batch.T.AsSpan(start, batch.Count - start), batch.X.AsSpan(start, batch.Count - start), batch.Y.AsSpan(start, batch.Count - start), batch.P.AsSpan(start, batch.Count - start));
        }
        else
        {
            if (start == 0)
            {
                _cutter.Push(batch, OnSample);
            }
            else
            {
                using var rest = new EventBatch(batch.Count - start);
                rest.Append(batch, start, batch.Count - start);
                _cutter.Push(rest, OnSample);
            }

            // events that no undecided segment covers are done with too (a long unlabelled stretch
            // must not hold the resume point back): up to the earliest undecided segment's start
            long earliest = long.MaxValue;
            foreach (LabelSegment s in _pending)
            {
                earliest = Math.Min(earliest, s.StartUs);
            }

            ResumeTimeUs = Math.Max(ResumeTimeUs, Math.Min(earliest, t[batch.Count - 1] + 1));
        }

        Events += batch.Count - start;
    }

    /// <summary>The stream ended: decides the open window, or the labelled samples that had started.</summary>
    public void Complete(Action<StreamDecision> decided)
    {
        ArgumentNullException.ThrowIfNull(decided);
        _decided = decided;
        _packetTicks = Stopwatch.GetTimestamp();
        _windows?.Flush();
        _cutter.Complete(OnSample);
    }

    /// <summary>The state to resume from (call between <see cref="Process"/> calls).</summary>
    public StreamSnapshot Snapshot()
    {
        byte[] model = [];
        if (Decisions > 0)
        {
            string path = Path.Combine(Path.GetTempPath(), $"eventsnn-{Stream}-{Environment.ProcessId}-{Guid.NewGuid():N}.ckpt");
            try
            {
                _classifier.Save(path);
                model = File.ReadAllBytes(path);
            }
            finally
            {
                File.Delete(path);
            }
        }

        return new StreamSnapshot(model, [.. _pending], ResumeTimeUs, Decisions, Labelled, Correct, Events, _windows?.OriginUs);
    }

    /// <summary>Continues from <paramref name="snapshot"/> (a fresh processor only).</summary>
    public void Restore(StreamSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (Decisions != 0 || Events != 0)
        {
            throw new InvalidOperationException("restore a snapshot into a fresh processor");
        }

        if (snapshot.Model.Length > 0)
        {
            string path = Path.Combine(Path.GetTempPath(), $"eventsnn-{Stream}-{Environment.ProcessId}-{Guid.NewGuid():N}.ckpt");
            try
            {
                File.WriteAllBytes(path, snapshot.Model);
                _classifier.Load(path);
            }
            finally
            {
                File.Delete(path);
            }
        }

        ResumeTimeUs = snapshot.ResumeTimeUs;
        Tally.Restore(snapshot.Decisions, snapshot.Labelled, snapshot.Correct);
        Events = snapshot.Events;
        _pending.Clear();
        _cutter.Dispose();
        _cutter = new LabelCutter([]);
        AddLabels(snapshot.Segments);
        _labelled |= snapshot.Labelled > 0;
        if (_windows is not null)
        {
            _windows.OriginUs = snapshot.WindowOriginUs;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _cutter.Dispose();

    private void OnSample(LabelledSample sample)
    {
        int truth = sample.Label - _labelBase;
        if (truth < 0 || truth >= _classifier.Options.Classes)
        {
            truth = -1;
        }

        _classifier.BeginSample(truth);
        _chain.BeginSample(sample.StartUs, sample.EndUs);
        _chain.Push(sample.Events);
        _chain.EndSample();
        SampleDecision d = _classifier.EndSample();
        double latency = Stopwatch.GetElapsedTime(_packetTicks).TotalMilliseconds;
        ResumeTimeUs = Math.Max(ResumeTimeUs, sample.EndUs);
        _pending.Remove(new LabelSegment(sample.Label, sample.StartUs, sample.EndUs));
        var decision = new StreamDecision
        {
            TUs = sample.EndUs,
            StartUs = sample.StartUs,
            Stream = Stream,
            Label = StreamDecision.ClassName(_model.ClassNames, d.Label),
            LabelIndex = d.Label,
            Confidence = d.Confidence,
            LatencyMs = latency,
            Truth = truth >= 0 ? StreamDecision.ClassName(_model.ClassNames, truth) : null,
            TruthIndex = truth,
            Index = Decisions,
            Sample = Decisions,
            Steps = d.Steps,
            Events = sample.Events.Count,
        };
        Tally.Add(decision);
        _decided!(decision);
    }

    private void OnStep(BinnedStep step) => _classifier.Step(step.Frame);

    // window mode: each window is a sample without a truth (decided, not learned from)
    private void OnWindowStep(BinnedStep step)
    {
        if (!_classifier.InSample)
        {
            _classifier.BeginSample();
            _windowEvents = 0;
        }

        _classifier.Step(step.Frame);
        _windowEvents += step.EventCount;
        if (!step.EndsSample)
        {
            return;
        }

        SampleDecision d = _classifier.EndSample();
        ResumeTimeUs = Math.Max(ResumeTimeUs, step.SampleEndUs);
        var decision = new StreamDecision
        {
            TUs = step.SampleEndUs,
            StartUs = step.SampleStartUs,
            Stream = Stream,
            Label = StreamDecision.ClassName(_model.ClassNames, d.Label),
            LabelIndex = d.Label,
            Confidence = d.Confidence,
            LatencyMs = Stopwatch.GetElapsedTime(_packetTicks).TotalMilliseconds,
            Index = Decisions,
            Sample = Decisions,
            Steps = d.Steps,
            Events = _windowEvents,
        };
        Tally.Add(decision);
        _decided!(decision);
    }
}
