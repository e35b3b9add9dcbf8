using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;

namespace EventSnn.Serving;

/// <summary>The kind of input a serve listener accepts.</summary>
public enum ServeInputKind
{
    /// <summary>DV AEDAT4 network stream over TCP (uint32 size + IOHeader, then packets), pushed by the peer.</summary>
    Dv = 0,

    /// <summary>jAER UDP datagrams (int32 sequence number, then big-endian address/timestamp pairs).</summary>
    JaerUdp = 1,

    /// <summary>jAER TCP stream (headerless big-endian address/timestamp pairs).</summary>
    JaerTcp = 2,

    /// <summary>A stream of an EventSnn cluster, shown from the decisions it publishes on NATS (<see cref="ClusterDecisionFeed"/>).</summary>
    Cluster = 3,
}

/// <summary>What the server does with a subscriber (JSON-lines or SSE client) that cannot keep up.</summary>
public enum SlowSubscriberPolicy
{
    /// <summary>When the subscriber's bounded queue is full, the subscriber is disconnected (counted).</summary>
    Disconnect = 0,

    /// <summary>When the queue is full, the oldest queued decision is dropped (counted); the subscriber stays.</summary>
    DropOldest = 1,
}

/// <summary>
/// One listening port of the server. Without <see cref="Name"/>, every accepted TCP connection
/// and every UDP sender endpoint is its own stream, identified as <c>kind:peer</c>
/// (e.g. <c>dv:127.0.0.1:50123</c>). With a name, the port carries one named stream: a second
/// concurrent TCP connection is refused, and with <see cref="ServeOptions.SaveDirectory"/> the
/// stream resumes from its own checkpoint when it reconnects.
/// </summary>
/// <param name="Kind">Input protocol.</param>
/// <param name="Port">Port to listen on (0 = ephemeral; see <see cref="ServeEndpoints"/>).</param>
/// <param name="Name">Fixed stream id for everything arriving on this port, or null.</param>
public sealed record ServeListener(ServeInputKind Kind, int Port, string? Name = null)
{
    /// <summary>
    /// Ground truth of this port's stream(s): a CSV of class,startTime_usec,endTime_usec in stream time
    /// (DVS128 Gesture's *_labels.csv; for DV streams the camera's microsecond timestamps). A window's
    /// truth is the segment holding its midpoint; with <see cref="ServeOptions.Learn"/> the stream's
    /// model copy learns from it online.
    /// </summary>
    public string? Labels { get; init; }

    /// <summary>The class number in <see cref="Labels"/> that means class index 0 (DVS128 Gesture counts from 1).</summary>
    public int LabelBase { get; init; } = 1;

    /// <summary>Short text of the kind, as used in stream ids: dv, jaer-udp, jaer-tcp, cluster.</summary>
    public static string KindName(ServeInputKind kind) => kind switch
    {
        ServeInputKind.Dv => "dv",
        ServeInputKind.JaerUdp => "jaer-udp",
        ServeInputKind.JaerTcp => "jaer-tcp",
        ServeInputKind.Cluster => "cluster",
        _ => "unknown",
    };
}

/// <summary>How every stream is windowed and classified (one model per stream).</summary>
public sealed record WindowClassifierOptions
{
    /// <summary>Without a checkpoint description or <see cref="Preprocessing"/>: width of one time bin (one network step), microseconds.</summary>
    public long BinUs { get; init; } = 5_000;

    /// <summary>One decision per window of this many microseconds (a multiple of <see cref="BinUs"/>).</summary>
    public long WindowUs { get; init; } = 100_000;

    /// <summary>Without a checkpoint description or <see cref="Preprocessing"/>: spatial pooling factor, pixel (x, y) feeds input (x / Pooling, y / Pooling).</summary>
    public int Pooling { get; init; } = 8;

    /// <summary>
    /// How a window is prepared when the checkpoint stores no description (a stored one always
    /// wins: the model sees its input as it was trained); null: time bins of <see cref="BinUs"/>
    /// pooled by <see cref="Pooling"/>, ON/OFF planes, log(1 + count) (<see cref="PreprocessingFor"/>).
    /// </summary>
    public EventSnn.Transforms.Preprocessing? Preprocessing { get; init; }

