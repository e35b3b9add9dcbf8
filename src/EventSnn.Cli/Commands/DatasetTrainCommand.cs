using System.Diagnostics;
using System.Globalization;
using EventSnn.Datasets;
using EventSnn.Snn;

namespace EventSnn.Cli.Commands;

/// <summary>
/// <c>eventsnn dataset train</c>: trains an LTC spiking network with FPTT on the train split of
/// a dataset folder and reports test accuracy (prediction from the last step's readout).
/// </summary>
internal sealed class DatasetTrainCommand : Command
{
    public override string Name => "dataset train";

    public override string Summary => "train an LTC spiking network with FPTT on a dataset folder's train split and score its test split";

    public override string Arguments => "<dir>";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        new("epochs", "n", "training epochs (default 30)"),
        new("hidden", "n", "LTC neurons (default 128)"),
        new("batch", "n", "streams per step (default 8)"),
        new("chunks", "k", "FPTT chunks per sequence (default 5)"),
        new("lr", "x", "Adam learning rate (default 3e-3)"),
        new("alpha", "x", "FPTT alpha (default 0.1)"),
        new("seed", "n", "seed (default 1)"),
        new("json", null, "print the final result as one JSON line"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string dir = args.Positional(0, "<dir>");
        (ISequenceDataset trainSet, ISequenceDataset testSet, string kind) = DatasetFolder.OpenForTraining(dir);
        List<SpikeSequence> train, test;
        try
        {
            train = [.. trainSet.Samples()];
            test = [.. testSet.Samples()];
        }
        finally
        {
            (trainSet as IDisposable)?.Dispose();
            (testSet as IDisposable)?.Dispose();
        }

        if (train.Count == 0 || test.Count == 0)
        {
            throw new UsageException($"{dir}: a split is empty");
        }

        var options = new LtcTrainingOptions
        {
            Epochs = args.GetInt("epochs", 30),
            Hidden = args.GetInt("hidden", 128),
            Batch = args.GetInt("batch", 8),
            Chunks = args.GetInt("chunks", 5),
            LearningRate = args.GetDouble("lr", 3e-3),
            Alpha = args.GetDouble("alpha", 0.1),
            Seed = args.GetInt("seed", 1),
        };
        int classes = Math.Max(trainSet.Classes, 1);
        var sw = Stopwatch.StartNew();
        LtcTrainingResult result = LtcTraining.Run(train, test, classes, options, epoch =>
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch.Epoch,3}: loss {epoch.Loss:F3}, train {epoch.TrainAccuracy:P1}, test {epoch.TestAccuracy:P1}, {sw.Elapsed.TotalSeconds:F0} s")));
        if (args.Has("json"))
        {
            JsonLine.Write(stdout, w =>
            {
                w.WriteString("dataset", kind);
                w.WriteString("folder", dir);
                w.WriteString("model", $"LTC {options.Hidden}, FPTT K={options.Chunks}");
                w.WriteNumber("classes", classes);
                w.WriteNumber("train_samples", train.Count);
                w.WriteNumber("test_samples", test.Count);
                w.WriteNumber("final_test_accuracy", result.FinalTestAccuracy);
                w.WriteNumber("best_test_accuracy", result.BestTestAccuracy);
                w.WriteNumber("chance", 1.0 / classes);
            });
        }
        else
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{kind} LTC-SNN ({options.Hidden} LTC neurons, FPTT K={options.Chunks}, {options.Epochs} epochs): final test {result.FinalTestAccuracy:P1}, best {result.BestTestAccuracy:P1} ({test.Count} samples), chance {1.0 / classes:P1}, {sw.Elapsed.TotalSeconds:F0} s"));
        }

        return CommandRunner.Ok;
    }
}

/// <summary>Options of <see cref="LtcTraining"/>.</summary>
internal sealed record LtcTrainingOptions
{
    public int Epochs { get; init; } = 15;

    public int Hidden { get; init; } = 128;

    public int Batch { get; init; } = 16;

    public int Chunks { get; init; } = 5;

    public double LearningRate { get; init; } = 3e-3;

    public double Alpha { get; init; } = 0.1;

    public int Seed { get; init; } = 1;
}

/// <summary>One epoch's numbers.</summary>
internal readonly record struct EpochReport(int Epoch, double Loss, double TrainAccuracy, double TestAccuracy);

/// <summary>Outcome of a training run.</summary>
internal sealed record LtcTrainingResult(double FinalTestAccuracy, double BestTestAccuracy, IReadOnlyList<EpochReport> Epochs);

