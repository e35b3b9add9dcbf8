using System.Diagnostics;
using System.Globalization;
using EventSnn.Datasets.Mnist;
using EventSnn.Snn;
using EventSnn.Snn.Classification;
using EventSnn.Transforms;
using EventSnn.Workloads;

namespace EventSnn.Cli.Commands;

/// <summary>
/// <c>eventsnn repro compare</c>: the paper's comparison of training methods. Every method
/// (fptt, bptt, tbptt, eprop, ostl) trains the same network from the same initialisation on the same
/// data with the same budget: a wall-clock budget per method (--budget-minutes) or the same number of
/// training sequences (--iterations for the adding task, --epochs for the classification tasks).
/// One row per method: final and best metric (adding: MSE, lower is better; classification: test
/// accuracy), the learner's memory (bytes of its buffers: tape, gradients, eligibility traces, FPTT's
/// W̄ and λ), seconds and optimiser updates.
/// </summary>
internal sealed class ReproCompareCommand : Command
{
    private static readonly string[] AllMethods = ["fptt", "bptt", "tbptt", "eprop", "ostl"];

    public override string Name => "repro compare";

    public override string Summary => "Compare FPTT, BPTT, truncated BPTT, e-prop and OSTL on one task with the same network, data and budget";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        new("task", "adding|smnist|spoken-digits|gestures", "the task (required); spoken-digits and gestures read a dataset folder (--data)"),
        new("T", "steps", "sequence length: adding (default 200); smnist steps per digit, a divisor of 784 (default 28: one row of pixels per step)"),
        new("budget-minutes", "m", "wall-clock training budget per method (the learning rate's cosine runs over it)"),
        new("iterations", "n", "adding: training batches per method when no time budget is given (default 200)"),
        new("epochs", "n", "classification: epochs per method (default 1; with --budget-minutes the most that are run)"),
        new("methods", "list", "comma-separated methods to run (default fptt,bptt,tbptt,eprop,ostl)"),
        new("seed", "s", "seed of initialisation and data (default 1)"),
        new("batch", "B", "batch size (default 64 adding, 32 classification)"),
        new("hidden", "N", "LTC neurons of the single recurrent layer (default 128 adding, 64 classification)"),
        new("chunk-length", "L", "steps per chunk of fptt and tbptt and between e-prop/OSTL updates for classification (default 10 adding, T/4 classification)"),
        new("lr", "rate", "learning rate (default 3e-3)"),
        new("norm", "none|running|layer", "classification: input-current normalisation of the layer, the same for every method (default none)"),
        new("tau-bias", "x", "classification: initial bias of the LTC membrane gate (default 0)"),
        new("eval-samples", "n", "adding: fresh sequences of the final evaluation (default 1000)"),
        new("train-samples", "n", "smnist: the first n training digits (default 2000)"),
        new("test-samples", "n", "smnist: the first n test digits (default 500)"),
        new("mnist", "dir", "smnist: folder with the MNIST IDX files (default: located as repro smnist does)"),
        new("cache", "dir", "smnist: download folder for MNIST (default .eventsnn/cache)"),
        new("data", "dir", "spoken-digits, gestures: the dataset folder (its default preprocessing)"),
        new("json", null, "one JSON object per method"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        string task = args.Get("task") ?? throw new UsageException("option --task is required (adding, smnist, spoken-digits, gestures)");
        List<string> methods = ParseMethods(args.Get("methods"));
        TimeSpan? budget = null;
        if (args.Has("budget-minutes"))
        {
            double minutes = args.GetDouble("budget-minutes", 0);
            if (!(minutes > 0))
            {
                throw new UsageException($"option --budget-minutes must be positive (got {args.Get("budget-minutes")})");
            }

            budget = TimeSpan.FromMinutes(minutes);
        }

        bool json = args.Has("json");
        if (task == "adding" && (args.Has("norm") || args.Has("tau-bias")))
        {
            throw new UsageException($"option --{(args.Has("norm") ? "norm" : "tau-bias")}: the classification tasks only (adding trains its own regression network)");
        }

        List<Row> rows = task switch
        {
            "adding" => Adding(args, methods, budget, json ? null : stdout, stdout, json),
            "smnist" or "spoken-digits" or "gestures" => Classification(task, args, methods, budget, stdout, stderr, json),
            _ => throw new UsageException($"option --task: '{task}' is not adding, smnist, spoken-digits, gestures"),
        };
        if (!json)
        {
            stdout.WriteLine(Verdict(rows, task == "adding"));
        }

        return CommandRunner.Ok;
    }

    private static readonly IReadOnlyDictionary<string, InputNormKind> CompareNorms = new Dictionary<string, InputNormKind>(StringComparer.Ordinal)
    {
        ["none"] = InputNormKind.None,
        ["running"] = InputNormKind.Running,
        ["layer"] = InputNormKind.Layer,
    };

