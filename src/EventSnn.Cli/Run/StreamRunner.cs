using System.Diagnostics;
using System.Reactive.Linq;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;
using EventSnn.Snn.Classification;

namespace EventSnn.Cli.Run;

/// <summary>One decision of the main job.</summary>
public sealed record DecisionRecord(
    long TUs,
    string Stream,
    string Label,
    int LabelIndex,
    double Confidence,
    double LatencyMs,
    string? Truth,
    int TruthIndex,
    string Phase,
    int Pass,
    long Sample,
    int Steps,
    double Loss)
{
    /// <summary>True when the truth is known and matches.</summary>
    public bool Correct => TruthIndex >= 0 && LabelIndex == TruthIndex;
}

/// <summary>A sample kept for the frames plot: the sum of its input frames and the decision.</summary>
public sealed record SampleSnapshot(string Stream, TimeStepLayout Layout, float[] Sum, float[]? Raster, int Steps, DecisionRecord Decision);

/// <summary>
/// Runs one labelled stream of the main job: replays its recordings through the pipeline
/// (SHD samples -> 4 ms channel bins; gestures -> pooling -> label cutting -> equal-count
/// frames), hands the time steps to the learner over a bounded channel, and classifies each
/// sample online (decision first, then FPTT learning on it).
/// </summary>
public sealed class StreamRunner
{
    private const int SnapshotsKept = 8;
    private readonly RunSettings _run;
    private readonly List<string> _train;
    private readonly List<string> _test;
    private readonly Queue<SampleSnapshot> _snapshots = new();

