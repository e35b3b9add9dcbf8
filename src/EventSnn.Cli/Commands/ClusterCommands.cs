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
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Orleans.Runtime;

namespace EventSnn.Cli.Commands;

/// <summary>Option checks shared by the cluster commands.</summary>
internal static class ClusterArgs
{
    public static string Nats(ParsedArgs args) => NatsUrl(args, "nats") ?? "nats://127.0.0.1:4222";

    /// <summary>The NATS URL of option <paramref name="option"/>, or null when it is not given.</summary>
    public static string? NatsUrl(ParsedArgs args, string option)
    {
        string? url = args.Get(option);
        return url is null || (Uri.TryCreate(url, UriKind.Absolute, out Uri? u) && u.Scheme is "nats" or "tls" && u.Port is > 0 and <= 65535)
            ? url
            : throw new UsageException($"option --{option}: '{url}' is not nats://host:port");
    }

    public static string Redis(ParsedArgs args)
    {
        string endpoint = args.Get("redis") ?? "127.0.0.1:6379";
        int colon = endpoint.LastIndexOf(':');
        return colon > 0 && int.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and <= 65535
            ? endpoint
            : throw new UsageException($"option --redis: '{endpoint}' is not host:port");
    }

    public static int Port(ParsedArgs args, string name, int fallback)
    {
        int p = args.GetInt(name, fallback);
        return p is > 0 and <= 65535 ? p : throw new UsageException($"option --{name}: {p} is not a port (1-65535)");
    }

    public static string? Stream(ParsedArgs args, bool required)
    {
        string? name = args.Get("stream");
        if (name is null)
        {
            return required ? throw new UsageException("option --stream: required (the sensor stream's name)") : null;
        }

        return ClusterNames.IsValid(name) ? name : throw new UsageException($"option --stream: '{name}' must be 1-64 letters, digits, '_' or '-'");
    }

    public static readonly OptionSpec NatsSpec = new("nats", "url", "NATS server with JetStream (default nats://127.0.0.1:4222)");
    public static readonly OptionSpec RedisSpec = new("redis", "host:port", "Redis holding membership and grain state (default 127.0.0.1:6379)");
    public static readonly OptionSpec ClusterIdSpec = new("cluster-id", "id", "Orleans cluster id shared by a deployment's silos and clients (default eventsnn)");

    public static string ClusterId(ParsedArgs args)
    {
        string id = args.Get("cluster-id") ?? ClusterNames.ClusterId;
        return ClusterNames.IsValid(id) ? id : throw new UsageException($"option --cluster-id: '{id}' must be 1-64 letters, digits, '_' or '-'");
    }

