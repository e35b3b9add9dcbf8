using System.Text.Json;
using EventSnn.Testing;

namespace EventSnn.Cluster.Tests;

/// <summary>
/// The deployment with real services: nats-server, redis-server and two silo processes; three
/// labelled recordings published as three streams; one silo killed with SIGKILL mid-run.
/// </summary>
[Collection("cluster")]
public class ClusterTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Every_labelled_sample_gets_exactly_one_decision_when_a_silo_is_killed_mid_run()
    {
        using var services = new ClusterServices();
        int a = ClusterServices.FreePort(), ag = ClusterServices.FreePort(), b = ClusterServices.FreePort(), bg = ClusterServices.FreePort();
        ToolProcess siloA = services.Silo(a, ag, "--hidden", "32");
        using ToolProcess siloB = services.Silo(b, bg, "--hidden", "32");

        // three streams published at twice real time (13 s recordings)
        var publishers = new List<ToolProcess>();
        for (int user = 1; user <= 3; user++)
        {
            publishers.Add(services.Tool(["cluster", "publish", ClusterServices.Recording(user), "--stream", $"cam{user}", "--labels", ClusterServices.Labels(user), "--speed", "2", "--nats", services.Nats, "--json"]));
        }

        // wait until some decisions were made, then kill the silo that holds at least one stream grain
        // (a stream persists its state with each decision)
        JsonElement status = WaitForStatus(services, s => s.GetProperty("streams").EnumerateArray().Count(x => x.GetProperty("decisions").GetInt64() >= 2) >= 2);
        string? victimSilo = status.GetProperty("streams").EnumerateArray().Where(x => x.GetProperty("decisions").GetInt64() >= 2).Select(x => x.GetProperty("silo").GetString()).FirstOrDefault();
        Assert.NotNull(victimSilo);
        bool killA = victimSilo!.Contains($":{a}:", StringComparison.Ordinal);
        string[] victims = [.. status.GetProperty("streams").EnumerateArray().Where(x => x.GetProperty("silo").GetString() == victimSilo && x.GetProperty("decisions").GetInt64() >= 1).Select(x => x.GetProperty("stream").GetString()!)];
        (killA ? siloA : siloB).KillHard();

        foreach (ToolProcess p in publishers)
        {
            await p.WaitForExit(2 * Minute);
            Assert.Equal(0, p.ExitCode);
        }

        // 3 x 10 labelled gestures: exactly 30 decisions, each sample once, none missing
        (int code, IReadOnlyList<string> lines, IReadOnlyList<string> err) = ToolProcess.Run(["cluster", "watch", "--count", "30", "--timeout", "90", "--nats", services.Nats, "--json"], 3 * Minute);
        Assert.True(code == 0, string.Join('\n', err));
        List<JsonElement> decisions = [.. lines.Select(l => JsonDocument.Parse(l).RootElement).Where(e => !e.TryGetProperty("summary", out _))];
        Assert.Equal(30, decisions.Count);
        foreach (IGrouping<string, JsonElement> stream in decisions.GroupBy(d => d.GetProperty("stream").GetString()!))
        {
            Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), stream.Select(d => d.GetProperty("decision").GetInt64()).Order());
            Assert.Equal(10, stream.Select(d => d.GetProperty("t_us").GetInt64()).Distinct().Count());
            Assert.All(stream, d => Assert.True(d.GetProperty("truth_index").GetInt32() >= 0));
        }

        // no more than 30 arrive later (duplicates would)
        (int code2, IReadOnlyList<string> lines2, _) = ToolProcess.Run(["cluster", "watch", "--count", "31", "--timeout", "5", "--nats", services.Nats, "--json"], Minute);
        Assert.Equal(0, code2);
        Assert.Equal(30, JsonDocument.Parse(lines2[^1]).RootElement.GetProperty("summary").GetProperty("decisions").GetInt64());

        // the killed silo's grains run on the survivor from their persisted state
        JsonElement after = WaitForStatus(services, s => s.GetProperty("streams").GetArrayLength() == 3);
        string survivor = killA ? $":{b}:" : $":{a}:";
        foreach (JsonElement s in after.GetProperty("streams").EnumerateArray())
        {
            Assert.Contains(survivor, s.GetProperty("silo").GetString()!, StringComparison.Ordinal);
            Assert.Equal(10, s.GetProperty("decisions").GetInt64());
            if (victims.Contains(s.GetProperty("stream").GetString()))
            {
                Assert.True(s.GetProperty("restored").GetBoolean(), "a moved grain starts from its persisted state");
            }
        }

        // the killed silo restarts on its ports and rejoins
        using ToolProcess again = killA ? services.Silo(a, ag, "--hidden", "32") : services.Silo(b, bg, "--hidden", "32");
        WaitForStatus(services, s => s.GetProperty("silos").GetArrayLength() == 2);
        siloA.Dispose();
    }

    [Fact]
    public async Task Publishers_and_silos_ride_out_a_NATS_restart_and_nothing_is_lost()
    {
        using var services = new ClusterServices();
        using ToolProcess silo = services.Silo(ClusterServices.FreePort(), ClusterServices.FreePort(), "--hidden", "32");
        var publishers = new List<ToolProcess>();
        for (int user = 4; user <= 5; user++)
        {
            publishers.Add(services.Tool(["cluster", "publish", ClusterServices.Recording(user), "--stream", $"cam{user}", "--labels", ClusterServices.Labels(user), "--speed", "2", "--nats", services.Nats, "--json"]));
        }

        WaitForStatus(services, s => s.GetProperty("streams").EnumerateArray().Sum(x => x.GetProperty("decisions").GetInt64()) >= 2);
        services.RestartNats(TimeSpan.FromSeconds(2));
        foreach (ToolProcess p in publishers)
        {
            await p.WaitForExit(2 * Minute);
            Assert.True(p.ExitCode == 0, string.Join('\n', p.Stderr));
            JsonElement summary = JsonDocument.Parse(p.Stdout[^1]).RootElement;
            Assert.False(summary.GetProperty("interrupted").GetBoolean());
        }

        (int code, IReadOnlyList<string> lines, IReadOnlyList<string> err) = ToolProcess.Run(["cluster", "watch", "--count", "20", "--timeout", "60", "--nats", services.Nats, "--json"], 2 * Minute);
        Assert.True(code == 0, string.Join('\n', err));
        List<JsonElement> decisions = [.. lines.Select(l => JsonDocument.Parse(l).RootElement).Where(e => !e.TryGetProperty("summary", out _))];
        Assert.Equal(20, decisions.Count); // 2 x 10 labelled gestures
        (int code2, IReadOnlyList<string> lines2, _) = ToolProcess.Run(["cluster", "watch", "--count", "21", "--timeout", "5", "--nats", services.Nats, "--json"], Minute);
        Assert.Equal(0, code2);
        Assert.Equal(20, JsonDocument.Parse(lines2[^1]).RootElement.GetProperty("summary").GetProperty("decisions").GetInt64()); // no duplicate
        foreach (IGrouping<string, JsonElement> stream in decisions.GroupBy(d => d.GetProperty("stream").GetString()!))
        {
            Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), stream.Select(d => d.GetProperty("decision").GetInt64()).Order());
        }

        JsonElement status = WaitForStatus(services, s => s.GetProperty("streams").GetArrayLength() == 2);
        Assert.All(status.GetProperty("streams").EnumerateArray(), s => Assert.Equal(10, s.GetProperty("decisions").GetInt64()));
    }

    [Fact]
    public async Task Serve_shows_the_clusters_streams_from_their_decisions()
    {
        using var services = new ClusterServices();
        using ToolProcess silo = services.Silo(ClusterServices.FreePort(), ClusterServices.FreePort(), "--hidden", "32");
        int http = ClusterServices.FreePort();
        using ToolProcess serve = services.Tool(["serve", "--dv-port", "off", "--jaer-udp-port", "off", "--jaer-tcp-port", "off", "--publish-port", "off", "--http-port", http.ToString(), "--cluster-nats", services.Nats]);
        await WaitForHttp(http);
        (int code, _, IReadOnlyList<string> err) = ToolProcess.Run(["cluster", "publish", ClusterServices.Recording(6), "--stream", "cam6", "--labels", ClusterServices.Labels(6), "--nats", services.Nats], Minute);
        Assert.True(code == 0, string.Join('\n', err));

        // the stream appears in /api/streams with its 10 labelled decisions, and in /metrics
        var clock = System.Diagnostics.Stopwatch.StartNew();
        JsonElement stream = default;
        while (clock.Elapsed < Minute)
        {
            (int status, string body) = await HttpProbe.Get(http, "/api/streams");
            Assert.Equal(200, status);
            stream = JsonDocument.Parse(body).RootElement.EnumerateArray().FirstOrDefault(x => x.GetProperty("id").GetString() == "cluster:cam6");
            if (stream.ValueKind == JsonValueKind.Object && stream.GetProperty("decisions").GetInt64() == 10)
            {
                break;
            }

            await Task.Delay(200);
        }

        Assert.True(stream.ValueKind == JsonValueKind.Object, "cluster:cam6 never appeared in /api/streams");
        Assert.Equal("cluster", stream.GetProperty("kind").GetString());
        Assert.Equal(10, stream.GetProperty("decisions").GetInt64());
        Assert.Equal(10, stream.GetProperty("labelled").GetInt64());
        (int metricsStatus, string metrics) = await HttpProbe.Get(http, "/metrics");
        Assert.Equal(200, metricsStatus);
        Assert.Contains("cluster:cam6", metrics, StringComparison.Ordinal);
    }

    private static async Task WaitForHttp(int port)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                (int status, _) = await HttpProbe.Get(port, "/health");
                if (status is 200 or 503)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (clock.Elapsed < Minute)
            {
            }

            await Task.Delay(200);
        }
    }

    private static JsonElement WaitForStatus(ClusterServices services, Func<JsonElement, bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string last = string.Empty;
        while (clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            (int code, IReadOnlyList<string> lines, IReadOnlyList<string> err) = ToolProcess.Run(["cluster", "status", "--redis", services.Redis, "--cluster-id", services.ClusterId, "--json"], Minute);
            last = string.Join('\n', lines) + string.Join('\n', err);
            if (code == 0)
            {
                JsonElement status = JsonDocument.Parse(lines[^1]).RootElement;
                if (condition(status))
                {
                    return status;
                }
            }

            Thread.Sleep(500);
        }

        Assert.Fail("status never matched; last: " + last);
        return default;
    }
}
