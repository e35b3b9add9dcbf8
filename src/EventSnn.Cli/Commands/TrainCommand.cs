using System.Globalization;
using System.Text.Json;
using EventSnn.Snn;
using EventSnn.Snn.Classification;
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
        new("method", "fptt|bptt", "learning method (default fptt)"),
        new("backend", "managed|torch", "compute backend (default managed)"),
        new("threads", "n", "compute threads (default 1): managed backend: data-parallel slices of each batch and parallel evaluation; torch backend: libtorch intra-op threads"),
        new("epochs", "n", "training epochs (default 20)"),
        new("batch", "n", "sequences per batch (default 16)"),
        new("hidden", "n", "LTC neurons (default 128)"),
        new("chunk-length", "n", "FPTT chunk length in steps"),
        new("chunks", "k", "FPTT chunks per sequence (default 5; ignored with --chunk-length)"),
        new("lr", "x", "Adam learning rate (default 3e-3)"),
        new("schedule", "constant|cosine|step", "learning-rate schedule over the epochs (default constant)"),
        new("alpha", "x", "FPTT alpha (default 0.1)"),
        new("beta", "x", "FPTT beta (default 0.5)"),
        new("clip", "x", "global gradient-norm clip (default 1.0)"),
        new("seed", "n", "seed of initialisation, shuffling and states (default 1)"),
        new("checkpoint", "path", "checkpoint written atomically at every epoch end (default ./train.ckpt)"),
        new("resume", null, "continue from --checkpoint when it exists"),
        new("layers", "n,n", "recurrent layer sizes, 1 to 3 (overrides --hidden)"),
        new("loss", "chunk-end|every-step", "where the loss sits (default chunk-end)"),
        new("weighting", "linear|uniform", "loss weights over time (default linear)"),
        new("oracle", null, "add the reference's oracle term"),
        new("decision", "last|mean|max", "decision readout (default last)"),
        new("optimizer", "adam|adamax", "optimiser (default adam)"),
        new("weight-decay", "x", "L2 weight decay (default 0)"),
        new("norm", "none|running|layer|batch", "normalisation of the input current: per-neuron running statistics, layer norm, or per-timestep batch norm (offline) (default none)"),
        new("norm-gain", "x", "initial gain of the normalisation (default 1)"),
        new("tau-bias", "x", "initial LTC membrane-gate bias (default 0)"),
        new("dropout", "p", "dropout on spikes passed up, training only (default 0)"),
        new("json", null, "one JSON object per epoch, then {\"summary\": ...}"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string dir = args.Positional(0, "<dataset-dir>");
        SequenceTrainerOptions options = ParseOptions(args, defaultEpochs: 20, defaultBatch: 16);
        string backend = args.Get("backend") ?? "managed";
        if (backend is not ("managed" or "torch"))
        {
            throw new UsageException($"option --backend: '{backend}' is not managed or torch");
        }

        string checkpoint = Path.GetFullPath(args.Get("checkpoint") ?? "train.ckpt");
        bool json = args.Has("json");
        TrainingData data = TrainingData.Load(dir);
        using SequenceTrainer trainer = Create(options, backend, data);
        if (args.Has("resume"))
        {
            if (File.Exists(checkpoint))
            {
                try
                {
                    trainer.Resume(checkpoint);
                }
                catch (CheckpointException ex)
                {
                    throw new UsageException("--resume: " + ex.Message);
                }

                stderr.WriteLine($"resumed from {checkpoint} after epoch {trainer.CompletedEpochs}");
            }
            else
            {
                stderr.WriteLine($"--resume: {checkpoint} does not exist yet; starting from scratch");
            }
        }

        SequenceLearnerSetup setup = trainer.Learner.Setup;
        string model = Describe(options, setup);
        bool live = !json && ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        if (!json)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"train: {data.Kind} in {dir}: {data.Train.Count} train / {data.Test.Count} test samples, {data.Classes} classes, {setup.Steps} steps x {data.Features} inputs"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"model: {model}; batch {setup.Batch}, lr {options.LearningRate:G3} ({Schedule(options.Schedule)}), backend {trainer.Learner.Backend}; checkpoint {checkpoint}"));
        }

        using var signals = new StopSignals();
        TrainingResult result;
        if (live)
        {
            result = RunLive(trainer, data, checkpoint, signals.Token);
        }
        else
        {
            result = trainer.Train(data.Train, data.Test, checkpoint, m =>
            {
                stdout.WriteLine(json ? EpochJson(m) : EpochText(m, options.Epochs));
                stdout.Flush();
            }, cancellation: signals.Token);
        }

        double chance = 1.0 / data.Classes;
        if (json)
        {
            stdout.WriteLine(JsonLine.ToString(w =>
            {
                w.WriteStartObject("summary");
                w.WriteString("dataset", data.Kind);
                w.WriteString("folder", dir);
                w.WriteString("method", MethodName(options.Method));
                w.WriteString("backend", trainer.Learner.Backend);
                w.WriteString("model", model);
                w.WriteNumber("classes", data.Classes);
                w.WriteNumber("train_samples", data.Train.Count);
                w.WriteNumber("test_samples", data.Test.Count);
                w.WriteNumber("epochs", trainer.CompletedEpochs);
                NumberOrNull(w, "final_test_accuracy", result.FinalTestAccuracy);
                NumberOrNull(w, "best_test_accuracy", result.BestTestAccuracy);
                NumberOrNull(w, "final_loss", result.Epochs.Count == 0 ? double.NaN : result.Epochs[^1].Loss);
                w.WriteNumber("chance", chance);
                w.WriteNumber("divergences", result.Divergences);
                w.WriteString("checkpoint", checkpoint);
                w.WriteNumber("seconds", Math.Round(result.Seconds, 3));
                w.WriteBoolean("interrupted", result.Interrupted);
                w.WriteEndObject();
            }));
        }
        else
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(result.Interrupted ? "interrupted" : "done")}: {trainer.CompletedEpochs} epoch(s), final test {Pct(result.FinalTestAccuracy)}, best {Pct(result.BestTestAccuracy)}, chance {chance:P1}, divergences {result.Divergences}, {result.Seconds:F1} s; checkpoint {checkpoint}"));
        }

        stdout.Flush();
        return result.Interrupted ? 130 : CommandRunner.Ok;
    }

    /// <summary>Parses the trainer options shared by train and dataset train.</summary>
    internal static SequenceTrainerOptions ParseOptions(ParsedArgs args, int defaultEpochs, int defaultBatch) =>
        ParseOptions(args, new SequenceTrainerOptions { Epochs = defaultEpochs, Batch = defaultBatch });

    /// <summary>Parses the recipe options (train, dataset train, repro smnist); options not given keep the values of <paramref name="defaults"/>.</summary>
    internal static SequenceTrainerOptions ParseOptions(ParsedArgs args, SequenceTrainerOptions defaults)
    {
        var o = defaults with
        {
            Method = Choice(args, "method", defaults.Method, ("fptt", SequenceTrainingMethod.Fptt), ("bptt", SequenceTrainingMethod.Bptt)),
            Schedule = Choice(args, "schedule", defaults.Schedule, ("constant", LearningRateScheduleKind.Constant), ("cosine", LearningRateScheduleKind.Cosine), ("step", LearningRateScheduleKind.Step)),
            Epochs = Positive(args, "epochs", defaults.Epochs),
            Batch = Positive(args, "batch", defaults.Batch),
            Hidden = Positive(args, "hidden", defaults.Hidden),
            Chunks = Positive(args, "chunks", defaults.Chunks),
            ChunkLength = args.Has("chunk-length") ? Positive(args, "chunk-length", 1) : defaults.ChunkLength,
            LearningRate = args.GetDouble("lr", defaults.LearningRate),
            Alpha = args.GetDouble("alpha", defaults.Alpha),
            Beta = args.GetDouble("beta", defaults.Beta),
            GradientClip = args.GetDouble("clip", defaults.GradientClip),
            Seed = args.GetInt("seed", defaults.Seed),
            LayerSizes = args.Get("layers") is { } layers ? ParseLayers(layers) : defaults.LayerSizes,
            Loss = Choice(args, "loss", defaults.Loss, ("chunk-end", LossPlacement.ChunkEnd), ("every-step", LossPlacement.EveryStep)),
            Weighting = Choice(args, "weighting", defaults.Weighting, ("linear", LossWeighting.Linear), ("uniform", LossWeighting.Uniform)),
            Oracle = defaults.Oracle || args.Has("oracle"),
            Decision = Choice(args, "decision", defaults.Decision, ("last", DecisionReadout.Last), ("mean", DecisionReadout.Mean), ("max", DecisionReadout.Max)),
            Optimizer = Choice(args, "optimizer", defaults.Optimizer, ("adam", OptimizerKind.Adam), ("adamax", OptimizerKind.Adamax)),
            WeightDecay = args.GetDouble("weight-decay", defaults.WeightDecay),
            InputNorm = Choice(args, "norm", defaults.InputNorm, ("none", InputNormKind.None), ("running", InputNormKind.Running), ("layer", InputNormKind.Layer), ("batch", InputNormKind.Batch)),
            NormGain = args.GetDouble("norm-gain", defaults.NormGain),
            TauBiasInit = args.GetDouble("tau-bias", defaults.TauBiasInit),
            Dropout = args.GetDouble("dropout", defaults.Dropout),
            Threads = args.GetInt("threads", defaults.Threads),
        };
        if (!(o.LearningRate > 0) || !double.IsFinite(o.LearningRate))
        {
            throw new UsageException($"option --lr: must be a positive number (is {o.LearningRate.ToString(CultureInfo.InvariantCulture)})");
        }

        if (!(o.Alpha > 0) || !double.IsFinite(o.Alpha))
        {
            throw new UsageException("option --alpha: must be a positive number");
        }

        if (!(o.Beta > 0 && o.Beta <= 1))
        {
            throw new UsageException("option --beta: must be in (0, 1]");
        }

        if (!(o.GradientClip > 0) || !double.IsFinite(o.GradientClip))
        {
            throw new UsageException("option --clip: must be a positive number");
        }

        if (!(o.Dropout >= 0 && o.Dropout < 1))
        {
            throw new UsageException("option --dropout: must be in [0, 1)");
        }

        if (!(o.NormGain > 0) || !double.IsFinite(o.NormGain))
        {
            throw new UsageException("option --norm-gain: must be a positive number");
        }

        if (o.Threads is < 1 or > 64)
        {
            throw new UsageException($"option --threads: {o.Threads} must be in 1..64");
        }

        if (o.Threads > o.Batch)
        {
            throw new UsageException($"option --threads: {o.Threads} threads need a batch of at least {o.Threads} (--batch {o.Batch})");
        }

        if (o.InputNorm == InputNormKind.Batch && o.Batch < 2)
        {
            throw new UsageException("option --norm: batch norm needs --batch of at least 2");
        }

        return o;
    }

    /// <summary>The value of a named-choice option (a usage error naming the option lists the choices).</summary>
    internal static TValue Choice<TValue>(ParsedArgs args, string name, TValue fallback, params (string Name, TValue Value)[] choices)
    {
        string? text = args.Get(name);
        if (text is null)
        {
            return fallback;
        }

        foreach ((string n, TValue v) in choices)
        {
            if (n == text)
            {
                return v;
            }
        }

        throw new UsageException($"option --{name}: '{text}' is not {string.Join(", ", choices.Select(c => c.Name).SkipLast(1))} or {choices[^1].Name}");
    }

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

    internal static string Describe(SequenceTrainerOptions o, SequenceLearnerSetup s) =>
        o.Method == SequenceTrainingMethod.Fptt
            ? string.Create(CultureInfo.InvariantCulture, $"{o.Model} {o.Hidden}, FPTT chunks of {s.ChunkLength} steps (K={s.ChunkCount}, alpha {o.Alpha:G3})")
            : string.Create(CultureInfo.InvariantCulture, $"{o.Model} {o.Hidden}, BPTT over {s.Steps} steps");

    internal static string MethodName(SequenceTrainingMethod m) => m == SequenceTrainingMethod.Fptt ? "fptt" : "bptt";

    internal static string Pct(double v) => double.IsNaN(v) ? "-" : v.ToString("P1", CultureInfo.InvariantCulture);

    internal static void NumberOrNull(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v))
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    internal static string EpochText(EpochMetrics m, int epochs) =>
        string.Create(CultureInfo.InvariantCulture, $"epoch {m.Epoch,3}/{epochs}: loss {m.Loss:F3}, train {Pct(m.TrainAccuracy)}, test {Pct(m.TestAccuracy)}, {m.Seconds:F1} s, {m.SamplesPerSecond:F0} samples/s, {m.EventsPerSecond:F0} events/s, divergences {m.Divergences}{(m.Interrupted ? " (interrupted)" : string.Empty)}");

    internal static string EpochJson(EpochMetrics m) => JsonLine.ToString(w =>
    {
        w.WriteNumber("epoch", m.Epoch);
        NumberOrNull(w, "loss", m.Loss);
        NumberOrNull(w, "train_accuracy", m.TrainAccuracy);
        NumberOrNull(w, "test_accuracy", m.TestAccuracy);
        NumberOrNull(w, "test_loss", m.TestLoss);
        w.WriteNumber("seconds", Math.Round(m.Seconds, 4));
        w.WriteNumber("samples_per_second", Math.Round(m.SamplesPerSecond, 2));
        w.WriteNumber("events_per_second", Math.Round(m.EventsPerSecond, 1));
        w.WriteNumber("divergences", m.Divergences);
        w.WriteNumber("lr", m.LearningRate);
        w.WriteNumber("updates", m.Updates);
        w.WriteBoolean("interrupted", m.Interrupted);
    });

    private static string Schedule(LearningRateScheduleKind k) => k.ToString().ToLowerInvariant();

    internal static int Positive(ParsedArgs args, string name, int fallback)
    {
        int v = args.GetInt(name, fallback);
        return v >= 1 ? v : throw new UsageException($"option --{name}: must be at least 1");
    }

    private static TrainingResult RunLive(SequenceTrainer trainer, TrainingData data, string checkpoint, CancellationToken token)
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
                    data.Train,
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
