using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Testing;

namespace EventSnn.Cli.Tests;

/// <summary>
/// `eventsnn convert` never harms a file: it refuses what the target format cannot hold before
/// writing anything, rebases time when that is all it takes (and says so), bounds the output's
/// size, and writes through a temporary file that only a successful run renames.
/// </summary>
public sealed partial class ConvertSafetyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("eventsnn-convert-safety-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Out(string name) => Path.Combine(_dir, name);

    /// <summary>The folder holds exactly <paramref name="names"/> (no output, no temporary file left behind).</summary>
    private void AssertFolderHolds(params string[] names) =>
        Assert.Equal(names.Order(StringComparer.Ordinal), Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));

    private static void AssertOneCleanLine(string stderr)
    {
        Assert.DoesNotContain("(Parameter", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("out.txt")]
    [InlineData("out.parquet")]
    [InlineData("out")]
    public void An_unknown_output_extension_is_a_usage_error_listing_the_writable_formats(string name)
    {
        (int code, _, string err) = CliHarness.Run("convert", Fixtures.Path("tonic/sample_ncars.dat"), Out(name));
        Assert.Equal(2, code);
        AssertOneCleanLine(err);
        foreach (string format in new[] { "aedat4", "aedat2", "evt3", "dat", "nmnist", "csv", "npy", "hdf5", "--to" })
        {
            Assert.Contains(format, err, StringComparison.Ordinal);
        }

        AssertFolderHolds();
    }

    [Fact]
    public void To_chooses_the_format_whatever_the_extension()
    {
        string output = Out("out.npy");
        (int code, _, string err) = CliHarness.Run("convert", Fixtures.Path("tonic/sample_ncars.dat"), output, "--to", "evt2");
        Assert.True(code == 0, err);
        using IEventReader reader = EventReaders.Open(output);
        Assert.Equal(EventFormat.Evt2, reader.Format);
        Assert.Equal(2, CliHarness.Run("convert", Fixtures.Path("tonic/sample_ncars.dat"), Out("x.aedat4"), "--to", "parquet").Code);
    }

    [Fact]
    public void An_existing_output_is_not_overwritten_without_force()
    {
        string output = Out("out.aedat4");
        File.WriteAllText(output, "precious");
        (int code, _, string err) = CliHarness.Run("convert", Fixtures.Path("tonic/sample_ncars.dat"), output);
        Assert.Equal(2, code);
        AssertOneCleanLine(err);
        Assert.Contains("--force", err, StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(output));

        (code, _, err) = CliHarness.Run("convert", Fixtures.Path("tonic/sample_ncars.dat"), output, "--force");
        Assert.True(code == 0, err);
        using IEventReader reader = EventReaders.Open(output);
        Assert.Equal(EventFormat.Aedat4, reader.Format);
        AssertFolderHolds("out.aedat4");
    }

    [Theory]
    [InlineData("out.bin", "N-MNIST", "320 x 240")] // 77 GB of overflow markers before the geometry check existed
    [InlineData("out.aedat", "no jAER chip class", "320 x 240")]
    public void A_sensor_the_format_cannot_address_is_refused_before_anything_is_written(string name, string what, string size)
    {
        (int code, _, string err) = CliHarness.Run("convert", Fixtures.Path("tonic/sample.aedat4"), Out(name));
        Assert.Equal(2, code);
        AssertOneCleanLine(err);
        Assert.Contains(what, err, StringComparison.Ordinal);
        Assert.Contains(size, err, StringComparison.Ordinal);
        Assert.Contains(name, err, StringComparison.Ordinal);
        AssertFolderHolds();
    }

    [Fact]
    public void An_output_estimated_beyond_20x_the_input_is_refused_up_front()
    {
        // EVT 3.0 keeping Unix-epoch time: 766 MB of TIME_HIGH words to reach the first event
        (int code, _, string err) = CliHarness.Run("convert", Fixtures.Path("tonic/sample.aedat4"), Out("out.raw"), "--time-origin", "keep");
        Assert.Equal(2, code);
        AssertOneCleanLine(err);
        Assert.Contains("more than 20 x", err, StringComparison.Ordinal);
        Assert.Contains("--force", err, StringComparison.Ordinal);
        AssertFolderHolds();
    }

    [Fact]
    public void An_output_that_grows_past_20x_while_writing_is_stopped_and_removed()
    {
        // two events 10^12 us apart: N-MNIST needs 5 bytes of overflow markers per 8,192 us (610 MB)
        string input = Out("gap.aedat4");
        WriteAedat4(input, new SensorGeometry(34, 34), [new DvsEvent(0, 1, 1, true), new DvsEvent(1_000_000_000_000, 2, 2, false)]);
        (int code, _, string err) = CliHarness.Run("convert", input, Out("out.bin"));
        Assert.Equal(2, code);
        AssertOneCleanLine(err);
        Assert.Contains("passed", err, StringComparison.Ordinal);
        Assert.Contains("20 x", err, StringComparison.Ordinal);
        AssertFolderHolds("gap.aedat4");
    }

    [Fact]
    public void A_failing_conversion_leaves_no_file_and_an_existing_output_untouched()
    {
        // a DAVIS recording cut inside its last record, read strictly: the error comes after everything else was written
        byte[] whole = File.ReadAllBytes(Fixtures.Path("pyaedattools/TranslatingSquare.aedat"));
        string input = Out("cut.aedat");
        File.WriteAllBytes(input, whole[..^3]);

        (int code, _, string err) = CliHarness.Run("convert", input, Out("new.aedat4"), "--strict");
        Assert.Equal(2, code);
        AssertOneCleanLine(err);
        Assert.Contains("not written", err, StringComparison.Ordinal);
        AssertFolderHolds("cut.aedat");

        string existing = Out("old.aedat4");
        File.WriteAllText(existing, "precious");
        (code, _, err) = CliHarness.Run("convert", input, existing, "--strict", "--force");
        Assert.Equal(2, code);
        Assert.Equal("precious", File.ReadAllText(existing));
        AssertFolderHolds("cut.aedat", "old.aedat4");
    }

    [Fact]
    public void Keep_refuses_times_a_32_bit_format_cannot_hold()
    {
        (int code, _, string err) = CliHarness.Run("convert", Fixtures.Path("shiba24/sample.aedat4"), Out("out.aedat"), "--time-origin", "keep");
        Assert.Equal(2, code);
        AssertOneCleanLine(err);
        Assert.Contains("32-bit", err, StringComparison.Ordinal);
        Assert.Contains("--time-origin first", err, StringComparison.Ordinal);
        AssertFolderHolds();
    }

    [Fact]
    public void Aedat2_of_a_unix_epoch_recording_is_rebased_says_so_and_its_labels_still_line_up()
    {
        string input = Path.Combine(ToolProcessClassify.RepoRoot, "recordings", "gestures", "user01_synthetic.aedat4");
        string csv = Path.Combine(ToolProcessClassify.RepoRoot, "recordings", "gestures", "user01_synthetic_labels.csv");
        string output = Out("user01.aedat");
        (int code, string stdout, string err) = CliHarness.Run("convert", input, output, "--json");
        Assert.True(code == 0, err);

        // the note names the offset and what to do with labels
        Match note = RebaseNote().Match(err);
        Assert.True(note.Success, err);
        Assert.Contains("shift label times", err, StringComparison.Ordinal);
        long origin = long.Parse(note.Groups[1].Value, CultureInfo.InvariantCulture);
        using (JsonDocument json = JsonDocument.Parse(stdout))
        {
            Assert.Equal(origin, json.RootElement.GetProperty("time_origin_us").GetInt64());
        }

        List<DvsEvent> before = ReadAll(input);
        List<DvsEvent> after = ReadAll(output);
        Assert.Equal(before[0].T, origin);
        Assert.Equal(0, after[0].T);
        Assert.Equal(before.Select(e => e with { T = e.T - origin }), after);

        // every labelled gesture holds the same events once its times are shifted by the offset
        int segments = 0;
        foreach (string line in File.ReadLines(csv).Skip(1).Where(l => l.Length > 0))
        {
            long[] f = line.Split(',').Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            int inInput = before.Count(e => e.T >= f[1] && e.T < f[2]);
            int inOutput = after.Count(e => e.T >= f[1] - origin && e.T < f[2] - origin);
            Assert.True(inInput > 0);
            Assert.Equal(inInput, inOutput);
            segments++;
        }

        Assert.True(segments >= 5);
    }

    [Fact]
    public void Time_origin_first_starts_any_format_at_zero_and_aedat4_keeps_unix_time_by_default()
    {
        string kept = Out("kept.aedat4");
        string first = Out("first.aedat4");
        Assert.Equal(0, CliHarness.Run("convert", Fixtures.Path("shiba24/sample.aedat4"), kept).Code);
        (int code, _, string err) = CliHarness.Run("convert", Fixtures.Path("shiba24/sample.aedat4"), first, "--time-origin", "first");
        Assert.True(code == 0, err);
        Assert.Contains("rebased", err, StringComparison.Ordinal);
        Assert.Equal(1589163147368868, ReadAll(kept)[0].T);
        Assert.Equal(0, ReadAll(first)[0].T);
    }

    [Theory]
    [InlineData("aedat2")]
    [InlineData("aedat3")]
    [InlineData("evt2")]
    [InlineData("evt21")]
    [InlineData("evt3")]
    [InlineData("dat")]
    [InlineData("aedat4")]
    public void Every_writable_format_keeps_the_events_of_a_unix_epoch_davis_recording(string format)
    {
        string output = Out("out." + format);
        (int code, string stdout, string err) = CliHarness.Run("convert", Fixtures.Path("shiba24/sample.aedat4"), output, "--to", format, "--json");
        Assert.True(code == 0, err);
        long origin;
        using (JsonDocument json = JsonDocument.Parse(stdout))
        {
            origin = json.RootElement.GetProperty("time_origin_us").GetInt64();
        }

        List<DvsEvent> before = ReadAll(Fixtures.Path("shiba24/sample.aedat4"));
        List<DvsEvent> after = ReadAll(output);
        Assert.Equal(before.Select(e => e with { T = e.T - origin }), after);
        AssertFolderHolds("out." + format);
    }

    internal static List<DvsEvent> ReadAll(string path)
    {
        using IDvsEventReader reader = EventReaders.OpenDvs(path);
        var events = new List<DvsEvent>();
        using var batch = new EventBatch();
        while (reader.Read(batch))
        {
            events.AddRange(batch.ToArray());
        }

        return events;
    }

    private static void WriteAedat4(string path, SensorGeometry geometry, IEnumerable<DvsEvent> events)
    {
        using Aedat4Writer writer = Aedat4Writer.Create(path, new Aedat4WriterOptions { Geometry = geometry });
        foreach (DvsEvent e in events)
        {
            writer.WriteEvent(e);
        }
    }

    [GeneratedRegex(@"t_out = t_in - (\d+) us")]
    private static partial Regex RebaseNote();
}