    /// <summary>Number of classes of a fresh model (a checkpoint brings its own).</summary>
    public int Classes { get; init; } = 10;

    /// <summary>Class names (index = class); empty: the checkpoint's, else the index is printed.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];

    /// <summary>Hidden neurons of a fresh model (a checkpoint brings its own).</summary>
    public int Hidden { get; init; } = 128;

    /// <summary>FPTT chunks per window (only used when learning).</summary>
    public int Chunks { get; init; } = 5;

    /// <summary>Initialisation seed (used when no checkpoint is given).</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Checkpoint of the model the streams are classified with (null: fresh seeded weights).</summary>
    public string? Checkpoint { get; init; }

    /// <summary>Time steps per decision window.</summary>
    public int StepsPerWindow => (int)(WindowUs / BinUs);

    /// <summary>Number of network inputs for a sensor of <paramref name="geometry"/> with the default preprocessing: 2 polarities x pooled height x pooled width.</summary>
    public int InputsFor(SensorGeometry geometry) => 2 * PooledSide(geometry.Height) * PooledSide(geometry.Width);

    /// <summary>The preprocessing of a stream of <paramref name="geometry"/> when none is stored: <see cref="Preprocessing"/>, else time bins of <see cref="BinUs"/> pooled by <see cref="Pooling"/>, ON/OFF planes, log(1 + count).</summary>
    public EventSnn.Transforms.Preprocessing PreprocessingFor(SensorGeometry geometry) => Preprocessing ?? new EventSnn.Transforms.Preprocessing
    {
        Input = EventSnn.Transforms.InputKind.Dvs,
        Width = geometry.Width,
        Height = geometry.Height,
        Pooling = Pooling,
        Polarity = EventSnn.Transforms.PolarityMode.Split,
        Binning = EventSnn.Transforms.BinningKind.Time,
        BinUs = BinUs,
        Value = EventSnn.Transforms.ValueKind.LogCount,
    };

    /// <summary>The name of class <paramref name="index"/>.</summary>
    public string ClassName(int index) => EventSnn.Snn.Classification.StreamDecision.ClassName(ClassNames, index);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (BinUs <= 0)
        {
            throw new ArgumentException($"BinUs = {BinUs} must be positive", nameof(BinUs));
        }

        if (WindowUs < BinUs || WindowUs % BinUs != 0 || WindowUs / BinUs > 100_000)
        {
            throw new ArgumentException($"WindowUs = {WindowUs} must be a multiple of BinUs = {BinUs} (at most 100000 bins)", nameof(WindowUs));
        }

        if (Pooling is < 1 or > 1024)
        {
            throw new ArgumentException($"Pooling = {Pooling} must be in 1..1024", nameof(Pooling));
        }

        if (Classes < 2 || Hidden < 1 || Chunks < 1 || Chunks > StepsPerWindow)
        {
            throw new ArgumentException($"Classes = {Classes} (>= 2), Hidden = {Hidden} (>= 1), Chunks = {Chunks} (1..steps per window) out of range", nameof(Classes));
        }

        Preprocessing?.Validate();
    }

    private int PooledSide(int side) => (side + Pooling - 1) / Pooling;
}

/// <summary>Configuration of <see cref="StreamServer"/> and the publishers (<see cref="ServeService"/>).</summary>
public sealed record ServeOptions
{
    /// <summary>Address every listener binds (loopback by default).</summary>
    public string Bind { get; init; } = "127.0.0.1";

    /// <summary>Input listeners.</summary>
    public IReadOnlyList<ServeListener> Listeners { get; init; } = [];

    /// <summary>Port of the JSON-lines TCP publisher (0 = ephemeral, null = off).</summary>
    public int? PublishPort { get; init; }

    /// <summary>Port of the HTTP endpoint (Kestrel: the dashboard at /, /events as Server-Sent Events, /health, /metrics, /api/streams; 0 = ephemeral, null = off).</summary>
    public int? HttpPort { get; init; }

