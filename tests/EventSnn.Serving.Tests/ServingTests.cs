using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;
using EventSnn.Snn.Classification;
using EventSnn.Testing;
using static EventSnn.Testing.ServeStreams;

namespace EventSnn.Serving.Tests;

/// <summary>The serve host in-process on ephemeral loopback ports.</summary>
public class ServingTests
{
    private static readonly WindowClassifierOptions Model = new() { BinUs = 5_000, WindowUs = 100_000, Pooling = 8, Classes = 10, Hidden = 32, Chunks = 5, Seed = 3 };


    /// <summary>A generated jAER pattern: a bar sweeping right then a ring, small timestamps.</summary>
    internal static EventBatch Pattern(int events, long startUs, int seed)
    {
        var rng = new Random(seed);
        var batch = new EventBatch(events);
        long t = startUs;
        for (int i = 0; i < events; i++)
        {
            t += 1 + rng.Next(40);
            int x = (int)(t / 2_000 % 128);
            int y = rng.Next(128);
            if (t / 200_000 % 2 == 1)
            {
                double a = rng.NextDouble() * 2 * Math.PI;
                x = 64 + (int)(40 * Math.Cos(a));
                y = 64 + (int)(40 * Math.Sin(a));
            }

            batch.Add(t, x, y, rng.Next(2) == 1);
        }

        return batch;
    }



    /// <summary>jAER big-endian (address, timestamp) pairs of <paramref name="events"/> (the TCP stream).</summary>
    internal static byte[] JaerPairs(EventBatch events)
    {
        byte[] datagram = new byte[4 + (8 * events.Count)];
        int n = JaerUdpSender.Encode(events, 0, events.Count, 0, JaerChip.Dvs128, SensorGeometry.Dvs128, datagram);
        return datagram[4..n];
    }



