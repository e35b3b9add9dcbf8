using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;
using EventSnn.Testing;

namespace EventSnn.Cli.Tests;

/// <summary>`eventsnn send`: real sockets on 127.0.0.1 against `serve` (a launched process), a jAER UDP receiver and a DV client.</summary>
public class SendTests
{
    private static readonly string Recording = Path.Combine(ServeStreams.RepoRoot(), "recordings", "gestures", "user01_synthetic.aedat4");

    [Fact]
    public async Task Send_over_jaer_tcp_and_dv_into_serve_delivers_every_event_of_the_recording()
    {
        long expected = CountEvents(Recording);
        Assert.True(expected > 10_000);
        using var tool = ToolProcess.Start(["serve", "--dv-port", "0", "--jaer-tcp-port", "0", "--jaer-udp-port", "0", "--publish-port", "0", "--http-port", "0", "--json", "--duration", "60"]);
        JsonElement listening = JsonDocument.Parse(await tool.WaitForLine(l => l.Contains("\"listening\"", StringComparison.Ordinal))).RootElement.GetProperty("listening");
        int http = listening.GetProperty("http").GetInt32();

        (int code, string output, string err) = CliHarness.Run("send", Recording, $"tcp://127.0.0.1:{listening.GetProperty("dv").GetInt32()}", "--protocol", "dv", "--speed", "0", "--json");
        Assert.True(code == 0, err);
        JsonElement dvSummary = JsonDocument.Parse(output).RootElement;
        Assert.Equal(expected, dvSummary.GetProperty("events").GetInt64());
        Assert.Equal("dv", dvSummary.GetProperty("protocol").GetString());
        Assert.False(dvSummary.GetProperty("interrupted").GetBoolean());

        // jAER TCP is the default protocol of tcp://; paced at 20x real time (the recording spans 13.4 s)
        (code, output, err) = CliHarness.Run("send", Recording, $"tcp://127.0.0.1:{listening.GetProperty("jaer_tcp").GetInt32()}", "--speed", "20");
        Assert.True(code == 0, err);
        Assert.StartsWith($"sent {expected} events in ", output, StringComparison.Ordinal);
        double seconds = double.Parse(output.Split(" in ")[2].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 0.5, 10); // paced: 13.4 s / 20 = 0.67 s, not instantaneous

        // serve's health: two ended streams, each with every event
        JsonElement[] streams = [];
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            (int status, string body) = await HttpProbe.Get(http, "/health");
            Assert.Equal(200, status);
            streams = [.. JsonDocument.Parse(body).RootElement.GetProperty("streams").EnumerateArray()];
            if (streams.Length == 2 && streams.All(s => !s.GetProperty("active").GetBoolean()))
            {
                break;
            }

            await Task.Delay(50);
        }

