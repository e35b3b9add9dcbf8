using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Streaming reader of Neuromorphic Auditory Sensor (NAS) recordings as loaded by pyNAVIS
/// (<c>Loaders.loadAEDAT</c>): optional '#' header lines, then big-endian records of an
/// address (2 or 4 bytes) and a uint32 timestamp (tick 0.2 us for USBAERmini2, 1 us for jAER).
/// </summary>
/// <remarks>
/// <para>
/// <b>Settings</b>, each from the first source that gives it:
/// address width — <see cref="ReaderOptions.NasAddressBytes"/>, the file name ('addr2b' /
/// 'addr4b'), else the content: the record size (6 or 8 bytes) whose timestamps are monotonic
/// over the first 4096 records (ties go to the size dividing the data length, then to 2 bytes,
/// pyNAVIS' default); tick — <see cref="ReaderOptions.NasTickNanoseconds"/>, the file name
/// ('ts02' = 0.2 us, 'ts1' = 1 us), else 1 us; ears — <see cref="ReaderOptions.NasStereo"/>,
/// the file name ('stereo' / 'mono'), else mono; channels — <see cref="ReaderOptions.NasChannels"/>,
/// the file name ('64ch'), else from the largest address of a seekable source (at most
/// 256 MiB, scanned once at open) rounded up to a power of two (NAS channel counts are powers
/// of two), else unknown (0).
/// </para>
/// <para>
/// <b>Address mapping</b> (pyNAVIS, on_off_both = 1): each ear uses 2 x channels addresses,
/// the right ear after the left (<c>Functions.stereo_to_mono</c>: right = addresses from
/// channels x 2); within an ear, channel = address / 2 and the parity is the polarity,
/// even = ON (positive half-wave), odd = OFF (<c>Functions.phase_lock</c> emits an ON-to-OFF
/// transition when the parity goes from 0 to 1). Addresses beyond ears x 2 x channels (for
/// instance pyNAVIS' localization events, bit 15) are skipped and counted in
/// <see cref="AddressesOutOfRange"/>. With unknown channels every address maps to ear 0.
/// </para>
/// <para>
/// <b>Timestamps</b> are unwrapped like jAER's (uint32 ticks continued by signed 32-bit
/// differences) and converted to microseconds: <c>t = ticks x tick_ns / 1000</c>, rounded down.
/// A file cut inside a record: tolerant mode keeps the complete spikes and warns; strict mode
/// throws <see cref="EventFormatException"/> with IsTruncation.
/// </para>
/// </remarks>
public sealed partial class NasReader : ISpikeReader
{
    private const int InferenceRecords = 4096;
    private const long PrescanLimit = 256L << 20;
    private const int MaxInferredChannels = 4096;

    private readonly ByteInput _input;
    private readonly WarningList _warnings = new();
    private readonly ReaderOptions _options;
    private readonly uint _addressesPerEar;
    private bool _started;
    private uint _lastRaw;
    private long _ticks;
    private bool _ended;

    /// <summary>Opens a file (its name may carry addr2b/addr4b, ts02/ts1, NNch, stereo/mono).</summary>
    public NasReader(string path, ReaderOptions? options = null)
        : this(ReaderFiles.OpenRead(path), path, options, leaveOpen: false)
    {
    }

