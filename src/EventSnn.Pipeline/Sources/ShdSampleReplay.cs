using System.Diagnostics;
using System.Reactive.Linq;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>Options of <see cref="EventReplay.ReplayShdSamples"/>.</summary>
public sealed record ShdReplayOptions
{
    /// <summary>Silence inserted between samples on the replayed timeline.</summary>
    public long GapUs { get; init; } = 100_000;

    /// <summary>Time every sample occupies on the timeline at least (e.g. the span its steps cover: SHD's 1 s); a sample lasts until its last spike otherwise.</summary>
    public long MinSampleUs { get; init; }

    /// <summary>0 replays as fast as possible; otherwise the timeline is paced at this multiple of real time.</summary>
    public double Speed { get; init; }

    /// <summary>Replays the file this many times (passes).</summary>
    public int Passes { get; init; } = 1;

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (GapUs < 0 || MinSampleUs < 0 || Speed < 0 || !double.IsFinite(Speed) || Passes <= 0)
        {
            throw new ArgumentException("ShdReplayOptions: GapUs >= 0, MinSampleUs >= 0, Speed >= 0, Passes > 0");
        }
    }
}

/// <summary>
/// One labelled sample of spikes replayed from a file: its label, index, place on the replayed
/// timeline and its spikes (times on that timeline). Borrowed: valid only during <c>OnNext</c>.
/// </summary>
public sealed class SpikeSample
{
    internal SpikeSample(SpikeBatch spikes) => Spikes = spikes;

    /// <summary>Class label.</summary>
    public int Label { get; internal set; }

    /// <summary>Index of the sample in the replay (0-based, over all passes).</summary>
    public long Index { get; internal set; }

    /// <summary>Start of the sample on the timeline (its time 0).</summary>
    public long StartUs { get; internal set; }

    /// <summary>End of the sample on the timeline (after its last spike, at least <see cref="ShdReplayOptions.MinSampleUs"/> after the start).</summary>
    public long EndUs { get; internal set; }

    /// <summary>The spikes, times on the timeline.</summary>
    public SpikeBatch Spikes { get; }
}

public static partial class EventReplay
{
    /// <summary>
    /// Replays the samples of an SHD/SSC file as one labelled stream of samples: sample after
    /// sample on a continuous timeline (each occupying at least <see cref="ShdReplayOptions.MinSampleUs"/>,
    /// separated by <see cref="ShdReplayOptions.GapUs"/>), each with its label, index and spikes.
    /// Bin them with <see cref="EventPipeline.Preprocess(IObservable{SpikeSample}, EventSnn.Transforms.Preprocessing)"/>.
    /// With pacing, a sample is released when the timeline reaches its end. Samples are borrowed
    /// (valid during OnNext). Runs on a task; disposal cancels it.
    /// </summary>
    public static IObservable<SpikeSample> ReplayShdSamples(string path, ShdReplayOptions? options = null, ReaderOptions? readerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new ShdReplayOptions();
        options.Validate();
        return Observable.Create<SpikeSample>((observer, cancellation) => Task.Run(() => RunShd(path, options, readerOptions, observer, cancellation), cancellation));
    }

    private static void RunShd(string path, ShdReplayOptions options, ReaderOptions? readerOptions, IObserver<SpikeSample> observer, CancellationToken cancellation)
    {
        using ShdFile file = ShdFile.Open(path, readerOptions);
        using var spikes = new SpikeBatch(Math.Max(1024, file.MaxSpikesPerSample));
        var sample = new SpikeSample(spikes);
        var clock = Stopwatch.StartNew();
        long offset = 0;
        long sampleIndex = 0;
        for (int pass = 0; pass < options.Passes; pass++)
        {
            for (int i = 0; i < file.Count; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                int n = file.ReadSample(i, spikes);
                long length = options.MinSampleUs;
                for (int k = 0; k < n; k++)
                {
                    length = Math.Max(length, spikes.T[k] + 1);
                    spikes.T[k] += offset;
                }

                sample.Label = file.Label(i);
                sample.Index = sampleIndex++;
                sample.StartUs = offset;
                sample.EndUs = offset + length;
                Pace(options.Speed, sample.EndUs, clock, cancellation);
                observer.OnNext(sample);
                offset += length + options.GapUs;
            }
        }

        observer.OnCompleted();
    }

    private static void Pace(double speed, long streamUs, Stopwatch clock, CancellationToken cancellation)
    {
        if (speed <= 0)
        {
            return;
        }

        double due = streamUs / speed / 1000.0;
        double wait = due - clock.Elapsed.TotalMilliseconds;
        if (wait > 1)
        {
            cancellation.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(wait));
        }
    }
}