/// <summary>
/// FPTT training of a one-layer LTC network on binned sequences: each batch of B samples runs
/// through its T steps in K chunks; the last step of chunk p carries the classification loss
/// with weight (p + 1) / K; one optimiser step per chunk; W &lt;- W-bar at the end of each epoch.
/// Inputs are log(1 + value) of the binned counts (binary bins stay 0 / log 2).
/// </summary>
internal static class LtcTraining
{
    public static LtcTrainingResult Run(List<SpikeSequence> train, List<SpikeSequence> test, int classes, LtcTrainingOptions o, Action<EpochReport>? onEpoch = null)
    {
        int features = train[0].Features;
        int steps = train[0].Steps;
        var config = new NetworkConfig
        {
            InputSize = features,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = o.Hidden }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = classes },
            Seed = o.Seed,
        };
        var network = new Network<float>(config);
        int b = o.Batch;
        int chunkLength = (steps + o.Chunks - 1) / o.Chunks;
        var learner = new FpttLearner<float>(network, new Adam<float>(network.Parameters, o.LearningRate), new FpttOptions { Alpha = o.Alpha }, b, chunkLength);
        var random = new Random(o.Seed);
        int[] order = [.. Enumerable.Range(0, train.Count)];
        var x = new float[b * features];
        var labels = new int[b];
        var output = new float[b * classes];
        var row = new float[features];
        var reports = new List<EpochReport>();
        double best = 0;
        for (int epoch = 1; epoch <= o.Epochs; epoch++)
        {
            random.Shuffle(order);
            double lossSum = 0;
            int chunksRun = 0, correct = 0, seen = 0;
            for (int start = 0; start + b <= order.Length; start += b)
            {
                NetworkState<float> state = network.CreateState(b, new SnnRandom(o.Seed + epoch * 7919L + start));
                for (int k = 0; k < b; k++)
                {
                    labels[k] = train[order[start + k]].Label;
                }

                for (int t = 0; t < steps; t++)
                {
                    Fill(train, order, start, b, t, x, row);
                    int chunk = t / chunkLength;
                    bool last = t == steps - 1 || (t + 1) % chunkLength == 0;
                    double weight = last ? (chunk + 1.0) / o.Chunks : 0;
                    learner.Observe(StepInput.Dense<float>(x), new StepTarget<float>(labels, weight), state, output);
                    if (last)
                    {
                        ChunkReport report = learner.EndChunk();
                        lossSum += report.Loss;
                        chunksRun++;
                    }
                }

                correct += CountCorrect(output, labels, b, classes);
                seen += b;
            }

            learner.EndEpoch();
            double testAccuracy = Evaluate(network, test, classes, b, o.Seed);
            best = Math.Max(best, testAccuracy);
            var r = new EpochReport(epoch, chunksRun == 0 ? 0 : lossSum / chunksRun, seen == 0 ? 0 : correct / (double)seen, testAccuracy);
            reports.Add(r);
            onEpoch?.Invoke(r);
        }

        return new LtcTrainingResult(reports.Count == 0 ? 0 : reports[^1].TestAccuracy, best, reports);
    }

    /// <summary>Accuracy with the prediction taken from the last step's readout.</summary>
    public static double Evaluate(Network<float> network, List<SpikeSequence> samples, int classes, int b, int seed)
    {
        int features = network.InputSize;
        var x = new float[b * features];
        var row = new float[features];
        var output = new float[b * classes];
        var labels = new int[b];
        int correct = 0;
        for (int start = 0; start < samples.Count; start += b)
        {
            int real = Math.Min(b, samples.Count - start);
            NetworkState<float> state = network.CreateState(b, new SnnRandom(seed ^ 0x7E57));
            int steps = samples[start].Steps;
            for (int t = 0; t < steps; t++)
            {
                Array.Clear(x);
                for (int k = 0; k < real; k++)
                {
                    samples[start + k].DenseStep(t, row);
                    Scale(row, x.AsSpan(k * features, features));
                }

                network.Step(StepInput.Dense<float>(x), state, output);
            }

            for (int k = 0; k < real; k++)
            {
                labels[k] = samples[start + k].Label;
            }

            correct += CountCorrect(output, labels, real, classes);
        }

        return correct / (double)samples.Count;
    }

    private static void Fill(List<SpikeSequence> data, int[] order, int start, int b, int t, float[] x, float[] row)
    {
        int features = row.Length;
        for (int k = 0; k < b; k++)
        {
            data[order[start + k]].DenseStep(t, row);
            Scale(row, x.AsSpan(k * features, features));
        }
    }

    private static void Scale(ReadOnlySpan<float> row, Span<float> destination)
    {
        for (int i = 0; i < row.Length; i++)
        {
            float v = row[i];
            destination[i] = v == 0 ? 0 : MathF.Log(1 + v);
        }
    }

    private static int CountCorrect(float[] output, int[] labels, int n, int classes)
    {
        int correct = 0;
        for (int k = 0; k < n; k++)
        {
            int best = 0;
            for (int c = 1; c < classes; c++)
            {
                if (output[(k * classes) + c] > output[(k * classes) + best])
                {
                    best = c;
                }
            }

            if (best == labels[k])
            {
                correct++;
            }
        }

        return correct;
    }
}
