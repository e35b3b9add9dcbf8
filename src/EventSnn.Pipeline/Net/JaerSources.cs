using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>
/// jAER UDP stream (jAER's AEUnicastOutput, default port 8991): every datagram starts with a
/// big-endian int32 sequence number, then big-endian (int32 address, int32 timestamp) pairs.
/// Gaps in the sequence are counted as lost datagrams, late ones as reordered, repeats are dropped
/// as duplicates (see <see cref="LiveSourceStatistics"/>). A datagram whose length is not
/// 4 + 8k is malformed: counted and skipped. jAER sends no sensor type: the address layout is
/// <see cref="JaerSourceOptions.Chip"/> (DVS128 by default; DAVIS needs the sensor size to mirror).
/// </summary>
public sealed class JaerUdpSource : LiveSource
{
    /// <summary>jAER's default UDP port.</summary>
    public const int DefaultPort = 8991;

    /// <summary>Creates the source (binds when subscribed).</summary>
    public JaerUdpSource(JaerSourceOptions options)
        : base(options, "udp")
    {
        JaerOptions = options;
        if (options.Chip == JaerChip.Dvs128)
        {
            Geometry = SensorGeometry.Dvs128;
        }
    }

    /// <summary>The jAER options.</summary>
    public JaerSourceOptions JaerOptions { get; }

    private protected override LiveRun CreateRun(IObserver<EventBatch> observer) => new Run(this, observer);

    private sealed class Run(JaerUdpSource source, IObserver<EventBatch> observer) : UdpRun(source, observer)
    {
        private readonly JaerDatagramDecoder _decoder = new(source.JaerOptions.Chip, source.Geometry, source.JaerOptions.SequenceNumbers, source.Statistics);

        protected override void Datagram(ReadOnlySpan<byte> data)
        {
            long outOfRange = _decoder.Events.EventsOutOfRange;
            if (_decoder.Decode(data, this))
            {
                Stats._dropped.Add(_decoder.Events.EventsOutOfRange - outOfRange);
                Flush();
            }
        }
    }
}

/// <summary>
/// jAER TCP stream (jAER's AEServerSocket, default port 8990): a headerless stream of
/// big-endian (int32 address, int32 timestamp) pairs. Reconnects with backoff; each
/// connection starts a fresh timestamp unwrap.
/// </summary>
public sealed class JaerTcpSource : LiveSource
{
    /// <summary>jAER's default TCP port.</summary>
    public const int DefaultPort = 8990;

    /// <summary>Creates the source (connects when subscribed).</summary>
    public JaerTcpSource(JaerSourceOptions options)
        : base(options, "tcp")
    {
        JaerOptions = options;
        if (options.Chip == JaerChip.Dvs128)
        {
            Geometry = SensorGeometry.Dvs128;
        }
    }

    /// <summary>The jAER options.</summary>
    public JaerSourceOptions JaerOptions { get; }

    private protected override LiveRun CreateRun(IObserver<EventBatch> observer) => new Run(this, observer);

    private sealed class Run(JaerTcpSource source, IObserver<EventBatch> observer) : TcpClientRun(source, observer)
    {
        protected override void Session(Stream stream)
        {
            var decoder = new JaerStreamDecoder(source.JaerOptions.Chip, source.Geometry);
            while (!Stopped)
            {
                int n = stream.Read(decoder.Free);
                if (n <= 0)
                {
                    return;
                }

                Stats._bytes.Add(n);
                Position += n;
                Stats._packets.Increment();
                long outOfRange = decoder.Events.EventsOutOfRange;
                decoder.Received(n, this);
                Stats._dropped.Add(decoder.Events.EventsOutOfRange - outOfRange);
            }
        }
    }
}
