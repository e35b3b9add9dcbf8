using System.Collections.Concurrent;
using System.Text.Json;
using System.Text;
using System.Threading.Channels;
using EventSnn.Pipeline;
using EventSnn.Snn.Classification;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventSnn.Serving;

/// <summary>Live counters of one stream, as reported by GET /health.</summary>
public sealed class StreamStatus
{
    internal readonly AtomicCount _events = new();
    internal readonly AtomicCount _steps = new();
    internal readonly AtomicCount _bytes = new();
    internal readonly AtomicCount _outOfRange = new();
    internal readonly AtomicCount _malformed = new();

    internal StreamStatus(string id, ServeInputKind kind, string peer)
    {
        Id = id;
        Kind = kind;
        Peer = peer;
        Started = DateTimeOffset.UtcNow;
    }

    /// <summary>Stream id.</summary>
    public string Id { get; }

    /// <summary>Input kind.</summary>
    public ServeInputKind Kind { get; }

    /// <summary>Peer endpoint (last seen).</summary>
    public string Peer { get; internal set; }

    /// <summary>When the stream started.</summary>
    public DateTimeOffset Started { get; }

    /// <summary>True while the stream is connected / sending.</summary>
    public bool Active { get; internal set; } = true;

    /// <summary>Why the stream ended (null while active or after a clean end).</summary>
    public string? Error { get; internal set; }

    /// <summary>Events binned.</summary>
    public long Events => _events.Value;

    /// <summary>Network time steps run.</summary>
    public long Steps => _steps.Value;

    /// <summary>Decisions published, labelled (the window had a known truth) and correct (counts only).</summary>
    public ClassificationTally Tally { get; } = new(keepOutcomes: false);

    /// <summary>Decisions published.</summary>
    public long Decisions => Tally.Decisions;

    /// <summary>Decisions whose window had a known truth (the stream has labels).</summary>
    public long Labelled => Tally.Labelled;

    /// <summary>Labelled decisions whose label equals the truth.</summary>
    public long Correct => Tally.Correct;

    /// <summary>Share of the labelled decisions that were right; null while none is labelled.</summary>
    public double? Accuracy => Tally.AccuracyOrNull;

    /// <summary>Bytes received.</summary>
    public long Bytes => _bytes.Value;

    /// <summary>Events outside the sensor (dropped).</summary>
    public long OutOfRange => _outOfRange.Value;

    /// <summary>Malformed datagrams skipped (UDP).</summary>
    public long Malformed => _malformed.Value;

    /// <summary>Checkpoint written for this stream, if any.</summary>
    public string? Checkpoint { get; internal set; }

    /// <summary>The dashboard's picture of the stream (created when the first frame subscriber appears).</summary>
    internal FramePreview? Preview { get; set; }
}

/// <summary>
/// The meeting point of the server: streams publish decisions here, subscribers (the JSON-lines
/// TCP publisher, SSE clients, in-process code via <see cref="Decided"/>) read them. Each
/// subscriber has a bounded queue; a full queue applies <see cref="ServeOptions.SlowSubscribers"/>
/// (disconnect the subscriber, or drop its oldest decision), so a slow client never grows memory
/// and never slows the streams. Thread-safe.
/// </summary>
public sealed class DecisionHub
{
    private readonly ConcurrentDictionary<long, Subscription> _subscribers = new();
    private readonly ConcurrentDictionary<string, StreamStatus> _active = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<StreamStatus> _ended = new();
    private readonly ServeOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _fanOut = new();
    private long _nextId;
    private readonly AtomicCount _published = new();
    private readonly AtomicCount _dropped = new();
    private readonly AtomicCount _slowDisconnects = new();
    private int _frameSubscribers;
    private volatile bool _completed;

    /// <summary>
    /// Creates the hub. Every log-worthy event of the server (bad peer, stream start/end, slow
    /// subscriber dropped, checkpoint trouble) is an information message to <paramref name="logger"/>.
    /// </summary>
    public DecisionHub(ServeOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger ?? NullLogger<DecisionHub>.Instance;
    }

