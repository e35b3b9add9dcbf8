using System.Reactive.Linq;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>
/// A labelled sample cut from a stream: label, span and a copy of its events. Borrowed: valid
/// only during <c>OnNext</c> (the events live in the cutter's pooled storage).
/// </summary>
public sealed class LabelledSample
{
    internal LabelledSample(EventBuffer buffer) => Buffer = buffer;

    /// <summary>Class label.</summary>
    public int Label { get; internal set; }

    /// <summary>Index of the segment in the label track.</summary>
    public long Index { get; internal set; }

    /// <summary>Span start (us, inclusive).</summary>
    public long StartUs { get; internal set; }

    /// <summary>Span end (us, exclusive).</summary>
    public long EndUs { get; internal set; }

    /// <summary>The sample's events, in stream order.</summary>
    public EventBatch Events => Buffer.Events;

    /// <summary>Events that did not fit the bound and were dropped.</summary>
    public long Overflow => Buffer.Overflow;

    /// <summary>True for a training-time augmented copy (see <see cref="EventPipeline.AugmentCopies"/>).</summary>
    public bool Augmented { get; internal set; }

    internal EventBuffer Buffer { get; }
}

/// <summary>
/// Cuts a stream into labelled samples: every event with <c>StartUs &lt;= t &lt; EndUs</c> of a
/// segment is copied into that segment's sample (segments may overlap). A sample is emitted, in
/// track order of end time, when an event at or after its end arrives, or at the end of the stream
/// if it had started by then. Segments the stream never reached are not emitted.
/// </summary>
public sealed class LabelCutter : IDisposable
{
    private LabelSegment[] _segments;
    private readonly List<(int Segment, LabelledSample Sample)> _active = [];
    private readonly Stack<LabelledSample> _free = new();
    private readonly int _maxEventsPerSample;
    private int _next;
    private long _tMax = long.MinValue;

    /// <summary>Creates a cutter for <paramref name="segments"/> (sorted by start here).</summary>
    public LabelCutter(IEnumerable<LabelSegment> segments, int maxEventsPerSample = 1 << 24)
    {
        ArgumentNullException.ThrowIfNull(segments);
        _segments = [.. segments];
        Array.Sort(_segments, static (a, b) => a.StartUs != b.StartUs ? a.StartUs.CompareTo(b.StartUs) : a.EndUs.CompareTo(b.EndUs));
        _maxEventsPerSample = maxEventsPerSample;
    }

    /// <summary>Samples emitted so far.</summary>
    public long Emitted { get; private set; }

    /// <summary>Segments known (given at construction or added since).</summary>
    public int Segments => _segments.Length;

    /// <summary>
    /// Adds segments to a live track (labels that arrive while the stream runs). They join the
    /// segments the stream has not reached yet, in start order; a segment that starts before the
    /// latest event seen so far opens at the next event and misses the earlier ones. Segment
    /// indices of the samples already emitted or open do not change.
    /// </summary>
    public void AddSegments(IEnumerable<LabelSegment> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        LabelSegment[] added = [.. segments];
        if (added.Length == 0)
        {
            return;
        }

        var all = new LabelSegment[_segments.Length + added.Length];
        _segments.CopyTo(all, 0);
        added.CopyTo(all, _segments.Length);
        Array.Sort(all, _next, all.Length - _next, Comparer<LabelSegment>.Create(static (a, b) => a.StartUs != b.StartUs ? a.StartUs.CompareTo(b.StartUs) : a.EndUs.CompareTo(b.EndUs)));
        _segments = all;
    }

    /// <summary>Events outside every segment.</summary>
    public long Unlabelled { get; private set; }

