using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Transforms;

namespace EventSnn.Cli.Commands;

/// <summary>
/// `eventsnn convert`: any readable recording to AEDAT4 or another writable format, or DVS events
/// exported as CSV, NumPy .npy or HDF5 event arrays for other tools. The output is
/// written to a temporary file beside it and renamed on success; a refusal, an error or Ctrl-C
/// leaves no file and an existing output untouched. What the target format cannot hold (sensor
/// size, timestamps, size explosion) is refused before anything is written, or the time is
/// rebased to the first event when that is all it takes.
/// </summary>
internal sealed class ConvertCommand : Command
{
    /// <summary>An output may be this many times larger than its input unless --force.</summary>
    public const int MaxGrowth = 20;

    /// <summary>Outputs up to this size are never refused for growth (headers of tiny inputs).</summary>
    public const long MinSizeBound = 64 << 10;

    private static readonly (string Extension, EventFormat Format)[] Extensions =
    [
        (".aedat4", EventFormat.Aedat4),
        (".aedat", EventFormat.Aedat2),
        (".raw", EventFormat.Evt3),
        (".dat", EventFormat.Dat),
        (".bin", EventFormat.NMnist),
        (".csv", EventFormat.Csv),
        (".npy", EventFormat.Npy),
        (".h5", EventFormat.Hdf5),
        (".hdf5", EventFormat.Hdf5),
    ];

    private enum TimeOrigin
    {
        Auto,
        First,
        Keep,
    }

    public override string Name => "convert";

    public override string Summary => "convert a recording to another event format, or export it as CSV, NumPy .npy or HDF5 (--to or the extension); audio spikes to SHD-layout HDF5";

    public override string Arguments => "<input> <output>";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("to", "format", "output format: " + WritableList() + " (default: from the output's extension)"),
        new("compression", "lz4|zstd|none", "AEDAT4 compression (default lz4; also lz4-high, zstd-high)") { Choices = CliParser.CompressionNames },
        new("time-origin", "first|keep", "first: times start at 0 at the first event; keep: keep them or refuse (default: rebase only when the format cannot hold them)"),
        new("transform", "spec", "DVS: transform the events on the way, e.g. denoise:10000,crop:64x64 (Tonic's transforms; see the README's Transforms)"),
        new("force", null, "overwrite an existing output; allow an output more than 20 x the input's size"),
        new("json", null, "print a JSON summary"),
        .. ReaderOptionParsing.Specs,
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string input = args.Positional(0, "<input>");
        string output = args.Positional(1, "<output>");
        ReaderOptions options = ReaderOptionParsing.From(args);
        EventFormat target = TargetFormat(args.Get("to"), output);
        Aedat4Compression compression;
        try
        {
            compression = EventWriters.ParseCompression(args.Get("compression") ?? "lz4");
        }
        catch (ArgumentException)
        {
            throw new UsageException($"option --compression: unknown '{args.Get("compression")}' (lz4, lz4-high, zstd, zstd-high, none)");
        }

        TimeOrigin origin = args.Get("time-origin") switch
        {
            null or "auto" => TimeOrigin.Auto,
            "first" => TimeOrigin.First,
            "keep" => TimeOrigin.Keep,
            string other => throw new UsageException($"option --time-origin: '{other}' is not first or keep"),
        };
        bool force = args.Has("force");
        EventTransform? transform = TransformedReader.ParseOption(args.Get("transform"));

        if (Path.GetFullPath(input) == Path.GetFullPath(output))
        {
            throw new UsageException("input and output are the same file");
        }

        if (Directory.Exists(output))
        {
            throw new UsageException($"{output} is a folder; name the output file");
        }

        string folder = Path.GetDirectoryName(Path.GetFullPath(output)) ?? ".";
        if (!Directory.Exists(folder))
        {
            throw new UsageException($"{output}: the folder {folder} does not exist");
        }

        if (!File.Exists(input))
        {
            throw new UsageException($"{input}: file not found");
        }

        if (File.Exists(output) && !force)
        {
            throw new UsageException($"{output} exists; pass --force to overwrite it");
        }

