using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using EventSnn.Datasets;
using EventSnn.Pipeline;
using EventSnn.Snn;
using EventSnn.Snn.Classification;
using EventSnn.Transforms;
using Spectre.Console;

namespace EventSnn.Cli.Commands;

/// <summary>
/// <c>eventsnn train</c>: offline training on a dataset folder with FPTT or BPTT on the managed
/// (or torch) backend; metrics per epoch, an atomic checkpoint at every epoch end, graceful stop
/// on Ctrl-C/SIGTERM (exit 130 after saving).
/// </summary>
internal sealed class TrainCommand : Command
{
    public override string Name => "train";

    public override string Summary => "train a spiking network offline on a dataset folder (FPTT or BPTT, managed or torch backend) with checkpoints";

    public override string Arguments => "<dataset-dir>";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        new("method", "fptt|bptt|tbptt|eprop|ostl", "learning method (default fptt; tbptt, eprop, ostl update every chunk length steps; eprop/ostl take running or layer normalisation, not batch)"),
        new("backend", "managed|torch", "compute backend (default managed)"),
        new("threads", "n", "compute threads (default 1): managed backend: data-parallel slices of each batch and parallel evaluation; torch backend: libtorch intra-op threads"),
        new("epochs", "n", "training epochs (default 40; DVS gestures 100)"),
        new("batch", "n", "sequences per batch (default 16)"),
        new("hidden", "n", "LTC neurons of a one-layer network (default 256 for DVS gestures and SHD-layout .h5 data, 128 for N-MNIST)"),
        new("chunk-length", "n", "FPTT chunk length in steps"),
        new("chunks", "k", "FPTT chunks per sequence (default 5; ignored with --chunk-length)"),
        new("lr", "x", "learning rate (default 3e-3)"),
        new("schedule", "constant|cosine|step", "learning-rate schedule over the epochs (default cosine)"),
        new("alpha", "x", "FPTT alpha (default 0.1)"),
        new("beta", "x", "FPTT beta (default 0.5)"),
        new("clip", "x", "global gradient-norm clip (default 1.0)"),
        new("seed", "n", "seed of initialisation, shuffling and states (default 1)"),
        new("preprocessing", "name|file.json", "how samples become the network's input: a preset (shd, dvs-gesture, nmnist, smnist, their -reference variants, or 'reference') or a description file; default the dataset's preset, with --resume the checkpoint's"),
        new("checkpoint", "path", "checkpoint written atomically at every epoch end, with the preprocessing and class names (default ./train.ckpt)"),
        new("resume", null, "continue from --checkpoint when it exists, with its recipe (options given here override it; --epochs is the total)"),
        new("force", null, "start over although --checkpoint exists (it is replaced at the first epoch end)"),
        new("layers", "n,n", "recurrent layer sizes, 1 to 3 (overrides --hidden)"),
        new("loss", "chunk-end|every-step", "where the loss sits (default every-step)"),
        new("weighting", "linear|uniform", "loss weights over time (default linear)"),
        new("oracle", null, "add the reference's oracle term"),
        new("decision", "last|mean|max", "how a sample's decision is read: last step, mean of log-softmax over the steps, max over time (default mean)"),
        new("optimizer", "adam|adamax", "optimiser (default adam)"),
        new("weight-decay", "x", "L2 weight decay (default 0)"),
        new("norm", "none|running|layer|batch|timestep", "normalisation of the input current: per-neuron running statistics, layer norm, per-timestep batch norm (offline), or running statistics per timestep (offline) (default none; DVS gestures layer)"),
        new("norm-gain", "x", "initial gain of the normalisation (default 1)"),
        new("norm-recurrent", null, "normalise the recurrent current W_rec s too, separately, like the input current (with --norm running or timestep; the reference's S-MNIST model)"),
        new("norm-readout", null, "normalise the readout's current W_o s too, like the input current, with a gain of its own (with --norm running or timestep; the reference's S-MNIST head)"),
        new("tau-bias", "x", "initial LTC membrane-gate bias (default 0)"),
        new("rho-bias", "x", "initial LTC adaptation-gate bias (default 0)"),
        new("learnable-slope", null, "LTC gates sigmoid(k z) with a learnable slope k per gate (the reference's S-MNIST model)"),
        new("liquid-readout", null, "a readout whose rate is an LTC-like gate of its input and state (the reference's S-MNIST head) instead of one learned rate per class"),
        new("dropout", "p", "dropout on spikes passed up, training only (default 0)"),
        new("augment", "list", "DVS datasets: augment every training sample afresh each epoch with event transforms, e.g. shift:16,drop-event:0.1,flip-polarity:0.5,time-jitter:1000,spatial-jitter:1,uniform-noise:500,random-flip-lr (see the README's Transforms; default none; DVS gestures shift:16,drop-event:0.1)"),
        new("json", null, "one JSON object per epoch, then {\"summary\": ...}"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr) =>
        Run(args, stdout, stderr, defaultCheckpoint: "train.ckpt", evaluate: false);