    /// <summary>Called (on the stream's thread) for every decision; keep handlers short.</summary>
    public event Action<StreamDecision>? Decided;

    /// <summary>Decisions published.</summary>
    public long Published => _published.Value;

    /// <summary>Decisions dropped from subscriber queues (DropOldest policy).</summary>
    public long Dropped => _dropped.Value;

    /// <summary>Subscribers disconnected for being slow (Disconnect policy).</summary>
    public long SlowDisconnects => _slowDisconnects.Value;

    /// <summary>Current subscribers.</summary>
    public int Subscribers => _subscribers.Count;

    /// <summary>Current subscribers that also receive event frames (the dashboard).</summary>
    public int FrameSubscribers => Volatile.Read(ref _frameSubscribers);

    /// <summary>Streams currently active.</summary>
    public IReadOnlyCollection<StreamStatus> ActiveStreams => [.. _active.Values];

    /// <summary>Recently ended streams (bounded by <see cref="ServeOptions.EndedStreamsKept"/>).</summary>
    public IReadOnlyCollection<StreamStatus> EndedStreams => [.. _ended];

    /// <summary>Finds a stream (active first, then ended).</summary>
    public StreamStatus? Find(string id)
    {
        if (_active.TryGetValue(id, out StreamStatus? s))
        {
            return s;
        }

        StreamStatus? last = null;
        foreach (StreamStatus e in _ended)
        {
            if (e.Id == id)
            {
                last = e;
            }
        }

        return last;
    }

    /// <summary>
    /// Opens a subscription with a bounded queue of UTF-8 JSON lines (no newline): decisions, and
    /// with <paramref name="frames"/> also the streams' event frames (objects whose "type" is
    /// "frame", see <see cref="IsFrame"/>; a frame that finds the queue full is skipped, never
    /// counted against the subscriber).
    /// </summary>
    public Subscription Subscribe(string? streamFilter = null, bool frames = false)
    {
        long id = Interlocked.Increment(ref _nextId);
        var channel = Channel.CreateBounded<byte[]>(
            new BoundedChannelOptions(_options.SubscriberQueue)
            {
                SingleReader = true,
                SingleWriter = false,
                FullMode = _options.SlowSubscribers == SlowSubscriberPolicy.DropOldest ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.Wait,
            },
            _ => _dropped.Increment());
        var sub = new Subscription(this, id, channel, streamFilter, frames);
        _subscribers[id] = sub;
        if (frames)
        {
            Interlocked.Increment(ref _frameSubscribers);
        }

        if (_completed)
        {
            channel.Writer.TryComplete();
        }

        return sub;
    }

    /// <summary>Publishes one decision to every subscriber and the <see cref="Decided"/> handlers.</summary>
    public void Publish(StreamDecision record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _published.Increment();
        if (_active.TryGetValue(record.Stream, out StreamStatus? status))
        {
            status.Tally.Add(record);
        }

        byte[]? json = null;

        // one lock around the fan-out: every subscriber sees the decisions in the same order
        lock (_fanOut)
        {
            foreach (Subscription sub in _subscribers.Values)
            {
                if (sub.Filter is not null && sub.Filter != record.Stream)
                {
                    continue;
                }

                json ??= record.ToUtf8Json(); // the source-generated writer, once for all subscribers
                if (!sub.Channel.Writer.TryWrite(json) && !sub.Closed)
                {
                    _slowDisconnects.Increment();
                    WriteLog($"subscriber {sub.Id} too slow ({_options.SubscriberQueue} decisions queued): disconnected");
                    sub.Close();
                }
            }
        }

        Decided?.Invoke(record);
    }

    /// <summary>True when <paramref name="json"/> (an item of a subscription) is an event frame rather than a decision.</summary>
    public static bool IsFrame(ReadOnlySpan<byte> json) => json.StartsWith("{\"type\":\"frame\""u8);

