using System.Text.Json;
using EventSnn.Cli.Commands;
using EventSnn.Snn.Classification;

namespace EventSnn.Cli.Tests;

/// <summary>The --json records of inspect and repro smnist: nulls and omitted fields that the command runs on the fixtures do not reach.</summary>
public class InspectSmnistJsonRecordTests
{
    [Fact]
    public void Inspect_of_an_empty_dvs_file_writes_a_null_rate_and_leaves_out_the_counters_its_format_has_not()
    {
        var line = new InspectDvsJson("evt3", 640, 480, "header", 0, 0, 0, 0, 0, 0, 0, -1, -1, 0, 0, 0, 0.0, null, 0) { BytesRead = 40, Warnings = 1 };

        Assert.Equal(
            """{"format":"evt3","width":640,"height":480,"geometry_source":"header","events":0,"on":0,"off":0,"t_first":0,"t_last":0,"t_min":0,"t_max":0,"x_max":-1,"y_max":-1,"sum_x":0,"sum_y":0,"duration_us":0,"duration_s":0,"event_rate_per_s":null,"triggers":0,"bytes_read":40,"warnings":1}""",
            JsonSerializer.Serialize(line, CliJsonContext.Default.InspectDvsJson));

        // an AEDAT 3.1 file: the codec name and packet counts sit between triggers and bytes_read
        using JsonDocument aedat3 = JsonDocument.Parse(JsonSerializer.Serialize(line with { CompressionName = "none", Packets = 14, PacketsSkipped = 2 }, CliJsonContext.Default.InspectDvsJson));
        Assert.Equal(
            ["triggers", "compression_name", "packets", "packets_skipped", "bytes_read", "warnings"],
            aedat3.RootElement.EnumerateObject().Select(p => p.Name).Skip(18));
    }

    [Fact]
    public void Smnist_writes_null_for_accuracies_that_are_not_finite_and_leaves_out_the_permutation_and_checkpoint_of_a_plain_run()
    {
        var epoch = new SmnistEpochJson(1, 2.3, 0.1, null, null, 1.25, 0.5, 0.003, 0, true, DecisionAccuracyJson.From(DecisionAccuracies.None));
        Assert.Equal(
            """{"epoch":1,"train_loss":2.3,"train_accuracy":0.1,"test_accuracy":null,"test_loss":null,"seconds":1.25,"cpu_seconds":0.5,"lr":0.003,"divergences":0,"interrupted":true}""",
            JsonSerializer.Serialize(epoch, CliJsonContext.Default.SmnistEpochJson));
        Assert.EndsWith(
            ""","interrupted":false,"test_accuracy_by_decision":{"last":0.5,"mean":0.25,"max":null}}""",
            JsonSerializer.Serialize(epoch with { Interrupted = false, TestAccuracyByDecision = DecisionAccuracyJson.From(new DecisionAccuracies(0.5, 0.25, double.NaN)) }, CliJsonContext.Default.SmnistEpochJson));

        var summary = new SmnistSummaryJson("smnist", 64, 32, 784, 1, "LTC 16", [16], "fptt", 28, "every-step", "last", "batch", 16, 1, 1, 1, null, null, [null], 0, 1.5, 1.25, 1000, 2000, null, null, null, true, null, 1.5);
        using JsonDocument plain = JsonDocument.Parse(JsonSerializer.Serialize(new SmnistSummaryLine(summary), CliJsonContext.Default.SmnistSummaryLine));
        JsonElement s = plain.RootElement.GetProperty("summary");
        Assert.False(s.TryGetProperty("permutation_seed", out _));
        Assert.False(s.TryGetProperty("permutation", out _));
        Assert.False(s.TryGetProperty("checkpoint", out _));
        Assert.False(s.TryGetProperty("resumed_after_epoch", out _));
        Assert.Equal(JsonValueKind.Null, s.GetProperty("final_test_accuracy").ValueKind);
        Assert.Equal(JsonValueKind.Null, s.GetProperty("test_accuracy_per_epoch")[0].ValueKind);

        using JsonDocument permuted = JsonDocument.Parse(JsonSerializer.Serialize(new SmnistSummaryLine(summary with { Task = "psmnist", PermutationSeed = 3, Permutation = [2, 0, 1], Checkpoint = "/tmp/c.ckpt" }), CliJsonContext.Default.SmnistSummaryLine));
        Assert.Equal(
            ["learner_memory_bytes", "peak_working_set_bytes", "permutation_seed", "permutation", "checkpoint", "interrupted", "total_seconds"],
            permuted.RootElement.GetProperty("summary").EnumerateObject().Select(p => p.Name).Skip(22));
    }
}
