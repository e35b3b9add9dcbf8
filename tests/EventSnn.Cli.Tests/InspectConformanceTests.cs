using System.Text.Json;
using EventSnn.Testing;

namespace EventSnn.Cli.Tests;

/// <summary>`eventsnn inspect --json` reproduces EXPECTED.json for every fixture that lists it.</summary>
public class InspectConformanceTests
{
    public static TheoryData<string> ExpectedFixtures()
    {
        var data = new TheoryData<string>();
        foreach (string key in Fixtures.Expected.Keys)
        {
            data.Add(key);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ExpectedFixtures))]
    public void Inspect_with_mmap_prints_the_same_json(string fixture)
    {
        // --mmap maps EVT 2.0/2.1/3.0 and DAT files; other formats ignore it: the output is the same either way
        (int code, string plain, string err) = CliHarness.Run("inspect", Fixtures.Path(fixture), "--json");
        Assert.True(code == 0, err);
        (int codeMapped, string mapped, string errMapped) = CliHarness.Run("inspect", Fixtures.Path(fixture), "--json", "--mmap");
        Assert.True(codeMapped == 0, errMapped);
        Assert.Equal(plain, mapped);
        Assert.Contains("\"events\":", mapped, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ExpectedFixtures))]
    public void Inspect_json_matches_expected(string fixture)
    {
        JsonElement expected = Fixtures.Expected[fixture];
        (int code, string stdout, string stderr) = CliHarness.Run("inspect", Fixtures.Path(fixture), "--json");
        Assert.True(code == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        using JsonDocument doc = JsonDocument.Parse(lines[0]);
        JsonElement actual = doc.RootElement;
        int compared = 0;
        foreach (JsonProperty p in expected.EnumerateObject())
        {
            if (p.Name is "polarity_counts_unordered")
            {
                long on = actual.GetProperty("on").GetInt64();
                long events = actual.GetProperty("events").GetInt64();
                long[] want = [p.Value[0].GetInt64(), p.Value[1].GetInt64()];
                long[] got = [on, events - on];
                Array.Sort(want);
                Array.Sort(got);
                Assert.Equal(want, got);
                compared++;
                continue;
            }

            if (!actual.TryGetProperty(p.Name, out JsonElement value))
            {
                // chip and header_lines are reader details, checked by the reader's own tests
                Assert.Contains(p.Name, new[] { "chip", "header_lines" });
                continue;
            }

            Assert.True(p.Value.ValueKind == value.ValueKind, $"{fixture}: {p.Name} kind {value.ValueKind}, expected {p.Value.ValueKind}");
            Assert.True(p.Value.ToString() == value.ToString(), $"{fixture}: {p.Name} = {value}, expected {p.Value}");
            compared++;
        }

        Assert.True(compared >= 2, $"{fixture}: too few fields compared");
        if (expected.TryGetProperty("t_first", out JsonElement tf) && expected.TryGetProperty("t_last", out JsonElement tl) && expected.GetProperty("events").GetInt64() > 0)
        {
            Assert.Equal(expected.GetProperty("t_max").GetInt64() - expected.GetProperty("t_min").GetInt64(), actual.GetProperty("duration_us").GetInt64());
            Assert.True(tl.GetInt64() >= tf.GetInt64());
        }
    }

    [Fact]
    public void Every_fixture_is_detected_and_decoded()
    {
        foreach (string fixture in Fixtures.AllRecordings())
        {
            (int code, string stdout, string stderr) = CliHarness.Run("inspect", Fixtures.Path(fixture), "--json");
            Assert.True(code == 0, $"{fixture}: {stderr}");
            using JsonDocument doc = JsonDocument.Parse(stdout);
            string format = doc.RootElement.GetProperty("format").GetString()!;
            string folder = fixture.Split('/')[0];
            string expectedFormat = folder switch
            {
                "pynavis" => "nas",
                "mibblez" or "pyaedattools" => "aedat2",
                _ => Fixtures.Expected.TryGetValue(fixture, out JsonElement e) ? e.GetProperty("format").GetString()! : format,
            };
            Assert.Equal(expectedFormat, format);
        }
    }
}
