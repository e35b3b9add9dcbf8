using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>What the replay needs from a batch type and its reader.</summary>
internal abstract class ReplayAdapter<TBatch>
    where TBatch : class, IDisposable
{
    public abstract string SourceName { get; }

    public abstract long Position { get; }

    public abstract void Open();

    public abstract void CloseReader();

    public abstract bool Read(TBatch batch);

    public abstract TBatch Create(int capacity);

    public abstract long[] Times(TBatch batch);

    public abstract int Count(TBatch batch);

    public abstract void Clear(TBatch batch);

    /// <summary>Copies [start, start + count) of <paramref name="source"/> to the end of <paramref name="target"/>; triggers too when <paramref name="withTriggers"/>.</summary>
    public abstract void Append(TBatch source, int start, int count, TBatch target, bool withTriggers);
}

/// <summary>The reader lifecycle shared by the replay adapters: opened by a factory, named after it, closed on demand.</summary>
internal abstract class ReaderReplayAdapter<TBatch, TReader>(Func<TReader> open) : ReplayAdapter<TBatch>
    where TBatch : class, IDisposable
    where TReader : class, IEventReader
{
    private string _name = "<replay>";

    public override string SourceName => Reader?.SourceName ?? _name;

    public override long Position => Reader?.Position ?? 0;

    /// <summary>The open reader (null before <see cref="Open"/> and after <see cref="CloseReader"/>).</summary>
    protected TReader? Reader { get; private set; }

    public override void Open()
    {
        Reader = open() ?? throw new InvalidOperationException("the reader factory returned null");
        _name = Reader.SourceName;
    }

    public override void CloseReader()
    {
        Reader?.Dispose();
        Reader = null;
    }
}

internal sealed class DvsReplayAdapter(Func<IDvsEventReader> open) : ReaderReplayAdapter<EventBatch, IDvsEventReader>(open)
{
    public override bool Read(EventBatch batch) => Reader!.Read(batch);

    public override EventBatch Create(int capacity) => new(capacity);

    public override long[] Times(EventBatch batch) => batch.T;

    public override int Count(EventBatch batch) => batch.Count;

    public override void Clear(EventBatch batch) => batch.Clear();

    public override void Append(EventBatch source, int start, int count, EventBatch target, bool withTriggers)
    {
        target.Append(source, start, count);
        if (withTriggers)
        {
            foreach (TriggerEvent trigger in source.Triggers.Items)
            {
                target.Triggers.Add(trigger);
            }
        }
    }
}

internal sealed class SpikeReplayAdapter(Func<ISpikeReader> open) : ReaderReplayAdapter<SpikeBatch, ISpikeReader>(open)
{
    public override bool Read(SpikeBatch batch) => Reader!.Read(batch);

    public override SpikeBatch Create(int capacity) => new(capacity);

    public override long[] Times(SpikeBatch batch) => batch.T;

    public override int Count(SpikeBatch batch) => batch.Count;

    public override void Clear(SpikeBatch batch) => batch.Clear();

    public override void Append(SpikeBatch source, int start, int count, SpikeBatch target, bool withTriggers)
    {
        for (int i = start; i < start + count; i++)
        {
            target.Add(source.T[i], source.Channel[i], source.Ear[i], source.Neuron[i], source.P[i] != 0);
        }
    }
}

