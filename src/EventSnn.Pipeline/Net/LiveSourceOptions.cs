using System.Net;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>
/// Options shared by the live network sources. Every source binds or connects to loopback
/// (127.0.0.1) unless <see cref="Host"/> says otherwise.
/// </summary>
public record LiveSourceOptions
{
    /// <summary>TCP: the peer to connect to; UDP: the local address to bind. Default loopback.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port (0 for UDP binds an ephemeral port, see <see cref="LiveSource.LocalEndPoint"/>).</summary>
    public int Port { get; init; }

    /// <summary>TCP: reconnect after a disconnect or failure, with exponential backoff and jitter (Polly; default on).</summary>
    public bool Reconnect { get; init; } = true;

    /// <summary>First reconnect delay; the delays grow exponentially (with jitter) up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest reconnect delay.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Consecutive failed attempts before giving up with an error; -1 = never give up.</summary>
    public int MaxReconnects { get; init; } = -1;

    /// <summary>TCP connect timeout.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Capacity of the emitted batches.</summary>
    public int BatchCapacity { get; init; } = EventBatch.DefaultCapacity;

    /// <summary>Upper bound on any length read from the wire (packets, headers); larger claims are malformed.</summary>
    public int MaxPacketBytes { get; init; } = 16 << 20;

    /// <summary>Socket receive buffer size.</summary>
    public int ReceiveBufferBytes { get; init; } = 8 << 20;

    /// <summary>Sensor size, for layouts that need it (DAVIS mirroring) and to report; Unknown when not given.</summary>
    public SensorGeometry Geometry { get; init; }

    /// <summary>Called (on the receive thread) for every fault survived: the log hook.</summary>
    public Action<LiveFault>? OnFault { get; init; }

    internal IPAddress ResolveHost()
    {
        if (IPAddress.TryParse(Host, out IPAddress? ip))
        {
            return ip;
        }

        if (string.Equals(Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        IPAddress[] found = Dns.GetHostAddresses(Host);
        return found.Length > 0 ? found[0] : throw new ArgumentException($"host '{Host}' not found");
    }

    internal void Validate()
    {
        if (Port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(Port));
        }

        if (BatchCapacity < 1 || MaxPacketBytes < 64 || ReceiveBufferBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchCapacity), "batch capacity, packet bound and buffer size must be positive");
        }
    }
}

/// <summary>Options of the jAER UDP and TCP sources.</summary>
public sealed record JaerSourceOptions : LiveSourceOptions
{
    /// <summary>jAER streams carry no sensor type: the address layout (DVS128 by default).</summary>
    public JaerChip Chip { get; init; } = JaerChip.Dvs128;

    /// <summary>UDP: datagrams start with an int32 sequence number (jAER's default).</summary>
    public bool SequenceNumbers { get; init; } = true;
}

/// <summary>Options of the AEDAT 3.x network sources (libcaer's 20-byte network header).</summary>
public sealed record Aedat3NetworkOptions : LiveSourceOptions;

/// <summary>Options of the DV AEDAT4 TCP client.</summary>
public sealed record Aedat4ClientOptions : LiveSourceOptions
{
    /// <summary>Reader options for the packet decoder (bounds, tolerance).</summary>
    public ReaderOptions Reader { get; init; } = ReaderOptions.Default;
}
