using EventSnn.Pipeline;
using EventSnn.Snn.Classification;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace EventSnn.Serving;

/// <summary>
/// Shows a cluster's streams in serve: subscribes to the decisions the cluster's stream grains
/// publish on NATS (<c>eventsnn.decisions.NAME</c>, JSON with the fields of <c>classify --json</c>)
/// and publishes each one into the <see cref="DecisionHub"/> as stream <c>cluster:NAME</c>, so the
/// dashboard, <c>/events</c>, <c>/api/streams</c>, <c>/health</c> and <c>/metrics</c> show them
/// beside serve's own streams. Live decisions only (a core NATS subscription); reconnects forever.
/// </summary>
public sealed class ClusterDecisionFeed : IAsyncDisposable
{
    /// <summary>Subject the cluster publishes decisions on (one token per stream after it).</summary>
    public const string Subjects = "eventsnn.decisions.*";

    /// <summary>Prefix of the hub's stream ids for cluster streams.</summary>
    public const string StreamPrefix = "cluster:";

    private readonly DecisionHub _hub;
    private readonly NatsConnection _nats;
    private readonly ILogger? _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, StreamStatus?> _streams = new(StringComparer.Ordinal);
    private Task? _run;
    private readonly AtomicCount _received = new();
    private readonly AtomicCount _malformed = new();

    /// <summary>A feed from the NATS server at <paramref name="url"/> into <paramref name="hub"/>.</summary>
    public ClusterDecisionFeed(DecisionHub hub, string url, ILogger? log = null)
    {
        ArgumentNullException.ThrowIfNull(hub);
        ArgumentNullException.ThrowIfNull(url);
        _hub = hub;
        Url = url;
        _log = log;
        _nats = new NatsConnection(new NatsOpts
        {
            Url = url,
            Name = "eventsnn-serve",
            MaxReconnectRetry = -1,
            RetryOnInitialConnect = true,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(200),
            ReconnectWaitMax = TimeSpan.FromSeconds(2),
        });
    }

    /// <summary>The NATS server.</summary>
    public string Url { get; }

    /// <summary>Decisions received.</summary>
    public long Received => _received.Value;

    /// <summary>Messages that were not a decision (skipped).</summary>
    public long Malformed => _malformed.Value;

    /// <summary>Starts the subscription (returns once it is in place, or keeps retrying in the background while NATS is away).</summary>
    public async Task StartAsync(CancellationToken cancellation)
    {
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _run = Task.Run(() => RunAsync(subscribed), CancellationToken.None);
        await Task.WhenAny(subscribed.Task, Task.Delay(TimeSpan.FromSeconds(5), cancellation)).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_run is not null)
        {
            try
            {
                await _run.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        foreach (StreamStatus? s in _streams.Values)
        {
            if (s is not null)
            {
                _hub.End(s, null);
            }
        }

        await _nats.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>The hub record of one decision message (its stream prefixed with <see cref="StreamPrefix"/>), or null when it is not one.</summary>
    internal static StreamDecision? Parse(ReadOnlySpan<byte> json) =>
        StreamDecision.Parse(json) is { } d ? d with { Stream = StreamPrefix + d.Stream } : null;

    private async Task RunAsync(TaskCompletionSource subscribed)
    {
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using INatsSub<byte[]> sub = await _nats.SubscribeCoreAsync<byte[]>(Subjects, cancellationToken: stop).ConfigureAwait(false);
                subscribed.TrySetResult();
                _log?.LogInformation("cluster decisions: subscribed to {Subjects} at {Url}", Subjects, Url);
                await foreach (NatsMsg<byte[]> msg in sub.Msgs.ReadAllAsync(stop).ConfigureAwait(false))
                {
                    Handle(msg.Data ?? []);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (NatsException ex)
            {
                _log?.LogWarning("cluster decisions at {Url}: {Problem} (retrying)", Url, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false);
            }
        }
    }

    private void Handle(byte[] data)
    {
        StreamDecision? record = Parse(data);
        if (record is null)
        {
            _malformed.Increment();
            return;
        }

        _received.Increment();
        if (!_streams.ContainsKey(record.Stream))
        {
            // a panel, /api/streams entry and accuracy for the stream (null when serve's stream limit is reached)
            _streams[record.Stream] = _hub.TryBegin(record.Stream, ServeInputKind.Cluster, Url);
        }

        _hub.Publish(record);
    }
}
