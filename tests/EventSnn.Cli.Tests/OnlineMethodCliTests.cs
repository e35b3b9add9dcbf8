using System.Text.Json;
using EventSnn.IO;

namespace EventSnn.Cli.Tests;

/// <summary>
/// The learning method is selectable wherever the tool learns online: <c>classify --learn
/// --method</c> (a fresh model, or a checkpoint whose recipe names its method) and the run
/// configuration's <c>Recipe:Method</c>; the summaries say which method learned.
/// </summary>
[Collection("TrainEval")]
public sealed class OnlineMethodCliTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("eventsnn-methods-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A tiny SHD-layout dataset: class c fires mostly on channels 8c..8c+7 (3 classes).</summary>
    private string MakeDataset()
    {
        string dir = Path.Combine(_root, "data");
        Directory.CreateDirectory(dir);
        var rng = new Random(11);
        foreach ((string file, int n) in new[] { ("shd_train.h5", 8), ("shd_test.h5", 4) })
        {
            using ShdWriter w = ShdWriter.Create(Path.Combine(dir, file), channels: 24);
            for (int k = 0; k < n; k++)
            {
                for (int c = 0; c < 3; c++)
                {
                    var spikes = new List<(long T, ushort U)>();
                    for (int i = 0; i < 60; i++)
                    {
                        spikes.Add((100_000 + rng.NextInt64(800_000), (ushort)((8 * c) + rng.Next(8))));
                    }

                    spikes.Sort();
                    w.Add([.. spikes.Select(s => s.T)], [.. spikes.Select(s => s.U)], c);
                }
            }
        }

        return dir;
    }

    [Theory]
    [InlineData("fptt", 5)]
    [InlineData("eprop", 5)]
    [InlineData("ostl", 5)]
    [InlineData("tbptt", 5)]
    [InlineData("bptt", 1)]
    public void Classify_learns_online_with_the_method_asked_for(string method, int updatesPerSample)
    {
        string data = MakeDataset();
        (int code, string output, string err) = CliHarness.Run("classify", data, "--split", "train", "--learn", "--method", method, "--hidden", "8", "--json", "--quiet");
        Assert.True(code == 0, err);
        JsonElement summary = ToolProcessClassify.Summary(output);
        Assert.Equal(method, summary.GetProperty("method").GetString());
        Assert.Equal(24, summary.GetProperty("decisions").GetInt32());
        Assert.Equal(24L * updatesPerSample, summary.GetProperty("updates").GetInt64());
    }

    [Fact]
    public void Classify_takes_the_checkpoints_method_unless_told_and_refuses_an_unknown_one()
    {
        string data = MakeDataset();
        string ckpt = Path.Combine(_root, "ostl.ckpt");
        (int code, _, string err) = CliHarness.Run("train", data, "--method", "ostl", "--epochs", "1", "--batch", "4", "--hidden", "8", "--checkpoint", ckpt);
        Assert.True(code == 0, err);

        (code, string output, err) = CliHarness.Run("classify", data, "--checkpoint", ckpt, "--learn", "--json", "--quiet");
        Assert.True(code == 0, err);
        Assert.Equal("ostl", ToolProcessClassify.Summary(output).GetProperty("method").GetString());

        // FPTT continues from a checkpoint without W̄ and λ: its average starts at the loaded weights
        (code, output, err) = CliHarness.Run("classify", data, "--checkpoint", ckpt, "--learn", "--method", "fptt", "--json", "--quiet");
        Assert.True(code == 0, err);
        JsonElement summary = ToolProcessClassify.Summary(output);
        Assert.Equal("fptt", summary.GetProperty("method").GetString());
        Assert.True(summary.GetProperty("updates").GetInt64() > 0);

        (code, _, err) = CliHarness.Run("classify", data, "--learn", "--method", "rtrl");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("option --method: 'rtrl' is not one of fptt, bptt, tbptt, eprop, ostl", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_learns_with_the_configured_method()
    {
        string output = Path.Combine(_root, "run");
        (int code, string stdout, string stderr) = ToolProcessClassify.Run(
            ["run", "--passes", "1", "--stream", "spoken-digits", "--json", "--quiet", "--out", output, "--Run:Streams:spoken-digits:Hidden=16", "--Run:Streams:spoken-digits:Preprocessing:MaxSteps=40", "--Run:Streams:spoken-digits:Recipe:Method=eprop"],
            TimeSpan.FromSeconds(120));
        Assert.True(code == 0, stderr);
        JsonElement stream = ToolProcessClassify.Summary(stdout).GetProperty("streams")[0];
        Assert.Equal("eprop", stream.GetProperty("method").GetString());
        Assert.True(stream.GetProperty("updates").GetInt64() > 0);
        Assert.Equal(0, stream.GetProperty("divergences").GetInt32());
    }
}