        EventFormat source = EventReaders.ResolveFormat(input, options);
        options = options with { Format = source };
        if (EventFormats.IsAudio(source) && target == EventFormat.Hdf5)
        {
            target = EventFormat.Shd; // audio spikes go to HDF5 in the SHD layout
        }

        long inputBytes = new FileInfo(input).Length;
        long maxBytes = force ? long.MaxValue : Math.Max(MinSizeBound, inputBytes > long.MaxValue / MaxGrowth ? long.MaxValue : inputBytes * MaxGrowth);
        var job = new Job(input, output, target, options, inputBytes, maxBytes, force, stderr) { Transform = transform };

        try
        {
            if (EventFormats.IsAudio(source))
            {
                if (transform is not null)
                {
                    throw new UsageException($"option --transform: {input} holds audio spikes; transforms apply to DVS events");
                }

                ConvertSpikes(job, args.Cancellation);
            }
            else
            {
                ConvertEvents(job, compression, origin, args.Cancellation);
            }
        }
        catch (OperationCanceledException) when (args.Cancellation.IsCancellationRequested)
        {
            stderr.WriteLine($"interrupted: {output} was not written");
            return CommandRunner.Interrupted;
        }
        catch (OutputTooLargeException)
        {
            throw new UsageException($"{output}: stopped after {job.Events:N0} events: the output passed {maxBytes:N0} bytes, {MaxGrowth} x the input's {inputBytes:N0} bytes; nothing was written (pass --force to allow it)");
        }
        catch (FormatLimitException ex)
        {
            throw new UsageException($"{output}: {ex.Message} Nothing was written{Hint(target, ex.Format)}.");
        }
        catch (EventFormatException ex)
        {
            throw new EventFormatException(ex.SourceName, ex.Offset, $"{ex.Problem}; {output} was not written", ex.Field, ex) { IsTruncation = ex.IsTruncation };
        }

        foreach (FormatWarning w in job.Warnings)
        {
            stderr.WriteLine($"warning: {input}: {w}");
        }

        long bytes = new FileInfo(output).Length;
        if (args.Has("json"))
        {
            var line = new ConvertJson(input, EventFormats.Name(source), output, EventFormats.Name(target), job.Events, bytes, job.Origin, job.Warnings.Count, transform?.ToString());
            stdout.WriteLine(JsonSerializer.Serialize(line, CliJsonContext.Default.ConvertJson));
        }
        else
        {
            stdout.WriteLine($"{input} ({EventFormats.Name(source)}) -> {output} ({EventFormats.Name(target)}): {job.Events:N0} events, {bytes:N0} bytes");
        }

