using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace EventSnn.Pipeline;

/// <summary>
/// The pipeline's instruments (System.Diagnostics.Metrics, meter <see cref="MeterName"/>): the
/// counters of every live source (<see cref="LiveSourceStatistics"/>, tagged <c>source</c>), every
/// hand-off (tagged <c>handoff</c>; drops also <c>end</c> = <c>oldest</c>/<c>newest</c>), every
/// AEDAT4 server sink (tagged <c>server</c>) and every label stream (tagged <c>source</c>). The
/// values are the ones the objects' properties return, read when a collector asks (for example
/// <c>dotnet-counters monitor --counters EventSnn.Pipeline</c>), so counting costs the hot paths
/// nothing beyond the atomic add. An object is observed from its creation until it is collected.
/// </summary>
public static class PipelineMetrics
{
    /// <summary>Name of the meter.</summary>
    public const string MeterName = "EventSnn.Pipeline";

    private static readonly object Present = new();
    private static readonly ConditionalWeakTable<LiveSource, object> LiveSources = [];
    private static readonly ConditionalWeakTable<IHandoffCounters, object> Handoffs = [];
    private static readonly ConditionalWeakTable<Aedat4Server, object> Servers = [];
    private static readonly ConditionalWeakTable<LabelStreamClient, object> LabelStreams = [];
    private static readonly Meter Meter = CreateMeter();
    private static readonly AtomicCount HandoffsCreated = new();

    /// <summary>1, 2, ... for the hand-offs created without a name.</summary>
    internal static long NextHandoffNumber() => HandoffsCreated.Increment();

    internal static void Observe(LiveSource source) => LiveSources.AddOrUpdate(source, Present);

    internal static void Observe(IHandoffCounters handoff) => Handoffs.AddOrUpdate(handoff, Present);

    internal static void Observe(Aedat4Server server) => Servers.AddOrUpdate(server, Present);

    internal static void Observe(LabelStreamClient labels) => LabelStreams.AddOrUpdate(labels, Present);

