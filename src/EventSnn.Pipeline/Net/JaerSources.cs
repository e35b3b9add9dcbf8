using System.Buffers.Binary;
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

    private sealed class Run : UdpRun
    {
        private readonly JaerEventDecoder _decoder;
        private readonly SequenceTracker _sequence;
        private readonly bool _numbered;

        public Run(JaerUdpSource source, IObserver<EventBatch> observer)
            : base(source, observer)
        {
            _decoder = new JaerEventDecoder(source.JaerOptions.Chip, source.Geometry);
            _sequence = new SequenceTracker(source.Statistics);
            _numbered = source.JaerOptions.SequenceNumbers;
        }

        protected override void Datagram(ReadOnlySpan<byte> data)
        {
            int header = _numbered ? 4 : 0;
            if (data.Length < header || (data.Length - header) % 8 != 0)
            {
                Fault(LiveFaultKind.Malformed, $"datagram of {data.Length} bytes is not {header} + 8k bytes");
                return;
            }

            if (_numbered)
            {
                long seq = _sequence.Unwrap32(BinaryPrimitives.ReadInt32BigEndian(data));
                bool accept = _sequence.Observe(seq, out LiveFaultKind? fault);
                if (fault is { } kind)
                {
                    Fault(kind, $"datagram {seq}");
                }

                if (!accept)
                {
                    return;
                }
            }

            ReadOnlySpan<byte> records = data[header..];
            long outOfRange = _decoder.EventsOutOfRange;
            while (records.Length > 0)
            {
                Reserve(Math.Min(records.Length / 8, Batch.Capacity));
                int used = _decoder.Decode(records, 4, Batch);
                records = records[used..];
                if (used == 0)
                {
                    Flush(); // trigger buffer full
                }
            }

            Interlocked.Add(ref Stats._dropped, _decoder.EventsOutOfRange - outOfRange);
            Flush();
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
        private readonly byte[] _buffer = new byte[1 << 16];

        protected override void Session(Stream stream)
        {
            var decoder = new JaerEventDecoder(source.JaerOptions.Chip, source.Geometry);
            int carry = 0;
            while (!Stopped)
            {
                int n = stream.Read(_buffer, carry, _buffer.Length - carry);
                if (n <= 0)
                {
                    return;
                }

                Interlocked.Add(ref Stats._bytes, n);
                Position += n;
                Interlocked.Increment(ref Stats._packets);
                int total = carry + n;
                int offset = 0;
                long outOfRange = decoder.EventsOutOfRange;
                while (total - offset >= 8)
                {
                    Reserve(Math.Min((total - offset) / 8, Batch.Capacity));
                    int used = decoder.Decode(_buffer.AsSpan(offset, total - offset), 4, Batch);
                    offset += used;
                    if (used == 0)
                    {
                        Flush();
                    }
                }

                Interlocked.Add(ref Stats._dropped, decoder.EventsOutOfRange - outOfRange);
                Flush();
                carry = total - offset;
                if (carry > 0)
                {
                    Buffer.BlockCopy(_buffer, offset, _buffer, 0, carry);
                }
            }
        }
    }
}
