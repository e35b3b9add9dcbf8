using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reactive.Concurrency;
using System.Text;
using System.Text.Json;
using EventSnn.Datasets.Generators;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;
using EventSnn.Testing;

namespace EventSnn.Cli.Tests;

/// <summary>Launched-process tests run one at a time (the machine has two cores).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ToolProcessCollection
{
    public const string Name = "eventsnn process (classify branch)";
}

/// <summary>
/// End-to-end tests that launch the built tool (<c>dotnet eventsnn.dll ...</c>) as a process, on
/// the recordings and the fixtures: run, classify (file, tcp:// against an Aedat4Server, label
/// stream), inspect, convert, bench, dataset make, repro adding, configuration errors and
/// environment overrides, and the default run's learning.
/// </summary>
[Collection(ToolProcessCollection.Name)]
public sealed class EndToEndTests : IDisposable
{
    private static readonly TimeSpan Minute = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("eventsnn-e2e-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Recording(string relative) => Path.Combine(ToolProcessClassify.RepoRoot, "recordings", relative);

    [Fact]
    public void Run_one_pass_on_spoken_digits_prints_decisions_summary_plots_and_checkpoint()
    {
        string output = Path.Combine(_dir, "run");
        (int code, string stdout, string stderr) = ToolProcessClassify.Run(
            ["run", "--passes", "1", "--stream", "spoken-digits", "--json", "--out", output, "--Run:Streams:spoken-digits:Hidden=32", "--Run:Streams:spoken-digits:Preprocessing:MaxSteps=60"],
            TimeSpan.FromSeconds(120));
        Assert.True(code == 0, stderr);
        int train, test;
        using (ShdFile f = ShdFile.Open(Recording("spoken-digits/shd_train.h5")))
        {
            train = f.Count;
        }

        using (ShdFile f = ShdFile.Open(Recording("spoken-digits/shd_test.h5")))
        {
            test = f.Count;
        }

        List<JsonElement> lines = ToolProcessClassify.JsonLines(stdout);
        List<JsonElement> decisions = lines.Where(l => l.TryGetProperty("t_us", out _)).ToList();
        Assert.Equal(train + test, decisions.Count);
        foreach (JsonElement d in decisions)
        {
            Assert.Equal("spoken-digits", d.GetProperty("stream").GetString());
            Assert.False(string.IsNullOrEmpty(d.GetProperty("label").GetString()));
            double confidence = d.GetProperty("confidence").GetDouble();
            Assert.InRange(confidence, 0.0, 1.0);
            Assert.True(d.GetProperty("latency_ms").GetDouble() >= 0);
            Assert.Equal(JsonValueKind.String, d.GetProperty("truth").ValueKind);
            Assert.Equal(60, d.GetProperty("steps").GetInt32()); // the SHD preset pads every sample; the override reached the chain
        }

        Assert.Equal(test, decisions.Count(d => d.GetProperty("phase").GetString() == "test"));
        JsonElement summary = ToolProcessClassify.Summary(stdout);
        Assert.Equal(train + test, summary.GetProperty("decisions").GetInt32());
        Assert.True(summary.GetProperty("events").GetInt64() > 0);
        Assert.Equal(0.05, summary.GetProperty("chance").GetDouble(), 3);
        Assert.False(summary.GetProperty("interrupted").GetBoolean());
        foreach (JsonElement plot in summary.GetProperty("plots").EnumerateArray())
        {
            Assert.True(new FileInfo(plot.GetString()!).Length > 1000, plot.GetString());
        }

        string checkpoint = Path.Combine(output, "checkpoints", "spoken-digits.ckpt");
        Assert.True(File.Exists(checkpoint));
        EventSnn.Snn.CheckpointData data = EventSnn.Snn.Checkpoint.Read(checkpoint);
        Assert.Equal(700, data.Config.InputSize);
        Assert.Equal(32, data.Config.Layers[0].Size); // the command-line override reached the model

        // the checkpoint records the chain it was fed with (train's SHD preset with the override) and the class names
        Assert.Equal(
            EventSnn.Transforms.PreprocessingPresets.Shd with { MaxSteps = 60 },
            EventSnn.Transforms.Preprocessing.FromJsonNode(data.Metadata("preprocessing")));
        using (ShdFile f = ShdFile.Open(Recording("spoken-digits/shd_train.h5")))
        {
            Assert.Equal(f.Keys, data.Metadata("classes")!.AsArray().Select(n => n!.GetValue<string>()));
        }
        Assert.Equal(train + test, File.ReadAllLines(Path.Combine(output, "decisions.jsonl")).Length);
    }

    [Fact]
    public void Classify_a_gesture_file_with_labels_gives_one_decision_per_labelled_segment()
    {
        string file = Recording("gestures/user10_synthetic.aedat4");
        string csv = Recording("gestures/user10_synthetic_labels.csv");
        List<LabelSegment> segments = LabelCsv.Read(csv);
        (int code, string stdout, string stderr) = ToolProcessClassify.Run(["classify", file, "--labels", csv, "--json"], Minute);
        Assert.True(code == 0, stderr);
        List<JsonElement> decisions = ToolProcessClassify.JsonLines(stdout).Where(l => l.TryGetProperty("t_us", out _)).ToList();
        Assert.Equal(segments.Count, decisions.Count);
        var sorted = segments.OrderBy(s => s.EndUs).ToList();
        for (int i = 0; i < decisions.Count; i++)
        {
            JsonElement d = decisions[i];
            Assert.Equal("user10_synthetic.aedat4", d.GetProperty("stream").GetString());
            Assert.Equal(GestureGenerator.ClassNames[sorted[i].Label - 1], d.GetProperty("truth").GetString());
            Assert.InRange(d.GetProperty("t_us").GetInt64(), sorted[i].StartUs, sorted[i].EndUs);
            Assert.InRange(d.GetProperty("confidence").GetDouble(), 0.0, 1.0);
            Assert.True(d.GetProperty("latency_ms").GetDouble() >= 0);
            Assert.Equal(20, d.GetProperty("steps").GetInt32());
        }

        JsonElement summary = ToolProcessClassify.Summary(stdout);
        Assert.Equal(segments.Count, summary.GetProperty("decisions").GetInt32());
        Assert.Equal(segments.Count, summary.GetProperty("labelled").GetInt32());
        Assert.Equal(0.1, summary.GetProperty("chance").GetDouble(), 3);
        Assert.Equal(0, summary.GetProperty("updates").GetInt64()); // no --learn
        double maxLatency = decisions.Max(d => d.GetProperty("latency_ms").GetDouble());
        Assert.Equal(maxLatency, summary.GetProperty("latency_p99_ms").GetDouble(), 3); // 10 decisions: p99 is the largest
        Assert.InRange(summary.GetProperty("latency_mean_ms").GetDouble(), 0, maxLatency + 1e-3);
        Assert.Equal(0, summary.GetProperty("divergences").GetInt32());
        int correct = decisions.Count(d => d.GetProperty("correct").GetBoolean());
        Assert.Equal(correct / (double)segments.Count, summary.GetProperty("accuracy").GetDouble(), 3);
    }

    [Fact]
    public void Classify_human_output_has_one_line_per_decision_and_writes_the_plot()
    {
        string file = Recording("gestures/user11_synthetic.aedat4");
        string csv = Recording("gestures/user11_synthetic_labels.csv");
        List<LabelSegment> segments = LabelCsv.Read(csv);
        string plots = Path.Combine(_dir, "plots");
        (int code, string stdout, string stderr) = ToolProcessClassify.Run(["classify", file, "--labels", csv, "--learn", "--plots", plots], Minute);
        Assert.True(code == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string[] decisions = lines.Where(l => l.Contains(" ms  truth ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(segments.Count, decisions.Length);
        var sorted = segments.OrderBy(s => s.EndUs).ToList();
        for (int i = 0; i < decisions.Length; i++)
        {
            Assert.Contains("user11_synthetic.aedat4", decisions[i], StringComparison.Ordinal);
            Assert.Contains("%", decisions[i], StringComparison.Ordinal);
            Assert.Contains("truth " + GestureGenerator.ClassNames[sorted[i].Label - 1], decisions[i], StringComparison.Ordinal);
        }

        Assert.Contains(lines, l => l.StartsWith($"summary: {segments.Count} decisions ({segments.Count} labelled)", StringComparison.Ordinal));
        Assert.True(new FileInfo(Path.Combine(plots, "accuracy.png")).Length > 1000);
    }

    [Fact]
    public async Task Classify_tcp_against_an_Aedat4Server_decides_exactly_as_on_the_file()
    {
        string file = Recording("gestures/user10_synthetic.aedat4");
        string csv = Recording("gestures/user10_synthetic_labels.csv");
        (int fileCode, string fileOut, string fileErr) = ToolProcessClassify.Run(["classify", file, "--labels", csv, "--json"], Minute);
        Assert.True(fileCode == 0, fileErr);

        SensorGeometry geometry;
        using (Aedat4Reader r = Aedat4Reader.Open(file))
        {
            geometry = r.Geometry;
        }

        using var server = new Aedat4Server(new Aedat4ServerOptions { Port = 0, Geometry = geometry });
        using ToolProcessClassify tool = ToolProcessClassify.Start(["classify", $"tcp://127.0.0.1:{server.LocalEndPoint.Port}", "--labels", csv, "--json"]);
        Assert.True(server.WaitForClients(1, Minute), tool.Stderr);
        await Task.Run(() => EventReplay.Replay(() => Aedat4Reader.Open(file), scheduler: ImmediateScheduler.Instance).Subscribe(server));
        int code = tool.WaitForExit(Minute);
        Assert.True(code == 0, tool.Stderr); // the peer closed normally

        static List<string> Key(string stdout) => ToolProcessClassify.JsonLines(stdout)
            .Where(l => l.TryGetProperty("t_us", out _))
            .Select(l => string.Join(',', l.GetProperty("t_us").GetInt64(), l.GetProperty("label_index").GetInt32(), l.GetProperty("confidence").GetDouble(), l.GetProperty("truth_index").GetInt32()))
            .ToList();
        List<string> expected = Key(fileOut);
        Assert.Equal(LabelCsv.Read(csv).Count, expected.Count);
        Assert.Equal(expected, Key(tool.Stdout));
        Assert.Equal($"tcp://127.0.0.1:{server.LocalEndPoint.Port}", ToolProcessClassify.JsonLines(tool.Stdout)[0].GetProperty("stream").GetString());
        Assert.Equal(ToolProcessClassify.Summary(fileOut).GetProperty("events").GetInt64(), ToolProcessClassify.Summary(tool.Stdout).GetProperty("events").GetInt64());
    }

    [Fact]
    public async Task Classify_learns_from_a_label_stream_and_saves_a_loadable_checkpoint()
    {
        string file = Recording("gestures/user10_synthetic.aedat4");
        List<LabelSegment> segments = LabelCsv.Read(Recording("gestures/user10_synthetic_labels.csv"));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task serve = Task.Run(async () =>
        {
            using TcpClient client = await listener.AcceptTcpClientAsync();
            using NetworkStream stream = client.GetStream();
            var text = new StringBuilder("t_us,label\n");
            foreach (LabelSegment s in segments)
            {
                text.Append(CultureInfo.InvariantCulture, $"{s.EndUs},{s.Label}\n");
            }

            await stream.WriteAsync(Encoding.ASCII.GetBytes(text.ToString()));
        });
        string save = Path.Combine(_dir, "adapted.ckpt");
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        (int code, string stdout, string stderr) = ToolProcessClassify.Run(
            ["classify", file, "--label-stream", $"tcp://127.0.0.1:{port}", "--learn", "--speed", "10", "--window-us", "1000000", "--bin-us", "50000", "--save", save, "--json"],
            Minute);
        Assert.True(code == 0, stderr);
        JsonElement summary = ToolProcessClassify.Summary(stdout);
        Assert.Equal(segments.Count, summary.GetProperty("labels_received").GetInt64());
        Assert.Equal(segments.Count, summary.GetProperty("labelled").GetInt32());
        Assert.True(summary.GetProperty("updates").GetInt64() > 0, "nothing was learned");
        Assert.True(summary.GetProperty("decisions").GetInt32() >= segments.Count);
        Assert.Equal(save, summary.GetProperty("checkpoint").GetString());
        var classifier = new EventSnn.Snn.Classification.OnlineSequenceClassifier(new EventSnn.Snn.Classification.OnlineClassifierOptions { Inputs = 512, Classes = 10, Steps = 20, Recipe = EventSnn.Snn.Classification.SequenceTrainerOptions.ForCheckpoint(EventSnn.Snn.Checkpoint.Read(save)) });
        classifier.Load(save);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories));
        await serve.WaitAsync(Minute);
    }

    [Fact]
    public void Classify_an_SHD_file_with_learn_uses_the_file_labels()
    {
        string file = Recording("spoken-digits/shd_test.h5");
        int count;
        string[] keys;
        int[] labels;
        using (ShdFile f = ShdFile.Open(file))
        {
            count = f.Count;
            keys = [.. f.Keys];
            labels = f.Labels.ToArray();
        }

        (int code, string stdout, string stderr) = ToolProcessClassify.Run(["classify", file, "--learn", "--max-steps", "100", "--hidden", "32", "--json"], Minute);
        Assert.True(code == 0, stderr);
        List<JsonElement> decisions = ToolProcessClassify.JsonLines(stdout).Where(l => l.TryGetProperty("t_us", out _)).ToList();
        Assert.Equal(count, decisions.Count);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(keys[labels[i]], decisions[i].GetProperty("truth").GetString());
            Assert.InRange(decisions[i].GetProperty("steps").GetInt32(), 1, 100);
        }

        JsonElement summary = ToolProcessClassify.Summary(stdout);
        Assert.Equal(count, summary.GetProperty("labelled").GetInt32());
        Assert.True(summary.GetProperty("updates").GetInt64() >= count);
        Assert.Equal(1.0 / keys.Length, summary.GetProperty("chance").GetDouble(), 3);
    }

    [Fact]
    public void Classify_bad_addresses_and_unreachable_peers_exit_2_naming_the_peer()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }

