namespace EventSnn.Pipeline;

/// <summary>
/// The event-count window state machine (see <see cref="CountWindowOptions"/>). Runs of events
/// that neither open nor fill a window are accumulated into every open window at once.
/// </summary>
internal sealed class CountWindowCore
{
    private readonly CountWindowOptions _options;
    private readonly TimeStepOptions _stepOptions;
    private readonly Action<TimeStep, int, int> _accumulate;
    private readonly int _count;
    private readonly int _stride;
    private readonly TimeStep[] _open;
    private readonly long[] _startIndex;
    private readonly int[] _remaining;
    private readonly Stack<TimeStep> _free = new();
    private int _openHead;
    private int _openCount;
    private long _n;
    private long _nextStartIndex;
    private long _nextWindow;
    private Action<TimeStep>? _emit;

    public CountWindowCore(CountWindowOptions options, TimeStepOptions stepOptions, Action<TimeStep, int, int> accumulate)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stepOptions);
        options.Validate();
        _options = options;
        _stepOptions = stepOptions;
        _accumulate = accumulate;
        _count = options.EventCount;
        _stride = options.EventCount - options.Overlap;
        int slots = Math.Min(((_count + _stride - 1) / _stride) + 1, 1 << 16);
        _open = new TimeStep[slots];
        _startIndex = new long[slots];
        _remaining = new int[slots];
    }

    public long Emitted { get; private set; }

    public void Push(ReadOnlySpan<long> t, Action<TimeStep> emit)
    {
        _emit = emit;
        int n = t.Length;
        int i = 0;
        while (i < n)
        {
            if (_n == _nextStartIndex)
            {
                int slot = (_openHead + _openCount) % _open.Length;
                TimeStep step = _free.Count > 0 ? _free.Pop() : new TimeStep(_stepOptions, null, borrowed: true);
                step.Reset(_nextWindow++, t[i], t[i] + 1);
                _open[slot] = step;
                _startIndex[slot] = _n;
                _remaining[slot] = _count;
                _openCount++;
                _nextStartIndex += _stride;
            }

            long run = Math.Min(n - i, _remaining[_openHead]);
            run = Math.Min(run, _nextStartIndex - _n);
            int len = (int)run;
            long last = t[i];
            for (int k = i + 1; k < i + len; k++)
            {
                if (t[k] > last)
                {
                    last = t[k];
                }
            }

            for (int w = 0; w < _openCount; w++)
            {
                int slot = (_openHead + w) % _open.Length;
                TimeStep step = _open[slot];
                _accumulate(step, i, len);
                _remaining[slot] -= len;
                if (last + 1 > step.EndUs)
                {
                    step.EndUs = last + 1;
                }
            }

            _n += len;
            i += len;
            while (_openCount > 0 && _remaining[_openHead] == 0)
            {
                Emit(Dequeue(), complete: true);
            }
        }
    }

    public void Complete(Action<TimeStep> emit)
    {
        _emit = emit;
        if (_n == 0)
        {
            return;
        }

        while (_openCount > 0)
        {
            long start = _startIndex[_openHead];
            TimeStep step = Dequeue();
            bool include = _n < _count
                ? Emitted == 0
                : _options.IncludeIncomplete && start < _n - _count + _stride;
            if (include)
            {
                Emit(step, complete: false);
            }
            else
            {
                _free.Push(step);
            }
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

    private TimeStep Dequeue()
    {
        TimeStep step = _open[_openHead];
        _open[_openHead] = null!;
        _openHead = (_openHead + 1) % _open.Length;
        _openCount--;
        return step;
    }

    private void Emit(TimeStep step, bool complete)
    {
        step.IsComplete = complete;
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
}
