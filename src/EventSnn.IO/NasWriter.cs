using System.Buffers.Binary;
using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Writes headerless NAS recordings as pyNAVIS loads them (see <see cref="NasReader"/>):
/// big-endian address (2 or 4 bytes) + uint32 timestamp in ticks.
/// </summary>
/// <remarks>
/// Address = ear x 2 x channels + channel x 2 + (ON ? 0 : 1). Timestamps must be
/// non-negative; ticks = t_us x 1000 / tick_ns (rounded down), stored modulo 2^32 (the reader
/// unwraps them when consecutive spikes are less than 2^31 ticks apart). Name the file like
/// pyNAVIS' examples (e.g. <c>x_stereo_64ch_ONOFF_addr4b_ts1.aedat</c>) or pass the settings
/// to the reader explicitly.
/// </remarks>
public sealed class NasWriter : IDisposable
{
    private readonly OutputBuffer _out;

    /// <summary>Creates (or overwrites) a file.</summary>
    public NasWriter(string path, int channels, bool stereo, int addressBytes = 2, int tickNanoseconds = 200)
        : this(ReaderFiles.Create(path), channels, stereo, addressBytes, tickNanoseconds, leaveOpen: false)
    {
    }

    /// <summary>Writes to a stream.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="channels">Channels per ear.</param>
    /// <param name="stereo">True for two ears.</param>
    /// <param name="addressBytes">2 or 4.</param>
    /// <param name="tickNanoseconds">Timestamp tick (200 for USBAERmini2, 1000 for jAER).</param>
    /// <param name="leaveOpen">True to keep <paramref name="stream"/> open on dispose.</param>
    public NasWriter(Stream stream, int channels, bool stereo, int addressBytes, int tickNanoseconds, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tickNanoseconds, 1);
        if (addressBytes is not (2 or 4))
        {
            throw new ArgumentOutOfRangeException(nameof(addressBytes), addressBytes, "Address width must be 2 or 4 bytes.");
        }

        long addresses = 2L * channels * (stereo ? 2 : 1);
        if (addresses > (addressBytes == 2 ? 0x10000 : 0x100000000L))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "Too many channels for the address width.");
        }

        _out = new OutputBuffer(stream, leaveOpen);
        Channels = channels;
        Ears = stereo ? 2 : 1;
        AddressBytes = addressBytes;
        TickNanoseconds = tickNanoseconds;
    }

    /// <summary>Channels per ear.</summary>
    public int Channels { get; }

    /// <summary>1 (mono) or 2 (stereo).</summary>
    public int Ears { get; }

    /// <summary>Address width in bytes.</summary>
    public int AddressBytes { get; }

    /// <summary>Timestamp tick in nanoseconds.</summary>
    public int TickNanoseconds { get; }

    /// <summary>Spikes written so far.</summary>
    public long SpikesWritten { get; private set; }

    /// <summary>Writes every spike of a batch.</summary>
    public void Write(SpikeBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        for (int i = 0; i < batch.Count; i++)
        {
            Write(batch.T[i], batch.Channel[i], batch.Ear[i], batch.P[i] != 0);
        }
    }

    /// <summary>Writes one spike.</summary>
    public void Write(in AudioSpike spike) => Write(spike.T, spike.Channel, spike.Ear, spike.On);

    /// <summary>Writes one spike.</summary>
    public void Write(long t, int channel, int ear, bool on)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(t);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)channel, (uint)Channels, nameof(channel));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)ear, (uint)Ears, nameof(ear));
        int size = AddressBytes + 4;
        uint address = (uint)((ear * 2 * Channels) + (channel * 2) + (on ? 0 : 1));
        Span<byte> dst = _out.GetSpan(size);
        if (AddressBytes == 2)
        {
            BinaryPrimitives.WriteUInt16BigEndian(dst, (ushort)address);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(dst, address);
        }

        long ticks = checked(t * 1000) / TickNanoseconds;
        BinaryPrimitives.WriteUInt32BigEndian(dst[AddressBytes..], unchecked((uint)ticks));
        _out.Advance(size);
        SpikesWritten++;
    }

    /// <summary>Writes buffered records and flushes the stream.</summary>
    public void Flush() => _out.Flush();

    /// <summary>Flushes and closes the destination (unless leaveOpen).</summary>
    public void Dispose() => _out.Dispose();
}
