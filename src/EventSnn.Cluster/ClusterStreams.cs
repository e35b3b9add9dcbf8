using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace EventSnn.Cluster;

/// <summary>Creates (or updates) the JetStream streams of a deployment; idempotent.</summary>
public static class ClusterStreams
{
    /// <summary>How long a decision's message id is remembered to drop a re-published duplicate.</summary>
    public static readonly TimeSpan DecisionDuplicateWindow = TimeSpan.FromMinutes(30);

    /// <summary>
    /// The input stream (events and labels of every sensor stream; full = publishing refused) and
    /// the decision stream (duplicates by message id dropped; oldest dropped when full).
    /// </summary>
    public static async Task EnsureAsync(INatsJSContext js, long maxInputBytes = 1L << 30, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(js);
        await js.CreateOrUpdateStreamAsync(
            new StreamConfig(ClusterNames.InputStream, [ClusterNames.EventsPrefix + "*", ClusterNames.LabelsPrefix + "*"])
            {
                MaxBytes = maxInputBytes,
                Discard = StreamConfigDiscard.New,
                DuplicateWindow = TimeSpan.FromMinutes(2),
                Storage = StreamConfigStorage.File,
            },
            cancellation).ConfigureAwait(false);
        await js.CreateOrUpdateStreamAsync(
            new StreamConfig(ClusterNames.DecisionStream, [ClusterNames.DecisionsPrefix + "*"])
            {
                MaxBytes = 256L << 20,
                Discard = StreamConfigDiscard.Old,
                DuplicateWindow = DecisionDuplicateWindow,
                Storage = StreamConfigStorage.File,
            },
            cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// An ephemeral reader of the decisions (of <paramref name="stream"/>, or of every stream when
    /// null): all those kept, or only those published from now on when <paramref name="onlyNew"/>.
    /// It goes away on its own 60 s after its last fetch.
    /// </summary>
    public static Task<INatsJSConsumer> DecisionReaderAsync(INatsJSContext js, string? stream, bool onlyNew, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(js);
        return js.CreateOrUpdateConsumerAsync(
            ClusterNames.DecisionStream,
            new ConsumerConfig
            {
                Name = "decisions-" + Guid.NewGuid().ToString("N")[..12],
                FilterSubject = stream is null ? ClusterNames.DecisionsPrefix + "*" : ClusterNames.Decisions(stream),
                AckPolicy = ConsumerConfigAckPolicy.None,
                DeliverPolicy = onlyNew ? ConsumerConfigDeliverPolicy.New : ConsumerConfigDeliverPolicy.All,
                InactiveThreshold = TimeSpan.FromSeconds(60),
                MemStorage = true,
                NumReplicas = 1,
            },
            cancellation).AsTask();
    }

    /// <summary>The sensor streams that have published events (names from the input stream's subjects).</summary>
    public static async Task<IReadOnlyList<string>> PublishedStreamsAsync(INatsJSContext js, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(js);
        INatsJSStream stream = await js.GetStreamAsync(ClusterNames.InputStream, new StreamInfoRequest { SubjectsFilter = ClusterNames.EventsPrefix + "*" }, cancellation).ConfigureAwait(false);
        var names = new List<string>();
        if (stream.Info.State.Subjects is { } subjects)
        {
            foreach (string subject in subjects.Keys)
            {
                if (ClusterNames.StreamOf(subject) is { } name)
                {
                    names.Add(name);
                }
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }
}
