using System.Net;
using System.Net.Sockets;
using System.Reactive.Concurrency;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Testing;

namespace EventSnn.Pipeline.Tests;

public class Aedat4LoopbackTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Struct-of-arrays copy of everything a source emits.</summary>
    private sealed class Recorder : IObserver<EventBatch>
    {
        public List<long> T { get; } = [];

        public List<ushort> X { get; } = [];

        public List<ushort> Y { get; } = [];

        public List<byte> P { get; } = [];

        public long Triggers;

        public ManualResetEventSlim Done { get; } = new(false);

        public Exception? Error;

        public void OnNext(EventBatch value)
        {
            T.AddRange(value.Timestamps);
            X.AddRange(value.Xs);
            Y.AddRange(value.Ys);
            P.AddRange(value.Polarities);
            Triggers += value.Triggers.Count;
        }

        public void OnError(Exception error)
        {
            Error = error;
            Done.Set();
        }

        public void OnCompleted() => Done.Set();
    }

    public static TheoryData<string> Aedat4Fixtures()
    {
        var data = new TheoryData<string>();
        foreach (string f in Fixtures.AllRecordings().Where(f => f.EndsWith(".aedat4", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal))
        {
            data.Add(f);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Aedat4Fixtures))]
    public void Our_server_streams_every_AEDAT4_fixture_to_our_client_and_every_event_arrives_in_order(string fixture)
    {
        string path = Fixtures.Path(fixture);
        var expected = new Recorder();
        SensorGeometry geometry;
        using (Aedat4Reader reader = Aedat4Reader.Open(path))
        {
            geometry = reader.Geometry;
            using var batch = new EventBatch();
            while (reader.Read(batch))
            {
                expected.OnNext(batch);
            }
        }

        Assert.Equal(Fixtures.Expected[fixture].GetProperty("events").GetInt64(), expected.T.Count);

        using var server = new Aedat4Server(new Aedat4ServerOptions { Port = 0, Geometry = geometry, EventsPerPacket = 4096 });
        var source = new Aedat4TcpSource(new Aedat4ClientOptions { Port = server.LocalEndPoint.Port, Reconnect = false });
        var received = new Recorder();
        using (source.Subscribe(received))
        {
            Assert.True(server.WaitForClients(1, Patience));
            EventReplay.Replay(() => Aedat4Reader.Open(path), scheduler: ImmediateScheduler.Instance).Subscribe(server);
            Assert.True(received.Done.Wait(Patience), "the client did not see the end of the stream");
        }

        Assert.Null(received.Error);
        Assert.Equal(expected.T, received.T);
        Assert.Equal(expected.X, received.X);
        Assert.Equal(expected.Y, received.Y);
        Assert.Equal(expected.P, received.P);
        Assert.Equal(expected.Triggers, received.Triggers);
        Assert.Equal(geometry, source.Geometry);
        Assert.Equal(Aedat4Compression.Lz4, source.Compression);
        Assert.Equal(0, source.Statistics.MalformedPackets);
        Assert.True(server.Packets >= expected.T.Count / 4096);
    }

    [Fact]
    public void Zstd_server_and_two_clients_get_the_same_events()
    {
        var geometry = new SensorGeometry(64, 48);
        DvsEvent[] events = Ev.Random(21, 20_000, 64, 48, 3);
        using var server = new Aedat4Server(new Aedat4ServerOptions { Port = 0, Geometry = geometry, Compression = Aedat4Compression.Zstd, EventsPerPacket = 1000 });
        var a = new Recorder();
        var b = new Recorder();
        var sa = new Aedat4TcpSource(new Aedat4ClientOptions { Port = server.LocalEndPoint.Port, Reconnect = false });
        var sb = new Aedat4TcpSource(new Aedat4ClientOptions { Port = server.LocalEndPoint.Port, Reconnect = false });
        using (sa.Subscribe(a))
        using (sb.Subscribe(b))
        {
            Assert.True(server.WaitForClients(2, Patience));
            EventReplay.Replay(() => new FakeDvsReader(events, 777, geometry), scheduler: ImmediateScheduler.Instance).Subscribe(server);
            Assert.True(a.Done.Wait(Patience) && b.Done.Wait(Patience));
        }

        Assert.Equal(events.Select(e => e.T), a.T);
        Assert.Equal(a.T, b.T);
        Assert.Equal(a.X, b.X);
        Assert.Equal(geometry, sa.Geometry);
        Assert.Equal(Aedat4Compression.Zstd, sb.Compression);
    }

    [Fact]
    public async Task Absurd_ioheader_length_is_counted_as_malformed_and_the_client_reconnects()
    {
        // a valid DV network stream: a writer's file bytes without the 14-byte magic line
        var geometry = new SensorGeometry(32, 32);
        DvsEvent[] events = Ev.Random(4, 3000, 32, 32, 5);
        byte[] file;
        using (var ms = new MemoryStream())
        {
            using (var w = new Aedat4Writer(ms, new Aedat4WriterOptions { Geometry = geometry, WriteTable = false, LeaveOpen = true }))
            {
                using EventBatch batch = Ev.Batch(events);
                w.WriteEvents(batch);
            }

            file = ms.ToArray();
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task server = Task.Run(() =>
        {
            using (TcpClient bad = listener.AcceptTcpClient())
            {
                bad.GetStream().Write([0xF0, 0xFF, 0xFF, 0x7F, 1, 2, 3, 4]); // IOHeader "size" of 2 GiB
                Thread.Sleep(100);
            }

            using TcpClient good = listener.AcceptTcpClient();
            good.GetStream().Write(file.AsSpan(14));
        });
        var faults = new List<LiveFault>();
        var source = new Aedat4TcpSource(new Aedat4ClientOptions { Port = ((IPEndPoint)listener.LocalEndpoint).Port, ReconnectDelay = TimeSpan.FromMilliseconds(10), OnFault = f => { lock (faults) { faults.Add(f); } } });
        var received = new Recorder();
        using (source.Subscribe(received))
        {
            var deadline = DateTime.UtcNow + Patience;
            while (received.T.Count < events.Length && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(5);
            }
        }

        await server.WaitAsync(Patience);
        Assert.Equal(events.Select(e => e.T), received.T);
        Assert.Equal(1, source.Statistics.MalformedPackets);
        Assert.True(source.Statistics.Reconnects >= 1);
        lock (faults)
        {
            Assert.Contains(faults, f => f.Kind == LiveFaultKind.Malformed);
        }
    }

    [Fact]
    public async Task Tcp_inspect_reads_a_DV_stream_until_the_server_closes()
    {
        string path = Fixtures.Path("shiba24/sample.aedat4");
        using var server = new Aedat4Server(new Aedat4ServerOptions { Port = 0, Geometry = SensorGeometry.Davis346 });
        Task<LiveInspectResult> inspect = Task.Run(() => LiveInspect.Run($"tcp://127.0.0.1:{server.LocalEndPoint.Port}", new LiveInspectOptions { Duration = TimeSpan.FromSeconds(30) }));
        Assert.True(server.WaitForClients(1, Patience));
        EventReplay.Replay(() => Aedat4Reader.Open(path), scheduler: ImmediateScheduler.Instance).Subscribe(server);
        LiveInspectResult r = await inspect.WaitAsync(Patience);
        var e = Fixtures.Expected["shiba24/sample.aedat4"];
        Assert.False(r.TimedOut);
        Assert.Equal(EventFormat.Aedat4, r.Format);
        Assert.Equal(e.GetProperty("events").GetInt64(), r.Statistics.Events);
        Assert.Equal(e.GetProperty("on").GetInt64(), r.Statistics.On);
        Assert.Equal(e.GetProperty("t_first").GetInt64(), r.Statistics.TFirst);
        Assert.Equal(e.GetProperty("t_last").GetInt64(), r.Statistics.TLast);
        Assert.Equal(e.GetProperty("sum_x").GetInt64(), r.Statistics.SumX);
        Assert.Equal(e.GetProperty("sum_y").GetInt64(), r.Statistics.SumY);
        Assert.Equal(SensorGeometry.Davis346, r.Geometry);
    }
}
