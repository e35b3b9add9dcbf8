using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventSnn.Snn.Classification;

/// <summary>
/// One decision about one segment of a stream: what <c>classify</c>, <c>run</c>, <c>serve</c> and
/// the cluster report, in memory and (through <see cref="DecisionJsonContext"/>, snake_case) as
/// JSON: <c>t_us</c>, <c>start_us</c>, <c>stream</c>, <c>label</c>, <c>label_index</c>,
/// <c>confidence</c>, <c>latency_ms</c>, <c>truth</c> (null until known), <c>truth_index</c>,
/// <c>correct</c>, <c>decision</c>, <c>sample</c>, <c>steps</c>, <c>events</c>, and where the
/// producer has them <c>phase</c>, <c>pass</c>, <c>loss</c> (run) and <c>silo</c> (cluster).
/// Members a producer does not know are null and left out of the JSON.
/// </summary>
public sealed record StreamDecision
{
    /// <summary>End of the decided segment (event time, us): the decision's time.</summary>
    public required long TUs { get; init; }

    /// <summary>Start of the decided segment (event time, us).</summary>
    public required long StartUs { get; init; }

    /// <summary>Stream id.</summary>
    public required string Stream { get; init; }

    /// <summary>Predicted class name ("?" for a segment without steps).</summary>
    public required string Label { get; init; }

    /// <summary>Predicted class (-1 for a segment without steps).</summary>
    public required int LabelIndex { get; init; }

    /// <summary>Softmax probability of the predicted class (rounded to 6 decimals).</summary>
    public double Confidence { get; init => field = Math.Round(value, 6); }

    /// <summary>Wall time from the end of the segment (or the input that closed it) to the decision (rounded to 4 decimals).</summary>
    public double LatencyMs { get; init => field = Math.Round(value, 4); }

    /// <summary>True class name when known at decision time, else null (written as null).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Truth { get; init; }

    /// <summary>True class when known at decision time, else -1.</summary>
    public int TruthIndex { get; init; } = -1;

    /// <summary>True when the truth is known and matches.</summary>
    public bool Correct => TruthIndex >= 0 && LabelIndex == TruthIndex;

    /// <summary>Decision number within the stream (0, 1, ...); JSON <c>decision</c>.</summary>
    [JsonPropertyName("decision")]
    public long Index { get; init; }

    /// <summary>The producer's sample index of the segment (or the window number), when it has one.</summary>
    public long? Sample { get; init; }

    /// <summary>Network time steps of the segment.</summary>
    public int Steps { get; init; }

    /// <summary>Events of the segment, when counted.</summary>
    public long? Events { get; init; }

    /// <summary>Run: "train" (a training pass) or "test" (the held-out replay).</summary>
    public string? Phase { get; init; }

    /// <summary>Run: training pass (1, 2, ...; 0 for the held-out replay).</summary>
    public int? Pass { get; init; }

    /// <summary>Run: the sample's training loss (rounded to 5 decimals).</summary>
    public double? Loss { get; init => field = value is { } v ? Math.Round(v, 5) : null; }

    /// <summary>Cluster: the silo that made the decision.</summary>
    public string? Silo { get; init; }

    /// <summary>The class name of <paramref name="index"/>: its entry in <paramref name="names"/>, "?" for -1, else the number.</summary>
    public static string ClassName(IReadOnlyList<string>? names, int index) =>
        index < 0 ? "?" : names is not null && index < names.Count ? names[index] : index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The decision as UTF-8 JSON (one object, no newline), through the source-generated context.</summary>
    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, DecisionJsonContext.Default.StreamDecision);

    /// <summary>The decision as one JSON object (no newline).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, DecisionJsonContext.Default.StreamDecision);

    /// <summary>Reads a decision written by <see cref="ToUtf8Json"/>; null when <paramref name="json"/> is not one.</summary>
    public static StreamDecision? Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            StreamDecision? d = JsonSerializer.Deserialize(json, DecisionJsonContext.Default.StreamDecision);
            return d is { Stream: not null, Label: not null } ? d : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// The System.Text.Json source-generated serialisation of <see cref="StreamDecision"/>:
/// snake_case names, null members left out (except <c>truth</c>, which is written as null).
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StreamDecision))]
public sealed partial class DecisionJsonContext : JsonSerializerContext;
