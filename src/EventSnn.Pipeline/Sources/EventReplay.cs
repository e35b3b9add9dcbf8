using System.Reactive.Concurrency;
using System.Reactive.Linq;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>
/// File replay of any reader as an observable of pooled batches. Each subscription opens its own
/// reader through the factory, reads batch by batch and closes it at the end, on error or on
/// dispose. Pacing uses the given <see cref="IScheduler"/> (a TestScheduler drives it in virtual
/// time): as fast as possible (all batches in one scheduled action, or a long-running thread when
/// the scheduler offers one), or paced by event timestamps (each emitted batch spans at most
/// <see cref="ReplayOptions.SliceUs"/> of event time and is emitted when its last event is due).
/// Batches are owned by the replay and valid only during OnNext. Errors carry the source and
/// byte position (<see cref="EventFormatException"/> or <see cref="PipelineException"/>).
/// </summary>
public static partial class EventReplay
{
    /// <summary>Replays DVS events from readers made by <paramref name="open"/>.</summary>
    /// <param name="open">Opens a fresh reader (called once per subscription and per loop pass).</param>
    /// <param name="options">Pacing and looping; default as fast as possible.</param>
    /// <param name="scheduler">Scheduler for pacing; default <see cref="DefaultScheduler.Instance"/>.</param>
    public static IObservable<EventBatch> Replay(Func<IDvsEventReader> open, ReplayOptions? options = null, IScheduler? scheduler = null)
    {
        ArgumentNullException.ThrowIfNull(open);
        options ??= ReplayOptions.Default;
        options.Validate();
        IScheduler s = scheduler ?? DefaultScheduler.Instance;
        return Observable.Create<EventBatch>(observer => new ReplayRun<EventBatch>(new DvsReplayAdapter(open), options, s, observer).Start());
    }

    /// <summary>Replays the DVS events of a recording (any format <see cref="EventReaders"/> opens).</summary>
    public static IObservable<EventBatch> ReplayFile(string path, ReaderOptions? readerOptions = null, ReplayOptions? options = null, IScheduler? scheduler = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Replay(() => EventReaders.OpenDvs(path, readerOptions), options, scheduler);
    }

    /// <summary>Replays the audio spikes of a recording (NAS, SHD); a DVS recording is an error naming the file.</summary>
    public static IObservable<SpikeBatch> ReplaySpikeFile(string path, ReaderOptions? readerOptions = null, ReplayOptions? options = null, IScheduler? scheduler = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return ReplaySpikes(
            () =>
            {
                IEventReader reader = EventReaders.Open(path, readerOptions);
                if (reader is ISpikeReader spikes)
                {
                    return spikes;
                }

                reader.Dispose();
                throw new EventFormatException(path, 0, "holds DVS events, not audio spikes");
            },
            options,
            scheduler);
    }

    /// <summary>Replays audio spikes from readers made by <paramref name="open"/>.</summary>
    public static IObservable<SpikeBatch> ReplaySpikes(Func<ISpikeReader> open, ReplayOptions? options = null, IScheduler? scheduler = null)
    {
        ArgumentNullException.ThrowIfNull(open);
        options ??= ReplayOptions.Default;
        options.Validate();
        IScheduler s = scheduler ?? DefaultScheduler.Instance;
        return Observable.Create<SpikeBatch>(observer => new ReplayRun<SpikeBatch>(new SpikeReplayAdapter(open), options, s, observer).Start());
    }
}
