using System.Diagnostics;
using System.Reactive.Linq;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>Options of <see cref="EventReplay.ReplayShdSamples"/>.</summary>
public sealed record ShdReplayOptions
{
    /// <summary>Bin width (SHD reference: 4 ms).</summary>
    public long BinUs { get; init; } = 4_000;

    /// <summary>Most steps per sample (SHD reference: 250 = 1 s); later spikes are dropped.</summary>
    public int MaxSteps { get; init; } = 250;

    /// <summary>Silence inserted between samples on the replayed timeline.</summary>
    public long GapUs { get; init; } = 100_000;

    /// <summary>0 replays as fast as possible; otherwise the timeline is paced at this multiple of real time.</summary>
    public double Speed { get; init; }

    /// <summary>Replays the file this many times (passes).</summary>
    public int Passes { get; init; } = 1;

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (BinUs <= 0 || MaxSteps <= 0 || GapUs < 0 || Speed < 0 || !double.IsFinite(Speed) || Passes <= 0)
        {
            throw new ArgumentException("ShdReplayOptions: BinUs > 0, MaxSteps > 0, GapUs >= 0, Speed >= 0, Passes > 0");
        }
    }
}

public static partial class EventReplay
{
    /// <summary>
    /// Replays the samples of an SHD/SSC file as one labelled stream: sample after sample on a
    /// continuous timeline (separated by <see cref="ShdReplayOptions.GapUs"/>), each binned into
    /// steps of <see cref="ShdReplayOptions.BinUs"/> over its channels (at most
    /// <see cref="ShdReplayOptions.MaxSteps"/>), carrying the sample's label and index; the last
    /// step of a sample has <see cref="TimeStep.EndsSample"/> set. Steps are borrowed (valid
    /// during OnNext). Runs on a task; disposal cancels it.
    /// </summary>
    public static IObservable<TimeStep> ReplayShdSamples(string path, ShdReplayOptions? options = null, ReaderOptions? readerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new ShdReplayOptions();
        options.Validate();
        return Observable.Create<TimeStep>((observer, cancellation) => Task.Run(() => RunShd(path, options, readerOptions, observer, cancellation), cancellation));
    }

    private static void RunShd(string path, ShdReplayOptions options, ReaderOptions? readerOptions, IObserver<TimeStep> observer, CancellationToken cancellation)
    {
        using ShdFile file = ShdFile.Open(path, readerOptions);
        int channels = file.Channels;
        using var step = new TimeStep(new TimeStepOptions { Layout = TimeStepLayout.ForAudio(channels), Mode = FrameMode.Counts });
        using var spikes = new SpikeBatch(Math.Max(1024, file.MaxSpikesPerSample));
        var clock = Stopwatch.StartNew();
        long offset = 0;
        long sampleIndex = 0;
        for (int pass = 0; pass < options.Passes; pass++)
        {
            for (int i = 0; i < file.Count; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                int n = file.ReadSample(i, spikes);
                long last = n > 0 ? spikes.T[n - 1] : 0;
                int steps = (int)Math.Clamp((last / options.BinUs) + 1, 1, options.MaxSteps);
                int label = file.Label(i);
                int k = 0;
                for (int s = 0; s < steps; s++)
                {
                    long start = s * options.BinUs, end = start + options.BinUs;
                    int first = k;
                    while (k < n && spikes.T[k] < end)
                    {
                        k++;
                    }

                    step.Reset(s, offset + start, offset + end);
                    if (k > first)
                    {
                        step.AddSpikes(spikes, first, k - first, channels);
                    }

                    step.Label = label;
                    step.Sample = sampleIndex;
                    step.EndsSample = s == steps - 1;
                    Pace(options.Speed, offset + end, clock, cancellation);
                    observer.OnNext(step);
                }

                offset += (steps * options.BinUs) + options.GapUs;
                sampleIndex++;
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
