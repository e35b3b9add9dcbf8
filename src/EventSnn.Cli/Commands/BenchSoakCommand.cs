using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using EventSnn.Events;
using EventSnn.Pipeline;

namespace EventSnn.Cli.Commands;

/// <summary>
/// <c>eventsnn bench soak</c>: starts <c>eventsnn serve</c> as a child process, feeds it N jAER TCP
/// streams at a fixed event rate each for the given minutes, samples the server's resident set and
/// its <c>/health</c> counts every interval, then closes the streams and checks that every event
/// sent was counted by the server and that the resident set did not grow (the last quarter's
/// maximum against the first sample after the warm-up). Exit 1 when either check fails.
/// </summary>
internal sealed class BenchSoakCommand : Command
{
    private const int BlockMs = 10;

    public override string Name => "bench soak";

    public override string Summary => "Soak test of serve: N streams at a fixed event rate for M minutes; RSS every interval, events in = events counted, fails on growth";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        new("minutes", "m", "how long the streams are fed (default 10)"),
        new("streams", "n", "jAER TCP streams fed at once (default 2, at most 64)"),
        new("rate", "events/s", "events per second per stream (default 1000000)"),
        new("interval", "s", "seconds between samples of RSS and counts (default 10)"),
        new("warmup", "s", "seconds before the baseline RSS sample (default 30, at most a quarter of the run)"),
        new("max-growth", "percent", "largest allowed RSS growth from the baseline to the last quarter's peak (default 10)"),
        new("checkpoint", "file", "the model serve classifies with (default: serve's fresh model)"),
        new("json", null, "one JSON object per sample, then {\"summary\": ...}"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (args.Positionals.Count > 0)
        {
            throw new UsageException($"bench soak takes no arguments ('{args.Positionals[0]}'); see --help");
        }

        double minutes = args.GetDouble("minutes", 10);
        int streams = args.GetInt("streams", 2);
        long rate = args.GetLong("rate", 1_000_000);
        double interval = args.GetDouble("interval", 10);
        double maxGrowth = args.GetDouble("max-growth", 10);
        Check(double.IsFinite(minutes) && minutes > 0 && minutes <= 24 * 60, "minutes", minutes, "a number of minutes in (0, 1440]");
        Check(streams is >= 1 and <= 64, "streams", streams, "1..64");
        Check(rate is >= 1_000 and <= 100_000_000, "rate", rate, "1000..100000000 events/s");
        Check(double.IsFinite(interval) && interval >= 0.5, "interval", interval, "at least 0.5 s");
        Check(double.IsFinite(maxGrowth) && maxGrowth >= 0, "max-growth", maxGrowth, "a percentage >= 0");
        double seconds = minutes * 60;
        double warmup = Math.Min(args.GetDouble("warmup", 30), seconds / 4);
        Check(double.IsFinite(warmup) && warmup >= 0, "warmup", warmup, "seconds >= 0");
        string? checkpoint = args.Get("checkpoint") is { } c ? Path.GetFullPath(c) : null;
        if (checkpoint is not null && !File.Exists(checkpoint))
        {
            throw new FileNotFoundException($"{checkpoint}: file not found", checkpoint);
        }

        bool json = args.Has("json");
        using Process serve = StartServe(seconds, checkpoint, out int port, out int http);
        long pid = serve.Id;
        var samples = new List<(double T, long Rss, long Sent, long Counted, long Decisions)>();
        using var http1 = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(args.Cancellation);
        var senders = new Sender[streams];
        for (int i = 0; i < streams; i++)
        {
            senders[i] = new Sender(port, rate, seed: i + 1);
        }

        var clock = Stopwatch.StartNew();
        Task[] running = [.. senders.Select(s => Task.Factory.StartNew(() => s.Run(seconds, stop.Token), TaskCreationOptions.LongRunning))];
        if (!json)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench soak: serve pid {pid}, {streams} jAER TCP stream(s) x {rate:N0} events/s for {minutes:G} min, sample every {interval:G} s{(checkpoint is null ? string.Empty : ", model " + checkpoint)}"));
        }

        try
        {
            double next = Math.Min(interval, warmup > 0 ? warmup : interval);
            while (!Task.WaitAll(running, (int)Math.Max(0, (next - clock.Elapsed.TotalSeconds) * 1000), CancellationToken.None))
            {
                samples.Add(Sample(serve, http1, http, senders, clock));
                Report(stdout, json, samples[^1], rate * streams);
                next += interval;
            }
        }
        finally
        {
            stop.Cancel();
            foreach (Sender s in senders)
            {
                s.Dispose();
            }
        }

