using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Reactive.Subjects;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Pipeline.Tests;

/// <summary>Reads the long-valued instruments of one meter, keyed by instrument name and tags.</summary>
internal sealed class MeterReading : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _values = new(StringComparer.Ordinal);

    public MeterReading(string meterName)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == meterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string key = instrument.Name;
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                key += $"|{tag.Key}={tag.Value}";
            }

            _values[key] = value;
        });
        _listener.Start();
    }

    /// <summary>Asks every observable instrument for its values; returns instrument|tag=value → value.</summary>
    public IReadOnlyDictionary<string, long> Collect()
    {
        _values.Clear();
        _listener.RecordObservableInstruments();
        return new Dictionary<string, long>(_values, StringComparer.Ordinal);
    }

    public void Dispose() => _listener.Dispose();
}

public class MetricsTests
{
    private static void WaitFor(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the source");
            Thread.Sleep(5);
        }
    }

    private static byte[] Numbered(int sequence, params DvsEvent[] events)
    {
        byte[] d = new byte[4 + (8 * events.Length)];
        BinaryPrimitives.WriteInt32BigEndian(d, sequence);
        for (int i = 0; i < events.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(4 + (8 * i)), JaerAddress.EncodeDvs128(events[i].X, events[i].Y, events[i].On));
            BinaryPrimitives.WriteInt32BigEndian(d.AsSpan(8 + (8 * i)), (int)events[i].T);
        }

        return d;
    }

    private sealed class Discard : IObserver<EventBatch>
    {
        public void OnNext(EventBatch value)
        {
        }

        public void OnError(Exception error)
        {
        }

        public void OnCompleted()
        {
        }
    }

    [Fact]
    public void Live_source_instruments_report_what_the_source_counted_tagged_with_its_name()
    {
        using var meter = new MeterReading(PipelineMetrics.MeterName);
        var source = new JaerUdpSource(new JaerSourceOptions { Port = 0 });
        using IDisposable sub = source.Subscribe(new Discard());
        var target = new IPEndPoint(IPAddress.Loopback, source.LocalEndPoint!.Port);
        using var udp = new UdpClient(AddressFamily.InterNetwork);
        DvsEvent[] ev = [.. Enumerable.Range(0, 6).Select(i => new DvsEvent(100 + i, (ushort)i, (ushort)(2 * i), i % 2 == 0))];
        udp.Send(Numbered(0, ev[0]), target);
        udp.Send(Numbered(3, ev[1]), target);        // 1 and 2 missing
        udp.Send(Numbered(1, ev[2]), target);        // late: fills one of the gaps
        udp.Send(Numbered(1, ev[2]), target);        // duplicate: dropped
        udp.Send([1, 2, 3], target);                 // too short: malformed
        udp.Send(Numbered(5, ev[3], ev[4], ev[5]), target); // 4 missing
        WaitFor(() => source.Statistics.Packets == 6);

        IReadOnlyDictionary<string, long> m = meter.Collect();
        string tag = "|source=" + source.SourceName;
        LiveSourceStatistics s = source.Statistics;
        Assert.Equal((6L, 6L), (s.Packets, m["eventsnn.live.packets" + tag]));
        Assert.Equal((6L, 6L), (s.Events, m["eventsnn.live.events" + tag]));
        Assert.Equal((2L, 2L), (s.LostDatagrams, m["eventsnn.live.datagrams.lost" + tag]));
        Assert.Equal((1L, 1L), (s.ReorderedDatagrams, m["eventsnn.live.datagrams.reordered" + tag]));
        Assert.Equal((1L, 1L), (s.DuplicateDatagrams, m["eventsnn.live.datagrams.duplicate" + tag]));
        Assert.Equal((1L, 1L), (s.MalformedPackets, m["eventsnn.live.packets.malformed" + tag]));
        Assert.Equal((1L, 1L), (s.Connections, m["eventsnn.live.connections" + tag]));
        Assert.Equal(12 + 12 + 12 + 12 + 3 + 28, m["eventsnn.live.bytes.received" + tag]);
        Assert.Equal(s.BytesReceived, m["eventsnn.live.bytes.received" + tag]);
        Assert.Equal(0, m["eventsnn.live.sequence.resets" + tag]);
    }

    [Fact]
    public void Handoff_instruments_report_written_and_dropped_items_per_end()
    {
        using var meter = new MeterReading(PipelineMetrics.MeterName);
        string name = "metrics-test-" + Guid.NewGuid().ToString("N");
        var subject = new Subject<EventBatch>();
        using var handoff = new Handoff<EventBatch>(new HandoffOptions { Capacity = 2, Policy = OverflowPolicy.DropOldest, Name = name }, b => b, _ => { });
        handoff.Connect(subject);
        for (int i = 0; i < 5; i++)
        {
            subject.OnNext(new EventBatch(1));
        }

        IReadOnlyDictionary<string, long> m = meter.Collect();
        Assert.Equal(5, m[$"eventsnn.handoff.written|handoff={name}"]);
        Assert.Equal(3, m[$"eventsnn.handoff.dropped|handoff={name}|end=oldest"]);
        Assert.Equal(0, m[$"eventsnn.handoff.dropped|handoff={name}|end=newest"]);
        Assert.Equal(0, m[$"eventsnn.handoff.waits|handoff={name}"]);
        Assert.Equal((handoff.Written, handoff.DroppedOldest), (m[$"eventsnn.handoff.written|handoff={name}"], m[$"eventsnn.handoff.dropped|handoff={name}|end=oldest"]));
    }

    [Fact]
    public async Task Label_stream_instruments_report_lines_and_malformed_lines()
    {
        using var meter = new MeterReading(PipelineMetrics.MeterName);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Task serve = Task.Run(async () =>
        {
            using TcpClient client = await listener.AcceptTcpClientAsync();
            await client.GetStream().WriteAsync("t_us,label\n10,1\nbad\n20,2\n30,0\n"u8.ToArray());
        });
        using LabelStreamClient labels = LabelStreamClient.Connect($"tcp://127.0.0.1:{port}", (_, _) => { });
        await serve.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(labels.WaitCompleted(TimeSpan.FromSeconds(10)));

        IReadOnlyDictionary<string, long> m = meter.Collect();
        Assert.Equal((3L, 3L), (labels.Lines, m[$"eventsnn.labels.lines|source={labels.SourceName}"]));
        Assert.Equal((1L, 1L), (labels.Malformed, m[$"eventsnn.labels.malformed|source={labels.SourceName}"]));
    }
}
