using System.Buffers;
using EventSnn.Snn.Classification;

namespace EventSnn.Cluster;

/// <summary>
/// Names shared by publishers, silos and watchers: the JetStream streams, the subjects of one
/// sensor stream and the headers of its messages. A stream name is one NATS subject token.
/// </summary>
public static class ClusterNames
{
    /// <summary>JetStream stream holding every sensor stream's event packets and label intervals.</summary>
    public const string InputStream = "EVENTSNN";

    /// <summary>JetStream stream holding the decisions (deduplicated by message id).</summary>
    public const string DecisionStream = "EVENTSNN_DECISIONS";

    /// <summary>Subject prefix of event packets.</summary>
    public const string EventsPrefix = "eventsnn.events.";

    /// <summary>Subject prefix of label intervals.</summary>
    public const string LabelsPrefix = "eventsnn.labels.";

    /// <summary>Subject prefix of decisions.</summary>
    public const string DecisionsPrefix = "eventsnn.decisions.";

    /// <summary>Header: the sensor stream's name.</summary>
    public const string StreamHeader = "Eventsnn-Stream";

    /// <summary>Header: the publisher's packet sequence number (0, 1, ...) within the stream.</summary>
    public const string SequenceHeader = "Eventsnn-Seq";

    /// <summary>Header: time of the packet's first event (us).</summary>
    public const string StartHeader = "Eventsnn-Start-Us";

    /// <summary>Header: time of the packet's last event (us).</summary>
    public const string EndHeader = "Eventsnn-End-Us";

    /// <summary>The JetStream message id of a decision, which makes a re-published decision (after a restart) a duplicate.</summary>
    public static string DecisionMessageId(StreamDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{decision.Stream}:{decision.StartUs}:{decision.TUs}");
    }

    /// <summary>Header: sensor width x height of an event packet ("128x128").</summary>
    public const string SensorHeader = "Eventsnn-Sensor";

    /// <summary>Header: AEDAT4 compression of an event packet (none, lz4, zstd).</summary>
    public const string CompressionHeader = "Eventsnn-Compression";

    /// <summary>Header: events in the packet.</summary>
    public const string CountHeader = "Eventsnn-Events";

    /// <summary>Header of the empty message that ends a stream: its open window or started samples are decided.</summary>
    public const string EndOfStreamHeader = "Eventsnn-End-Of-Stream";

    /// <summary>Name of the Orleans grain storage provider.</summary>
    public const string GrainStorage = "eventsnn";

    /// <summary>Orleans cluster and service id.</summary>
    public const string ClusterId = "eventsnn";

    private static readonly SearchValues<char> Allowed = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

    /// <summary>Subject of <paramref name="stream"/>'s event packets.</summary>
    public static string Events(string stream) => EventsPrefix + Checked(stream);

    /// <summary>Subject of <paramref name="stream"/>'s label intervals.</summary>
    public static string Labels(string stream) => LabelsPrefix + Checked(stream);

    /// <summary>Subject of <paramref name="stream"/>'s decisions.</summary>
    public static string Decisions(string stream) => DecisionsPrefix + Checked(stream);

    /// <summary>Durable consumer of <paramref name="stream"/>'s event packets (its grain's).</summary>
    public static string EventsConsumer(string stream) => "grain-events-" + Checked(stream);

    /// <summary>Durable consumer of <paramref name="stream"/>'s label intervals (its grain's).</summary>
    public static string LabelsConsumer(string stream) => "grain-labels-" + Checked(stream);

    /// <summary>The stream name of a subject (its last token), or null when the subject is not one of ours.</summary>
    public static string? StreamOf(string subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        foreach (string prefix in new[] { EventsPrefix, LabelsPrefix, DecisionsPrefix })
        {
            if (subject.StartsWith(prefix, StringComparison.Ordinal) && IsValid(subject[prefix.Length..]))
            {
                return subject[prefix.Length..];
            }
        }

        return null;
    }

    /// <summary>True for 1-64 characters of letters, digits, '_' and '-'.</summary>
    public static bool IsValid(string? stream) => stream is { Length: > 0 and <= 64 } && !stream.AsSpan().ContainsAnyExcept(Allowed);

    /// <summary>Returns <paramref name="stream"/> or throws naming the rule it breaks.</summary>
    public static string Checked(string stream) => IsValid(stream)
        ? stream
        : throw new ArgumentException($"stream name '{stream}': use 1-64 letters, digits, '_' or '-' (it becomes a NATS subject token)", nameof(stream));
}