    public StreamRunner(string name, StreamSettings settings, RunSettings run)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(run);
        Name = name;
        Settings = settings;
        _run = run;
        _train = run.Files(settings.Train);
        _test = run.Files(settings.Test);
        (Inputs, Classes, ClassNames, Steps, TotalSamples) = Describe();
        Classifier = new OnlineSequenceClassifier(new OnlineClassifierOptions
        {
            Inputs = Inputs,
            Classes = Classes,
            Steps = Steps,
            Recipe = new SequenceTrainerOptions
            {
                Hidden = settings.Hidden,
                Chunks = settings.Chunks,
                LearningRate = settings.LearningRate,
                Alpha = settings.Alpha,
                Beta = settings.Beta,
                Seed = checked((int)run.Seed),
            },
        });
    }

    public string Name { get; }

    public StreamSettings Settings { get; }

    public int Inputs { get; }

    public int Classes { get; }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Expected steps per sample.</summary>
    public int Steps { get; }

    /// <summary>Samples the whole run will decide (all passes and the held-out set).</summary>
    public long TotalSamples { get; }

    public OnlineSequenceClassifier Classifier { get; }

    public List<DecisionRecord> Decisions { get; } = [];

    public long Events { get; private set; }

    public long StepsProcessed { get; private set; }

    public long DroppedSteps { get; private set; }

    public double Seconds { get; private set; }

    public IReadOnlyCollection<SampleSnapshot> Snapshots => _snapshots;

    /// <summary>Checkpoint file of this stream.</summary>
    public string CheckpointPath => Path.Combine(_run.ResolvePath(_run.Output), "checkpoints", Name + ".ckpt");

    /// <summary>Replays every pass and the held-out set; stops at a sample boundary when cancelled.</summary>
    public async Task RunAsync(Action<DecisionRecord> onDecision, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(onDecision);
        var clock = Stopwatch.StartNew();
        try
        {
            for (int pass = 1; pass <= _run.Passes && !cancellation.IsCancellationRequested; pass++)
            {
                Classifier.Learning = true;
                foreach (string file in _train)
                {
                    await ReplayAsync(file, "train", pass, onDecision, cancellation).ConfigureAwait(false);
                }

                Classifier.EndEpoch();
            }

            Classifier.Learning = _run.LearnOnTest;
            foreach (string file in _test)
            {
                await ReplayAsync(file, "test", 0, onDecision, cancellation).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // finish the sample in progress: its chunk is learned and its decision reported
        }
        finally
        {
            Seconds = clock.Elapsed.TotalSeconds;
        }
    }

    /// <summary>Saves the model, optimiser and FPTT state atomically.</summary>
    public string SaveCheckpoint()
    {
        string path = CheckpointPath;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Classifier.Save(path);
        return path;
    }

    private async Task ReplayAsync(string file, string phase, int pass, Action<DecisionRecord> onDecision, CancellationToken cancellation)
    {
        IObservable<TimeStep> source = Source(file);
        var options = new HandoffOptions
        {
            Capacity = _run.ChannelCapacity,
            Policy = _run.Overflow switch
            {
                "drop-oldest" => OverflowPolicy.DropOldest,
                "drop-newest" => OverflowPolicy.DropNewest,
                _ => OverflowPolicy.Wait,
            },
        };
        using Handoff<TimeStep> steps = source.ToChannel(options, cancellation: cancellation);
        long currentSample = -1;
        int currentLabel = -1;
        float[] sum = new float[Inputs];
        var raster = Settings.ParsedKind == StreamKind.Shd ? new List<float[]>() : null;
        try
        {
            await foreach (TimeStep step in steps.ReadAllAsync(cancellation).ConfigureAwait(false))
            {
                using (step)
                {
                    if (!Classifier.InSample || step.Sample != currentSample)
                    {
                        if (Classifier.InSample)
                        {
                            // a sample whose last step was dropped by the overflow policy
                            Decide(step.StartUs, currentLabel, phase, pass, currentSample, sum, raster, onDecision);
                        }

                        currentSample = step.Sample;
                        currentLabel = step.Label;
                        Array.Clear(sum);
                        raster?.Clear();
                        Classifier.BeginSample(currentLabel is >= 0 && currentLabel < Classes ? currentLabel : -1);
                    }

                    Span<float> frame = step.Frame;
                    Classifier.Step(frame);
                    Accumulate(sum, frame);
                    if (raster is not null && raster.Count < Settings.MaxSteps)
                    {
                        raster.Add(frame.ToArray());
                    }

                    Events += step.EventCount;
                    StepsProcessed++;
                    if (step.EndsSample)
                    {
                        Decide(step.EndUs, currentLabel, phase, pass, currentSample, sum, raster, onDecision);
                    }
                }
            }
        }
        finally
        {
            DroppedSteps += steps.Dropped;
            if (Classifier.InSample)
            {
                // cancelled or the source ended mid-sample: close the chunk and report the decision
                Decide(0, currentLabel, phase, pass, currentSample, sum, raster, onDecision);
            }
        }
    }

    private void Decide(long tUs, int truth, string phase, int pass, long sample, float[] sum, List<float[]>? raster, Action<DecisionRecord> onDecision)
    {
        long start = Stopwatch.GetTimestamp();
        DecisionRecord? record = null;
        SampleDecision final = Classifier.EndSample(d =>
        {
            double latency = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            record = new DecisionRecord(
                tUs,
                Name,
                d.Label >= 0 ? ClassNames[d.Label] : "?",
                d.Label,
                d.Confidence,
                latency,
                truth >= 0 && truth < Classes ? ClassNames[truth] : null,
                truth >= 0 && truth < Classes ? truth : -1,
                phase,
                pass,
                sample,
                d.Steps,
                0);
        });
        record = record! with { Loss = final.Loss };
        Decisions.Add(record);
        if (phase == "test")
        {
            _snapshots.Enqueue(new SampleSnapshot(Name, LayoutOf(), (float[])sum.Clone(), raster is null ? null : Flatten(raster), record.Steps, record));
            while (_snapshots.Count > SnapshotsKept)
            {
                _snapshots.Dequeue();
            }
        }

        onDecision(record);
    }

    private float[] Flatten(List<float[]> raster)
    {
        float[] all = new float[raster.Count * Inputs];
        for (int i = 0; i < raster.Count; i++)
        {
            raster[i].CopyTo(all, i * Inputs);
        }

        return all;
    }

    private static void Accumulate(float[] sum, ReadOnlySpan<float> frame)
    {
        for (int i = 0; i < frame.Length; i++)
        {
            sum[i] += frame[i];
        }
    }

    private TimeStepLayout LayoutOf() => Settings.ParsedKind == StreamKind.Shd
        ? TimeStepLayout.ForAudio(Inputs)
        : new TimeStepLayout(2, Settings.SensorSize / Settings.Pooling, Settings.SensorSize / Settings.Pooling);

    private IObservable<TimeStep> Source(string file)
    {
        if (Settings.ParsedKind == StreamKind.Shd)
        {
            return EventReplay.ReplayShdSamples(file, new ShdReplayOptions { BinUs = Settings.BinUs, MaxSteps = Settings.MaxSteps, Speed = _run.Speed });
        }

        List<LabelSegment> labels = GestureLabels(file);
        var replay = new ReplayOptions
        {
            Pacing = _run.Speed > 0 ? ReplayPacing.Scaled : ReplayPacing.AsFastAsPossible,
            Speed = _run.Speed > 0 ? _run.Speed : 1,
        };
        return EventReplay.ReplayFile(file, options: replay)
            .Downsample(Settings.Pooling)
            .CutByLabels(labels)
            .BinSamples(new SegmentBinning { BinCount = Settings.Frames, Kind = SegmentBinKind.EventBins }, new TimeStepOptions { Layout = LayoutOf(), Mode = FrameMode.Counts });
    }

    private List<LabelSegment> GestureLabels(string file)
    {
        string csv = LabelsFile(file);
        var result = new List<LabelSegment>();
        foreach (LabelSegment s in LabelTrack.ReadCsv(csv))
        {
            // DVS128 Gesture classes are 1-based
            int label = s.Label - 1;
            if (label < 0 || label >= Classes)
            {
                throw new EventFormatException(csv, 0, $"class {s.Label} outside 1..{Classes}", "class");
            }

            result.Add(s with { Label = label });
        }

        return result;
    }

    private static string LabelsFile(string recording)
    {
        string dir = Path.GetDirectoryName(recording)!;
        string stem = Path.GetFileNameWithoutExtension(recording);
        string csv = Path.Combine(dir, stem + "_labels.csv");
        return File.Exists(csv) ? csv : throw new FileNotFoundException($"{recording}: labels file {csv} not found", csv);
    }

    private (int Inputs, int Classes, IReadOnlyList<string> Names, int Steps, long Total) Describe()
    {
        if (Settings.ParsedKind == StreamKind.Shd)
        {
            int channels = 0, classes = 0;
            long train = 0, test = 0;
            IReadOnlyList<string> keys = [];
            foreach (string f in _train.Concat(_test))
            {
                using ShdFile shd = ShdFile.Open(f);
                channels = Math.Max(channels, shd.Channels);
                classes = Math.Max(classes, shd.Classes);
                if (shd.Keys.Count > keys.Count)
                {
                    keys = shd.Keys;
                }

                if (_train.Contains(f))
                {
                    train += shd.Count;
                }
                else
                {
                    test += shd.Count;
                }
            }

            classes = Math.Max(classes, keys.Count);
            string[] names = [.. Enumerable.Range(0, classes).Select(i => i < keys.Count ? keys[i] : i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
            return (channels, classes, names, Settings.MaxSteps, (train * _run.Passes) + test);
        }

        long gestures = 0, held = 0;
        foreach (string f in _train)
        {
            gestures += LabelTrack.ReadCsv(LabelsFile(f)).Count;
        }

        foreach (string f in _test)
        {
            held += LabelTrack.ReadCsv(LabelsFile(f)).Count;
        }

        int side = Settings.SensorSize / Settings.Pooling;
        string[] gestureNames = [.. Enumerable.Range(0, Settings.Classes).Select(i => i < EventSnn.Datasets.Generators.GestureGenerator.ClassNames.Length ? EventSnn.Datasets.Generators.GestureGenerator.ClassNames[i] : "class" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture))];
        return (2 * side * side, Settings.Classes, gestureNames, Settings.Frames, (gestures * _run.Passes) + held);
    }
}