/// <summary>SIGTERM (as Ctrl-C) during `eventsnn convert`: exit 130, no output, no temporary file.</summary>
[Collection(ToolProcessCollection.Name)]
public sealed class ConvertSignalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("eventsnn-convert-signal-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Out(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Sigterm_during_a_conversion_exits_130_and_leaves_nothing()
    {
        // a 4 M-event DAVIS346 recording to zstd-high AEDAT4 takes seconds: the signal comes mid-way
        string input = Out("big.aedat");
        using (var writer = new Aedat2Writer(input, JaerChip.Davis, SensorGeometry.Davis346))
        using (var batch = new EventBatch(1 << 16))
        {
            var rng = new Random(5);
            long t = 0;
            for (int b = 0; b < 64; b++)
            {
                batch.Clear();
                for (int i = 0; i < batch.Capacity; i++)
                {
                    t += rng.Next(3);
                    batch.Add(t, rng.Next(346), rng.Next(260), rng.Next(2) == 1);
                }

                writer.Write(batch);
            }
        }

        string output = Out("big.aedat4");
        using ToolProcessClassify tool = ToolProcessClassify.Start(["convert", input, output, "--compression", "zstd-high"]);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Directory.GetFiles(_dir, "*.tmp").Length == 0 && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            Thread.Sleep(10);
        }

        Assert.True(Directory.GetFiles(_dir, "*.tmp").Length > 0, "no temporary output appeared: " + tool.Stderr);
        tool.Terminate();
        int code = tool.WaitForExit(TimeSpan.FromSeconds(60));
        Assert.True(code == 130, $"exit {code}: {tool.Stderr}");
        Assert.Contains("interrupted", tool.Stderr, StringComparison.Ordinal);
        Assert.Equal(["big.aedat"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }
}
