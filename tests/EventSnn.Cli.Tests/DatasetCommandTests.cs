using System.Buffers.Binary;
using System.Text.Json;

namespace EventSnn.Cli.Tests;

public class DatasetCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CommandRunner.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Writes IDX files of 28 x 28 images (a bar whose angle depends on the digit).</summary>
    private static void WriteMnist(string folder, int perDigit)
    {
        Directory.CreateDirectory(folder);
        foreach (string prefix in new[] { "train", "t10k" })
        {
            int n = perDigit * 10;
            var images = new byte[16 + (n * 784)];
            BinaryPrimitives.WriteInt32BigEndian(images, 0x803);
            BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), n);
            BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), 28);
            BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), 28);
            var labels = new byte[8 + n];
            BinaryPrimitives.WriteInt32BigEndian(labels, 0x801);
            BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), n);
            for (int i = 0; i < n; i++)
            {
                int digit = i % 10;
                labels[8 + i] = (byte)digit;
                for (int k = -10; k <= 10; k++)
                {
                    int x = 14 + (int)Math.Round(k * Math.Cos(digit * Math.PI / 10));
                    int y = 14 + (int)Math.Round(k * Math.Sin(digit * Math.PI / 10));
                    images[16 + (i * 784) + (y * 28) + x] = 255;
                }
            }

            File.WriteAllBytes(Path.Combine(folder, prefix + "-images-idx3-ubyte"), images);
            File.WriteAllBytes(Path.Combine(folder, prefix + "-labels-idx1-ubyte"), labels);
        }
    }

    [Fact]
    public void Make_refuses_a_folder_that_is_not_empty_and_force_replaces_the_previous_dataset()
    {
        string root = Path.Combine(Path.GetTempPath(), "eventsnn-make-" + Guid.NewGuid().ToString("N"));
        string output = Path.Combine(root, "g");
        try
        {
            Directory.CreateDirectory(output);
            File.WriteAllText(Path.Combine(output, "user99_synthetic.aedat4"), "stale");
            File.WriteAllText(Path.Combine(output, "notes.md"), "mine");
            (int code, _, string err) = Run("dataset", "make", "gestures", "--out", output, "--samples-per-class", "1", "--threads", "1");
            Assert.Equal(2, code);
            Assert.Contains("--force", err, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(output, "user99_synthetic.aedat4")));

            (code, _, err) = Run("dataset", "make", "gestures", "--out", output, "--samples-per-class", "1", "--threads", "1", "--force");
            Assert.True(code == 0, err);
            Assert.False(File.Exists(Path.Combine(output, "user99_synthetic.aedat4"))); // the stale recording is gone
            Assert.True(File.Exists(Path.Combine(output, "notes.md"))); // what is not a dataset file stays
            Assert.NotEmpty(Directory.GetFiles(output, "*.aedat4"));
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    [Fact]
    public void DatasetMake_UnknownDatasetOrMissingOut_IsAUsageError()
    {
        (int code, _, string err) = Run("dataset", "make", "cifar", "--out", "x");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("unknown dataset 'cifar'", err);
        (code, _, err) = Run("dataset", "make", "gestures");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("--out", err);
    }

    [Fact]
    public void DatasetMake_Smnist_ThenBaseline_PrintsPlainProgressAndAccuracy()
    {
        string root = Path.Combine(Path.GetTempPath(), "eventsnn-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            WriteMnist(Path.Combine(root, "idx"), perDigit: 8);
            string output = Path.Combine(root, "smnist");
            (int code, string stdout, string stderr) = Run("dataset", "make", "smnist", "--out", output, "--samples-per-class", "8", "--mnist", Path.Combine(root, "idx"));
            Assert.True(code == 0, stderr);
            Assert.Contains("smnist: 100/100 digits", stdout); // plain progress lines when not on a terminal
            Assert.Contains("80 train + 20 test samples", stdout);
            Assert.True(File.Exists(Path.Combine(output, "smnist_train.h5")));

            (code, stdout, stderr) = Run("dataset", "baseline", output, "--json");
            Assert.True(code == 0, stderr);
            using JsonDocument json = JsonDocument.Parse(stdout);
            Assert.Equal(80, json.RootElement.GetProperty("train_samples").GetInt32());
            Assert.Equal(0.1, json.RootElement.GetProperty("chance").GetDouble(), 9);
            Assert.True(json.RootElement.GetProperty("test_accuracy").GetDouble() > 0.5);

            // the LTC network trained online with FPTT on the same folder
            (code, stdout, stderr) = Run("dataset", "train", output, "--epochs", "20", "--hidden", "32", "--lr", "0.01", "--json");
            Assert.True(code == 0, stderr);
            string[] lines = stdout.TrimEnd().Split('\n');
            Assert.Equal(21, lines.Length); // 20 epoch lines and the summary
            Assert.Contains("\"epoch\":20", lines[19]);
            using JsonDocument train = JsonDocument.Parse(lines[^1]);
            JsonElement summary = train.RootElement.GetProperty("summary");
            Assert.Equal(20, summary.GetProperty("test_samples").GetInt32());
            Assert.True(summary.GetProperty("best_test_accuracy").GetDouble() > 0.3, lines[^1]); // chance is 0.1
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void DatasetBaseline_FolderWithoutADataset_NamesIt()
    {
        string root = Path.Combine(Path.GetTempPath(), "eventsnn-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            (int code, _, string err) = Run("dataset", "baseline", root);
            Assert.Equal(CommandRunner.BadInput, code);
            Assert.Contains(root, err);
        }
        finally
        {
            Directory.Delete(root);
        }
    }
}
