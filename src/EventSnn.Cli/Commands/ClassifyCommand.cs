using System.Globalization;
using System.Text.Json;
using System.Reactive.Linq;
using System.Runtime.InteropServices;
using EventSnn.Datasets;
using EventSnn.Datasets.Generators;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;
using EventSnn.Snn;
using EventSnn.Snn.Classification;
using EventSnn.Transforms;
using ScottPlot;

namespace EventSnn.Cli.Commands;

/// <summary>
/// `eventsnn classify &lt;file | tcp://host:port | udp://host:port&gt;`: streaming classification
/// of a recording or a live DV/jAER stream with a checkpoint or a fresh model, optionally
/// adapting online (FPTT) from label feedback (a label CSV, a label stream, or SHD labels).
/// The input is prepared by the checkpoint's stored preprocessing chain (a fresh model: the
/// preset of the data kind, adjusted by the options); options that contradict the checkpoint are
/// usage errors. The wiring lives here; deciding, late-label learning and the tally are
/// <see cref="StreamClassifier"/>'s.
/// </summary>
internal sealed class ClassifyCommand : Command
{
    public override string Name => "classify";

    public override string Summary => "classify a recording, a dataset folder's split (--split) or a live tcp:// / udp:// stream through the streaming pipeline; --learn adapts online from label feedback";

