using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using EventSnn.Datasets;
using EventSnn.Events;
using EventSnn.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EventSnn.Cli.Commands;

/// <summary>
/// `eventsnn serve`: a long-running host (Microsoft.Extensions.Hosting) accepting DV AEDAT4 (TCP)
/// and jAER (UDP, TCP) streams, one model shared by the streams (a copy per learning stream), publishing decisions as JSON lines over
/// TCP and as Server-Sent Events over HTTP (with the dashboard, health and metrics). The logic lives in EventSnn.Serving.
/// </summary>
internal sealed class ServeCommand : Command
{
    public override string Name => "serve";

    public override string Summary => "long-running host: accept DV/jAER streams, classify each with its own model state, publish JSON lines (TCP) and SSE (HTTP)";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("bind", "address", "address every port binds (default 127.0.0.1, loopback)"),
        new("dv-port", "port", "DV AEDAT4 TCP input: every connection is a stream dv:peer (0 = ephemeral, off = none)"),
        new("jaer-udp-port", "port", "jAER UDP input: every sender endpoint is a stream jaer-udp:peer"),
        new("jaer-tcp-port", "port", "jAER TCP input: every connection is a stream jaer-tcp:peer"),
        new("streams", "file.json", "named streams: {\"streams\": [{\"name\": \"left\", \"kind\": \"dv|jaer-udp|jaer-tcp\", \"port\": 7001, \"labels\": \"left_labels.csv\"}]}"),
        new("learn", null, "streams with labels (class,startTime_usec,endTime_usec in stream time) learn online, each its own model copy"),
        new("publish-port", "port", "JSON-lines TCP publisher (default 7778; off = none)"),
        new("http-port", "port", "HTTP: GET /events (text/event-stream), GET /health (default 8078; off = none)"),
        new("cluster-nats", "url", "also show the streams of an EventSnn cluster: their decisions from this NATS server (eventsnn.decisions.*) as streams cluster:NAME"),
        new("bin-us", "us", "fresh model: time bin = one network step (default 5000); a checkpoint's stored preprocessing decides otherwise"),
        new("window-us", "us", "one decision per window (default 100000)"),
        new("pooling", "n", "fresh model: spatial pooling factor (default 8)"),
        new("width", "px", "sensor width of jAER streams / DV streams without a size (default: the checkpoint's, else 128)") { Hidden = true },
        new("height", "px", "sensor height (default: the checkpoint's, else 128)") { Hidden = true },
        new("chip", "layout", "jAER address layout: dvs128 (default) or davis (mirrored with --sensor)") { Aliases = ["jaer-chip"] },
        new("classes", "n", "classes of a fresh model (default 10)"),
        new("class-names", "a,b,...", "class names (default: the checkpoint's, else the class numbers 0, 1, ...)"),
        new("hidden", "n", "hidden neurons of a fresh model (default 128)"),
        new("seed", "n", "initialisation seed when no checkpoint is given (default 1)"),
        new("checkpoint", "file", "the model every stream is classified with (read once; a learning stream starts its own copy from it), with its stored preprocessing (e.g. out/run/checkpoints/gestures.ckpt); options that contradict it are errors"),
        new("save-dir", "dir", "save per-stream checkpoints here (atomically) when a stream ends and at shutdown; named streams resume from theirs"),
        new("max-streams", "n", "most streams at once (default 64)"),
        new("udp-idle-ms", "ms", "a silent UDP sender ends its stream after this (default 2000)"),
        new("idle-timeout", "s", "a DV or jAER TCP input that sends nothing this long is closed and its stream ended (default 300; 0 = never)"),
        new("max-clients", "n", "most publisher clients and most HTTP clients at once (default 64; more are refused / get 503)"),
        new("subscriber-queue", "n", "decisions queued per publisher/SSE client (default 4096)"),
        new("slow-clients", "policy", "disconnect (default) or drop-oldest when a client's queue is full"),
        new("duration", "s", "stop after this many seconds (exit 0); default: run until Ctrl-C/SIGTERM (exit 130)"),
        new("json", null, "stdout: {\"listening\": ...}, one JSON object per decision, then {\"summary\": ...}"),
        new("quiet", null, "no per-decision lines"),
    ];

    /// <summary>Stops the server like a signal would (in-process tests).</summary>
    internal CancellationToken StopToken { get; init; }

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        var notices = new List<string>();
        ServeOptions options = BuildOptions(args, notices);
        foreach (string notice in notices)
        {
            stderr.WriteLine("warning: " + notice);
        }

        bool json = args.Has("json");
        bool quiet = args.Has("quiet");
        double duration = args.GetDouble("duration", 0);
        if (!double.IsFinite(duration) || duration < 0)
        {
            throw new UsageException($"--duration {args.Get("duration")}: give seconds >= 0 (0 = until Ctrl-C / SIGTERM)");
        }

        var gate = new Lock();
        var clock = Stopwatch.StartNew();

        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<IHostLifetime, SignalLifetime>();
        builder.Services.AddEventSnnServe(options);

        // the hub's messages (streams starting and ending, bad peers) as time-stamped lines on stderr
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new LineLoggerProvider(
            message =>
            {
                lock (gate)
                {
                    stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{clock.Elapsed.TotalSeconds,8:F2} s] {message}"));
                    stderr.Flush();
                }
            },
            typeof(DecisionHub).FullName!));
        using IHost host = builder.Build();
        ServeService service = host.Services.GetRequiredService<ServeService>();
        DecisionHub hub = service.Hub;
        hub.Decided += d =>
        {
            if (quiet)
            {
                return;
            }

            string line = json ? d.ToJson() : string.Create(CultureInfo.InvariantCulture, $"{d.Stream,-24} t={d.TUs / 1e6,10:F3} s  {d.Label,-14} {d.Confidence,5:P0}  {d.LatencyMs,6:F2} ms  {d.Events,7} events");
            lock (gate)
            {
                stdout.WriteLine(line);
                stdout.Flush();
            }
        };

        using var signalled = CancellationTokenSource.CreateLinkedTokenSource(StopToken, args.Cancellation);
        try
        {
            host.StartAsync().GetAwaiter().GetResult();
        }
        catch (IOException ex)
        {
            // names the port: "TCP port 127.0.0.1:7777: Address already in use"
            throw new UsageException($"cannot listen: {ex.Message}", ex);
        }

        ServeEndpoints endpoints = service.Started.GetAwaiter().GetResult();
        lock (gate)
        {
            if (json)
            {
                stdout.WriteLine(JsonSerializer.Serialize(new ServeListeningLine(options.Bind, endpoints.Ports()), CliJsonContext.Default.ServeListeningLine));
            }
            else
            {
                stdout.WriteLine($"eventsnn serve on {options.Bind}: {string.Join(", ", endpoints.Ports().Select(p => p.Key + "=" + p.Value))}; model {options.Model.Hidden} hidden, {options.Model.Classes} classes, window {options.Model.WindowUs} us / bin {options.Model.BinUs} us{(options.Model.Checkpoint is null ? string.Empty : ", from " + options.Model.Checkpoint)}. Ctrl-C to stop.");
            }

            stdout.Flush();
        }

        bool timedOut = duration > 0
            ? !signalled.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(duration))
            : !signalled.Token.WaitHandle.WaitOne(Timeout.Infinite);
        stderr.WriteLine(timedOut ? "stopping (duration reached)" : "stopping: finishing open windows, saving checkpoints, flushing");
        host.StopAsync().GetAwaiter().GetResult();

        StreamStatus[] streams = [.. hub.EndedStreams, .. hub.ActiveStreams];
        lock (gate)
        {
            if (json)
            {
                var perStream = new ServeStreamJson[streams.Length];
                for (int i = 0; i < streams.Length; i++)
                {
                    StreamStatus s = streams[i];
                    (long labelled, long correct) = s.Tally.Counts; // one read: never more correct than labelled
                    perStream[i] = new ServeStreamJson(s.Id, s.Events, s.Decisions, labelled, correct, labelled == 0 ? null : correct / (double)labelled, s.Error, s.Checkpoint);
                }

                var summary = new ServeSummaryJson(streams.Length, streams.Sum(s => s.Events), hub.Published, Math.Round(clock.Elapsed.TotalSeconds, 3), !timedOut, perStream);
                stdout.WriteLine(JsonSerializer.Serialize(new ServeSummaryLine(summary), CliJsonContext.Default.ServeSummaryLine));
            }
            else
            {
                stdout.WriteLine($"served {streams.Length} stream(s), {streams.Sum(s => s.Events)} events, {hub.Published} decisions in {clock.Elapsed.TotalSeconds:F1} s");
                foreach (StreamStatus s in streams)
                {
                    stdout.WriteLine($"  {s.Id,-28} {s.Events,10} events {s.Decisions,6} decisions{(s.Accuracy is { } a ? string.Create(CultureInfo.InvariantCulture, $", accuracy {a:P1} of {s.Labelled} labelled") : string.Empty)}{(s.Checkpoint is null ? string.Empty : "  -> " + s.Checkpoint)}{(s.Error is null ? string.Empty : "  (" + s.Error + ")")}");
                }
            }

            stdout.Flush();
        }

        return timedOut ? CommandRunner.Ok : 130;
    }

    internal static ServeOptions BuildOptions(ParsedArgs args) => BuildOptions(args, null);

    private static long PositiveLong(ParsedArgs args, string name, long fallback)
    {
        long value = args.GetLong(name, fallback);
        return value > 0 ? value : throw new UsageException($"--{name} {value}: must be positive");
    }

    /// <summary>The server's options; <paramref name="notices"/> receives what the user should know (a checkpoint without a preprocessing description).</summary>
    internal static ServeOptions BuildOptions(ParsedArgs args, List<string>? notices)
    {
        var listeners = new List<ServeListener>();
        bool anyInput = false;
        void Input(string option, ServeInputKind kind, int fallback)
        {
            string? v = args.Get(option);
            anyInput |= v is not null;
            if (v is "off")
            {
                return;
            }

            int port = v is null ? fallback : Port(option, v);
            if (port >= 0)
            {
                listeners.Add(new ServeListener(kind, port));
            }
        }

        bool explicitInputs = args.Has("dv-port") || args.Has("jaer-udp-port") || args.Has("jaer-tcp-port") || args.Has("streams");
        Input("dv-port", ServeInputKind.Dv, explicitInputs ? -1 : 7777);
        Input("jaer-udp-port", ServeInputKind.JaerUdp, explicitInputs ? -1 : 8991);
        Input("jaer-tcp-port", ServeInputKind.JaerTcp, explicitInputs ? -1 : 8990);
        if (args.Get("streams") is { } file)
        {
            listeners.AddRange(ReadStreams(file));
        }

        if (listeners.Count == 0 && args.Get("cluster-nats") is null)
        {
            throw new UsageException(anyInput ? "every input is off: give --dv-port, --jaer-udp-port, --jaer-tcp-port, --streams or --cluster-nats" : "no input");
        }

        string? checkpointPath = args.Get("checkpoint");
        CheckpointInput? checkpoint = checkpointPath is null ? null : CheckpointInput.Read(checkpointPath);
        Transforms.Preprocessing? stored = checkpoint?.Stored;
        int classes = args.GetInt("classes", checkpoint?.Data.Config.Readout.Size ?? 10);
        int hidden = args.GetInt("hidden", checkpoint is { Data.Config.Layers.Count: 1 } ? checkpoint.Data.Config.Layers[0].Size : 128);
        int width = args.GetInt("width", stored is { Input: Transforms.InputKind.Dvs } ? stored.Width : 128);
        int height = args.GetInt("height", stored is { Input: Transforms.InputKind.Dvs } ? stored.Height : 128);
        long binUs = args.GetLong("bin-us", stored is { Binning: Transforms.BinningKind.Time } ? stored.BinUs : 5_000);
        int pooling = args.GetInt("pooling", stored?.Pooling ?? 8);
        if (checkpoint is not null)
        {
            checkpoint.CheckOption(args, "classes", "classes", checkpoint.Data.Config.Readout.Size);
            if (checkpoint.Data.Config.Layers.Count == 1)
            {
                checkpoint.CheckOption(args, "hidden", "hidden neurons", checkpoint.Data.Config.Layers[0].Size);
            }

            if (stored is not null)
            {
                if (stored.Input != Transforms.InputKind.Dvs)
                {
                    throw new UsageException($"--checkpoint {checkpoint.Path}: its preprocessing is for {Transforms.PreprocessingNames.Name(stored.Input)} input ({stored.Describe()}); serve classifies DVS streams");
                }

                checkpoint.CheckOption(args, "pooling", "pooling", stored.Pooling);
                checkpoint.CheckOption(args, "width", "sensor width", stored.Width);
                checkpoint.CheckOption(args, "height", "sensor height", stored.Height);
                if (stored.Binning == Transforms.BinningKind.Time)
                {
                    checkpoint.CheckOption(args, "bin-us", "bin_us", stored.BinUs);
                }
                else if (args.Has("bin-us"))
                {
                    throw new UsageException($"--bin-us {args.Get("bin-us")} contradicts the checkpoint {checkpoint.Path}: its binning = {Transforms.PreprocessingNames.Name(stored.Binning)} (no bin_us)");
                }
            }
        }

        IReadOnlyList<string> names = args.Get("class-names") is { } list
            ? list.Split(',', StringSplitOptions.TrimEntries)
            : checkpoint?.Classes is { } storedNames && storedNames.Count == classes ? storedNames
            : [];
        if (checkpoint is not null && args.Has("class-names") && names.Count != classes)
        {
            throw new UsageException($"--class-names gives {names.Count} names; the checkpoint {checkpoint.Path} has {classes} classes");
        }

        var model = new WindowClassifierOptions
        {
            BinUs = binUs,
            WindowUs = args.GetLong("window-us", 100_000),
            Pooling = pooling,
            Classes = classes,
            ClassNames = names,
            Hidden = hidden,
            Seed = args.GetLong("seed", 1),
            Checkpoint = checkpoint is null ? null : Path.GetFullPath(checkpoint.Path),
        };
        int steps = stored?.StepsPerSample(model.WindowUs) ?? model.StepsPerWindow;
        model = model with { Chunks = Math.Clamp(5, 1, Math.Max(1, steps)) };
        if (width is < 1 or > 65535 || height is < 1 or > 65535)
        {
            throw new UsageException("--sensor must be within 1..65535 x 1..65535");
        }

        var options = new ServeOptions
        {
            Bind = args.Get("bind") ?? "127.0.0.1",
            Listeners = listeners,
            PublishPort = OptionalPort(args, "publish-port", 7778),
            HttpPort = OptionalPort(args, "http-port", 8078),
            ClusterNats = ClusterArgs.NatsUrl(args, "cluster-nats"),
            Model = model,
            DefaultGeometry = new SensorGeometry(width, height),
            Chip = args.Get("chip") switch
            {
                null or "dvs128" => EventSnn.IO.JaerChip.Dvs128,
                "davis" => EventSnn.IO.JaerChip.Davis,
                string other => throw new UsageException($"--chip {other}: use dvs128 or davis"),
            },
            SaveDirectory = args.Get("save-dir") is { } dir ? Path.GetFullPath(dir) : null,
            MaxStreams = args.GetInt("max-streams", 64),
            UdpIdleTimeout = TimeSpan.FromMilliseconds(PositiveLong(args, "udp-idle-ms", 2000)),
            InputIdleTimeout = args.GetDouble("idle-timeout", 300) switch
            {
                0 => Timeout.InfiniteTimeSpan,
                double t when double.IsFinite(t) && t > 0 && t <= 86_400 => TimeSpan.FromSeconds(t),
                double t => throw new UsageException($"--idle-timeout {t.ToString(CultureInfo.InvariantCulture)}: give seconds in (0, 86400], or 0 for never"),
            },
            SubscriberQueue = args.GetInt("subscriber-queue", 4096),
            MaxClients = args.GetInt("max-clients", 64),
            Learn = args.Has("learn"),
            SlowSubscribers = args.Get("slow-clients") switch
            {
                null or "disconnect" => SlowSubscriberPolicy.Disconnect,
                "drop-oldest" => SlowSubscriberPolicy.DropOldest,
                string other => throw new UsageException($"--slow-clients {other}: use disconnect or drop-oldest"),
            },
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            // name the command-line option behind the setting
            string? option = ex.ParamName switch
            {
                nameof(WindowClassifierOptions.WindowUs) => "--window-us",
                nameof(WindowClassifierOptions.BinUs) => "--bin-us",
                nameof(WindowClassifierOptions.Pooling) => "--pooling",
                nameof(WindowClassifierOptions.Classes) => "--classes / --hidden",
                nameof(ServeOptions.MaxStreams) => "--max-streams / --subscriber-queue / --max-clients",
                nameof(ServeOptions.SaveDirectory) => "--save-dir",
                nameof(ServeOptions.InputIdleTimeout) => "--idle-timeout",
                _ => null,
            };
            throw new UsageException((option is null ? string.Empty : option + ": ") + CommandRunner.UserMessage(ex), ex);
        }

        if (model.Checkpoint is not null)
        {
            WindowClassifier check;
            try
            {
                // fail at start when the checkpoint does not fit the model of a --sensor WxH stream
                check = new WindowClassifier("check", options.DefaultGeometry, model);
            }
            catch (EventSnn.Snn.CheckpointException ex)
            {
                throw new UsageException($"--checkpoint: {ex.Message} (match --pooling, --sensor)", ex);
            }
            catch (Transforms.PreprocessingException ex)
            {
                throw new UsageException($"--checkpoint {model.Checkpoint}: {ex.Message} (match --sensor)", ex);
            }

            if (!check.PreprocessingStored)
            {
                notices?.Add(EventSnn.Snn.ModelMetadata.MissingNotice(checkpoint!.Data, check.Preprocessing));
            }
        }

        if (!System.Net.IPAddress.TryParse(options.Bind, out _) && options.Bind != "localhost")
        {
            throw new UsageException($"--bind {options.Bind}: not an IP address");
        }

        return options;
    }

    private static int? OptionalPort(ParsedArgs args, string option, int fallback) =>
        args.Get(option) switch
        {
            null => fallback,
            "off" => null,
            string v => Port(option, v),
        };

    private static int Port(string option, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port <= 65535
            ? port
            : throw new UsageException($"--{option} {value}: not a port (0..65535, or off)");

    private static List<ServeListener> ReadStreams(string file)
    {
        if (!File.Exists(file))
        {
            throw new UsageException($"--streams {file}: file not found");
        }

        var result = new List<ServeListener>();
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(file));
            if (!doc.RootElement.TryGetProperty("streams", out JsonElement streams) || streams.ValueKind != JsonValueKind.Array)
            {
                throw new UsageException($"{file}: expected {{\"streams\": [...]}}");
            }

            int i = 0;
            foreach (JsonElement s in streams.EnumerateArray())
            {
                string where = $"{file}: streams[{i++}]";
                string name = s.TryGetProperty("name", out JsonElement n) && n.ValueKind == JsonValueKind.String && n.GetString() is { Length: > 0 } nn ? nn : throw new UsageException($"{where}.name: missing");
                ServeInputKind kind = (s.TryGetProperty("kind", out JsonElement k) ? k.GetString() : null) switch
                {
                    "dv" => ServeInputKind.Dv,
                    "jaer-udp" => ServeInputKind.JaerUdp,
                    "jaer-tcp" => ServeInputKind.JaerTcp,
                    var other => throw new UsageException($"{where}.kind: '{other}' is not dv, jaer-udp or jaer-tcp"),
                };
                int port = s.TryGetProperty("port", out JsonElement p) && p.TryGetInt32(out int pv) && pv is >= 0 and <= 65535 ? pv : throw new UsageException($"{where}.port: missing or not 0..65535");
                string? labels = null;
                if (s.TryGetProperty("labels", out JsonElement lab))
                {
                    // relative to the streams file
                    labels = Path.GetFullPath(lab.GetString() ?? throw new UsageException($"{where}.labels: not a path"), Path.GetDirectoryName(Path.GetFullPath(file))!);
                    if (!File.Exists(labels))
                    {
                        throw new UsageException($"{where}.labels: {labels} not found");
                    }
                }

                int labelBase = s.TryGetProperty("label_base", out JsonElement lb) && lb.TryGetInt32(out int lbv) ? lbv : 1;
                result.Add(new ServeListener(kind, port, name) { Labels = labels, LabelBase = labelBase });
            }
        }
        catch (JsonException ex)
        {
            throw new UsageException($"{file}: {ex.Message}", ex);
        }

        return result;
    }

    /// <summary>Host lifetime that leaves signals to the command (which saves and exits 130).</summary>
    private sealed class SignalLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
