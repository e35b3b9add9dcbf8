using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline.Tests;

public class NetworkTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>Collects copies of the events a live source emits (batches are borrowed).</summary>
    private sealed class Collector : IObserver<EventBatch>
    {
        public ConcurrentQueue<DvsEvent> Events { get; } = new();

        public ManualResetEventSlim Done { get; } = new(false);

        public Exception? Error { get; private set; }

        public int Batches;

        public void OnNext(EventBatch value)
        {
            Interlocked.Increment(ref Batches);
            foreach (DvsEvent e in value.ToArray())
            {
                Events.Enqueue(e);
            }
        }

        public void OnError(Exception error)
        {
            Error = error;
            Done.Set();
        }

        public void OnCompleted() => Done.Set();
    }

    private static void WaitFor(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the source");
            Thread.Sleep(5);
        }
    }

    private static DvsEvent[] Dvs128Events(int n, long t0 = 1000) =>
        Enumerable.Range(0, n).Select(i => new DvsEvent(t0 + (i * 3), (ushort)(i % 128), (ushort)((i / 128) % 128), i % 3 != 0)).ToArray();

    private static byte[] JaerRecords(IEnumerable<DvsEvent> events)
    {
        var bytes = new List<byte>();
        Span<byte> r = stackalloc byte[8];
        foreach (DvsEvent e in events)
        {
            BinaryPrimitives.WriteUInt32BigEndian(r, JaerAddress.EncodeDvs128(e.X, e.Y, e.On));
            BinaryPrimitives.WriteInt32BigEndian(r[4..], (int)e.T);
            bytes.AddRange(r.ToArray());
        }

        return [.. bytes];
    }

    private static byte[] Numbered(int sequence, byte[] records)
    {
        byte[] d = new byte[4 + records.Length];
        BinaryPrimitives.WriteInt32BigEndian(d, sequence);
        records.CopyTo(d, 4);
        return d;
    }

    [Fact]
    public void Jaer_udp_loss_counter_equals_the_datagrams_dropped_every_kth()
    {
        var source = new JaerUdpSource(new JaerSourceOptions { Port = 0 });
        var sink = new Collector();
        using IDisposable sub = source.Subscribe(sink);
        int port = source.LocalEndPoint!.Port;
        using var udp = new UdpClient(AddressFamily.InterNetwork);
        const int datagrams = 1000, perDatagram = 50, k = 7; // the last datagram (999) is not dropped: a trailing gap is invisible
        DvsEvent[] all = Dvs128Events(datagrams * perDatagram);
        var expected = new List<DvsEvent>();
        int dropped = 0, sent = 0;
        for (int seq = 0; seq < datagrams; seq++)
        {
            DvsEvent[] part = all.AsSpan(seq * perDatagram, perDatagram).ToArray();
            if (seq % k == k - 1)
            {
                dropped++; // the sender "loses" every k-th datagram
                continue;
            }

            expected.AddRange(part);
            udp.Send(Numbered(seq, JaerRecords(part)), new IPEndPoint(IPAddress.Loopback, port));
            sent++;
            if (sent % 50 == 0)
            {
                // flow control: the kernel must never drop a datagram here, only the test does
                long target = sent;
                WaitFor(() => source.Statistics.Packets >= target);
            }
        }

        WaitFor(() => source.Statistics.Packets == datagrams - dropped);
        Assert.Equal(dropped, source.Statistics.LostDatagrams);
        Assert.Equal(142, dropped);
        Assert.Equal(expected, sink.Events.ToArray());
        Assert.Equal(0, source.Statistics.ReorderedDatagrams);
        Assert.Equal(0, source.Statistics.MalformedPackets);
    }

    [Fact]
    public void Jaer_udp_reordered_duplicate_and_malformed_datagrams_are_survived_and_counted()
    {
        var faults = new ConcurrentQueue<LiveFault>();
        var source = new JaerUdpSource(new JaerSourceOptions { Port = 0, OnFault = faults.Enqueue });
        var sink = new Collector();
        using IDisposable sub = source.Subscribe(sink);
        var target = new IPEndPoint(IPAddress.Loopback, source.LocalEndPoint!.Port);
        using var udp = new UdpClient(AddressFamily.InterNetwork);
        DvsEvent[] ev = Dvs128Events(6);
        udp.Send(Numbered(0, JaerRecords(ev[..1])), target);
        udp.Send(Numbered(1, JaerRecords(ev[1..2])), target);
        udp.Send(Numbered(3, JaerRecords(ev[3..4])), target); // 2 missing for now
        udp.Send(Numbered(2, JaerRecords(ev[2..3])), target); // late: fills the gap
        udp.Send(Numbered(2, JaerRecords(ev[2..3])), target); // duplicate: dropped
        udp.Send([1, 2, 3], target);                            // too short: malformed
        udp.Send(new byte[4 + 13], target);                     // not 4 + 8k: malformed
        udp.Send(Numbered(4, JaerRecords(ev[4..6])), target);
        WaitFor(() => source.Statistics.Packets == 8);
        Assert.Equal(0, source.Statistics.LostDatagrams);
        Assert.Equal(1, source.Statistics.ReorderedDatagrams);
        Assert.Equal(1, source.Statistics.DuplicateDatagrams);
        Assert.Equal(2, source.Statistics.MalformedPackets);
        Assert.Equal([ev[0], ev[1], ev[3], ev[2], ev[4], ev[5]], sink.Events.ToArray());
        Assert.Contains(faults, f => f.Kind == LiveFaultKind.Malformed && f.Source.StartsWith("udp://127.0.0.1:", StringComparison.Ordinal));
        Assert.Null(sink.Error);
    }

    [Fact]
    public void Jaer_udp_sender_round_trips_through_the_source()
    {
        var source = new JaerUdpSource(new JaerSourceOptions { Port = 0 });
        var sink = new Collector();
        using IDisposable sub = source.Subscribe(sink);
        using var sender = new JaerUdpSender(source.LocalEndPoint!.Port, eventsPerDatagram: 100);
        DvsEvent[] events = Dvs128Events(1234);
        using EventBatch batch = Ev.Batch(events);
        sender.OnNext(batch);
        WaitFor(() => sink.Events.Count == events.Length);
        Assert.Equal(13, sender.Datagrams);
        Assert.Equal(events, sink.Events.ToArray());
    }

    [Fact]
    public async Task Jaer_tcp_reads_until_the_peer_closes_and_reconnects_after_a_disconnect()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        DvsEvent[] first = Dvs128Events(1000), second = Dvs128Events(500, 1_000_000);
        Task server = Task.Run(() =>
        {
            foreach (DvsEvent[] part in new[] { first, second })
            {
                using TcpClient c = listener.AcceptTcpClient();
                using NetworkStream s = c.GetStream();
                byte[] bytes = JaerRecords(part);
                int cut = (bytes.Length / 2) + 3; // split mid-record
                s.Write(bytes, 0, cut);
                s.Flush();
                Thread.Sleep(20);
                s.Write(bytes, cut, bytes.Length - cut);
            }
        });

        var source = new JaerTcpSource(new JaerSourceOptions { Port = port, ReconnectDelay = TimeSpan.FromMilliseconds(20) });
        var sink = new Collector();
        using (source.Subscribe(sink))
        {
            try
            {
                WaitFor(() => sink.Events.Count == first.Length + second.Length);
            }
            catch
            {
                throw new InvalidOperationException($"{sink.Events.Count} events; {source.Statistics}; {sink.Error}");
            }
        }

        await server.WaitAsync(Patience);
        Assert.Equal([.. first, .. second], sink.Events.ToArray());
        Assert.True(source.Statistics.Connections >= 2);
        Assert.True(source.Statistics.Disconnects >= 1);
        Assert.True(source.Statistics.Reconnects >= 1);
    }

    [Fact]
    public void Tcp_source_without_reconnect_completes_when_the_peer_closes()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        DvsEvent[] events = Dvs128Events(300);
        Task server = Task.Run(() =>
        {
            using TcpClient c = listener.AcceptTcpClient();
            c.GetStream().Write(JaerRecords(events));
        });
        var source = new JaerTcpSource(new JaerSourceOptions { Port = ((IPEndPoint)listener.LocalEndpoint).Port, Reconnect = false });
        var sink = new Collector();
        using IDisposable sub = source.Subscribe(sink);
        Assert.True(sink.Done.Wait(Patience));
        Assert.Null(sink.Error);
        Assert.Equal(events, sink.Events.ToArray());
    }

    [Fact]
    public void Tcp_source_that_cannot_connect_fails_with_the_peer_named()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var source = new JaerTcpSource(new JaerSourceOptions { Port = port, Reconnect = false });
        var sink = new Collector();
        using IDisposable sub = source.Subscribe(sink);
        Assert.True(sink.Done.Wait(Patience));
        var error = Assert.IsType<PipelineException>(sink.Error);
        Assert.Equal($"tcp://127.0.0.1:{port}", error.SourceName);

        // with a reconnect limit the source retries, counts, then gives up
        var limited = new JaerTcpSource(new JaerSourceOptions { Port = port, MaxReconnects = 2, ReconnectDelay = TimeSpan.FromMilliseconds(5) });
        var sink2 = new Collector();
        using IDisposable sub2 = limited.Subscribe(sink2);
        Assert.True(sink2.Done.Wait(Patience));
        Assert.Contains("gave up", sink2.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(2, limited.Statistics.Reconnects);
    }

    private static byte[] Aedat3Packet(DvsEvent[] events, int capacityOverride = -1, int eventSize = 8)
    {
        byte[] packet = new byte[Aedat31PacketHeader.Size + (events.Length * 8)];
        int capacity = capacityOverride >= 0 ? capacityOverride : events.Length;
        new Aedat31PacketHeader(1, 1, eventSize, 4, 0, capacity, events.Length, events.Length).Write(packet);
        for (int i = 0; i < events.Length; i++)
        {
            DvsEvent e = events[i];
            uint data = 1u | (e.On ? 2u : 0u) | ((uint)e.Y << 2) | ((uint)e.X << 17);
            BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(Aedat31PacketHeader.Size + (i * 8)), data);
            BinaryPrimitives.WriteInt32LittleEndian(packet.AsSpan(Aedat31PacketHeader.Size + (i * 8) + 4), (int)e.T);
        }

        return packet;
    }

    private static byte[] NetworkHeader(long sequence, long magic = Aedat3NetworkHeader.ExpectedMagic)
    {
        byte[] h = new byte[Aedat3NetworkHeader.Size];
        new Aedat3NetworkHeader(magic, sequence, 1, 0, 1).Write(h);
        return h;
    }

    [Fact]
    public async Task Aedat3_tcp_absurd_packet_length_is_counted_the_connection_dropped_and_the_next_one_read()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        DvsEvent[] good = Dvs128Events(700);
        Task server = Task.Run(() =>
        {
            using (TcpClient bad = listener.AcceptTcpClient())
            {
                NetworkStream s = bad.GetStream();
                s.Write(NetworkHeader(0));
                s.Write(Aedat3Packet(good[..10]));
                s.Write(Aedat3Packet([], capacityOverride: 1 << 30)); // claims 8 GiB
                Thread.Sleep(50);
            }

            using TcpClient ok = listener.AcceptTcpClient();
            NetworkStream s2 = ok.GetStream();
            s2.Write(NetworkHeader(0));
            s2.Write(Aedat3Packet(good[..300]));
            s2.Write(Aedat3Packet(good[300..]));
        });
        var source = new Aedat3TcpSource(new Aedat3NetworkOptions { Port = ((IPEndPoint)listener.LocalEndpoint).Port, ReconnectDelay = TimeSpan.FromMilliseconds(10) });
        var sink = new Collector();
        using (source.Subscribe(sink))
        {
            WaitFor(() => sink.Events.Count == 10 + good.Length);
        }

        await server.WaitAsync(Patience);
        Assert.Equal(1, source.Statistics.MalformedPackets);
        Assert.Equal([.. good[..10], .. good], sink.Events.ToArray());
        Assert.Null(sink.Error);
    }

    [Fact]
    public void Aedat3_udp_sequence_loss_bad_magic_and_oversized_packets_are_counted()
    {
        var source = new Aedat3UdpSource(new Aedat3NetworkOptions { Port = 0 });
        var sink = new Collector();
        using IDisposable sub = source.Subscribe(sink);
        var target = new IPEndPoint(IPAddress.Loopback, source.LocalEndPoint!.Port);
        using var udp = new UdpClient(AddressFamily.InterNetwork);
        DvsEvent[] ev = Dvs128Events(40);
        udp.Send([.. NetworkHeader(10), .. Aedat3Packet(ev[..10])], target);
        udp.Send([.. NetworkHeader(11, magic: 42), .. Aedat3Packet(ev[10..20])], target);     // bad magic
        udp.Send([.. NetworkHeader(13), .. Aedat3Packet(ev[20..30])], target);               // 12 lost (11 was malformed: counted lost too)
        udp.Send([.. NetworkHeader(14), .. Aedat3Packet(ev[30..32], capacityOverride: 1 << 28)], target); // packet longer than the datagram
        udp.Send([.. NetworkHeader(15), .. Aedat3Packet(ev[32..])], target);
        WaitFor(() => source.Statistics.Packets == 5);
        Assert.Equal(2, source.Statistics.MalformedPackets);
        Assert.Equal(2, source.Statistics.LostDatagrams);
        Assert.Equal([.. ev[..10], .. ev[20..30], .. ev[32..]], sink.Events.ToArray());
    }

    [Fact]
    public void Disposing_a_udp_subscription_stops_the_receive_thread()
    {
        var source = new JaerUdpSource(new JaerSourceOptions { Port = 0 });
        var sink = new Collector();
        IDisposable sub = source.Subscribe(sink);
        int port = source.LocalEndPoint!.Port;
        sub.Dispose();
        using var udp = new UdpClient(AddressFamily.InterNetwork);
        udp.Send(Numbered(0, JaerRecords(Dvs128Events(5))), new IPEndPoint(IPAddress.Loopback, port));
        Thread.Sleep(50);
        Assert.Empty(sink.Events);
        Assert.False(sink.Done.IsSet); // disposal is silent (no OnCompleted/OnError)
    }
}

