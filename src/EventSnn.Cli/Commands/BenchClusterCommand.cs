using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using EventSnn.Cluster;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;
using EventSnn.Snn.Classification;
using NATS.Client.JetStream;

namespace EventSnn.Cli.Commands;

/// <summary>
/// `eventsnn bench cluster`: throughput and decision latency of a running deployment. S streams
/// each publish a labelled recording R times back to back (time shifted, so each stream is one
/// continuous recording) as fast as possible; the command then waits for every labelled sample's
/// decision and reports events/s end to end, the in-grain decision latency, and each stream's
/// accuracy over the first and the second half of its decisions (online learning).
/// </summary>
internal sealed class BenchClusterCommand : Command
{
    public override string Name => "bench cluster";

    public override string Summary => "throughput, decision latency and online accuracy of a running cluster: S streams publish a labelled recording R times";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        new("streams", "n", "streams published at once (default 8)"),
        new("repeats", "n", "times each stream publishes the recording, back to back (default 3)"),
        new("recording", "file", "labelled DVS recording (default recordings/gestures/user01_synthetic.aedat4)"),
        new("labels", "csv", "its label intervals (default: the recording's *_labels.csv)"),
        new("timeout", "s", "give up when no decision came for this long (default 120)"),
        new("in-process", null, "the baseline: the same streams through the same chain and classifiers in this one process (no NATS, Orleans or Redis)"),
        new("checkpoint", "path", "--in-process: the model the streams start from (default: a fresh model, as a silo's)"),
        ClusterArgs.NatsSpec,
        new("json", null, "print the summary as one JSON object"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        args.AtMostPositionals(0, "eventsnn bench cluster [--streams N] [--repeats R] [--recording FILE --labels CSV] [--nats URL]");
        int streams = args.GetPositiveInt("streams", 8);
        int repeats = args.GetPositiveInt("repeats", 3);
        if (streams > 1000 || repeats > 1000)
        {
            throw new UsageException("options --streams and --repeats: at most 1000 each");
        }

        double timeout = args.GetSeconds("timeout", 120);
        string recording = args.Get("recording") ?? Path.Combine("recordings", "gestures", "user01_synthetic.aedat4");
        string labelsPath = args.Get("labels") ?? Path.Combine(Path.GetDirectoryName(recording) ?? ".", Path.GetFileNameWithoutExtension(recording) + "_labels.csv");
        if (!File.Exists(recording))
        {
            throw new FileNotFoundException($"{recording}: file not found (give --recording)", recording);
        }

        if (!File.Exists(labelsPath))
        {
            throw new FileNotFoundException($"{labelsPath}: file not found (give --labels)", labelsPath);
        }

        string url = ClusterArgs.Nats(args);
        List<LabelSegment> labels = LabelCsv.Read(labelsPath);
        SensorGeometry geometry;
        using var all = new EventBatch(1 << 22);
        using (IDvsEventReader reader = EventReaders.OpenDvs(recording, new ReaderOptions()))
        {
            geometry = reader.Geometry;
            using var batch = new EventBatch();
            while (reader.Read(batch))
            {
                if (batch.Count > all.Remaining)
                {
                    throw new UsageException($"{recording}: more than {all.Capacity} events; use a shorter recording");
                }

                all.Append(batch, 0, batch.Count);
            }
        }

        if (all.Count == 0 || labels.Count == 0)
        {
            throw new UsageException($"{recording}: needs events and labels");
        }

        long span = all.T[all.Count - 1] - all.T[0] + 1_000_000;
        long t0 = all.T[0];
        int decidable = labels.Count(l => l.EndUs <= all.T[all.Count - 1]);
        string run = Guid.NewGuid().ToString("N")[..8];
        string[] names = [.. Enumerable.Range(0, streams).Select(k => $"bench-{run}-{k}")];
        long expected = (long)decidable * repeats * streams;
        if (args.Has("in-process"))
        {
            return InProcess(args, stdout, all, labels, geometry, streams, repeats, span, expected);
        }

        var clock = Stopwatch.StartNew();
        var result = ClusterArgs.WithNats(url, async nats =>
        {
            var js = new NatsJSContext(nats);
            await ClusterStreams.EnsureAsync(js, cancellation: args.Cancellation).ConfigureAwait(false);
            INatsJSConsumer consumer = await ClusterStreams.DecisionReaderAsync(js, null, onlyNew: true, args.Cancellation).ConfigureAwait(false);

            // publish every stream at once, as fast as NATS takes it
            Task<long>[] publishing = [.. names.Select(name => Task.Run(async () =>
            {
                using var publisher = new ClusterPublisher(js, name, geometry);
                using var shifted = new EventBatch(all.Count);
                for (int r = 0; r < repeats; r++)
                {
                    long offset = r * span;
                    await publisher.PublishLabelsAsync([.. labels.Select(l => l with { StartUs = l.StartUs + offset, EndUs = l.EndUs + offset })], args.Cancellation).ConfigureAwait(false);
                    shifted.Clear();
                    shifted.Append(all, 0, all.Count);
                    long[] t = shifted.T;
                    for (int i = 0; i < shifted.Count; i++)
                    {
                        t[i] += offset;
                    }

                    await publisher.PublishAsync(shifted, args.Cancellation).ConfigureAwait(false);
                }

                await publisher.CompleteAsync(args.Cancellation).ConfigureAwait(false);
                return publisher.Events;
            }))];
            long[] published = await Task.WhenAll(publishing).ConfigureAwait(false);
            double publishSeconds = clock.Elapsed.TotalSeconds;

            var latencies = new List<double>();
            var outcomes = names.ToDictionary(n => n, _ => new ClassificationTally(), StringComparer.Ordinal);
            var idle = Stopwatch.StartNew();
            double lastDecision = 0;
            while (latencies.Count < expected && idle.Elapsed.TotalSeconds < timeout && !args.Cancellation.IsCancellationRequested)
            {
                await foreach (NatsJSMsg<byte[]> msg in consumer.FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 512, Expires = TimeSpan.FromSeconds(1) }, cancellationToken: args.Cancellation).ConfigureAwait(false))
                {
                    if (StreamDecision.Parse(msg.Data) is not { } d || !outcomes.TryGetValue(d.Stream, out ClassificationTally? tally))
                    {
                        continue;
                    }

                    idle.Restart();
                    lastDecision = clock.Elapsed.TotalSeconds;
                    latencies.Add(d.LatencyMs);
                    tally.Add(d);
                }
            }

            return (Events: published.Sum(), PublishSeconds: publishSeconds, LastDecision: lastDecision, Latencies: latencies, Outcomes: outcomes);
        }, args.Cancellation);

        double P(double q) => result.Latencies.Count == 0 ? 0 : MathNet.Numerics.Statistics.Statistics.QuantileCustom(result.Latencies, q, MathNet.Numerics.Statistics.QuantileDefinition.EmpiricalInvCDF);
        double firstHalf = Mean(result.Outcomes.Values.Select(t => t.AccuracyFirstHalf));
        double secondHalf = Mean(result.Outcomes.Values.Select(t => t.AccuracySecondHalf));
        long decisions = result.Latencies.Count;
        double seconds = result.LastDecision;
        bool complete = decisions == expected;
        if (args.Has("json"))
        {
            var summary = new BenchClusterJson(
                streams,
                repeats,
                result.Events,
                decisions,
                expected,
                complete,
                Math.Round(result.PublishSeconds, 3),
                Math.Round(seconds, 3),
                seconds > 0 ? Math.Round(result.Events / seconds, 1) : 0,
                Math.Round(P(0.5), 3),
                Math.Round(P(0.99), 3),
                Math.Round(firstHalf, 4),
                Math.Round(secondHalf, 4));
            stdout.WriteLine(JsonSerializer.Serialize(new BenchClusterLine(summary), CliJsonContext.Default.BenchClusterLine));
        }
        else
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{streams} streams x {repeats}: {result.Events} events, {decisions} of {expected} decisions in {seconds:0.00} s ({(seconds > 0 ? result.Events / seconds : 0):0} events/s end to end; published in {result.PublishSeconds:0.00} s); decision latency p50 {P(0.5):0.00} ms, p99 {P(0.99):0.00} ms; accuracy first half {firstHalf:P1}, second half {secondHalf:P1}"));
        }

        return complete ? CommandRunner.Ok : CommandRunner.Failure;
    }

    /// <summary>The same streams through <see cref="LabelledStreamProcessor"/> one after the other in this process: the single-process cost of the work a silo does.</summary>
    private static int InProcess(ParsedArgs args, TextWriter stdout, EventBatch all, List<LabelSegment> labels, SensorGeometry geometry, int streams, int repeats, long span, long expected)
    {
        string? checkpoint = args.Get("checkpoint");
        if (checkpoint is not null && !File.Exists(checkpoint))
        {
            throw new FileNotFoundException($"{checkpoint}: file not found", checkpoint);
        }

        ClusterModel model = ClusterModel.Create(geometry, checkpoint);
        using var codec = new EventPacketCodec(geometry);
        using var packet = new EventBatch(EventPacketCodec.MaxEvents);
        using var shifted = new EventBatch(all.Count);
        long decisions = 0, events = 0;
        var latencies = new List<double>();
        TimeSpan cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        for (int k = 0; k < streams; k++)
        {
            using var processor = new LabelledStreamProcessor("bench-" + k, model);
            for (int r = 0; r < repeats; r++)
            {
                long offset = r * span;
                processor.AddLabels([.. labels.Select(l => l with { StartUs = l.StartUs + offset, EndUs = l.EndUs + offset })]);
                shifted.Clear();
                shifted.Append(all, 0, all.Count);
                for (int i = 0; i < shifted.Count; i++)
                {
                    shifted.T[i] += offset;
                }

                // packets encoded and decoded as on the wire, then processed
                for (int start = 0; start < shifted.Count; start += 4096)
                {
                    int count = Math.Min(4096, shifted.Count - start);
                    byte[] bytes = codec.Encode(shifted, start, count);
                    packet.Clear();
                    codec.Decode(bytes, Aedat4Compression.Lz4, packet, "bench");
                    processor.Process(packet, d => latencies.Add(d.LatencyMs));
                    events += count;
                }

                _ = processor.Snapshot(); // the state a grain persists at each decision round
            }

            decisions += processor.Decisions;
        }

        double seconds = clock.Elapsed.TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        double p99 = latencies.Count == 0 ? 0 : MathNet.Numerics.Statistics.Statistics.QuantileCustom(latencies, 0.99, MathNet.Numerics.Statistics.QuantileDefinition.EmpiricalInvCDF);
        var summary = new BenchClusterInProcessJson(
            "in-process",
            streams,
            repeats,
            events,
            decisions,
            expected,
            Math.Round(seconds, 3),
            Math.Round(events / seconds, 1),
            Math.Round(cpu * 1e6 / events, 3),
            Math.Round(p99, 3));
        stdout.WriteLine(JsonSerializer.Serialize(new BenchClusterInProcessLine(summary), CliJsonContext.Default.BenchClusterInProcessLine));
        return decisions == expected ? CommandRunner.Ok : CommandRunner.Failure;
    }

    private static double Mean(IEnumerable<double> values)
    {
        double sum = 0;
        int n = 0;
        foreach (double v in values)
        {
            sum += v;
            n++;
        }

        return n == 0 ? 0 : sum / n;
    }
}

