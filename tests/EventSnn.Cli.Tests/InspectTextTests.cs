using System.Text.Json;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Cli.Tests;

/// <summary>`eventsnn inspect` without --json: a user's view, units matching the values; --json keeps every field.</summary>
public sealed class InspectTextTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "eventsnn-inspect-" + Guid.NewGuid().ToString("N"));

    public InspectTextTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>1,000 events (600 ON) from t = 10 s over <paramref name="durationUs"/>, 64 x 48, in AEDAT 4.</summary>
    private string Write(long durationUs, Aedat4Compression compression)
    {
        string path = Path.Combine(_dir, $"r{durationUs}-{compression}.aedat4");
        using Aedat4Writer w = Aedat4Writer.Create(path, new Aedat4WriterOptions { Geometry = new SensorGeometry(64, 48), Compression = compression });
        using var batch = new EventBatch(1000);
        for (int i = 0; i < 1000; i++)
        {
            batch.Add(10_000_000 + (durationUs * i / 999), i % 64, i % 48, i % 5 < 3);
        }

        w.WriteEvents(batch);
        return path;
    }

    private static Dictionary<string, string> Lines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(':', 2))
            .ToDictionary(p => p[0], p => p[1].Trim());

    [Theory]
    [InlineData(590_000L, Aedat4Compression.Lz4, "0.59 s", "1.69 k events/s", "LZ4")]
    [InlineData(2_500L, Aedat4Compression.Zstd, "2.5 ms", "400 k events/s", "zstd")]
    [InlineData(30_568_052_512L, Aedat4Compression.None, "8 h 29 min 28 s", "0.0327 events/s", "none")]
    public void Text_view_gives_duration_rate_and_codec_in_units_that_match(long durationUs, Aedat4Compression compression, string duration, string rate, string codec)
    {
        string path = Write(durationUs, compression);
        (int code, string stdout, string stderr) = CliHarness.Run("inspect", path);
        Assert.True(code == 0, stderr);
        Dictionary<string, string> lines = Lines(stdout);
        Assert.Equal(duration, lines["duration"]);
        Assert.Equal(rate, lines["event rate"]);
        Assert.Equal(codec, lines["compression"]);
        Assert.Equal("aedat4 (AEDAT 4.0)", lines["format"]);
        Assert.Equal("64 x 48 pixels (from the file header)", lines["sensor"]);
        Assert.Equal("1,000 (ON 600 = 60.0 %, OFF 400)", lines["events"]);
        Assert.Equal("10,000,000 us (10 s)", lines["first timestamp"]);
        Assert.Equal("0", lines["frames"]);
        Assert.Equal("0", lines["IMU samples"]);
        Assert.Equal("0", lines["triggers"]);
        Assert.Equal("none", lines["warnings"]);

        // no test statistics, no raw codes, no value whose unit contradicts its label
        Assert.DoesNotContain("sum x", stdout);
        Assert.DoesNotContain("sum y", stdout);
        Assert.DoesNotContain("duration us", stdout);
        Assert.DoesNotContain("t min", stdout);
    }

    [Fact]
    public void Json_keeps_the_raw_fields_and_adds_names_and_rates()
    {
        string path = Write(590_000, Aedat4Compression.Lz4);
        (int code, string stdout, string stderr) = CliHarness.Run("inspect", path, "--json");
        Assert.True(code == 0, stderr);
        JsonElement j = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(590_000, j.GetProperty("duration_us").GetInt64());
        Assert.Equal(0.59, j.GetProperty("duration_s").GetDouble(), 9);
        Assert.Equal(1000 / 0.59, j.GetProperty("event_rate_per_s").GetDouble(), 6);
        Assert.Equal((int)Aedat4Compression.Lz4, j.GetProperty("compression").GetInt32());
        Assert.Equal("lz4", j.GetProperty("compression_name").GetString());
        Assert.Equal(600, j.GetProperty("on").GetInt64());
        Assert.Equal(400, j.GetProperty("off").GetInt64());
        Assert.Equal(Enumerable.Range(0, 1000).Sum(i => (long)(i % 64)), j.GetProperty("sum_x").GetInt64());
        Assert.True(j.TryGetProperty("sum_y", out _));
        Assert.Equal(0, j.GetProperty("frames").GetInt64());
    }
}