    /// <summary>Decisions a lone WindowClassifier makes for <paramref name="events"/> (the reference).</summary>
    internal static List<StreamDecision> Reference(string stream, EventBatch events, WindowClassifierOptions model, Func<long, long, int>? learnFrom = null)
    {
        var list = new List<StreamDecision>();
        var c = new WindowClassifier(stream, SensorGeometry.Dvs128, model) { TruthOf = learnFrom, Learning = learnFrom is not null };
        c.Process(events, list.Add);
        c.Flush(list.Add);
        return list;
    }


    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "timed out waiting for " + what);
            await Task.Delay(20);
        }
    }

    internal static string User01Labels => Path.Combine(RepoRoot(), "recordings", "gestures", "user01_synthetic_labels.csv");

    /// <summary>DV streams have user01's labels and learn online (each its own model copy); jAER streams have no labels.</summary>
    private static ServeOptions Options(string? saveDir = null) => new()
    {
        Listeners = [new(ServeInputKind.Dv, 0) { Labels = User01Labels }, new(ServeInputKind.JaerUdp, 0), new(ServeInputKind.JaerTcp, 0)],
        Learn = true,
        PublishPort = 0,
        HttpPort = 0,
        Model = Model,
        UdpIdleTimeout = TimeSpan.FromMilliseconds(400),
        SaveDirectory = saveDir,
    };


    /// <summary>A decision of stream "s" at <paramref name="tUs"/> with class 0 named <paramref name="label"/>.</summary>
    private static StreamDecision Decided(long tUs, string label, long index) =>
        new() { TUs = tUs, StartUs = tUs - 1, Stream = "s", Label = label, LabelIndex = 0, Confidence = 0.5, Index = index, Events = 1 };

    private static void AssertSame(List<StreamDecision> expected, List<JsonElement> actual, string stream)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(stream, actual[i].GetProperty("stream").GetString());
            Assert.Equal(expected[i].LabelIndex, actual[i].GetProperty("label_index").GetInt32());
            Assert.Equal(Math.Round(expected[i].Confidence, 6), actual[i].GetProperty("confidence").GetDouble());
            Assert.Equal(expected[i].Events, actual[i].GetProperty("events").GetInt64());
            Assert.Equal(i, actual[i].GetProperty("decision").GetInt64());
            Assert.Equal(expected[i].Truth, actual[i].GetProperty("truth").GetString());
            Assert.True(actual[i].GetProperty("latency_ms").GetDouble() >= 0);
        }
    }

    [Fact]
    public void Streams_sharing_one_model_decide_in_parallel_as_a_classifier_with_weights_of_its_own()
    {
        using EventBatch events = Pattern(150_000, 1_000, seed: 11);

        // the reference: a stream that took weights of its own (Learning set once) but learns nothing
        var own = new WindowClassifier("s", SensorGeometry.Dvs128, Model) { Learning = true };
        own.Learning = false;
        var expected = new List<StreamDecision>();
        own.Process(events, expected.Add);
        own.Flush(expected.Add);
        Assert.True(expected.Count > 20, $"{expected.Count} windows");
        Assert.True(expected.Select(r => r.LabelIndex).Distinct().Count() > 1, "the model should not answer one class only");

        // four streams over one shared model, fed at the same time from four threads
        WindowModel shared = WindowModel.Load(SensorGeometry.Dvs128, Model);
        var results = new List<StreamDecision>[4];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k =>
        {
            var c = new WindowClassifier("s", SensorGeometry.Dvs128, shared);
            var list = new List<StreamDecision>();
            using var part = new EventBatch(997);
            for (int i = 0; i < events.Count; i += 997)
            {
                part.Clear();
                part.Append(events, i, Math.Min(997, events.Count - i));
                c.Process(part, list.Add);
            }

            c.Flush(list.Add);
            Assert.False(c.Learning);
            Assert.Equal(0, c.Updates);
            results[k] = list;
        });

        foreach (List<StreamDecision> got in results)
        {
            Assert.Equal(expected.Select(r => (r.TUs, r.LabelIndex, r.Confidence, r.Events)), got.Select(r => (r.TUs, r.LabelIndex, r.Confidence, r.Events)));
        }
    }

    [Fact]
    public void Window_classifier_decides_each_nonempty_window_once_and_ignores_how_events_are_split()
    {
        var model = Model with { BinUs = 1_000, WindowUs = 4_000, Chunks = 2 };

        // windows from the first event (t = 100): [100, 4100) [4100, 8100) ... ; 8100..12100 stays empty
        long[] times = [100, 900, 3_000, 4_099, 4_100, 7_000, 12_200, 12_300];
        using var batch = new EventBatch();
        foreach (long t in times)
        {
            batch.Add(t, (int)(t % 128), 5, true);
        }

        batch.Add(12_400, 200, 5, true); // outside the 128 x 128 sensor: dropped
        List<StreamDecision> whole = Reference("a", batch, model);
        Assert.Equal([4_100L, 8_100L, 16_100L], whole.Select(d => d.TUs));
        Assert.Equal([4L, 2L, 2L], whole.Select(d => d.Events));

        // the same events one by one: identical decisions
        var split = new List<StreamDecision>();
        var c = new WindowClassifier("a", SensorGeometry.Dvs128, model);
        using var one = new EventBatch(1);
        for (int i = 0; i < batch.Count; i++)
        {
            one.Clear();
            one.Append(batch, i, 1);
            c.Process(one, split.Add);
        }

        c.Flush(split.Add);
        Assert.Equal(1, c.OutOfRange);
        Assert.Equal(8, c.Events);
        Assert.Equal(whole.Select(d => (d.LabelIndex, d.Confidence, d.TUs)), split.Select(d => (d.LabelIndex, d.Confidence, d.TUs)));
        Assert.Equal(512, c.Inputs);
    }

    [Fact]
    public void Truth_of_a_window_is_the_segment_holding_its_midpoint()
    {
        Func<long, long, int> truth = WindowClassifier.TruthFromSegments([new LabelSegment(3, 1_000, 2_000), new LabelSegment(1, 5_000, 9_000)], labelBase: 1);
        Assert.Equal(2, truth(900, 1_300));   // midpoint 1100 in [1000, 2000): class 3 - 1
        Assert.Equal(-1, truth(1_800, 2_400)); // midpoint 2100: no segment
        Assert.Equal(0, truth(4_000, 6_400));  // midpoint 5200 in [5000, 9000)
        Assert.Equal(-1, truth(0, 100));
        Assert.Equal(-1, truth(9_000, 9_100));
    }

    [Fact]
    public async Task Three_concurrent_streams_come_back_tagged_with_their_own_ids_on_json_lines_and_sse_and_states_stay_apart()
    {
        using EventBatch gesture = GestureEvents("user01_synthetic.aedat4", 1.5);
        using EventBatch pattern = Pattern(40_000, 1_000, seed: 7);
        using EventBatch other = GestureEvents("user02_synthetic.aedat4", 1.0);
        Assert.True(gesture.Count > 1000 && other.Count > 1000);
        Func<long, long, int> truth = WindowClassifier.TruthFromSegments(LabelCsv.Read(User01Labels), 1);
        List<StreamDecision> gestureRef = Reference("x", gesture, Model, truth);
        Assert.Contains(gestureRef, d => d.Truth is not null);
        Assert.NotEqual(gestureRef.Select(d => d.Confidence), Reference("x", gesture, Model).Select(d => d.Confidence)); // stream A learns
        List<StreamDecision> patternRef = Reference("x", pattern, Model);
        List<StreamDecision> otherRef = Reference("x", other, Model);

        // stream A alone first
        var hub = new DecisionHub(Options());
        var aloneLines = new List<string>();
        string aloneId;
        await using (var server = new StreamServer(Options(), hub))
        {
            hub.Decided += d => { lock (aloneLines) { aloneLines.Add(d.ToJson()); } };
            server.Start();
            int dv = server.EndPoints[0].EndPoint.Port;
            PushTcp(dv, DvStream(gesture));
            await WaitUntil(() => hub.EndedStreams.Count == 1, "stream A to end");
            aloneId = hub.EndedStreams.Single().Id;
        }

        Assert.StartsWith("dv:127.0.0.1:", aloneId);
        AssertSame(gestureRef, ByStream(aloneLines)[aloneId], aloneId);

        // then A again with B (jAER UDP) and C (jAER TCP) at the same time
        var logs = new ConcurrentQueue<string>();
        var service = new ServeService(Options(), new DecisionHub(Options(), new ListLogger(logs)));
        await service.StartAsync(CancellationToken.None);
        ServeEndpoints ports = await service.Started;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        Task<List<string>> published = ReadLines(ports.Publish!.Port, cts.Token);
        Task<List<string>> sse = HttpProbe.ReadSse(ports.Http!.Port, "/events", cts.Token);
        Task<List<string>> sseFiltered = HttpProbe.ReadSse(ports.Http!.Port, "/events?stream=" + Uri.EscapeDataString("jaer-udp:") + "none", cts.Token);
        await WaitUntil(() => service.Hub.Subscribers == 3, "the subscribers");
        await Task.WhenAll(
            Task.Run(() => PushTcp(ports.PortOf(ServeInputKind.Dv), DvStream(gesture))),
            Task.Run(() => SendUdp(ports.PortOf(ServeInputKind.JaerUdp), pattern)),
            Task.Run(() => PushTcp(ports.PortOf(ServeInputKind.JaerTcp), JaerPairs(other))));
        await WaitUntil(() => service.Hub.EndedStreams.Count == 3, "three streams to end");

        (int status, string health) = await HttpProbe.Get(ports.Http.Port, "/health");
        Assert.Equal(200, status);
        await service.StopAsync(CancellationToken.None);
        service.Dispose();

        List<string> lines = await published;
        List<string> events = await sse;
        Assert.Empty(await sseFiltered);
        Assert.Equal(lines, events); // the same decisions, in the same order, on both outputs
        Dictionary<string, List<JsonElement>> byStream = ByStream(lines);
        Assert.Equal(3, byStream.Count);
        string a = byStream.Keys.Single(k => k.StartsWith("dv:127.0.0.1:", StringComparison.Ordinal));
        string b = byStream.Keys.Single(k => k.StartsWith("jaer-udp:127.0.0.1:", StringComparison.Ordinal));
        string c = byStream.Keys.Single(k => k.StartsWith("jaer-tcp:127.0.0.1:", StringComparison.Ordinal));
        AssertSame(gestureRef, byStream[a], a);
        AssertSame(patternRef, byStream[b], b);
        AssertSame(otherRef, byStream[c], c);

        // stream A decided exactly as when it was alone
        Assert.Equal(
            ByStream(aloneLines)[aloneId].Select(e => (e.GetProperty("label_index").GetInt32(), e.GetProperty("confidence").GetDouble(), e.GetProperty("t_us").GetInt64())),
            byStream[a].Select(e => (e.GetProperty("label_index").GetInt32(), e.GetProperty("confidence").GetDouble(), e.GetProperty("t_us").GetInt64())));

        // health counted every event and decision per stream
        using JsonDocument doc = JsonDocument.Parse(health);
        var counts = doc.RootElement.GetProperty("streams").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!, s => (s.GetProperty("events").GetInt64(), s.GetProperty("decisions").GetInt64()));
        Assert.Equal((gesture.Count, gestureRef.Count), counts[a]);
        Assert.Equal((pattern.Count, patternRef.Count), counts[b]);
        Assert.Equal((other.Count, otherRef.Count), counts[c]);
        Assert.Contains(logs, l => l.StartsWith(b + ": ended", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_peer_sending_garbage_is_dropped_with_its_offset_while_another_stream_carries_on()
    {
        string dir = Path.Combine(Path.GetTempPath(), "eventsnn-serve-" + Guid.NewGuid().ToString("N"));
        var logs = new ConcurrentQueue<string>();
        var hub = new DecisionHub(Options(dir), new ListLogger(logs));
        var decisions = new ConcurrentQueue<StreamDecision>();
        hub.Decided += decisions.Enqueue;
        using EventBatch good = Pattern(20_000, 0, seed: 1);

        // a valid header, then a packet claiming 1 GiB
        byte[] header = DvStream(new EventBatch(1));
        byte[] header0 = header[..(4 + (int)BitConverter.ToUInt32(header, 0))];
        try
        {
            await using (var server = new StreamServer(Options(dir), hub))
            {
                server.Start();
                int dv = server.EndPoints[0].EndPoint.Port;
                byte[] bad = [.. header0, 0, 0, 0, 0, 0, 0, 0, 0x40, 1, 2, 3];
                Task badPeer = Task.Run(() => PushTcp(dv, bad));
                Task garbage = Task.Run(() => PushTcp(dv, Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n\r\nthis is not AEDAT4 at all")));
                Task goodPeer = Task.Run(() => PushTcp(dv, DvStream(good)));
                await Task.WhenAll(badPeer, garbage, goodPeer);
                await WaitUntil(() => hub.EndedStreams.Count == 3, "three streams to end");
            }

            StreamStatus[] ended = [.. hub.EndedStreams];
            Assert.Equal(2, ended.Count(s => s.Error is not null));
            StreamStatus ok = ended.Single(s => s.Error is null);
            Assert.Equal(good.Count, ok.Events);
            Assert.Equal(Reference("x", good, Model).Count, decisions.Count(d => d.Stream == ok.Id));
            Assert.All(decisions, d => Assert.Equal(ok.Id, d.Stream));

            // the 1 GiB claim is refused at its size field: the end of the IOHeader + 4 (after the stream id)
            StreamStatus oversized = ended.Single(s => s.Error is not null && s.Error.Contains($"byte {header0.Length + 4}:", StringComparison.Ordinal));
            StreamStatus notAedat = ended.Single(s => s.Error is not null && s.Error.Contains("byte 0:", StringComparison.Ordinal));
            Assert.Contains(logs, l => l.Contains(notAedat.Peer + " dropped", StringComparison.Ordinal) && l.Contains("IOHeader size", StringComparison.Ordinal));
            Assert.Contains(logs, l => l.Contains(oversized.Id, StringComparison.Ordinal) && l.Contains("dropped", StringComparison.Ordinal) && l.Contains(oversized.Peer, StringComparison.Ordinal));

            // per-stream checkpoints were written atomically for the streams that had a model
            Assert.True(File.Exists(StreamServer.CheckpointPath(dir, ok.Id)));
            Assert.Equal(ok.Checkpoint, StreamServer.CheckpointPath(dir, ok.Id));
            Assert.Empty(Directory.GetFiles(dir, "*.tmp*"));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Http_endpoint_answers_400_to_garbage_431_to_huge_heads_408_to_slow_heads_404_and_405()
    {
        var options = Options() with { Listeners = [], MaxRequestHeadBytes = 1024, RequestTimeout = TimeSpan.FromSeconds(1) };
        var hub = new DecisionHub(options);
        await using HttpFrontEnd http = await HttpFrontEnd.StartAsync(hub, options, IPAddress.Loopback, 0, null);
        int port = http.EndPoint.Port;
        Assert.Equal(400, (await HttpProbe.Raw(port, "hello there\r\n\r\n"u8.ToArray())).Status);
        Assert.Equal(400, (await HttpProbe.Raw(port, "GET /health HTTP/1.1\r\nno colon here\r\n\r\n"u8.ToArray())).Status);
        Assert.Equal(431, (await HttpProbe.Raw(port, Encoding.ASCII.GetBytes("GET /health HTTP/1.1\r\nHost: x\r\nX: " + new string('a', 2000) + "\r\n\r\n"))).Status);
        Assert.Equal(408, (await HttpProbe.Raw(port, "GET /health HTTP/1.1\r\nHost: x\r\n"u8.ToArray())).Status); // the head never ends
        (int notFound, string hint) = await HttpProbe.Get(port, "/nope");
        Assert.Equal(404, notFound);
        Assert.Contains("/events", hint, StringComparison.Ordinal);
        Assert.Equal(405, (await HttpProbe.Raw(port, "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray())).Status);
        (int status, string body) = await HttpProbe.Get(port, "/health");
        Assert.Equal(200, status);
        Assert.Equal("ok", JsonDocument.Parse(body).RootElement.GetProperty("status").GetString());
        hub.Complete();
        Assert.Equal(503, (await HttpProbe.Get(port, "/health")).Status); // stopping
    }

    [Fact]
    public async Task Event_streams_beyond_MaxClients_get_503_while_health_and_metrics_still_answer()
    {
        var options = Options() with { Listeners = [], MaxClients = 2 };
        var hub = new DecisionHub(options);
        await using HttpFrontEnd http = await HttpFrontEnd.StartAsync(hub, options, IPAddress.Loopback, 0, null);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Task<List<string>> first = HttpProbe.ReadSse(http.EndPoint.Port, "/events", cts.Token);
        Task<List<string>> second = HttpProbe.ReadSse(http.EndPoint.Port, "/events", cts.Token);
        await WaitUntil(() => hub.Subscribers == 2, "two event streams");
        (int refused, string why) = await HttpProbe.Get(http.EndPoint.Port, "/events");
        Assert.Equal(503, refused);
        Assert.Contains("too many event-stream clients (2)", why, StringComparison.Ordinal);

        // monitoring is never locked out by event streams
        Assert.Equal(200, (await HttpProbe.Get(http.EndPoint.Port, "/health")).Status);
        Assert.Equal(200, (await HttpProbe.Get(http.EndPoint.Port, "/metrics")).Status);
        StreamDecision sent = Decided(1, "x", 0) with { Truth = "x", TruthIndex = 0 };
        hub.Publish(sent);
        hub.Complete();
        Assert.Equal(sent, StreamDecision.Parse(Encoding.UTF8.GetBytes(Assert.Single(await first)))); // the SSE data is the source-generated JSON
        Assert.Single(await second);
    }

    [Fact]
    public async Task An_idle_tcp_input_is_closed_after_the_idle_timeout_and_its_stream_ends()
    {
        var options = Options() with { Listeners = [new(ServeInputKind.Dv, 0), new(ServeInputKind.JaerTcp, 0)], InputIdleTimeout = TimeSpan.FromMilliseconds(400) };
        var logs = new ConcurrentQueue<string>();
        var hub = new DecisionHub(options, new ListLogger(logs));
        await using var server = new StreamServer(options, hub);
        server.Start();
        using var dv = new TcpClient();
        await dv.ConnectAsync(IPAddress.Loopback, server.EndPoints[0].EndPoint.Port);
        byte[] header = DvStream(new EventBatch(1));
        await dv.GetStream().WriteAsync(header.AsMemory(0, 4 + (int)BitConverter.ToUInt32(header, 0))); // the IOHeader, then silence
        using var jaer = new TcpClient();
        await jaer.ConnectAsync(IPAddress.Loopback, server.EndPoints[1].EndPoint.Port); // nothing at all
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await WaitUntil(() => hub.EndedStreams.Count == 2, "both idle streams to end");
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(10));
        Assert.All(hub.EndedStreams, s => Assert.StartsWith("idle: nothing received for 0.4 s", s.Error, StringComparison.Ordinal));
        Assert.Equal(0, await dv.GetStream().ReadAsync(new byte[1])); // the server closed the connection
    }

    [Fact]
    public async Task A_publisher_client_that_closes_is_let_go_at_once()
    {
        var options = Options() with { Listeners = [] };
        var hub = new DecisionHub(options);
        await using var publisher = new JsonLinesPublisher(hub, IPAddress.Loopback, 0);
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, publisher.EndPoint.Port);
        await WaitUntil(() => hub.Subscribers == 1, "the subscriber");
        client.Dispose(); // no decision flows after this
        await WaitUntil(() => hub.Subscribers == 0, "the closed client to be let go");
    }

    [Fact]
    public void A_sensor_clock_reset_mid_stream_is_a_new_run_of_windows_and_decisions_go_on()
    {
        using EventBatch once = GestureEvents("user01_synthetic.aedat4", 3.0);
        using var twice = new EventBatch(2 * once.Count);
        twice.Append(once, 0, once.Count);
        twice.Append(once, 0, once.Count); // the same 3 s again: the clock went back by more than ResetUs (1 s)
        List<StreamDecision> single = Reference("s", once, Model);
        var c = new WindowClassifier("s", SensorGeometry.Dvs128, Model);
        var decided = new List<StreamDecision>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        c.Process(twice, decided.Add);
        c.Flush(decided.Add);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
        Assert.Equal(2 * once.Count, c.Events);
        Assert.Equal(2 * single.Count, decided.Count); // every window of both runs decided, none swallowed as late
        Assert.Equal(single.Select(d => d.TUs), decided.Skip(single.Count).Select(d => d.TUs));
    }

    [Fact]
    public async Task An_http_port_already_in_use_fails_the_start_naming_the_port()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var options = Options() with { Listeners = [], HttpPort = port };
        var service = new ServeService(options, new DecisionHub(options));
        IOException error = await Assert.ThrowsAsync<IOException>(() => service.StartAsync(CancellationToken.None));
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<IOException>(() => service.Started);
        service.Dispose();
    }

    [Fact]
    public async Task A_vanished_event_stream_client_does_not_hold_up_the_others()
    {
        var options = Options() with { Listeners = [], SubscriberQueue = 64 };
        var hub = new DecisionHub(options);
        await using HttpFrontEnd http = await HttpFrontEnd.StartAsync(hub, options, IPAddress.Loopback, 0, null);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // a client that asks for the event stream and never reads
        using var stuck = new TcpClient();
        await stuck.ConnectAsync(IPAddress.Loopback, http.EndPoint.Port);
        await stuck.GetStream().WriteAsync("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        int received = 0;
        Task<List<string>> reader = HttpProbe.ReadSse(http.EndPoint.Port, "/events", cts.Token, onData: _ => Interlocked.Increment(ref received));
        await WaitUntil(() => hub.Subscribers == 2, "two event streams");

        // 32 MB of decisions: far more than the stuck client's socket buffers and queue hold; the
        // reading client is never more than 32 behind, so only the stuck one can fill its queue
        string pad = new('x', 16_000);
        const int count = 2000;
        for (int i = 0; i < count; i++)
        {
            hub.Publish(Decided(i, pad, i));
            while (i + 1 - Volatile.Read(ref received) > 32)
            {
                Assert.False(cts.IsCancellationRequested, $"the reading client got {received} of {i + 1}");
                await Task.Delay(1);
            }
        }

        Assert.Equal(1, hub.SlowDisconnects); // the stuck client was dropped; nobody waited for it
        hub.Complete();
        Assert.Equal(count, (await reader).Count);
    }

    [Fact]
    public async Task Metrics_api_and_dashboard_describe_the_live_streams()
    {
        var options = Options() with { FrameInterval = TimeSpan.FromMilliseconds(20) };
        var service = new ServeService(options, new DecisionHub(options));
        await service.StartAsync(CancellationToken.None);
        try
        {
            ServeEndpoints ports = await service.Started;
            int http = ports.Http!.Port;
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(40));
            var frames = new List<(string Event, string Data)>();
            Task<List<string>> sse = HttpProbe.ReadSse(http, "/events?frames=1", cts.Token, frames);
            await WaitUntil(() => service.Hub.FrameSubscribers == 1, "the dashboard's event stream");
            using EventBatch gesture = GestureEvents("user01_synthetic.aedat4", 1.5);
            await Task.Run(() => PushTcp(ports.PortOf(ServeInputKind.Dv), DvStream(gesture)));
            await WaitUntil(() => service.Hub.EndedStreams.Count == 1, "the stream to end");
            StreamStatus stream = service.Hub.EndedStreams.Single();

            // /metrics: Prometheus text with the stream's counters equal to /health's
            (int status, string metrics) = await HttpProbe.Get(http, "/metrics");
            Assert.Equal(200, status);
            string tag = $"stream=\"{stream.Id}\"";
            Assert.Equal(stream.Events, MetricValue(metrics, "eventsnn_events_received_total", tag));
            Assert.Equal(stream.Decisions, MetricValue(metrics, "eventsnn_decisions_total", tag));
            Assert.Equal(stream.Labelled, MetricValue(metrics, "eventsnn_decisions_labelled_total", tag));
            Assert.Equal(stream.Correct, MetricValue(metrics, "eventsnn_decisions_correct_total", tag));
            Assert.Equal(stream.Steps, MetricValue(metrics, "eventsnn_steps_total", tag));
            Assert.True(stream.Decisions > 0 && stream.Labelled > 0);
            Assert.Equal(stream.Decisions, MetricValue(metrics, "eventsnn_decision_latency_milliseconds_count", tag));
            Assert.Contains("# TYPE eventsnn_decision_latency_milliseconds histogram", metrics, StringComparison.Ordinal);

            // /api/streams: the same stream as JSON
            (status, string api) = await HttpProbe.Get(http, "/api/streams");
            Assert.Equal(200, status);
            JsonElement listed = JsonDocument.Parse(api).RootElement.EnumerateArray().Single(s => s.GetProperty("id").GetString() == stream.Id);
            Assert.Equal(stream.Events, listed.GetProperty("events").GetInt64());
            Assert.False(listed.GetProperty("active").GetBoolean());

            // the dashboard and its files come from the assembly
            (status, string page) = await HttpProbe.Get(http, "/");
            Assert.Equal(200, status);
            Assert.Contains("data-stream", page, StringComparison.Ordinal);
            Assert.Equal(200, (await HttpProbe.Get(http, "/app.js")).Status);
            Assert.Equal(200, (await HttpProbe.Get(http, "/style.css")).Status);

            await service.StopAsync(CancellationToken.None);
            List<string> decisions = await sse;
            Assert.Equal(stream.Decisions, decisions.Count);

            // frames: the sensor's size, ON and OFF planes that add up to at most the events sent
            Assert.NotEmpty(frames);
            Assert.All(frames, f => Assert.Equal("frame", f.Event));
            long counted = 0;
            foreach ((_, string data) in frames)
            {
                JsonElement f = JsonDocument.Parse(data).RootElement;
                Assert.Equal(stream.Id, f.GetProperty("stream").GetString());
                Assert.Equal((128, 128, 1), (f.GetProperty("sensor_width").GetInt32(), f.GetProperty("sensor_height").GetInt32(), f.GetProperty("scale").GetInt32()));
                byte[] on = f.GetProperty("on").GetBytesFromBase64();
                byte[] off = f.GetProperty("off").GetBytesFromBase64();
                Assert.Equal(128 * 128, on.Length);
                Assert.Equal(128 * 128, off.Length);
                counted += on.Sum(b => (long)b) + off.Sum(b => (long)b);
            }

            Assert.InRange(counted, 1, gesture.Count);
        }
        finally
        {
            service.Dispose();
        }
    }

    private static long MetricValue(string metrics, string name, string tag)
    {
        foreach (string line in metrics.Split('\n'))
        {
            if (line.StartsWith(name + "{", StringComparison.Ordinal) && line.Contains(tag, StringComparison.Ordinal))
            {
                return (long)double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new Xunit.Sdk.XunitException($"no {name} with {tag} in:\n{metrics}");
    }

    [Fact]
    public void A_subscriber_that_does_not_read_is_disconnected_once_its_bounded_queue_is_full()
    {
        var hub = new DecisionHub(Options() with { SubscriberQueue = 8 });
        using DecisionHub.Subscription slow = hub.Subscribe();
        using DecisionHub.Subscription fast = hub.Subscribe();
        int read = 0;
        for (int i = 0; i < 100; i++)
        {
            hub.Publish(Decided(i, "x", i));
            while (fast.Reader.TryRead(out _))
            {
                read++;
            }
        }

        Assert.Equal(100, read);
        Assert.True(slow.DroppedForSlowness);
        Assert.Equal(1, hub.SlowDisconnects);
        Assert.Equal(1, hub.Subscribers);

        var dropping = new DecisionHub(Options() with { SubscriberQueue = 8, SlowSubscribers = SlowSubscriberPolicy.DropOldest });
        using DecisionHub.Subscription lagging = dropping.Subscribe();
        for (int i = 0; i < 100; i++)
        {
            dropping.Publish(Decided(i, "x", i));
        }

        Assert.Equal(92, dropping.Dropped);
        Assert.False(lagging.DroppedForSlowness);
        Assert.True(lagging.Reader.TryRead(out byte[]? oldest));
        Assert.Equal(92, JsonDocument.Parse(oldest).RootElement.GetProperty("decision").GetInt64());
    }

    [Fact]
    public void Serve_metrics_report_the_decisions_the_hub_published_dropped_and_disconnected()
    {
        var hub = new DecisionHub(Options() with { SubscriberQueue = 8, SlowSubscribers = SlowSubscriberPolicy.DropOldest });
        using var metrics = new ServeMetrics(hub);
        var values = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, metrics.Meter))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => values[instrument.Name] = value);
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => values[instrument.Name] = value);
        listener.Start();
        using DecisionHub.Subscription lagging = hub.Subscribe();
        for (int i = 0; i < 50; i++)
        {
            hub.Publish(Decided(i, "x", i));
        }

        listener.RecordObservableInstruments();
        Assert.Equal((50L, 50L), (hub.Published, values["eventsnn.decisions.published"]));
        Assert.Equal((42L, 42L), (hub.Dropped, values["eventsnn.subscribers.decisions.dropped"]));
        Assert.Equal((0L, 0L), (hub.SlowDisconnects, values["eventsnn.subscribers.slow_disconnects"]));
        Assert.Equal(1, values["eventsnn.subscribers"]);
        Assert.False(values.ContainsKey("eventsnn.cluster.decisions.received")); // no cluster feed: no series
    }
}