    /// <summary>Runs <paramref name="work"/>, turning an unreachable NATS into one clear line.</summary>
    public static T WithNats<T>(string url, Func<NatsConnection, Task<T>> work, CancellationToken cancellation)
    {
        var opts = new NatsOpts { Url = url, Name = "eventsnn-cli", RequestTimeout = TimeSpan.FromSeconds(10), ConnectTimeout = TimeSpan.FromSeconds(5) };
        NatsConnection nats = new(opts);
        try
        {
            try
            {
                nats.ConnectAsync().AsTask().WaitAsync(cancellation).GetAwaiter().GetResult();
            }
            catch (NatsException ex)
            {
                throw new ClusterUnavailableException($"NATS at {url}: cannot connect ({ex.Message})");
            }

            return work(nats).GetAwaiter().GetResult();
        }
        finally
        {
            nats.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}

/// <summary>A service of the deployment (NATS, Redis, the silos) cannot be reached.</summary>
internal sealed class ClusterUnavailableException : Exception
{
    public ClusterUnavailableException(string message)
        : base(message)
    {
    }

    public ClusterUnavailableException()
    {
    }

    public ClusterUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>`eventsnn cluster silo`: one Orleans silo of the deployment (until Ctrl-C / SIGTERM).</summary>
internal sealed class ClusterSiloCommand : Command
{
    public override string Name => "cluster silo";

    public override string Summary => "run a silo: stream grains that consume JetStream, classify and learn, with state in Redis (until Ctrl-C)";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        ClusterArgs.RedisSpec,
        ClusterArgs.NatsSpec,
        new("silo-port", "port", "silo-to-silo port (default 11111)"),
        new("gateway-port", "port", "client gateway port (default 30000)"),
        new("address", "ip", "address other silos and clients reach this one at (default 127.0.0.1)"),
        ClusterArgs.ClusterIdSpec,
        new("checkpoint", "path", "model every new stream starts from (default: a fresh model)"),
        new("hidden", "n", "fresh model: recurrent neurons (default 128)"),
        new("classes", "n", "fresh model: classes (default 10)"),
        new("seed", "n", "fresh model: initialisation seed (default 1)"),
        new("label-base", "n", "number of the first class in the published labels (default 1, as in DVS Gesture)"),
        new("window-us", "us", "a stream without labels is decided in windows of this length (default 1000000; 0 = not decided)"),
        new("duration", "s", "stop after this many seconds (default: until Ctrl-C)"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        args.AtMostPositionals(0, "eventsnn cluster silo [options]");
        string? checkpoint = args.Get("checkpoint");
        if (checkpoint is not null && !File.Exists(checkpoint))
        {
            throw new FileNotFoundException($"{checkpoint}: file not found", checkpoint);
        }

        string address = args.Get("address") ?? "127.0.0.1";
        if (!System.Net.IPAddress.TryParse(address, out _))
        {
            throw new UsageException($"option --address: '{address}' is not an IP address");
        }

        var options = new ClusterSiloOptions
        {
            Redis = ClusterArgs.Redis(args),
            Nats = ClusterArgs.Nats(args),
            SiloPort = ClusterArgs.Port(args, "silo-port", 11111),
            GatewayPort = ClusterArgs.Port(args, "gateway-port", 30000),
            AdvertisedAddress = address,
            ClusterId = ClusterArgs.ClusterId(args),
            Checkpoint = checkpoint is null ? null : Path.GetFullPath(checkpoint),
            Hidden = Range(args, "hidden", 128, 1, 4096),
            Classes = Range(args, "classes", 10, 2, 1000),
            Seed = args.GetInt("seed", 1),
            LabelBase = Range(args, "label-base", 1, 0, 1000),
            WindowUs = WindowLength(args),
        };
        if (options.SiloPort == options.GatewayPort)
        {
            throw new UsageException($"options --silo-port and --gateway-port: both are {options.SiloPort}; give two ports");
        }

        double duration = args.GetSeconds("duration", 0);
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("EventSnn", LogLevel.Information);
        builder.Logging.AddFilter("Orleans.Runtime.Silo", LogLevel.Error); // start-up notes (ServerGC) are not for users
        builder.AddEventSnnSilo(options);
        using IHost host = builder.Build();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(args.Cancellation);
        if (duration > 0)
        {
            stop.CancelAfter(TimeSpan.FromSeconds(duration));
        }

        try
        {
            host.StartAsync(stop.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return CommandRunner.Interrupted;
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException || ex.InnerException is System.Net.Sockets.SocketException)
        {
            throw new ClusterUnavailableException($"silo on ports {options.SiloPort}/{options.GatewayPort}: {ex.Message}");
        }

        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cluster silo: {options.AdvertisedAddress}:{options.SiloPort} (gateway {options.GatewayPort}), redis {options.Redis}, nats {options.Nats}, model {options.Checkpoint ?? "fresh"}; Ctrl-C to stop"));
        stderr.Flush();
        try
        {
            Task.Delay(Timeout.Infinite, stop.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
        }

        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        host.StopAsync(grace.Token).GetAwaiter().GetResult();
        return args.Cancellation.IsCancellationRequested ? CommandRunner.Interrupted : CommandRunner.Ok;
    }

    private static long WindowLength(ParsedArgs args)
    {
        long v = args.GetLong("window-us", 1_000_000);
        return v is >= 0 and <= 3_600_000_000 ? v : throw new UsageException($"option --window-us: {v} is not in 0..3600000000");
    }

    private static int Range(ParsedArgs args, string name, int fallback, int min, int max)
    {
        int v = args.GetInt(name, fallback);
        return v >= min && v <= max ? v : throw new UsageException($"option --{name}: {v} is not in {min}..{max}");
    }
}

/// <summary>`eventsnn cluster publish`: a recording (and its labels) into JetStream as one sensor stream.</summary>
internal sealed class ClusterPublishCommand : Command
{
    public override string Name => "cluster publish";

    public override string Summary => "publish a recording's events (AEDAT4 packets) and its label intervals to JetStream as one sensor stream";

    public override string Arguments => "<recording>";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        new("stream", "name", "the sensor stream's name (letters, digits, '_', '-'); required"),
        new("labels", "csv", "label intervals (class,startTime_usec,endTime_usec), published before the events"),
        new("speed", "x", "1 = real time, 2 = twice as fast, 0 = as fast as possible (default 0)"),
        new("packet-events", "n", "events per packet (default 4096, at most 65536)"),
        ClusterArgs.NatsSpec,
        new("json", null, "print the summary as one JSON object"),
        .. ReaderOptionParsing.Specs,
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string path = args.Positional(0, "<recording>");
        args.AtMostPositionals(1, "eventsnn cluster publish <recording> --stream NAME");
        string stream = ClusterArgs.Stream(args, required: true)!;
        string url = ClusterArgs.Nats(args);
        double speed = args.GetDouble("speed", 0);
        if (!(speed >= 0 && double.IsFinite(speed)))
        {
            throw new UsageException($"option --speed: must be 0 (as fast as possible) or a positive factor, not {args.Get("speed")}");
        }

        int perPacket = args.GetPositiveInt("packet-events", 4096);
        if (perPacket > EventPacketCodec.MaxEvents)
        {
            throw new UsageException($"option --packet-events: {perPacket} is more than {EventPacketCodec.MaxEvents}");
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: file not found", path);
        }

        string? labelsPath = args.Get("labels");
        List<LabelSegment> labels = [];
        if (labelsPath is not null)
        {
            if (!File.Exists(labelsPath))
            {
                throw new FileNotFoundException($"{labelsPath}: file not found", labelsPath);
            }

            labels = LabelCsv.Read(labelsPath);
        }

        ReaderOptions readerOptions = ReaderOptionParsing.From(args);
        using IDvsEventReader reader = EventReaders.OpenDvs(path, readerOptions);
        if (!reader.Geometry.IsKnown)
        {
            throw new UsageException($"{path}: the recording does not say its sensor size (convert it to AEDAT4 with the size first)");
        }

        var clock = Stopwatch.StartNew();
        (long events, long packets, long bytes) = ClusterArgs.WithNats(url, async nats =>
        {
            var js = new NatsJSContext(nats);
            await ClusterStreams.EnsureAsync(js, cancellation: args.Cancellation).ConfigureAwait(false);
            using var publisher = new ClusterPublisher(js, stream, reader.Geometry, perPacket);
            if (labels.Count > 0)
            {
                await publisher.PublishLabelsAsync(labels, args.Cancellation).ConfigureAwait(false);
            }

            using var batch = new EventBatch(1 << 16);
            long t0 = long.MinValue;
            while (!args.Cancellation.IsCancellationRequested && reader.Read(batch))
            {
                for (int start = 0; start < batch.Count; start += perPacket)
                {
                    int count = Math.Min(perPacket, batch.Count - start);
                    t0 = t0 == long.MinValue ? batch.T[start] : t0;
                    if (speed > 0)
                    {
                        double wait = ((batch.T[start + count - 1] - t0) / 1e6 / speed) - clock.Elapsed.TotalSeconds;
                        if (wait > 0)
                        {
                            await Task.Delay(TimeSpan.FromSeconds(wait), args.Cancellation).ConfigureAwait(false);
                        }
                    }

                    await publisher.PublishPacketAsync(batch, start, count, args.Cancellation).ConfigureAwait(false);
                }
            }

            if (!args.Cancellation.IsCancellationRequested)
            {
                await publisher.CompleteAsync(args.Cancellation).ConfigureAwait(false);
            }

            return (publisher.Events, publisher.Packets, publisher.Bytes);
        }, args.Cancellation);

        double seconds = clock.Elapsed.TotalSeconds;
        bool interrupted = args.Cancellation.IsCancellationRequested;
        if (args.Has("json"))
        {
            var line = new ClusterPublishJson(path, stream, events, packets, bytes, labels.Count, Math.Round(seconds, 3), seconds > 0 ? Math.Round(events / seconds, 1) : 0, interrupted);
            stdout.WriteLine(JsonSerializer.Serialize(line, CliJsonContext.Default.ClusterPublishJson));
        }
        else
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"published {events} events in {packets} packets ({bytes} bytes) and {labels.Count} labels to {ClusterNames.Events(stream)} in {seconds:0.000} s{(interrupted ? " (interrupted)" : string.Empty)}"));
        }

        return interrupted ? CommandRunner.Interrupted : CommandRunner.Ok;
    }
}

/// <summary>`eventsnn cluster watch`: print the deployment's decisions.</summary>
internal sealed class ClusterWatchCommand : Command
{
    public override string Name => "cluster watch";

