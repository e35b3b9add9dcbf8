using System.Reactive.Concurrency;
using System.Text.Json;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;
using EventSnn.Testing;

namespace EventSnn.Cli.Tests;

/// <summary>`eventsnn inspect tcp://... | udp://...` and `eventsnn bench pipeline`.</summary>
public class LiveInspectCliTests
{
    [Fact]
    public async Task Inspect_tcp_reads_a_DV_stream_and_reports_the_file_json()
    {
        const string fixture = "tonic/sample.aedat4";
        string path = Fixtures.Path(fixture);
        SensorGeometry geometry;
        using (Aedat4Reader r = Aedat4Reader.Open(path))
        {
            geometry = r.Geometry;
        }

        using var server = new Aedat4Server(new Aedat4ServerOptions { Port = 0, Geometry = geometry });
        Task<(int Code, string Out, string Err)> cli = Task.Run(() => CliHarness.Run("inspect", $"tcp://127.0.0.1:{server.LocalEndPoint.Port}", "--json", "--duration", "60"));
        Assert.True(server.WaitForClients(1, TimeSpan.FromSeconds(30)));
        EventReplay.Replay(() => Aedat4Reader.Open(path), scheduler: ImmediateScheduler.Instance).Subscribe(server);
        (int code, string stdout, string stderr) = await cli.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout.Trim());
        JsonElement actual = doc.RootElement;
        JsonElement expected = Fixtures.Expected[fixture];
        foreach (string key in new[] { "format", "events", "on", "t_first", "t_last", "t_min", "t_max", "x_max", "y_max", "sum_x", "sum_y", "width", "height" })
        {
            Assert.Equal(expected.GetProperty(key).ToString(), actual.GetProperty(key).ToString());
        }

        Assert.Equal("header", actual.GetProperty("geometry_source").GetString());
        Assert.Equal(0, actual.GetProperty("warnings").GetInt64());
    }

    [Fact]
    public async Task Inspect_udp_listens_for_the_duration()
    {
        int port;
        using (var probe = new System.Net.Sockets.UdpClient(0))
        {
            port = ((System.Net.IPEndPoint)probe.Client.LocalEndPoint!).Port;
        }

        // The datagrams go out as soon as the tool has bound the port (sent earlier they would be
        // dropped; a fixed delay is too short when the machine is loaded), from a dedicated
        // thread (a starved thread pool could start the sender after the duration is over).
        bool bound = false;
        var sender = Task.Factory.StartNew(
            () =>
            {
                bound = UdpPorts.WaitUntilBound(port, TimeSpan.FromSeconds(30));
                using var s = new JaerUdpSender(port, eventsPerDatagram: 100);
                using var batch = new EventBatch(1000);
                for (int i = 0; i < 1000; i++)
                {
                    batch.Add(100 + i, i % 128, (i / 128) % 128, i % 4 == 0);
                }

                s.OnNext(batch);
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        (int code, string stdout, string stderr) = CliHarness.Run("inspect", $"udp://127.0.0.1:{port}", "--json", "--duration", "2");
        double seconds = clock.Elapsed.TotalSeconds;
        await sender.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(bound, $"udp port {port} was never bound; stderr: {stderr}");
        Assert.True(seconds >= 1.9, $"returned after {seconds:F2} s, before the 2 s duration");
        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout.Trim());
        JsonElement r = doc.RootElement;
        Assert.Equal("aedat2", r.GetProperty("format").GetString());
        Assert.Equal(1000, r.GetProperty("events").GetInt64());
        Assert.Equal(250, r.GetProperty("on").GetInt64());
        Assert.Equal(100, r.GetProperty("t_first").GetInt64());
        Assert.Equal(1099, r.GetProperty("t_last").GetInt64());
        Assert.Equal(128, r.GetProperty("width").GetInt32());
        Assert.Equal(10, r.GetProperty("packets").GetInt64());
        Assert.Equal(0, r.GetProperty("lost_datagrams").GetInt64());
    }

    [Fact]
    public void Inspect_tcp_without_a_server_is_an_error_naming_the_peer()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        (int code, _, string stderr) = CliHarness.Run("inspect", $"tcp://127.0.0.1:{port}", "--json");
        Assert.NotEqual(0, code);
        Assert.Contains($"tcp://127.0.0.1:{port}", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_pipeline_json_prints_both_numbers()
    {
        (int code, string stdout, string stderr) = CliHarness.Run("bench", "pipeline", "--json", "--events", "50000", "--passes", "1", "--repeats", "1", "--seconds", "0.3", "--rate", "200000");
        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout.Trim());
        JsonElement r = doc.RootElement;
        Assert.True(r.GetProperty("events_per_second").GetDouble() > 0);
        Assert.True(r.GetProperty("latency_p99_ms").GetDouble() > 0);
        Assert.Equal(50000, r.GetProperty("throughput_events").GetInt64());
        Assert.Equal(60000, r.GetProperty("latency_events_sent").GetInt64());
    }
}
