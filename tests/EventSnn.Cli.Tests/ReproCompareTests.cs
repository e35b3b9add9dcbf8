using System.Text.Json;
using EventSnn.Cli;

namespace EventSnn.Cli.Tests;

/// <summary><c>eventsnn repro compare</c> and the new method names: tiny budgets, every method in the output, bad values.</summary>
public class ReproCompareTests
{
    private static readonly string[] Methods = ["fptt", "bptt", "tbptt", "eprop", "ostl"];

    private static List<JsonElement> Lines(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    [Fact]
    public void Adding_compare_prints_one_sane_row_per_method()
    {
        (int code, string output, string err) = CliHarness.Run("repro", "compare", "--task", "adding", "--T", "40", "--iterations", "3", "--batch", "4", "--hidden", "8", "--eval-samples", "20", "--json");
        Assert.True(code == 0, err);
        List<JsonElement> rows = Lines(output);
        Assert.Equal(Methods, rows.Select(r => r.GetProperty("method").GetString()));
        var memory = new Dictionary<string, long>();
        foreach (JsonElement r in rows)
        {
            string method = r.GetProperty("method").GetString()!;
            Assert.Equal("adding", r.GetProperty("task").GetString());
            Assert.Equal("mse", r.GetProperty("metric").GetString());
            double final = r.GetProperty("final_metric").GetDouble();
            double best = r.GetProperty("best_metric").GetDouble();
            Assert.True(double.IsFinite(final) && final > 0, $"{method}: final {final}");
            Assert.True(best <= final && best > 0, $"{method}: best {best} final {final}");
            memory[method] = r.GetProperty("peak_learner_memory_bytes").GetInt64();
            Assert.True(memory[method] > 0);
            Assert.True(r.GetProperty("seconds").GetDouble() >= 0);
            Assert.Equal(3, r.GetProperty("iterations").GetInt32());
            Assert.Equal(40, r.GetProperty("T").GetInt32());

            // 3 batches: one update per sequence, or one per chunk of 10 steps
            Assert.Equal(method is "fptt" or "tbptt" ? 12 : 3, r.GetProperty("updates").GetInt64());
        }

        // BPTT's tape holds the whole sequence; truncated BPTT's one chunk; FPTT adds W̄ and λ to it
        Assert.True(memory["bptt"] > memory["tbptt"]);
        Assert.True(memory["fptt"] > memory["tbptt"]);
        Assert.Equal(memory["eprop"], memory["ostl"]);
    }

    [Fact]
    public void Online_learner_memory_does_not_grow_with_T_and_bptt_memory_does()
    {
        long Memory(string method, int steps)
        {
            (int code, string output, string err) = CliHarness.Run("repro", "compare", "--task", "adding", "--methods", method, "--T", steps.ToString(System.Globalization.CultureInfo.InvariantCulture), "--iterations", "1", "--batch", "2", "--hidden", "8", "--eval-samples", "4", "--json");
            Assert.True(code == 0, err);
            return Lines(output).Single().GetProperty("peak_learner_memory_bytes").GetInt64();
        }

        Assert.Equal(Memory("eprop", 20), Memory("eprop", 80));
        Assert.Equal(Memory("ostl", 20), Memory("ostl", 80));
        Assert.True(Memory("bptt", 80) > Memory("bptt", 20) * 3);
    }

    [Fact]
    public void Smnist_compare_runs_every_method_on_the_same_digits()
    {
        string folder = Path.Combine(Path.GetTempPath(), "eventsnn-compare-" + Guid.NewGuid().ToString("N"));
        try
        {
            ReproSmnistTests.WriteIdx(folder, "train", 16);
            ReproSmnistTests.WriteIdx(folder, "t10k", 8);
            (int code, string output, string err) = CliHarness.Run("repro", "compare", "--task", "smnist", "--mnist", folder, "--T", "28", "--train-samples", "16", "--test-samples", "8", "--batch", "4", "--hidden", "8", "--chunk-length", "7", "--norm", "running", "--tau-bias", "-2", "--json");
            Assert.True(code == 0, err);
            List<JsonElement> rows = Lines(output);
            Assert.Equal(Methods, rows.Select(r => r.GetProperty("method").GetString()));
            foreach (JsonElement r in rows)
            {
                string method = r.GetProperty("method").GetString()!;
                Assert.Equal("test_accuracy", r.GetProperty("metric").GetString());
                Assert.InRange(r.GetProperty("final_metric").GetDouble(), 0, 1);
                Assert.True(r.GetProperty("best_metric").GetDouble() >= r.GetProperty("final_metric").GetDouble());
                Assert.True(r.GetProperty("peak_learner_memory_bytes").GetInt64() > 0);
                Assert.Equal(1, r.GetProperty("epochs").GetInt32());
                Assert.Equal(method == "bptt" ? 4 : 16, r.GetProperty("updates").GetInt64()); // 16 digits / 4 = 4 batches, 28 / 7 = 4 chunks each
            }
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData("--task", "cifar", "--task")]
    [InlineData("--methods", "fptt,sgd", "--methods")]
    [InlineData("--budget-minutes", "0", "--budget-minutes")]
    public void Bad_values_exit_2_naming_the_option_and_the_choices(string option, string value, string named)
    {
        string[] args = option == "--task" ? ["repro", "compare", option, value] : ["repro", "compare", "--task", "adding", option, value];
        (int code, string output, string err) = CliHarness.Run(args);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains(named, err);
        Assert.Equal(string.Empty, output);
        if (option != "--budget-minutes")
        {
            Assert.Contains(option == "--task" ? "adding, smnist, spoken-digits, gestures" : "fptt, bptt, tbptt, eprop, ostl", err);
        }
    }

    [Fact]
    public void Normalisation_is_for_the_classification_tasks_and_never_batch_norm()
    {
        (int code, string output, string err) = CliHarness.Run("repro", "compare", "--task", "adding", "--norm", "running");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("option --norm: the classification tasks only", err);
        Assert.Equal(string.Empty, output);
        (code, _, err) = CliHarness.Run("repro", "compare", "--task", "smnist", "--norm", "batch", "--mnist", "/nonexistent/mnist");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("option --norm: 'batch' is not one of none, running, layer", err);
    }

    [Fact]
    public void Unknown_methods_list_the_valid_ones_everywhere()
    {
        (int code, _, string err) = CliHarness.Run("repro", "adding", "--method", "rtrl");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("fptt, bptt, tbptt, eprop, ostl", err);
        (code, _, err) = CliHarness.Run("repro", "smnist", "--method", "rtrl", "--mnist", "/nonexistent/mnist");
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("fptt, bptt, tbptt, eprop, ostl", err);
    }

    [Theory]
    [InlineData("eprop")]
    [InlineData("ostl")]
    [InlineData("tbptt")]
    public void Repro_adding_trains_with_the_new_methods(string method)
    {
        (int code, string output, string err) = CliHarness.Run("repro", "adding", "--T", "20", "--method", method, "--iterations", "3", "--batch", "2", "--neurons", "8", "--chunk-length", "5", "--eval-samples", "10", "--curve-points", "1", "--json");
        Assert.True(code == 0, err);
        JsonElement r = Lines(output).Single();
        Assert.Equal(method, r.GetProperty("method").GetString());
        Assert.True(double.IsFinite(r.GetProperty("final_mse").GetDouble()));
        Assert.Equal(method == "tbptt" ? 12 : 3, r.GetProperty("updates").GetInt64());
        Assert.Equal(method == "tbptt" ? 0 : 1, Math.Sign(r.GetProperty("learner_state_bytes").GetInt64()));
    }

    [Fact]
    public void Repro_adding_eprop_takes_random_feedback()
    {
        (int code, string output, string err) = CliHarness.Run("repro", "adding", "--T", "20", "--method", "eprop", "--feedback", "random", "--iterations", "2", "--batch", "2", "--neurons", "8", "--eval-samples", "10", "--curve-points", "1", "--json");
        Assert.True(code == 0, err);
        JsonElement r = Lines(output).Single();
        Assert.Equal("random", r.GetProperty("feedback").GetString());
        Assert.True(double.IsFinite(r.GetProperty("final_mse").GetDouble()));
    }
}
