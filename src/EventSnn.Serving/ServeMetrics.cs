using System.Diagnostics.Metrics;
using EventSnn.Snn.Classification;

namespace EventSnn.Serving;

/// <summary>
/// The serve host's instruments (System.Diagnostics.Metrics, meter <see cref="MeterName"/>), every
/// per-stream series tagged <c>stream</c>: events received and dropped (outside the sensor or in
/// malformed datagrams), bytes, network steps, decisions, labelled and correct decisions and their
/// accuracy, decision latency (histogram, milliseconds); process-wide: active streams,
/// subscribers, decisions published, decisions dropped from slow subscribers' queues, slow
/// subscribers disconnected and, with a cluster feed, decisions received from it and messages
/// skipped as malformed. The counters are read from the streams' live status when a collector asks, so the
/// hot path pays only for the latency histogram. Exported as Prometheus text at <c>/metrics</c>.
/// </summary>
public sealed class ServeMetrics : IDisposable
{
    /// <summary>Name of the meter.</summary>
    public const string MeterName = "EventSnn.Serve";

    private static readonly double[] LatencyBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250];
    private readonly Meter _meter;
    private readonly Histogram<double> _latency;

    /// <summary>Creates the instruments over <paramref name="hub"/>'s streams.</summary>
    public ServeMetrics(DecisionHub hub)
    {
        ArgumentNullException.ThrowIfNull(hub);
        _meter = new Meter(MeterName);
        _meter.CreateObservableCounter("eventsnn.events.received", () => PerStream(hub, s => s.Events), "{event}", "Events received and binned, per stream");
        _meter.CreateObservableCounter("eventsnn.events.dropped", () => PerStream(hub, s => s.OutOfRange + s.Malformed), "{event}", "Events dropped: outside the sensor, or datagrams that did not decode, per stream");
        _meter.CreateObservableCounter("eventsnn.bytes.received", () => PerStream(hub, s => s.Bytes), "By", "Bytes received, per stream");
        _meter.CreateObservableCounter("eventsnn.steps", () => PerStream(hub, s => s.Steps), "{step}", "Network time steps run, per stream");
        _meter.CreateObservableCounter("eventsnn.decisions", () => PerStream(hub, s => s.Decisions), "{decision}", "Decisions published, per stream");
        _meter.CreateObservableCounter("eventsnn.decisions.labelled", () => PerStream(hub, s => s.Labelled), "{decision}", "Decisions whose window had a known truth, per stream");
        _meter.CreateObservableCounter("eventsnn.decisions.correct", () => PerStream(hub, s => s.Correct), "{decision}", "Labelled decisions that were right, per stream");
        _meter.CreateObservableGauge("eventsnn.accuracy", () => Accuracy(hub), null, "Share of the labelled decisions that were right, per labelled stream");
        _meter.CreateObservableUpDownCounter("eventsnn.streams.active", () => hub.ActiveStreams.Count, "{stream}", "Streams connected or sending");
        _meter.CreateObservableUpDownCounter("eventsnn.subscribers", () => hub.Subscribers, "{subscriber}", "Decision subscribers (JSON-lines and SSE clients)");
        _meter.CreateObservableCounter("eventsnn.decisions.published", () => hub.Published, "{decision}", "Decisions published to the subscribers (all streams, cluster decisions included)");
        _meter.CreateObservableCounter("eventsnn.subscribers.decisions.dropped", () => hub.Dropped, "{decision}", "Decisions dropped from slow subscribers' queues (drop-oldest policy)");
        _meter.CreateObservableCounter("eventsnn.subscribers.slow_disconnects", () => hub.SlowDisconnects, "{subscriber}", "Subscribers disconnected for being slow (disconnect policy)");
        _meter.CreateObservableCounter("eventsnn.cluster.decisions.received", () => ClusterCount(c => c.Received), "{decision}", "Decisions received from the cluster feed");
        _meter.CreateObservableCounter("eventsnn.cluster.messages.malformed", () => ClusterCount(c => c.Malformed), "{message}", "Cluster feed messages that were not a decision (skipped)");
        _latency = _meter.CreateHistogram(
            "eventsnn.decision.latency",
            "ms",
            "Wall time from receiving the batch that closed a window to its decision",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        hub.Decided += Record;
        Hub = hub;
    }

    /// <summary>The hub observed.</summary>
    public DecisionHub Hub { get; }

    /// <summary>The meter (its instruments read this hub only).</summary>
    internal Meter Meter => _meter;

    /// <summary>The cluster feed whose counters are published (null: none).</summary>
    internal ClusterDecisionFeed? Cluster { get; set; }

    /// <inheritdoc/>
    public void Dispose()
    {
        Hub.Decided -= Record;
        _meter.Dispose();
    }

    private IEnumerable<Measurement<long>> ClusterCount(Func<ClusterDecisionFeed, long> value)
    {
        if (Cluster is { } feed)
        {
            yield return new Measurement<long>(value(feed));
        }
    }

    private void Record(StreamDecision r) => _latency.Record(r.LatencyMs, new KeyValuePair<string, object?>("stream", r.Stream));

    private static IEnumerable<Measurement<long>> PerStream(DecisionHub hub, Func<StreamStatus, long> value)
    {
        foreach (StreamStatus s in Streams(hub))
        {
            yield return new Measurement<long>(value(s), new KeyValuePair<string, object?>("stream", s.Id));
        }
    }

    private static IEnumerable<Measurement<double>> Accuracy(DecisionHub hub)
    {
        foreach (StreamStatus s in Streams(hub))
        {
            if (s.Accuracy is { } a)
            {
                yield return new Measurement<double>(a, new KeyValuePair<string, object?>("stream", s.Id));
            }
        }
    }

    /// <summary>Every stream once: the active ones and the latest status of each ended one that is not active again.</summary>
    private static IEnumerable<StreamStatus> Streams(DecisionHub hub)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (StreamStatus s in hub.ActiveStreams)
        {
            seen.Add(s.Id);
            yield return s;
        }

        StreamStatus[] ended = [.. hub.EndedStreams];
        for (int i = ended.Length - 1; i >= 0; i--)
        {
            if (seen.Add(ended[i].Id))
            {
                yield return ended[i];
            }
        }
    }
}
