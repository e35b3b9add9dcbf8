using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using EventSnn.Cli.Commands;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;
using EventSnn.Serving;
using EventSnn.Snn.Classification;
using EventSnn.Testing;
using static EventSnn.Testing.ServeStreams;

namespace EventSnn.Cli.Tests;

/// <summary>`eventsnn serve`: in-process through the command, and the built tool as a real process.</summary>
public class ServeTests
{
    [Fact]
    public async Task Serve_command_in_process_keeps_a_named_dv_stream_and_a_jaer_udp_sender_apart_on_json_lines_and_sse()
    {
        string dir = Temp();
        try
        {
            string streams = Path.Combine(dir, "streams.json");
            string labels = Path.Combine(ServeStreams.RepoRoot(), "recordings", "gestures", "user03_synthetic_labels.csv");
            File.WriteAllText(streams, $$"""{"streams": [{"name": "left-camera", "kind": "dv", "port": 0, "labels": {{JsonSerializer.Serialize(labels)}}}]}""");
            using EventBatch gesture = ServeStreams.GestureEvents("user03_synthetic.aedat4", 1.2);
            using EventBatch pattern = ServeIo.Pattern(30_000, 500, seed: 11);
            var model = new WindowClassifierOptions { BinUs = 4_000, WindowUs = 80_000, Hidden = 48, Seed = 5, Chunks = 5, ClassNames = EventSnn.Datasets.Generators.GestureGenerator.ClassNames };
            Func<long, long, int> truth = WindowClassifier.TruthFromSegments(LabelCsv.Read(labels), 1);
            List<StreamDecision> gestureRef = ServeIo.Reference(gesture, model, truth);
            Assert.Contains(gestureRef, d => d.Truth is not null);
            Assert.NotEqual(gestureRef.Select(d => d.Confidence), ServeIo.Reference(gesture, model).Select(d => d.Confidence)); // it learned
            List<StreamDecision> patternRef = ServeIo.Reference(pattern, model);

            using var stop = new CancellationTokenSource();
            var command = new ServeCommand { StopToken = stop.Token };
            var stdout = new LineWriter();
            var stderr = new LineWriter();
            string[] args = ["--streams", streams, "--learn", "--jaer-udp-port", "0", "--publish-port", "0", "--http-port", "0", "--json", "--bin-us", "4000", "--window-us", "80000", "--hidden", "48", "--seed", "5", "--udp-idle-ms", "300", "--class-names", string.Join(',', EventSnn.Datasets.Generators.GestureGenerator.ClassNames)];
            Task<int> run = Task.Run(() => command.Execute(ParsedArgs.Parse(args, command), stdout, stderr));
            JsonElement listening = JsonDocument.Parse(await stdout.WaitFor(l => l.Contains("\"listening\"", StringComparison.Ordinal))).RootElement.GetProperty("listening");
            int dv = listening.GetProperty("left-camera").GetInt32();
            int udp = listening.GetProperty("jaer_udp").GetInt32();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(40));
            Task<List<string>> published = ServeStreams.ReadLines(listening.GetProperty("publish").GetInt32(), timeout.Token);
            Task<List<string>> sse = HttpProbe.ReadSse(listening.GetProperty("http").GetInt32(), "/events", timeout.Token);
            await stdout.WaitUntil(() => ServeIo.HealthSubscribers(listening.GetProperty("http").GetInt32()) >= 2); // the publisher and the SSE client
            await Task.WhenAll(Task.Run(() => ServeStreams.PushTcp(dv, ServeStreams.DvStream(gesture))), Task.Run(() => ServeStreams.SendUdp(udp, pattern)));
            await stdout.WaitUntil(() => stderr.Lines.Count(l => l.Contains(": ended (", StringComparison.Ordinal)) >= 2);

            // /health: the labelled stream reports how many decisions had a truth and how many were right
            int labelledRef = gestureRef.Count(d => d.Truth is not null);
            int correctRef = gestureRef.Count(d => d.Truth is not null && d.Truth == d.Label);
            Assert.True(labelledRef > 0);
            (int status, string health) = await HttpProbe.Get(listening.GetProperty("http").GetInt32(), "/health");
            Assert.Equal(200, status);
            JsonElement[] healthStreams = [.. JsonDocument.Parse(health).RootElement.GetProperty("streams").EnumerateArray()];
            JsonElement camera = healthStreams.Single(h => h.GetProperty("id").GetString() == "left-camera");
            Assert.Equal(labelledRef, camera.GetProperty("labelled").GetInt64());
            Assert.Equal(correctRef, camera.GetProperty("correct").GetInt64());
            Assert.Equal(correctRef / (double)labelledRef, camera.GetProperty("accuracy").GetDouble(), 12);
            JsonElement unlabelled = healthStreams.Single(h => h.GetProperty("id").GetString()!.StartsWith("jaer-udp:", StringComparison.Ordinal));
            Assert.Equal(0, unlabelled.GetProperty("labelled").GetInt64());
            Assert.Equal(JsonValueKind.Null, unlabelled.GetProperty("accuracy").ValueKind);

            stop.Cancel();
            Assert.Equal(130, await run);

            List<string> lines = await published;
            Assert.Equal(lines, await sse);
            Dictionary<string, List<JsonElement>> byStream = ServeStreams.ByStream(lines);
            Assert.Equal(2, byStream.Count);
            ServeIo.AssertSame(gestureRef, byStream["left-camera"]);
            ServeIo.AssertSame(patternRef, byStream[byStream.Keys.Single(k => k.StartsWith("jaer-udp:127.0.0.1:", StringComparison.Ordinal))]);

            // stdout: listening, the same decisions, then the summary with per-stream counts
            List<string> decisionLines = [.. stdout.Lines.Where(l => l.StartsWith("{\"t_us\"", StringComparison.Ordinal))];
            Assert.Equal(lines.Order(StringComparer.Ordinal).Select(DropLatency), decisionLines.Order(StringComparer.Ordinal).Select(DropLatency));
            JsonElement summary = JsonDocument.Parse(stdout.Lines[^1]).RootElement.GetProperty("summary");
            Assert.Equal(gesture.Count + pattern.Count, summary.GetProperty("events").GetInt64());
            Assert.Equal(gestureRef.Count + patternRef.Count, summary.GetProperty("decisions").GetInt64());
            Assert.True(summary.GetProperty("interrupted").GetBoolean());
            JsonElement cameraSummary = summary.GetProperty("per_stream").EnumerateArray().Single(p => p.GetProperty("stream").GetString() == "left-camera");
            Assert.Equal(labelledRef, cameraSummary.GetProperty("labelled").GetInt64());
            Assert.Equal(correctRef / (double)labelledRef, cameraSummary.GetProperty("accuracy").GetDouble(), 12);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Launched_tool_serves_two_concurrent_dv_streams_from_a_checkpoint_reports_health_and_saves_per_stream_checkpoints_on_SIGTERM()
    {
        Assert.False(OperatingSystem.IsWindows(), "this test sends SIGTERM");
        string dir = Temp();
        try
        {
            // a checkpoint of a different seed than the tool's default: decisions must follow it
            var model = new WindowClassifierOptions { Hidden = 128, Seed = 42, ClassNames = EventSnn.Datasets.Generators.GestureGenerator.ClassNames };
            string checkpoint = Path.Combine(dir, "start.ckpt");
            new WindowClassifier("init", SensorGeometry.Dvs128, model).Save(checkpoint);

            // the tool runs with --seed 7 (the initial network state) and the seed-42 weights of the checkpoint
            model = model with { Seed = 7, Checkpoint = checkpoint };
            using EventBatch a = ServeStreams.GestureEvents("user01_synthetic.aedat4", 1.0);
            using EventBatch b = ServeStreams.GestureEvents("user05_synthetic.aedat4", 1.0);
            List<StreamDecision> aRef = ServeIo.Reference(a, model);
            List<StreamDecision> bRef = ServeIo.Reference(b, model);
            Assert.NotEqual(aRef.Select(d => d.Confidence), ServeIo.Reference(a, model with { Checkpoint = null }).Select(d => d.Confidence)); // the checkpoint matters
            string saveDir = Path.Combine(dir, "saved");

            using var tool = ToolProcess.Start(["serve", "--dv-port", "0", "--jaer-tcp-port", "0", "--publish-port", "0", "--http-port", "0", "--json", "--checkpoint", checkpoint, "--seed", "7", "--save-dir", saveDir]);
            JsonElement listening = JsonDocument.Parse(await tool.WaitForLine(l => l.Contains("\"listening\"", StringComparison.Ordinal))).RootElement.GetProperty("listening");
            int dv = listening.GetProperty("dv").GetInt32();
            int http = listening.GetProperty("http").GetInt32();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(40));
            Task<List<string>> published = ServeStreams.ReadLines(listening.GetProperty("publish").GetInt32(), timeout.Token);
            await tool.WaitUntil(() => ServeIo.HealthSubscribers(http) >= 1); // the publisher client

            // two connections at once, different recordings; the first one is held open past the second's end
            using var held = new TcpClient();
            await held.ConnectAsync(IPAddress.Loopback, dv);
            byte[] aBytes = ServeStreams.DvStream(a);
            await held.GetStream().WriteAsync(aBytes);
            await Task.Run(() => ServeStreams.PushTcp(dv, ServeStreams.DvStream(b)));
            await tool.WaitUntil(() => tool.Stdout.Count(l => l.StartsWith("{\"t_us\"", StringComparison.Ordinal)) >= aRef.Count - 1 + bRef.Count);

            (int status, string health) = await HttpProbe.Get(http, "/health");
            Assert.Equal(200, status);
            JsonElement[] streams = [.. JsonDocument.Parse(health).RootElement.GetProperty("streams").EnumerateArray()];
            Assert.Equal(2, streams.Length);
            Assert.Single(streams, s => s.GetProperty("active").GetBoolean() && s.GetProperty("events").GetInt64() == a.Count);
            Assert.Single(streams, s => !s.GetProperty("active").GetBoolean() && s.GetProperty("events").GetInt64() == b.Count && s.GetProperty("decisions").GetInt64() == bRef.Count);

            // SIGTERM with stream A still connected: its open window is decided, both checkpoints saved, exit 130
            Assert.Equal(0, kill(tool.Id, 15));
            Assert.Equal(130, await tool.WaitForExit(TimeSpan.FromSeconds(20)));
            List<string> lines = await published;
            Dictionary<string, List<JsonElement>> byStream = ServeStreams.ByStream(lines);
            Assert.Equal(2, byStream.Count);
            List<JsonElement> first = byStream.Values.Single(v => v.Count == aRef.Count && v[0].GetProperty("events").GetInt64() == aRef[0].Events);
            List<JsonElement> second = byStream.Values.Single(v => !ReferenceEquals(v, first));
            ServeIo.AssertSame(aRef, first);
            ServeIo.AssertSame(bRef, second);
            Assert.All(byStream.Keys, k => Assert.True(File.Exists(StreamServer.CheckpointPath(saveDir, k)), k));
            Assert.Equal(2, Directory.GetFiles(saveDir).Length);
            JsonElement summary = JsonDocument.Parse(tool.Stdout[^1]).RootElement.GetProperty("summary");
            Assert.Equal(a.Count + b.Count, summary.GetProperty("events").GetInt64());
            Assert.Contains(tool.Stderr, l => l.Contains("stopping: finishing open windows", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("--dv-port", "seventy")]
    [InlineData("--slow-clients", "sometimes")]
    [InlineData("--chip", "dvs640")]
    [InlineData("--window-us", "7")]
    [InlineData("--duration", "NaN")]
    [InlineData("--duration", "-1")]
    [InlineData("--idle-timeout", "-5")]
    [InlineData("--udp-idle-ms", "0")]
    [InlineData("--checkpoint", "/nonexistent/model.ckpt")]
    public void Bad_serve_options_are_usage_errors(string option, string value)
    {
        (int code, _, string err) = option == "--duration" ? CliHarness.Run("serve", option, value) : CliHarness.Run("serve", option, value, "--duration", "0.1");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.StartsWith("error: ", err, StringComparison.Ordinal);
        Assert.Contains(option.TrimStart('-'), err, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_save_dir_that_is_a_file_is_a_usage_error()
    {
        string file = Path.GetTempFileName();
        try
        {
            (int code, _, string err) = CliHarness.Run("serve", "--dv-port", "0", "--jaer-udp-port", "0", "--jaer-tcp-port", "0", "--publish-port", "0", "--http-port", "0", "--save-dir", file, "--duration", "0.1");
            Assert.Equal(2, code);
            Assert.Contains($"SaveDirectory {file} is a file", err, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("--dv-port", "TCP")]
    [InlineData("--jaer-udp-port", "UDP")]
    [InlineData("--http-port", "HTTP")]
    public void A_port_in_use_is_a_usage_error_naming_the_port(string option, string kind)
    {
        using var tcp = new TcpListener(IPAddress.Loopback, 0);
        tcp.Start();
        int port = ((IPEndPoint)tcp.LocalEndpoint).Port;
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, kind == "UDP" ? 0 : port + 1));
        int busy = kind == "UDP" ? ((IPEndPoint)udp.Client.LocalEndPoint!).Port : port;
        List<string> args = ["serve", "--dv-port", "0", "--jaer-udp-port", "0", "--jaer-tcp-port", "0", "--publish-port", "0", "--http-port", "0", "--duration", "0.1"];
        args[args.IndexOf(option) + 1] = busy.ToString(System.Globalization.CultureInfo.InvariantCulture);
        (int code, _, string err) = CliHarness.Run([.. args]);
        Assert.Equal(2, code);
        Assert.Contains($"127.0.0.1:{busy}", err, StringComparison.Ordinal);
        Assert.Contains(kind, err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_that_contradict_the_checkpoint_are_usage_errors_naming_the_field_and_both_values()
    {
        string dir = Temp();
        try
        {
            string checkpoint = Path.Combine(dir, "small.ckpt");
            new WindowClassifier("init", SensorGeometry.Dvs128, new WindowClassifierOptions { Hidden = 16 }).Save(checkpoint);
            foreach ((string option, string value, string message) in new[]
            {
                ("--hidden", "128", "--hidden 128 contradicts the checkpoint"),
                ("--pooling", "4", "--pooling 4 contradicts the checkpoint"),
                ("--bin-us", "10000", "its bin_us = 5000"),
                ("--width", "346", "its sensor width = 128"),
                ("--classes", "11", "its classes = 10"),
            })
            {
                (int code, _, string err) = CliHarness.Run("serve", "--dv-port", "0", "--checkpoint", checkpoint, option, value, "--duration", "0.1");
                Assert.Equal(CommandRunner.BadInput, code);
                Assert.Contains(message, err, StringComparison.Ordinal);
                Assert.Contains(checkpoint, err, StringComparison.Ordinal);
                Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
            }

            // without overrides the checkpoint brings its shape (16 hidden) and its preprocessing
            (int ok, string output, string warnings) = CliHarness.Run("serve", "--dv-port", "0", "--publish-port", "0", "--http-port", "0", "--checkpoint", checkpoint, "--duration", "0.1");
            Assert.Equal(CommandRunner.Ok, ok);
            Assert.Contains("model 16 hidden", output, StringComparison.Ordinal);
            Assert.DoesNotContain("no preprocessing description", warnings, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable CA5392, SYSLIB1054 // a plain libc call in a test; LibraryImport source generation is not worth it here
    private static extern int kill(int pid, int sig);
#pragma warning restore CA5392, SYSLIB1054

    private static string DropLatency(string json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        return string.Join('|', doc.RootElement.EnumerateObject().Where(p => p.Name != "latency_ms").Select(p => p.Name + "=" + p.Value.GetRawText()));
    }

    private static string Temp()
    {
        string dir = Path.Combine(Path.GetTempPath(), "eventsnn-serve-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A thread-safe writer keeping the lines written.</summary>
    private sealed class LineWriter : TextWriter
    {
        private readonly StringBuilder _current = new();
        private readonly List<string> _lines = [];

        public override Encoding Encoding => Encoding.UTF8;

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public override void Write(char value)
        {
            lock (_lines)
            {
                if (value == '\n')
                {
                    _lines.Add(_current.ToString().TrimEnd('\r'));
                    _current.Clear();
                }
                else
                {
                    _current.Append(value);
                }
            }
        }

        public async Task<string> WaitFor(Func<string, bool> match)
        {
            string? found = null;
            await WaitUntil(() => (found = Lines.FirstOrDefault(match)) is not null);
            return found!;
        }

        public async Task WaitUntil(Func<bool> condition)
        {
            var clock = Stopwatch.StartNew();
            while (!condition())
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "timed out; output so far: " + string.Join('\n', Lines));
                await Task.Delay(20);
            }
        }
    }
}

/// <summary>Stream helpers: generated patterns, reference decisions, health, decision comparison (with <see cref="ServeStreams"/>).</summary>
internal static class ServeIo
{
    public static EventBatch Pattern(int events, long startUs, int seed)
    {
        var rng = new Random(seed);
        var batch = new EventBatch(events);
        long t = startUs;
        for (int i = 0; i < events; i++)
        {
            t += 1 + rng.Next(40);
            batch.Add(t, (int)(t / 3_000 % 128), rng.Next(128), rng.Next(2) == 1);
        }

        return batch;
    }





    public static List<StreamDecision> Reference(EventBatch events, WindowClassifierOptions model, Func<long, long, int>? learnFrom = null)
    {
        var list = new List<StreamDecision>();
        var c = new WindowClassifier("reference", SensorGeometry.Dvs128, model) { TruthOf = learnFrom, Learning = learnFrom is not null };
        c.Process(events, list.Add);
        c.Flush(list.Add);
        return list;
    }


    /// <summary>Subscribers the server counts (GET /health), or -1 when it does not answer yet.</summary>
    public static int HealthSubscribers(int httpPort)
    {
        try
        {
            (int status, string body) = HttpProbe.Get(httpPort, "/health").GetAwaiter().GetResult();
            return status == 200 ? JsonDocument.Parse(body).RootElement.GetProperty("subscribers").GetInt32() : -1;
        }
        catch (HttpRequestException)
        {
            return -1;
        }
    }


    public static void AssertSame(List<StreamDecision> expected, List<JsonElement> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].LabelIndex, actual[i].GetProperty("label_index").GetInt32());
            Assert.Equal(expected[i].Label, actual[i].GetProperty("label").GetString());
            Assert.Equal(expected[i].Truth, actual[i].GetProperty("truth").GetString());
            Assert.Equal(Math.Round(expected[i].Confidence, 6), actual[i].GetProperty("confidence").GetDouble());
            Assert.Equal(expected[i].Events, actual[i].GetProperty("events").GetInt64());
            Assert.Equal(expected[i].TUs - expected[0].TUs, actual[i].GetProperty("t_us").GetInt64() - actual[0].GetProperty("t_us").GetInt64());
        }
    }
}
