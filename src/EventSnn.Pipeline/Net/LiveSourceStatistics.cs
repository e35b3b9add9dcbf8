namespace EventSnn.Pipeline;

/// <summary>Kinds of faults a live source survives.</summary>
public enum LiveFaultKind
{
    /// <summary>A connection attempt failed.</summary>
    ConnectFailed = 0,

    /// <summary>The peer closed or reset the connection.</summary>
    Disconnected = 1,

    /// <summary>A packet or datagram was malformed and skipped (on TCP the connection is dropped: the stream cannot be resynchronised).</summary>
    Malformed = 2,

    /// <summary>Datagrams were lost (a gap in sequence numbers).</summary>
    Lost = 3,

    /// <summary>A datagram arrived out of order.</summary>
    Reordered = 4,

    /// <summary>A datagram arrived twice and was dropped.</summary>
    Duplicate = 5,

    /// <summary>The sender's sequence numbers jumped (restart): tracking starts over.</summary>
    SequenceReset = 6,
}

/// <summary>One fault a live source survived: what, where and when.</summary>
public readonly record struct LiveFault(LiveFaultKind Kind, string Source, long Position, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Source}: byte {Position}: {Kind}: {Message}";
}

/// <summary>Counters of a live source, safe to read from any thread while it runs.</summary>
public sealed class LiveSourceStatistics
{
    internal readonly AtomicCount _connections = new();
    internal readonly AtomicCount _disconnects = new();
    internal readonly AtomicCount _reconnects = new();
    internal readonly AtomicCount _bytes = new();
    internal readonly AtomicCount _packets = new();
    internal readonly AtomicCount _events = new();
    internal readonly AtomicCount _lost = new();
    internal readonly AtomicCount _reordered = new();
    internal readonly AtomicCount _duplicates = new();
    internal readonly AtomicCount _malformed = new();
    internal readonly AtomicCount _sequenceResets = new();
    internal readonly AtomicCount _triggers = new();
    internal readonly AtomicCount _dropped = new();
    internal readonly AtomicCount _lastSequence = new(-1);

    /// <summary>Successful connections (TCP) or binds (UDP).</summary>
    public long Connections => _connections.Value;

    /// <summary>Connections closed or reset by the peer.</summary>
    public long Disconnects => _disconnects.Value;

    /// <summary>Reconnect attempts after a disconnect or failed connect.</summary>
    public long Reconnects => _reconnects.Value;

    /// <summary>Bytes received.</summary>
    public long BytesReceived => _bytes.Value;

    /// <summary>Packets (TCP) or datagrams (UDP) decoded.</summary>
    public long Packets => _packets.Value;

    /// <summary>Events emitted.</summary>
    public long Events => _events.Value;

    /// <summary>Datagrams lost: sequence-number gaps minus late arrivals that filled them.</summary>
    public long LostDatagrams => _lost.Value;

    /// <summary>Datagrams that arrived out of order.</summary>
    public long ReorderedDatagrams => _reordered.Value;

    /// <summary>Datagrams received twice (dropped).</summary>
    public long DuplicateDatagrams => _duplicates.Value;

    /// <summary>Malformed packets or datagrams skipped.</summary>
    public long MalformedPackets => _malformed.Value;

    /// <summary>Sequence restarts detected.</summary>
    public long SequenceResets => _sequenceResets.Value;

    /// <summary>Trigger (external) events received.</summary>
    public long Triggers => _triggers.Value;

    /// <summary>Events dropped by the decoder (outside the sensor, invalid).</summary>
    public long DroppedEvents => _dropped.Value;

    /// <summary>Sequence number of the newest datagram (UDP), -1 before the first.</summary>
    public long LastSequence => _lastSequence.Value;

    /// <inheritdoc />
    public override string ToString() =>
        $"connections {Connections}, disconnects {Disconnects}, reconnects {Reconnects}, bytes {BytesReceived}, packets {Packets}, events {Events}, lost {LostDatagrams}, reordered {ReorderedDatagrams}, duplicates {DuplicateDatagrams}, malformed {MalformedPackets}";
}