    /// <summary>Reads from a stream positioned at the start of the recording.</summary>
    /// <param name="stream">The source.</param>
    /// <param name="sourceName">File path or name (used for hints, errors and warnings).</param>
    /// <param name="options">Reader options; null uses <see cref="ReaderOptions.Default"/>.</param>
    /// <param name="leaveOpen">True to keep <paramref name="stream"/> open on dispose.</param>
    public NasReader(Stream stream, string sourceName, ReaderOptions? options = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _options = options ?? ReaderOptions.Default;
        if (_options.NasAddressBytes is not (0 or 2 or 4))
        {
            throw new ArgumentException($"NasAddressBytes must be 0, 2 or 4, not {_options.NasAddressBytes}.", nameof(options));
        }

        if (_options.NasTickNanoseconds < 0 || _options.NasChannels < 0)
        {
            throw new ArgumentException("NasTickNanoseconds and NasChannels must not be negative.", nameof(options));
        }

        SourceName = sourceName ?? "<stream>";
        _input = new ByteInput(stream, SourceName, _options.BufferBytes, ownsStream: !leaveOpen);
        try
        {
            HeaderLines = AsciiHeader.Read(_input, (byte)'#', _options.MaxHeaderBytes).Count;
            DataOffset = _input.Position;
            string name = Path.GetFileName(SourceName).ToLowerInvariant();
            ResolveSettings(name);
            _addressesPerEar = (uint)Channels * 2;
        }
        catch
        {
            _input.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public string SourceName { get; }

    /// <inheritdoc />
    public EventFormat Format => EventFormat.Nas;

    /// <inheritdoc />
    public long Position => _input.Position;

    /// <inheritdoc />
    public IReadOnlyList<FormatWarning> Warnings => _warnings;

    /// <inheritdoc />
    public int Channels { get; private set; }

    /// <inheritdoc />
    public int Ears { get; private set; } = 1;

    /// <summary>Address width in bytes (2 or 4).</summary>
    public int AddressBytes { get; private set; }

    /// <summary>Record size in bytes (6 or 8).</summary>
    public int RecordBytes => AddressBytes + 4;

    /// <summary>Timestamp tick in nanoseconds.</summary>
    public int TickNanoseconds { get; private set; }

    /// <summary>Where each setting came from, e.g. "address: file name; tick: option; ears: default; channels: content".</summary>
    public string SettingsSource { get; private set; } = string.Empty;

    /// <summary>Number of '#' header lines.</summary>
    public int HeaderLines { get; }

    /// <summary>Byte offset of the first record.</summary>
    public long DataOffset { get; }

    /// <summary>Largest address found by the open-time scan (-1 when not scanned).</summary>
    public long MaxAddressScanned { get; private set; } = -1;

    /// <summary>Spikes returned so far.</summary>
    public long SpikesRead { get; private set; }

    /// <summary>Records skipped because their address lies beyond ears x 2 x channels.</summary>
    public long AddressesOutOfRange { get; private set; }

    /// <inheritdoc />
    public bool Read(SpikeBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        int recordSize = RecordBytes;
        while (!_ended && !batch.IsFull)
        {
            if (!_input.Ensure(recordSize))
            {
                if (_input.Available > 0)
                {
                    if (_options.Strict)
                    {
                        if (batch.Count > 0)
                        {
                            return true;
                        }

                        throw new EventFormatException(SourceName, _input.Position, $"file ends inside a {recordSize}-byte record ({_input.Available} bytes left)", "record") { IsTruncation = true };
                    }

                    _warnings.Warn(_input.Position, $"file ends inside a {recordSize}-byte record: {_input.Available} trailing bytes ignored");
                    _input.Advance(_input.Available);
                }

                _ended = true;
                break;
            }

            ReadOnlySpan<byte> span = _input.Span;
            _input.Advance(Decode(span[..(span.Length - (span.Length % recordSize))], batch));
        }

        return batch.Count > 0;
    }

    /// <summary>Closes the source (unless it was opened with leaveOpen).</summary>
    public void Dispose() => _input.Dispose();

    private int Decode(ReadOnlySpan<byte> data, SpikeBatch batch)
    {
        int recordSize = RecordBytes;
        int count = data.Length / recordSize;
        if (count == 0)
        {
            return 0;
        }

        bool wide = AddressBytes == 4;
        if (!_started)
        {
            _lastRaw = BinaryPrimitives.ReadUInt32BigEndian(data[AddressBytes..]);
            _ticks = _lastRaw;
            _started = true;
        }

        long[] ts = batch.T;
        ushort[] channels = batch.Channel;
        byte[] ears = batch.Ear;
        byte[] neurons = batch.Neuron;
        byte[] ps = batch.P;
        int n = batch.Count;
        int start = n;
        int cap = batch.Capacity;
        long ticks = _ticks;
        uint last = _lastRaw;
        long tick = TickNanoseconds;
        uint perEar = _addressesPerEar;
        uint ears2 = (uint)Ears;
        long outOfRange = 0;
        int i = 0;
        for (; i < count && n < cap; i++)
        {
            ReadOnlySpan<byte> rec = data.Slice(i * recordSize, recordSize);
            uint a = wide ? BinaryPrimitives.ReadUInt32BigEndian(rec) : BinaryPrimitives.ReadUInt16BigEndian(rec);
            uint raw = BinaryPrimitives.ReadUInt32BigEndian(rec[AddressBytes..]);
            ticks += unchecked((int)(raw - last));
            last = raw;
            uint ear = 0;
            uint within = a;
            if (perEar != 0)
            {
                ear = a / perEar;
                within = a - (ear * perEar);
                if (ear >= ears2)
                {
                    outOfRange++;
                    continue;
                }
            }
            else if (a > 0x1FFFF)
            {
                outOfRange++;
                continue;
            }

            ts[n] = ticks * tick / 1000;
            channels[n] = (ushort)(within >> 1);
            ears[n] = (byte)ear;
            neurons[n] = 0;
            ps[n] = (byte)(~within & 1);
            n++;
        }

        _ticks = ticks;
        _lastRaw = last;
        AddressesOutOfRange += outOfRange;
        SpikesRead += n - start;
        batch.SetCount(n);
        return i * recordSize;
    }

    private void ResolveSettings(string name)
    {
        string addressFrom, tickFrom, earsFrom, channelsFrom;
        if (_options.NasAddressBytes != 0)
        {
            AddressBytes = _options.NasAddressBytes;
            addressFrom = "option";
        }
        else if (name.Contains("addr4b", StringComparison.Ordinal) || name.Contains("addr2b", StringComparison.Ordinal))
        {
            AddressBytes = name.Contains("addr4b", StringComparison.Ordinal) ? 4 : 2;
            addressFrom = "file name";
        }
        else
        {
            AddressBytes = InferAddressBytes();
            addressFrom = "content";
        }

        if (_options.NasTickNanoseconds != 0)
        {
            TickNanoseconds = _options.NasTickNanoseconds;
            tickFrom = "option";
        }
        else if (TickFromName(name) is int tickNs)
        {
            TickNanoseconds = tickNs;
            tickFrom = "file name";
        }
        else
        {
            TickNanoseconds = 1000;
            tickFrom = "default";
        }

        if (_options.NasStereo is bool stereo)
        {
            Ears = stereo ? 2 : 1;
            earsFrom = "option";
        }
        else if (name.Contains("stereo", StringComparison.Ordinal) || name.Contains("mono", StringComparison.Ordinal))
        {
            Ears = name.Contains("stereo", StringComparison.Ordinal) ? 2 : 1;
            earsFrom = "file name";
        }
        else
        {
            Ears = 1;
            earsFrom = "default";
        }

        Match m = ChannelsPattern().Match(name);
        if (_options.NasChannels != 0)
        {
            Channels = _options.NasChannels;
            channelsFrom = "option";
        }
        else if (m.Success && int.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int ch) && ch is > 0 and <= 32768)
        {
            Channels = ch;
            channelsFrom = "file name";
        }
        else if (_input.CanSeek && _input.Remaining <= PrescanLimit)
        {
            MaxAddressScanned = ScanMaxAddress();
            Channels = MaxAddressScanned < 0 ? 0 : ChannelsForMaxAddress(MaxAddressScanned, Ears);
            channelsFrom = "content";
            if (Channels > MaxInferredChannels)
            {
                _warnings.Warn(DataOffset, $"largest address {MaxAddressScanned} implies {Channels} channels, more than a NAS has; channel count left unknown");
                Channels = 0;
                channelsFrom = "unknown (implausible addresses)";
            }
        }
        else
        {
            Channels = 0;
            channelsFrom = "unknown";
        }

        SettingsSource = $"address: {addressFrom}; tick: {tickFrom}; ears: {earsFrom}; channels: {channelsFrom}";
    }

    /// <summary>Smallest power of two C with maxAddress &lt; ears x 2 x C.</summary>
    private static int ChannelsForMaxAddress(long maxAddress, int ears)
    {
        long needed = (maxAddress / (2L * ears)) + 1;
        long c = 1;
        while (c < needed)
        {
            c <<= 1;
        }

        return (int)Math.Min(c, int.MaxValue);
    }

    private static int? TickFromName(string name)
    {
        Match m = TickPattern().Match(name);
        if (!m.Success)
        {
            return null;
        }

        string digits = m.Groups[1].Value;
        if (digits.Length > 6 || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value == 0)
        {
            return null;
        }

        if (digits[0] == '0')
        {
            // "02" = 0.2 us, "005" = 0.05 us
            double us = value / Math.Pow(10, digits.Length - 1);
            return (int)Math.Round(us * 1000);
        }

        return value * 1000;
    }

    private int InferAddressBytes()
    {
        _input.Ensure(InferenceRecords * 8);
        ReadOnlySpan<byte> span = _input.Span;
        long? remaining = _input.Remaining;
        int best = 2;
        long bestScore = long.MaxValue;
        foreach (int addressBytes in (ReadOnlySpan<int>)[2, 4])
        {
            int size = addressBytes + 4;
            int records = Math.Min(span.Length / size, InferenceRecords);
            long decreases = 0;
            uint previous = 0;
            for (int i = 0; i < records; i++)
            {
                uint t = BinaryPrimitives.ReadUInt32BigEndian(span.Slice((i * size) + addressBytes, 4));
                if (i > 0 && t < previous)
                {
                    decreases++;
                }

                previous = t;
            }

            // Score: timestamp decreases first, then whether the data length is a whole number of records.
            long score = (decreases * 2) + (remaining is long r && r % size != 0 ? 1 : 0);
            if (score < bestScore)
            {
                bestScore = score;
                best = addressBytes;
            }
        }

        return best;
    }

    private long ScanMaxAddress()
    {
        int size = RecordBytes;
        long max = -1;
        try
        {
            while (_input.Ensure(size))
            {
                ReadOnlySpan<byte> span = _input.Span;
                int records = span.Length / size;
                for (int i = 0; i < records; i++)
                {
                    ReadOnlySpan<byte> rec = span.Slice(i * size, AddressBytes);
                    uint a = AddressBytes == 4 ? BinaryPrimitives.ReadUInt32BigEndian(rec) : BinaryPrimitives.ReadUInt16BigEndian(rec);
                    max = Math.Max(max, a);
                }

                _input.Advance(records * size);
            }
        }
        finally
        {
            _input.Seek(DataOffset);
        }

        return max;
    }

    [GeneratedRegex(@"(?:^|[^a-z])ts(\d+)(?![0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex TickPattern();

    [GeneratedRegex(@"(?:^|[^a-z0-9])(\d+)ch(?![a-z])", RegexOptions.CultureInvariant)]
    private static partial Regex ChannelsPattern();
}