        return CommandRunner.Ok;
    }

    /// <summary>The formats convert writes, with their extensions, for help and usage errors.</summary>
    internal static string WritableList() =>
        "aedat4 (.aedat4), aedat2 (.aedat), aedat3, evt2, evt21, evt3 (.raw), dat (.dat), nmnist (.bin), csv (.csv), npy (.npy), hdf5 (.h5, .hdf5; audio spikes: the SHD layout), shd";

    private static EventFormat TargetFormat(string? to, string output)
    {
        if (to is not null)
        {
            return EventFormats.TryParse(to, out EventFormat f) && (f == EventFormat.Shd || EventWriters.Writable.Contains(f) || EventWriters.Exports.Contains(f))
                ? f
                : throw new UsageException($"option --to: cannot write '{to}'; writable formats: {WritableList()}");
        }

        string extension = Path.GetExtension(output).ToLowerInvariant();
        foreach ((string e, EventFormat f) in Extensions)
        {
            if (e == extension)
            {
                return f;
            }
        }

        throw new UsageException($"{output}: cannot tell the output format from the extension '{extension}'; writable formats: {WritableList()}; choose one with --to <format>");
    }

    /// <summary>The writable formats that hold what <paramref name="failed"/> could not, as a hint.</summary>
    private static string Hint(EventFormat target, EventFormat failed) =>
        failed == target ? $" (choose another format with --to: {string.Join(", ", EventWriters.Writable.Concat(EventWriters.Exports).Where(f => f != target).Select(EventFormats.Name))})" : string.Empty;

    private static void ConvertEvents(Job job, Aedat4Compression compression, TimeOrigin mode, CancellationToken cancel)
    {
        if (job.Target == EventFormat.Shd)
        {
            throw new UsageException("DVS events cannot be written as SHD (audio spikes); choose an event format with --to");
        }

        WriterLimits limits = EventWriters.Limits(job.Target);
        SensorGeometry geometry;
        var stats = new EventStatistics();
        bool counted = false;
        using (IDvsEventReader probe = EventReaders.OpenDvs(job.Input, job.Options))
        {
            geometry = probe.Geometry;
            if (!geometry.IsKnown || EventWriters.NeedsEventCount(job.Target))
            {
                // the writer declares the sensor (HDF5: the event count) up front: find it with a first pass
                using var pass = new EventBatch();
                while (probe.Read(pass))
                {
                    cancel.ThrowIfCancellationRequested();
                    stats.Add(pass);
                }

                counted = true;
                if (!geometry.IsKnown)
                {
                    geometry = new SensorGeometry(Math.Max(1, stats.XMax + 1), Math.Max(1, stats.YMax + 1));
                }
            }
        }

        // the writer declares the sensor after the transform (a crop's, a downsample's)
        SensorGeometry input = geometry;
        geometry = job.Transform?.OutputGeometry(input) ?? input;
        counted &= job.Transform is null; // the first pass counted the events before the transform
        if (limits.CheckGeometry(geometry) is { } geometryProblem)
        {
            IEnumerable<string> fits = EventWriters.Writable.Concat(EventWriters.Exports).Where(f => EventWriters.Limits(f).CheckGeometry(geometry) is null).Select(EventFormats.Name);
            throw new UsageException($"{job.Output}: {geometryProblem}; nothing was written (formats that hold it: {string.Join(", ", fits)}; choose one with --to)");
        }

        using IDvsEventReader reader = TransformedReader.Wrap(EventReaders.OpenDvs(job.Input, job.Options), job.Transform, input);
        using var batch = new EventBatch();
        bool any = ReadNonEmpty(reader, batch);
        long first = any ? FirstTime(batch) : 0;
        long origin = 0;
        switch (mode)
        {
            case TimeOrigin.First:
                origin = first;
                break;
            case TimeOrigin.Keep:
                if (limits.CheckFirstTime(first) is { } timeProblem)
                {
                    throw new UsageException($"{job.Output}: {timeProblem}; nothing was written (rebase it with --time-origin first)");
                }

                break;
            default:
                if (!limits.StoresDirectly(first))
                {
                    origin = first;
                }

                break;
        }

        long lastAsWritten = (counted ? Math.Max(stats.TMax, first) : first) - origin;
        long minimum = limits.MinimumBytes(counted ? stats.Events : 0, lastAsWritten);
        if (minimum > job.MaxBytes)
        {
            throw new UsageException($"{job.Output}: the {limits.Name} output would take at least {minimum:N0} bytes, more than {MaxGrowth} x the input's {job.InputBytes:N0} bytes; nothing was written (pass --force to write it anyway{(origin == 0 && first > 0 ? ", or --time-origin first to start the times at 0" : string.Empty)})");
        }

        job.Origin = origin;
        if (origin != 0)
        {
            string why = mode == TimeOrigin.First ? string.Empty
                : first < 0 ? $" ({limits.Name} stores non-negative timestamps; the first event is at {first:N0} us)"
                : $" ({limits.Name} stores timestamps below {limits.DirectTimeRange:N0} us directly; the first event is at {first:N0} us)";
            job.Stderr.WriteLine($"note: {job.Output}: times rebased to the first event{why}: t_out = t_in - {origin.ToString(CultureInfo.InvariantCulture)} us; shift label times by the same amount");
        }

        using var output = new OutputFile(job.Output, job.Force);
        IEventWriter? writer = null;
        try
        {
            SizeGuardStream stream = output.OpenStream(job.MaxBytes);
            try
            {
                writer = EventWriters.Create(job.Target, stream, geometry, compression, triggers: true, eventCount: counted ? stats.Events : null);
            }
            catch
            {
                stream.Dispose();
                throw;
            }

            while (any)
            {
                cancel.ThrowIfCancellationRequested();
                batch.ShiftTime(origin);
                writer.Write(batch);
                job.Events += batch.Count;
                any = reader.Read(batch);
            }

            IEventWriter done = writer;
            writer = null;
            done.Dispose(); // flushes (AEDAT4: appends the table); errors surface here
            cancel.ThrowIfCancellationRequested();
            output.Commit();
        }
        catch
        {
            // the first error is the one to report: a writer closed on a failed or full stream may fail again
            try
            {
                writer?.Dispose();
            }
            catch (Exception)
            {
            }

            throw;
        }

        job.Warnings = reader.Warnings;
    }

    /// <summary>Reads until a batch holds events or triggers; false at the end of the input.</summary>
    private static bool ReadNonEmpty(IDvsEventReader reader, EventBatch batch)
    {
        while (reader.Read(batch))
        {
            if (batch.Count > 0 || batch.Triggers.Count > 0)
            {
                return true;
            }
        }

        return false;
    }

    private static long FirstTime(EventBatch batch)
    {
        long first = batch.Count > 0 ? batch.T[0] : long.MaxValue;
        ReadOnlySpan<TriggerEvent> triggers = batch.Triggers.Items;
        return triggers.Length > 0 ? Math.Min(first, triggers[0].T) : first;
    }

    private static void ConvertSpikes(Job job, CancellationToken cancel)
    {
        if (job.Target != EventFormat.Shd)
        {
            throw new UsageException("audio spikes can only be written as SHD-layout HDF5 (.h5, --to hdf5 or shd)");
        }

        if (job.Options.Format == EventFormat.Shd)
        {
            throw new UsageException("the input is already SHD-layout HDF5");
        }

        using var reader = (ISpikeReader)EventReaders.Open(job.Input, job.Options);
        var times = new List<long>();
        var units = new List<ushort>();
        using var batch = new SpikeBatch();
        int channels = Math.Max(1, reader.Channels) * Math.Max(1, reader.Ears);
        while (reader.Read(batch))
        {
            cancel.ThrowIfCancellationRequested();
            for (int i = 0; i < batch.Count; i++)
            {
                times.Add(batch.T[i]);
                // stereo recordings: right-ear channels follow the left ear's
                units.Add((ushort)((batch.Ear[i] * Math.Max(1, reader.Channels)) + batch.Channel[i]));
            }
        }

        // one SHD sample: times from its first spike
        long t0 = times.Count > 0 ? times[0] : 0;
        long[] rel = new long[times.Count];
        for (int i = 0; i < rel.Length; i++)
        {
            rel[i] = times[i] - t0;
        }

        job.Origin = t0;
        using var output = new OutputFile(job.Output, job.Force);
        string path = output.ReleaseForPath();
        using (ShdWriter writer = ShdWriter.Create(path, channels, keys: null, ShdTimeType.Float64)) // exact to the microsecond at any length
        {
            writer.Add(rel, units.ToArray(), label: 0);
        }

        cancel.ThrowIfCancellationRequested();
        if (new FileInfo(path).Length > job.MaxBytes)
        {
            throw new OutputTooLargeException(job.MaxBytes);
        }

        output.Commit();
        job.Events = times.Count;
        job.Warnings = reader.Warnings;
    }

    private sealed class Job(string input, string output, EventFormat target, ReaderOptions options, long inputBytes, long maxBytes, bool force, TextWriter stderr)
    {
        public string Input { get; } = input;

        public string Output { get; } = output;

        public EventFormat Target { get; } = target;

        public ReaderOptions Options { get; } = options;

        public long InputBytes { get; } = inputBytes;

        public long MaxBytes { get; } = maxBytes;

        public bool Force { get; } = force;

        public TextWriter Stderr { get; } = stderr;

        public EventTransform? Transform { get; init; }

        public long Events { get; set; }

        public long Origin { get; set; }

        public IReadOnlyList<FormatWarning> Warnings { get; set; } = [];
    }
}

/// <summary>The <c>convert --json</c> line: files and formats, events and bytes written, the time origin taken off (us), warnings, and the transform when one was applied.</summary>
internal sealed record ConvertJson(
    string Input,
    string InputFormat,
    string Output,
    string OutputFormat,
    long Events,
    long Bytes,
    long TimeOriginUs,
    int Warnings,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Transform);
