using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using EventSnn.Cli.Run;
using EventSnn.Snn.Classification;
using Microsoft.Extensions.Configuration;
using Spectre.Console;

namespace EventSnn.Cli.Commands;

/// <summary>
/// `eventsnn run` (and `eventsnn` alone): the main job. Replays the recordings named in
/// appsettings.json through the pipeline, learns online with FPTT and streams one decision
/// per sample; ends with a summary, PNG plots and checkpoints.
/// </summary>
internal sealed class RunCommand : Command
{
    public override string Name => "run";

    public override string Summary => "the main job: replay recordings/, learn online (FPTT unless the recipe says otherwise), stream classifications, summarise and plot";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("config", "path", "configuration file (default: ./appsettings.json, else the one beside the tool)"),
        new("json", null, "one JSON object per decision, then {\"summary\": ...}"),
        new("stream", "name", "run only this stream of Run:Streams"),
        new("passes", "n", "passes over the training recordings (Run:Passes)"),
        new("speed", "x", "replay speed, 0 = as fast as possible, 1 = real time (Run:Speed)"),
        new("out", "dir", "output folder for plots, checkpoints and decisions.jsonl (Run:Output)"),
        new("quiet", null, "no per-decision lines (summary only)"),
        new("config-overrides", null, "any --Run:Key=value overrides a configuration value (also EVENTSNN_Run__Key environment variables)"),
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        (RunSettings settings, string configPath) = LoadSettings(args);
        bool json = args.Has("json");
        bool quiet = args.Has("quiet");
        string output = settings.ResolvePath(settings.Output);
        Directory.CreateDirectory(output);

        var streams = new List<StreamRunner>();
        foreach ((string name, StreamSettings s) in settings.Streams)
        {
            if (s.Enabled && (args.Get("stream") is not { } only || only == name))
            {
                try
                {
                    streams.Add(new StreamRunner(name, s, settings));
                }
                catch (ConfigurationException ex)
                {
                    throw new UsageException($"{configPath}: {ex.Message}", ex);
                }
            }
        }

        if (streams.Count == 0)
        {
            throw new UsageException($"no enabled stream named '{args.Get("stream")}' in {configPath}");
        }

        if (settings.Resume)
        {
            foreach (StreamRunner s in streams.Where(s => File.Exists(s.CheckpointPath)))
            {
                try
                {
                    if (s.Resume() is { } notice)
                    {
                        stderr.WriteLine("warning: " + notice);
                    }
                }
                catch (ConfigurationException ex)
                {
                    throw new UsageException($"{configPath}: {ex.Message}", ex);
                }
                catch (EventSnn.Snn.CheckpointException ex)
                {
                    throw new UsageException($"Run:Resume: {ex.Message}", ex);
                }

                stderr.WriteLine($"resumed {s.Name} from {s.CheckpointPath}");
            }
        }


        var gate = new Lock();
        var clock = Stopwatch.StartNew();
        using var log = new StreamWriter(Path.Combine(output, "decisions.jsonl"), append: false);
        bool live = !json && !quiet && !Console.IsOutputRedirected && ReferenceEquals(stdout, Console.Out) && AnsiConsole.Profile.Capabilities.Interactive;
        if (!json)
        {
            stdout.WriteLine($"eventsnn run: {streams.Count} stream(s) from {settings.ResolvePath(settings.Recordings)}, {settings.Passes} pass(es) + held-out, config {configPath}");
        }

        void OnDecision(StreamDecision d)
        {
            string line = d.ToJson();
            lock (gate)
            {
                log.WriteLine(line);
                if (json)
                {
                    stdout.WriteLine(line);
                }
                else if (!quiet)
                {
                    string text = DecisionText(d, clock.Elapsed.TotalSeconds);
                    if (live)
                    {
                        AnsiConsole.MarkupLine(Markup.Escape(text));
                    }
                    else
                    {
                        stdout.WriteLine(text);
                    }
                }
            }
        }

