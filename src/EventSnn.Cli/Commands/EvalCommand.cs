using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using EventSnn.Datasets;
using EventSnn.Snn;
using EventSnn.Snn.Classification;
using EventSnn.Transforms;
using Spectre.Console;

namespace EventSnn.Cli.Commands;

/// <summary>
/// <c>eventsnn eval</c>: accuracy, loss, per-class accuracy and confusion of a checkpoint on a
/// dataset split, the samples prepared by exactly the chain stored in the checkpoint.
/// </summary>
internal sealed class EvalCommand : Command
{
    public override string Name => "eval";

    public override string Summary => "evaluate a checkpoint on a dataset folder: accuracy, per-class accuracy, confusion matrix, loss, samples/s";

    public override string Arguments => "<dataset-dir>";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        new("checkpoint", "path", "checkpoint written by train (required)"),
        new("split", "test|train", "split to evaluate (default test)"),
        new("json", null, "print one JSON object"),
        new("plot", "path.png", "also write the confusion matrix as a PNG (atomically; an existing file only with --force)"),
        new("force", null, "replace an existing --plot file"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string dir = args.Positional(0, "<dataset-dir>");
        string path = args.Get("checkpoint") ?? throw new UsageException("option --checkpoint <path> is required");
        string split = args.Get("split") ?? "test";
        if (split is not ("test" or "train"))
        {
            throw new UsageException($"option --split: '{split}' is not test or train");
        }

        if (!Directory.Exists(dir))
        {
            throw new UsageException($"dataset folder not found: {dir}");
        }

        if (!File.Exists(path))
        {
            throw new UsageException($"--checkpoint {path}: file not found");
        }

        string? plotPath = args.Get("plot");
        if (plotPath is not null)
        {
            plotPath = ConfusionPlot.CheckTarget(plotPath, "--plot", args.Has("force"));
        }

        Network<float> network;
        CheckpointInput input = CheckpointInput.Read(path);
        try
        {
            network = Checkpoint.LoadNetwork<float>(path, average: true); // the weights the streaming classifiers decide with
        }
        catch (CheckpointException ex)
        {
            throw new UsageException(CommandRunner.UserMessage(ex));
        }

        // the samples are prepared as the checkpoint says; an older checkpoint gets the dataset's preset
        DatasetLayout layout = TrainingData.Layout(dir);
        Preprocessing preprocessing = input.Resolve(layout.Network, stderr);
        input.CheckData(dir, "input", PreprocessingNames.Name(layout.Network.Input), PreprocessingNames.Name(preprocessing.Input));
        TrainingData data = TrainingData.Load(dir, layout, preprocessing, $"the preprocessing of {path} does not fit ");
        input.CheckData(dir, "features", data.Features, network.InputSize);
        if (network.OutputSize < data.Classes)
        {
            throw new UsageException($"{dir} does not fit the checkpoint {path}: classes = {data.Classes} here, {network.OutputSize} in the checkpoint");
        }

        SequenceTrainerOptions recipe = RecipeOf(input, stderr);
        List<ILabelledSequence> samples = split == "test" ? data.Test : data.Train;
        EvaluationResult r;
        try
        {
            r = SequenceTrainer.Evaluate(network, samples, recipe.Decision, args.Cancellation); // the chain's values are the input
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("cancelled");
            return 130;
        }

        int c = r.Classes;
        IReadOnlyList<string> names = ClassNames(input.Classes ?? data.ClassNames, c);
        if (plotPath is not null)
        {
            ConfusionPlot.Write(plotPath, r, names, $"{Path.GetFileName(path)} on {data.Kind} {split} split", args.Has("force"));
        }

        if (args.Has("json"))
        {
            EvaluationJson e = EvaluationJson.From(r, names);
            var line = new EvalJson(
                data.Kind,
                dir,
                Path.GetFullPath(path),
                split,
                preprocessing.ToJsonNode(),
                input.Stored is not null,
                RecipeNames.Name(RecipeNames.Decision, recipe.Decision),
                e.Samples,
                e.Classes,
                e.Accuracy,
                e.AccuracyByDecision,
                e.Loss,
                e.Chance,
                e.Seconds,
                e.SamplesPerSecond,
                e.ClassNames,
                e.PerClassAccuracy,
                e.Confusion,
                plotPath);
            stdout.WriteLine(JsonSerializer.Serialize(line, CliJsonContext.Default.EvalJson));
            return CommandRunner.Ok;
        }

        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"eval: {data.Kind} in {dir}, {split} split, checkpoint {path}"));
        stdout.WriteLine($"input: {preprocessing.Describe()}{(input.Stored is null ? " (assumed)" : string.Empty)}");
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"accuracy {r.Accuracy:P1}{TrainCommand.ByDecisionText(r.ByDecision)} ({r.Samples} samples, chance {1.0 / c:P1}), loss {r.Loss:F4}, {r.SamplesPerSecond:F0} samples/s"));
        bool live = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        if (live && c <= 12)
        {
            var table = new Table().AddColumn("true \\ predicted");
            for (int p = 0; p < c; p++)
            {
                table.AddColumn(Markup.Escape(names[p]));
            }

            table.AddColumn("n").AddColumn("accuracy");
            for (int y = 0; y < c; y++)
            {
                var cells = new List<string> { Markup.Escape(names[y]) };
                for (int p = 0; p < c; p++)
                {
                    int n = r.Confusion[(y * c) + p];
                    cells.Add(p == y ? $"[bold]{n}[/]" : n.ToString(CultureInfo.InvariantCulture));
                }

                cells.Add(r.Support(y).ToString(CultureInfo.InvariantCulture));
                cells.Add(TrainCommand.Pct(r.ClassAccuracy(y)));
                table.AddRow([.. cells]);
            }

            AnsiConsole.Write(table);
        }
        else if (live)
        {
            // too many classes for a matrix on a terminal: per-class accuracy and the most frequent confusion
            var table = new Table().AddColumns("class", "n", "correct", "accuracy", "most often taken for");
            for (int y = 0; y < c; y++)
            {
                int worst = -1;
                for (int p = 0; p < c; p++)
                {
                    if (p != y && r.Confusion[(y * c) + p] > 0 && (worst < 0 || r.Confusion[(y * c) + p] > r.Confusion[(y * c) + worst]))
                    {
                        worst = p;
                    }
                }

                table.AddRow(
                    Markup.Escape(names[y]),
                    r.Support(y).ToString(CultureInfo.InvariantCulture),
                    r.Confusion[(y * c) + y].ToString(CultureInfo.InvariantCulture),
                    TrainCommand.Pct(r.ClassAccuracy(y)),
                    worst < 0 ? "-" : Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{names[worst]} ({r.Confusion[(y * c) + worst]})")));
            }

            AnsiConsole.Write(table);
        }
        else
        {
            stdout.Write(ConfusionText(r, names));
        }

        if (plotPath is not null)
        {
            stdout.WriteLine($"confusion matrix plot: {plotPath}");
        }

        return CommandRunner.Ok;
    }

    /// <summary>One name per class: the checkpoint's (or the dataset's) names, the index where a name is missing.</summary>
    internal static IReadOnlyList<string> ClassNames(IReadOnlyList<string>? names, int classes) =>
        EventSnn.Snn.ModelMetadata.ClassNames(names, classes);

    /// <summary>
    /// The recipe stored in the checkpoint (how decisions are read); a checkpoint without one was
    /// trained before recipes were stored and is read with the last step's readout, which is said.
    /// </summary>
    internal static SequenceTrainerOptions RecipeOf(CheckpointInput input, TextWriter stderr)
    {
        try
        {
            if (SequenceTrainerOptions.FromCheckpoint(input.Data) is { } stored)
            {
                return stored;
            }
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new UsageException($"--checkpoint {input.Path}: invalid stored recipe: {ex.Message}");
        }

        stderr.WriteLine($"warning: checkpoint {input.Path} has no stored training recipe; decisions are read from the last step's readout");
        return SequenceTrainerOptions.ForCheckpoint(input.Data);
    }

    /// <summary>Writes the accuracy line and the confusion table as text.</summary>
    internal static void WriteEvaluationText(TextWriter stdout, EvaluationResult r, IReadOnlyList<string> names)
    {
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"evaluation of the final model: accuracy {r.Accuracy:P1} ({r.Samples} samples), loss {r.Loss:F4}"));
        stdout.Write(ConfusionText(r, names));
    }

    /// <summary>
    /// The confusion matrix with per-class accuracy as a plain-text table: rows are the true class,
    /// columns the predicted one, both labelled with the class names (cut to 12 characters in the header).
    /// </summary>
    internal static string ConfusionText(EvaluationResult r, IReadOnlyList<string>? names = null)
    {
        int c = r.Classes;
        IReadOnlyList<string> n = ClassNames(names, c);
        string[] heads = new string[c];
        int label = "true \\ predicted".Length + 2;
        int width = 3;
        for (int y = 0; y < c; y++)
        {
            heads[y] = n[y].Length > 12 ? n[y][..11] + "~" : n[y];
            label = Math.Max(label, n[y].Length + 2);
            width = Math.Max(width, heads[y].Length + 1);
        }

        for (int i = 0; i < r.Confusion.Length; i++)
        {
            width = Math.Max(width, r.Confusion[i].ToString(CultureInfo.InvariantCulture).Length + 1);
        }

        var sb = new StringBuilder();
        sb.Append("true \\ predicted".PadRight(label));
        for (int p = 0; p < c; p++)
        {
            sb.Append(heads[p].PadLeft(width));
        }

        sb.Append("      n  accuracy").AppendLine();
        for (int y = 0; y < c; y++)
        {
            sb.Append(n[y].PadRight(label));
            for (int p = 0; p < c; p++)
            {
                sb.Append(r.Confusion[(y * c) + p].ToString(CultureInfo.InvariantCulture).PadLeft(width));
            }

            sb.Append(r.Support(y).ToString(CultureInfo.InvariantCulture).PadLeft(7)).Append("  ").Append(TrainCommand.Pct(r.ClassAccuracy(y)).PadLeft(8)).AppendLine();
        }

        return sb.ToString();
    }
}

