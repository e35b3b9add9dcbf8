using System.Reactive.Linq;
using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Pipeline;

/// <summary>How a whole segment (a labelled sample, or a finite stream) is cut into a fixed number of bins.</summary>
public enum SegmentBinKind
{
    /// <summary>Tonic's SliceByTimeBins: window = (t_last - t_first) // n x (1 + overlap), stride = window x (1 - overlap).</summary>
    TimeBins = 0,

    /// <summary>Tonic's SliceByEventBins: count = n_events // n x (1 + overlap), stride = count x (1 - overlap).</summary>
    EventBins = 1,
}

/// <summary>N bins per segment (Tonic's ToFrame with n_time_bins / n_event_bins).</summary>
public sealed record SegmentBinning
{
    /// <summary>Number of bins per segment.</summary>
    public required int BinCount { get; init; }

    /// <summary>Time or event bins.</summary>
    public SegmentBinKind Kind { get; init; } = SegmentBinKind.TimeBins;

    /// <summary>Overlap as a fraction of a bin, in [0, 1).</summary>
    public double Overlap { get; init; }

    /// <summary>
    /// Cuts the events of one segment (sorted by time) into <see cref="BinCount"/> steps with
    /// Tonic's semantics and hands each to <paramref name="emit"/> (borrowed: <paramref name="scratch"/>
    /// is reused for every bin). Steps get <see cref="TimeStep.Index"/> = bin number.
    /// </summary>
    public void Bin(EventBatch segment, TimeStep scratch, Action<TimeStep> emit)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(scratch);
        ArgumentNullException.ThrowIfNull(emit);
        if (BinCount <= 0)
        {
            throw new InvalidOperationException("bin count must be positive");
        }

        if (Overlap < 0 || Overlap >= 1)
        {
            throw new InvalidOperationException("overlap must be in [0, 1)");
        }

        int label = scratch.Label;
        long sample = scratch.Sample;
        ReadOnlySpan<long> t = segment.Timestamps;

        // the slices are Tonic's, computed by the one transcription of its slicers (EventSnn.Transforms)
        FrameSlicing slicing = Kind == SegmentBinKind.TimeBins ? FrameSlicing.ByTimeBins(BinCount, Overlap) : FrameSlicing.ByEventBins(BinCount, Overlap);
        for (int k = 0; k < BinCount; k++)
        {
            (int i0, int i1) = slicing.Slice(t, k);
            if (Kind == SegmentBinKind.TimeBins)
            {
                (double start, double end) = slicing.TimeWindow(t, k);
                scratch.Reset(k, (long)Math.Floor(start), (long)Math.Ceiling(end));
            }
            else
            {
                scratch.Reset(k, i1 > i0 ? t[i0] : 0, i1 > i0 ? t[i1 - 1] + 1 : 0);
            }

            Fill(segment, scratch, i0, i1, label, sample);
            scratch.EndsSample = k == BinCount - 1;
            emit(scratch);
        }
    }

    private static void Fill(EventBatch segment, TimeStep step, int i0, int i1, int label, long sample)
    {
        step.Label = label;
        step.Sample = sample;
        if (i1 > i0)
        {
            step.AddEvents(segment, i0, i1 - i0);
        }
    }
}

public static partial class EventPipeline
{
    /// <summary>
    /// Treats the whole (finite) stream as one segment: buffers its events (bounded by
    /// <paramref name="maxEvents"/>; the excess is dropped) and, when it completes, emits
    /// <c>binning.BinCount</c> steps with Tonic's n-bins semantics. Steps are borrowed.
    /// </summary>
    public static IObservable<TimeStep> BinSegment(this IObservable<EventBatch> source, SegmentBinning binning, TimeStepOptions steps, int maxEvents = 1 << 24)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(binning);
        ArgumentNullException.ThrowIfNull(steps);
        return Observable.Create<TimeStep>(observer => new SegmentSink(observer, binning, steps, maxEvents).Run(source));
    }

    /// <summary>Bins every labelled sample into <c>binning.BinCount</c> steps carrying its label and sample index.</summary>
    public static IObservable<TimeStep> BinSamples(this IObservable<LabelledSample> source, SegmentBinning binning, TimeStepOptions steps)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(binning);
        ArgumentNullException.ThrowIfNull(steps);
        return Observable.Create<TimeStep>(observer => new SampleSink(observer, binning, steps).Run(source));
    }

    private sealed class SegmentSink : OperatorSink<EventBatch, TimeStep>
    {
        private readonly SegmentBinning _binning;
        private readonly EventBuffer _buffer;
        private readonly TimeStep _scratch;

        public SegmentSink(IObserver<TimeStep> downstream, SegmentBinning binning, TimeStepOptions steps, int maxEvents)
            : base(downstream)
        {
            _binning = binning;
            _buffer = new EventBuffer(4096, maxEvents);
            _scratch = new TimeStep(steps, null, borrowed: true);
        }

        protected override void OnNextCore(EventBatch value) => _buffer.Append(value, 0, value.Count);

        protected override void OnCompletedCore()
        {
            if (_buffer.Count > 0)
            {
                _binning.Bin(_buffer.Events, _scratch, Downstream.OnNext);
            }
        }

        protected override void ReleaseResources()
        {
            _buffer.Dispose();
            _scratch.Release();
        }
    }

    private sealed class SampleSink : OperatorSink<LabelledSample, TimeStep>
    {
        private readonly SegmentBinning _binning;
        private readonly TimeStep _scratch;

        public SampleSink(IObserver<TimeStep> downstream, SegmentBinning binning, TimeStepOptions steps)
            : base(downstream)
        {
            _binning = binning;
            _scratch = new TimeStep(steps, null, borrowed: true);
        }

        protected override void OnNextCore(LabelledSample value)
        {
            _scratch.Label = value.Label;
            _scratch.Sample = value.Index;
            _binning.Bin(value.Events, _scratch, Downstream.OnNext);
        }

        protected override void ReleaseResources() => _scratch.Release();
    }
}
