using System.Buffers.Binary;
using System.Text.Json;
using EventSnn.Cli;

namespace EventSnn.Cli.Tests;

/// <summary><c>eventsnn repro smnist</c>: argument validation and a tiny run on generated IDX files.</summary>
public class ReproSmnistTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("eventsnn-smnist-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("train-samples", "0")]
    [InlineData("train-samples", "60001")]
    [InlineData("test-samples", "0")]
    [InlineData("test-samples", "10001")]
    [InlineData("epochs", "0")]
    [InlineData("threads", "0")]
    [InlineData("threads", "65")]
    [InlineData("batch", "0")]
    [InlineData("layers", "0,4")]
    [InlineData("layers", "8,8,8,8")]
    [InlineData("chunk-length", "785")]
    [InlineData("chunk-length", "0")]
    [InlineData("method", "sgd")]
    [InlineData("loss", "middle")]
    [InlineData("norm", "group")]
    [InlineData("norm-gain", "0")]
    [InlineData("optimizer", "sgd")]
    [InlineData("decision", "first")]
    [InlineData("schedule", "linear")]
    [InlineData("lr", "-1")]
    [InlineData("alpha", "0")]
    [InlineData("beta", "1.5")]
    [InlineData("clip", "0")]
    [InlineData("dropout", "1")]
    [InlineData("rho-bias", "NaN")]
    [InlineData("rho-bias", "slow")]
    [InlineData("permutation-seed", "-1")]
    [InlineData("epochs", "two")]
    public void Bad_values_exit_2_naming_the_option(string option, string value)
    {
        // validation comes before MNIST is located: the folder given does not exist
        (int code, string output, string err) = CliHarness.Run("repro", "smnist", "--" + option, value, "--mnist", "/nonexistent/mnist");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("--" + option, err);
        Assert.Equal(string.Empty, output);
    }

    [Fact]
    public void Threads_beyond_the_batch_and_batch_norm_of_one_sequence_are_refused()
    {
        (int code, _, string err) = CliHarness.Run("repro", "smnist", "--threads", "4", "--batch", "2", "--mnist", "/nonexistent/mnist");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("--threads", err);
        (code, _, err) = CliHarness.Run("repro", "smnist", "--batch", "1", "--mnist", "/nonexistent/mnist");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("--norm", err);
        (code, _, err) = CliHarness.Run("repro", "smnist", "--mnist", "/nonexistent/mnist");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("/nonexistent/mnist", err);
        (code, _, err) = CliHarness.Run("repro", "smnist", "--hidden", "8");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("--hidden", err);
    }

    [Fact]
    public void A_tiny_permuted_run_prints_epoch_lines_and_a_summary_with_the_permutation()
    {
        WriteIdx(_dir, "train", 24);
        WriteIdx(_dir, "t10k", 10);
        (int code, string output, string err) = CliHarness.Run(
            "repro", "smnist", "--permuted", "--permutation-seed", "5", "--mnist", _dir, "--train-samples", "20", "--test-samples", "6",
            "--epochs", "2", "--layers", "8,6", "--batch", "4", "--threads", "2", "--chunk-length", "196", "--json");
        Assert.True(code == 0, err);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        for (int e = 0; e < 2; e++)
        {
            using var epoch = JsonDocument.Parse(lines[e]);
            JsonElement m = epoch.RootElement;
            Assert.Equal(e + 1, m.GetProperty("epoch").GetInt32());
            Assert.True(double.IsFinite(m.GetProperty("train_loss").GetDouble()));
            Assert.InRange(m.GetProperty("test_accuracy").GetDouble(), 0, 1);
            JsonElement by = m.GetProperty("test_accuracy_by_decision"); // the same pass read each way; the default reading is the mean
            Assert.Equal(m.GetProperty("test_accuracy").GetDouble(), by.GetProperty("mean").GetDouble());
            Assert.InRange(by.GetProperty("last").GetDouble(), 0, 1);
            Assert.InRange(by.GetProperty("max").GetDouble(), 0, 1);
            Assert.True(m.GetProperty("seconds").GetDouble() >= 0);
            Assert.True(m.GetProperty("cpu_seconds").GetDouble() >= 0);
        }

        using var doc = JsonDocument.Parse(lines[2]);
        JsonElement s = doc.RootElement.GetProperty("summary");
        Assert.Equal("psmnist", s.GetProperty("task").GetString());
        Assert.Equal(20, s.GetProperty("train_samples").GetInt32());
        Assert.Equal(6, s.GetProperty("test_samples").GetInt32());
        Assert.Equal(784, s.GetProperty("steps").GetInt32());
        Assert.Equal(196, s.GetProperty("chunk_length").GetInt32());
        Assert.Equal("mean", s.GetProperty("decision").GetString());
        Assert.EndsWith("decision mean", s.GetProperty("model").GetString());
        Assert.Equal(2, s.GetProperty("threads").GetInt32());
        Assert.Equal(2, s.GetProperty("epochs").GetInt32());
        Assert.Equal(2, s.GetProperty("test_accuracy_per_epoch").GetArrayLength());
        Assert.Equal(5, s.GetProperty("permutation_seed").GetInt32());
        int[] perm = [.. s.GetProperty("permutation").EnumerateArray().Select(v => v.GetInt32())];
        Assert.Equal(EventSnn.Datasets.Mnist.SequentialMnist.Permutation(784, 5), perm);
        Assert.True(s.GetProperty("learner_memory_bytes").GetInt64() > 0);
    }

    [Fact]
    public void Decision_last_reads_the_last_step_and_says_so()
    {
        WriteIdx(_dir, "train", 8);
        WriteIdx(_dir, "t10k", 6);
        (int code, string output, string err) = CliHarness.Run(
            "repro", "smnist", "--mnist", _dir, "--train-samples", "8", "--test-samples", "6", "--epochs", "1",
            "--layers", "6", "--batch", "4", "--pixels-per-step", "28", "--chunk-length", "7", "--decision", "last", "--json");
        Assert.True(code == 0, err);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using var epoch = JsonDocument.Parse(lines[0]);
        JsonElement m = epoch.RootElement;
        Assert.Equal(m.GetProperty("test_accuracy").GetDouble(), m.GetProperty("test_accuracy_by_decision").GetProperty("last").GetDouble());
        using var doc = JsonDocument.Parse(lines[^1]);
        Assert.Equal("last", doc.RootElement.GetProperty("summary").GetProperty("decision").GetString());
    }

    [Fact]
    public void Gate_initialisation_options_reach_the_network_and_are_named_in_the_model_line()
    {
        (string ckpt, JsonDocument doc) = RunTwoLayers("gates.ckpt", "--tau-bias", "-2", "--rho-bias", "3", "--learnable-slope");
        using JsonDocument summary = doc;
        Assert.StartsWith("LTC 6-5 (tau bias -2, rho bias 3, learnable slopes), ", doc.RootElement.GetProperty("summary").GetProperty("model").GetString());

        EventSnn.Snn.CheckpointData data = EventSnn.Snn.Checkpoint.Read(ckpt);
        EventSnn.Snn.Classification.SequenceTrainerOptions recipe = EventSnn.Snn.Classification.SequenceTrainerOptions.ForCheckpoint(data);
        Assert.Equal(-2, recipe.TauBiasInit);
        Assert.Equal(3, recipe.RhoBiasInit);
        Assert.True(recipe.LearnableSlope);
        Assert.All(data.Config.Layers, l => Assert.True(l.LearnableSlope && l.RhoBiasInit == 3 && l.TauBiasInit == -2));
        Assert.Contains("layers.1.k_rho", data.Tensors.Keys);
    }

    [Fact]
    public void The_recurrent_normalisation_reaches_every_layer_and_its_checkpoint_and_needs_a_running_kind()
    {
        (string ckpt, JsonDocument doc) = RunTwoLayers("recnorm.ckpt", "--norm", "timestep", "--norm-recurrent");
        using JsonDocument summary = doc;
        Assert.StartsWith("LTC 6-5, norm timestep of both currents (gain 0.1), ", doc.RootElement.GetProperty("summary").GetProperty("model").GetString());
        EventSnn.Snn.CheckpointData data = EventSnn.Snn.Checkpoint.Read(ckpt);
        Assert.True(EventSnn.Snn.Classification.SequenceTrainerOptions.ForCheckpoint(data).RecurrentNorm);
        Assert.All(data.Config.Layers, l => Assert.True(l.RecurrentNorm));
        foreach (string name in new[] { "layers.0.norm_rec.weight", "layers.1.norm_rec.running_mean", "layers.1.norm_rec.running_var" })
        {
            Assert.Contains(name, data.Tensors.Keys);
        }

        // the statistics moved while training (not the initial 0 / 1)
        Assert.Contains(data.Tensors["layers.0.norm_rec.running_var"].Data, v => v != 1f);

        // the default batch norm has no running kind for the recurrent current: refused, naming the option
        Assert.Contains("--norm-recurrent", Refused("repro", "smnist", "--norm-recurrent", "--mnist", "/nonexistent/mnist"));
    }

    [Fact]
    public void The_readout_normalisation_reaches_the_checkpoint_and_learns_and_needs_a_running_kind()
    {
        (string ckpt, JsonDocument doc) = RunTwoLayers("readnorm.ckpt", "--norm", "timestep", "--norm-readout", "--liquid-readout");
        using JsonDocument summary = doc;
        Assert.StartsWith("LTC 6-5, norm timestep of the input and readout currents (gain 0.1), liquid readout, ", doc.RootElement.GetProperty("summary").GetProperty("model").GetString());
        EventSnn.Snn.CheckpointData data = EventSnn.Snn.Checkpoint.Read(ckpt);
        Assert.Equal(EventSnn.Snn.InputNormKind.Timestep, data.Config.Readout.Norm);
        Assert.True(EventSnn.Snn.Classification.SequenceTrainerOptions.ForCheckpoint(data).ReadoutNorm);

        // one set of statistics per step (28 rows of pixels) for the 10 classes; they moved from 0 / 1 while training, and the gain from 0.1
        Assert.Equal(28 * 10, data.Tensors["readout.norm.running_mean"].Data.Length);
        Assert.Contains(data.Tensors["readout.norm.running_var"].Data, v => v != 1f);
        Assert.Contains(data.Tensors["readout.norm.weight"].Data, v => v != 0.1f);

        // the default batch norm has no running kind for the readout: refused, naming the option; e-prop refuses it too
        Assert.Contains("--norm-readout", Refused("repro", "smnist", "--norm-readout", "--mnist", "/nonexistent/mnist"));
        Assert.Contains("--norm-readout", Refused("repro", "smnist", "--norm-readout", "--norm", "running", "--method", "eprop", "--mnist", "/nonexistent/mnist"));
    }

    [Fact]
    public void The_liquid_readout_reaches_the_checkpoint_and_learns_and_e_prop_refuses_it()
    {
        (string ckpt, JsonDocument doc) = RunTwoLayers("liquid.ckpt", "--liquid-readout");
        using JsonDocument summary = doc;
        Assert.StartsWith("LTC 6-5, norm batch (gain 0.1), liquid readout, ", doc.RootElement.GetProperty("summary").GetProperty("model").GetString());
        EventSnn.Snn.CheckpointData data = EventSnn.Snn.Checkpoint.Read(ckpt);
        Assert.Equal(EventSnn.Snn.ReadoutKind.Liquid, data.Config.Readout.Kind);
        Assert.True(EventSnn.Snn.Classification.SequenceTrainerOptions.ForCheckpoint(data).LiquidReadout);
        Assert.Equal(10 * 20, data.Tensors["readout.w_tau.weight"].Data.Length); // [C, 2C] with C = 10

        // the gate's slope left its initial 1 and the gate's bias its initial 0: the head learned
        Assert.NotEqual(1f, data.Tensors["readout.k_tau"].Data[0]);
        Assert.Contains(data.Tensors["readout.w_tau.bias"].Data, v => v != 0f);

        Assert.Contains("--liquid-readout", Refused("repro", "smnist", "--liquid-readout", "--method", "eprop", "--norm", "running", "--mnist", "/nonexistent/mnist"));
    }

    [Fact]
    public void A_resumed_run_continues_the_same_run_keeps_its_task_and_an_existing_checkpoint_is_not_clobbered()
    {
        WriteIdx(_dir, "train", 8);
        WriteIdx(_dir, "t10k", 4);
        string whole = Path.Combine(_dir, "whole.ckpt");
        string parts = Path.Combine(_dir, "parts.ckpt");
        string[] common =
        [
            "repro", "smnist", "--mnist", _dir, "--train-samples", "8", "--test-samples", "4", "--layers", "6", "--batch", "4",
            "--pixels-per-step", "28", "--chunk-length", "7", "--permuted", "--permutation-seed", "3", "--norm", "timestep", "--json",
        ];
        (int code, string output, string err) = CliHarness.Run([.. common, "--epochs", "2", "--checkpoint", whole]);
        Assert.True(code == 0, err);
        using JsonDocument wholeSecond = JsonDocument.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1]);

        (code, _, err) = CliHarness.Run([.. common, "--epochs", "1", "--checkpoint", parts]);
        Assert.True(code == 0, err);
        byte[] afterOne = File.ReadAllBytes(parts);
        double firstSitting = EventSnn.Snn.Checkpoint.Read(parts).Meta["training"]!["seconds"]!.GetValue<double>();

        // an existing checkpoint is kept without --resume or --force, and the refusal says so
        (code, output, err) = CliHarness.Run([.. common, "--epochs", "1", "--checkpoint", parts]);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("--resume", err);
        Assert.Equal(string.Empty, output);
        Assert.Equal(afterOne, File.ReadAllBytes(parts));

        // the recorded task cannot be continued as another one: refused naming the option, the file untouched
        Assert.Contains("--pixels-per-step", Refused("repro", "smnist", "--mnist", _dir, "--checkpoint", parts, "--resume", "--epochs", "2", "--pixels-per-step", "14"));
        Assert.Contains("--permutation-seed", Refused("repro", "smnist", "--mnist", _dir, "--checkpoint", parts, "--resume", "--epochs", "2", "--permutation-seed", "4"));
        Assert.Equal(afterOne, File.ReadAllBytes(parts));

        // --resume with only the total epochs: the checkpoint's recipe and task (PS-MNIST, seed 3, 28 pixels, 8 digits)
        (code, output, err) = CliHarness.Run("repro", "smnist", "--mnist", _dir, "--test-samples", "4", "--checkpoint", parts, "--resume", "--epochs", "2", "--json");
        Assert.True(code == 0, err);
        Assert.Contains("resumed from", err);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        using JsonDocument resumedSecond = JsonDocument.Parse(lines[0]);
        using JsonDocument summary = JsonDocument.Parse(lines[1]);
        JsonElement s = summary.RootElement.GetProperty("summary");
        Assert.Equal("psmnist", s.GetProperty("task").GetString());
        Assert.Equal(3, s.GetProperty("permutation_seed").GetInt32());
        Assert.Equal(28, s.GetProperty("pixels_per_step").GetInt32());
        Assert.Equal(1, s.GetProperty("resumed_after_epoch").GetInt32());
        Assert.Equal(2, s.GetProperty("epochs").GetInt32());

        // the total wall time counts the first sitting's epoch as well (the checkpoint carried it)
        double total = s.GetProperty("total_seconds").GetDouble();
        Assert.True(firstSitting > 0);
        Assert.InRange(total, Math.Round(firstSitting, 2) - 0.01, firstSitting + resumedSecond.RootElement.GetProperty("seconds").GetDouble() + 0.01);

        // ... and its second epoch is the uninterrupted run's second epoch, to the bit
        JsonElement a = wholeSecond.RootElement, b = resumedSecond.RootElement;
        Assert.Equal(2, b.GetProperty("epoch").GetInt32());
        foreach (string field in new[] { "train_loss", "test_loss", "test_accuracy", "lr" })
        {
            Assert.Equal(a.GetProperty(field).GetDouble(), b.GetProperty(field).GetDouble());
        }

        EventSnn.Snn.CheckpointData x = EventSnn.Snn.Checkpoint.Read(whole), y = EventSnn.Snn.Checkpoint.Read(parts);
        Assert.Equal(x.Tensors.Keys.Order(StringComparer.Ordinal), y.Tensors.Keys.Order(StringComparer.Ordinal));
        foreach (string name in x.Tensors.Keys)
        {
            Assert.Equal(x.Tensors[name].Data, y.Tensors[name].Data);
        }

        Assert.Equal("psmnist", y.Metadata("smnist")!["task"]!.GetValue<string>());

        // a total already reached: nothing to do, the checkpoint unchanged
        byte[] afterTwo = File.ReadAllBytes(parts);
        (code, output, err) = CliHarness.Run("repro", "smnist", "--mnist", _dir, "--checkpoint", parts, "--resume", "--epochs", "2", "--json");
        Assert.Equal(0, code);
        Assert.Contains("nothing left to do", err);
        Assert.Equal(string.Empty, output);
        Assert.Equal(afterTwo, File.ReadAllBytes(parts));

        // a checkpoint of train on a dataset is not an S-MNIST run: refused, naming the file, the file untouched
        string data = Path.Combine(_dir, "gestures");
        (code, _, err) = CliHarness.Run("dataset", "make", "gestures", "--out", data, "--samples-per-class", "2", "--threads", "1");
        Assert.True(code == 0, err);
        string trained = Path.Combine(_dir, "gestures.ckpt");
        (code, _, err) = CliHarness.Run("train", data, "--epochs", "1", "--hidden", "6", "--batch", "2", "--checkpoint", trained);
        Assert.True(code == 0, err);
        byte[] trainedBytes = File.ReadAllBytes(trained);
        err = Refused("repro", "smnist", "--mnist", _dir, "--checkpoint", trained, "--resume", "--epochs", "2");
        Assert.Contains(trained, err);
        Assert.Contains("not by repro smnist", err);
        Assert.Equal(trainedBytes, File.ReadAllBytes(trained));

        // --force starts over
        (code, _, err) = CliHarness.Run([.. common, "--epochs", "1", "--checkpoint", parts, "--force"]);
        Assert.True(code == 0, err);
        Assert.Equal(1, EventSnn.Snn.Checkpoint.Read(parts).Meta["training"]!["epoch"]!.GetValue<int>());
    }

    /// <summary>Runs the tool with <paramref name="args"/>, asserts it refused them (exit 2) and returns its error output.</summary>
    private static string Refused(params string[] args)
    {
        (int code, _, string err) = CliHarness.Run(args);
        Assert.Equal(CommandRunner.BadInput, code);
        return err;
    }

    /// <summary>A one-epoch run of a 6-5 network on 8 + 4 written digits (28 steps) with <paramref name="extra"/>; returns the checkpoint and the parsed summary line.</summary>
    private (string Checkpoint, JsonDocument Summary) RunTwoLayers(string checkpoint, params string[] extra)
    {
        WriteIdx(_dir, "train", 8);
        WriteIdx(_dir, "t10k", 4);
        string ckpt = Path.Combine(_dir, checkpoint);
        string[] args =
        [
            "repro", "smnist", "--mnist", _dir, "--train-samples", "8", "--test-samples", "4", "--epochs", "1", "--layers", "6,5",
            "--batch", "4", "--pixels-per-step", "28", "--chunk-length", "7", .. extra, "--checkpoint", ckpt, "--json",
        ];
        (int code, string output, string err) = CliHarness.Run(args);
        Assert.True(code == 0, err);
        return (ckpt, JsonDocument.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]));
    }

    internal static void WriteIdx(string folder, string prefix, int count)
    {
        Directory.CreateDirectory(folder);
        var images = new byte[16 + (count * 784)];
        BinaryPrimitives.WriteInt32BigEndian(images, 0x803);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), 28);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), 28);
        var labels = new byte[8 + count];
        BinaryPrimitives.WriteInt32BigEndian(labels, 0x801);
        BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), count);
        for (int i = 0; i < count; i++)
        {
            labels[8 + i] = (byte)(i % 10);
            for (int p = 0; p < 784; p++)
            {
                images[16 + (i * 784) + p] = (byte)((p / 28) == (i % 10) * 2 + 4 ? 255 : (p * 13 + i) % 7 == 0 ? 90 : 0);
            }
        }

        File.WriteAllBytes(Path.Combine(folder, prefix + "-images-idx3-ubyte"), images);
        File.WriteAllBytes(Path.Combine(folder, prefix + "-labels-idx1-ubyte"), labels);
    }
}