    /// <summary>Offers one event frame of <paramref name="stream"/> to the frame subscribers (skipped where the queue is full).</summary>
    internal void PublishFrame(string stream, byte[] json)
    {
        lock (_fanOut)
        {
            foreach (Subscription sub in _subscribers.Values)
            {
                if (sub.Frames && (sub.Filter is null || sub.Filter == stream) && sub.Reader.Count < _options.SubscriberQueue / 2)
                {
                    sub.Channel.Writer.TryWrite(json);
                }
            }
        }
    }

    /// <summary>Ends every subscription once its queue is drained (server shutdown).</summary>
    public void Complete()
    {
        _completed = true;
        foreach (Subscription sub in _subscribers.Values)
        {
            sub.Channel.Writer.TryComplete();
        }
    }

    /// <summary>True once <see cref="Complete"/> was called (the server is stopping).</summary>
    public bool IsCompleted => _completed;

    /// <summary>The /api/streams document: a JSON array of every active and recently ended stream (as in /health).</summary>
    public string StreamsJson() => JsonSerializer.Serialize(Reports(), ServeJsonContext.Default.StreamReportArray);

    /// <summary>The /health document: status, counters and every active and recently ended stream.</summary>
    public string HealthJson(IReadOnlyDictionary<string, int>? endpoints = null) =>
        JsonSerializer.Serialize(new HealthReport(_completed ? "stopping" : "ok", Published, Subscribers, Dropped, SlowDisconnects, endpoints, Reports()), ServeJsonContext.Default.HealthReport);

    internal StreamStatus? TryBegin(string id, ServeInputKind kind, string peer)
    {
        if (_active.Count >= _options.MaxStreams)
        {
            return null;
        }

        var status = new StreamStatus(id, kind, peer);
        return _active.TryAdd(id, status) ? status : null;
    }

    internal void End(StreamStatus status, string? error)
    {
        status.Active = false;
        status.Error = error;
        _active.TryRemove(new KeyValuePair<string, StreamStatus>(status.Id, status));
        _ended.Enqueue(status);
        while (_ended.Count > _options.EndedStreamsKept && _ended.TryDequeue(out _))
        {
        }
    }

    internal void WriteLog(string message) => _logger.LogInformation("{Message}", message);

    private void Remove(long id)
    {
        if (_subscribers.TryRemove(id, out Subscription? sub) && sub.Frames)
        {
            Interlocked.Decrement(ref _frameSubscribers);
        }
    }

    /// <summary>Every active, then every recently ended stream.</summary>
    private StreamReport[] Reports()
    {
        var reports = new List<StreamReport>(_active.Count + _ended.Count);
        foreach (StreamStatus s in _active.Values)
        {
            reports.Add(StreamReport.From(s));
        }

        foreach (StreamStatus s in _ended)
        {
            reports.Add(StreamReport.From(s));
        }

        return [.. reports];
    }

    /// <summary>A subscriber's bounded queue of decisions (UTF-8 JSON, one object per item).</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly DecisionHub _hub;
        private int _closed;

        internal Subscription(DecisionHub hub, long id, Channel<byte[]> channel, string? filter, bool frames)
        {
            _hub = hub;
            Id = id;
            Channel = channel;
            Filter = filter;
            Frames = frames;
        }

        /// <summary>True when the subscriber also receives event frames.</summary>
        public bool Frames { get; }

        /// <summary>Subscriber number.</summary>
        public long Id { get; }

        /// <summary>Only decisions of this stream (null = all).</summary>
        public string? Filter { get; }

        /// <summary>The decisions; completes at shutdown (after the queue drains) or when the subscriber was dropped.</summary>
        public ChannelReader<byte[]> Reader => Channel.Reader;

        /// <summary>True when the hub dropped this subscriber for being slow.</summary>
        public bool DroppedForSlowness { get; private set; }

        internal Channel<byte[]> Channel { get; }

        internal bool Closed => Volatile.Read(ref _closed) != 0;

        /// <summary>Ends the subscription.</summary>
        public void Dispose()
        {
            Interlocked.Exchange(ref _closed, 1);
            Channel.Writer.TryComplete();
            _hub.Remove(Id);
        }

        internal void Close()
        {
            DroppedForSlowness = true;
            Dispose();
        }
    }
}