    public override string Summary => "print decisions from JetStream (all so far, then live), one JSON object per decision with --json";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        new("stream", "name", "only this sensor stream (default: every stream)"),
        new("count", "n", "stop after this many decisions"),
        new("timeout", "s", "stop when no decision came for this many seconds (default: never)"),
        ClusterArgs.NatsSpec,
        new("json", null, "one JSON object per decision, then {\"summary\": ...}"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        args.AtMostPositionals(0, "eventsnn cluster watch [--stream NAME] [--count N] [--timeout S] [--json]");
        string? stream = ClusterArgs.Stream(args, required: false);
        long count = args.Get("count") is null ? long.MaxValue : args.GetPositiveLong("count", 1);
        double timeout = args.GetSeconds("timeout", 0);
        string url = ClusterArgs.Nats(args);
        bool json = args.Has("json");
        var tally = new ClassificationTally(keepOutcomes: false);
        (long seen, bool timedOut) = ClusterArgs.WithNats(url, async nats =>
        {
            var js = new NatsJSContext(nats);
            await ClusterStreams.EnsureAsync(js, cancellation: args.Cancellation).ConfigureAwait(false);
            INatsJSConsumer consumer = await ClusterStreams.DecisionReaderAsync(js, stream, onlyNew: false, args.Cancellation).ConfigureAwait(false);
            long n = 0;
            var idle = Stopwatch.StartNew();
            while (n < count && !args.Cancellation.IsCancellationRequested)
            {
                if (timeout > 0 && idle.Elapsed.TotalSeconds >= timeout)
                {
                    return (n, true);
                }

                await foreach (NatsJSMsg<byte[]> msg in consumer.FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 256, Expires = TimeSpan.FromSeconds(1) }, cancellationToken: args.Cancellation).ConfigureAwait(false))
                {
                    idle.Restart();
                    string line = Encoding.UTF8.GetString(msg.Data ?? []);
                    if (StreamDecision.Parse(msg.Data) is { } d)
                    {
                        tally.Add(d);
                        if (!json)
                        {
                            line = string.Create(CultureInfo.InvariantCulture, $"{d.Stream} #{d.Index} t={d.TUs} us: {d.Label} ({d.Confidence:0.00}){(d.Truth is null ? string.Empty : " truth " + d.Truth)} [{d.Silo}]");
                        }
                    }

                    stdout.WriteLine(line);
                    n++;
                    if (n >= count)
                    {
                        break;
                    }
                }
            }

            return (n, false);
        }, args.Cancellation);