/// <summary>The <c>bench cluster --json</c> line: <c>{"summary":{...}}</c>.</summary>
internal sealed record BenchClusterLine(BenchClusterJson Summary);

/// <summary>A run against the deployment: seconds and latencies rounded to 0.001, events per second to 0.1, accuracies to 4 decimals.</summary>
internal sealed record BenchClusterJson(
    int Streams,
    int Repeats,
    long Events,
    long Decisions,
    long ExpectedDecisions,
    bool Complete,
    double PublishSeconds,
    double Seconds,
    [property: JsonPropertyName("events_per_s")] double EventsPerS,
    [property: JsonPropertyName("latency_p50_ms")] double LatencyP50Ms,
    [property: JsonPropertyName("latency_p99_ms")] double LatencyP99Ms,
    double AccuracyFirstHalf,
    double AccuracySecondHalf);

/// <summary>The <c>bench cluster --in-process --json</c> line: <c>{"summary":{...}}</c>.</summary>
internal sealed record BenchClusterInProcessLine(BenchClusterInProcessJson Summary);

/// <summary>The single-process baseline: seconds, CPU microseconds per event and latency rounded to 0.001, events per second to 0.1.</summary>
internal sealed record BenchClusterInProcessJson(
    string Mode,
    int Streams,
    int Repeats,
    long Events,
    long Decisions,
    long ExpectedDecisions,
    double Seconds,
    [property: JsonPropertyName("events_per_s")] double EventsPerS,
    double CpuUsPerEvent,
    [property: JsonPropertyName("latency_p99_ms")] double LatencyP99Ms);