/// <summary>
/// An evaluation in JSON: accuracy, the same pass's accuracy under each decision reading, loss (null when not finite), chance, seconds (rounded to 4
/// decimals), samples per second (2 decimals), class names, per-class accuracy (null for a class
/// without samples) and the confusion matrix (row = true class, column = predicted).
/// </summary>
internal sealed record EvaluationJson(
    int Samples,
    int Classes,
    double Accuracy,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DecisionAccuracyJson? AccuracyByDecision,
    double? Loss,
    double Chance,
    double Seconds,
    double SamplesPerSecond,
    IReadOnlyList<string> ClassNames,
    IReadOnlyList<double?> PerClassAccuracy,
    IReadOnlyList<int[]> Confusion)
{
    /// <summary>The JSON of <paramref name="r"/>, classes named by <paramref name="names"/> (the index where a name is missing).</summary>
    public static EvaluationJson From(EvaluationResult r, IReadOnlyList<string> names)
    {
        int c = r.Classes;
        var classNames = new string[c];
        var perClass = new double?[c];
        var confusion = new int[c][];
        for (int k = 0; k < c; k++)
        {
            classNames[k] = k < names.Count ? names[k] : k.ToString(CultureInfo.InvariantCulture);
            double a = r.ClassAccuracy(k);
            perClass[k] = double.IsNaN(a) ? null : a;
            confusion[k] = r.Confusion.AsSpan(k * c, c).ToArray();
        }

        return new EvaluationJson(
            r.Samples,
            c,
            r.Accuracy,
            DecisionAccuracyJson.From(r.ByDecision),
            double.IsFinite(r.Loss) ? r.Loss : null,
            1.0 / c,
            Math.Round(r.Seconds, 4),
            Math.Round(r.SamplesPerSecond, 2),
            classNames,
            perClass,
            confusion);
    }
}

/// <summary>The <c>eval --json</c> line: dataset, checkpoint, input description and decision rule, the <see cref="EvaluationJson"/> fields, and the plot when one was written.</summary>
internal sealed record EvalJson(
    string Dataset,
    string Folder,
    string Checkpoint,
    string Split,
    JsonObject Preprocessing,
    bool PreprocessingStored,
    string Decision,
    int Samples,
    int Classes,
    double Accuracy,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DecisionAccuracyJson? AccuracyByDecision,
    double? Loss,
    double Chance,
    double Seconds,
    double SamplesPerSecond,
    IReadOnlyList<string> ClassNames,
    IReadOnlyList<double?> PerClassAccuracy,
    IReadOnlyList<int[]> Confusion,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Plot);