        (int code, _, string stderr) = ToolProcessClassify.Run(["classify", $"tcp://127.0.0.1:{port}", "--json"], Minute);
        Assert.Equal(2, code);
        Assert.Contains($"tcp://127.0.0.1:{port}", stderr, StringComparison.Ordinal);

        (code, _, stderr) = ToolProcessClassify.Run(["classify", "tcp://nowhere", "--json"], Minute);
        Assert.Equal(2, code);
        Assert.Contains("tcp://nowhere", stderr, StringComparison.Ordinal);

        (code, _, stderr) = ToolProcessClassify.Run(["classify", Recording("gestures/user10_synthetic.aedat4"), "--label-stream", $"tcp://127.0.0.1:{port}"], Minute);
        Assert.Equal(2, code);
        Assert.Contains($"tcp://127.0.0.1:{port}", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_reports_the_expected_statistics_of_a_fixture()
    {
        const string fixture = "tonic/sample.aedat4";
        (int code, string stdout, string stderr) = ToolProcessClassify.Run(["inspect", Fixtures.Path(fixture), "--json"], Minute);
        Assert.True(code == 0, stderr);
        JsonElement actual = ToolProcessClassify.JsonLines(stdout).Single();
        JsonElement expected = Fixtures.Expected[fixture];
        foreach (string key in new[] { "format", "events", "on", "t_first", "t_last", "x_max", "y_max", "sum_x", "sum_y", "width", "height" })
        {
            Assert.Equal(expected.GetProperty(key).ToString(), actual.GetProperty(key).ToString());
        }
    }

    [Fact]
    public void Convert_then_inspect_keeps_every_event()
    {
        const string fixture = "expelliarmus/evt3_sample.raw";
        string output = Path.Combine(_dir, "converted.aedat4");
        (int code, _, string stderr) = ToolProcessClassify.Run(["convert", Fixtures.Path(fixture), output, "--compression", "zstd"], Minute);
        Assert.True(code == 0, stderr);
        string stdout;
        (code, stdout, stderr) = ToolProcessClassify.Run(["inspect", output, "--json"], Minute);
        Assert.True(code == 0, stderr);
        JsonElement actual = ToolProcessClassify.JsonLines(stdout).Single();
        JsonElement expected = Fixtures.Expected[fixture];
        Assert.Equal("aedat4", actual.GetProperty("format").GetString());
        foreach (string key in new[] { "events", "on", "t_first", "t_last", "sum_x", "sum_y" })
        {
            Assert.Equal(expected.GetProperty(key).GetInt64(), actual.GetProperty(key).GetInt64());
        }
    }

    [Fact]
    public void Bench_decode_pipeline_and_step_run_tiny_sizes()
    {
        (int code, string stdout, string stderr) = ToolProcessClassify.Run(["bench", "decode", "--generate", "evt3", "--events", "200000", "--repeat", "1", "--out", _dir, "--json"], Minute);
        Assert.True(code == 0, stderr);
        JsonElement decode = ToolProcessClassify.JsonLines(stdout).Single();
        Assert.Equal(200_000, decode.GetProperty("events").GetInt64());
        Assert.True(decode.GetProperty("events_per_second").GetDouble() > 0);

        (code, stdout, stderr) = ToolProcessClassify.Run(["bench", "pipeline", "--events", "100000", "--passes", "1", "--repeats", "1", "--seconds", "0.5", "--rate", "200000", "--json"], Minute);
        Assert.True(code == 0, stderr);
        JsonElement pipeline = ToolProcessClassify.JsonLines(stdout).Single();
        Assert.Equal(100_000, pipeline.GetProperty("throughput_events").GetInt64());
        Assert.True(pipeline.GetProperty("events_per_second").GetDouble() > 0);
        Assert.True(pipeline.GetProperty("latency_events_received").GetInt64() > 0);

        (code, stdout, stderr) = ToolProcessClassify.Run(["bench", "step", "--hidden", "16", "--inputs", "64", "--seconds", "0.3", "--warmup", "0.1", "--learn", "--json"], Minute);
        Assert.True(code == 0, stderr);
        JsonElement step = ToolProcessClassify.JsonLines(stdout).Single();
        Assert.Equal("learn", step.GetProperty("mode").GetString());
        Assert.True(step.GetProperty("steps").GetInt64() > 0);
        Assert.True(step.GetProperty("steps_per_second").GetDouble() > 0);
    }

    [Fact]
    public void Dataset_make_gestures_writes_a_labelled_recording()
    {
        string output = Path.Combine(_dir, "gestures");
        (int code, _, string stderr) = ToolProcessClassify.Run(["dataset", "make", "gestures", "--out", output, "--samples-per-class", "1", "--threads", "1"], Minute);
        Assert.True(code == 0, stderr);
        List<LabelSegment> labels = LabelCsv.Read(Path.Combine(output, "user01_synthetic_labels.csv"));
        Assert.Equal(GestureGenerator.Classes, labels.Count);
        Assert.Equal(Enumerable.Range(1, GestureGenerator.Classes), labels.Select(l => l.Label).Order());
        using Aedat4Reader reader = Aedat4Reader.Open(Path.Combine(output, "user01_synthetic.aedat4"));
        Assert.Equal(new SensorGeometry(128, 128), reader.Geometry);
        Assert.Equal("user01_synthetic.aedat4", File.ReadAllLines(Path.Combine(output, "trials_to_train.txt")).Single().Trim());
    }

    [Fact]
    public void Repro_adding_runs_a_few_iterations()
    {
        (int code, string stdout, string stderr) = ToolProcessClassify.Run(["repro", "adding", "--T", "200", "--iterations", "3", "--batch", "8", "--neurons", "16", "--eval-samples", "16", "--curve-points", "3", "--json"], Minute);
        Assert.True(code == 0, stderr);
        JsonElement r = ToolProcessClassify.JsonLines(stdout).Single();
        Assert.Equal(3, r.GetProperty("iterations").GetInt32());
        Assert.Equal("fptt", r.GetProperty("method").GetString());
        double mse = r.GetProperty("final_mse").GetDouble();
        Assert.True(double.IsFinite(mse) && mse > 0, $"final_mse {mse}");
        Assert.Equal(0, r.GetProperty("divergences").GetInt32());
    }

    [Theory]
    [InlineData("--Run:Passes=0", "Run:Passes")]
    [InlineData("--Run:Streams:gestures:Kind=bogus", "Run:Streams:gestures:Kind")]
    [InlineData("--Run:Streams:gestures:Train:0=gestures/missing.aedat4", "Run:Streams:gestures:Train:0")]
    [InlineData("--Run:Streams:spoken-digits:Hidden=0", "Run:Streams:spoken-digits:Hidden")]
    [InlineData("--Run:Streams:gestures:Preprocessing:Pooling=0", "Run:Streams:gestures:Preprocessing:Pooling")]
    [InlineData("--Run:Streams:gestures:Preprocessing:Binning=hourly", "Run:Streams:gestures:Preprocessing:Binning")]
    [InlineData("--Run:Streams:gestures:Preprocessing:Width=346", "Run:Streams:gestures:Preprocessing:Width")]
    [InlineData("--Run:Streams:spoken-digits:Preprocessing:Channels=64", "Run:Streams:spoken-digits:Preprocessing:Channels")]
    [InlineData("--Run:Streams:spoken-digits:Preprocessing:Preset=cifar", "Run:Streams:spoken-digits:Preprocessing:Preset")]
    [InlineData("--Run:Streams:spoken-digits:Preprocessing:Input=dvs", "Run:Streams:spoken-digits:Preprocessing:Input")]
    [InlineData("--Run:Streams:spoken-digits:Recipe:Method=rtrl", "Run:Streams:spoken-digits:Recipe:Method")]
    [InlineData("--Run:Streams:spoken-digits:Recipe:Norm=batch", "Run:Streams:spoken-digits:Recipe:Norm")]
    [InlineData("--Run:Streams:spoken-digits:Recipe:Norm=timestep", "Run:Streams:spoken-digits:Recipe:Norm")]
    [InlineData("--Run:Streams:spoken-digits:Recipe:NormRecurrent=true", "Run:Streams:spoken-digits:Recipe:NormRecurrent")]
    [InlineData("--Run:Streams:gestures:Recipe:NormReadout=true", "Run:Streams:gestures:Recipe:NormReadout")]
    public void Run_configuration_errors_exit_2_naming_the_key(string option, string key)
    {
        (int code, string stdout, string stderr) = ToolProcessClassify.Run(["run", option, "--out", _dir], Minute);
        Assert.True(code == 2, $"exit {code}: {stdout} {stderr}");
        Assert.Contains(key, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal); // one line, no stack trace
    }

    [Fact]
    public void Run_refuses_the_liquid_readout_with_e_prop_naming_the_key()
    {
        (int code, string stdout, string stderr) = ToolProcessClassify.Run(
            ["run", "--Run:Streams:spoken-digits:Recipe:Method=eprop", "--Run:Streams:spoken-digits:Recipe:LiquidReadout=true", "--out", _dir], Minute);
        Assert.True(code == 2, $"exit {code}: {stdout} {stderr}");
        Assert.Contains("Run:Streams:spoken-digits:Recipe:LiquidReadout", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    private const long Jump = 3L * 3600 * 1_000_000;

    /// <summary>user01's recording and labels (as &lt;name&gt;.aedat4 / &lt;name&gt;_labels.csv) with the clock jumping <paramref name="jump"/> forward after the 5th gesture.</summary>
    private (string Recording, string Labels, List<LabelSegment> Segments, long Split) WriteWithForwardJump(string name, long jump)
    {
        List<LabelSegment> labels = LabelCsv.Read(Recording("gestures/user01_synthetic_labels.csv")).ToList();
        long split = labels[5].StartUs - 1;
        string recording = Path.Combine(_dir, name + ".aedat4");
        using EventBatch events = ServeStreams.GestureEvents("user01_synthetic.aedat4", seconds: 3600);
        for (int i = 0; i < events.Count; i++)
        {
            events.T[i] += events.T[i] > split ? jump : 0;
        }

        using (Aedat4Writer writer = Aedat4Writer.Create(recording, new Aedat4WriterOptions { Geometry = SensorGeometry.Dvs128 }))
        {
            writer.WriteEvents(events);
        }

        string csv = Path.Combine(_dir, name + "_labels.csv");
        File.WriteAllLines(csv, ["class,startTime_usec,endTime_usec", .. labels.Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Label},{(l.StartUs > split ? l.StartUs + jump : l.StartUs)},{(l.EndUs > split ? l.EndUs + jump : l.EndUs)}"))]);
        return (recording, csv, labels, split);
    }

    [Fact]
    public void Run_learns_across_a_forward_clock_jump_of_hours_in_a_training_recording()
    {
        (string recording, _, _, _) = WriteWithForwardJump("jump", Jump);
        var environment = new Dictionary<string, string>
        {
            ["EVENTSNN_Run__Passes"] = "1",
            ["EVENTSNN_Run__Streams__gestures__Train__0"] = recording,
            ["EVENTSNN_Run__Streams__gestures__Test__0"] = "gestures/user10_synthetic.aedat4",
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        (int code, string stdout, string stderr) = ToolProcessClassify.Run(["run", "--stream", "gestures", "--quiet", "--out", Path.Combine(_dir, "out")], TimeSpan.FromSeconds(120), environment: environment);
        Assert.True(code == 0, stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
        Assert.Contains("gestures: 20 decisions", stdout, StringComparison.Ordinal); // all 10 gestures of the jumped recording, 10 held-out
    }

    [Fact]
    public void Classify_per_labelled_segment_decides_every_gesture_across_a_forward_clock_jump_of_hours()
    {
        (string recording, string csv, List<LabelSegment> labels, long split) = WriteWithForwardJump("jump", Jump);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        (int code, string output, string err) = ToolProcessClassify.Run(["classify", recording, "--labels", csv, "--json"], TimeSpan.FromSeconds(60));
        Assert.True(code == 0, err);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}"); // the 3 hours cost nothing
        List<JsonElement> decisions = ToolProcessClassify.JsonLines(output).Where(l => l.TryGetProperty("t_us", out _)).ToList();
        Assert.Equal(labels.Count, decisions.Count); // every gesture, before and after the jump
        Assert.Equal(5, decisions.Count(d => d.GetProperty("t_us").GetInt64() > split + Jump));
        Assert.All(decisions, d => Assert.Equal(20, d.GetProperty("steps").GetInt32())); // 20 frames each, no empty hours
    }

    [Fact]
    public void Classify_in_windows_starts_over_after_a_clock_reset_and_decides_both_runs()
    {
        // user01's recording twice in a row: the sensor clock goes back 12.8 s in the middle
        using EventBatch events = ServeStreams.GestureEvents("user01_synthetic.aedat4", seconds: 3600);
        string recording = Path.Combine(_dir, "reset.aedat4");
        using (Aedat4Writer writer = Aedat4Writer.Create(recording, new Aedat4WriterOptions { Geometry = SensorGeometry.Dvs128 }))
        {
            writer.WriteEvents(events);
            writer.WriteEvents(events);
        }

        (int code, string output, string err) = ToolProcessClassify.Run(["classify", recording, "--json"], TimeSpan.FromSeconds(60));
        Assert.True(code == 0, err);
        List<JsonElement> decisions = ToolProcessClassify.JsonLines(output).Where(l => l.TryGetProperty("t_us", out _)).ToList();
        long first = events.T[0], last = events.T[events.Count - 1];
        int windows = (int)((last - first) / 1_000_000) + 1; // 1 s windows over one run

        // every window of both runs is decided (none lost to the reset, none stepped through as a gap)
        Assert.InRange(decisions.Count, (2 * windows) - 1, 2 * windows);
        List<long> times = decisions.Select(d => d.GetProperty("t_us").GetInt64()).ToList();
        int back = Enumerable.Range(1, times.Count - 1).Count(i => times[i] < times[i - 1]);
        Assert.Equal(1, back); // the decisions' time goes back once, with the clock
        Assert.All(times, t => Assert.InRange(t, first, last + 1_000_000));
        Assert.Equal(2 * events.Count, ToolProcessClassify.Summary(output).GetProperty("events").GetInt64());
    }

    [Fact]
    public void Run_ends_with_one_error_naming_a_failing_stream_and_saves_the_other_streams()
    {
        // the held-out gestures recording is damaged in the middle: that stream fails mid-run
        byte[] bytes = File.ReadAllBytes(Recording("gestures/user10_synthetic.aedat4"));
        Array.Fill(bytes, (byte)0xFF, bytes.Length / 2, 4096);
        string damaged = Path.Combine(_dir, "damaged.aedat4");
        File.WriteAllBytes(damaged, bytes);
        File.Copy(Recording("gestures/user10_synthetic_labels.csv"), Path.Combine(_dir, "damaged_labels.csv"));
        string output = Path.Combine(_dir, "out");
        var environment = new Dictionary<string, string>
        {
            ["EVENTSNN_Run__Passes"] = "1",
            ["EVENTSNN_Run__Streams__gestures__Train__0"] = "gestures/user01_synthetic.aedat4",
            ["EVENTSNN_Run__Streams__gestures__Test__0"] = damaged,
        };
        (int code, string stdout, string stderr) = ToolProcessClassify.Run(
            ["run", "--quiet", "--out", output, "--Run:Streams:spoken-digits:Hidden=32", "--Run:Streams:spoken-digits:Preprocessing:MaxSteps=60"],
            TimeSpan.FromSeconds(120),
            environment: environment);
        Assert.True(code == 2, $"exit {code}: {stdout} {stderr}"); // a damaged input is bad input
        Assert.Contains("error: stream 'gestures' failed: " + damaged + ": byte ", stderr, StringComparison.Ordinal);
        string saved = Path.Combine(output, "checkpoints", "spoken-digits.ckpt");
        Assert.Contains(saved, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)); // one line
        Assert.Equal(32, EventSnn.Snn.Checkpoint.Read(saved).Config.Layers[0].Size); // the other stream's work is kept and loads
        Assert.False(File.Exists(Path.Combine(output, "checkpoints", "gestures.ckpt")));
    }

    [Fact]
    public void Run_environment_variables_override_the_configuration()
    {
        var environment = new Dictionary<string, string>
        {
            ["EVENTSNN_Run__Passes"] = "1",
            ["EVENTSNN_Run__Streams__gestures__Train__0"] = "gestures/user01_synthetic.aedat4",
            ["EVENTSNN_Run__Streams__gestures__Test__0"] = "gestures/user10_synthetic.aedat4",
        };
        (int code, string stdout, string stderr) = ToolProcessClassify.Run(["run", "--stream", "gestures", "--quiet", "--out", _dir], Minute, environment: environment);
        Assert.True(code == 0, stderr);
        Assert.Contains("1 pass(es)", stdout, StringComparison.Ordinal);
        Assert.Contains("gestures: 20 decisions", stdout, StringComparison.Ordinal); // 10 gestures of user01, 10 held-out of user10
    }

    [Fact]
    public void Run_learns_on_the_default_recordings()
    {
        // the default run: appsettings.json at the repository root, recordings/, 10 passes
        (int code, string stdout, string stderr) = ToolProcessClassify.Run(["run", "--json", "--out", _dir], TimeSpan.FromSeconds(300));
        Assert.True(code == 0, stderr);
        JsonElement summary = ToolProcessClassify.Summary(stdout);
        double first = summary.GetProperty("accuracy_first_half").GetDouble();
        double second = summary.GetProperty("accuracy_second_half").GetDouble();
        double chance = summary.GetProperty("chance").GetDouble();
        Assert.True(second > first, $"second half {second} <= first half {first}");
        Assert.True(second > 2 * chance, $"second half {second} <= 2 x chance {chance}");
        Assert.Equal(0, summary.GetProperty("streams").EnumerateArray().Sum(s => s.GetProperty("divergences").GetInt32()));
    }
}

/// <summary><c>dataset make smnist</c> without network access.</summary>
public class MnistOfflineTests
{
    [Fact]
    public void Offline_mnist_fails_fast_with_the_reason_and_the_mnist_hint_and_leaves_no_folder()
    {
        string root = Path.Combine(Path.GetTempPath(), "eventsnn-offline-" + Guid.NewGuid().ToString("N"));
        string output = Path.Combine(root, "smnist");
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            (int code, _, string err) = ToolProcessClassify.Run(
                ["dataset", "make", "smnist", "--out", output, "--cache", Path.Combine(root, "cache"), "--samples-per-class", "1"],
                TimeSpan.FromSeconds(90),
                environment: new Dictionary<string, string> { ["npm_config_registry"] = "http://127.0.0.1:9/" });
            Assert.NotEqual(0, code);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
            Assert.Contains("--mnist", err, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
            Assert.False(Directory.Exists(output));
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }
}
