using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>Options of <see cref="LiveInspect.Run"/>.</summary>
public sealed record LiveInspectOptions
{
    /// <summary>Stop after this long (required in practice for UDP, whose peers never "close"); null = until the peer closes or cancellation.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>jAER UDP: address layout (DVS128 by default).</summary>
    public JaerChip Chip { get; init; } = JaerChip.Dvs128;

    /// <summary>Sensor size for layouts that need it (DAVIS over jAER UDP).</summary>
    public SensorGeometry Geometry { get; init; }

    /// <summary>Reader options (bounds, strictness) for the AEDAT4 packet decoder.</summary>
    public ReaderOptions Reader { get; init; } = ReaderOptions.Default;

    /// <summary>Fault log hook.</summary>
    public Action<LiveFault>? OnFault { get; init; }
}

/// <summary>What <see cref="LiveInspect.Run"/> measured.</summary>
public sealed class LiveInspectResult
{
    internal LiveInspectResult(string source, EventFormat format, EventStatistics statistics, SensorGeometry geometry, LiveSourceStatistics counters, bool timedOut)
    {
        Source = source;
        Format = format;
        Statistics = statistics;
        Geometry = geometry;
        Counters = counters;
        TimedOut = timedOut;
    }

    /// <summary>The peer or bind address.</summary>
    public string Source { get; }

    /// <summary>Wire format: AEDAT4 (DV over TCP) or AEDAT2 records (jAER over UDP).</summary>
    public EventFormat Format { get; }

    /// <summary>Event statistics, as for files.</summary>
    public EventStatistics Statistics { get; }

    /// <summary>Sensor size declared by the stream or the options (Unknown when neither says).</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>Network counters (bytes, packets, loss, faults).</summary>
    public LiveSourceStatistics Counters { get; }

    /// <summary>True when the duration elapsed (or cancellation came) before the peer closed.</summary>
    public bool TimedOut { get; }
}

/// <summary>
/// The library side of <c>eventsnn inspect tcp://host:port</c> (a DV AEDAT4 stream) and
/// <c>udp://host:port</c> (a jAER stream, bound locally): reads until the peer closes, the
/// duration elapses or cancellation, and returns the same statistics as for files.
/// </summary>
public static class LiveInspect
{
    /// <summary>True for tcp:// and udp:// addresses.</summary>
    public static bool IsLiveAddress(string? target) =>
        target is not null && (target.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase) || target.StartsWith("udp://", StringComparison.OrdinalIgnoreCase));

    /// <summary>Creates the source for <paramref name="address"/>: TCP connects without reconnecting; UDP binds host:port.</summary>
    public static LiveSource CreateSource(string address, LiveInspectOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        options ??= new LiveInspectOptions();
        if (!Uri.TryCreate(address, UriKind.Absolute, out Uri? uri) || uri.Port <= 0 || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"'{address}' is not tcp://host:port or udp://host:port", nameof(address));
        }

        string host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host.Trim('[', ']') : uri.Host;
        return uri.Scheme.ToLowerInvariant() switch
        {
            "udp" => new JaerUdpSource(new JaerSourceOptions { Host = host, Port = uri.Port, Chip = options.Chip, Geometry = options.Geometry, OnFault = options.OnFault }),
            "tcp" => CreateTcp(host, uri.Port, options),
            _ => throw new ArgumentException($"unsupported scheme '{uri.Scheme}' (tcp or udp)", nameof(address)),
        };
    }

    /// <summary>Reads the stream and returns its statistics; errors (cannot connect, malformed header) are thrown.</summary>
    public static LiveInspectResult Run(string address, LiveInspectOptions? options = null, CancellationToken cancellation = default)
    {
        options ??= new LiveInspectOptions();
        LiveSource source = CreateSource(address, options);
        var stats = new EventStatistics();
        using var done = new ManualResetEventSlim(false);
        Exception? error = null;
        var observer = System.Reactive.Observer.Create<EventBatch>(
            stats.Add,
            ex =>
            {
                error = ex;
                done.Set();
            },
            done.Set);
        bool timedOut;
        using (source.Subscribe(observer))
        {
            var waits = new List<WaitHandle> { done.WaitHandle, cancellation.WaitHandle };
            int which = WaitHandle.WaitAny([.. waits], options.Duration ?? Timeout.InfiniteTimeSpan);
            timedOut = which != 0;
        }

        if (error is not null)
        {
            throw error;
        }

        EventFormat format = source is JaerUdpSource ? EventFormat.Aedat2 : EventFormat.Aedat4;
        return new LiveInspectResult(source.SourceName, format, stats, source.Geometry, source.Statistics, timedOut);
    }

    private static Aedat4TcpSource CreateTcp(string host, int port, LiveInspectOptions options) =>
        new(new Aedat4ClientOptions { Host = host, Port = port, Reconnect = false, Reader = options.Reader, Geometry = options.Geometry, OnFault = options.OnFault });
}
