namespace EventSnn.Pipeline;

/// <summary>
/// The event-time window state machine shared by the DVS and spike binners (see
/// <see cref="TimeWindowOptions"/> for the semantics). Events are handed over as runs of
/// consecutive indices that belong to the same set of open windows, so accumulation is a tight
/// loop per run. Steps are owned here and lent to the emit callback.
/// </summary>
internal sealed class TimeWindowCore
{
    private readonly TimeWindowOptions _options;
    private readonly TimeStepOptions _stepOptions;
    private readonly Action<TimeStep, int, int> _accumulate;
    private readonly long _window;
    private readonly long _stride;
    private readonly TimeStep[] _open;
    private readonly Stack<TimeStep> _free = new();
    private int _openHead;
    private int _openCount;
    private bool _started;
    private long _origin;
    private long _nextStart;
    private long _nextIndex;
    private long _tMax = long.MinValue;
    private bool _anyEvent;
    private Action<TimeStep>? _emit;

    public TimeWindowCore(TimeWindowOptions options, TimeStepOptions stepOptions, Action<TimeStep, int, int> accumulate)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stepOptions);
        options.Validate();
        _options = options;
        _stepOptions = stepOptions;
        _accumulate = accumulate;
        _window = options.WindowUs;
        _stride = options.EffectiveStrideUs;
        _open = new TimeStep[(int)Math.Min(1 + ((_window + _stride - 1) / _stride), 1 << 16)];
    }

    public long Emitted { get; private set; }

    public long LateEvents { get; private set; }

    public long SkippedWindows { get; private set; }

    public void Push(ReadOnlySpan<long> t, Action<TimeStep> emit)
    {
        _emit = emit;
        int n = t.Length;
        int i = 0;
        while (i < n)
        {
            long ti = t[i];
            if (!_started)
            {
                _origin = _options.StartUs ?? ti;
                _nextStart = _origin;
                _started = true;
            }

            if (ti < _origin)
            {
                LateEvents++;
                i++;
                continue;
            }

            long hi = _openCount > 0 ? Math.Min(Oldest.EndUs, _nextStart) : _nextStart;
            if (ti >= hi)
            {
                Advance(ti);
                hi = Math.Min(Oldest.EndUs, _nextStart);
            }

            if (_openCount == 0)
            {
                LateEvents++;
                i++;
                continue;
            }

            long lo = Newest.StartUs;
            if (ti < lo)
            {
                AddLate(ti, i);
                i++;
                continue;
            }

            // run of events inside every open window
            int j = i + 1;
            long max = ti;
            while (j < n)
            {
                long tj = t[j];
                if (tj < lo || tj >= hi)
                {
                    break;
                }

                if (tj > max)
                {
                    max = tj;
                }

                j++;
            }

            if (max > _tMax)
            {
                _tMax = max;
            }

            _anyEvent = true;
            for (int w = 0; w < _openCount; w++)
            {
                _accumulate(_open[(_openHead + w) % _open.Length], i, j - i);
            }

            i = j;
        }
    }

    public void Complete(Action<TimeStep> emit)
    {
        _emit = emit;
        if (!_anyEvent)
        {
            return;
        }

        long limit = _tMax + _stride;
        while (_openCount > 0)
        {
            TimeStep step = Dequeue();
            bool include = (_options.IncludeIncomplete && step.EndUs < limit) || Emitted == 0;
            if (include)
            {
                step.IsComplete = false;
                Emit(step);
            }
            else
            {
                _free.Push(step);
            }
        }
    }

    private TimeStep Oldest => _open[_openHead];

    private TimeStep Newest => _open[(_openHead + _openCount - 1) % _open.Length];

    private void AddLate(long ti, int i)
    {
        if (_openCount == 0 || ti < Oldest.StartUs)
        {
            LateEvents++;
            return;
        }

        _anyEvent = true;
        for (int w = 0; w < _openCount; w++)
        {
            TimeStep step = _open[(_openHead + w) % _open.Length];
            if (step.StartUs <= ti)
            {
                _accumulate(step, i, 1);
            }
        }
    }

    private void Advance(long ti)
    {
        while (_openCount > 0 && Oldest.EndUs <= ti)
        {
            Emit(Dequeue());
        }

        while (_nextStart <= ti)
        {
            long end = _nextStart + _window;
            if (end <= ti)
            {
                // windows wholly before ti: empty and complete
                long empties = ((ti - end) / _stride) + 1;
                if (empties > _options.MaxEmptyWindowsPerGap)
                {
                    SkippedWindows += empties;
                    _nextStart += empties * _stride;
                    _nextIndex += empties;
                    continue;
                }

                TimeStep empty = Rent(_nextIndex, _nextStart, end);
                Emit(empty);
            }
            else
            {
                _open[(_openHead + _openCount) % _open.Length] = Rent(_nextIndex, _nextStart, end);
                _openCount++;
            }

            _nextStart += _stride;
            _nextIndex++;
        }
    }

    private TimeStep Dequeue()
    {
        TimeStep step = _open[_openHead];
        _open[_openHead] = null!;
        _openHead = (_openHead + 1) % _open.Length;
        _openCount--;
        return step;
    }

    private TimeStep Rent(long index, long start, long end)
    {
        TimeStep step = _free.Count > 0 ? _free.Pop() : new TimeStep(_stepOptions, null, borrowed: true);
        step.Reset(index, start, end);
        return step;
    }

    private void Emit(TimeStep step)
    {
        Emitted++;
        try
        {
            _emit!(step);
        }
        finally
        {
            _free.Push(step);
        }
    }

    public void Release()
    {
        while (_free.Count > 0)
        {
            _free.Pop().Release();
        }

        while (_openCount > 0)
        {
            Dequeue().Release();
        }
    }
}