        // every stream ended: the server counts what it received, then each stream's record is final
        long sent = senders.Sum(s => s.Sent);
        (long counted, long decisions, int active) = WaitForCounts(http1, http, sent, streams);
        (double t, long rss, _, _, _) = Sample(serve, http1, http, senders, clock);
        samples.Add((t, rss, sent, counted, decisions));
        Report(stdout, json, samples[^1], rate * streams);
        SortedDictionary<double, long> latency = LatencyBuckets(http1, http);
        StopServe(serve);

        if (args.Cancellation.IsCancellationRequested)
        {
            stderr.WriteLine("interrupted");
            return 130;
        }

        // baseline: the first sample at or after the warm-up; peak: the last quarter's highest
        var after = samples.Where(s => s.T >= warmup - 0.5).ToList();
        long baseline = after.Count > 0 ? after[0].Rss : samples[0].Rss;
        double quarterStart = samples[^1].T * 0.75;
        long peak = samples.Where(s => s.T >= quarterStart).Max(s => s.Rss);
        double growth = 100.0 * (peak - baseline) / baseline;
        bool countsOk = counted == sent && active == 0;
        bool growthOk = growth <= maxGrowth;
        double achieved = sent / Math.Max(1e-9, senders.Max(s => s.Seconds)) / streams;
        if (json)
        {
            var rssBytes = new long[samples.Count];
            for (int i = 0; i < samples.Count; i++)
            {
                rssBytes[i] = samples[i].Rss;
            }

            var within = new OrderedDictionary<string, long>(latency.Count);
            foreach ((double le, long count) in latency)
            {
                within.Add(double.IsPositiveInfinity(le) ? "inf" : le.ToString(CultureInfo.InvariantCulture), count);
            }

            var summary = new SoakSummaryJson(
                "soak",
                streams,
                rate,
                Math.Round(achieved),
                Math.Round(samples[^1].T, 1),
                sent,
                counted,
                decisions,
                baseline,
                peak,
                Math.Round(growth, 2),
                maxGrowth,
                rssBytes,
                within,
                LatencyP99(latency),
                countsOk,
                countsOk && growthOk);
            stdout.WriteLine(JsonSerializer.Serialize(new SoakSummaryLine(summary), CliJsonContext.Default.SoakSummaryLine));
        }
        else
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sent {sent:N0} events ({achieved:N0}/s per stream), serve counted {counted:N0}, {decisions:N0} decisions; RSS baseline {baseline / 1048576.0:F1} MB, last-quarter peak {peak / 1048576.0:F1} MB, growth {growth:F1} % (limit {maxGrowth:G} %)"));
            long all = latency.Count > 0 ? latency.Values.Max() : 0;
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"decision latency: {string.Join(", ", latency.Where(b => b.Key is 1 or 2 or 5 or 10).Select(b => $"{b.Value:N0} of {all:N0} within {b.Key:G} ms"))}; p99 at most {(LatencyP99(latency) is double p ? p.ToString("G", CultureInfo.InvariantCulture) + " ms" : "-")}"));
            stdout.WriteLine(countsOk && growthOk ? "passed" : $"FAILED:{(countsOk ? string.Empty : " events sent != events counted")}{(growthOk ? string.Empty : " memory grew")}");
        }

        return countsOk && growthOk ? CommandRunner.Ok : CommandRunner.Failure;
    }

    private static void Check(bool ok, string option, object value, string expected)
    {
        if (!ok)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"option --{option}: {value} must be {expected}"));
        }
    }

    private static void Report(TextWriter stdout, bool json, (double T, long Rss, long Sent, long Counted, long Decisions) s, long target)
    {
        if (json)
        {
            var line = new SoakSampleJson(Math.Round(s.T, 1), s.Rss, s.Sent, s.Counted, s.Decisions);
            stdout.WriteLine(JsonSerializer.Serialize(line, CliJsonContext.Default.SoakSampleJson));
        }
        else
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.T,7:F1} s  RSS {s.Rss / 1048576.0,7:F1} MB  sent {s.Sent,14:N0}  counted {s.Counted,14:N0}  decisions {s.Decisions,9:N0}  (target {target:N0} events/s)"));
        }

        stdout.Flush();
    }

    private static (double T, long Rss, long Sent, long Counted, long Decisions) Sample(Process serve, HttpClient client, int http, Sender[] senders, Stopwatch clock)
    {
        serve.Refresh();
        long rss = serve.HasExited ? 0 : serve.WorkingSet64;
        (long counted, long decisions, _) = Health(client, http);
        return (clock.Elapsed.TotalSeconds, rss, senders.Sum(s => s.Sent), counted, decisions);
    }

    /// <summary>Events counted, decisions and active streams in serve's /health.</summary>
    private static (long Events, long Decisions, int Active) Health(HttpClient client, int http)
    {
        using JsonDocument doc = JsonDocument.Parse(client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/health")).GetAwaiter().GetResult());
        long events = 0, decisions = 0;
        int active = 0;
        foreach (JsonElement s in doc.RootElement.GetProperty("streams").EnumerateArray())
        {
            events += s.GetProperty("events").GetInt64() + s.GetProperty("out_of_range").GetInt64();
            decisions += s.GetProperty("decisions").GetInt64();
            active += s.GetProperty("active").GetBoolean() ? 1 : 0;
        }

        return (events, decisions, active);
    }

    /// <summary>serve's decision-latency histogram summed over the streams: bucket upper bound (ms) -> decisions at or below it.</summary>
    private static SortedDictionary<double, long> LatencyBuckets(HttpClient client, int http)
    {
        var buckets = new SortedDictionary<double, long>();
        string text = client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/metrics")).GetAwaiter().GetResult();
        foreach (string line in text.Split('\n'))
        {
            // eventsnn_decision_latency_milliseconds_bucket{...,le="5"} 1234
            if (!line.StartsWith("eventsnn_decision_latency_milliseconds_bucket{", StringComparison.Ordinal))
            {
                continue;
            }

            int le = line.IndexOf("le=\"", StringComparison.Ordinal);
            int close = le < 0 ? -1 : line.IndexOf('"', le + 4);
            int space = line.LastIndexOf(' ');
            if (close < 0 || space < close)
            {
                continue;
            }

            string bound = line[(le + 4)..close];
            double key = bound == "+Inf" ? double.PositiveInfinity : double.Parse(bound, CultureInfo.InvariantCulture);
            long count = (long)double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
            buckets[key] = buckets.GetValueOrDefault(key) + count;
        }

        return buckets;
    }

    /// <summary>The smallest bucket bound holding at least 99 % of the decisions (null without decisions).</summary>
    private static double? LatencyP99(SortedDictionary<double, long> buckets)
    {
        long all = buckets.Count > 0 ? buckets.Values.Max() : 0;
        if (all == 0)
        {
            return null;
        }

        foreach ((double le, long count) in buckets)
        {
            if (count >= 0.99 * all)
            {
                return le;
            }
        }

        return null;
    }

    private static (long Counted, long Decisions, int Active) WaitForCounts(HttpClient client, int http, long sent, int streams)
    {
        var wait = Stopwatch.StartNew();
        (long counted, long decisions, int active) = Health(client, http);
        while ((active > 0 || counted < sent) && wait.Elapsed < TimeSpan.FromSeconds(60))
        {
            Thread.Sleep(200);
            (counted, decisions, active) = Health(client, http);
        }

        return (counted, decisions, active);
    }

    private static Process StartServe(double seconds, string? checkpoint, out int jaerPort, out int httpPort)
    {
        string tool = Environment.ProcessPath ?? throw new InvalidOperationException("the tool's path is unknown");
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(tool) == "dotnet")
        {
            info.ArgumentList.Add(typeof(BenchSoakCommand).Assembly.Location);
        }

        foreach (string a in new[] { "serve", "--jaer-tcp-port", "0", "--dv-port", "off", "--jaer-udp-port", "off", "--publish-port", "off", "--http-port", "0", "--idle-timeout", "0", "--json", "--quiet", "--duration", ((int)seconds + 300).ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(a);
        }

        if (checkpoint is not null)
        {
            info.ArgumentList.Add("--checkpoint");
            info.ArgumentList.Add(checkpoint);
        }

        Process serve = Process.Start(info) ?? throw new InvalidOperationException("could not start serve");
        serve.ErrorDataReceived += (_, _) => { };
        serve.BeginErrorReadLine();
        string? first = serve.StandardOutput.ReadLine();
        if (first is null)
        {
            serve.WaitForExit(5000);
            throw new InvalidOperationException($"serve exited ({(serve.HasExited ? serve.ExitCode : -1)}) before listening");
        }

        using JsonDocument doc = JsonDocument.Parse(first);
        JsonElement listening = doc.RootElement.GetProperty("listening");
        jaerPort = listening.GetProperty("jaer_tcp").GetInt32();
        httpPort = listening.GetProperty("http").GetInt32();

        // drain the rest of stdout (the summary) so serve never blocks on a full pipe
        StreamReader output = serve.StandardOutput;
        _ = Task.Factory.StartNew(() => { while (output.ReadLine() is not null) { } }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return serve;
    }

    private static void StopServe(Process serve)
    {
        if (!serve.HasExited)
        {
            serve.Kill(entireProcessTree: true);
        }

        serve.WaitForExit(10_000);
    }

    /// <summary>One jAER TCP stream (<see cref="JaerTcpSender"/>, DVS128 addresses) of random events, paced in blocks of 10 ms.</summary>
    private sealed class Sender(int port, long rate, int seed) : IDisposable
    {
        private readonly Socket _socket = new(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        private JaerTcpSender? _sender;
        private long _sent;
        private double _seconds;

        public long Sent => Interlocked.Read(ref _sent);

        public double Seconds => Volatile.Read(ref _seconds);

        public void Run(double seconds, CancellationToken stop)
        {
            _socket.Connect("127.0.0.1", port);
            _sender = new JaerTcpSender(_socket);
            int perBlock = (int)Math.Max(1, rate * BlockMs / 1000);
            var rng = new Random(seed);
            using var block = new EventBatch(perBlock);
            for (int i = 0; i < perBlock; i++)
            {
                block.Add(0, rng.Next(128), rng.Next(128), rng.Next(2) == 1);
            }

            var clock = Stopwatch.StartNew();
            long blocks = 0;
            while (clock.Elapsed.TotalSeconds < seconds && !stop.IsCancellationRequested)
            {
                long baseUs = blocks * BlockMs * 1000;
                Span<long> t = block.T.AsSpan(0, perBlock);
                for (int i = 0; i < t.Length; i++)
                {
                    t[i] = baseUs + ((long)i * BlockMs * 1000 / perBlock);
                }

                _sender.OnNext(block);
                Interlocked.Add(ref _sent, perBlock);
                blocks++;
                double ahead = (blocks * BlockMs / 1000.0) - clock.Elapsed.TotalSeconds;
                if (ahead > 0.001)
                {
                    Thread.Sleep(TimeSpan.FromSeconds(ahead));
                }
            }

            Volatile.Write(ref _seconds, clock.Elapsed.TotalSeconds);
            _sender.OnCompleted();
        }

        public void Dispose()
        {
            if (_sender is null)
            {
                _socket.Dispose();
            }
            else
            {
                _sender.Dispose();
            }
        }
    }
}

/// <summary>One <c>bench soak --json</c> sample line: seconds since the start (rounded to 0.1), serve's resident set, events sent and counted, decisions.</summary>
internal sealed record SoakSampleJson(
    [property: JsonPropertyName("t_s")] double TS,
    long RssBytes,
    long EventsSent,
    long EventsCounted,
    long Decisions);

/// <summary>The <c>bench soak --json</c> closing line: <c>{"summary":{...}}</c>.</summary>
internal sealed record SoakSummaryLine(SoakSummaryJson Summary);

/// <summary>
/// The soak's outcome: rates, counts, RSS baseline and last-quarter peak (bytes), growth in percent
/// (rounded to 0.01), every RSS sample, serve's cumulative decision-latency histogram (bucket upper
/// bound in ms, "inf" for the last), the p99 bound read from it (omitted without decisions), and the verdicts.
/// </summary>
internal sealed record SoakSummaryJson(
    string Benchmark,
    int Streams,
    long RatePerStream,
    double AchievedRatePerStream,
    double Seconds,
    long EventsSent,
    long EventsCounted,
    long Decisions,
    long RssBaselineBytes,
    long RssPeakLastQuarterBytes,
    double RssGrowthPercent,
    double MaxGrowthPercent,
    IReadOnlyList<long> RssBytes,
    IReadOnlyDictionary<string, long> DecisionsWithinMs,
    [property: JsonPropertyName("latency_p99_ms_at_most"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? LatencyP99MsAtMost,
    bool EventsMatch,
    bool Passed);
