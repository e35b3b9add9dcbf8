namespace EventSnn.Cluster;

/// <summary>One sensor stream's grain (key = stream name): consumes its JetStream subjects, decides and learns.</summary>
[Alias("eventsnn.IStreamGrain")]
public interface IStreamGrain : IGrainWithStringKey
{
    /// <summary>Activates the grain (it then consumes its stream on its own); returns its status.</summary>
    [Alias("Ensure")]
    Task<StreamStatus> Ensure();
}

/// <summary>What a stream grain reports.</summary>
/// <param name="Stream">Sensor stream name.</param>
/// <param name="Silo">Address of the silo the grain is active on.</param>
/// <param name="Decisions">Decisions made (one per labelled sample).</param>
/// <param name="Labelled">Decisions whose truth was known.</param>
/// <param name="Correct">Labelled decisions that were right.</param>
/// <param name="Events">Events processed.</param>
/// <param name="ResumeSequence">JetStream sequence of the event packet a restart would continue from (0: the beginning).</param>
/// <param name="Restored">True when this activation started from persisted state.</param>
/// <param name="Error">The last processing error, if any.</param>
[GenerateSerializer]
[Alias("eventsnn.StreamStatus")]
public sealed record StreamStatus(
    [property: Id(0)] string Stream,
    [property: Id(1)] string Silo,
    [property: Id(2)] long Decisions,
    [property: Id(3)] long Labelled,
    [property: Id(4)] long Correct,
    [property: Id(5)] long Events,
    [property: Id(6)] ulong ResumeSequence,
    [property: Id(7)] bool Restored,
    [property: Id(8)] string? Error);

/// <summary>A stream grain's persisted state (Redis), written at sample boundaries.</summary>
[GenerateSerializer]
[Alias("eventsnn.StreamGrainState")]
public sealed class StreamGrainState
{
    /// <summary>Sensor size of the stream ("WxH"), empty before its first packet.</summary>
    [Id(0)]
    public string Sensor { get; set; } = string.Empty;

    /// <summary>The classifier's checkpoint bytes (empty before the first decision).</summary>
    [Id(1)]
    public byte[] Model { get; set; } = [];

    /// <summary>Undecided label segments: classes.</summary>
    [Id(2)]
    public int[] SegmentLabels { get; set; } = [];

    /// <summary>Undecided label segments: starts (us).</summary>
    [Id(3)]
    public long[] SegmentStarts { get; set; } = [];

    /// <summary>Undecided label segments: ends (us).</summary>
    [Id(4)]
    public long[] SegmentEnds { get; set; } = [];

    /// <summary>End of the last decided sample.</summary>
    [Id(5)]
    public long ResumeTimeUs { get; set; } = long.MinValue;

    /// <summary>Decisions made.</summary>
    [Id(6)]
    public long Decisions { get; set; }

    /// <summary>Labelled decisions.</summary>
    [Id(7)]
    public long Labelled { get; set; }

    /// <summary>Correct labelled decisions.</summary>
    [Id(8)]
    public long Correct { get; set; }

    /// <summary>Events processed.</summary>
    [Id(9)]
    public long Events { get; set; }

    /// <summary>First JetStream sequence not yet done with (0: start from the beginning).</summary>
    [Id(10)]
    public ulong ResumeSequence { get; set; }

    /// <summary>First JetStream sequence of a label message not yet read (0: from the beginning).</summary>
    [Id(11)]
    public ulong LabelsSequence { get; set; }

    /// <summary>Window mode (a stream without labels): the time its windows are aligned to.</summary>
    [Id(12)]
    public long? WindowOriginUs { get; set; }
}