    private static List<string> ParseMethods(string? text)
    {
        if (text is null)
        {
            return [.. AllMethods];
        }

        var list = new List<string>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Array.IndexOf(AllMethods, part) < 0)
            {
                throw new UsageException($"option --methods: '{part}' is not {string.Join(", ", AllMethods)}");
            }

            if (!list.Contains(part))
            {
                list.Add(part);
            }
        }

        return list.Count > 0 ? list : throw new UsageException("option --methods: no method given");
    }

    private static List<Row> Adding(ParsedArgs args, List<string> methods, TimeSpan? budget, TextWriter? text, TextWriter stdout, bool json)
    {
        int steps = Positive(args, "T", 200);
        if (steps < 2)
        {
            throw new UsageException("option --T must be at least 2 for the adding task");
        }

        var rows = new List<Row>();
        text?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"repro compare: adding task T={steps}, {(budget is null ? $"{Positive(args, "iterations", 200)} iterations" : $"{budget.Value.TotalMinutes:G3} min")} per method; MSE, lower is better (predicting 1.0: ~0.167)"));
        foreach (string method in methods)
        {
            var o = new AddingTaskOptions
            {
                SequenceLength = steps,
                Method = ReproAddingCommand.ParseMethod(method),
                Iterations = budget is null ? Positive(args, "iterations", 200) : int.MaxValue,
                TimeBudget = budget,
                Seed = args.GetLong("seed", 1),
                ChunkLength = Positive(args, "chunk-length", 10),
                Batch = Positive(args, "batch", 64),
                Neurons = Positive(args, "hidden", 128),
                LearningRate = args.GetDouble("lr", 3e-3),
                FinalEvalSamples = Positive(args, "eval-samples", 1000),
                CurvePoints = 20,
            };
            AddingTaskResult r = AddingTask.Run(o);
            double best = r.FinalMse;
            foreach ((int _, double mse) in r.Curve)
            {
                best = Math.Min(best, mse);
            }

            var row = new Row("adding", method, "mse", r.FinalMse, best, r.PeakMemoryBytes + (method == "fptt" ? r.LearnerStateBytes : 0), r.Seconds, r.Updates, r.IterationsDone, steps);
            rows.Add(row);
            Print(row, stdout, json);
        }

        return rows;
    }

    private static List<Row> Classification(string task, ParsedArgs args, List<string> methods, TimeSpan? budget, TextWriter stdout, TextWriter stderr, bool json)
    {
        IReadOnlyList<ILabelledSequence> train;
        IReadOnlyList<ILabelledSequence> test;
        int inputs, classes, steps;
        TrainingData? data = null;
        if (task == "smnist")
        {
            steps = Positive(args, "T", 28);
            if (ReproSmnistCommand.Pixels % steps != 0)
            {
                throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"option --T: {steps} does not divide the {ReproSmnistCommand.Pixels} pixels of a digit (28, 56, 112, 196, 392 or 784 steps, ...)"));
            }

            int trainCount = Math.Min(60_000, Positive(args, "train-samples", 2000));
            int testCount = Math.Min(10_000, Positive(args, "test-samples", 500));
            string folder = MnistIdx.Locate(args.Get("mnist"), args.Get("cache") ?? Path.Combine(".eventsnn", "cache"), new LineLogger(stderr.WriteLine));
            int perStep = ReproSmnistCommand.Pixels / steps;
            train = PixelSequence.FromSet(MnistIdx.ReadSplit(folder, train: true, trainCount), trainCount, null, perStep);
            test = PixelSequence.FromSet(MnistIdx.ReadSplit(folder, train: false, testCount), testCount, null, perStep);
            inputs = perStep;
            classes = 10;
        }
        else
        {
            string dir = args.Get("data") ?? throw new UsageException($"option --data is required for --task {task} (a {task} dataset folder)");
            data = TrainCommand.Load(Path.GetFullPath(dir), args);
            if (args.Has("T"))
            {
                throw new UsageException($"option --T: the {task} sequence length is set by the dataset's preprocessing ({data.Steps} steps)");
            }

            train = data.Train;
            test = data.Test;
            inputs = data.Features;
            classes = data.Classes;
            steps = data.Steps;
        }

        int chunk = Positive(args, "chunk-length", Math.Max(1, steps / 4));
        var basis = new SequenceTrainerOptions
        {
            LayerSizes = [Positive(args, "hidden", 64)],
            Hidden = Positive(args, "hidden", 64),
            InputNorm = RecipeNames.Option(args, "norm", CompareNorms, InputNormKind.None),
            NormGain = 1,
            TauBiasInit = args.GetDouble("tau-bias", 0),
            Optimizer = OptimizerKind.Adam,
            LearningRate = args.GetDouble("lr", 3e-3),
            Batch = Positive(args, "batch", 32),
            Epochs = Positive(args, "epochs", budget is null ? 1 : 1000),
            ChunkLength = Math.Min(chunk, steps),
            Loss = LossPlacement.EveryStep,
            Schedule = LearningRateScheduleKind.Constant,
            Seed = args.GetInt("seed", 1),
        };
        if (!json)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"repro compare: {task}, {train.Count} train / {test.Count} test sequences of {steps} steps x {inputs} inputs, 1 LTC layer of {basis.Hidden} (norm {basis.InputNorm.ToString().ToLowerInvariant()}), chunk {basis.ChunkLength}, {(budget is null ? $"{basis.Epochs} epoch(s)" : $"{budget.Value.TotalMinutes:G3} min")} per method; test accuracy, higher is better"));
        }

        var rows = new List<Row>();
        foreach (string method in methods)
        {
            SequenceTrainerOptions options = basis with { Method = RecipeNames.Method[method] };
            using var trainer = new SequenceTrainer(options, inputs, classes, steps);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(args.Cancellation);
            if (budget is not null)
            {
                cts.CancelAfter(budget.Value);
            }

            var sw = Stopwatch.StartNew();
            long updates = 0;
            double best = double.NaN;
            void OnEpoch(EpochMetrics m)
            {
                updates += m.Updates;
                if (!double.IsNaN(m.TestAccuracy))
                {
                    best = double.IsNaN(best) ? m.TestAccuracy : Math.Max(best, m.TestAccuracy);
                }
            }

            if (data is not null)
            {
                trainer.Train(TrainCommand.TrainingSamples(data, options), test, null, OnEpoch, cancellation: cts.Token);
            }
            else
            {
                trainer.Train(train, test, null, OnEpoch, cancellation: cts.Token);
            }

            double seconds = sw.Elapsed.TotalSeconds;
            double final = SequenceTrainer.Evaluate(trainer.CurrentNetwork(), test, options.Decision).Accuracy;
            best = double.IsNaN(best) ? final : Math.Max(best, final);
            long memory = trainer.Learner is ManagedBatchLearner managed
                ? managed.WorkingMemoryBytes + (managed.Fptt?.StateBytes ?? 0)
                : 0;
            var row = new Row(task, method, "test_accuracy", final, best, memory, seconds, updates, trainer.CompletedEpochs, steps);
            rows.Add(row);
            Print(row, stdout, json);
        }

        return rows;
    }

    private static void Print(Row r, TextWriter stdout, bool json)
    {
        if (json)
        {
            bool adding = r.Task == "adding";
            var line = new ReproCompareJson(
                r.Task,
                r.Method,
                r.Metric,
                Math.Round(r.Final, 6),
                Math.Round(r.Best, 6),
                r.MemoryBytes,
                Math.Round(r.Seconds, 2),
                r.Updates,
                adding ? r.Rounds : null,
                adding ? null : r.Rounds,
                r.Steps);
            stdout.WriteLine(System.Text.Json.JsonSerializer.Serialize(line, CliJsonContext.Default.ReproCompareJson));
        }
        else
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {r.Method,-6} final {r.Metric} {r.Final:G4}, best {r.Best:G4}, learner memory {r.MemoryBytes:N0} B, {r.Seconds:F1} s, {r.Updates:N0} updates"));
        }

        stdout.Flush();
    }

    /// <summary>Whether the paper's ordering FPTT ≥ BPTT > OSTL, e-prop holds on the final metric.</summary>
    private static string Verdict(List<Row> rows, bool lowerIsBetter)
    {
        double Score(string m) => rows.Find(r => r.Method == m) is { } r ? (lowerIsBetter ? -r.Final : r.Final) : double.NaN;
        double fptt = Score("fptt"), bptt = Score("bptt"), ostl = Score("ostl"), eprop = Score("eprop");
        if (double.IsNaN(fptt) || double.IsNaN(bptt) || double.IsNaN(ostl) || double.IsNaN(eprop))
        {
            return "ordering FPTT >= BPTT > OSTL, e-prop: not checked (needs fptt, bptt, eprop and ostl)";
        }

        bool holds = fptt >= bptt && bptt > ostl && bptt > eprop;
        return $"ordering FPTT >= BPTT > OSTL, e-prop on the final metric: {(holds ? "holds" : "does not hold")}";
    }

    private static int Positive(ParsedArgs args, string name, int fallback)
    {
        int v = args.GetInt(name, fallback);
        return v >= 1 ? v : throw new UsageException($"option --{name} must be a positive integer (got {v})");
    }

    private sealed record Row(string Task, string Method, string Metric, double Final, double Best, long MemoryBytes, double Seconds, long Updates, int Rounds, int Steps);
}

/// <summary>
/// One method's line of <c>repro compare --json</c>: final and best metric (6 decimals), peak learner
/// memory, seconds (2 decimals), updates, then <c>iterations</c> (adding) or <c>epochs</c> (the
/// other tasks), and the steps per sequence <c>T</c>.
/// </summary>
internal sealed record ReproCompareJson(
    string Task,
    string Method,
    string Metric,
    double FinalMetric,
    double BestMetric,
    long PeakLearnerMemoryBytes,
    double Seconds,
    long Updates,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] int? Iterations,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] int? Epochs,
    [property: System.Text.Json.Serialization.JsonPropertyName("T")] int T);
