using System.Text.Json;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;
using EventSnn.Snn;
using EventSnn.Snn.Classification;

namespace EventSnn.Cli.Tests;

/// <summary>
/// SIGTERM (not SIGKILL) to the running tool: it finishes the current chunk, saves its checkpoints
/// atomically, flushes its outputs (the summary line) and exits 130.
/// </summary>
[Collection(ToolProcessCollection.Name)]
public sealed class ReliabilityTests : IDisposable
{
    private static readonly TimeSpan Minute = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("eventsnn-sigterm-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static bool IsDecision(string line) => line.StartsWith("{\"t_us\"", StringComparison.Ordinal);

    [Fact]
    public void Bench_soak_feeds_serve_samples_its_memory_and_counts_every_event_sent()
    {
        (int code, string stdout, string stderr) = ToolProcessClassify.Run(
            ["bench", "soak", "--minutes", "0.15", "--streams", "2", "--rate", "50000", "--interval", "2", "--warmup", "2", "--max-growth", "200", "--json"],
            TimeSpan.FromSeconds(120));
        Assert.True(code == 0, $"exit {code}: {stdout} {stderr}");
        List<JsonElement> lines = ToolProcessClassify.JsonLines(stdout);
        List<JsonElement> samples = lines.Where(l => l.TryGetProperty("t_s", out _)).ToList();
        Assert.True(samples.Count >= 4, stdout);
        Assert.All(samples, s => Assert.True(s.GetProperty("rss_bytes").GetInt64() > 10_000_000)); // the server's resident set, sampled
        JsonElement summary = ToolProcessClassify.Summary(stdout);
        long sent = summary.GetProperty("events_sent").GetInt64();
        Assert.InRange(sent, 2 * 50_000 * 8, 2 * 50_000 * 10); // 2 streams x 50,000 events/s x 9 s
        Assert.Equal(sent, summary.GetProperty("events_counted").GetInt64());
        Assert.True(summary.GetProperty("events_match").GetBoolean());
        Assert.True(summary.GetProperty("decisions").GetInt64() >= 2 * 80); // 100 ms windows
        Assert.True(summary.GetProperty("passed").GetBoolean());
        Assert.Equal(samples.Count, summary.GetProperty("rss_bytes").GetArrayLength());

        // serve's latency histogram (from /metrics) holds every decision
        Assert.Equal(summary.GetProperty("decisions").GetInt64(), summary.GetProperty("decisions_within_ms").GetProperty("inf").GetInt64());
        Assert.True(summary.GetProperty("latency_p99_ms_at_most").GetDouble() > 0);
    }

    [Theory]
    [InlineData("--minutes", "0")]
    [InlineData("--minutes", "NaN")]
    [InlineData("--streams", "65")]
    [InlineData("--rate", "10")]
    [InlineData("--interval", "0.1")]
    [InlineData("--max-growth", "-1")]
    public void Bench_soak_refuses_bad_values_naming_the_option(string option, string value)
    {
        (int code, string stdout, string stderr) = CliHarness.Run("bench", "soak", option, value);
        Assert.True(code == 2, $"exit {code}: {stdout} {stderr}");
        Assert.Contains("option " + option + ": ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_on_SIGTERM_saves_loadable_checkpoints_flushes_the_summary_and_exits_130()
    {
        string output = Path.Combine(_dir, "run");
        using ToolProcessClassify tool = ToolProcessClassify.Start(["run", "--passes", "3", "--json", "--out", output]);
        Assert.True(tool.WaitForLines(IsDecision, 20, Minute), "no decisions: " + tool.Stderr);
        tool.Terminate();
        int code = tool.WaitForExit(Minute);
        Assert.True(code == 130, $"exit {code}: {tool.Stderr}");

        string stdout = tool.Stdout;
        JsonElement summary = ToolProcessClassify.Summary(stdout);
        Assert.True(summary.GetProperty("interrupted").GetBoolean());
        int printed = stdout.Split('\n').Count(IsDecision);
        Assert.True(printed >= 20);
        Assert.Equal(printed, summary.GetProperty("decisions").GetInt32());

        // 3 passes over 90 + 225 samples and the held-out sets would be far more
        Assert.True(printed < 3 * (90 + 225), $"{printed} decisions: the run was not interrupted");
        Assert.Equal(printed, File.ReadAllLines(Path.Combine(output, "decisions.jsonl")).Length);

        string gestures = Path.Combine(output, "checkpoints", "gestures.ckpt");
        string digits = Path.Combine(output, "checkpoints", "spoken-digits.ckpt");
        Assert.Equal(2, summary.GetProperty("checkpoints").GetArrayLength());
        var g = new OnlineSequenceClassifier(new OnlineClassifierOptions { Inputs = 512, Classes = 10, Steps = 20, Recipe = SequenceTrainerOptions.ForCheckpoint(Checkpoint.Read(gestures)) });
        g.Load(gestures);
        CheckpointData d = Checkpoint.Read(digits);
        Assert.Equal(700, d.Config.InputSize);
        var s = new OnlineSequenceClassifier(new OnlineClassifierOptions { Inputs = d.Config.InputSize, Classes = d.Config.Readout.Size, Steps = 250, Recipe = SequenceTrainerOptions.ForCheckpoint(d) });
        s.Load(digits);
        Assert.Empty(Directory.GetFiles(output, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Classify_learn_on_a_live_tcp_source_on_SIGTERM_saves_the_checkpoint_and_exits_130()
    {
        string file = Path.Combine(ToolProcessClassify.RepoRoot, "recordings", "gestures", "user02_synthetic.aedat4");
        string csv = Path.Combine(ToolProcessClassify.RepoRoot, "recordings", "gestures", "user02_synthetic_labels.csv");
        SensorGeometry geometry;
        using (Aedat4Reader r = Aedat4Reader.Open(file))
        {
            geometry = r.Geometry;
        }

        using var server = new Aedat4Server(new Aedat4ServerOptions { Port = 0, Geometry = geometry });
        string save = Path.Combine(_dir, "classify", "live.ckpt");
        using ToolProcessClassify tool = ToolProcessClassify.Start(["classify", $"tcp://127.0.0.1:{server.LocalEndPoint.Port}", "--labels", csv, "--learn", "--save", save, "--json"]);
        Assert.True(server.WaitForClients(1, Minute), tool.Stderr);

        // real-time-paced replay (the recording lasts about 14 s): the tool is mid-stream when the signal comes
        using IDisposable replay = EventReplay.Replay(() => Aedat4Reader.Open(file), new ReplayOptions { Pacing = ReplayPacing.Scaled, Speed = 1 }).Subscribe(server);
        Assert.True(tool.WaitForLines(IsDecision, 2, Minute), "no decisions: " + tool.Stderr);
        tool.Terminate();
        int code = tool.WaitForExit(Minute);
        Assert.True(code == 130, $"exit {code}: {tool.Stderr}");

        JsonElement summary = ToolProcessClassify.Summary(tool.Stdout);
        Assert.True(summary.GetProperty("interrupted").GetBoolean());
        int decisions = summary.GetProperty("decisions").GetInt32();
        Assert.InRange(decisions, 2, LabelCsv.Read(csv).Count - 1);
        Assert.True(summary.GetProperty("updates").GetInt64() > 0);
        Assert.Equal(save, summary.GetProperty("checkpoint").GetString());
        var classifier = new OnlineSequenceClassifier(new OnlineClassifierOptions { Inputs = 512, Classes = 10, Steps = 20, Recipe = SequenceTrainerOptions.ForCheckpoint(Checkpoint.Read(save)) });
        classifier.Load(save);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories));
    }
}
