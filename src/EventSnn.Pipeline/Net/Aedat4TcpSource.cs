using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>
/// Client of DV's AEDAT4 TCP output (dv-runtime's network server, and <see cref="Aedat4Server"/>):
/// on connect the server sends uint32 size + IOHeader FlatBuffer, then (int32 streamId, int32 size,
/// payload) packets compressed per the header; decoded by <see cref="Aedat4Reader"/> in network
/// mode. Every length is bounded by <see cref="Aedat4ClientOptions.Reader"/>'s MaxPacketBytes
/// before allocation. A malformed header or packet drops the connection (counted) and the source
/// reconnects with backoff; with reconnecting off, the stream ends when the server closes.
/// </summary>
public sealed class Aedat4TcpSource : LiveSource
{
    /// <summary>Creates the source (connects when subscribed).</summary>
    public Aedat4TcpSource(Aedat4ClientOptions options)
        : base(options, "tcp")
    {
        ClientOptions = options;
    }

    /// <summary>The client options.</summary>
    public Aedat4ClientOptions ClientOptions { get; }

    /// <summary>Compression announced by the last IOHeader received.</summary>
    public Aedat4Compression? Compression { get; private set; }

    private protected override LiveRun CreateRun(IObserver<EventBatch> observer) => new Run(this, observer);

    private sealed class Run(Aedat4TcpSource source, IObserver<EventBatch> observer) : TcpClientRun(source, observer)
    {
        protected override void Session(Stream stream)
        {
            ReaderOptions readerOptions = source.ClientOptions.Reader with { MaxPacketBytes = Math.Min(source.ClientOptions.Reader.MaxPacketBytes, Source.Options.MaxPacketBytes) };
            using var reader = new Aedat4Reader(stream, Source.SourceName, readerOptions, networkStream: true, leaveOpen: true);
            source.Compression = reader.Compression;
            if (reader.Geometry.IsKnown)
            {
                Source.Geometry = reader.Geometry;
            }

            long position = reader.Position, packets = 0;
            int warnings = 0;
            Account(reader, ref position, ref packets, ref warnings);
            while (!Stopped)
            {
                bool got = reader.Read(Batch);
                Account(reader, ref position, ref packets, ref warnings);
                if (!got)
                {
                    return;
                }

                Flush();
            }
        }

        private void Account(Aedat4Reader reader, ref long position, ref long packets, ref int warnings)
        {
            Stats._bytes.Add(reader.Position - position);
            position = reader.Position;
            Position = position;
            Stats._packets.Add(reader.PacketsRead - packets);
            packets = reader.PacketsRead;
            IReadOnlyList<FormatWarning> list = reader.Warnings;
            for (; warnings < list.Count; warnings++)
            {
                Fault(LiveFaultKind.Malformed, list[warnings].ToString());
            }
        }
    }
}
