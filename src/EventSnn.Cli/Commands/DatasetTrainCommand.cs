using System.Globalization;
using EventSnn.Snn.Classification;

namespace EventSnn.Cli.Commands;

/// <summary>
/// <c>eventsnn dataset train</c>: the short form of <c>eventsnn train</c> (same library trainer,
/// <see cref="SequenceTrainer"/>) — trains an LTC spiking network with FPTT on the train split
/// of a dataset folder and reports test accuracy (prediction from the last step's readout).
/// No checkpoint unless --checkpoint is given.
/// </summary>
internal sealed class DatasetTrainCommand : Command
{
    public override string Name => "dataset train";

    public override string Summary => "train an LTC spiking network with FPTT on a dataset folder's train split and score its test split (short form of 'train')";

    public override string Arguments => "<dir>";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        new("epochs", "n", "training epochs (default 30)"),
        new("hidden", "n", "LTC neurons (default 128)"),
        new("batch", "n", "streams per step (default 8)"),
        new("chunks", "k", "FPTT chunks per sequence (default 5)"),
        new("lr", "x", "Adam learning rate (default 3e-3)"),
        new("alpha", "x", "FPTT alpha (default 0.1)"),
        new("beta", "x", "FPTT beta (default 0.5)"),
        new("clip", "x", "global gradient-norm clip (default 1.0)"),
        new("threads", "n", "compute threads: data-parallel slices of each batch and parallel evaluation (default 1)"),
        new("method", "fptt|bptt", "learning method (default fptt)"),
        new("seed", "n", "seed (default 1)"),
        new("checkpoint", "path", "save a checkpoint at every epoch end"),
        new("chunk-length", "n", "FPTT chunk length in steps"),
        new("schedule", "constant|cosine|step", "learning-rate schedule"),
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
        new("json", null, "print the final result as one JSON line"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string dir = args.Positional(0, "<dir>");
        SequenceTrainerOptions options = TrainCommand.ParseOptions(args, defaultEpochs: 30, defaultBatch: 8);
        TrainingData data = TrainingData.Load(dir);
        using SequenceTrainer trainer = TrainCommand.Create(options, "managed", data);
        string model = TrainCommand.Describe(options, trainer.Learner.Setup);
        string? checkpoint = args.Get("checkpoint") is { } c ? Path.GetFullPath(c) : null;
        using var signals = new StopSignals();
        double elapsed = 0;
        TrainingResult result = trainer.Train(data.Train, data.Test, checkpoint, m =>
        {
            elapsed += m.Seconds;
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {m.Epoch,3}: loss {m.Loss:F3}, train {TrainCommand.Pct(m.TrainAccuracy)}, test {TrainCommand.Pct(m.TestAccuracy)}, divergences {m.Divergences}, {elapsed:F0} s"));
        }, cancellation: signals.Token);
        int classes = data.Classes;
        if (args.Has("json"))
        {
            JsonLine.Write(stdout, w =>
            {
                w.WriteString("dataset", data.Kind);
                w.WriteString("folder", dir);
                w.WriteString("model", model);
                w.WriteNumber("classes", classes);
                w.WriteNumber("train_samples", data.Train.Count);
                w.WriteNumber("test_samples", data.Test.Count);
                TrainCommand.NumberOrNull(w, "final_test_accuracy", result.FinalTestAccuracy);
                TrainCommand.NumberOrNull(w, "best_test_accuracy", result.BestTestAccuracy);
                w.WriteNumber("chance", 1.0 / classes);
                w.WriteNumber("divergences", result.Divergences);
            });
        }
        else
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{data.Kind} spiking network ({model}, {trainer.CompletedEpochs} epochs): final test {TrainCommand.Pct(result.FinalTestAccuracy)}, best {TrainCommand.Pct(result.BestTestAccuracy)} ({data.Test.Count} samples), chance {1.0 / classes:P1}, {result.Seconds:F0} s"));
        }

        return result.Interrupted ? 130 : CommandRunner.Ok;
    }
}