        (StreamRunner Stream, Exception Error)? failure = null;
        if (live)
        {
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var tasks = streams.ToDictionary(s => s.Name, s => ctx.AddTask(s.Name, maxValue: Math.Max(1, s.TotalSamples)));
                    void Progress(StreamDecision d)
                    {
                        OnDecision(d);
                        StreamRunner s = streams.First(x => x.Name == d.Stream);
                        ProgressTask task = tasks[d.Stream];
                        task.Increment(1);
                        task.Description = string.Create(CultureInfo.InvariantCulture, $"{d.Stream} acc {s.Tally.Accuracy:P0}");
                    }

                    failure = RunAll(streams, Progress, args.Cancellation);
                });
        }
        else
        {
            failure = RunAll(streams, OnDecision, args.Cancellation);
        }

        if (failure is { } failed)
        {
            // one stream failed: the others stopped at a sample boundary; keep their work
            log.Flush();
            var saved = streams.Where(s => s != failed.Stream).Select(s => s.SaveCheckpoint()).ToList();
            throw new StreamFailedException(failed.Stream.Name, failed.Error, saved);
        }

        bool interrupted = args.Cancellation.IsCancellationRequested;
        var checkpoints = streams.Select(s => s.SaveCheckpoint()).ToList();
        var plots = new List<string> { RunPlots.Accuracy(output, streams) };
        foreach (StreamRunner s in streams)
        {
            if (RunPlots.Frames(output, s) is { } p)
            {
                plots.Add(p);
            }
        }

        log.Flush();
        RunSummary summary = RunSummary.From(streams, clock.Elapsed.TotalSeconds, interrupted, plots, checkpoints, Path.Combine(output, "decisions.jsonl"));
        if (json)
        {
            stdout.WriteLine(summary.ToJsonLine());
        }
        else
        {
            summary.Print(stdout, live);
        }

        return interrupted ? 130 : CommandRunner.Ok;
    }

    /// <summary>
    /// Runs every stream on its own task until all have ended. The first stream to fail cancels the
    /// others (they finish the sample in progress) and is returned with its exception; null when
    /// none failed (a Ctrl-C is not a failure).
    /// </summary>
    private static (StreamRunner Stream, Exception Error)? RunAll(List<StreamRunner> streams, Action<StreamDecision> onDecision, CancellationToken cancellation)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        (StreamRunner Stream, Exception Error)? first = null;
        var gate = new Lock();
        var tasks = new Task[streams.Count];
        for (int i = 0; i < tasks.Length; i++)
        {
            StreamRunner stream = streams[i];
            tasks[i] = Task.Run(async () =>
            {
                try
                {
                    await stream.RunAsync(onDecision, stop.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (!(ex is OperationCanceledException && stop.IsCancellationRequested))
                {
                    lock (gate)
                    {
                        first ??= (stream, ex);
                    }

                    stop.Cancel();
                }
            }, CancellationToken.None);
        }

        Task.WaitAll(tasks, CancellationToken.None); // every stream ends (a cancelled one finishes its sample)
        return first;
    }

    /// <summary>Loads appsettings.json (+ environment EVENTSNN_* + command-line overrides) and validates the Run section.</summary>
    internal static (RunSettings Settings, string Path) LoadSettings(ParsedArgs args)
    {
        string? path = args.Get("config");
        if (path is null)
        {
            string local = Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json");
            string beside = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
            path = File.Exists(local) ? local : File.Exists(beside) ? beside : throw new UsageException($"no appsettings.json in {Directory.GetCurrentDirectory()} or {AppContext.BaseDirectory}; pass --config <path>");
        }
        else if (!File.Exists(path))
        {
            throw new UsageException($"--config {path}: file not found");
        }

        path = Path.GetFullPath(path);
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach ((string key, string? value) in args.All)
        {
            if (key.Contains(':', StringComparison.Ordinal))
            {
                overrides[key] = value;
            }
        }

        if (args.Get("passes") is { } passes)
        {
            overrides["Run:Passes"] = passes;
        }

        if (args.Get("speed") is { } speed)
        {
            overrides["Run:Speed"] = speed;
        }

        if (args.Get("out") is { } outDir)
        {
            overrides["Run:Output"] = Path.GetFullPath(outDir);
        }

        IConfigurationRoot configuration;
        try
        {
            configuration = new ConfigurationBuilder()
                .AddJsonFile(path, optional: false, reloadOnChange: false)
                .AddEnvironmentVariables("EVENTSNN_")
                .AddInMemoryCollection(overrides)
                .Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or JsonException)
        {
            throw new UsageException($"{path}: {ex.Message.Split('\n')[0]}");
        }

        // Relative paths are relative to the configuration file; when the tool runs from its
        // build folder, the recordings are found in the nearest parent that has them.
        string baseDir = Path.GetDirectoryName(path)!;
        string recordings = configuration["Run:Recordings"] ?? "recordings";
        for (var dir = new DirectoryInfo(baseDir); dir is not null && !Path.IsPathRooted(recordings); dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, recordings)))
            {
                baseDir = dir.FullName;
                break;
            }
        }

        try
        {
            return (RunSettings.Bind(configuration, baseDir), path);
        }
        catch (ConfigurationException ex)
        {
            throw new UsageException($"{path}: {ex.Message}");
        }
    }

    private static string DecisionText(StreamDecision d, double seconds) =>
        string.Create(CultureInfo.InvariantCulture, $"{seconds,8:F2} s  {d.Stream,-14} t={d.TUs / 1e6,10:F3} s  {d.Label,-12} {d.Confidence,4:P0}  {d.LatencyMs,6:F2} ms  {(d.Phase == "test" ? "held-out" : "pass " + d.Pass),-8}  truth {d.Truth ?? "?",-12} {(d.TruthIndex < 0 ? string.Empty : d.Correct ? "ok" : "x")}");
}