        (long labelled, long correct) = tally.Counts;
        if (json)
        {
            var line = new ClusterWatchSummaryLine(new ClusterWatchSummaryJson(seen, labelled, correct, ClusterStreamJson.AccuracyOf(correct, labelled), timedOut));
            stdout.WriteLine(JsonSerializer.Serialize(line, CliJsonContext.Default.ClusterWatchSummaryLine));
        }
        else
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{seen} decisions, {correct} of {labelled} labelled right{(timedOut ? " (timed out)" : string.Empty)}"));
        }

        return args.Cancellation.IsCancellationRequested ? CommandRunner.Interrupted : CommandRunner.Ok;
    }
}

/// <summary>`eventsnn cluster status`: the silos and the active stream grains.</summary>
internal sealed class ClusterStatusCommand : Command
{
    public override string Name => "cluster status";

    public override string Summary => "list the live silos and the active stream grains (decisions, accuracy, where they run)";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        ClusterArgs.RedisSpec,
        ClusterArgs.ClusterIdSpec,
        new("json", null, "print one JSON object"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        args.AtMostPositionals(0, "eventsnn cluster status [--redis HOST:PORT] [--json]");
        string redis = ClusterArgs.Redis(args);
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.AddEventSnnClient(redis, ClusterArgs.ClusterId(args));
        using IHost host = builder.Build();
        try
        {
            host.StartAsync(args.Cancellation).WaitAsync(TimeSpan.FromSeconds(30), args.Cancellation).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new ClusterUnavailableException($"no silo reachable through Redis at {redis}: {ex.Message}");
        }

        IClusterClient client = host.Services.GetRequiredService<IClusterClient>();
        IManagementGrain management = client.GetGrain<IManagementGrain>(0);
        Dictionary<SiloAddress, SiloStatus> silos = management.GetHosts(onlyActive: true).GetAwaiter().GetResult();
        DetailedGrainStatistic[] grains = management.GetDetailedGrainStatistics().GetAwaiter().GetResult();
        var streams = new List<StreamStatus>();
        foreach (DetailedGrainStatistic g in grains)
        {
            if (g.GrainType.Contains(nameof(StreamGrain), StringComparison.Ordinal))
            {
                streams.Add(client.GetGrain<IStreamGrain>(g.GrainId.Key.ToString()!).Ensure().GetAwaiter().GetResult());
            }
        }

        streams.Sort((a, b) => string.CompareOrdinal(a.Stream, b.Stream));
        if (args.Has("json"))
        {
            var siloRows = new List<ClusterSiloJson>(silos.Count);
            foreach ((SiloAddress address, SiloStatus status) in silos)
            {
                siloRows.Add(new ClusterSiloJson(address.ToString(), status.ToString()));
            }

            var streamRows = new List<ClusterStreamJson>(streams.Count);
            foreach (StreamStatus s in streams)
            {
                streamRows.Add(new ClusterStreamJson(s.Stream, s.Silo, s.Decisions, s.Labelled, s.Correct, ClusterStreamJson.AccuracyOf(s.Correct, s.Labelled), s.Events, s.ResumeSequence, s.Restored, s.Error));
            }

            stdout.WriteLine(JsonSerializer.Serialize(new ClusterStatusJson(siloRows, streamRows), CliJsonContext.Default.ClusterStatusJson));
        }
        else
        {
            stdout.WriteLine($"{silos.Count} silo(s):");
            foreach ((SiloAddress address, SiloStatus status) in silos)
            {
                stdout.WriteLine($"  {address} {status}");
            }

            stdout.WriteLine($"{streams.Count} stream grain(s):");
            foreach (StreamStatus s in streams)
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {s.Stream} on {s.Silo}: {s.Decisions} decisions, {s.Correct} of {s.Labelled} right, {s.Events} events{(s.Restored ? ", restored" : string.Empty)}{(s.Error is null ? string.Empty : ", last error: " + s.Error)}"));
            }
        }

