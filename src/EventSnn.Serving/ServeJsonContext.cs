using System.Text.Json.Serialization;

namespace EventSnn.Serving;

/// <summary>
/// One stream as GET /health and GET /api/streams report it. <c>accuracy</c> is null while no
/// decision is labelled; <c>error</c> and <c>checkpoint</c> appear only when there is one.
/// </summary>
public sealed record StreamReport(
    string Id,
    string Kind,
    string Peer,
    bool Active,
    long Events,
    long Steps,
    long Decisions,
    DateTimeOffset Started,
    long Labelled,
    long Correct,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? Accuracy,
    long Bytes,
    long OutOfRange,
    long Malformed,
    string? Error,
    string? Checkpoint)
{
    /// <summary>A snapshot of <paramref name="s"/>'s counters.</summary>
    public static StreamReport From(StreamStatus s)
    {
        ArgumentNullException.ThrowIfNull(s);
        (long labelled, long correct) = s.Tally.Counts; // one read: never more correct than labelled
        return new StreamReport(
            s.Id,
            ServeListener.KindName(s.Kind),
            s.Peer,
            s.Active,
            s.Events,
            s.Steps,
            s.Decisions,
            s.Started,
            labelled,
            correct,
            labelled == 0 ? null : correct / (double)labelled,
            s.Bytes,
            s.OutOfRange,
            s.Malformed,
            s.Error,
            s.Checkpoint);
    }
}

/// <summary>The GET /health document: status (<c>ok</c> or <c>stopping</c>), hub counters, the bound ports when known, every stream.</summary>
public sealed record HealthReport(
    string Status,
    long Decisions,
    int Subscribers,
    long Dropped,
    long SlowDisconnects,
    IReadOnlyDictionary<string, int>? Ports,
    IReadOnlyList<StreamReport> Streams);

/// <summary>
/// The System.Text.Json source-generated serialisation of the serve host's documents: snake_case
/// names, null members left out (except a stream's <c>accuracy</c>, which is written as null).
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HealthReport))]
[JsonSerializable(typeof(StreamReport[]))]
public sealed partial class ServeJsonContext : JsonSerializerContext;
