using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EventSnn.Pipeline;
using EventSnn.Testing;

namespace EventSnn.Pipeline.Tests;

/// <summary><see cref="LabelStreamClient"/>: "t_us,label" lines over TCP.</summary>
public class LabelStreamClientTests
{
    [Theory]
    [InlineData("1700000001142000,10", true, 1700000001142000L, 10)]
    [InlineData(" 5 , 2 ", true, 5L, 2)]
    [InlineData("-3,0", true, -3L, 0)]
    [InlineData("class,t", false, 0L, 0)]
    [InlineData("12", false, 0L, 0)]
    [InlineData("12,x", false, 0L, 0)]
    [InlineData(",1", false, 0L, 0)]
    public void Lines_parse_as_two_integers(string line, bool ok, long t, int label)
    {
        Assert.Equal(ok, LabelStreamClient.TryParse(line, out long tUs, out int l));
        if (ok)
        {
            Assert.Equal(t, tUs);
            Assert.Equal(label, l);
        }
    }

    [Fact]
    public async Task Labels_arrive_in_order_header_and_comments_skipped_malformed_counted()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Task serve = Task.Run(async () =>
        {
            using TcpClient client = await listener.AcceptTcpClientAsync();
            using NetworkStream stream = client.GetStream();
            byte[] text = Encoding.ASCII.GetBytes("t_us,label\r\n100,1\n# comment\n\nnot a label\n250,3\n99999999999,");
            // split the bytes across writes so lines cross reads
            await stream.WriteAsync(text.AsMemory(0, 13));
            await stream.FlushAsync();
            await Task.Delay(50);
            await stream.WriteAsync(text.AsMemory(13));
            await stream.WriteAsync(Encoding.ASCII.GetBytes("2\n400,0"));
        });
        var received = new ConcurrentQueue<(long, int)>();
        var malformed = new ConcurrentQueue<string>();
        using LabelStreamClient labels = LabelStreamClient.Connect($"tcp://127.0.0.1:{port}", (t, l) => received.Enqueue((t, l)), logger: new ListLogger(malformed));
        await serve.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(labels.WaitCompleted(TimeSpan.FromSeconds(10)));
        Assert.Equal([(100L, 1), (250L, 3), (99999999999L, 2), (400L, 0)], received.ToArray());
        Assert.Equal(4, labels.Lines);
        Assert.Equal(1, labels.Malformed);
        Assert.Contains("line 5", Assert.Single(malformed), StringComparison.Ordinal);
        Assert.Null(labels.Error);
    }

    [Fact]
    public async Task A_callback_that_rejects_a_label_counts_it_malformed_and_keeps_reading()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Task serve = Task.Run(async () =>
        {
            using TcpClient client = await listener.AcceptTcpClientAsync();
            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes("1,1\n2,99\n3,2\n"));
        });
        var received = new ConcurrentQueue<int>();
        using LabelStreamClient labels = LabelStreamClient.Connect($"tcp://127.0.0.1:{port}", (_, l) =>
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(l, 10);
            received.Enqueue(l);
        });
        await serve.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(labels.WaitCompleted(TimeSpan.FromSeconds(10)));
        Assert.Equal([1, 2], received.ToArray());
        Assert.Equal(1, labels.Malformed);
    }

    [Fact]
    public void Bad_addresses_and_refused_connections_name_the_peer()
    {
        Assert.Throws<ArgumentException>(() => LabelStreamClient.Connect("udp://127.0.0.1:5", (_, _) => { }));
        Assert.Throws<ArgumentException>(() => LabelStreamClient.Connect("tcp://127.0.0.1", (_, _) => { }));
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }

        PipelineException ex = Assert.Throws<PipelineException>(() => LabelStreamClient.Connect($"tcp://127.0.0.1:{port}", (_, _) => { }));
        Assert.Equal($"tcp://127.0.0.1:{port}", ex.SourceName);
    }
}
