using System.Globalization;
using System.Text;
using EventSnn.IO;
using EventSnn.Events;
using EventSnn.Pipeline;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Polly;
using Polly.Retry;

namespace EventSnn.Cluster;

/// <summary>
/// Publishes one sensor stream into JetStream: label intervals (CSV text) on
/// <c>eventsnn.labels.NAME</c> and event packets (<see cref="EventPacketCodec"/>, with the stream
/// name, packet sequence, time range, sensor size and compression in headers) on
/// <c>eventsnn.events.NAME</c>. Every message carries a message id of this publisher's run, so a
/// publish retried across a NATS restart or a lost acknowledgement is stored once. Transient
/// failures (NATS away) are retried with jittered exponential back-off for up to
/// <see cref="RetryFor"/>; a refusal by JetStream (stream full) is an error.
/// </summary>
public sealed class ClusterPublisher : IDisposable
{
    private readonly INatsJSContext _js;
    private readonly EventPacketCodec _codec;
    private readonly string _sensor;
    private readonly string _run = Guid.NewGuid().ToString("N")[..12];
    private readonly int _perPacket;
    private readonly ResiliencePipeline _retry;
    private int _labelMessages;

    /// <summary>A publisher of stream <paramref name="stream"/> from a sensor of <paramref name="geometry"/>.</summary>
    public ClusterPublisher(INatsJSContext js, string stream, SensorGeometry geometry, int eventsPerPacket = 4096, TimeSpan? retryFor = null)
    {
        ArgumentNullException.ThrowIfNull(js);
        if (!geometry.IsKnown)
        {
            throw new ArgumentException("the sensor size must be known", nameof(geometry));
        }

        if (eventsPerPacket < 1 || eventsPerPacket > EventPacketCodec.MaxEvents)
        {
            throw new ArgumentOutOfRangeException(nameof(eventsPerPacket), $"1..{EventPacketCodec.MaxEvents} events per packet");
        }

        _js = js;
        Stream = ClusterNames.Checked(stream);
        _codec = new EventPacketCodec(geometry);
        _sensor = geometry.ToString();
        _perPacket = eventsPerPacket;
        RetryFor = retryFor ?? TimeSpan.FromMinutes(2);
        _retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<NatsException>().Handle<TimeoutException>(),
                MaxRetryAttempts = int.MaxValue,
                Delay = TimeSpan.FromMilliseconds(100),
                MaxDelay = TimeSpan.FromSeconds(2),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            })
            .AddTimeout(RetryFor)
            .Build();
    }

    /// <summary>The sensor stream's name.</summary>
    public string Stream { get; }

    /// <summary>How long one message is retried while NATS is away.</summary>
    public TimeSpan RetryFor { get; }

    /// <summary>Events published.</summary>
    public long Events { get; private set; }

    /// <summary>Event packets published (also the next packet's sequence number).</summary>
    public long Packets { get; private set; }

    /// <summary>Bytes of the event packets.</summary>
    public long Bytes { get; private set; }

    /// <summary>Publishes label intervals (class, start, end); publish them before the events they cover.</summary>
    public async Task PublishLabelsAsync(IReadOnlyCollection<LabelSegment> segments, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var csv = new StringBuilder("class,startTime_usec,endTime_usec\n");
        foreach (LabelSegment s in segments)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{s.Label},{s.StartUs},{s.EndUs}\n");
        }

        var headers = new NatsHeaders { [ClusterNames.StreamHeader] = Stream };
        await PublishAsync(ClusterNames.Labels(Stream), Encoding.UTF8.GetBytes(csv.ToString()), headers, $"{Stream}:{_run}:l{_labelMessages++}", cancellation).ConfigureAwait(false);
    }

    /// <summary>Publishes the events of <paramref name="batch"/> (in time order) as packets.</summary>
    public async Task PublishAsync(EventBatch batch, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        for (int start = 0; start < batch.Count; start += _perPacket)
        {
            int count = Math.Min(_perPacket, batch.Count - start);
            await PublishPacketAsync(batch, start, count, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>Publishes events [<paramref name="start"/>, start + <paramref name="count"/>) of <paramref name="batch"/> as one packet.</summary>
    public async Task PublishPacketAsync(EventBatch batch, int start, int count, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        byte[] packet = _codec.Encode(batch, start, count);
        var headers = new NatsHeaders
        {
            [ClusterNames.StreamHeader] = Stream,
            [ClusterNames.SequenceHeader] = Packets.ToString(CultureInfo.InvariantCulture),
            [ClusterNames.StartHeader] = batch.T[start].ToString(CultureInfo.InvariantCulture),
            [ClusterNames.EndHeader] = batch.T[start + count - 1].ToString(CultureInfo.InvariantCulture),
            [ClusterNames.SensorHeader] = _sensor,
            [ClusterNames.CompressionHeader] = "lz4",
            [ClusterNames.CountHeader] = count.ToString(CultureInfo.InvariantCulture),
        };
        await PublishAsync(ClusterNames.Events(Stream), packet, headers, $"{Stream}:{_run}:{Packets}", cancellation).ConfigureAwait(false);
        Events += count;
        Packets++;
        Bytes += packet.Length;
    }

    /// <summary>Ends the stream (the recording is over): the grain decides its open window or the samples that had started.</summary>
    public async Task CompleteAsync(CancellationToken cancellation = default)
    {
        var headers = new NatsHeaders { [ClusterNames.StreamHeader] = Stream, [ClusterNames.EndOfStreamHeader] = "1" };
        await PublishAsync(ClusterNames.Events(Stream), [], headers, $"{Stream}:{_run}:end", cancellation).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Dispose() => _codec.Dispose();

    private async Task PublishAsync(string subject, byte[] data, NatsHeaders headers, string id, CancellationToken cancellation)
    {
        PubAckResponse ack;
        try
        {
            ack = await _retry.ExecuteAsync(
                async token => await _js.PublishAsync(subject, data, opts: new NatsJSPubOpts { MsgId = id }, headers: headers, cancellationToken: token).ConfigureAwait(false),
                cancellation).ConfigureAwait(false);
        }
        catch (Polly.Timeout.TimeoutRejectedException ex)
        {
            throw new ClusterPublishException($"{subject}: NATS did not come back within {RetryFor.TotalSeconds:0} s; nothing after packet {Packets} was published", ex);
        }

        if (ack.Error is { } error)
        {
            throw new ClusterPublishException($"{subject}: JetStream refused the message: {error.Description} (code {error.Code}); nothing after packet {Packets} was published");
        }
    }
}

/// <summary>Publishing into the cluster failed for good (JetStream refused, or NATS stayed away).</summary>
public sealed class ClusterPublishException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ClusterPublishException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ClusterPublishException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ClusterPublishException()
    {
    }
}
