namespace EventSnn.IO;

/// <summary>Options shared by every reader.</summary>
public sealed record ReaderOptions
{
    /// <summary>Default options: auto-detect, tolerant.</summary>
    public static ReaderOptions Default { get; } = new();

    /// <summary>Format override; <see cref="EventFormat.Unknown"/> detects from content.</summary>
    public EventFormat Format { get; init; } = EventFormat.Unknown;

    /// <summary>
    /// Strict mode: a file cut inside a record or packet is an error. Tolerant mode
    /// (default, for replay) yields every complete event before the cut and records a
    /// warning in <see cref="IEventReader.Warnings"/>.
    /// </summary>
    public bool Strict { get; init; }

    /// <summary>Upper bound on any single length field (packet, header, table) in bytes; larger claims are errors.</summary>
    public int MaxPacketBytes { get; init; } = 64 << 20;

    /// <summary>Upper bound on the ASCII header of a file in bytes.</summary>
    public int MaxHeaderBytes { get; init; } = 16 << 20;

    /// <summary>
    /// Prophesee files (EVT 2.0, EVT 2.1, EVT 3.0, DAT): decode straight from a read-only memory map
    /// of the file instead of copying it into the read buffer (default false). Saves the copy
    /// (about 40 % of a DAT decode); the bytes are those of the file when it was opened, so data
    /// appended later is not read, and a file truncated by another process while it is read ends
    /// the process (the operating system's SIGBUS) instead of ending the data. Streams that are
    /// not files are read as before.
    /// </summary>
    public bool MemoryMap { get; init; }

    /// <summary>Size of the read buffer in bytes.</summary>
    public int BufferBytes { get; init; } = 1 << 20;

    /// <summary>NAS recordings: address width in bytes (2 or 4); 0 infers it from the file name (addr2b/addr4b) or content.</summary>
    public int NasAddressBytes { get; init; }

    /// <summary>NAS recordings: timestamp tick in nanoseconds (200 or 1000); 0 infers it from the file name (ts02/ts1), else 1000.</summary>
    public int NasTickNanoseconds { get; init; }

    /// <summary>NAS recordings: channels per ear and polarity; 0 infers it from the file name (e.g. 64ch) or the largest address.</summary>
    public int NasChannels { get; init; }

    /// <summary>NAS recordings: true for stereo; null infers it from the file name (stereo/mono).</summary>
    public bool? NasStereo { get; init; }

    /// <summary>
    /// AEDAT 2.0: address layout override ("dvs128" or "davis"; "davis240", "davis346", "davis640",
    /// "davis128", "davis208" or a jAER AEChip class name also fix the sensor size); null uses the
    /// file's '# AEChip' line, else infers the layout from the address bits.
    /// </summary>
    public string? Aedat2Chip { get; init; }

    /// <summary>
    /// Threads used to read one file. 1 (default): everything on the calling thread. 2 or more:
    /// AEDAT 4.0 files (not the network protocol) read packets on a second thread, and the two
    /// threads share the decompression while the calling thread decodes (more than 2 gives nothing
    /// further). Other formats ignore it.
    /// </summary>
    public int DecodeThreads
    {
        get => _decodeThreads;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(DecodeThreads));
            _decodeThreads = value;
        }
    }

    private readonly int _decodeThreads = 1;
}
