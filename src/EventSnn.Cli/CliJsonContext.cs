using System.Text.Json.Serialization;
using EventSnn.Cli.Commands;

namespace EventSnn.Cli;

/// <summary>
/// The System.Text.Json source-generated serialisation of the tool's JSON summaries: snake_case
/// names, members in declaration order, nulls written unless a member says otherwise.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(RunSummaryLine))]
[JsonSerializable(typeof(ClassifySummaryLine))]
[JsonSerializable(typeof(ServeSummaryLine))]
[JsonSerializable(typeof(ServeListeningLine))]
[JsonSerializable(typeof(BenchStepJson))]
[JsonSerializable(typeof(BenchBackendsJson))]
[JsonSerializable(typeof(TrainEpochJson))]
[JsonSerializable(typeof(TrainSummaryLine))]
[JsonSerializable(typeof(ReproAddingJson))]
[JsonSerializable(typeof(ReproCompareJson))]
[JsonSerializable(typeof(EvaluationJson))]
[JsonSerializable(typeof(EvalJson))]
[JsonSerializable(typeof(ConvertJson))]
[JsonSerializable(typeof(DatasetBaselineJson))]
[JsonSerializable(typeof(SendJson))]
[JsonSerializable(typeof(ClusterPublishJson))]
[JsonSerializable(typeof(ClusterWatchSummaryLine))]
[JsonSerializable(typeof(ClusterStatusJson))]
[JsonSerializable(typeof(BenchClusterLine))]
[JsonSerializable(typeof(BenchClusterInProcessLine))]
[JsonSerializable(typeof(BenchPipelineJson))]
[JsonSerializable(typeof(SoakSampleJson))]
[JsonSerializable(typeof(SoakSummaryLine))]
[JsonSerializable(typeof(InspectDvsJson))]
[JsonSerializable(typeof(InspectSpikesJson))]
[JsonSerializable(typeof(InspectReaderJson))]
[JsonSerializable(typeof(InspectLiveJson))]
[JsonSerializable(typeof(InspectShdJson))]
[JsonSerializable(typeof(BenchDecodeJson))]
[JsonSerializable(typeof(SmnistEpochJson))]
[JsonSerializable(typeof(SmnistSummaryLine))]
internal sealed partial class CliJsonContext : JsonSerializerContext;

/// <summary>The <c>run --json</c> summary line: <c>{"summary":{...}}</c>.</summary>
internal sealed record RunSummaryLine(RunSummaryJson Summary);

/// <summary>The main job's numbers (ratios rounded to 4 decimals, seconds to 2).</summary>
internal sealed record RunSummaryJson(
    long Events,
    int Decisions,
    double Accuracy,
    double AccuracyFirstHalf,
    double AccuracySecondHalf,
    double Chance,
    double Seconds,
    bool Interrupted,
    IReadOnlyList<string> Plots,
    IReadOnlyList<string> Checkpoints,
    string DecisionLog,
    IReadOnlyList<RunStreamJson> Streams);

/// <summary>One stream of the main job.</summary>
internal sealed record RunStreamJson(
    string Stream,
    int Classes,
    long Events,
    long Steps,
    int Decisions,
    double Accuracy,
    double AccuracyFirstHalf,
    double AccuracySecondHalf,
    double AccuracyHeldOut,
    int HeldOutDecisions,
    double Chance,
    [property: JsonPropertyName("latency_mean_ms")] double LatencyMeanMs,
    [property: JsonPropertyName("latency_p99_ms")] double LatencyP99Ms,
    string Method,
    long Updates,
    int Divergences,
    long DroppedSteps,
    double Seconds);

/// <summary>The <c>classify --json</c> summary line: <c>{"summary":{...}}</c>.</summary>
internal sealed record ClassifySummaryLine(ClassifySummaryJson Summary);