        Assert.Equal(2, streams.Length);
        Assert.Single(streams, s => s.GetProperty("kind").GetString() == "dv" && s.GetProperty("events").GetInt64() == expected && s.GetProperty("malformed").GetInt64() == 0);
        Assert.Single(streams, s => s.GetProperty("kind").GetString() == "jaer-tcp" && s.GetProperty("events").GetInt64() == expected && s.GetProperty("out_of_range").GetInt64() == 0);
        Assert.All(streams, s => Assert.True(s.GetProperty("decisions").GetInt64() > 0));
    }

    [Fact]
    public void Send_over_udp_as_fast_as_possible_reaches_a_jaer_receiver_with_the_losses_it_counts()
    {
        long expected = CountEvents(Recording);
        var source = new JaerUdpSource(new JaerSourceOptions { Port = 0, ReceiveBufferBytes = 16 << 20 });
        long received = 0;
        long tFirst = long.MaxValue;
        long tLast = long.MinValue;
        using IDisposable sub = source.Subscribe(b =>
        {
            Interlocked.Add(ref received, b.Count);
            if (b.Count > 0)
            {
                tFirst = Math.Min(tFirst, b.T[0]);
                tLast = Math.Max(tLast, b.T[b.Count - 1]);
            }
        });
        int port = source.LocalEndPoint!.Port;

        (int code, string output, string err) = CliHarness.Run("send", Recording, $"udp://127.0.0.1:{port}", "--speed", "0", "--json");
        Assert.True(code == 0, err);
        JsonElement summary = JsonDocument.Parse(output).RootElement;
        Assert.Equal(expected, summary.GetProperty("events").GetInt64());
        Assert.Equal("udp://127.0.0.1:" + port, summary.GetProperty("peer").GetString());
        long datagrams = summary.GetProperty("packets").GetInt64();

        var clock = Stopwatch.StartNew();
        while (source.Statistics.Packets + source.Statistics.LostDatagrams < datagrams && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            Thread.Sleep(20);
        }

        Thread.Sleep(100);
        long lost = source.Statistics.LostDatagrams;
        Assert.Equal(0, source.Statistics.MalformedPackets);
        Assert.Equal(0, source.Statistics.DroppedEvents);
        if (lost == 0)
        {
            // nothing lost on loopback (the usual case): every event arrived, with the recording's time span
            Assert.Equal(expected, Interlocked.Read(ref received));
            Assert.Equal(datagrams, source.Statistics.Packets);
        }
        else
        {
            // under load the kernel may drop datagrams: the receiver's sequence numbers count every one of them
            Assert.Equal(datagrams, source.Statistics.Packets + lost);
            Assert.InRange(Interlocked.Read(ref received), expected - (lost * 1020), expected - lost);
        }

        Assert.True(tLast - tFirst > 13_000_000, $"{tFirst}..{tLast}");
    }

    [Fact]
    public async Task Send_with_listen_serves_the_recording_to_a_dv_client()
    {
        long expected = CountEvents(Recording);
        int port = FreeTcpPort();
        Task<(int, string, string)> send = Task.Run(() => CliHarness.Run("send", Recording, $"tcp://127.0.0.1:{port}", "--listen", "--speed", "0", "--json"));
        LiveInspectResult? result = null;
        var clock = Stopwatch.StartNew();
        while (result is null)
        {
            try
            {
                result = LiveInspect.Run($"tcp://127.0.0.1:{port}", new LiveInspectOptions { Duration = TimeSpan.FromSeconds(20) });
            }
            catch (PipelineException) when (clock.Elapsed < TimeSpan.FromSeconds(15))
            {
                await Task.Delay(50); // not listening yet
            }
        }

        (int code, string output, string err) = await send;
        Assert.True(code == 0, err);
        Assert.Contains("listening on tcp://127.0.0.1:" + port, err, StringComparison.Ordinal);
        Assert.Equal(expected, result.Statistics.Events);
        Assert.Equal(new SensorGeometry(128, 128), result.Geometry);
        Assert.Equal(expected, JsonDocument.Parse(output).RootElement.GetProperty("events").GetInt64());
    }

    [Theory]
    [InlineData("aedat3")]
    [InlineData("jaer")]
    public async Task Send_with_listen_streams_aedat3_or_jaer_to_the_tcp_client_that_connects(string protocol)
    {
        long expected = CountEvents(Recording);
        int port = FreeTcpPort();
        Task<(int, string, string)> send = Task.Run(() => CliHarness.Run("send", Recording, $"tcp://127.0.0.1:{port}", "--listen", "--protocol", protocol, "--speed", "0", "--json"));
        var options = new Aedat3NetworkOptions { Port = port, ReconnectDelay = TimeSpan.FromMilliseconds(50), MaxReconnectDelay = TimeSpan.FromMilliseconds(200) };
        LiveSource source = protocol == "aedat3" ? new Aedat3TcpSource(options) : new JaerTcpSource(new JaerSourceOptions { Port = port, ReconnectDelay = options.ReconnectDelay, MaxReconnectDelay = options.MaxReconnectDelay });
        long received = 0;
        long tFirst = long.MaxValue;
        long tLast = long.MinValue;
        (int code, string output, string err) result;
        using (source.Subscribe(b =>
        {
            if (b.Count > 0)
            {
                tFirst = Math.Min(tFirst, b.T[0]);
                tLast = Math.Max(tLast, b.T[b.Count - 1]);
            }

            Interlocked.Add(ref received, b.Count);
        }))
        {
            result = await send.WaitAsync(TimeSpan.FromSeconds(30));
        }

        Assert.True(result.code == 0, result.err);
        Assert.Equal(expected, Interlocked.Read(ref received));
        Assert.Equal(expected, JsonDocument.Parse(result.output).RootElement.GetProperty("events").GetInt64());
        Assert.Equal(protocol, JsonDocument.Parse(result.output).RootElement.GetProperty("protocol").GetString());
        Assert.Equal(0, source.Statistics.MalformedPackets);
        Assert.InRange(tLast - tFirst, 13_000_000, 14_000_000); // the recording's 13.4 s
    }

    [Fact]
    public void Send_aedat3_over_udp_reaches_an_aedat3_receiver()
    {
        long expected = CountEvents(Recording);
        var source = new Aedat3UdpSource(new Aedat3NetworkOptions { Port = 0, ReceiveBufferBytes = 16 << 20 });
        long received = 0;
        using IDisposable sub = source.Subscribe(b => Interlocked.Add(ref received, b.Count));
        int port = source.LocalEndPoint!.Port;

        (int code, string output, string err) = CliHarness.Run("send", Recording, $"udp://127.0.0.1:{port}", "--protocol", "aedat3", "--speed", "50", "--json");
        Assert.True(code == 0, err);
        long datagrams = JsonDocument.Parse(output).RootElement.GetProperty("packets").GetInt64();
        Assert.True(datagrams >= expected / Aedat3UdpSender.EventsPerDatagram);
        var clock = Stopwatch.StartNew();
        while (source.Statistics.Packets + source.Statistics.LostDatagrams < datagrams && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            Thread.Sleep(20);
        }

        Thread.Sleep(100);
        Assert.Equal(0, source.Statistics.MalformedPackets);
        long lost = source.Statistics.LostDatagrams;
        Assert.Equal(datagrams, source.Statistics.Packets + lost);
        Assert.InRange(Interlocked.Read(ref received), expected - (lost * Aedat3UdpSender.EventsPerDatagram), expected);
        Assert.True(lost == 0 || received < expected);
    }

    [Fact]
    public async Task Stopping_a_looping_send_to_a_peer_that_never_reads_does_not_hang_and_prints_the_summary()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Task<Socket> accepted = listener.AcceptSocketAsync();
        using var stop = new CancellationTokenSource();
        var command = new EventSnn.Cli.Commands.SendCommand { StopToken = stop.Token };
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Task<int> run = Task.Run(() => command.Execute(ParsedArgs.Parse([Recording, $"tcp://127.0.0.1:{port}", "--loop", "--speed", "0", "--json"], command), stdout, stderr));
        using Socket peer = await accepted; // accepts, never reads: the send buffers fill and the sender blocks
        await Task.Delay(1500);
        Assert.False(run.IsCompleted, stderr.ToString());
        var clock = Stopwatch.StartNew();
        stop.Cancel();
        int code = await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(CommandRunner.Interrupted, code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), clock.Elapsed.ToString());
        JsonElement summary = JsonDocument.Parse(stdout.ToString()).RootElement;
        Assert.True(summary.GetProperty("interrupted").GetBoolean());
        Assert.True(summary.GetProperty("events").GetInt64() > 0);
    }

    [Fact]
    public void Connection_refused_names_the_peer_and_exits_2()
    {
        int port = FreeTcpPort(); // nothing listens there any more
        var clock = Stopwatch.StartNew();
        (int code, string output, string err) = CliHarness.Run("send", Recording, $"tcp://127.0.0.1:{port}");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Empty(output);
        Assert.StartsWith($"error: tcp://127.0.0.1:{port}: cannot connect: ", err, StringComparison.Ordinal);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData("--protocol", "aedat9", "option --protocol: 'aedat9' is not one of jaer, dv, aedat3")]
    [InlineData("--speed", "-2", "option --speed")]
    [InlineData("--listen", null, "option --listen: only for tcp://")]
    public void Bad_options_are_usage_errors_naming_the_option(string option, string? value, string message)
    {
        string[] args = value is null ? ["send", Recording, "udp://127.0.0.1:9", option] : ["send", Recording, "udp://127.0.0.1:9", option, value];
        (int code, _, string err) = CliHarness.Run(args);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.StartsWith("error: " + message, err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8991")]
    [InlineData("udp://127.0.0.1")]
    [InlineData("tcp://:7777")]
    [InlineData("127.0.0.1:7777")]
    public void Bad_addresses_are_usage_errors_naming_the_address(string address)
    {
        (int code, _, string err) = CliHarness.Run("send", Recording, address);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Equal($"error: '{address}' is not udp://host:port or tcp://host:port", err.TrimEnd());
    }

    [Fact]
    public void Missing_and_corrupt_recordings_are_named_before_any_socket_is_used()
    {
        (int code, _, string err) = CliHarness.Run("send", "/nonexistent/rec.aedat4", "udp://127.0.0.1:9");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Equal("error: /nonexistent/rec.aedat4: file not found", err.TrimEnd());

        string corrupt = Path.Combine(Path.GetTempPath(), "eventsnn-send-" + Guid.NewGuid().ToString("N") + ".aedat4");
        try
        {
            byte[] bytes = File.ReadAllBytes(Recording);
            File.WriteAllBytes(corrupt, [.. bytes.AsSpan(0, 14), .. new byte[400]]); // the magic, then zeros where the IOHeader belongs
            (code, _, err) = CliHarness.Run("send", corrupt, "tcp://127.0.0.1:9"); // would be refused: the file fails first
            Assert.Equal(CommandRunner.BadInput, code);
            Assert.StartsWith("error: " + corrupt, err, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(corrupt);
        }
    }

    private static long CountEvents(string path)
    {
        using IDvsEventReader reader = EventReaders.OpenDvs(path);
        var stats = new EventStatistics();
        EventReaders.Drain(reader, stats);
        return stats.Events;
    }

    private static int FreeTcpPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
