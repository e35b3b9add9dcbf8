using System.Text.Json;
using EventSnn.Testing;

namespace EventSnn.Cli.Tests;

/// <summary>`eventsnn convert` keeps every event and the statistics of the input.</summary>
public class ConvertTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("eventsnn-convert-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("expelliarmus/evt3_sample.raw", "lz4")]
    [InlineData("pyaedattools/IMU_translBoxes.aedat", "zstd")]
    [InlineData("tonic/sample_ncars.dat", "none")]
    [InlineData("shiba24/faces_easy_0001.bin", "lz4")]
    [InlineData("tonic/sample.aedat4", "zstd")]
    public void Converted_aedat4_has_the_same_statistics(string fixture, string compression)
    {
        string output = Path.Combine(_dir, "out.aedat4");
        (int code, _, string err) = CliHarness.Run("convert", Fixtures.Path(fixture), output, "--compression", compression);
        Assert.True(code == 0, err);
        JsonElement before = Inspect(Fixtures.Path(fixture));
        JsonElement after = Inspect(output);
        Assert.Equal("aedat4", after.GetProperty("format").GetString());
        foreach (string key in new[] { "events", "on", "t_first", "t_last", "x_max", "y_max", "sum_x", "sum_y" })
        {
            Assert.Equal(before.GetProperty(key).GetInt64(), after.GetProperty(key).GetInt64());
        }

        int expectedCompression = compression switch { "lz4" => 1, "zstd" => 3, _ => 0 };
        Assert.Equal(expectedCompression, after.GetProperty("compression").GetInt32());
    }

    [Fact]
    public void Nas_recording_converts_to_one_shd_sample()
    {
        string output = Path.Combine(_dir, "nas.h5");
        (int code, _, string err) = CliHarness.Run("convert", Fixtures.Path("pynavis/sound_mono_32ch_ONOFF_addr2b_ts02.aedat"), output);
        Assert.True(code == 0, err);
        JsonElement shd = Inspect(output);
        Assert.Equal("shd", shd.GetProperty("format").GetString());
        Assert.Equal(1, shd.GetProperty("samples").GetInt32());
        Assert.Equal(32, shd.GetProperty("channels").GetInt32());
        Assert.Equal(Inspect(Fixtures.Path("pynavis/sound_mono_32ch_ONOFF_addr2b_ts02.aedat")).GetProperty("events").GetInt64(), shd.GetProperty("events").GetInt64());
    }

    [Fact]
    public void Unknown_compression_is_a_usage_error()
    {
        Assert.Equal(2, CliHarness.Run("convert", Fixtures.Path("tonic/sample_ncars.dat"), Path.Combine(_dir, "x.aedat4"), "--compression", "brotli").Code);
    }

    private static JsonElement Inspect(string path)
    {
        (int code, string stdout, string err) = CliHarness.Run("inspect", path, "--json");
        Assert.True(code == 0, err);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        return doc.RootElement.Clone();
    }
}
