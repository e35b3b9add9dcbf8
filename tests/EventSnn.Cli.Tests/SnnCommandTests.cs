using System.Text.Json;
using EventSnn.Cli;

namespace EventSnn.Cli.Tests;

public class SnnCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        int code = CommandRunner.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Bench_step_prints_the_json_fields_for_inference_and_learning()
    {
        foreach (string[] extra in new[] { Array.Empty<string>(), ["--learn"], ["--learn", "--norm", "layer", "--threads", "2"] })
        {
            (int code, string output, string err) = Run([.. new[] { "bench", "step", "--hidden", "32", "--inputs", "64", "--density", "0.1", "--chunk", "5", "--seconds", "0.2", "--warmup", "0.1", "--json" }, .. extra]);
            Assert.True(code == 0, err);
            using var doc = JsonDocument.Parse(output);
            JsonElement r = doc.RootElement;
            Assert.Equal("managed", r.GetProperty("backend").GetString());
            Assert.Equal(extra.Length == 0 ? "inference" : "learn", r.GetProperty("mode").GetString());
            Assert.Equal(32, r.GetProperty("hidden").GetInt32());
            Assert.Equal(64, r.GetProperty("inputs").GetInt32());
            Assert.True(r.GetProperty("steps_per_second").GetDouble() > 0);
            Assert.True(r.GetProperty("allocated_bytes_per_step").GetDouble() >= 0);
            Assert.True(r.GetProperty("steps").GetInt64() > 0);
        }
    }

    [Fact]
    public void Bench_step_with_the_torch_backend_prints_the_same_json_fields()
    {
        string[] common = ["bench", "step", "--hidden", "16", "--inputs", "32", "--density", "0.1", "--chunk", "4", "--seconds", "0.2", "--warmup", "0.1", "--json"];
        foreach (string[] extra in new[] { Array.Empty<string>(), ["--learn", "--batch", "3"] })
        {
            (int mcode, string mout, string merr) = Run([.. common, .. extra]);
            (int tcode, string tout, string terr) = Run([.. common, .. extra, "--backend", "torch", "--threads", "1"]);
            Assert.True(mcode == 0, merr);
            Assert.True(tcode == 0, terr);
            using var mdoc = JsonDocument.Parse(mout);
            using var tdoc = JsonDocument.Parse(tout);
            var mkeys = mdoc.RootElement.EnumerateObject().Select(p => p.Name).ToList();
            var tkeys = tdoc.RootElement.EnumerateObject().Select(p => p.Name).ToList();
            Assert.Equal(mkeys, tkeys);
            JsonElement r = tdoc.RootElement;
            Assert.Equal("torch", r.GetProperty("backend").GetString());
            Assert.Equal(extra.Length == 0 ? "inference" : "learn", r.GetProperty("mode").GetString());
            Assert.Equal(extra.Length == 0 ? 1 : 3, r.GetProperty("batch").GetInt32());
            Assert.True(r.GetProperty("steps_per_second").GetDouble() > 0);
            Assert.True(r.GetProperty("steps").GetInt64() > 0);
        }
    }

    [Fact]
    public void Bench_backends_reports_ratios_for_the_three_scenarios()
    {
        (int code, string output, string err) = Run("bench", "backends", "--hidden", "16", "--inputs", "32", "--chunk", "4", "--train-batch", "4", "--norm", "layer", "--seconds", "0.1", "--warmup", "0.05", "--repeat", "2", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        JsonElement rows = doc.RootElement.GetProperty("rows");
        Assert.Equal(2, doc.RootElement.GetProperty("repeat").GetInt32());
        Assert.Equal("layer", doc.RootElement.GetProperty("norm").GetString());
        Assert.Equal(3, rows.GetArrayLength());
        Assert.Equal("inference", rows[0].GetProperty("mode").GetString());
        Assert.Equal(1, rows[1].GetProperty("batch").GetInt32());
        Assert.Equal("learn", rows[2].GetProperty("mode").GetString());
        Assert.Equal(4, rows[2].GetProperty("batch").GetInt32());
        foreach (JsonElement row in rows.EnumerateArray())
        {
            double managed = row.GetProperty("managed_steps_per_second").GetDouble();
            double torch1 = row.GetProperty("torch_1thread_steps_per_second").GetDouble();
            Assert.True(managed > 0 && torch1 > 0);
            Assert.Equal(managed / torch1, row.GetProperty("ratio_managed_over_torch_1thread").GetDouble(), 0.01 * managed / torch1);
            Assert.True(row.GetProperty("managed_cpu_share").GetDouble() > 0);
            Assert.True(row.GetProperty("torch_2threads_cpu_share").GetDouble() > 0);
        }

        // learning also runs the managed engine on 2 threads (online: shared steps; batch: data-parallel); inference does not
        Assert.False(rows[0].TryGetProperty("managed_2threads_steps_per_second", out _));
        foreach (int i in new[] { 1, 2 })
        {
            double managed2 = rows[i].GetProperty("managed_2threads_steps_per_second").GetDouble();
            double torch2 = rows[i].GetProperty("torch_2threads_steps_per_second").GetDouble();
            Assert.True(managed2 > 0);
            Assert.Equal(managed2 / torch2, rows[i].GetProperty("ratio_managed_2threads_over_torch_2threads").GetDouble(), 0.01 * managed2 / torch2);
        }
    }

    [Fact]
    public void Repro_adding_prints_result_memory_and_curve()
    {
        (int code, string output, string err) = Run("repro", "adding", "--T", "20", "--method", "fptt", "--iterations", "4", "--seed", "3", "--batch", "2", "--neurons", "8", "--chunk-length", "5", "--eval-samples", "10", "--curve-points", "2", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        JsonElement r = doc.RootElement;
        Assert.Equal(20, r.GetProperty("T").GetInt32());
        Assert.Equal("fptt", r.GetProperty("method").GetString());
        Assert.Equal(4, r.GetProperty("iterations").GetInt32());
        Assert.Equal(5, r.GetProperty("chunk_length").GetInt32());
        Assert.True(r.GetProperty("final_mse").GetDouble() > 0);
        Assert.True(r.GetProperty("peak_memory_bytes").GetInt64() > 0);
        Assert.True(r.GetProperty("seconds").GetDouble() >= 0);
        Assert.Equal(2, r.GetProperty("curve").GetArrayLength());
        Assert.Equal(2, r.GetProperty("curve")[0][0].GetInt32());

        (code, output, err) = Run("repro", "adding", "--T", "20", "--method", "bptt", "--iterations", "2", "--batch", "2", "--neurons", "8", "--eval-samples", "10");
        Assert.True(code == 0, err);
        Assert.Contains("final MSE", output);
        Assert.Contains("learning curve", output);
    }

    [Fact]
    public void Bad_options_are_usage_errors()
    {
        Assert.Equal(CommandRunner.BadInput, Run("repro", "adding", "--method", "sgd").Code);
        Assert.Equal(CommandRunner.BadInput, Run("repro", "adding", "--T", "0").Code);
        Assert.Equal(CommandRunner.BadInput, Run("bench", "step", "--density", "2").Code);
        Assert.Equal(CommandRunner.BadInput, Run("bench", "step", "--backend", "cuda").Code);
        Assert.Equal(CommandRunner.BadInput, Run("bench", "step", "--hidden", "x").Code);
    }
}