/// <summary>
/// One subscription of a replay: reads batches from a reader (re-opened per pass when looping)
/// and emits them on the scheduler, as fast as possible or paced by event time. The emitted
/// batch is owned by the run and valid only during OnNext.
/// </summary>
internal sealed class ReplayRun<TBatch> : IDisposable
    where TBatch : class, IDisposable
{
    private readonly ReplayAdapter<TBatch> _adapter;
    private readonly ReplayOptions _options;
    private readonly IScheduler _scheduler;
    private readonly IObserver<TBatch> _observer;
    private readonly Lock _gate = new();
    private IDisposable? _start;
    private IDisposable? _fast;
    private IDisposable? _timer;
    private long _timerSeq;
    private long _chunkSeq;
    private readonly double _speed;
    private TBatch? _input;
    private TBatch? _output;
    private int _inputPos;
    private int _pass;
    private long _shift;
    private long _passFirst = long.MinValue;
    private long _passLast;
    private long _period = -1;
    private long _passEvents;
    private long _origin = long.MinValue;
    private DateTimeOffset _wallStart;
    private volatile bool _stopped;
    private int _running;
    private int _released;

    public ReplayRun(ReplayAdapter<TBatch> adapter, ReplayOptions options, IScheduler scheduler, IObserver<TBatch> observer)
    {
        options.Validate();
        _adapter = adapter;
        _options = options;
        _scheduler = scheduler;
        _observer = observer;
        _speed = options.EffectiveSpeed;
    }

    public IDisposable Start()
    {
        if (_speed == 0)
        {
            ISchedulerLongRunning? longRunning = _scheduler.AsLongRunning();
            _fast = longRunning is not null
                ? longRunning.ScheduleLongRunning(this, static (run, cancel) => run.RunFast(cancel))
                : _scheduler.Schedule(this, static (_, run) =>
                {
                    run.RunFast(null);
                    return Disposable.Empty;
                });
        }
        else
        {
            _start = _scheduler.Schedule(this, static (scheduler, run) => run.StartPaced(scheduler));
        }

        return this;
    }

    public void Dispose()
    {
        _stopped = true;
        Interlocked.MemoryBarrier();
        _start?.Dispose();
        _fast?.Dispose();
        IDisposable? timer;
        lock (_gate)
        {
            timer = _timer;
            _timer = null;
        }

        timer?.Dispose();
        if (Volatile.Read(ref _running) == 0)
        {
            Release(); // nothing in flight: close the reader now rather than at the next scheduled action
        }
    }

    /// <summary>
    /// Marks a scheduled action as running; false when the run was stopped (then resources are
    /// released). A count, not a flag: when pacing falls behind, the next chunk's action can start
    /// on another thread before the action that scheduled it has left.
    /// </summary>
    private bool Enter()
    {
        Interlocked.Increment(ref _running);
        if (_stopped)
        {
            Exit();
            return false;
        }

        return true;
    }

    private void Exit()
    {
        if (Interlocked.Decrement(ref _running) == 0 && _stopped)
        {
            Release();
        }
    }

    private void RunFast(ICancelable? cancel)
    {
        if (!Enter())
        {
            return;
        }

        try
        {
            _adapter.Open();
            _input = _adapter.Create(_options.BatchCapacity);
            while (!_stopped && cancel?.IsDisposed != true)
            {
                if (!ReadNext())
                {
                    Finish();
                    return;
                }

                _inputPos = _adapter.Count(_input);
                _observer.OnNext(_input);
            }
        }
        catch (Exception ex)
        {
            Fail(ex);
            return;
        }
        finally
        {
            Exit();
        }

        Release();
    }

    private IDisposable StartPaced(IScheduler scheduler)
    {
        if (!Enter())
        {
            return Disposable.Empty;
        }

        try
        {
            _adapter.Open();
            _input = _adapter.Create(_options.BatchCapacity);
            _output = _adapter.Create(_options.BatchCapacity);
            _wallStart = scheduler.Now;
            return ScheduleNextChunk(scheduler);
        }
        catch (Exception ex)
        {
            Fail(ex);
            return Disposable.Empty;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Cuts the next chunk into <see cref="_output"/> and schedules its emission when its last event is due.</summary>
    private IDisposable ScheduleNextChunk(IScheduler scheduler)
    {
        if (_stopped)
        {
            Release();
            return Disposable.Empty;
        }

        TBatch input = _input!;
        if (_inputPos >= _adapter.Count(input))
        {
            if (!ReadNext())
            {
                Finish();
                return Disposable.Empty;
            }

            _inputPos = 0;
        }

        long[] t = _adapter.Times(input);
        int n = _adapter.Count(input);
        int start = _inputPos;
        long limit = t[start] + _options.SliceUs;
        int end = start + 1;
        while (end < n && t[end] < limit && t[end] >= t[start])
        {
            end++;
        }

        TBatch output = _output!;
        _adapter.Clear(output);
        _adapter.Append(input, start, end - start, output, withTriggers: start == 0);
        _inputPos = end;
        long last = t[end - 1];
        if (_origin == long.MinValue)
        {
            _origin = t[start];
        }

        long offsetTicks = (long)(Math.Max(0, last - _origin) * 10.0 / _speed);
        DateTimeOffset due = _wallStart.AddTicks(offsetTicks);
        long seq = ++_chunkSeq; // chunks are scheduled one after the other, never concurrently
        IDisposable timer = scheduler.Schedule(this, due, static (sched, run) =>
        {
            if (!run.Enter())
            {
                return Disposable.Empty;
            }

            try
            {
                run._observer.OnNext(run._output!);
                return run.ScheduleNextChunk(sched);
            }
            catch (Exception ex)
            {
                run.Fail(ex);
                return Disposable.Empty;
            }
            finally
            {
                run.Exit();
            }
        });
        Track(seq, timer);
        return Disposable.Empty;
    }

    /// <summary>
    /// Records <paramref name="timer"/> (chunk <paramref name="seq"/>) as the one to cancel on
    /// dispose. When the replay is behind, the chunk's action may already have run on another
    /// thread and recorded the timer of a later chunk: the older handle must then not replace it
    /// (replacing, and disposing, the newer timer would cancel the replay without completing it:
    /// the subscriber would wait forever). The executed timers are not disposed: their actions
    /// return <see cref="Disposable.Empty"/>, so no chain of completed timers builds up.
    /// </summary>
    private void Track(long seq, IDisposable timer)
    {
        lock (_gate)
        {
            if (!_stopped)
            {
                if (seq > _timerSeq)
                {
                    _timer = timer;
                    _timerSeq = seq;
                }

                return;
            }
        }

        timer.Dispose();
    }

    /// <summary>Reads the next non-empty batch into <see cref="_input"/>, re-opening for the next pass when looping. Applies the pass shift.</summary>
    private bool ReadNext()
    {
        TBatch input = _input!;
        while (true)
        {
            bool got;
            try
            {
                got = _adapter.Read(input);
            }
            catch (Exception ex)
            {
                throw PipelineException.Wrap(ex, _adapter.SourceName, _adapter.Position);
            }

            if (got && _adapter.Count(input) > 0)
            {
                long[] t = _adapter.Times(input);
                int n = _adapter.Count(input);
                if (_pass == 0)
                {
                    if (_passFirst == long.MinValue)
                    {
                        _passFirst = t[0];
                    }

                    _passLast = t[n - 1];
                }

                if (_shift != 0)
                {
                    for (int i = 0; i < n; i++)
                    {
                        t[i] += _shift;
                    }
                }

                _passEvents += n;
                return true;
            }

            if (got)
            {
                continue; // triggers only, or an empty packet
            }

            // end of this pass
            if (!_options.Loop || _passEvents == 0 || (_options.MaxPasses > 0 && _pass + 1 >= _options.MaxPasses) || _stopped)
            {
                return false;
            }

            if (_period < 0)
            {
                _period = _passLast - _passFirst + 1;
            }

            _pass++;
            _shift = _pass * _period;
            _passEvents = 0;
            _adapter.CloseReader();
            _adapter.Open();
        }
    }

    private void Finish()
    {
        Release();
        _observer.OnCompleted();
    }

    private void Fail(Exception ex)
    {
        Exception error = PipelineException.Wrap(ex, _adapter.SourceName, _adapter.Position);
        Release();
        _observer.OnError(error);
    }

    private void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        _adapter.CloseReader();
        _input?.Dispose();
        _output?.Dispose();
    }
}