    public override string Arguments => "<file | dataset-dir | tcp://host:port | udp://host:port>";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("checkpoint", "path", "model to start from (written by run, train or classify --save); default a fresh model"),
        new("split", "test|train", "dataset folder: the split to classify (default test)"),
        new("classes", "n", "fresh model: classes (default: the SHD file's, else 10); with --checkpoint must match it"),
        new("hidden", "n", "fresh model: recurrent neurons (default 128); with --checkpoint must match it"),
        new("chunks", "k", "chunks per segment, one update each (default 5; bptt: one per segment)"),
        new("method", "fptt|bptt|tbptt|eprop|ostl", "--learn: learning method (default: the checkpoint recipe's, else fptt)"),
        new("lr", "rate", "learning rate for --learn (default: the checkpoint recipe's base rate, else 0.003)"),
        new("seed", "n", "fresh model: initialisation seed (default 1)"),
        new("learn", null, "adapt online (--method, FPTT by default) on every segment whose label is known"),
        new("labels", "csv", "DVS label CSV (class,startTime_usec,endTime_usec): one decision per labelled segment"),
        new("label-stream", "tcp://host:port", "label feedback lines \"t_us,label\" (the label of the segment ending at t_us)"),
        new("label-base", "n", "DVS labels: number of the first class in --labels / --label-stream (default 1, as in DVS Gesture)"),
        new("bin-us", "us", "fresh model: DVS without --labels: time bin per step (default 50000); SHD: bin width (default 10000)"),
        new("window-us", "us", "DVS without --labels: one decision every window (default 1000000)"),
        new("frames", "n", "fresh model: DVS with --labels: equal-event-count frames per segment (default 20)"),
        new("pooling", "k", "fresh model: DVS spatial pooling factor (default 8)"),
        new("sensor", "WxH", "DVS: sensor size when the source does not say (default: the checkpoint's, else 128x128)"),
        new("max-steps", "n", "fresh model: SHD: steps per sample (default 100)"),
        new("speed", "x", "files: replay speed, 0 = as fast as possible (default), 1 = real time"),
        new("duration", "s", "live sources: stop after this many seconds (default: until the peer closes or Ctrl-C)"),
        new("save", "path", "write the model checkpoint (with its preprocessing and class names) here at the end (atomically), e.g. after --learn"),
        new("plots", "dir", "write accuracy.png (rolling accuracy of the labelled decisions) here"),
        new("json", null, "one JSON object per decision, then {\"summary\": ...}"),
        new("quiet", null, "no per-decision lines (summary only)"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string target = args.Positional(0, "<file | dataset-dir | tcp://host:port | udp://host:port>");
        bool live = LiveInspect.IsLiveAddress(target);
        bool json = args.Has("json");
        bool quiet = args.Has("quiet");
        bool learn = args.Has("learn");
        bool folder = !live && Directory.Exists(target);
        if (!live && !folder && !File.Exists(target))
        {
            throw new FileNotFoundException($"{target}: file not found", target);
        }

        if (!folder && args.Has("split"))
        {
            throw new UsageException("option --split: only for a dataset folder");
        }

        bool shd = !live && !folder && Path.GetExtension(target).ToLowerInvariant() is ".h5" or ".hdf5";
        string? labelsCsv = args.Get("labels");
        string? labelStream = args.Get("label-stream");
        if ((shd || folder) && (labelsCsv is not null || labelStream is not null))
        {
            throw new UsageException($"{(folder ? "dataset folders" : "SHD files")} carry their labels: --labels and --label-stream are for DVS streams");
        }

        if (labelsCsv is not null && labelStream is not null)
        {
            throw new UsageException("give --labels or --label-stream, not both");
        }

        if (labelsCsv is not null && !File.Exists(labelsCsv))
        {
            throw new FileNotFoundException($"{labelsCsv}: file not found", labelsCsv);
        }

        int labelBase = args.GetInt("label-base", 1);
        double speed = Positive(args.GetDouble("speed", 0), "speed", allowZero: true);
        double duration = Positive(args.GetDouble("duration", 0), "duration", allowZero: true);
        CheckpointInput? checkpoint = ReadCheckpoint(args.Get("checkpoint"));

        // describe the input (the checkpoint's chain), then build the model for it
        Source source = folder ? FolderSource(target, args, speed, checkpoint, stderr)
            : shd ? ShdSource(target, args, speed, checkpoint, stderr)
            : DvsSource(target, live, labelsCsv, args, speed, labelBase, checkpoint, stderr);
        OnlineSequenceClassifier classifier = CreateModel(source, args, checkpoint, stderr);
        classifier.Learning = learn;
        string[] names = ClassNames(source, checkpoint, classifier.Options.Classes);
        if (learn && !shd && !folder && labelsCsv is null && labelStream is null)
        {
            stderr.WriteLine("warning: --learn without --labels or --label-stream: no label feedback, nothing will be learned");
        }

        // segments are the chain's samples (labelled segments, SHD samples or windows)
        using var session = new StreamClassifier(classifier, new StreamClassifierOptions { Stream = source.Name, ClassNames = names });
        using var stop = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(args.Cancellation, stop.Token);
        if (duration > 0)
        {
            stop.CancelAfter(TimeSpan.FromSeconds(duration));
        }

        LabelStreamClient? labels = null;
        var latencies = new List<double>();
        var decisionEnds = new List<long>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            if (labelStream is not null)
            {
                labels = ConnectLabels(labelStream, session, labelBase, stderr);
            }

            if (!json)
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"eventsnn classify: {source.Name} ({source.Describe}), model {classifier.Options.Inputs} inputs -> {TrainCommand.LayerText(classifier.Options.Recipe)} LTC -> {classifier.Options.Classes} classes{(checkpoint is null ? " (fresh)" : " from " + checkpoint.Path)}, {(learn ? "learning online (" + TrainCommand.MethodName(classifier.Options.Recipe.Method) + ")" : "no learning")}"));
                stdout.WriteLine("input: " + source.Preprocessing.Describe());
            }

            var gate = new Lock();
            session.Decided = d =>
            {
                lock (gate)
                {
                    latencies.Add(d.LatencyMs);
                    decisionEnds.Add(d.TUs);
                    if (json)
                    {
                        stdout.WriteLine(d.ToJson());
                    }
                    else if (!quiet)
                    {
                        stdout.WriteLine(DecisionText(d, clock.Elapsed.TotalSeconds));
                    }
                }
            };
            Consume(source, session, live, linked.Token);
        }
        finally
        {
            labels?.Dispose();
        }

        bool interrupted = args.Cancellation.IsCancellationRequested;
        if (labels?.Error is { } labelError)
        {
            stderr.WriteLine("warning: " + labelError.Message);
        }

        string? saved = null;
        if (args.Get("save") is { } savePath)
        {
            string full = Path.GetFullPath(savePath);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            using (ModelMetadata.Attach(source.Preprocessing, names))
            {
                classifier.Save(full);
            }

            saved = full;
        }

        var plots = new List<string>();
        if (args.Get("plots") is { } plotDir)
        {
            Directory.CreateDirectory(plotDir);
            plots.Add(AccuracyPlot(Path.GetFullPath(plotDir), source.Name, session.Tally, decisionEnds, classifier.Options.Classes));
        }

        double meanLatency = latencies.Count == 0 ? 0 : latencies.Sum() / latencies.Count;
        double p99Latency = latencies.Count == 0 ? 0 : MathNet.Numerics.Statistics.Statistics.QuantileCustom(latencies, 0.99, MathNet.Numerics.Statistics.QuantileDefinition.EmpiricalInvCDF);
        WriteSummary(stdout, json, source, session, clock.Elapsed.TotalSeconds, interrupted, learn, saved, plots, (meanLatency, p99Latency));
        stdout.Flush();
        return interrupted ? 130 : CommandRunner.Ok;
    }

    private static void Consume(Source source, StreamClassifier session, bool live, CancellationToken cancellation)
    {
        using Handoff<TimeStep> channel = source.Steps.ToChannel(new HandoffOptions { Capacity = 1024, Policy = OverflowPolicy.Wait }, cancellation: cancellation);
        try
        {
            Task.Run(async () =>
            {
                await foreach (TimeStep step in channel.ReadAllAsync(cancellation).ConfigureAwait(false))
                {
                    using (step)
                    {
                        session.Step(step.Frame, step.StartUs, step.EndUs, step.Sample, step.Label, step.EndsSample, step.EventCount);
                    }
                }
            }, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Ctrl-C, SIGTERM or --duration: finish the segment in progress below
        }
        catch (PipelineException ex) when (live)
        {
            throw new UsageException(CommandRunner.UserMessage(ex));
        }
        finally
        {
            // the open segment's chunk is closed (learned) and its decision reported
            session.Complete();
        }
    }

    private static LabelStreamClient ConnectLabels(string address, StreamClassifier session, int labelBase, TextWriter stderr)
    {
        try
        {
            return LabelStreamClient.Connect(address, (t, label) => session.Label(t, label - labelBase), logger: new LineLogger(stderr.WriteLine));
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(CommandRunner.UserMessage(ex));
        }
        catch (PipelineException ex)
        {
            throw new UsageException(CommandRunner.UserMessage(ex));
        }
    }

    private static CheckpointInput? ReadCheckpoint(string? path)
    {
        if (path is null)
        {
            return null;
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: file not found", path);
        }

        return CheckpointInput.Read(path);
    }

    private static OnlineSequenceClassifier CreateModel(Source source, ParsedArgs args, CheckpointInput? checkpoint, TextWriter stderr)
    {
        OnlineClassifierOptions options;
        if (checkpoint is not null)
        {
            NetworkConfig c = checkpoint.Data.Config;
            if (c.InputSize != source.Inputs)
            {
                throw new UsageException($"--checkpoint {checkpoint.Path}: the model takes {c.InputSize} inputs but {source.Name} gives {source.Inputs} ({source.Preprocessing.Describe()}){(checkpoint.Stored is null ? "; it stores no preprocessing: match --pooling / --sensor / --frames to how it was trained" : string.Empty)}");
            }

            checkpoint.CheckOption(args, "classes", "classes", c.Readout.Size);
            checkpoint.CheckOption(args, "hidden", "hidden neurons", c.Layers[0].Size);
            if (c.Layers.Any(l => l.InputNorm.PerTimestep()) || c.Readout.Norm.PerTimestep())
            {
                throw new UsageException($"--checkpoint {checkpoint.Path}: the model normalises with per-timestep statistics, which is offline only (eval classifies it)");
            }

            // the checkpoint's recipe: its decision readout, and its chunking and learning rate for --learn unless given
            SequenceTrainerOptions recipe = EvalCommand.RecipeOf(checkpoint, stderr);
            recipe = recipe with
            {
                Chunks = args.Has("chunks") ? args.GetInt("chunks", recipe.Chunks) : recipe.Chunks,
                ChunkLength = args.Has("chunks") ? 0 : recipe.ChunkLength,
                LearningRate = args.GetDouble("lr", recipe.LearningRate),
                Schedule = LearningRateScheduleKind.Constant,
                Method = RecipeNames.Option(args, "method", RecipeNames.Method, recipe.Method),
            };
            options = new OnlineClassifierOptions { Inputs = c.InputSize, Classes = c.Readout.Size, Steps = source.StepsPerSegment, Recipe = recipe };
        }
        else
        {
            int classes = args.GetInt("classes", source.Classes > 0 ? source.Classes : 10);
            if (classes is < 2 or > 10_000)
            {
                throw new UsageException($"option --classes: {classes} must be in 2..10000");
            }

            SequenceTrainerOptions recipe = TrainCommand.ParseOptions(args) with { Batch = 1, Epochs = 1, Schedule = LearningRateScheduleKind.Constant };
            if (recipe.InputNorm.PerTimestep())
            {
                throw new UsageException($"option --norm: {RecipeNames.Name(RecipeNames.Norm, recipe.InputNorm)} is offline only; streaming needs running or layer");
            }

            options = new OnlineClassifierOptions { Inputs = source.Inputs, Classes = classes, Steps = source.StepsPerSegment, Recipe = recipe };
        }

        if (options.Recipe.ChunkLength == 0 && options.Recipe.Chunks > source.StepsPerSegment)
        {
            throw new UsageException($"option --chunks: {options.Recipe.Chunks} must be in 1..{source.StepsPerSegment} (the steps per segment)");
        }

        if (!(options.Recipe.LearningRate > 0 && options.Recipe.LearningRate < 1))
        {
            throw new UsageException($"option --lr: {options.Recipe.LearningRate.ToString(CultureInfo.InvariantCulture)} must be in (0, 1)");
        }

        var classifier = new OnlineSequenceClassifier(options);
        if (checkpoint is not null)
        {
            try
            {
                classifier.Load(checkpoint.Path);
            }
            catch (CheckpointException ex)
            {
                throw new UsageException("--checkpoint " + ex.Message);
            }
        }

        if (source.Classes > options.Classes)
        {
            throw new UsageException($"{source.Name} has {source.Classes} classes but the model has {options.Classes}");
        }

        return classifier;
    }

    /// <summary>The chain to use: the checkpoint's (options and data that contradict it are usage errors), else the fresh one (with a notice for a checkpoint without a description).</summary>
    private static Preprocessing Chain(CheckpointInput? checkpoint, Preprocessing fresh, ParsedArgs args, string source, TextWriter stderr)
    {
        if (checkpoint?.Stored is not { } stored)
        {
            return checkpoint is null ? fresh : checkpoint.Resolve(fresh, stderr);
        }

        checkpoint.CheckData(source, "input", PreprocessingNames.Name(fresh.Input), PreprocessingNames.Name(stored.Input));
        if (stored.Input == InputKind.Audio)
        {
            checkpoint.CheckData(source, "channels", fresh.Channels, stored.Channels);
        }
        else
        {
            checkpoint.CheckData(source, "sensor", $"{fresh.Width}x{fresh.Height}", $"{stored.Width}x{stored.Height}");
            checkpoint.CheckOption(args, "pooling", "pooling", stored.Pooling);
        }

        CheckBinningOption(checkpoint, args, "bin-us", "bin_us", stored, BinningKind.Time, stored.BinUs);
        CheckBinningOption(checkpoint, args, "frames", "frames", stored, BinningKind.EqualCountFrames, stored.Frames);
        checkpoint.CheckOption(args, "max-steps", "max_steps", stored.MaxSteps);
        return stored;
    }

    private static void CheckBinningOption(CheckpointInput checkpoint, ParsedArgs args, string option, string field, Preprocessing stored, BinningKind kind, long value)
    {
        if (!args.Has(option))
        {
            return;
        }

        if (stored.Binning != kind && !(kind == BinningKind.EqualCountFrames && stored.Binning == BinningKind.EqualTimeFrames))
        {
            throw new UsageException($"--{option} {args.Get(option)} contradicts the checkpoint {checkpoint.Path}: its binning = {PreprocessingNames.Name(stored.Binning)} (no {field})");
        }

        checkpoint.CheckOption(args, option, field, value);
    }

    /// <summary>
    /// A dataset folder's split replayed through the streaming pipeline (SHD-layout samples,
    /// gesture recordings cut by their label files, N-MNIST files one sample each) and prepared by
    /// the checkpoint's chain (or the dataset's preset for a fresh model), one decision per sample
    /// in the order eval reads them.
    /// </summary>
    private static Source FolderSource(string dir, ParsedArgs args, double speed, CheckpointInput? checkpoint, TextWriter stderr)
    {
        string split = args.Get("split") ?? "test";
        if (split is not ("test" or "train"))
        {
            throw new UsageException($"option --split: '{split}' is not test or train");
        }

        DatasetLayout layout = TrainingData.Layout(dir);
        Preprocessing p = checkpoint is null ? layout.Network : checkpoint.Resolve(layout.Network, stderr);
        if (checkpoint?.Stored is { } stored)
        {
            checkpoint.CheckData(dir, "input", PreprocessingNames.Name(layout.Network.Input), PreprocessingNames.Name(stored.Input));
        }

        string name = $"{Path.GetFileName(Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar))} ({split})";
        try
        {
            if (layout.Prefix is { } prefix)
            {
                string file = Path.Combine(dir, prefix + "_" + split + ".h5");
                int channels, classes, samples;
                string[] keys;
                using (ShdFile shd = ShdFile.Open(file))
                {
                    channels = shd.Channels;
                    classes = Math.Max(shd.Classes, shd.Keys.Count);
                    keys = [.. shd.Keys];
                    samples = shd.Count;
                }

                checkpoint?.CheckData(file, "channels", channels, p.Channels);
                IObservable<TimeStep> shdSteps = EventReplay.ReplayShdSamples(file, new ShdReplayOptions { MinSampleUs = p.SampleSpanUs ?? 0, Speed = speed }).Preprocess(p);
                return new Source(name, shdSteps, p, classes, p.StepsPerSample() ?? (p.MaxSteps > 0 ? p.MaxSteps : 100), keys, false, string.Create(CultureInfo.InvariantCulture, $"{layout.Kind}, {samples} samples, one decision per sample"));
            }

            // DVS layouts: one replay per recording, cut into its labelled samples; sample numbers continue across recordings
            var parts = new List<IObservable<TimeStep>>();
            long offset = 0;
            long longest = 0;
            int count = 0;
            var replay = new ReplayOptions { Pacing = speed > 0 ? ReplayPacing.Scaled : ReplayPacing.AsFastAsPossible, Speed = speed > 0 ? speed : 1 };
            List<(string File, List<LabelSegment> Segments)> recordings = DatasetRecordings(dir, layout, split == "train", p, out string[] names);
            foreach ((string file, List<LabelSegment> segments) in recordings)
            {
                long first = offset;
                parts.Add(EventReplay.ReplayFile(file, options: replay).CutByLabels(segments).Preprocess(p).Select(step =>
                {
                    step.Sample += first;
                    return step;
                }));
                offset += segments.Count;
                count += segments.Count;
                foreach (LabelSegment seg in segments)
                {
                    longest = Math.Max(longest, seg.EndUs - seg.StartUs);
                }
            }

            int perSample = p.StepsPerSample(longest) ?? (p.MaxSteps > 0 ? p.MaxSteps : 100);
            return new Source(name, parts.Concat(), p, names.Length, perSample, names, true, string.Create(CultureInfo.InvariantCulture, $"{layout.Kind}, {count} samples, one decision per sample"));
        }
        catch (PreprocessingException ex)
        {
            throw new UsageException($"{dir}: {ex.Message}", ex);
        }
    }

    /// <summary>The recordings of a DVS dataset split with their labelled segments (0-based classes), in the order the dataset loaders read them.</summary>
    private static List<(string File, List<LabelSegment> Segments)> DatasetRecordings(string dir, DatasetLayout layout, bool train, Preprocessing p, out string[] classNames)
    {
        var result = new List<(string, List<LabelSegment>)>();
        if (layout.Source == DatasetSource.NMnist)
        {
            classNames = [.. Enumerable.Range(0, 10).Select(d => d.ToString(CultureInfo.InvariantCulture))];
            foreach ((string file, int label) in EventSnn.Datasets.Loaders.NMnistDataset.Open(dir, train, p).Files)
            {
                result.Add((file, [new LabelSegment(label, 0, long.MaxValue)]));
            }

            return result;
        }

        var set = EventSnn.Datasets.Loaders.DvsGestureDataset.Open(dir, train, p);
        classNames = [.. set.ClassNames];
        foreach (string trial in set.Trials)
        {
            var segments = new List<LabelSegment>();
            foreach (var l in EventSnn.Datasets.Loaders.DvsGestureDataset.ReadLabels(EventSnn.Datasets.Loaders.DvsGestureDataset.LabelsPath(dir, trial)))
            {
                segments.Add(l with { Label = l.Label - 1 });
            }

            result.Add((Path.Combine(dir, trial), segments));
        }

        return result;
    }

    private static Source ShdSource(string path, ParsedArgs args, double speed, CheckpointInput? checkpoint, TextWriter stderr)
    {
        long binUs = args.GetLong("bin-us", PreprocessingPresets.Shd.BinUs);
        int maxSteps = args.GetInt("max-steps", PreprocessingPresets.Shd.MaxSteps);
        if (binUs is < 1 or > 10_000_000)
        {
            throw new UsageException($"option --bin-us: {binUs} must be in 1..10000000");
        }

        if (maxSteps is < 1 or > 100_000)
        {
            throw new UsageException($"option --max-steps: {maxSteps} must be in 1..100000");
        }

        int channels, classes, samples;
        string[] keys;
        using (ShdFile file = ShdFile.Open(path))
        {
            channels = file.Channels;
            classes = Math.Max(file.Classes, file.Keys.Count);
            keys = [.. file.Keys];
            samples = file.Count;
        }

        Preprocessing fresh = PreprocessingPresets.Shd.ForChannels(channels) with { BinUs = binUs, MaxSteps = maxSteps };
        Preprocessing p = Chain(checkpoint, fresh, args, Path.GetFileName(path), stderr);
        IObservable<TimeStep> steps = EventReplay.ReplayShdSamples(path, new ShdReplayOptions { MinSampleUs = p.SampleSpanUs ?? 0, Speed = speed }).Preprocess(p);
        int perSample = p.StepsPerSample() ?? (p.MaxSteps > 0 ? p.MaxSteps : 100);
        return new Source(Path.GetFileName(path), steps, p, classes, perSample, keys, false, string.Create(CultureInfo.InvariantCulture, $"SHD, {samples} samples, {channels} channels, one decision per sample"));
    }

    private static Source DvsSource(string target, bool live, string? labelsCsv, ParsedArgs args, double speed, int labelBase, CheckpointInput? checkpoint, TextWriter stderr)
    {
        int pooling = args.GetInt("pooling", PreprocessingPresets.DvsGesture.Pooling);
        if (pooling is < 1 or > 4096)
        {
            throw new UsageException($"option --pooling: {pooling} must be in 1..4096");
        }

        Preprocessing? stored = checkpoint?.Stored;
        SensorGeometry geometry = args.Get("sensor") is { } sensor ? ParseSensor(sensor)
            : stored is { Input: InputKind.Dvs } ? new SensorGeometry(stored.Width, stored.Height)
            : new SensorGeometry(128, 128);
        IObservable<EventBatch> events;
        string name;
        IReadOnlyList<string>? folderNames = null; // a recording's class names: classes.txt beside it
        if (live)
        {
            LiveSource liveSource;
            try
            {
                liveSource = LiveInspect.CreateSource(target, new LiveInspectOptions { Geometry = geometry });
            }
            catch (ArgumentException ex)
            {
                throw new UsageException(CommandRunner.UserMessage(ex));
            }

            events = liveSource;
            name = liveSource.SourceName;
        }
        else
        {
            using (IDvsEventReader reader = EventReaders.OpenDvs(target))
            {
                if (reader.Geometry.IsKnown && args.Get("sensor") is null)
                {
                    geometry = reader.Geometry;
                }
            }

            events = EventReplay.ReplayFile(target, options: new ReplayOptions
            {
                Pacing = speed > 0 ? ReplayPacing.Scaled : ReplayPacing.AsFastAsPossible,
                Speed = speed > 0 ? speed : 1,
            });
            name = Path.GetFileName(target);
            folderNames = ClassNamesFile.Read(Path.GetDirectoryName(Path.GetFullPath(target))!);
        }

        Preprocessing fresh = PreprocessingPresets.DvsGesture.ForSensor(geometry.Width, geometry.Height) with { Pooling = pooling };
        int classes = checkpoint?.Data.Config.Readout.Size ?? args.GetInt("classes", GestureGenerator.Classes);
        if (labelsCsv is not null)
        {
            int frames = args.GetInt("frames", PreprocessingPresets.DvsGesture.Frames);
            if (frames is < 1 or > 10_000)
            {
                throw new UsageException($"option --frames: {frames} must be in 1..10000");
            }

            Preprocessing p = Chain(checkpoint, fresh with { Frames = frames }, args, name, stderr);
            var segments = new List<LabelSegment>();
            List<LabelSegment> track = LabelCsv.Read(labelsCsv);

            long duration = 0;
            for (int i = 0; i < track.Count; i++)
            {
                int label = track[i].Label - labelBase;
                if (label < 0 || label >= classes)
                {
                    throw new UsageException($"{labelsCsv}: segment {i + 1}: class {track[i].Label} outside {labelBase}..{labelBase + classes - 1} (see --label-base, --classes)");
                }

                segments.Add(track[i] with { Label = label });
                duration = Math.Max(duration, track[i].EndUs - track[i].StartUs);
            }

            IObservable<TimeStep> steps = events.CutByLabels(segments).Preprocess(p);
            int perSegment = p.StepsPerSample(duration) ?? (p.MaxSteps > 0 ? p.MaxSteps : 100);
            return new Source(name, steps, p, 0, perSegment, folderNames, true, string.Create(CultureInfo.InvariantCulture, $"DVS {geometry.Width}x{geometry.Height}, {segments.Count} labelled segments, one decision each"));
        }

        long binUs = args.GetLong("bin-us", 50_000);
        long windowUs = args.GetLong("window-us", 1_000_000);
        if (binUs is < 1 or > 100_000_000)
        {
            throw new UsageException($"option --bin-us: {binUs} must be in 1..100000000");
        }

        Preprocessing chain = Chain(checkpoint, fresh with { Binning = BinningKind.Time, BinUs = binUs, Frames = 0 }, args, name, stderr);
        if (windowUs < 1 || (chain.Binning == BinningKind.Time && (windowUs < chain.BinUs || windowUs / chain.BinUs > 100_000)))
        {
            throw new UsageException($"option --window-us: {windowUs} must be at least the bin width ({chain.BinUs}) and at most 100000 bins");
        }

        IObservable<TimeStep> binned = events.PreprocessWindows(chain, windowUs);
        int perWindow = chain.StepsPerSample(windowUs) ?? (chain.MaxSteps > 0 ? chain.MaxSteps : 100);
        return new Source(name, binned, chain, 0, perWindow, folderNames, true, string.Create(CultureInfo.InvariantCulture, $"DVS {geometry.Width}x{geometry.Height}, a decision every {windowUs} us"));
    }

    private static SensorGeometry ParseSensor(string? text)
    {
        if (text is null)
        {
            return new SensorGeometry(128, 128);
        }

        string[] parts = text.Split('x', 'X');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int w)
            && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int h)
            && w is > 0 and <= 65_536 && h is > 0 and <= 65_536)
        {
            return new SensorGeometry(w, h);
        }

        throw new UsageException($"option --sensor: '{text}' is not WxH (e.g. 128x128)");
    }

    private static double Positive(double value, string name, bool allowZero)
    {
        if (!double.IsFinite(value) || value < 0 || (!allowZero && value == 0))
        {
            throw new UsageException($"option --{name}: {value.ToString(CultureInfo.InvariantCulture)} must be {(allowZero ? ">= 0" : "> 0")}");
        }

        return value;
    }

    private static string[] ClassNames(Source source, CheckpointInput? checkpoint, int classes)
    {
        if (checkpoint?.Classes is { } stored && stored.Count == classes)
        {
            return [.. stored];
        }

        var names = new string[classes];
        for (int i = 0; i < classes; i++)
        {
            names[i] = source.Keys is { } keys && i < keys.Count ? keys[i] : i.ToString(CultureInfo.InvariantCulture);
        }

        return names;
    }

    private static string DecisionText(StreamDecision d, double seconds) =>
        string.Create(CultureInfo.InvariantCulture, $"{seconds,8:F2} s  {d.Stream,-16} t={d.TUs / 1e6,12:F3} s  {d.Label,-14} {d.Confidence,4:P0}  {d.LatencyMs,7:F2} ms  truth {d.Truth ?? "?",-14} {(d.TruthIndex < 0 ? string.Empty : d.Correct ? "ok" : "x")}");

    private static void WriteSummary(TextWriter stdout, bool json, Source source, StreamClassifier session, double seconds, bool interrupted, bool learn, string? saved, List<string> plots, (double Mean, double P99) latency)
    {
        ClassificationTally t = session.Tally;
        OnlineSequenceClassifier c = session.Classifier;
        double chance = 1.0 / c.Options.Classes;
        if (json)
        {
            var summary = new ClassifySummaryJson(
                source.Name,
                session.Events,
                session.Steps,
                t.Decisions,
                t.Labelled,
                t.Accuracy,
                t.AccuracyFirstHalf,
                t.AccuracySecondHalf,
                Math.Round(chance, 4),
                Math.Round(latency.Mean, 4),
                Math.Round(latency.P99, 4),
                learn,
                TrainCommand.MethodName(c.Options.Recipe.Method),
                c.Updates,
                c.Divergences,
                session.LabelsReceived,
                session.LabelsUnmatched,
                session.LateLearned,
                Math.Round(seconds, 2),
                interrupted,
                saved,
                plots);
            stdout.WriteLine(JsonSerializer.Serialize(new ClassifySummaryLine(summary), CliJsonContext.Default.ClassifySummaryLine));
            return;
        }

        stdout.WriteLine();
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"summary: {t.Decisions:N0} decisions ({t.Labelled:N0} labelled), accuracy {t.Accuracy:P1} (first half {t.AccuracyFirstHalf:P1}, second half {t.AccuracySecondHalf:P1}), chance {chance:P1}, decision latency mean {latency.Mean:F3} ms, p99 {latency.P99:F3} ms"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {session.Events:N0} events, {session.Steps:N0} steps, {c.Updates:N0} {TrainCommand.MethodName(c.Options.Recipe.Method)} updates, {c.Divergences} divergences rolled back, {session.LabelsReceived:N0} labels received ({session.LabelsUnmatched:N0} unmatched, {session.LateLearned:N0} segments learned late), {seconds:F2} s{(interrupted ? ", interrupted" : string.Empty)}"));
        if (saved is not null)
        {
            stdout.WriteLine("checkpoint: " + saved);
        }

        if (plots.Count > 0)
        {
            stdout.WriteLine("plots: " + string.Join(", ", plots));
        }
    }

    /// <summary>
    /// Rolling accuracy of the labelled decisions over stream time in seconds (from the first
    /// decision), or over the decision count when the source's times restart (dataset samples).
    /// </summary>
    private static string AccuracyPlot(string folder, string stream, ClassificationTally tally, List<long> ends, int classes)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        var outcomes = new List<bool>();
        var times = new List<long>();
        bool monotonic = ends.Count >= tally.Decisions;
        for (int i = 0; i < tally.Decisions; i++)
        {
            if (tally.Outcome(i) is { } ok)
            {
                outcomes.Add(ok);
                times.Add(i < ends.Count ? ends[i] : 0);
            }

            monotonic &= i == 0 || i >= ends.Count || ends[i] >= ends[i - 1];
        }

        long origin = ends.Count > 0 ? ends[0] : 0;
        int window = Math.Max(5, outcomes.Count / 15);
        int correct = 0;
        for (int i = 0; i < outcomes.Count; i++)
        {
            correct += outcomes[i] ? 1 : 0;
            if (i >= window)
            {
                correct -= outcomes[i - window] ? 1 : 0;
            }

            if (i >= window - 1)
            {
                xs.Add(monotonic ? (times[i] - origin) / 1e6 : i + 1);
                ys.Add(correct / (double)window);
            }
        }

        var plot = new Plot();
        if (xs.Count > 0)
        {
            var line = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray());
            line.LineWidth = 2;
            line.LegendText = string.Create(CultureInfo.InvariantCulture, $"{stream} (rolling {window})");
        }

        var chance = plot.Add.HorizontalLine(1.0 / classes);
        chance.LinePattern = LinePattern.Dashed;
        chance.LegendText = "chance";
        plot.Title("eventsnn classify: accuracy of the labelled decisions");
        plot.XLabel(monotonic ? "stream time since the first decision (s)" : "labelled decision (samples' times restart)");
        plot.YLabel("accuracy");
        plot.Axes.SetLimitsY(0, 1.05);
        plot.ShowLegend(Alignment.UpperLeft);
        string path = Path.Combine(folder, "accuracy.png");
        plot.SavePng(path, 1000, 500);
        return path;
    }

    /// <summary>The time steps to classify, the chain that prepares them and what they look like.</summary>
    private sealed record Source(string Name, IObservable<TimeStep> Steps, Preprocessing Preprocessing, int Classes, int StepsPerSegment, IReadOnlyList<string>? Keys, bool Dvs, string Describe)
    {
        public int Inputs => Preprocessing.Features;
    }
}
