using System.Diagnostics;
using System.Reactive.Linq;
using EventSnn.Datasets;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;
using EventSnn.Snn.Classification;
using EventSnn.Transforms;
using EventSnn.Snn;

namespace EventSnn.Cli.Run;

/// <summary>A sample kept for the frames plot: the sum of its input frames and the decision.</summary>
public sealed record SampleSnapshot(string Stream, TimeStepLayout Layout, float[] Sum, float[]? Raster, int Steps, StreamDecision Decision);

/// <summary>
/// Runs one labelled stream of the main job: replays its recordings through the pipeline
/// (SHD samples, or gestures cut by their labels) and the stream's preprocessing chain — the same
/// chain <c>train</c> uses for the same data kind — hands the time steps to the learner over a
/// bounded channel, and classifies each sample online (decision first, then learning on it with the recipe's method).
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
        (Preprocessing, Classes, ClassNames, TotalSamples) = Describe();
        Steps = Preprocessing.StepsPerSample() ?? (Preprocessing.MaxSteps > 0 ? Preprocessing.MaxSteps : 100);
        Classifier = new OnlineSequenceClassifier(new OnlineClassifierOptions
        {
            Inputs = Inputs,
            Classes = Classes,
            Steps = Steps,
            Recipe = settings.RecipeOptions,
        });
    }

    /// <summary>How the stream's samples become the network's input.</summary>
    public Preprocessing Preprocessing { get; }

    public string Name { get; }

    public StreamSettings Settings { get; }

    public int Inputs => Preprocessing.Features;

    public int Classes { get; }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Expected steps per sample.</summary>
    public int Steps { get; }

    /// <summary>Samples the whole run will decide (all passes and the held-out set).</summary>
    public long TotalSamples { get; }

    public OnlineSequenceClassifier Classifier { get; }

    public List<StreamDecision> Decisions { get; } = [];

    /// <summary>Accuracy of every decision (training passes and held-out, in decision order).</summary>
    public ClassificationTally Tally { get; } = new();

    /// <summary>Accuracy of the held-out decisions.</summary>
    public ClassificationTally HeldOut { get; } = new(keepOutcomes: false);

    public long Events { get; private set; }

    public long StepsProcessed { get; private set; }

    public long DroppedSteps { get; private set; }

    /// <summary>Augmented copies learned from (not decided).</summary>
    public long AugmentedSamples { get; private set; }

    public double Seconds { get; private set; }

    public IReadOnlyCollection<SampleSnapshot> Snapshots => _snapshots;

    /// <summary>Checkpoint file of this stream.</summary>
    public string CheckpointPath => Path.Combine(_run.ResolvePath(_run.Output), "checkpoints", Name + ".ckpt");

    /// <summary>Replays every pass and the held-out set; stops at a sample boundary when cancelled.</summary>
    public async Task RunAsync(Action<StreamDecision> onDecision, CancellationToken cancellation)
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

    /// <summary>Saves the model, optimiser and (FPTT) learner state atomically, with the preprocessing and the class names.</summary>
    public string SaveCheckpoint()
    {
        string path = CheckpointPath;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (ModelMetadata.Attach(Preprocessing, ClassNames))
        {
            Classifier.Save(path);
        }

        return path;
    }

    /// <summary>
    /// Loads the stream's checkpoint; one trained on other inputs (a stored description that
    /// differs) is a configuration error naming the field. Returns a notice when the checkpoint
    /// stores no description (the configured chain is assumed), else null.
    /// </summary>
    public string? Resume()
    {
        string path = CheckpointPath;
        EventSnn.Snn.CheckpointData data = EventSnn.Snn.Checkpoint.Read(path);
        Preprocessing? stored = ModelMetadata.ReadPreprocessing(data);
        if (stored is not null && Preprocessing.Difference(stored) is { } d)
        {
            throw new ConfigurationException($"Run:Streams:{Name}:Preprocessing:{PreprocessingException.PropertyOf(d.Field)}", d.Mine, $"the checkpoint {path} to resume from was trained with {d.Field} = {d.Theirs}");
        }

        Classifier.Load(path);
        return stored is null ? ModelMetadata.MissingNotice(data, Preprocessing) : null;
    }

    private async Task ReplayAsync(string file, string phase, int pass, Action<StreamDecision> onDecision, CancellationToken cancellation)
    {
        IObservable<TimeStep> source = Source(file, pass);
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
        long currentStart = 0;
        int currentLabel = -1;
        bool currentAugmented = false;
        bool learning = Classifier.Learning;
        float[] sum = new float[Inputs];
        // the frames plot shows held-out samples only: keep their rasters, not the training passes'
        var raster = Settings.ParsedKind == StreamKind.Shd && phase == "test" ? new List<float[]>() : null;
        try
        {
            await foreach (TimeStep step in steps.ReadAllAsync(cancellation).ConfigureAwait(false))
            {
                using (step)
                {
                    if (!Classifier.InSample || step.Sample != currentSample || step.Augmented != currentAugmented)
                    {
                        if (Classifier.InSample)
                        {
                            // a sample whose last step was dropped by the overflow policy
                            Close(currentStart, step.StartUs, currentLabel, currentAugmented, phase, pass, currentSample, sum, raster, onDecision);
                        }

                        currentSample = step.Sample;
                        currentStart = step.StartUs;
                        currentLabel = step.Label;
                        currentAugmented = step.Augmented;
                        Array.Clear(sum);
                        raster?.Clear();

                        // an augmented copy is only learned from; the real sample is decided (and learned)
                        Classifier.Learning = learning;
                        Classifier.BeginSample(currentLabel is >= 0 && currentLabel < Classes ? currentLabel : -1);
                    }

                    Span<float> frame = step.Frame;
                    Classifier.Step(frame);
                    Accumulate(sum, frame);
                    if (raster is not null && raster.Count < Steps)
                    {
                        raster.Add(frame.ToArray());
                    }

                    Events += step.EventCount;
                    StepsProcessed++;
                    if (step.EndsSample)
                    {
                        Close(currentStart, step.EndUs, currentLabel, currentAugmented, phase, pass, currentSample, sum, raster, onDecision);
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
                Close(currentStart, 0, currentLabel, currentAugmented, phase, pass, currentSample, sum, raster, onDecision);
            }
        }
    }

    /// <summary>Ends the current sample: a real sample's decision is recorded; an augmented copy only finishes its learning.</summary>
    private void Close(long startUs, long tUs, int truth, bool augmented, string phase, int pass, long sample, float[] sum, List<float[]>? raster, Action<StreamDecision> onDecision)
    {
        if (augmented)
        {
            Classifier.EndSample();
            AugmentedSamples++;
            return;
        }

        Decide(startUs, tUs, truth, phase, pass, sample, sum, raster, onDecision);
    }

    private void Decide(long startUs, long tUs, int truth, string phase, int pass, long sample, float[] sum, List<float[]>? raster, Action<StreamDecision> onDecision)
    {
        long start = Stopwatch.GetTimestamp();
        StreamDecision? record = null;
        bool known = truth >= 0 && truth < Classes;
        SampleDecision final = Classifier.EndSample(d =>
        {
            double latency = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            record = new StreamDecision
            {
                TUs = tUs,
                StartUs = startUs,
                Stream = Name,
                Label = StreamDecision.ClassName(ClassNames, d.Label),
                LabelIndex = d.Label,
                Confidence = d.Confidence,
                LatencyMs = latency,
                Truth = known ? StreamDecision.ClassName(ClassNames, truth) : null,
                TruthIndex = known ? truth : -1,
                Index = Decisions.Count,
                Phase = phase,
                Pass = pass,
                Sample = sample,
                Steps = d.Steps,
            };
        });
        record = record! with { Loss = final.Loss };
        Decisions.Add(record);
        Tally.Add(record);
        if (phase == "test")
        {
            HeldOut.Add(record);
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

    private TimeStepLayout LayoutOf() => TimeStepLayout.For(Preprocessing);

    /// <summary>
    /// The stream's steps of <paramref name="file"/>; on training passes (pass &gt; 0) every gesture
    /// is followed by an augmented copy per the recipe (learned from, not decided on).
    /// </summary>
    private IObservable<TimeStep> Source(string file, int pass)
    {
        if (Settings.ParsedKind == StreamKind.Shd)
        {
            return EventReplay.ReplayShdSamples(file, new ShdReplayOptions { MinSampleUs = Preprocessing.SampleSpanUs ?? 0, Speed = _run.Speed })
                .Preprocess(Preprocessing);
        }

        List<LabelSegment> labels = GestureLabels(file);
        var replay = new ReplayOptions
        {
            Pacing = _run.Speed > 0 ? ReplayPacing.Scaled : ReplayPacing.AsFastAsPossible,
            Speed = _run.Speed > 0 ? _run.Speed : 1,
        };
        Augmentation augmentation = pass > 0 ? Augmentation.Parse(Settings.RecipeOptions.Augment) : Augmentation.None;
        return EventReplay.ReplayFile(file, options: replay)
            .CutByLabels(labels)
            .AugmentCopies(augmentation, Preprocessing.Width, Preprocessing.Height, Settings.RecipeOptions.Seed, pass)
            .Preprocess(Preprocessing);
    }

    private List<LabelSegment> GestureLabels(string file)
    {
        string csv = LabelsFile(file);
        var result = new List<LabelSegment>();
        foreach (LabelSegment s in LabelCsv.Read(csv))
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

    private (Preprocessing Preprocessing, int Classes, IReadOnlyList<string> Names, long Total) Describe()
    {
        string key = $"Run:Streams:{Name}:Preprocessing";
        Preprocessing p = Settings.Description;
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

            // the channels are the recordings' unless configured; configured ones must match
            if (Settings.Preprocessing.Channels is int configured && configured != channels)
            {
                throw new ConfigurationException($"{key}:Channels", configured.ToString(System.Globalization.CultureInfo.InvariantCulture), $"the recordings have {channels} channels");
            }

            classes = Math.Max(classes, keys.Count);
            string[] names = [.. Enumerable.Range(0, classes).Select(i => i < keys.Count ? keys[i] : i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
            return (p.ForChannels(channels), classes, names, (train * _run.Passes) + test);
        }

        long gestures = 0, held = 0;
        foreach (string f in _train)
        {
            gestures += LabelCsv.Read(LabelsFile(f)).Count;
        }

        foreach (string f in _test)
        {
            held += LabelCsv.Read(LabelsFile(f)).Count;
        }

        using (IDvsEventReader reader = EventReaders.OpenDvs(_train[0]))
        {
            if (reader.Geometry.IsKnown && (reader.Geometry.Width != p.Width || reader.Geometry.Height != p.Height))
            {
                bool width = reader.Geometry.Width != p.Width;
                throw new ConfigurationException($"{key}:{(width ? "Width" : "Height")}", (width ? p.Width : p.Height).ToString(System.Globalization.CultureInfo.InvariantCulture), $"{_train[0]} is {reader.Geometry}");
            }
        }

        // the recordings' folder names its classes (classes.txt), else the label numbers
        string[] gestureNames = EventSnn.Datasets.ClassNamesFile.For(Path.GetDirectoryName(Path.GetFullPath(_train[0]))!, Settings.Classes, EventSnn.Datasets.Loaders.DvsGestureDataset.PublishedClassNames, firstLabel: 1);
        return (p, Settings.Classes, gestureNames, (gestures * _run.Passes) + held);
    }
}