/// <summary>One classified stream's numbers (chance and latencies rounded to 4 decimals, seconds to 2).</summary>
internal sealed record ClassifySummaryJson(
    string Stream,
    long Events,
    long Steps,
    long Decisions,
    long Labelled,
    double Accuracy,
    double AccuracyFirstHalf,
    double AccuracySecondHalf,
    double Chance,
    [property: JsonPropertyName("latency_mean_ms")] double LatencyMeanMs,
    [property: JsonPropertyName("latency_p99_ms")] double LatencyP99Ms,
    bool Learn,
    string Method,
    long Updates,
    long Divergences,
    long LabelsReceived,
    long LabelsUnmatched,
    long LateLearned,
    double Seconds,
    bool Interrupted,
    string? Checkpoint,
    IReadOnlyList<string> Plots);

/// <summary>The <c>serve --json</c> line printed once every listener is up.</summary>
internal sealed record ServeListeningLine(string Bind, IReadOnlyDictionary<string, int> Listening);

/// <summary>The <c>serve --json</c> summary line: <c>{"summary":{...}}</c>.</summary>
internal sealed record ServeSummaryLine(ServeSummaryJson Summary);

/// <summary>What the server saw, all streams and per stream.</summary>
internal sealed record ServeSummaryJson(long Streams, long Events, long Decisions, double Seconds, bool Interrupted, IReadOnlyList<ServeStreamJson> PerStream);

/// <summary>One served stream; <c>accuracy</c> is null while no decision is labelled, <c>error</c> and <c>checkpoint</c> only when there is one.</summary>
internal sealed record ServeStreamJson(
    string Stream,
    long Events,
    long Decisions,
    long Labelled,
    long Correct,
    double? Accuracy,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Checkpoint);

/// <summary>The <c>bench step --json</c> line (rates rounded to 0.1, seconds to 0.001).</summary>
internal sealed record BenchStepJson(
    string Backend,
    string Mode,
    int Hidden,
    int Inputs,
    double Density,
    int Chunk,
    int Batch,
    int Outputs,
    string Norm,
    double StepsPerSecond,
    double StepsPerCpuSecond,
    double AllocatedBytesPerStep,
    long Steps,
    double Seconds);

/// <summary>The <c>bench backends --json</c> line: the configuration and one row per scenario.</summary>
internal sealed record BenchBackendsJson(
    int Hidden,
    int Inputs,
    double Density,
    int Chunk,
    int Outputs,
    string Norm,
    double Seconds,
    int Repeat,
    string LoadAverageBefore,
    string LoadAverageAfter,
    IReadOnlyList<BenchBackendsRowJson> Rows);

/// <summary>One scenario of <c>bench backends</c>: best steps per second of each backend (0.1), their ratios (0.001) and CPU shares (0.01).</summary>
internal sealed record BenchBackendsRowJson(
    string Scenario,
    string Mode,
    int Batch,
    double ManagedStepsPerSecond,
    [property: JsonPropertyName("torch_1thread_steps_per_second")] double Torch1ThreadStepsPerSecond,
    [property: JsonPropertyName("torch_2threads_steps_per_second")] double Torch2ThreadsStepsPerSecond,
    [property: JsonPropertyName("ratio_managed_over_torch_1thread")] double RatioManagedOverTorch1Thread,
    [property: JsonPropertyName("ratio_managed_over_torch_2threads")] double RatioManagedOverTorch2Threads,
    double ManagedCpuShare,
    [property: JsonPropertyName("torch_1thread_cpu_share")] double Torch1ThreadCpuShare,
    [property: JsonPropertyName("torch_2threads_cpu_share")] double Torch2ThreadsCpuShare)
{
    /// <summary>Learning rows: the managed engine with 2 threads (batch 1: sharing each step; larger batches: data-parallel slices); omitted in the inference row.</summary>
    [JsonPropertyName("managed_2threads_steps_per_second")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Managed2ThreadsStepsPerSecond { get; init; }

    /// <summary>Managed with 2 threads over torch with 2 threads.</summary>
    [JsonPropertyName("ratio_managed_2threads_over_torch_2threads")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? RatioManaged2ThreadsOverTorch2Threads { get; init; }

    /// <summary>CPU share of the 2-thread managed run (up to 2).</summary>
    [JsonPropertyName("managed_2threads_cpu_share")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Managed2ThreadsCpuShare { get; init; }
}