    /// <summary>NATS server of an EventSnn cluster whose decisions are shown beside serve's own streams (null: none).</summary>
    public string? ClusterNats { get; init; }

    /// <summary>Binning and model of every stream.</summary>
    public WindowClassifierOptions Model { get; init; } = new();

    /// <summary>Sensor size of jAER streams (they do not announce it), and of DV streams whose header has none.</summary>
    public SensorGeometry DefaultGeometry { get; init; } = SensorGeometry.Dvs128;

    /// <summary>jAER address layout.</summary>
    public JaerChip Chip { get; init; } = JaerChip.Dvs128;

    /// <summary>Streams with ground truth (<see cref="ServeListener.Labels"/>) learn online with FPTT, each its own model copy (decisions are made before learning on the window).</summary>
    public bool Learn { get; init; }

    /// <summary>Folder for per-stream checkpoints (written atomically when a stream ends and at shutdown); null = none.</summary>
    public string? SaveDirectory { get; init; }

    /// <summary>Most streams alive at once; further connections/senders are refused (logged).</summary>
    public int MaxStreams { get; init; } = 64;

    /// <summary>A TCP input (DV or jAER) that sends nothing for this long is closed and its stream ended (its last window decided); <see cref="Timeout.InfiniteTimeSpan"/> = never.</summary>
    public TimeSpan InputIdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A UDP sender silent this long ends its stream (its last window is decided).</summary>
    public TimeSpan UdpIdleTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Decisions queued per subscriber before <see cref="SlowSubscribers"/> applies.</summary>
    public int SubscriberQueue { get; init; } = 4096;

    /// <summary>Most clients connected at once to the publisher and to the HTTP endpoint (each); more are turned away (HTTP 503).</summary>
    public int MaxClients { get; init; } = 64;

    /// <summary>What happens to a subscriber whose queue is full.</summary>
    public SlowSubscriberPolicy SlowSubscribers { get; init; } = SlowSubscriberPolicy.Disconnect;

    /// <summary>Largest HTTP request head (request line + headers) accepted; larger gets 431 and the connection closed.</summary>
    public int MaxRequestHeadBytes { get; init; } = 8192;

    /// <summary>Time a client has to send its HTTP request head.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Reader options of DV streams (bounds every length read from the wire).</summary>
    public ReaderOptions Reader { get; init; } = ReaderOptions.Default with { MaxPacketBytes = 16 << 20 };

    /// <summary>Shortest wall time between two event frames of a stream sent to the dashboard (<c>/events?frames=1</c>).</summary>
    public TimeSpan FrameInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Ended streams kept for /health.</summary>
    public int EndedStreamsKept { get; init; } = 256;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        Model.Validate();
        foreach (ServeListener l in Listeners)
        {
            if (l.Port is < 0 or > 65535)
            {
                throw new ArgumentException($"port {l.Port} out of range", nameof(Listeners));
            }
        }

        if (PublishPort is < 0 or > 65535 || HttpPort is < 0 or > 65535)
        {
            throw new ArgumentException("publish/http port out of range", nameof(PublishPort));
        }

        if (MaxStreams < 1 || SubscriberQueue < 1 || MaxClients < 1 || MaxRequestHeadBytes < 256)
        {
            throw new ArgumentException("MaxStreams, SubscriberQueue, MaxClients must be >= 1 and MaxRequestHeadBytes >= 256", nameof(MaxStreams));
        }

        if (InputIdleTimeout <= TimeSpan.Zero && InputIdleTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException($"InputIdleTimeout = {InputIdleTimeout} must be positive (or infinite)", nameof(InputIdleTimeout));
        }

        if (SaveDirectory is not null && File.Exists(SaveDirectory))
        {
            throw new ArgumentException($"SaveDirectory {SaveDirectory} is a file, not a folder", nameof(SaveDirectory));
        }

        if (FrameInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"FrameInterval = {FrameInterval} must be positive", nameof(FrameInterval));
        }

        if (!DefaultGeometry.IsKnown)
        {
            throw new ArgumentException("DefaultGeometry must be known", nameof(DefaultGeometry));
        }
    }
}