    /// <summary>Adds a batch; <paramref name="emit"/> receives every sample that ends.</summary>
    public void Push(EventBatch batch, Action<LabelledSample> emit)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(emit);
        long[] t = batch.T;
        int n = batch.Count;
        int i = 0;
        while (i < n)
        {
            long ti = t[i];
            if (ti > _tMax)
            {
                _tMax = ti;
            }

            CloseEnded(ti, emit);
            while (_next < _segments.Length && _segments[_next].StartUs <= ti)
            {
                LabelSegment s = _segments[_next];
                if (s.EndUs > ti)
                {
                    LabelledSample sample = _free.Count > 0 ? _free.Pop() : new LabelledSample(new EventBuffer(4096, _maxEventsPerSample));
                    sample.Buffer.Clear();
                    sample.Label = s.Label;
                    sample.Index = _next;
                    sample.StartUs = s.StartUs;
                    sample.EndUs = s.EndUs;
                    _active.Add((_next, sample));
                }
                else
                {
                    // a segment wholly between two events: emit it empty
                    LabelledSample empty = _free.Count > 0 ? _free.Pop() : new LabelledSample(new EventBuffer(16, _maxEventsPerSample));
                    empty.Buffer.Clear();
                    empty.Label = s.Label;
                    empty.Index = _next;
                    empty.StartUs = s.StartUs;
                    empty.EndUs = s.EndUs;
                    Emit(empty, emit);
                }

                _next++;
            }

            if (_active.Count == 0)
            {
                Unlabelled++;
                i++;
                continue;
            }

            // run of events inside the current set of active segments
            long hi = long.MaxValue, lo = long.MinValue;
            foreach ((int seg, LabelledSample _) in _active)
            {
                hi = Math.Min(hi, _segments[seg].EndUs);
                lo = Math.Max(lo, _segments[seg].StartUs);
            }

            if (_next < _segments.Length)
            {
                hi = Math.Min(hi, _segments[_next].StartUs);
            }

            if (ti < lo)
            {
                foreach ((int seg, LabelledSample sample) in _active)
                {
                    if (_segments[seg].StartUs <= ti)
                    {
                        sample.Buffer.Append(batch, i, 1);
                    }
                }

                i++;
                continue;
            }

            int j = i + 1;
            while (j < n && t[j] >= lo && t[j] < hi)
            {
                if (t[j] > _tMax)
                {
                    _tMax = t[j];
                }

                j++;
            }

            foreach ((int _, LabelledSample sample) in _active)
            {
                sample.Buffer.Append(batch, i, j - i);
            }

            i = j;
        }
    }

    /// <summary>Ends the stream: emits the samples that had started.</summary>
    public void Complete(Action<LabelledSample> emit)
    {
        ArgumentNullException.ThrowIfNull(emit);
        CloseEnded(long.MaxValue, emit);
    }

    /// <summary>Releases the pooled storage.</summary>
    public void Dispose()
    {
        foreach ((int _, LabelledSample s) in _active)
        {
            s.Buffer.Dispose();
        }

        _active.Clear();
        while (_free.Count > 0)
        {
            _free.Pop().Buffer.Dispose();
        }
    }

    private void CloseEnded(long t, Action<LabelledSample> emit)
    {
        while (true)
        {
            int best = -1;
            for (int k = 0; k < _active.Count; k++)
            {
                LabelSegment s = _segments[_active[k].Segment];
                if (s.EndUs <= t && (best < 0 || s.EndUs < _segments[_active[best].Segment].EndUs))
                {
                    best = k;
                }
            }

            if (best < 0)
            {
                return;
            }

            LabelledSample sample = _active[best].Sample;
            _active.RemoveAt(best);
            Emit(sample, emit);
        }
    }

    private void Emit(LabelledSample sample, Action<LabelledSample> emit)
    {
        Emitted++;
        try
        {
            emit(sample);
        }
        finally
        {
            _free.Push(sample);
        }
    }
}

public static partial class EventPipeline
{
    /// <summary>Cuts the stream into labelled samples by <paramref name="segments"/> (see <see cref="LabelCutter"/>).</summary>
    public static IObservable<LabelledSample> CutByLabels(this IObservable<EventBatch> source, IReadOnlyCollection<LabelSegment> segments, int maxEventsPerSample = 1 << 24)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(segments);
        return Observable.Create<LabelledSample>(observer => new CutSink(observer, new LabelCutter(segments, maxEventsPerSample)).Run(source));
    }

    private sealed class CutSink : OperatorSink<EventBatch, LabelledSample>
    {
        private readonly LabelCutter _cutter;
        private readonly Action<LabelledSample> _emit;

        public CutSink(IObserver<LabelledSample> downstream, LabelCutter cutter)
            : base(downstream)
        {
            _cutter = cutter;
            _emit = downstream.OnNext;
        }

        protected override void OnNextCore(EventBatch value) => _cutter.Push(value, _emit);

        protected override void OnCompletedCore() => _cutter.Complete(_emit);

        protected override void ReleaseResources() => _cutter.Dispose();
    }
}
