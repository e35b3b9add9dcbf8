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
    internal long _connections;
    internal long _disconnects;
    internal long _reconnects;
    internal long _bytes;
    internal long _packets;
    internal long _events;
    internal long _lost;
    internal long _reordered;
    internal long _duplicates;
    internal long _malformed;
    internal long _sequenceResets;
    internal long _triggers;
    internal long _dropped;
    internal long _lastSequence = -1;

    /// <summary>Successful connections (TCP) or binds (UDP).</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Connections closed or reset by the peer.</summary>
    public long Disconnects => Interlocked.Read(ref _disconnects);

    /// <summary>Reconnect attempts after a disconnect or failed connect.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Bytes received.</summary>
    public long BytesReceived => Interlocked.Read(ref _bytes);

    /// <summary>Packets (TCP) or datagrams (UDP) decoded.</summary>
    public long Packets => Interlocked.Read(ref _packets);

    /// <summary>Events emitted.</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>Datagrams lost: sequence-number gaps minus late arrivals that filled them.</summary>
    public long LostDatagrams => Interlocked.Read(ref _lost);

    /// <summary>Datagrams that arrived out of order.</summary>
    public long ReorderedDatagrams => Interlocked.Read(ref _reordered);

    /// <summary>Datagrams received twice (dropped).</summary>
    public long DuplicateDatagrams => Interlocked.Read(ref _duplicates);

    /// <summary>Malformed packets or datagrams skipped.</summary>
    public long MalformedPackets => Interlocked.Read(ref _malformed);

    /// <summary>Sequence restarts detected.</summary>
    public long SequenceResets => Interlocked.Read(ref _sequenceResets);

    /// <summary>Trigger (external) events received.</summary>
    public long Triggers => Interlocked.Read(ref _triggers);

    /// <summary>Events dropped by the decoder (outside the sensor, invalid).</summary>
    public long DroppedEvents => Interlocked.Read(ref _dropped);

    /// <summary>Sequence number of the newest datagram (UDP), -1 before the first.</summary>
    public long LastSequence => Interlocked.Read(ref _lastSequence);

    /// <inheritdoc />
    public override string ToString() =>
        $"connections {Connections}, disconnects {Disconnects}, reconnects {Reconnects}, bytes {BytesReceived}, packets {Packets}, events {Events}, lost {LostDatagrams}, reordered {ReorderedDatagrams}, duplicates {DuplicateDatagrams}, malformed {MalformedPackets}";
}
