namespace EventSnn.Transforms;

/// <summary>
/// The stateful part of the chain: cuts one sample at a time into steps (one subclass per
/// <see cref="BinningKind"/>), applies <see cref="Preprocessing.MaxSteps"/> and
/// <see cref="Preprocessing.Pad"/>, and emits every step through the value function as soon as it
/// is complete. The last step of a sample carries <see cref="BinnedStep.EndsSample"/>: when the
/// number of steps is known in advance every step is emitted at once; otherwise the most recent
/// step is held until the next one closes or the sample ends.
/// </summary>
internal abstract class SampleBinner
{
    private readonly Action<BinnedStep> _emit;
    private readonly BinnedStep _step;
    private readonly ValueFunction _value;
    private int? _knownTotal;
    private bool _pending;
    private long _lastEndUs;

    protected SampleBinner(Preprocessing preprocessing, Action<BinnedStep> emit)
    {
        Accumulator = new StepAccumulator(preprocessing.Features);
        _step = new BinnedStep(preprocessing.Features);
        _value = new ValueFunction(preprocessing.Value, preprocessing.PoolArea);
        MaxSteps = preprocessing.MaxSteps;
        Pad = preprocessing.Pad;
        MaxGapSteps = preprocessing.MaxGapSteps;
        _emit = emit;
    }

    /// <summary>Events after the sample's last allowed step (max steps), dropped.</summary>
    public long Truncated { get; protected set; }

    /// <summary>Events before the open step (out of order or before the sample's start), counted into the open step.</summary>
    public long Late { get; protected set; }

    /// <summary>Events at or after the sample's known end, dropped.</summary>
    public long Outside { get; protected set; }

    /// <summary>Empty steps of long gaps not emitted (<see cref="Preprocessing.MaxGapSteps"/>).</summary>
    public long SkippedSteps { get; protected set; }

    /// <summary>Events binned.</summary>
    public long Events => Accumulator.TotalEvents;

    /// <summary>True between <see cref="Begin"/> and <see cref="Finish"/>.</summary>
    public bool InSample { get; private set; }

    protected StepAccumulator Accumulator { get; }

    protected int MaxSteps { get; }

    protected bool Pad { get; }

    protected int MaxGapSteps { get; }

    /// <summary>Start of the sample (the first event's time when it was not given).</summary>
    protected long Start { get; private set; }

    protected bool StartKnown { get; private set; }

    /// <summary>End of the sample; <see cref="long.MaxValue"/> while unknown.</summary>
    protected long End { get; private set; }

    protected bool EndKnown => End != long.MaxValue;

    /// <summary>Steps closed so far in this sample (the index of the next one).</summary>
    protected int Emitted { get; private set; }

    /// <summary>No further step may be emitted (max steps reached).</summary>
    protected bool Full => MaxSteps > 0 && Emitted >= MaxSteps;

    /// <summary>Starts sample number <paramref name="sample"/> over [start, end) (null: the first event / unknown).</summary>
    public void Begin(long? startUs, long? endUs, long sample)
    {
        if (startUs is long s && endUs is long e && e < s)
        {
            throw new ArgumentException($"sample end {e} is before its start {s}", nameof(endUs));
        }

        Start = startUs ?? 0;
        StartKnown = startUs.HasValue;
        End = endUs ?? long.MaxValue;
        Emitted = 0;
        _pending = false;
        _lastEndUs = Start;
        Accumulator.Clear();
        _step.Sample = sample;
        _step.SampleStartUs = Start;
        _step.SampleEndUs = End;
        OnBegin();
        UpdateKnownTotal();
        InSample = true;
    }

    /// <summary>Adds mapped events (feature -1 = dropped, skipped).</summary>
    public abstract void Add(ReadOnlySpan<long> t, ReadOnlySpan<int> features);

    /// <summary>Ends the sample: closes its remaining steps, pads, and emits the last step.</summary>
    public void Finish()
    {
        OnFinish();
        while (Pad && Emitted < MaxSteps)
        {
            (long s, long e) = EmptyStepSpan(Emitted);
            CloseStep(s, e);
        }

        if (Emitted == 0)
        {
            (long s, long e) = EmptyStepSpan(0);
            CloseStep(s, e);
        }

        if (_pending)
        {
            _step.EndsSample = true;
            Emit();
        }

        InSample = false;
    }

    protected virtual void OnBegin()
    {
    }

    protected abstract void OnFinish();

    /// <summary>Steps the binning gives the sample when known in advance (before max steps and padding).</summary>
    protected abstract int? NaturalSteps();

    /// <summary>The span of an empty step at <paramref name="index"/> (padding; default: zero length at the last step's end).</summary>
    protected virtual (long StartUs, long EndUs) EmptyStepSpan(int index) => (_lastEndUs, _lastEndUs);

    /// <summary>Sets the start once it is known (the first event's time).</summary>
    protected void SetStart(long startUs)
    {
        Start = startUs;
        StartKnown = true;
        _lastEndUs = startUs;
        _step.SampleStartUs = startUs;
        UpdateKnownTotal();
    }

    /// <summary>Sets the end once it is known (after the last event).</summary>
    protected void SetEnd(long endUs)
    {
        End = endUs;
        UpdateKnownTotal();
    }

    /// <summary>Closes the open step over [startUs, endUs) and emits it (or drops it when max steps is reached).</summary>
    protected void CloseStep(long startUs, long endUs)
    {
        if (Full)
        {
            Truncated += Accumulator.Events;
            Accumulator.Clear();
            return;
        }

        if (_pending)
        {
            _step.EndsSample = false;
            Emit();
        }

        _step.Load(Accumulator.Active, Accumulator.Counts, _value);
        _step.Index = Emitted;
        _step.StartUs = startUs;
        _step.EndUs = endUs;
        _step.EventCount = Accumulator.Events;
        Accumulator.Clear();
        _lastEndUs = endUs;
        bool last = (_knownTotal is int total && Emitted == total - 1) || (MaxSteps > 0 && Emitted == MaxSteps - 1);
        Emitted++;
        if (last || _knownTotal is not null)
        {
            _step.EndsSample = last;
            Emit();
        }
        else
        {
            _pending = true;
        }
    }

    private void Emit()
    {
        _pending = false;
        _emit(_step);
        _step.Clear();
    }

    private void UpdateKnownTotal()
    {
        if (Pad)
        {
            _knownTotal = MaxSteps;
            return;
        }

        _knownTotal = NaturalSteps() is int n ? Math.Max(1, MaxSteps > 0 ? Math.Min(n, MaxSteps) : n) : null;
    }
}