public class LiveInspectTests
{
    [Fact]
    public async Task Udp_inspect_reports_file_like_statistics_when_the_duration_elapses()
    {
        int port;
        using (var probe = new System.Net.Sockets.UdpClient(0))
        {
            port = ((System.Net.IPEndPoint)probe.Client.LocalEndPoint!).Port;
        }

        DvsEvent[] events = Enumerable.Range(0, 2000).Select(i => new DvsEvent(500 + i, (ushort)(i % 100), (ushort)(i % 50), i % 2 == 0)).ToArray();
        // Send once the inspector has bound the port (a fixed delay loses the datagrams under load),
        // from a dedicated thread (a starved thread pool could start the sender after the duration).
        bool bound = false;
        Task sender = Task.Factory.StartNew(
            () =>
            {
                bound = EventSnn.Testing.UdpPorts.WaitUntilBound(port, TimeSpan.FromSeconds(30));
                using var s = new JaerUdpSender(port, eventsPerDatagram: 400);
                using EventBatch b = Ev.Batch(events);
                s.OnNext(b);
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        LiveInspectResult r = LiveInspect.Run($"udp://127.0.0.1:{port}", new LiveInspectOptions { Duration = TimeSpan.FromSeconds(2) });
        await sender.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(bound, $"nothing bound UDP port {port}");
        Assert.True(r.TimedOut);
        Assert.Equal(2000, r.Statistics.Events);
        Assert.Equal(1000, r.Statistics.On);
        Assert.Equal((500L, 2499L), (r.Statistics.TFirst, r.Statistics.TLast));
        Assert.Equal(events.Sum(e => (long)e.X), r.Statistics.SumX);
        Assert.Equal(5, r.Counters.Packets);
        Assert.Equal(SensorGeometry.Dvs128, r.Geometry);
        Assert.Equal($"udp://127.0.0.1:{port}", r.Source);
    }

    [Fact]
    public void Bad_addresses_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => LiveInspect.CreateSource("udp://nohost"));
        Assert.Throws<ArgumentException>(() => LiveInspect.CreateSource("http://127.0.0.1:80"));
        Assert.True(LiveInspect.IsLiveAddress("tcp://127.0.0.1:7777"));
        Assert.False(LiveInspect.IsLiveAddress("recording.aedat4"));
    }
}
