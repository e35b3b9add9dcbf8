using System.Globalization;
using System.Text;
using EventSnn.Snn;
using EventSnn.Snn.Classification;
using Spectre.Console;

namespace EventSnn.Cli.Commands;

/// <summary><c>eventsnn eval</c>: accuracy, loss, per-class accuracy and confusion of a checkpoint on a dataset split.</summary>
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

        Network<float> network;
        try
        {
            network = Checkpoint.LoadNetwork<float>(path);
        }
        catch (CheckpointException ex)
        {
            throw new UsageException(ex.Message);
        }

        TrainingData data = TrainingData.Load(dir);
        if (network.InputSize != data.Features || network.OutputSize < data.Classes)
        {
            throw new UsageException($"{path} takes {network.InputSize} inputs and {network.OutputSize} classes; {dir} has {data.Features} inputs and {data.Classes} classes");
        }

        List<ILabelledSequence> samples = split == "test" ? data.Test : data.Train;
        using var signals = new StopSignals();
        EvaluationResult r;
        try
        {
            r = SequenceTrainer.Evaluate(network, samples, cancellation: signals.Token);
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("cancelled");
            return 130;
        }

        int c = r.Classes;
        if (args.Has("json"))
        {
            JsonLine.Write(stdout, w =>
            {
                w.WriteString("dataset", data.Kind);
                w.WriteString("folder", dir);
                w.WriteString("checkpoint", Path.GetFullPath(path));
                w.WriteString("split", split);
                w.WriteNumber("samples", r.Samples);
                w.WriteNumber("classes", c);
                w.WriteNumber("accuracy", r.Accuracy);
                TrainCommand.NumberOrNull(w, "loss", r.Loss);
                w.WriteNumber("chance", 1.0 / c);
                w.WriteNumber("seconds", Math.Round(r.Seconds, 4));
                w.WriteNumber("samples_per_second", Math.Round(r.SamplesPerSecond, 2));
                w.WriteStartArray("per_class_accuracy");
                for (int k = 0; k < c; k++)
                {
                    double a = r.ClassAccuracy(k);
                    if (double.IsNaN(a))
                    {
                        w.WriteNullValue();
                    }
                    else
                    {
                        w.WriteNumberValue(a);
                    }
                }

                w.WriteEndArray();
                w.WriteStartArray("confusion");
                for (int y = 0; y < c; y++)
                {
                    w.WriteStartArray();
                    for (int p = 0; p < c; p++)
                    {
                        w.WriteNumberValue(r.Confusion[(y * c) + p]);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndArray();
            });
            return CommandRunner.Ok;
        }

        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"eval: {data.Kind} in {dir}, {split} split, checkpoint {path}"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"accuracy {r.Accuracy:P1} ({r.Samples} samples, chance {1.0 / c:P1}), loss {r.Loss:F4}, {r.SamplesPerSecond:F0} samples/s"));
        bool live = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        if (live && c <= 12)
        {
            var table = new Table().AddColumn("true \\ predicted");
            for (int p = 0; p < c; p++)
            {
                table.AddColumn(p.ToString(CultureInfo.InvariantCulture));
            }

            table.AddColumn("n").AddColumn("accuracy");
            for (int y = 0; y < c; y++)
            {
                var cells = new List<string> { y.ToString(CultureInfo.InvariantCulture) };
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
                    y.ToString(CultureInfo.InvariantCulture),
                    r.Support(y).ToString(CultureInfo.InvariantCulture),
                    r.Confusion[(y * c) + y].ToString(CultureInfo.InvariantCulture),
                    TrainCommand.Pct(r.ClassAccuracy(y)),
                    worst < 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{worst} ({r.Confusion[(y * c) + worst]})"));
            }

            AnsiConsole.Write(table);
        }
        else
        {
            stdout.Write(ConfusionText(r));
        }

        return CommandRunner.Ok;
    }

    /// <summary>The confusion matrix with per-class accuracy as a plain-text table.</summary>
    internal static string ConfusionText(EvaluationResult r)
    {
        int c = r.Classes;
        int width = 5;
        for (int i = 0; i < r.Confusion.Length; i++)
        {
            width = Math.Max(width, r.Confusion[i].ToString(CultureInfo.InvariantCulture).Length + 1);
        }

        var sb = new StringBuilder();
        sb.Append("true\\pred".PadRight(10));
        for (int p = 0; p < c; p++)
        {
            sb.Append(p.ToString(CultureInfo.InvariantCulture).PadLeft(width));
        }

        sb.Append("      n  accuracy").AppendLine();
        for (int y = 0; y < c; y++)
        {
            sb.Append(y.ToString(CultureInfo.InvariantCulture).PadRight(10));
            for (int p = 0; p < c; p++)
            {
                sb.Append(r.Confusion[(y * c) + p].ToString(CultureInfo.InvariantCulture).PadLeft(width));
            }

            sb.Append(r.Support(y).ToString(CultureInfo.InvariantCulture).PadLeft(7)).Append("  ").Append(TrainCommand.Pct(r.ClassAccuracy(y)).PadLeft(8)).AppendLine();
        }

        return sb.ToString();
    }
}