    private static Meter CreateMeter()
    {
        var meter = new Meter(MeterName);
        Live(meter, "eventsnn.live.connections", "{connection}", "Successful connections (TCP) or binds (UDP), per live source", s => s.Connections);
        Live(meter, "eventsnn.live.disconnects", "{connection}", "Connections closed or reset by the peer, per live source", s => s.Disconnects);
        Live(meter, "eventsnn.live.reconnects", "{attempt}", "Reconnect attempts, per live source", s => s.Reconnects);
        Live(meter, "eventsnn.live.bytes.received", "By", "Bytes received, per live source", s => s.BytesReceived);
        Live(meter, "eventsnn.live.packets", "{packet}", "Packets (TCP) or datagrams (UDP) decoded, per live source", s => s.Packets);
        Live(meter, "eventsnn.live.events", "{event}", "Events emitted, per live source", s => s.Events);
        Live(meter, "eventsnn.live.triggers", "{event}", "Trigger events received, per live source", s => s.Triggers);
        Live(meter, "eventsnn.live.events.dropped", "{event}", "Events dropped by the decoder (outside the sensor, invalid), per live source", s => s.DroppedEvents);
        Live(meter, "eventsnn.live.datagrams.reordered", "{datagram}", "Datagrams that arrived out of order, per live source", s => s.ReorderedDatagrams);
        Live(meter, "eventsnn.live.datagrams.duplicate", "{datagram}", "Datagrams received twice (dropped), per live source", s => s.DuplicateDatagrams);
        Live(meter, "eventsnn.live.packets.malformed", "{packet}", "Malformed packets or datagrams skipped, per live source", s => s.MalformedPackets);
        Live(meter, "eventsnn.live.sequence.resets", "{reset}", "Sender sequence restarts detected, per live source", s => s.SequenceResets);

        // a late datagram fills the gap it was counted lost in, so this one can go down
        meter.CreateObservableUpDownCounter("eventsnn.live.datagrams.lost", () => Each(LiveSources, "source", s => s.SourceName, s => s.Statistics.LostDatagrams), "{datagram}", "Datagrams lost (sequence gaps minus late arrivals), per live source");

        meter.CreateObservableCounter("eventsnn.handoff.written", () => Each(Handoffs, "handoff", h => h.Name, h => h.Written), "{item}", "Items accepted into the channel, per hand-off");
        meter.CreateObservableCounter("eventsnn.handoff.dropped", HandoffDrops, "{item}", "Items dropped by the overflow policy, per hand-off and end (oldest, newest)");
        meter.CreateObservableCounter("eventsnn.handoff.waits", () => Each(Handoffs, "handoff", h => h.Name, h => h.Waits), "{wait}", "Times the producer waited for room, per hand-off");

        Server(meter, "eventsnn.server.events.sent", "{event}", "Events encoded, per AEDAT4 server", s => s.EventsSent);
        Server(meter, "eventsnn.server.packets.sent", "{packet}", "Packets produced, per AEDAT4 server", s => s.Packets);
        Server(meter, "eventsnn.server.bytes.sent", "By", "Bytes sent over all clients, per AEDAT4 server", s => s.BytesSent);
        Server(meter, "eventsnn.server.packets.dropped", "{packet}", "Packets dropped for slow clients, per AEDAT4 server", s => s.DroppedPackets);
        Server(meter, "eventsnn.server.clients.accepted", "{client}", "Clients accepted, per AEDAT4 server", s => s.ClientsAccepted);
        Server(meter, "eventsnn.server.clients.disconnected", "{client}", "Clients disconnected, per AEDAT4 server", s => s.ClientsDisconnected);
        meter.CreateObservableUpDownCounter("eventsnn.server.clients", () => Each(Servers, "server", s => s.Peer, s => (long)s.ClientCount), "{client}", "Connected clients, per AEDAT4 server");

        meter.CreateObservableCounter("eventsnn.labels.lines", () => Each(LabelStreams, "source", l => l.SourceName, l => l.Lines), "{label}", "Labels delivered, per label stream");
        meter.CreateObservableCounter("eventsnn.labels.malformed", () => Each(LabelStreams, "source", l => l.SourceName, l => l.Malformed), "{line}", "Malformed label lines skipped, per label stream");
        return meter;
    }

    private static void Live(Meter meter, string name, string unit, string description, Func<LiveSourceStatistics, long> value) =>
        meter.CreateObservableCounter(name, () => Each(LiveSources, "source", s => s.SourceName, s => value(s.Statistics)), unit, description);

    private static void Server(Meter meter, string name, string unit, string description, Func<Aedat4Server, long> value) =>
        meter.CreateObservableCounter(name, () => Each(Servers, "server", s => s.Peer, value), unit, description);

    private static IEnumerable<Measurement<long>> Each<T>(ConditionalWeakTable<T, object> table, string tag, Func<T, string> name, Func<T, long> value)
        where T : class
    {
        foreach (KeyValuePair<T, object> entry in table)
        {
            yield return new Measurement<long>(value(entry.Key), new KeyValuePair<string, object?>(tag, name(entry.Key)));
        }
    }

    private static IEnumerable<Measurement<long>> HandoffDrops()
    {
        foreach (KeyValuePair<IHandoffCounters, object> entry in Handoffs)
        {
            IHandoffCounters h = entry.Key;
            yield return new Measurement<long>(h.DroppedOldest, new KeyValuePair<string, object?>("handoff", h.Name), new KeyValuePair<string, object?>("end", "oldest"));
            yield return new Measurement<long>(h.DroppedNewest, new KeyValuePair<string, object?>("handoff", h.Name), new KeyValuePair<string, object?>("end", "newest"));
        }
    }
}

/// <summary>The counters of a hand-off, whatever its item type (for <see cref="PipelineMetrics"/>).</summary>
internal interface IHandoffCounters
{
    string Name { get; }

    long Written { get; }

    long DroppedOldest { get; }

    long DroppedNewest { get; }

    long Waits { get; }
}
