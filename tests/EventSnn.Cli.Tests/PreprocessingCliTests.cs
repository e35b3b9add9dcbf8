using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Text.Json;
using EventSnn.Datasets;
using EventSnn.Datasets.Loaders;
using EventSnn.IO;
using EventSnn.Pipeline;
using EventSnn.Snn;
using EventSnn.Transforms;
using Microsoft.Extensions.Configuration;

namespace EventSnn.Cli.Tests;

/// <summary>
/// One preprocessing path through the tool: checkpoints store the chain they were fed with and
/// the class names; eval, classify and serve rebuild it; contradicting options exit 2 naming the
/// field; older checkpoints still load with a notice; run and train prepare the same data alike.
/// </summary>
[Collection("TrainEval")]
public sealed class PreprocessingCliTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("eventsnn-pre-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string Recording(string relative) => Path.Combine(ToolProcessClassify.RepoRoot, "recordings", relative);

    /// <summary>A tiny SHD-layout dataset: class c fires mostly on channels 8c..8c+7 (3 classes) within 0.1..0.9 s.</summary>
    private string MakeDataset(string name, int channels, int perClass = 6)
    {
        string dir = Path.Combine(_root, name);
        Directory.CreateDirectory(dir);
        var rng = new Random(11);
        foreach ((string file, int n) in new[] { ("shd_train.h5", perClass), ("shd_test.h5", perClass / 2) })
        {
            using ShdWriter w = ShdWriter.Create(Path.Combine(dir, file), channels: channels);
            for (int k = 0; k < n; k++)
            {
                for (int c = 0; c < 3; c++)
                {
                    var spikes = new List<(long T, ushort U)>();
                    for (int i = 0; i < 60; i++)
                    {
                        spikes.Add((100_000 + rng.NextInt64(800_000), (ushort)(((8 * c) + rng.Next(8)) % channels)));
                    }

                    spikes.Sort();
                    w.Add([.. spikes.Select(s => s.T)], [.. spikes.Select(s => s.U)], c);
                }
            }
        }

        return dir;
    }

    private static JsonElement Last(string output) => JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;

    [Fact]
    public void Train_stores_its_chain_and_eval_rebuilds_exactly_that_chain()
    {
        string data = MakeDataset("shd24", 24);
        var custom = PreprocessingPresets.Shd.ForChannels(24) with { BinUs = 20_000, MaxSteps = 50, Value = ValueKind.Count };
        string json = Path.Combine(_root, "custom.json");
        File.WriteAllText(json, custom.ToJson());
        string ckpt = Path.Combine(_root, "custom.ckpt");
        (int code, string output, string err) = CliHarness.Run("train", data, "--preprocessing", json, "--epochs", "2", "--batch", "6", "--hidden", "12", "--checkpoint", ckpt, "--json");
        Assert.True(code == 0, err);
        JsonElement summary = Last(output).GetProperty("summary");
        Assert.Equal(custom, Preprocessing.FromJson(summary.GetProperty("preprocessing").GetRawText()));

        // the checkpoint records the chain and the classes
        CheckpointData stored = Checkpoint.Read(ckpt);
        Assert.Equal(Checkpoint.FormatVersion, stored.Version);
        Assert.Equal(custom, ModelMetadata.ReadPreprocessing(stored));
        Assert.Equal(["0", "1", "2"], ModelMetadata.ReadClasses(stored)!);

        // eval, given nothing but the checkpoint, prepares the test split with the stored chain (50 steps of 20 ms, counts)
        (code, output, err) = CliHarness.Run("eval", data, "--checkpoint", ckpt, "--json");
        Assert.True(code == 0, err);
        JsonElement ev = JsonDocument.Parse(output).RootElement;
        Assert.True(ev.GetProperty("preprocessing_stored").GetBoolean());
        Assert.Equal(custom, Preprocessing.FromJson(ev.GetProperty("preprocessing").GetRawText()));
        Assert.Equal(summary.GetProperty("final_test_accuracy").GetDouble(), ev.GetProperty("accuracy").GetDouble());
        Assert.DoesNotContain("warning", err, StringComparison.Ordinal);

        // resuming keeps the stored chain; another one is refused
        (code, _, err) = CliHarness.Run("train", data, "--epochs", "3", "--batch", "6", "--hidden", "12", "--checkpoint", ckpt, "--resume", "--json");
        Assert.True(code == 0, err);
        Assert.Equal(custom, ModelMetadata.ReadPreprocessing(Checkpoint.Read(ckpt)));
        (code, _, err) = CliHarness.Run("train", data, "--preprocessing", "shd", "--epochs", "4", "--checkpoint", ckpt, "--resume");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("contradicts the checkpoint", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Eval_on_data_that_does_not_fit_the_stored_chain_names_the_field_and_both_values()
    {
        string data24 = MakeDataset("a24", 24);
        string data16 = MakeDataset("a16", 16);
        string ckpt = Path.Combine(_root, "a.ckpt");
        (int code, _, string err) = CliHarness.Run("train", data24, "--epochs", "1", "--batch", "6", "--hidden", "8", "--checkpoint", ckpt);
        Assert.True(code == 0, err);
        (code, _, err) = CliHarness.Run("eval", data16, "--checkpoint", ckpt);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("channels", err, StringComparison.Ordinal);
        Assert.Contains("24 does not match the 16 channels", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);

        (code, _, err) = CliHarness.Run("eval", Recording("gestures"), "--checkpoint", ckpt);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("input = dvs here, audio in the checkpoint", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Classify_refuses_options_that_contradict_the_checkpoint_with_exit_2_and_no_stack_trace()
    {
        string data = MakeDataset("c24", 24);
        string ckpt = Path.Combine(_root, "c.ckpt");
        (int code, _, string err) = CliHarness.Run("train", data, "--epochs", "1", "--batch", "6", "--hidden", "8", "--checkpoint", ckpt);
        Assert.True(code == 0, err);
        string test = Path.Combine(data, "shd_test.h5");

        // the built tool, as a process: exit code 2, one line naming the field and both values
        (code, _, err) = ToolProcessClassify.Run(["classify", test, "--checkpoint", ckpt, "--max-steps", "20", "--json"], TimeSpan.FromSeconds(60));
        Assert.Equal(2, code);
        Assert.Contains($"--max-steps 20 contradicts the checkpoint {ckpt}: its max_steps = 100", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);

        foreach ((string[] extra, string message) in new (string[], string)[]
        {
            (["--bin-us", "4000"], "its bin_us = 10000"),
            (["--classes", "5"], "its classes = 3"),
            (["--hidden", "9"], "its hidden neurons = 8"),
            (["--frames", "20"], "its binning = time (no frames)"),
        })
        {
            (code, _, err) = CliHarness.Run(["classify", test, "--checkpoint", ckpt, .. extra]);
            Assert.Equal(CommandRunner.BadInput, code);
            Assert.Contains(message, err, StringComparison.Ordinal);
        }

        // data that contradicts it: another channel count, or DVS input
        string other = Path.Combine(MakeDataset("c16", 16), "shd_test.h5");
        (code, _, err) = CliHarness.Run("classify", other, "--checkpoint", ckpt);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("channels = 16 here, 24 in the checkpoint", err, StringComparison.Ordinal);
        (code, _, err) = CliHarness.Run("classify", Recording("gestures/user10_synthetic.aedat4"), "--labels", Recording("gestures/user10_synthetic_labels.csv"), "--checkpoint", ckpt);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("input = dvs here, audio in the checkpoint", err, StringComparison.Ordinal);

        // agreeing options are fine, and --save stores the same chain and the file's class names
        string saved = Path.Combine(_root, "saved.ckpt");
        (code, string output, err) = CliHarness.Run("classify", test, "--checkpoint", ckpt, "--max-steps", "100", "--learn", "--save", saved, "--json");
        Assert.True(code == 0, err);
        Assert.Equal(ModelMetadata.ReadPreprocessing(Checkpoint.Read(ckpt)), ModelMetadata.ReadPreprocessing(Checkpoint.Read(saved)));
        Assert.Equal(["0", "1", "2"], ModelMetadata.ReadClasses(Checkpoint.Read(saved))!);
        Assert.Equal(100, ToolProcessClassify.JsonLines(output).First(l => l.TryGetProperty("t_us", out _)).GetProperty("steps").GetInt32());
    }

    [Fact]
    public void A_checkpoint_without_a_description_still_loads_and_the_tools_say_what_they_assume()
    {
        // a checkpoint written by the build before checkpoints stored the preprocessing (format 1):
        // classify --pooling 32 --frames 5 --hidden 4 --learn --save on recordings/gestures/user10
        string old = Path.Combine(AppContext.BaseDirectory, "Data", "gestures-v1.ckpt");
        CheckpointData v1 = Checkpoint.Read(old);
        Assert.Equal(1, v1.Version);
        Assert.Null(ModelMetadata.ReadPreprocessing(v1));

        (int code, string output, string err) = CliHarness.Run("classify", Recording("gestures/user10_synthetic.aedat4"), "--labels", Recording("gestures/user10_synthetic_labels.csv"), "--checkpoint", old, "--pooling", "32", "--frames", "5", "--json");
        Assert.True(code == 0, err);
        Assert.Contains($"checkpoint {old} has no preprocessing description (format version 1, written before checkpoints stored how their input was prepared); assuming DVS 128x128 pooled 32", err, StringComparison.Ordinal);
        Assert.Equal(10, ToolProcessClassify.Summary(output).GetProperty("decisions").GetInt32());

        // the assumed chain must still fit the model
        (code, _, err) = CliHarness.Run("classify", Recording("gestures/user10_synthetic.aedat4"), "--labels", Recording("gestures/user10_synthetic_labels.csv"), "--checkpoint", old);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("the model takes 32 inputs", err, StringComparison.Ordinal);

        (code, _, err) = CliHarness.Run("serve", "--dv-port", "0", "--publish-port", "0", "--http-port", "0", "--checkpoint", old, "--pooling", "32", "--duration", "0.1");
        Assert.True(code == 0, err);
        Assert.Contains("has no preprocessing description", err, StringComparison.Ordinal);

        // eval on a train checkpoint of format 1: the dataset's preset is assumed and said so
        string data = MakeDataset("v1", 24);
        string ckpt = Path.Combine(_root, "v2.ckpt");
        (code, _, err) = CliHarness.Run("train", data, "--epochs", "1", "--batch", "6", "--hidden", "8", "--checkpoint", ckpt);
        Assert.True(code == 0, err);
        string asV1 = Path.Combine(_root, "as-v1.ckpt");
        Checkpoint.Save(asV1, Checkpoint.LoadNetwork<float>(ckpt)); // no metadata attached
        byte[] bytes = File.ReadAllBytes(asV1);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 1);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, bytes.Length - 4)));
        File.WriteAllBytes(asV1, bytes);
        (code, output, err) = CliHarness.Run("eval", data, "--checkpoint", asV1, "--json");
        Assert.True(code == 0, err);
        Assert.Contains("has no preprocessing description (format version 1", err, StringComparison.Ordinal);
        Assert.Contains("assuming audio 24 channels -> 24 features; 10 ms bins, exactly 100 steps (padded); binary", err, StringComparison.Ordinal);
        Assert.False(JsonDocument.Parse(output).RootElement.GetProperty("preprocessing_stored").GetBoolean());
    }

    [Fact]
    public async Task Run_and_train_prepare_the_same_recordings_identically()
    {
        // gestures: the dataset loader (train, eval) and the Rx pipeline (run) on the same recording
        string root = Recording("gestures");
        Preprocessing gestures = PreprocessingPresets.DvsGesture;
        List<SpikeSequence> offline = [.. DvsGestureDataset.Open(root, train: false, gestures).Samples()];
        string trial = DvsGestureDataset.Open(root, train: false, gestures).Trials[0];
        var labels = LabelCsv.Read(DvsGestureDataset.LabelsPath(root, trial)).Select(s => s with { Label = s.Label - 1 }).ToList();
        var streamed = new List<(long Sample, int Index, int[] Active, float[] Values)>();
        EventReplay.ReplayFile(Path.Combine(root, trial), scheduler: ImmediateScheduler.Instance)
            .CutByLabels(labels)
            .Preprocess(gestures)
            .Subscribe(s => streamed.Add((s.Sample, (int)s.Index, Sorted(s.Active), [.. Sorted(s.Active).Select(i => s.Frame[i])])));
        AssertSame(offline.Where(s => s.Id!.StartsWith(trial + "#", StringComparison.Ordinal)).ToList(), streamed);

        // spoken digits: ShdDataset vs the replayed samples
        string shd = Recording("spoken-digits/shd_test.h5");
        using ShdDataset dataset = ShdDataset.Open(shd);
        List<SpikeSequence> samples = [.. dataset.Samples().Take(12)];
        var replayed = new List<(long Sample, int Index, int[] Active, float[] Values)>();
        await EventReplay.ReplayShdSamples(shd, new ShdReplayOptions { MinSampleUs = dataset.Preprocessing.SampleSpanUs ?? 0 })
            .Take(12)
            .Preprocess(dataset.Preprocessing)
            .Do(s => replayed.Add((s.Sample, (int)s.Index, Sorted(s.Active), [.. Sorted(s.Active).Select(i => s.Frame[i])])))
            .LastOrDefaultAsync();
        AssertSame(samples, replayed);

        // and the run configuration's chains are train's presets
        var settings = Run.RunSettings.Bind(
            new ConfigurationBuilder().AddJsonFile(Path.Combine(ToolProcessClassify.RepoRoot, "appsettings.json")).Build(),
            ToolProcessClassify.RepoRoot);
        Assert.Equal(PreprocessingPresets.DvsGesture, new Run.StreamRunner("gestures", settings.Streams["gestures"], settings).Preprocessing);
        Assert.Equal(dataset.Preprocessing, new Run.StreamRunner("spoken-digits", settings.Streams["spoken-digits"], settings).Preprocessing);
        Assert.False(settings.LearnOnTest);

        static int[] Sorted(ReadOnlySpan<int> active)
        {
            int[] a = active.ToArray();
            Array.Sort(a);
            return a;
        }
    }

    [Fact]
    public void Run_stores_its_chain_and_refuses_to_resume_a_checkpoint_of_another_chain()
    {
        string output = Path.Combine(_root, "run");
        string[] common =
        [
            "run", "--config", Path.Combine(ToolProcessClassify.RepoRoot, "appsettings.json"), "--stream", "gestures", "--passes", "1", "--quiet", "--out", output,
            "--Run:Streams:gestures:Train:0=gestures/user01_synthetic.aedat4", "--Run:Streams:gestures:Test:0=gestures/user10_synthetic.aedat4", "--Run:Streams:gestures:Hidden=16",
        ];
        (int code, string stdout, string err) = CliHarness.Run(common);
        Assert.True(code == 0, err + stdout);
        CheckpointData saved = Checkpoint.Read(Path.Combine(output, "checkpoints", "gestures.ckpt"));
        Assert.Equal(PreprocessingPresets.DvsGesture, ModelMetadata.ReadPreprocessing(saved));
        Assert.Equal(EventSnn.Datasets.Generators.GestureGenerator.ClassNames, ModelMetadata.ReadClasses(saved)!);

        (code, _, err) = CliHarness.Run([.. common, "--Run:Resume=true", "--Run:Streams:gestures:Preprocessing:Pooling=4"]);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("Run:Streams:gestures:Preprocessing:Pooling = 4: the checkpoint", err, StringComparison.Ordinal);
        Assert.Contains("was trained with pooling = 8", err, StringComparison.Ordinal);

        (code, _, err) = CliHarness.Run([.. common, "--Run:Resume=true"]);
        Assert.True(code == 0, err);
        Assert.Contains("resumed gestures", err, StringComparison.Ordinal);
        Assert.DoesNotContain("no preprocessing description", err, StringComparison.Ordinal);
    }

    private static void AssertSame(List<SpikeSequence> offline, List<(long Sample, int Index, int[] Active, float[] Values)> streamed)
    {
        Assert.True(offline.Count >= 10);
        Assert.Equal(offline.Sum(s => s.Steps), streamed.Count);
        int k = 0;
        foreach (SpikeSequence s in offline)
        {
            for (int t = 0; t < s.Steps; t++, k++)
            {
                Assert.Equal(t, streamed[k].Index);
                Assert.Equal(s.ActiveAt(t).ToArray(), streamed[k].Active);
                Assert.Equal(s.ValuesAt(t).ToArray(), streamed[k].Values);
            }
        }

        Assert.True(streamed.Sum(s => s.Active.Length) > 100);
    }
}
