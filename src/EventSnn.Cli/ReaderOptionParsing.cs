using EventSnn.IO;

namespace EventSnn.Cli;

/// <summary>Reader options shared by commands that open event files.</summary>
internal static class ReaderOptionParsing
{
    public static readonly OptionSpec[] Specs =
    [
        new("format", "name", "override format detection: aedat2, aedat3, aedat4, evt2, evt21, evt3, dat, nmnist, nas, shd"),
        new("strict", null, "a file cut mid-record is an error (default: tolerant, warn and keep complete events)"),
        new("nas-address-bytes", "2|4", "NAS: address width (default: from the file name, else content)"),
        new("nas-tick-ns", "200|1000", "NAS: timestamp tick in ns (default: from the file name, else 1000)"),
        new("nas-channels", "n", "NAS: channels per ear (default: from the file name or data)"),
        new("chip", "dvs128|davis", "AEDAT 2.0: address layout (default: the file's AEChip line)"),
        new("mmap", null, "EVT 2.0/2.1/3.0 and DAT files: decode from a memory map of the file, without copying it (the file must not be truncated while it is read)"),
    ];

    /// <summary>`--threads`: for commands that read one whole file (AEDAT 4.0 reads ahead and shares the decompression with a second thread).</summary>
    public static readonly OptionSpec Threads =
        new("threads", "n", "threads for reading one file: 2 reads AEDAT 4.0 packets ahead and shares their decompression with a second thread (default 1; other formats use 1)");

    /// <summary>The reader options of <paramref name="args"/>, with `--threads` when the command declares it.</summary>
    public static ReaderOptions From(ParsedArgs args, bool threads)
    {
        ReaderOptions options = From(args);
        return threads ? options with { DecodeThreads = args.GetPositiveInt("threads", 1) } : options;
    }

    public static ReaderOptions From(ParsedArgs args)
    {
        EventFormat format = EventFormat.Unknown;
        string? name = args.Get("format");
        if (name is not null && !EventFormats.TryParse(name, out format))
        {
            throw new UsageException($"option --format: unknown format '{name}'");
        }

        int addr = args.GetInt("nas-address-bytes", 0);
        if (addr is not (0 or 2 or 4))
        {
            throw new UsageException("option --nas-address-bytes: must be 2 or 4");
        }

        int tick = args.GetInt("nas-tick-ns", 0);
        if (tick < 0)
        {
            throw new UsageException("option --nas-tick-ns: must be positive");
        }

        string? chip = args.Get("chip");
        if (chip is not null && chip is not ("dvs128" or "davis"))
        {
            throw new UsageException("option --chip: must be dvs128 or davis");
        }

        return new ReaderOptions
        {
            Format = format,
            Strict = args.Has("strict"),
            NasAddressBytes = addr,
            NasTickNanoseconds = tick,
            NasChannels = args.GetInt("nas-channels", 0),
            Aedat2Chip = chip,
            MemoryMap = args.Has("mmap"),
        };
    }
}
