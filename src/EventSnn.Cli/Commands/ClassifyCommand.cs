using System.Globalization;
using System.Runtime.InteropServices;
using EventSnn.Datasets.Generators;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;
using EventSnn.Snn;
using EventSnn.Snn.Classification;
using ScottPlot;

namespace EventSnn.Cli.Commands;

/// <summary>
/// `eventsnn classify &lt;file | tcp://host:port | udp://host:port&gt;`: streaming classification
/// of a recording or a live DV/jAER stream with a checkpoint or a fresh model, optionally
/// adapting online (FPTT) from label feedback (a label CSV, a label stream, or SHD labels).
/// The wiring lives here; segmenting, deciding, late-label learning and the tally are
/// <see cref="StreamClassifier"/>'s.
/// </summary>
internal sealed class ClassifyCommand : Command
{
    public override string Name => "classify";

    public override string Summary => "classify a recording or a live tcp:// / udp:// stream; --learn adapts online from label feedback";

    public override string Arguments => "<file | tcp://host:port | udp://host:port>";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("checkpoint", "path", "model to start from (written by run, train or classify --save); default a fresh model"),
        new("classes", "n", "fresh model: classes (default: the SHD file's, else 10)"),
        new("hidden", "n", "fresh model: recurrent neurons (default 128)"),
        new("chunks", "k", "FPTT chunks per segment (default 5)"),
        new("lr", "rate", "Adam learning rate for --learn (default 0.003)"),
        new("seed", "n", "fresh model: initialisation seed (default 1)"),
        new("learn", null, "adapt online (FPTT) on every segment whose label is known"),
        new("labels", "csv", "DVS label CSV (class,startTime_usec,endTime_usec): one decision per labelled segment"),
        new("label-stream", "tcp://host:port", "label feedback lines \"t_us,label\" (the label of the segment ending at t_us)"),
        new("label-base", "n", "DVS labels: number of the first class in --labels / --label-stream (default 1, as in DVS Gesture)"),
        new("bin-us", "us", "DVS without --labels: time bin per step (default 50000); SHD: bin width (default 4000)"),
        new("window-us", "us", "DVS without --labels: one decision every window (default 1000000)"),
        new("frames", "n", "DVS with --labels: equal-event-count frames per segment (default 20)"),
        new("pooling", "k", "DVS: spatial pooling factor (default 8)"),
        new("sensor", "WxH", "DVS: sensor size when the source does not say (default 128x128)"),
        new("max-steps", "n", "SHD: most steps per sample (default 250)"),
        new("speed", "x", "files: replay speed, 0 = as fast as possible (default), 1 = real time"),
        new("duration", "s", "live sources: stop after this many seconds (default: until the peer closes or Ctrl-C)"),
        new("save", "path", "write the model checkpoint here at the end (atomically), e.g. after --learn"),
        new("plots", "dir", "write accuracy.png (rolling accuracy of the labelled decisions) here"),
        new("json", null, "one JSON object per decision, then {\"summary\": ...}"),
        new("quiet", null, "no per-decision lines (summary only)"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string target = args.Positional(0, "<file | tcp://host:port | udp://host:port>");
        bool live = LiveInspect.IsLiveAddress(target);
        bool json = args.Has("json");
        bool quiet = args.Has("quiet");
        bool learn = args.Has("learn");
        if (!live && !File.Exists(target))
        {
            throw new FileNotFoundException($"{target}: file not found", target);
        }

        bool shd = !live && Path.GetExtension(target).ToLowerInvariant() is ".h5" or ".hdf5";
        string? labelsCsv = args.Get("labels");
        string? labelStream = args.Get("label-stream");
        if (shd && (labelsCsv is not null || labelStream is not null))
        {
            throw new UsageException("SHD files carry their labels: --labels and --label-stream are for DVS streams");
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
        CheckpointData? checkpoint = ReadCheckpoint(args.Get("checkpoint"));

        // describe the input, then build the model for it
        Source source = shd ? ShdSource(target, args, speed) : DvsSource(target, live, labelsCsv, args, speed, labelBase, checkpoint);
        OnlineSequenceClassifier classifier = CreateModel(source, args, checkpoint);
        classifier.Learning = learn;
        string[] names = ClassNames(source, classifier.Options.Classes);
        if (learn && !shd && labelsCsv is null && labelStream is null)
        {
            stderr.WriteLine("warning: --learn without --labels or --label-stream: no label feedback, nothing will be learned");
        }

        using var session = new StreamClassifier(classifier, new StreamClassifierOptions { WindowUs = source.WindowUs });
        using var signals = new StopSignals();
        using var stop = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(signals.Token, stop.Token);
        if (duration > 0)
        {
            stop.CancelAfter(TimeSpan.FromSeconds(duration));
        }

        LabelStreamClient? labels = null;
        var latencies = new List<double>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            if (labelStream is not null)
            {
                labels = ConnectLabels(labelStream, session, labelBase, stderr);
            }

            if (!json)
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"eventsnn classify: {source.Name} ({source.Describe}), model {classifier.Options.Inputs} inputs -> {classifier.Options.Recipe.Hidden} LTC -> {classifier.Options.Classes} classes{(checkpoint is null ? " (fresh)" : " from " + checkpoint.Path)}, {(learn ? "learning online" : "no learning")}"));
            }

            var gate = new Lock();
            session.Decided = d =>
            {
                lock (gate)
                {
                    latencies.Add(d.LatencyMs);
                    if (json)
                    {
                        stdout.WriteLine(DecisionJson(d, source.Name, names));
                    }
                    else if (!quiet)
                    {
                        stdout.WriteLine(DecisionText(d, source.Name, names, clock.Elapsed.TotalSeconds));
                    }
                }
            };
            Consume(source, session, live, linked.Token);
        }
        finally
        {
            labels?.Dispose();
        }

        bool interrupted = signals.Token.IsCancellationRequested;
        if (labels?.Error is { } labelError)
        {
            stderr.WriteLine("warning: " + labelError.Message);
        }

        string? saved = null;
        if (args.Get("save") is { } savePath)
        {
            string full = Path.GetFullPath(savePath);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            classifier.Save(full);
            saved = full;
        }

        var plots = new List<string>();
        if (args.Get("plots") is { } plotDir)
        {
            Directory.CreateDirectory(plotDir);
            plots.Add(AccuracyPlot(Path.GetFullPath(plotDir), source.Name, session.Tally, classifier.Options.Classes));
        }

        latencies.Sort();
        double meanLatency = latencies.Count == 0 ? 0 : latencies.Sum() / latencies.Count;
        double p99Latency = latencies.Count == 0 ? 0 : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(0.99 * latencies.Count) - 1)];
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
            throw new UsageException(ex.Message);
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
            return LabelStreamClient.Connect(address, (t, label) => session.Label(t, label - labelBase), onMalformed: m => stderr.WriteLine("warning: " + m));
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }
        catch (PipelineException ex)
        {
            throw new UsageException(ex.Message);
        }
    }

    private static CheckpointData? ReadCheckpoint(string? path)
    {
        if (path is null)
        {
            return null;
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: file not found", path);
        }

        try
        {
            CheckpointData data = Checkpoint.Read(path);
            if (data.Config.Layers.Count != 1)
            {
                throw new UsageException($"--checkpoint {path}: {data.Config.Layers.Count} layers; classify takes one recurrent layer with a readout");
            }

            return data;
        }
        catch (CheckpointException ex)
        {
            throw new UsageException("--checkpoint " + ex.Message);
        }
    }

    private static OnlineSequenceClassifier CreateModel(Source source, ParsedArgs args, CheckpointData? checkpoint)
    {
        int chunks = args.GetInt("chunks", 5);
        if (chunks < 1 || chunks > source.StepsPerSegment)
        {
            throw new UsageException($"option --chunks: {chunks} must be in 1..{source.StepsPerSegment} (the steps per segment)");
        }

        double lr = args.GetDouble("lr", 3e-3);
        if (!(lr > 0 && lr < 1))
        {
            throw new UsageException($"option --lr: {lr} must be in (0, 1)");
        }

        OnlineClassifierOptions options;
        if (checkpoint is not null)
        {
            NetworkConfig c = checkpoint.Config;
            if (c.InputSize != source.Inputs)
            {
                throw new UsageException($"--checkpoint {checkpoint.Path}: the model takes {c.InputSize} inputs but {source.Name} gives {source.Inputs} ({source.Describe}); check --pooling / --sensor");
            }

            if (args.Get("classes") is { } cls && int.Parse(cls, CultureInfo.InvariantCulture) != c.Readout.Size)
            {
                throw new UsageException($"--classes {cls} disagrees with --checkpoint {checkpoint.Path} ({c.Readout.Size} classes)");
            }

            options = new OnlineClassifierOptions
            {
                Inputs = c.InputSize,
                Classes = c.Readout.Size,
                Steps = source.StepsPerSegment,
                Recipe = new SequenceTrainerOptions
                {
                    Hidden = c.Layers[0].Size,
                    Model = c.Layers[0].Model,
                    Seed = checked((int)c.Seed),
                    Chunks = chunks,
                    LearningRate = lr,
                },
            };
        }
        else
        {
            int classes = args.GetInt("classes", source.Classes > 0 ? source.Classes : 10);
            int hidden = args.GetInt("hidden", 128);
            if (classes is < 2 or > 10_000)
            {
                throw new UsageException($"option --classes: {classes} must be in 2..10000");
            }

            if (hidden is < 1 or > 4096)
            {
                throw new UsageException($"option --hidden: {hidden} must be in 1..4096");
            }

            options = new OnlineClassifierOptions
            {
                Inputs = source.Inputs,
                Classes = classes,
                Steps = source.StepsPerSegment,
                Recipe = new SequenceTrainerOptions
                {
                    Hidden = hidden,
                    Seed = args.GetInt("seed", 1),
                    Chunks = chunks,
                    LearningRate = lr,
                },
            };
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

    private static Source ShdSource(string path, ParsedArgs args, double speed)
    {
        long binUs = args.GetLong("bin-us", 4_000);
        int maxSteps = args.GetInt("max-steps", 250);
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

        IObservable<TimeStep> steps = EventReplay.ReplayShdSamples(path, new ShdReplayOptions { BinUs = binUs, MaxSteps = maxSteps, Speed = speed });
        return new Source(Path.GetFileName(path), steps, channels, classes, maxSteps, 0, keys, false, string.Create(CultureInfo.InvariantCulture, $"SHD, {samples} samples, {channels} channels, {binUs} us bins, one decision per sample"));
    }

    private static Source DvsSource(string target, bool live, string? labelsCsv, ParsedArgs args, double speed, int labelBase, CheckpointData? checkpoint)
    {
        int pooling = args.GetInt("pooling", 8);
        if (pooling is < 1 or > 4096)
        {
            throw new UsageException($"option --pooling: {pooling} must be in 1..4096");
        }

        SensorGeometry geometry = ParseSensor(args.Get("sensor"));
        IObservable<EventBatch> events;
        string name;
        if (live)
        {
            LiveSource liveSource;
            try
            {
                liveSource = LiveInspect.CreateSource(target, new LiveInspectOptions { Geometry = geometry });
            }
            catch (ArgumentException ex)
            {
                throw new UsageException(ex.Message);
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
        }

        var layout = new TimeStepLayout(2, (geometry.Height + pooling - 1) / pooling, (geometry.Width + pooling - 1) / pooling);
        var stepOptions = new TimeStepOptions { Layout = layout, Mode = FrameMode.Counts };
        int classes = checkpoint?.Config.Readout.Size ?? args.GetInt("classes", GestureGenerator.Classes);
        if (labelsCsv is not null)
        {
            int frames = args.GetInt("frames", 20);
            if (frames is < 1 or > 10_000)
            {
                throw new UsageException($"option --frames: {frames} must be in 1..10000");
            }

            var segments = new List<LabelSegment>();
            List<LabelSegment> track;
            try
            {
                track = LabelTrack.ReadCsv(labelsCsv);
            }
            catch (FormatException ex)
            {
                throw new UsageException(ex.Message);
            }

            for (int i = 0; i < track.Count; i++)
            {
                int label = track[i].Label - labelBase;
                if (label < 0 || label >= classes)
                {
                    throw new UsageException($"{labelsCsv}: segment {i + 1}: class {track[i].Label} outside {labelBase}..{labelBase + classes - 1} (see --label-base, --classes)");
                }

                segments.Add(track[i] with { Label = label });
            }

            IObservable<TimeStep> steps = events.Downsample(pooling).CutByLabels(segments).BinSamples(new SegmentBinning { BinCount = frames, Kind = SegmentBinKind.EventBins }, stepOptions);
            return new Source(name, steps, layout.InputCount, 0, frames, 0, null, true, string.Create(CultureInfo.InvariantCulture, $"DVS {geometry.Width}x{geometry.Height} pooled {pooling} -> {layout}, {segments.Count} labelled segments of {frames} frames, one decision each"));
        }

        long binUs = args.GetLong("bin-us", 50_000);
        long windowUs = args.GetLong("window-us", 1_000_000);
        if (binUs is < 1 or > 100_000_000)
        {
            throw new UsageException($"option --bin-us: {binUs} must be in 1..100000000");
        }

        if (windowUs < binUs || windowUs / binUs > 100_000)
        {
            throw new UsageException($"option --window-us: {windowUs} must be at least --bin-us ({binUs}) and at most 100000 bins");
        }

        IObservable<TimeStep> binned = events.Downsample(pooling).BinByTime(new TimeWindowOptions { WindowUs = binUs }, stepOptions);
        int perWindow = (int)((windowUs + binUs - 1) / binUs);
        return new Source(name, binned, layout.InputCount, 0, perWindow, windowUs, null, true, string.Create(CultureInfo.InvariantCulture, $"DVS {geometry.Width}x{geometry.Height} pooled {pooling} -> {layout}, {binUs} us bins, a decision every {windowUs} us"));
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

    private static string[] ClassNames(Source source, int classes)
    {
        var names = new string[classes];
        for (int i = 0; i < classes; i++)
        {
            names[i] = source.Keys is { } keys && i < keys.Count ? keys[i]
                : source.Dvs && classes == GestureGenerator.Classes ? GestureGenerator.ClassNames[i]
                : i.ToString(CultureInfo.InvariantCulture);
        }

        return names;
    }

    private static string DecisionText(StreamDecision d, string stream, string[] names, double seconds)
    {
        string label = d.Label >= 0 ? names[d.Label] : "?";
        string truth = d.Truth >= 0 ? names[d.Truth] : "?";
        return string.Create(CultureInfo.InvariantCulture, $"{seconds,8:F2} s  {stream,-16} t={d.EndUs / 1e6,12:F3} s  {label,-14} {d.Confidence,4:P0}  {d.LatencyMs,7:F2} ms  truth {truth,-14} {(d.Truth < 0 ? string.Empty : d.Correct ? "ok" : "x")}");
    }

    private static string DecisionJson(StreamDecision d, string stream, string[] names) => JsonLine.ToString(w =>
    {
        w.WriteNumber("t_us", d.EndUs);
        w.WriteNumber("start_us", d.StartUs);
        w.WriteString("stream", stream);
        w.WriteString("label", d.Label >= 0 ? names[d.Label] : "?");
        w.WriteNumber("label_index", d.Label);
        w.WriteNumber("confidence", Math.Round(d.Confidence, 4));
        w.WriteNumber("latency_ms", Math.Round(d.LatencyMs, 4));
        if (d.Truth >= 0)
        {
            w.WriteString("truth", names[d.Truth]);
        }
        else
        {
            w.WriteNull("truth");
        }

        w.WriteNumber("truth_index", d.Truth);
        w.WriteBoolean("correct", d.Correct);
        w.WriteNumber("decision", d.Index);
        w.WriteNumber("sample", d.Sample);
        w.WriteNumber("steps", d.Steps);
        w.WriteNumber("events", d.Events);
    });

    private static void WriteSummary(TextWriter stdout, bool json, Source source, StreamClassifier session, double seconds, bool interrupted, bool learn, string? saved, List<string> plots, (double Mean, double P99) latency)
    {
        ClassificationTally t = session.Tally;
        OnlineSequenceClassifier c = session.Classifier;
        double chance = 1.0 / c.Options.Classes;
        if (json)
        {
            JsonLine.Write(stdout, w =>
            {
                w.WriteStartObject("summary");
                w.WriteString("stream", source.Name);
                w.WriteNumber("events", session.Events);
                w.WriteNumber("steps", session.Steps);
                w.WriteNumber("decisions", t.Decisions);
                w.WriteNumber("labelled", t.Labelled);
                w.WriteNumber("accuracy", Math.Round(t.Accuracy, 4));
                w.WriteNumber("accuracy_first_half", Math.Round(t.AccuracyFirstHalf, 4));
                w.WriteNumber("accuracy_second_half", Math.Round(t.AccuracySecondHalf, 4));
                w.WriteNumber("chance", Math.Round(chance, 4));
                w.WriteNumber("latency_mean_ms", Math.Round(latency.Mean, 4));
                w.WriteNumber("latency_p99_ms", Math.Round(latency.P99, 4));
                w.WriteBoolean("learn", learn);
                w.WriteNumber("updates", c.Updates);
                w.WriteNumber("divergences", c.Divergences);
                w.WriteNumber("labels_received", session.LabelsReceived);
                w.WriteNumber("labels_unmatched", session.LabelsUnmatched);
                w.WriteNumber("late_learned", session.LateLearned);
                w.WriteNumber("seconds", Math.Round(seconds, 2));
                w.WriteBoolean("interrupted", interrupted);
                if (saved is null)
                {
                    w.WriteNull("checkpoint");
                }
                else
                {
                    w.WriteString("checkpoint", saved);
                }

                w.WriteStartArray("plots");
                foreach (string p in plots)
                {
                    w.WriteStringValue(p);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            });
            return;
        }

        stdout.WriteLine();
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"summary: {t.Decisions:N0} decisions ({t.Labelled:N0} labelled), accuracy {t.Accuracy:P1} (first half {t.AccuracyFirstHalf:P1}, second half {t.AccuracySecondHalf:P1}), chance {chance:P1}, decision latency mean {latency.Mean:F3} ms, p99 {latency.P99:F3} ms"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {session.Events:N0} events, {session.Steps:N0} steps, {c.Updates:N0} FPTT updates, {c.Divergences} divergences rolled back, {session.LabelsReceived:N0} labels received ({session.LabelsUnmatched:N0} unmatched, {session.LateLearned:N0} segments learned late), {seconds:F2} s{(interrupted ? ", interrupted" : string.Empty)}"));
        if (saved is not null)
        {
            stdout.WriteLine("checkpoint: " + saved);
        }

        if (plots.Count > 0)
        {
            stdout.WriteLine("plots: " + string.Join(", ", plots));
        }
    }

    private static string AccuracyPlot(string folder, string stream, ClassificationTally tally, int classes)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        var outcomes = new List<bool>();
        for (int i = 0; i < tally.Decisions; i++)
        {
            if (tally.Outcome(i) is { } ok)
            {
                outcomes.Add(ok);
            }
        }

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
                xs.Add(i + 1);
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
        plot.XLabel("labelled decision");
        plot.YLabel("accuracy");
        plot.Axes.SetLimitsY(0, 1.05);
        plot.ShowLegend(Alignment.UpperLeft);
        string path = Path.Combine(folder, "accuracy.png");
        plot.SavePng(path, 1000, 500);
        return path;
    }

    /// <summary>The time steps to classify and what they look like.</summary>
    private sealed record Source(string Name, IObservable<TimeStep> Steps, int Inputs, int Classes, int StepsPerSegment, long WindowUs, IReadOnlyList<string>? Keys, bool Dvs, string Describe);
}