        host.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        return CommandRunner.Ok;
    }
}

/// <summary>The <c>cluster publish --json</c> line: what was published to which stream, seconds (rounded to 0.001) and events per second (0.1).</summary>
internal sealed record ClusterPublishJson(
    string Recording,
    string Stream,
    long Events,
    long Packets,
    long Bytes,
    int Labels,
    double Seconds,
    [property: JsonPropertyName("events_per_s")] double EventsPerS,
    bool Interrupted);

/// <summary>The <c>cluster watch --json</c> closing line: <c>{"summary":{...}}</c>.</summary>
internal sealed record ClusterWatchSummaryLine(ClusterWatchSummaryJson Summary);

/// <summary>Decisions printed, how many were labelled and right, accuracy (rounded to 4 decimals, 0 with none labelled), and whether the wait timed out.</summary>
internal sealed record ClusterWatchSummaryJson(long Decisions, long Labelled, long Correct, double Accuracy, bool TimedOut);

/// <summary>The <c>cluster status --json</c> line: the live silos and the active stream grains.</summary>
internal sealed record ClusterStatusJson(IReadOnlyList<ClusterSiloJson> Silos, IReadOnlyList<ClusterStreamJson> Streams);

/// <summary>One silo: its address and status.</summary>
internal sealed record ClusterSiloJson(string Address, string Status);

/// <summary>One stream grain; <c>error</c> is null when it has none.</summary>
internal sealed record ClusterStreamJson(
    string Stream,
    string Silo,
    long Decisions,
    long Labelled,
    long Correct,
    double Accuracy,
    long Events,
    ulong ResumeSequence,
    bool Restored,
    string? Error)
{
    /// <summary>Correct over labelled, rounded to 4 decimals; 0 when none is labelled.</summary>
    public static double AccuracyOf(long correct, long labelled) => labelled == 0 ? 0 : Math.Round(correct / (double)labelled, 4);
}