    /// <summary>
    /// Trains (the body of train and dataset train): <paramref name="defaultCheckpoint"/> is used
    /// when --checkpoint is not given (null: no checkpoint); <paramref name="evaluate"/> adds the
    /// final model's per-class evaluation of the test split (text table or "evaluation" in the summary).
    /// </summary>
    internal static int Run(ParsedArgs args, TextWriter stdout, TextWriter stderr, string? defaultCheckpoint, bool evaluate)
    {
        string dir = args.Positional(0, "<dataset-dir>");
        string? checkpointArg = args.Get("checkpoint") ?? defaultCheckpoint;
        string? checkpoint = checkpointArg is null ? null : Path.GetFullPath(checkpointArg);
        bool resuming = PrepareCheckpoint(args, checkpoint, stderr);

        // resuming continues the checkpoint's own recipe; options given here override it
        SequenceTrainerOptions basis = RecipePresets.For(TrainingData.Layout(dir));
        if (resuming)
        {
            try
            {
                basis = SequenceTrainerOptions.ForCheckpoint(Checkpoint.Read(checkpoint!));
            }
            catch (CheckpointException ex)
            {
                throw new UsageException("--resume: " + ex.Message);
            }
        }

        SequenceTrainerOptions options = ParseOptions(args, basis);
        string backend = args.Get("backend") ?? "managed";
        if (backend is not ("managed" or "torch"))
        {
            throw new UsageException($"option --backend: '{backend}' is not managed or torch");
        }

        if (backend == "torch" && options.Method is not (SequenceTrainingMethod.Fptt or SequenceTrainingMethod.Bptt))
        {
            throw new UsageException($"option --method: the torch backend trains with fptt or bptt, not {MethodName(options.Method)} (use --backend managed)");
        }

        bool json = args.Has("json");
        TrainingData data = Load(dir, args, resuming ? checkpoint : null);
        using SequenceTrainer trainer = Create(options, backend, data);
        if (args.Has("resume") && !ResumeFrom(trainer, checkpoint!, options.Epochs, stderr))
        {
            return CommandRunner.Ok;
        }

        if (checkpoint is not null)
        {
            trainer.BestCheckpointPath = BestPath(checkpoint);
        }

        SequenceLearnerSetup setup = trainer.Learner.Setup;
        string model = Describe(options, setup);
        bool live = !json && ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        if (!json)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"train: {data.Kind} in {dir}: {data.Train.Count} train / {data.Test.Count} test samples, {data.Classes} classes, {setup.Steps} steps x {data.Features} inputs"));
            stdout.WriteLine("input: " + data.Preprocessing.Describe());
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"model: {model}; batch {setup.Batch}, lr {options.LearningRate:G3} ({Schedule(options.Schedule)}), backend {trainer.Learner.Backend}; checkpoint {checkpoint ?? "none"}"));
            stdout.WriteLine("recipe: " + DescribeRecipe(options));
        }

        using IDisposable stored = ModelMetadata.Attach(data.Preprocessing, data.ClassNames); // every checkpoint records its input
        TrainingResult result;
        if (live)
        {
            result = RunLive(trainer, data, TrainingSamples(data, options), checkpoint, args.Cancellation);
        }
        else
        {
            result = trainer.Train(TrainingSamples(data, options), data.Test, checkpoint, m =>
            {
                stdout.WriteLine(json ? EpochJson(m) : EpochText(m, options.Epochs));
                stdout.Flush();
            }, cancellation: args.Cancellation);
        }

        double chance = 1.0 / data.Classes;
        EvaluationResult? evaluation = evaluate && trainer.CompletedEpochs > 0 && !result.Interrupted
            ? SequenceTrainer.Evaluate(trainer.CurrentNetwork(), data.Test, options.Decision)
            : null;
        if (json)
        {
            var summary = new TrainSummaryJson(
                data.Kind,
                dir,
                MethodName(options.Method),
                trainer.Learner.Backend,
                model,
                data.Classes,
                data.Train.Count,
                data.Test.Count,
                data.Preprocessing.ToJsonNode(),
                trainer.CompletedEpochs,
                FiniteOrNull(result.FinalTestAccuracy),
                FiniteOrNull(result.BestTestAccuracy),
                result.Epochs.Count == 0 ? null : FiniteOrNull(result.Epochs[^1].Loss),
                chance,
                result.Divergences,
                checkpoint,
                Math.Round(result.Seconds, 3),
                result.Interrupted,
                options.ToJson(),
                evaluation is null ? null : EvaluationJson.From(evaluation, data.ClassNames));
            stdout.WriteLine(System.Text.Json.JsonSerializer.Serialize(new TrainSummaryLine(summary), CliJsonContext.Default.TrainSummaryLine));
        }
        else
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(result.Interrupted ? "interrupted" : "done")}: {trainer.CompletedEpochs} epoch(s), final test {Pct(result.FinalTestAccuracy)}, best {Pct(result.BestTestAccuracy)}, chance {chance:P1}, divergences {result.Divergences}, {result.Seconds:F1} s; checkpoint {checkpoint ?? "none"}"));
            if (evaluation is not null)
            {
                EvalCommand.WriteEvaluationText(stdout, evaluation, data.ClassNames);
            }
        }

        stdout.Flush();
        return result.Interrupted ? 130 : CommandRunner.Ok;
    }

    /// <summary>
    /// The checks of --checkpoint / --resume / --force shared by the training commands: --resume needs
    /// --checkpoint; an existing checkpoint is never overwritten without --resume or --force; the
    /// checkpoint's folder is made now (not after the first epoch) and temporaries of saves killed
    /// mid-write are removed. Returns true when an existing checkpoint is to be resumed.
    /// </summary>
    internal static bool PrepareCheckpoint(ParsedArgs args, string? checkpoint, TextWriter stderr)
    {
        bool resume = args.Has("resume");
        if (resume && checkpoint is null)
        {
            throw new UsageException("option --resume needs --checkpoint <path>");
        }

        if (checkpoint is null)
        {
            return false;
        }

        if (File.Exists(checkpoint) && !resume && !args.Has("force"))
        {
            throw new UsageException($"--checkpoint {checkpoint} exists: pass --resume to continue it, or --force to start over");
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(checkpoint)!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--checkpoint {checkpoint}: cannot create its folder: {ex.Message}");
        }

        if (Checkpoint.RemoveStaleTemporaries(Path.GetDirectoryName(checkpoint)!) is > 0 and var stale)
        {
            stderr.WriteLine($"removed {stale} temporary files of interrupted checkpoint saves from {Path.GetDirectoryName(checkpoint)}");
        }

        return resume && File.Exists(checkpoint);
    }

    /// <summary>
    /// --resume: loads <paramref name="checkpoint"/> into <paramref name="trainer"/> when it exists (or says that
    /// training starts from scratch). Returns false when its epochs already reach <paramref name="epochs"/> (the total).
    /// </summary>
    internal static bool ResumeFrom(SequenceTrainer trainer, string checkpoint, int epochs, TextWriter stderr)
    {
        if (!File.Exists(checkpoint))
        {
            stderr.WriteLine($"--resume: {checkpoint} does not exist yet; starting from scratch");
            return true;
        }

        try
        {
            trainer.Resume(checkpoint);
        }
        catch (CheckpointException ex)
        {
            throw new UsageException("--resume: " + ex.Message);
        }

        stderr.WriteLine(trainer.ResumedBatches > 0
            ? $"resumed from {checkpoint} in epoch {trainer.CompletedEpochs + 1} after batch {trainer.ResumedBatches} (it was interrupted there)"
            : $"resumed from {checkpoint} after epoch {trainer.CompletedEpochs}");
        if (trainer.CompletedEpochs >= epochs)
        {
            stderr.WriteLine($"nothing left to do: {checkpoint} has {trainer.CompletedEpochs} epoch(s) and --epochs is {epochs} (the total); give a larger --epochs to train further");
            return false;
        }

        return true;
    }

    /// <summary>Where the best epoch of <paramref name="checkpoint"/>'s training is kept: beside it, <c>name.best.ckpt</c>.</summary>
    internal static string BestPath(string checkpoint) =>
        Path.Combine(Path.GetDirectoryName(checkpoint)!, Path.GetFileNameWithoutExtension(checkpoint) + ".best" + Path.GetExtension(checkpoint));

    /// <summary>Parses the trainer options shared by train and dataset train.</summary>
    internal static SequenceTrainerOptions ParseOptions(ParsedArgs args, SequenceTrainerOptions? basis = null)
    {
        SequenceTrainerOptions d = basis ?? new SequenceTrainerOptions();
        var o = d with
        {
            Method = RecipeNames.Option(args, "method", RecipeNames.Method, d.Method),
            Schedule = RecipeNames.Option(args, "schedule", RecipeNames.Schedule, d.Schedule),
            Epochs = Positive(args, "epochs", d.Epochs),
            Batch = Positive(args, "batch", d.Batch),
            Hidden = Positive(args, "hidden", d.Hidden),
            Chunks = Positive(args, "chunks", d.Chunks),
            ChunkLength = args.Has("chunk-length") ? Positive(args, "chunk-length", 1) : d.ChunkLength,
            LearningRate = args.GetDouble("lr", d.LearningRate),
            Alpha = args.GetDouble("alpha", d.Alpha),
            Beta = args.GetDouble("beta", d.Beta),
            GradientClip = args.GetDouble("clip", d.GradientClip),
            Threads = args.GetInt("threads", d.Threads),
            Seed = args.GetInt("seed", d.Seed),
            LayerSizes = args.Get("layers") is { } layers ? ParseLayers(layers) : d.LayerSizes,
            Loss = RecipeNames.Option(args, "loss", RecipeNames.Loss, d.Loss),
            Weighting = RecipeNames.Option(args, "weighting", RecipeNames.Weighting, d.Weighting),
            Oracle = args.Has("oracle") || d.Oracle,
            Decision = RecipeNames.Option(args, "decision", RecipeNames.Decision, d.Decision),
            Optimizer = RecipeNames.Option(args, "optimizer", RecipeNames.Optimizer, d.Optimizer),
            WeightDecay = args.GetDouble("weight-decay", d.WeightDecay),
            InputNorm = RecipeNames.Option(args, "norm", RecipeNames.Norm, d.InputNorm),
            NormGain = args.GetDouble("norm-gain", d.NormGain),
            TauBiasInit = args.GetDouble("tau-bias", d.TauBiasInit),
            RhoBiasInit = args.GetDouble("rho-bias", d.RhoBiasInit),
            LearnableSlope = args.Has("learnable-slope") || d.LearnableSlope,
            RecurrentNorm = args.Has("norm-recurrent") || d.RecurrentNorm,
            ReadoutNorm = args.Has("norm-readout") || d.ReadoutNorm,
            LiquidReadout = args.Has("liquid-readout") || d.LiquidReadout,
            Dropout = args.GetDouble("dropout", d.Dropout),
            Augment = args.Get("augment") is { } augment ? ParseAugment(augment) : d.Augment,
        };
        try
        {
            o.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"option {OptionOf(ex.ParamName)}: {ex.Message.Split(" (Parameter", 2)[0]}");
        }

        if (!(o.LearningRate > 0) || !double.IsFinite(o.LearningRate))
        {
            throw new UsageException($"option --lr: must be a positive number (is {o.LearningRate.ToString(CultureInfo.InvariantCulture)})");
        }

        if (!(o.Alpha > 0) || !double.IsFinite(o.Alpha))
        {
            throw new UsageException("option --alpha: must be a positive number");
        }

        return o;
    }

    private static string ParseAugment(string text)
    {
        try
        {
            return Augmentation.Parse(text).ToString() is var a && a != "none" ? a : string.Empty;
        }
        catch (TransformException ex)
        {
            throw new UsageException("option --augment: " + ex.Message);
        }
    }

    /// <summary>
    /// The training samples of every epoch: the loaded ones, or with an augmentation the raw DVS
    /// samples augmented afresh per epoch (seeded by the recipe's seed) and binned by the same chain.
    /// </summary>
    internal static Func<int, IReadOnlyList<ILabelledSequence>> TrainingSamples(TrainingData data, SequenceTrainerOptions options)
    {
        Augmentation augmentation = Augmentation.Parse(options.Augment);
        if (augmentation.IsNone)
        {
            return _ => data.Train;
        }

        if (data.Preprocessing.Input != InputKind.Dvs || !File.Exists(Path.Combine(data.Folder, "trials_to_train.txt")))
        {
            throw new UsageException($"option --augment: {data.Folder} is not a DVS gesture dataset (augmentation transforms DVS events)");
        }

        var raw = new List<EventSnn.Datasets.Loaders.DvsSample>(EventSnn.Datasets.Loaders.DvsGestureDataset.Open(data.Folder, train: true, data.Preprocessing).RawSamples());
        var source = new EventSnn.Datasets.Loaders.AugmentedSamples(raw, data.Preprocessing, augmentation, options.Seed);
        return epoch => source.ForEpoch(epoch);
    }

    /// <summary>The option that sets recipe field <paramref name="field"/>.</summary>
    internal static string OptionOf(string? field) => field switch
    {
        nameof(SequenceTrainerOptions.LearningRate) => "--lr",
        nameof(SequenceTrainerOptions.InputNorm) => "--norm",
        nameof(SequenceTrainerOptions.NormGain) => "--norm-gain",
        nameof(SequenceTrainerOptions.RecurrentNorm) => "--norm-recurrent",
        nameof(SequenceTrainerOptions.ReadoutNorm) => "--norm-readout",
        nameof(SequenceTrainerOptions.LiquidReadout) => "--liquid-readout",
        nameof(SequenceTrainerOptions.TauBiasInit) => "--tau-bias",
        nameof(SequenceTrainerOptions.RhoBiasInit) => "--rho-bias",
        nameof(SequenceTrainerOptions.WeightDecay) => "--weight-decay",
        nameof(SequenceTrainerOptions.LayerSizes) => "--layers",
        nameof(SequenceTrainerOptions.ChunkLength) => "--chunk-length",
        nameof(SequenceTrainerOptions.GradientClip) => "--clip",
        nameof(SequenceTrainerOptions.Threads) => "--threads",
        null => "?",
        string f => "--" + System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(f),
    };

    private static int[] ParseLayers(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length is < 1 or > 3)
        {
            throw new UsageException($"option --layers: '{text}' must list 1 to 3 layer sizes, e.g. 256,256");
        }

        var sizes = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < 1)
            {
                throw new UsageException($"option --layers: '{parts[i]}' is not a positive layer size");
            }
        }

        return sizes;
    }

    /// <summary>
    /// The dataset prepared for training: --preprocessing or the dataset's preset; when resuming
    /// from <paramref name="resumeFrom"/>, the checkpoint's stored description (an explicit
    /// --preprocessing that differs from it is a usage error).
    /// </summary>
    internal static TrainingData Load(string dir, ParsedArgs args, string? resumeFrom = null)
    {
        DatasetLayout layout = TrainingData.Layout(dir);
        Preprocessing preprocessing = DatasetFolder.PreprocessingOption(args, layout);
        if (resumeFrom is not null)
        {
            CheckpointInput stored = CheckpointInput.Read(resumeFrom);
            if (stored.Stored is { } p)
            {
                if (args.Has("preprocessing") && p.Normalized() != preprocessing.Normalized())
                {
                    throw new UsageException($"--preprocessing {args.Get("preprocessing")} ({preprocessing.Describe()}) contradicts the checkpoint {resumeFrom}: it was trained on {p.Describe()}");
                }

                preprocessing = p;
            }
        }

        return TrainingData.Load(dir, layout, preprocessing, resumeFrom is null ? null : $"the preprocessing of {resumeFrom} does not fit ");
    }

    /// <summary>The trainer on the chosen backend.</summary>
    internal static SequenceTrainer Create(SequenceTrainerOptions options, string backend, TrainingData data)
    {
        SequenceLearnerSetup setup = SequenceLearnerSetup.From(options, data.Features, data.Classes, data.Steps);
        ISequenceBatchLearner learner = backend switch
        {
            "torch" => new EventSnn.Torch.TorchSequenceLearner(setup, options.Threads), // loads libtorch first (TorchRuntime.EnsureLoaded)
            _ => new ManagedBatchLearner(setup),
        };
        return new SequenceTrainer(options, learner);
    }

    /// <summary>The layer sizes, e.g. "128" or "256-256".</summary>
    internal static string LayerText(SequenceTrainerOptions o) =>
        o.LayerSizes.Count == 0 ? o.Hidden.ToString(CultureInfo.InvariantCulture) : string.Join('-', o.LayerSizes);

    internal static string Describe(SequenceTrainerOptions o, SequenceLearnerSetup s) =>
        string.Create(CultureInfo.InvariantCulture, $"{o.Model} {LayerText(o)}{ReadoutText(o)}, {LearningText(o, s)}");

    /// <summary>Which currents besides W_in x are normalised: " of both currents" (recurrent), " of the input and readout currents", " of the input, recurrent and readout currents", or empty.</summary>
    internal static string NormScopeText(SequenceTrainerOptions o) => (o.RecurrentNorm, o.ReadoutNorm) switch
    {
        (true, true) => " of the input, recurrent and readout currents",
        (true, false) => " of both currents",
        (false, true) => " of the input and readout currents",
        _ => string.Empty,
    };

    /// <summary>", liquid readout" when the recipe asks for it, else empty (the leaky readout is the default).</summary>
    internal static string ReadoutText(SequenceTrainerOptions o) => o.LiquidReadout ? ", liquid readout" : string.Empty;

    /// <summary>How the method learns, e.g. "FPTT chunks of 20 steps (K=5, alpha 0.1)" or "e-prop, an update every 25 steps".</summary>
    internal static string LearningText(SequenceTrainerOptions o, SequenceLearnerSetup s) => o.Method switch
    {
        SequenceTrainingMethod.Fptt => string.Create(CultureInfo.InvariantCulture, $"FPTT chunks of {s.ChunkLength} steps (K={s.ChunkCount}, alpha {o.Alpha:G3})"),
        SequenceTrainingMethod.Tbptt => string.Create(CultureInfo.InvariantCulture, $"truncated BPTT, chunks of {s.ChunkLength} steps"),
        SequenceTrainingMethod.Eprop => string.Create(CultureInfo.InvariantCulture, $"e-prop, an update every {s.ChunkLength} steps"),
        SequenceTrainingMethod.Ostl => string.Create(CultureInfo.InvariantCulture, $"OSTL, an update every {s.ChunkLength} steps"),
        _ => string.Create(CultureInfo.InvariantCulture, $"BPTT over {s.Steps} steps"),
    };

    internal static string MethodName(SequenceTrainingMethod m) => SequenceTrainingMethods.Name(m);

    /// <summary>The gate initialisation when it differs from the reference's (zero biases, fixed slopes): " (tau bias -5, rho bias 3, learnable slopes)".</summary>
    internal static string GateText(SequenceTrainerOptions o)
    {
        var parts = new List<string>(3);
        if (o.TauBiasInit != 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"tau bias {o.TauBiasInit:G3}"));
        }

        if (o.RhoBiasInit != 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"rho bias {o.RhoBiasInit:G3}"));
        }

        if (o.LearnableSlope)
        {
            parts.Add("learnable slopes");
        }

        return parts.Count == 0 ? string.Empty : " (" + string.Join(", ", parts) + ")";
    }

    /// <summary>The recipe in the options' words.</summary>
    internal static string DescribeRecipe(SequenceTrainerOptions o) => string.Create(
        CultureInfo.InvariantCulture,
        $"loss {RecipeNames.Name(RecipeNames.Loss, o.Loss)} ({RecipeNames.Name(RecipeNames.Weighting, o.Weighting)}{(o.Oracle ? ", oracle" : string.Empty)}), decision {RecipeNames.Name(RecipeNames.Decision, o.Decision)}, norm {RecipeNames.Name(RecipeNames.Norm, o.InputNorm)}{NormScopeText(o)}, dropout {o.Dropout:G3}, {RecipeNames.Name(RecipeNames.Optimizer, o.Optimizer)} lr {o.LearningRate:G3} {RecipeNames.Name(RecipeNames.Schedule, o.Schedule)}, weight decay {o.WeightDecay:G3}, {o.Epochs} epochs{(GateText(o).Length == 0 ? string.Empty : ", gate initialisation" + GateText(o))}");

    /// <summary>" (last a, mean b, max c)": the same test pass under each decision reading, or empty when there was none.</summary>
    internal static string ByDecisionText(DecisionAccuracies a) =>
        double.IsNaN(a.Last) ? string.Empty : $" (last {Pct(a.Last)}, mean {Pct(a.Mean)}, max {Pct(a.Max)})";

    internal static string Pct(double v) => double.IsNaN(v) ? "-" : v.ToString("P1", CultureInfo.InvariantCulture);

    /// <summary>The value, or null when it is NaN or infinite (JSON has no such numbers).</summary>
    internal static double? FiniteOrNull(double v) => double.IsFinite(v) ? v : null;

    internal static string EpochText(EpochMetrics m, int epochs) =>
        m.Interrupted && m.BatchesDone < m.Batches
            ? string.Create(CultureInfo.InvariantCulture, $"epoch {m.Epoch,3}/{epochs}: interrupted after batch {m.BatchesDone} of {m.Batches}, {m.Seconds:F1} s (not counted; the checkpoint keeps the state after that batch and --resume continues the epoch from there)")
            : string.Create(CultureInfo.InvariantCulture, $"epoch {m.Epoch,3}/{epochs}: loss {m.Loss:F3}, train {Pct(m.TrainAccuracy)}, test {Pct(m.TestAccuracy)}{ByDecisionText(m.TestByDecision)}, {m.Seconds:F1} s, {m.SamplesPerSecond:F0} samples/s, {m.EventsPerSecond:F0} events/s, divergences {m.Divergences}{(m.Interrupted ? " (interrupted)" : string.Empty)}");

    internal static string EpochJson(EpochMetrics m) => System.Text.Json.JsonSerializer.Serialize(
        new TrainEpochJson(
            m.Epoch,
            FiniteOrNull(m.Loss),
            FiniteOrNull(m.TrainAccuracy),
            FiniteOrNull(m.TestAccuracy),
            FiniteOrNull(m.TestLoss),
            Math.Round(m.Seconds, 4),
            Math.Round(m.SamplesPerSecond, 2),
            Math.Round(m.EventsPerSecond, 1),
            m.Divergences,
            m.LearningRate,
            m.Updates,
            m.Interrupted,
            DecisionAccuracyJson.From(m.TestByDecision)),
        CliJsonContext.Default.TrainEpochJson);

    private static string Schedule(LearningRateScheduleKind k) => k.ToString().ToLowerInvariant();

    internal static int Positive(ParsedArgs args, string name, int fallback)
    {
        int v = args.GetInt(name, fallback);
        return v >= 1 ? v : throw new UsageException($"option --{name}: must be at least 1");
    }

    private static TrainingResult RunLive(SequenceTrainer trainer, TrainingData data, Func<int, IReadOnlyList<ILabelledSequence>> samples, string? checkpoint, CancellationToken token)
    {
        TrainingResult? result = null;
        var rows = new List<EpochMetrics>();
        int epochs = trainer.Options.Epochs;
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                ProgressTask task = ctx.AddTask("training", maxValue: 1);
                result = trainer.Train(
                    samples,
                    data.Test,
                    checkpoint,
                    m =>
                    {
                        rows.Add(m);
                        AnsiConsole.MarkupLine(Markup.Escape(EpochText(m, epochs)));
                    },
                    p =>
                    {
                        task.MaxValue = (double)p.Batches * epochs;
                        task.Value = ((double)(p.Epoch - 1) * p.Batches) + p.Batch;
                        task.Description = string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch}/{epochs} loss {p.Loss:F3}");
                    },
                    token);
            });
        var table = new Table().AddColumns("epoch", "loss", "train", "test", "test loss", "s", "smp/s", "ev/s", "div");
        foreach (EpochMetrics m in rows)
        {
            table.AddRow(
                m.Epoch.ToString(CultureInfo.InvariantCulture),
                m.Loss.ToString("F3", CultureInfo.InvariantCulture),
                Pct(m.TrainAccuracy),
                Pct(m.TestAccuracy),
                m.TestLoss.ToString("F3", CultureInfo.InvariantCulture),
                m.Seconds.ToString("F1", CultureInfo.InvariantCulture),
                m.SamplesPerSecond.ToString("F0", CultureInfo.InvariantCulture),
                m.EventsPerSecond.ToString("F0", CultureInfo.InvariantCulture),
                m.Divergences.ToString(CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        return result!;
    }
}

/// <summary>One <c>train --json</c> epoch line (non-finite values as null; seconds to 4 decimals, rates to 2 and 1).</summary>
internal sealed record TrainEpochJson(
    int Epoch,
    double? Loss,
    double? TrainAccuracy,
    double? TestAccuracy,
    double? TestLoss,
    double Seconds,
    double SamplesPerSecond,
    double EventsPerSecond,
    int Divergences,
    double Lr,
    int Updates,
    bool Interrupted,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DecisionAccuracyJson? TestAccuracyByDecision);

/// <summary>
/// The test accuracy of one evaluation pass under each decision reading (<c>last</c>, <c>mean</c>,
/// <c>max</c>); the epoch's <c>test_accuracy</c> is the one of the recipe's reading.
/// </summary>
internal sealed record DecisionAccuracyJson(double? Last, double? Mean, double? Max)
{
    /// <summary>The JSON of <paramref name="a"/>, or null when nothing was evaluated.</summary>
    public static DecisionAccuracyJson? From(DecisionAccuracies a) =>
        double.IsNaN(a.Last) && double.IsNaN(a.Mean) && double.IsNaN(a.Max)
            ? null
            : new DecisionAccuracyJson(TrainCommand.FiniteOrNull(a.Last), TrainCommand.FiniteOrNull(a.Mean), TrainCommand.FiniteOrNull(a.Max));
}

/// <summary>The <c>train --json</c> summary line: <c>{"summary":{...}}</c>.</summary>
internal sealed record TrainSummaryLine(TrainSummaryJson Summary);

/// <summary>
/// What <c>train</c> / <c>dataset train</c> did: the data, the model, the accuracies (null when not
/// finite), the checkpoint (null when none), the recipe and, after a complete run, the evaluation of
/// the final model (omitted otherwise).
/// </summary>
internal sealed record TrainSummaryJson(
    string Dataset,
    string Folder,
    string Method,
    string Backend,
    string Model,
    int Classes,
    int TrainSamples,
    int TestSamples,
    System.Text.Json.Nodes.JsonObject Preprocessing,
    int Epochs,
    double? FinalTestAccuracy,
    double? BestTestAccuracy,
    double? FinalLoss,
    double Chance,
    int Divergences,
    string? Checkpoint,
    double Seconds,
    bool Interrupted,
    System.Text.Json.Nodes.JsonObject Recipe,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] EvaluationJson? Evaluation);
