using System.Text.Json;
using EventSnn.Cli.Commands;
using EventSnn.Snn.Classification;
using EventSnn.Workloads;

namespace EventSnn.Cli.Tests;

/// <summary>The --json records of eval, bench pipeline and bench soak: nulls and omitted fields the command runs in other tests do not reach.</summary>
public class CliJsonRecordTests
{
    [Fact]
    public void Evaluation_writes_null_for_a_loss_that_is_not_finite_and_for_a_class_without_samples()
    {
        // 2 classes: class 0 has two samples (one right), class 1 none
        var r = new EvaluationResult(2, 2, 0.5, double.PositiveInfinity, [1, 1, 0, 0], 0.123456);
        string json = JsonSerializer.Serialize(EvaluationJson.From(r, ["a"]), CliJsonContext.Default.EvaluationJson);

        Assert.Equal(
            """{"samples":2,"classes":2,"accuracy":0.5,"loss":null,"chance":0.5,"seconds":0.1235,"samples_per_second":16.2,"class_names":["a","1"],"per_class_accuracy":[0.5,null],"confusion":[[1,1],[0,0]]}""",
            json);
    }

    [Fact]
    public void Bench_pipeline_leaves_out_the_throughput_fields_without_a_throughput_run_and_the_latency_fields_without_a_latency_run()
    {
        var l = new LatencyResult(300, 299, 30, 1e5, 99_990.4, 0.03125, 0.22391, 0.5, 1);
        using JsonDocument latencyOnly = JsonDocument.Parse(JsonSerializer.Serialize(BenchPipelineJson.From("346x260", null, null, l), CliJsonContext.Default.BenchPipelineJson));
        Assert.Equal(
            ["benchmark", "sensor", "latency_p99_ms", "latency_p50_ms", "latency_max_ms", "latency_target_events_per_second", "latency_achieved_events_per_second", "latency_events_sent", "latency_events_received", "latency_lost_datagrams", "latency_steps"],
            latencyOnly.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(0.2239, latencyOnly.RootElement.GetProperty("latency_p99_ms").GetDouble());
        Assert.Equal(99_990, latencyOnly.RootElement.GetProperty("latency_achieved_events_per_second").GetDouble());

        var t = new ThroughputResult(1000, 900, 4, 0.000123456, 0.0002, 2);
        using JsonDocument throughputOnly = JsonDocument.Parse(JsonSerializer.Serialize(BenchPipelineJson.From("128x128", "memory", t, null), CliJsonContext.Default.BenchPipelineJson));
        Assert.Equal(
            ["benchmark", "sensor", "source", "events_per_second", "events_per_cpu_second", "throughput_repeats", "throughput_events", "throughput_events_after_denoise", "throughput_steps", "throughput_seconds"],
            throughputOnly.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(0.0001, throughputOnly.RootElement.GetProperty("throughput_seconds").GetDouble());
    }

    [Fact]
    public void Soak_summary_keeps_the_histogram_order_and_leaves_out_the_p99_bound_without_decisions()
    {
        var within = new OrderedDictionary<string, long> { ["0.5"] = 0, ["1"] = 0, ["inf"] = 0 };
        var summary = new SoakSummaryJson("soak", 1, 1000, 1000, 3.1, 3000, 3000, 0, 100, 120, 20, 10, [100, 120], within, null, true, false);
        string json = JsonSerializer.Serialize(new SoakSummaryLine(summary), CliJsonContext.Default.SoakSummaryLine);

        Assert.Contains("\"decisions_within_ms\":{\"0.5\":0,\"1\":0,\"inf\":0},\"events_match\":true,\"passed\":false}}", json, StringComparison.Ordinal);
        Assert.DoesNotContain("latency_p99_ms_at_most", json, StringComparison.Ordinal);
    }
}
