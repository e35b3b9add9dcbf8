using System.Diagnostics;
using System.Text.Json;
using EventSnn.Datasets;
using EventSnn.IO;
using EventSnn.Snn;

namespace EventSnn.Cli.Tests;

/// <summary>
/// Runs the CPU-heavy training tests on their own, not in parallel with the timing-sensitive
/// network tests of other classes.
/// </summary>
[CollectionDefinition("TrainEval", DisableParallelization = true)]
public sealed class TrainEvalCollection
{
}

/// <summary>`eventsnn train` / `eventsnn eval` (in-process and as the built tool).</summary>
[Collection("TrainEval")]
public sealed class TrainEvalTests : IDisposable
{
    private const int Channels = 24;
    private const int ClassCount = 3;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "eventsnn-train-" + Guid.NewGuid().ToString("N"));

    public TrainEvalTests()
    {
        Directory.CreateDirectory(_root);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// A tiny dataset in the SHD layout `dataset make spoken-digits` writes (shd_train.h5 /
    /// shd_test.h5, written with the same ShdWriter): 24 channels, 3 classes; class c fires
    /// mostly on channels 8c..8c+7 during 0.1..0.9 s, plus background spikes everywhere.
    /// </summary>
    private string MakeDataset(int trainPerClass = 8, int testPerClass = 4)
    {
        string dir = Path.Combine(_root, "shd");
        Directory.CreateDirectory(dir);
        var rng = new Random(7);
        foreach ((string file, int perClass) in new[] { ("shd_train.h5", trainPerClass), ("shd_test.h5", testPerClass) })
        {
            using ShdWriter w = ShdWriter.Create(Path.Combine(dir, file), channels: Channels, timeType: ShdTimeType.Float32);
            for (int k = 0; k < perClass; k++)
            {
                for (int c = 0; c < ClassCount; c++)
                {
                    var spikes = new List<(long T, ushort U)>();
                    for (int i = 0; i < 60; i++)
                    {
                        spikes.Add((100_000 + rng.NextInt64(800_000), (ushort)((8 * c) + rng.Next(8))));
                    }

                    for (int i = 0; i < 20; i++)
                    {
                        spikes.Add((rng.NextInt64(1_000_000), (ushort)rng.Next(Channels)));
                    }

                    spikes.Sort();
                    w.Add(spikes.Select(s => s.T).ToArray(), spikes.Select(s => s.U).ToArray(), c);
                }
            }
        }

        return dir;
    }

    [Fact]
    public void Checkpoints_killed_at_random_moments_always_load_and_the_next_start_removes_the_temporaries()
    {
        // EVENTSNN_KILL_TRIALS=100 gives the figure of the closing note; the suite runs 8
        int trials = int.TryParse(Environment.GetEnvironmentVariable("EVENTSNN_KILL_TRIALS"), out int n) && n > 0 ? n : 8;
        string data = MakeDataset(trainPerClass: 2, testPerClass: 1);
        string folder = Path.Combine(_root, "kills");
        string ckpt = Path.Combine(folder, "m.ckpt");

        // a big model on tiny data: about half of the time goes into writing 20 MB checkpoints
        string[] train = ["train", data, "--checkpoint", ckpt, "--hidden", "450", "--epochs", "100000", "--json"];
        var rng = new Random(5);
        int midWrite = 0, loaded = 0;
        for (int k = 0; k < trials; k++)
        {
            using (ToolProcessClassify tool = ToolProcessClassify.Start(k == 0 ? [.. train, "--force"] : [.. train, "--resume"]))
            {
                // once it trains (an epoch line: one save done), at a random moment of the next epochs
                Assert.True(tool.WaitForLines(l => l.Contains("\"epoch\"", StringComparison.Ordinal), 1, TimeSpan.FromSeconds(60)), tool.Stderr);
                Thread.Sleep(rng.Next(600));
                tool.KillHard();
            }

            midWrite += Directory.GetFiles(folder, ".*.tmp").Length > 0 ? 1 : 0;
            if (File.Exists(ckpt))
            {
                CheckpointData c = Checkpoint.Read(ckpt); // throws on a torn or corrupt file
                Assert.Equal(450, c.Config.Layers[0].Size);
                loaded++;
            }
        }

        Assert.Equal(trials, loaded); // the first epoch was saved before the first kill
        (int code, _, string err) = ToolProcessClassify.Run(["train", data, "--checkpoint", ckpt, "--resume", "--epochs", "1"], TimeSpan.FromSeconds(60));
        Assert.True(code == 0, err);
        Assert.Empty(Directory.GetFiles(folder, ".*.tmp"));
        Console.WriteLine($"kill -9 trials: {trials}, checkpoint loadable after every one, {midWrite} killed mid-write (temporary file left, removed at the next start)");
    }

    [Fact]
    public void Train_keeps_the_best_refuses_to_overwrite_makes_its_folder_and_resumes_with_the_stored_recipe()
    {
        string data = MakeDataset();
        string ckpt = Path.Combine(_root, "runs", "deep", "m.ckpt"); // the folder does not exist yet
        string[] common = [data, "--checkpoint", ckpt, "--hidden", "12", "--epochs", "2", "--lr", "0.01", "--json"];
        (int code, string output, string err) = CliHarness.Run(["train", .. common]);
        Assert.True(code == 0, err);
        List<JsonElement> lines = JsonLines(output);
        double best = lines.Where(l => l.TryGetProperty("epoch", out _)).Max(l => l.GetProperty("test_accuracy").GetDouble());
        Assert.True(File.Exists(ckpt));
        string bestPath = Path.Combine(_root, "runs", "deep", "m.best.ckpt");
        Assert.True(File.Exists(bestPath));
        Assert.Equal(best, Checkpoint.Read(bestPath).Meta["training"]!["test_accuracy"]!.GetValue<double>());

        // an existing checkpoint is not overwritten without --resume or --force
        byte[] before = File.ReadAllBytes(ckpt);
        (code, _, err) = CliHarness.Run(["train", .. common]);
        Assert.Equal(2, code);
        Assert.Contains("--resume", err, StringComparison.Ordinal);
        Assert.Contains("--force", err, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(ckpt));

        // --resume alone continues with the stored recipe (12 hidden, not the default); --epochs is the total
        (code, _, err) = CliHarness.Run("train", data, "--checkpoint", ckpt, "--resume", "--epochs", "2");
        Assert.Equal(0, code);
        Assert.Contains("nothing left to do", err, StringComparison.Ordinal);
        (code, output, err) = CliHarness.Run("train", data, "--checkpoint", ckpt, "--resume", "--epochs", "3", "--json");
        Assert.True(code == 0, err);
        Assert.Equal([3], JsonLines(output).Where(l => l.TryGetProperty("epoch", out _)).Select(l => l.GetProperty("epoch").GetInt32()));
        Assert.Equal(3, Checkpoint.Read(ckpt).Meta["training"]!["epoch"]!.GetValue<int>());

        // --force starts over, and a temporary file left by a save that was killed goes away
        string stale = Path.Combine(_root, "runs", "deep", ".m.ckpt.4194305.0badc0de.tmp");
        File.WriteAllText(stale, "partial");
        (code, output, err) = CliHarness.Run(["train", .. common, "--force"]);
        Assert.True(code == 0, err);
        Assert.False(File.Exists(stale));
        Assert.Contains("removed 1 temporary files", err, StringComparison.Ordinal);
        Assert.Equal(2, Checkpoint.Read(ckpt).Meta["training"]!["epoch"]!.GetValue<int>());
    }

    private static List<JsonElement> JsonLines(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    [Fact]
    public void Repro_compare_spoken_digits_runs_every_method_on_a_dataset_folder()
    {
        string data = MakeDataset(trainPerClass: 4, testPerClass: 2);
        (int code, string output, string err) = CliHarness.Run("repro", "compare", "--task", "spoken-digits", "--data", data, "--batch", "4", "--hidden", "8", "--json");
        Assert.True(code == 0, err);
        List<JsonElement> rows = JsonLines(output);
        Assert.Equal(["fptt", "bptt", "tbptt", "eprop", "ostl"], rows.Select(r => r.GetProperty("method").GetString()));
        int steps = rows[0].GetProperty("T").GetInt32();
        foreach (JsonElement r in rows)
        {
            Assert.Equal("spoken-digits", r.GetProperty("task").GetString());
            Assert.InRange(r.GetProperty("final_metric").GetDouble(), 0, 1);
            Assert.True(r.GetProperty("peak_learner_memory_bytes").GetInt64() > 0);
            Assert.True(r.GetProperty("updates").GetInt64() >= 3); // 12 sequences / 4 = 3 batches
            Assert.Equal(steps, r.GetProperty("T").GetInt32());
        }

        (code, _, err) = CliHarness.Run("repro", "compare", "--task", "gestures");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("--data", err);
    }

    [Fact]
    public void Online_methods_take_running_or_layer_norm_and_refuse_batch_norm_with_a_clear_error()
    {
        string data = MakeDataset(trainPerClass: 2, testPerClass: 1);
        (int code, _, string err) = CliHarness.Run("train", data, "--method", "eprop", "--norm", "layer", "--dropout", "0.1", "--epochs", "1", "--hidden", "8", "--checkpoint", Path.Combine(_root, "eprop-layer.ckpt"));
        Assert.True(code == 0, err);
        (code, _, err) = CliHarness.Run("train", data, "--method", "ostl", "--norm", "batch", "--epochs", "1", "--hidden", "8", "--checkpoint", Path.Combine(_root, "ostl-batch.ckpt"));
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.True(err.Contains("not per-timestep statistics", StringComparison.Ordinal), err);
        Assert.DoesNotContain("   at ", err);
        (code, _, err) = CliHarness.Run("train", data, "--method", "eprop", "--norm", "timestep", "--epochs", "1", "--hidden", "8", "--checkpoint", Path.Combine(_root, "eprop-timestep.ckpt"));
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.True(err.Contains("not per-timestep statistics", StringComparison.Ordinal), err);

        // FPTT takes the per-timestep running statistics, and eval rebuilds them from the checkpoint
        string ckpt = Path.Combine(_root, "fptt-timestep.ckpt");
        (code, string trained, err) = CliHarness.Run("train", data, "--norm", "timestep", "--epochs", "1", "--hidden", "8", "--checkpoint", ckpt, "--json");
        Assert.True(code == 0, err);
        (code, string evaluated, err) = CliHarness.Run("eval", data, "--checkpoint", ckpt, "--json");
        Assert.True(code == 0, err);
        JsonElement trainedSummary = JsonLines(trained)[^1].GetProperty("summary");
        Assert.Equal("timestep", trainedSummary.GetProperty("recipe").GetProperty("input_norm").GetString());
        Assert.Equal(trainedSummary.GetProperty("final_test_accuracy").GetDouble(), JsonDocument.Parse(evaluated).RootElement.GetProperty("accuracy").GetDouble());
        (code, _, err) = CliHarness.Run("train", data, "--method", "ostl", "--backend", "torch", "--epochs", "1", "--hidden", "8");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("--method", err);
        Assert.Contains("torch", err);
    }

    [Theory]
    [InlineData("fptt")]
    [InlineData("bptt")]
    [InlineData("tbptt")]
    [InlineData("eprop")]
    [InlineData("ostl")]
    public void Train_writes_epoch_json_and_a_checkpoint_that_eval_reproduces(string method)
    {
        string data = MakeDataset();
        string ckpt = Path.Combine(_root, method + ".ckpt");
        (int code, string output, string err) = CliHarness.Run("train", data, "--method", method, "--epochs", "3", "--batch", "6", "--hidden", "16", "--chunks", "4", "--lr", "0.01", "--checkpoint", ckpt, "--json");
        Assert.True(code == 0, err);
        List<JsonElement> lines = JsonLines(output);
        Assert.Equal(4, lines.Count); // 3 epochs + summary
        for (int e = 0; e < 3; e++)
        {
            JsonElement m = lines[e];
            Assert.Equal(e + 1, m.GetProperty("epoch").GetInt32());
            Assert.True(m.GetProperty("loss").GetDouble() > 0);
            Assert.InRange(m.GetProperty("train_accuracy").GetDouble(), 0, 1);
            Assert.InRange(m.GetProperty("test_accuracy").GetDouble(), 0, 1);
            Assert.True(m.GetProperty("seconds").GetDouble() > 0);
            Assert.True(m.GetProperty("samples_per_second").GetDouble() > 0);
            Assert.True(m.GetProperty("events_per_second").GetDouble() > 0);
            Assert.Equal(0, m.GetProperty("divergences").GetInt32());
            Assert.Equal(method == "bptt" ? 4 : 16, m.GetProperty("updates").GetInt32()); // 24 samples / 6 = 4 batches; the chunked methods 4 chunks each
        }

        JsonElement summary = lines[3].GetProperty("summary");
        Assert.Equal(method, summary.GetProperty("method").GetString());
        Assert.Equal("managed", summary.GetProperty("backend").GetString());
        Assert.Equal(3, summary.GetProperty("epochs").GetInt32());
        Assert.Equal(24, summary.GetProperty("train_samples").GetInt32());
        Assert.Equal(12, summary.GetProperty("test_samples").GetInt32());
        Assert.Equal(1.0 / 3, summary.GetProperty("chance").GetDouble(), 9);
        Assert.Equal(ckpt, summary.GetProperty("checkpoint").GetString());
        double final = summary.GetProperty("final_test_accuracy").GetDouble();
        Assert.Equal(lines[2].GetProperty("test_accuracy").GetDouble(), final);
        Assert.True(summary.GetProperty("best_test_accuracy").GetDouble() > 1.0 / 3, output); // learns above chance

        // the checkpoint exists, is a valid managed checkpoint, and loads
        Assert.True(File.Exists(ckpt));
        Assert.Empty(Directory.GetFiles(_root, "*.tmp")); // atomic save leaves no temporary file
        CheckpointData read = Checkpoint.Read(ckpt);
        Assert.Equal(3, read.Meta["training"]!["epoch"]!.GetValue<int>());
        Assert.Equal(method, read.Meta["training"]!["method"]!.GetValue<string>());
        Network<float> net = Checkpoint.LoadNetwork<float>(ckpt);
        Assert.Equal(Channels, net.InputSize);
        Assert.Equal(ClassCount, net.OutputSize);

        // the streaming classifier (classify, run) loads it too, BPTT checkpoints included (W-bar = W)
        var online = new EventSnn.Snn.Classification.OnlineSequenceClassifier(new() { Inputs = Channels, Classes = ClassCount, Steps = 100, Recipe = EventSnn.Snn.Classification.SequenceTrainerOptions.ForCheckpoint(EventSnn.Snn.Checkpoint.Read(ckpt)) });
        online.Load(ckpt);

        // eval on the checkpoint reproduces the final test accuracy exactly
        (code, output, err) = CliHarness.Run("eval", data, "--checkpoint", ckpt, "--json");
        Assert.True(code == 0, err);
        JsonElement ev = JsonDocument.Parse(output).RootElement;
        Assert.Equal(final, ev.GetProperty("accuracy").GetDouble());
        Assert.Equal(12, ev.GetProperty("samples").GetInt32());
        Assert.Equal("test", ev.GetProperty("split").GetString());
        Assert.Equal(lines[2].GetProperty("test_loss").GetDouble(), ev.GetProperty("loss").GetDouble(), 9);
        Assert.Equal(ClassCount, ev.GetProperty("per_class_accuracy").GetArrayLength());
        int total = 0, diagonal = 0;
        JsonElement confusion = ev.GetProperty("confusion");
        for (int y = 0; y < ClassCount; y++)
        {
            for (int p = 0; p < ClassCount; p++)
            {
                int n = confusion[y][p].GetInt32();
                total += n;
                diagonal += y == p ? n : 0;
            }
        }

        Assert.Equal(12, total);
        Assert.Equal(final, diagonal / 12.0, 12);

        // human output: accuracy line and the confusion table; the train split works too
        (code, output, err) = CliHarness.Run("eval", data, "--checkpoint", ckpt, "--split", "train");
        Assert.True(code == 0, err);
        Assert.Contains("train split", output);
        Assert.Contains("accuracy", output);
        Assert.Contains("true \\ predicted", output);
    }

    [Fact]
    public void Eval_labels_the_confusion_matrix_with_class_names_and_plots_it()
    {
        string data = MakeDataset(trainPerClass: 4, testPerClass: 2);
        string ckpt = Path.Combine(_root, "names.ckpt");
        (int code, string output, string err) = CliHarness.Run("train", data, "--epochs", "1", "--hidden", "8", "--chunks", "2", "--checkpoint", ckpt, "--json");
        Assert.True(code == 0, err);
        string[] names = [.. EventSnn.Snn.ModelMetadata.ReadClasses(Checkpoint.Read(ckpt))!];
        Assert.Equal(ClassCount, names.Length);

        // JSON: the checkpoint's class names and a classes x classes matrix of the 6 test samples
        string png = Path.Combine(_root, "confusion.png");
        (code, output, err) = CliHarness.Run("eval", data, "--checkpoint", ckpt, "--json", "--plot", png);
        Assert.True(code == 0, err);
        JsonElement ev = JsonDocument.Parse(output).RootElement;
        Assert.Equal(names, ev.GetProperty("class_names").EnumerateArray().Select(e => e.GetString()!).ToArray());
        JsonElement confusion = ev.GetProperty("confusion");
        Assert.Equal(ClassCount, confusion.GetArrayLength());
        Assert.All(confusion.EnumerateArray(), row => Assert.Equal(ClassCount, row.GetArrayLength()));
        Assert.Equal(6, confusion.EnumerateArray().Sum(row => row.EnumerateArray().Sum(n => n.GetInt32())));
        for (int y = 0; y < ClassCount; y++)
        {
            Assert.Equal(2, confusion[y].EnumerateArray().Sum(n => n.GetInt32())); // row y = the 2 samples of true class y
        }

        // the PNG: signature, IHDR with a sensible size, written atomically
        Assert.Equal(png, ev.GetProperty("plot").GetString());
        byte[] bytes = File.ReadAllBytes(png);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        int width = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16));
        int height = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20));
        Assert.InRange(width, 400, 4000);
        Assert.InRange(height, 400, 4000);
        Assert.True(bytes.Length > 5000, $"{bytes.Length} bytes");
        Assert.Empty(Directory.GetFiles(_root, "*.tmp"));

        // an existing plot is replaced only with --force; a wrong name is a usage error naming the option
        long before = new FileInfo(png).Length;
        (code, _, err) = CliHarness.Run("eval", data, "--checkpoint", ckpt, "--plot", png);
        Assert.Equal(2, code);
        Assert.Contains("--plot", err);
        Assert.Contains("--force", err);
        Assert.DoesNotContain("   at ", err);
        Assert.Equal(before, new FileInfo(png).Length);
        (code, _, err) = CliHarness.Run("eval", data, "--checkpoint", ckpt, "--plot", Path.Combine(_root, "confusion.jpg"));
        Assert.Equal(2, code);
        Assert.Contains("--plot", err);

        // text: the class names label the rows and the columns
        (code, output, err) = CliHarness.Run("eval", data, "--checkpoint", ckpt, "--plot", png, "--force");
        Assert.True(code == 0, err);
        string[] lines = output.Split('\n');
        string header = lines.Single(l => l.StartsWith("true \\ predicted", StringComparison.Ordinal));
        foreach (string name in names)
        {
            Assert.Contains(name, header);
            Assert.Contains(lines, l => l.StartsWith(name + " ", StringComparison.Ordinal));
        }

        Assert.Contains("confusion matrix plot: " + png, output);
    }

    [Theory]
    [InlineData("fptt")]
    [InlineData("bptt")]
    public void Torch_backend_trains_and_its_checkpoint_evaluates_in_the_managed_engine(string method)
    {
        string data = MakeDataset(trainPerClass: 4, testPerClass: 2);
        string ckpt = Path.Combine(_root, "torch-" + method + ".ckpt");
        (int code, string output, string err) = CliHarness.Run("train", data, "--backend", "torch", "--method", method, "--epochs", "2", "--batch", "6", "--hidden", "8", "--chunks", "2", "--checkpoint", ckpt, "--json");
        Assert.True(code == 0, err);
        List<JsonElement> lines = JsonLines(output);
        Assert.Equal(3, lines.Count);
        Assert.Equal(method == "fptt" ? 4 : 2, lines[0].GetProperty("updates").GetInt32()); // 2 batches (x 2 chunks for FPTT)
        Assert.True(lines[1].GetProperty("loss").GetDouble() > 0);
        JsonElement summary = lines[2].GetProperty("summary");
        Assert.Equal("torch", summary.GetProperty("backend").GetString());
        Assert.Equal(2, Checkpoint.Read(ckpt).Meta["training"]!["epoch"]!.GetValue<int>());

        // the managed-format checkpoint evaluates to the accuracy train reported
        (code, output, err) = CliHarness.Run("eval", data, "--checkpoint", ckpt, "--json");
        Assert.True(code == 0, err);
        Assert.Equal(summary.GetProperty("final_test_accuracy").GetDouble(), JsonDocument.Parse(output).RootElement.GetProperty("accuracy").GetDouble());
    }

    [Fact]
    public void Human_output_has_a_line_per_epoch_and_resume_continues_after_the_saved_epoch()
    {
        string data = MakeDataset(trainPerClass: 4, testPerClass: 2);
        string ckpt = Path.Combine(_root, "r.ckpt");
        (int code, string output, string err) = CliHarness.Run("train", data, "--epochs", "1", "--batch", "4", "--hidden", "8", "--chunk-length", "25", "--schedule", "cosine", "--tau-bias", "-2", "--learnable-slope", "--checkpoint", ckpt);
        Assert.True(code == 0, err);
        Assert.Contains("1 epochs, gate initialisation (tau bias -2, learnable slopes)", output); // the recipe line names the gate options
        Assert.Contains("epoch   1/1: loss", output);
        Assert.Contains("samples/s", output);
        Assert.Contains("FPTT chunks of 25 steps (K=4", output);
        Assert.Contains("done: 1 epoch(s)", output);

        (code, output, err) = CliHarness.Run("train", data, "--epochs", "2", "--batch", "4", "--hidden", "8", "--chunk-length", "25", "--checkpoint", ckpt, "--resume", "--json");
        Assert.True(code == 0, err);
        Assert.Contains("resumed from", err);
        List<JsonElement> lines = JsonLines(output);
        Assert.Equal(2, lines.Count);
        Assert.Equal(2, lines[0].GetProperty("epoch").GetInt32());
        Assert.Equal(2, lines[1].GetProperty("summary").GetProperty("epochs").GetInt32());
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("torch")]
    public void A_huge_learning_rate_is_reported_as_divergences(string backend)
    {
        string data = MakeDataset(trainPerClass: 4, testPerClass: 2);
        (int code, string output, string err) = CliHarness.Run("train", data, "--backend", backend, "--epochs", "1", "--batch", "4", "--hidden", "8", "--lr", "1e20", "--checkpoint", Path.Combine(_root, "d.ckpt"), "--json");
        Assert.True(code == 0, err);
        List<JsonElement> lines = JsonLines(output);
        Assert.True(lines[0].GetProperty("divergences").GetInt32() > 0, output);
        Assert.Equal(lines[0].GetProperty("divergences").GetInt32(), lines[1].GetProperty("summary").GetProperty("divergences").GetInt32());
        Assert.True(Checkpoint.LoadNetwork<float>(Path.Combine(_root, "d.ckpt")).Parameters.AllFinite());
    }

    [Fact]
    public void Bad_input_is_exit_2_naming_the_path_or_option()
    {
        string missing = Path.Combine(_root, "no-such-dataset");
        (int code, _, string err) = CliHarness.Run("train", missing);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains(missing, err);

        string empty = Path.Combine(_root, "empty");
        Directory.CreateDirectory(empty);
        (code, _, err) = CliHarness.Run("train", empty);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains(empty, err);

        string data = MakeDataset(trainPerClass: 2, testPerClass: 1);
        (code, _, err) = CliHarness.Run("train", data, "--method", "bogus");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("--method", err);
        Assert.Contains("bogus", err);

        (code, _, err) = CliHarness.Run("train", data, "--schedule", "weekly");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("--schedule", err);

        (code, _, err) = CliHarness.Run("train", data, "--backend", "gpu");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("--backend", err);

        (code, _, err) = CliHarness.Run("train", data, "--backend", "torch", "--threads", "0");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("--threads", err);

        (code, _, err) = CliHarness.Run("eval", data);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("--checkpoint", err);

        string garbage = Path.Combine(_root, "garbage.ckpt");
        File.WriteAllText(garbage, "not a checkpoint");
        (code, _, err) = CliHarness.Run("eval", data, "--checkpoint", garbage);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains(garbage, err);

        (code, _, err) = CliHarness.Run("eval", missing, "--checkpoint", garbage);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains(missing, err);
    }

    [Fact]
    public void Dataset_train_is_train_plus_a_per_class_evaluation()
    {
        string data = MakeDataset(trainPerClass: 4, testPerClass: 2);
        string[] recipe = ["--epochs", "2", "--hidden", "8", "--batch", "4", "--json"];
        (int code, string output, string err) = CliHarness.Run(["dataset", "train", data, .. recipe]);
        Assert.True(code == 0, err);
        List<JsonElement> lines = JsonLines(output);
        Assert.Equal(3, lines.Count); // the same per-epoch lines and summary as train
        JsonElement summary = lines[^1].GetProperty("summary");
        Assert.Equal(6, summary.GetProperty("test_samples").GetInt32());
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("checkpoint").ValueKind); // no checkpoint unless asked
        JsonElement evaluation = summary.GetProperty("evaluation");
        Assert.Equal(summary.GetProperty("final_test_accuracy").GetDouble(), evaluation.GetProperty("accuracy").GetDouble());
        Assert.Equal(ClassCount, evaluation.GetProperty("confusion").GetArrayLength());
        Assert.Equal(ClassCount, evaluation.GetProperty("per_class_accuracy").GetArrayLength());
        Assert.Equal(ClassCount, evaluation.GetProperty("class_names").GetArrayLength());
        Assert.Equal("every-step", summary.GetProperty("recipe").GetProperty("loss").GetString()); // the defaults of train

        // the same options through `train` give the same epochs and final accuracy (same code path, same defaults)
        (code, string trainOut, err) = CliHarness.Run(["train", data, "--checkpoint", Path.Combine(_root, "alias.ckpt"), .. recipe]);
        Assert.True(code == 0, err);
        List<JsonElement> viaTrain = JsonLines(trainOut);
        Assert.Equal(lines[0].GetProperty("loss").GetDouble(), viaTrain[0].GetProperty("loss").GetDouble());
        Assert.Equal(summary.GetProperty("final_test_accuracy").GetDouble(), viaTrain[^1].GetProperty("summary").GetProperty("final_test_accuracy").GetDouble());
    }

    /// <summary>
    /// train -> checkpoint -> classify of the dataset folder's test split through the streaming
    /// pipeline decides exactly as eval does (same chain from the checkpoint, same recipe's decision
    /// readout, same weights, same initial state), for a one-layer and a two-layer normalised model.
    /// </summary>
    [Theory]
    [InlineData("--decision", "mean", "--norm", "running")]
    [InlineData("--decision", "last", "--layers", "12,8")]
    public void Classify_of_a_dataset_folder_equals_eval_on_the_same_checkpoint(string o1, string v1, string o2, string v2)
    {
        string data = MakeDataset(trainPerClass: 6, testPerClass: 5);
        string ckpt = Path.Combine(_root, "eq.ckpt");
        (int code, _, string err) = CliHarness.Run("train", data, "--epochs", "3", "--hidden", "12", "--batch", "6", "--lr", "0.01", o1, v1, o2, v2, "--checkpoint", ckpt, "--json");
        Assert.True(code == 0, err);
        (code, string evalOut, err) = CliHarness.Run("eval", data, "--checkpoint", ckpt, "--json");
        Assert.True(code == 0, err);
        JsonElement ev = JsonDocument.Parse(evalOut).RootElement;
        Assert.Equal(v1, ev.GetProperty("decision").GetString());
        (code, string classifyOut, err) = CliHarness.Run("classify", data, "--split", "test", "--checkpoint", ckpt, "--json");
        Assert.True(code == 0, err);
        List<JsonElement> lines = JsonLines(classifyOut);
        JsonElement summary = lines[^1].GetProperty("summary");
        Assert.Equal(ev.GetProperty("samples").GetInt32(), summary.GetProperty("decisions").GetInt32());
        Assert.Equal(ev.GetProperty("accuracy").GetDouble(), summary.GetProperty("accuracy").GetDouble());

        // decision by decision: the confusion counts of the streaming decisions equal eval's matrix
        var confusion = new int[ClassCount, ClassCount];
        foreach (JsonElement d in lines.Take(lines.Count - 1))
        {
            confusion[d.GetProperty("truth_index").GetInt32(), d.GetProperty("label_index").GetInt32()]++;
        }

        JsonElement m = ev.GetProperty("confusion");
        for (int y = 0; y < ClassCount; y++)
        {
            for (int p = 0; p < ClassCount; p++)
            {
                Assert.Equal(m[y][p].GetInt32(), confusion[y, p]);
            }
        }

        // --split on a file is refused, a bad split names the option
        (code, _, err) = CliHarness.Run("classify", data, "--split", "validation", "--checkpoint", ckpt);
        Assert.Equal(2, code);
        Assert.Contains("--split", err);
    }

    /// <summary>A checkpoint trained on other data is refused by eval and classify with one line naming the field and both values.</summary>
    [Fact]
    public void A_mismatched_checkpoint_is_refused_naming_the_field()
    {
        string data = MakeDataset(trainPerClass: 2, testPerClass: 1);
        string ckpt = Path.Combine(_root, "audio.ckpt");
        (int code, _, string err) = CliHarness.Run("train", data, "--epochs", "1", "--hidden", "8", "--batch", "3", "--checkpoint", ckpt, "--json");
        Assert.True(code == 0, err);
        string gestures = Recordings("gestures");
        foreach (string[] command in new[] { new[] { "eval", gestures, "--checkpoint", ckpt }, ["classify", gestures, "--checkpoint", ckpt] })
        {
            (code, _, err) = CliHarness.Run(command);
            Assert.Equal(2, code);
            Assert.Contains("input", err);
            Assert.Contains("audio", err);
            Assert.Contains("dvs", err);
            Assert.DoesNotContain("   at ", err);
        }
    }

    private static string ToolPath()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "eventsnn.dll");
        Assert.True(File.Exists(path), path);
        return path;
    }

    private static Process Launch(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(ToolPath());
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
    }

    private static (int Code, string Out, string Err) RunTool(params string[] args)
    {
        using Process p = Launch(args);
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "the tool did not finish");
        return (p.ExitCode, output, err.Result);
    }

    private static string Recordings(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EventSnn.sln")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        string path = Path.Combine(dir.FullName, "recordings", name);
        Assert.True(Directory.Exists(path), $"{path} is missing");
        return path;
    }

    [Fact]
    public void The_built_tool_trains_and_evaluates_the_gesture_recordings_as_a_process()
    {
        // recordings/gestures: DVS128 Gesture layout, 90 train / 30 test gestures, 10 classes
        string data = Recordings("gestures");
        string ckpt = Path.Combine(_root, "p.ckpt");
        (int code, string output, string err) = RunTool("train", data, "--epochs", "2", "--batch", "10", "--hidden", "16", "--checkpoint", ckpt, "--json");
        Assert.True(code == 0, err);
        List<JsonElement> lines = JsonLines(output);
        Assert.Equal(3, lines.Count);
        Assert.Equal(9, lines[0].GetProperty("updates").GetInt32() / 5); // 9 batches x 5 chunks
        JsonElement summary = lines[^1].GetProperty("summary");
        Assert.Equal(90, summary.GetProperty("train_samples").GetInt32());
        Assert.Equal(30, summary.GetProperty("test_samples").GetInt32());
        Assert.Equal(10, summary.GetProperty("classes").GetInt32());
        double final = summary.GetProperty("final_test_accuracy").GetDouble();

        (code, output, err) = RunTool("eval", data, "--checkpoint", ckpt, "--json");
        Assert.True(code == 0, err);
        JsonElement ev = JsonDocument.Parse(output).RootElement;
        Assert.Equal(final, ev.GetProperty("accuracy").GetDouble());
        Assert.Equal(30, ev.GetProperty("samples").GetInt32());
        Assert.Equal(10, ev.GetProperty("confusion").GetArrayLength());

        // human output when redirected: plain lines and the confusion table, no escape codes
        (code, output, err) = RunTool("eval", data, "--checkpoint", ckpt);
        Assert.True(code == 0, err);
        Assert.Contains("accuracy", output);
        Assert.Contains("true \\ predicted", output);
        Assert.Contains("swipe_left", output); // the class names label the rows and columns
        Assert.DoesNotContain("\u001b[", output);

        (code, _, err) = RunTool("train", data, "--method", "bogus");
        Assert.Equal(2, code);
        Assert.Contains("--method", err);
    }

    [Fact]
    public async Task Sigterm_finishes_the_batch_saves_the_checkpoint_and_exits_130()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // SIGTERM is POSIX
        }

        string data = MakeDataset(trainPerClass: 8, testPerClass: 2);
        string ckpt = Path.Combine(_root, "term.ckpt");
        using Process p = Launch("train", data, "--epochs", "1000", "--batch", "4", "--hidden", "16", "--checkpoint", ckpt, "--json");
        Task<string> err = p.StandardError.ReadToEndAsync();

        // wait for the first epoch line, then ask it to stop
        string? first = await p.StandardOutput.ReadLineAsync();
        Assert.NotNull(first);
        Assert.Equal(1, JsonDocument.Parse(first).RootElement.GetProperty("epoch").GetInt32());
        using (Process kill = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

        string rest = await p.StandardOutput.ReadToEndAsync();
        Assert.True(p.WaitForExit(30_000), "the tool did not stop");
        string stderr = await err;
        Assert.True(p.ExitCode == 130, stderr);
        List<JsonElement> lines = JsonLines(rest);
        JsonElement summary = lines[^1].GetProperty("summary");
        Assert.True(summary.GetProperty("interrupted").GetBoolean());
        Assert.True(summary.GetProperty("epochs").GetInt32() < 1000);
        CheckpointData saved = Checkpoint.Read(ckpt);
        int epochs = summary.GetProperty("epochs").GetInt32();
        Assert.Equal(epochs, saved.Meta["training"]!["epoch"]!.GetValue<int>());
        Assert.True(saved.Meta["training"]!["interrupted"]!.GetValue<bool>());

        // --resume continues the interrupted epoch from the batch after the last one trained
        (int code, _, string resumedErr) = CliHarness.Run("train", data, "--epochs", (epochs + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "--batch", "4", "--hidden", "16", "--checkpoint", ckpt, "--resume", "--json");
        Assert.True(code == 0, resumedErr);
        int batchesDone = saved.Meta["training"]!["progress"]?["batches_done"]?.GetValue<int>() ?? 0;
        Assert.Contains(
            batchesDone > 0 ? $"in epoch {epochs + 1} after batch {batchesDone}" : $"after epoch {epochs}", // a stop before the epoch's first batch keeps nothing of it
            resumedErr,
            StringComparison.Ordinal);

        CheckpointData done = Checkpoint.Read(ckpt);
        Assert.Equal(epochs + 1, done.Meta["training"]!["epoch"]!.GetValue<int>());
        Assert.False(done.Meta["training"]!["interrupted"]!.GetValue<bool>());
    }
}
