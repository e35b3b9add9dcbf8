using System.Text.Json;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Testing;

namespace EventSnn.Cli.Tests;

/// <summary>
/// `eventsnn convert` to CSV, NumPy .npy and HDF5: every event of real recordings comes back
/// through numpy / h5py; the format follows --to or the extension; what it cannot write, an
/// existing output and bad input are refused with one clear line and leave nothing behind.
/// </summary>
public sealed class ExportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("eventsnn-export-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Out(string name) => Path.Combine(_dir, name);

    private void AssertFolderHolds(params string[] names) =>
        Assert.Equal(names.Order(StringComparer.Ordinal), Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));

    [SkippableTheory]
    [InlineData("tonic/sample.aedat4", "out.csv", "csv")]
    [InlineData("tonic/sample.aedat4", "out.npy", "npy")]
    [InlineData("tonic/sample.aedat4", "out.h5", "h5")]
    [InlineData("shiba24/faces_easy_0001.bin", "faces.hdf5", "h5")] // N-MNIST declares no sensor: HDF5 takes it and the count from a first pass
    [InlineData("expelliarmus/evt3_sample.raw", "evt3.npy", "npy")]
    [InlineData("pyaedattools/IMU_translBoxes.aedat", "boxes.csv", "csv")]
    public void Every_event_comes_back_through_numpy_and_h5py(string fixture, string name, string kind)
    {
        PythonReaders.Require();
        string output = Out(name);
        (int code, string stdout, string err) = CliHarness.Run("convert", Fixtures.Path(fixture), output, "--json", "--force");
        Assert.True(code == 0, err);
        using JsonDocument json = JsonDocument.Parse(stdout);
        Assert.Equal(kind == "h5" ? "hdf5" : kind, json.RootElement.GetProperty("output_format").GetString());
        Assert.Equal(0, json.RootElement.GetProperty("time_origin_us").GetInt64()); // exports keep the recording's own times

        List<DvsEvent> expected = ConvertSafetyTests.ReadAll(Fixtures.Path(fixture));
        Assert.Equal(expected.Count, json.RootElement.GetProperty("events").GetInt64());
        (long[] t, long[] x, long[] y, long[] p, JsonElement meta) = PythonReaders.Read(kind, output);
        Assert.Equal(expected.Select(e => e.T), t);
        Assert.Equal(expected.Select(e => (long)e.X), x);
        Assert.Equal(expected.Select(e => (long)e.Y), y);
        Assert.Equal(expected.Select(e => e.On ? 1L : 0L), p);
        if (kind == "h5")
        {
            using IDvsEventReader reader = EventReaders.OpenDvs(Fixtures.Path(fixture));
            SensorGeometry g = reader.Geometry.IsKnown ? reader.Geometry : new SensorGeometry(expected.Max(e => e.X) + 1, expected.Max(e => e.Y) + 1);
            Assert.Equal(g.Width, meta.GetProperty("attrs").GetProperty("width").GetInt32());
            Assert.Equal(g.Height, meta.GetProperty("attrs").GetProperty("height").GetInt32());
        }

        AssertFolderHolds(name);
    }

    [Fact]
    public void To_chooses_an_export_whatever_the_extension_and_an_unknown_one_lists_the_exports()
    {
        (int code, _, string err) = CliHarness.Run("convert", Fixtures.Path("tonic/sample_ncars.dat"), Out("events.bin"), "--to", "npy");
        Assert.True(code == 0, err);
        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'], File.ReadAllBytes(Out("events.bin"))[..6]);

        (code, _, err) = CliHarness.Run("convert", Fixtures.Path("tonic/sample_ncars.dat"), Out("events.txt"));
        Assert.Equal(2, code);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        foreach (string listed in new[] { "csv (.csv)", "npy (.npy)", "hdf5 (.h5, .hdf5", "aedat4", "--to" })
        {
            Assert.Contains(listed, err, StringComparison.Ordinal);
        }

        Assert.Equal(2, CliHarness.Run("convert", Fixtures.Path("tonic/sample_ncars.dat"), Out("x.csv"), "--to", "parquet").Code);
        AssertFolderHolds("events.bin");
    }

    [Theory]
    [InlineData("out.csv")]
    [InlineData("out.npy")]
    [InlineData("out.h5")]
    public void An_existing_export_is_replaced_only_with_force(string name)
    {
        string output = Out(name);
        File.WriteAllText(output, "precious");
        (int code, _, string err) = CliHarness.Run("convert", Fixtures.Path("tonic/sample_ncars.dat"), output);
        Assert.Equal(2, code);
        Assert.Contains("--force", err, StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(output));
        AssertFolderHolds(name);

        (code, _, err) = CliHarness.Run("convert", Fixtures.Path("tonic/sample_ncars.dat"), output, "--force");
        Assert.True(code == 0, err);
        Assert.NotEqual("precious", File.ReadAllText(output)[..Math.Min(8, (int)new FileInfo(output).Length)]);
        AssertFolderHolds(name);
    }

    [Fact]
    public void Csv_of_a_recording_is_its_events_line_by_line()
    {
        (int code, _, string err) = CliHarness.Run("convert", Fixtures.Path("tonic/sample_ncars.dat"), Out("ncars.csv"));
        Assert.True(code == 0, err);
        string[] lines = File.ReadAllLines(Out("ncars.csv"));
        List<DvsEvent> events = ConvertSafetyTests.ReadAll(Fixtures.Path("tonic/sample_ncars.dat"));
        Assert.Equal("t,x,y,p", lines[0]);
        Assert.Equal(events.Count + 1, lines.Length);
        Assert.Equal(events.Select(e => $"{e.T},{e.X},{e.Y},{(e.On ? 1 : 0)}"), lines.Skip(1));
    }

    [Theory]
    [InlineData("out.npy")]
    [InlineData("out.h5")]
    public void Bad_input_names_the_file_and_the_byte_and_leaves_nothing(string name)
    {
        // a DAVIS recording cut inside its last record, read strictly
        byte[] whole = File.ReadAllBytes(Fixtures.Path("pyaedattools/TranslatingSquare.aedat"));
        string input = Out("cut.aedat");
        File.WriteAllBytes(input, whole[..^3]);
        (int code, _, string err) = CliHarness.Run("convert", input, Out(name), "--strict");
        Assert.Equal(2, code);
        Assert.Contains(input, err, StringComparison.Ordinal);
        Assert.Matches(@"byte \d+", err);
        Assert.Contains("not written", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        AssertFolderHolds("cut.aedat");

        (code, _, err) = CliHarness.Run("convert", input, Out(name), "--strict", "--verbose");
        Assert.Equal(2, code);
        Assert.Contains("   at ", err, StringComparison.Ordinal);
        AssertFolderHolds("cut.aedat");
    }

    [Fact]
    public void Audio_spikes_export_to_hdf5_in_the_shd_layout_and_not_to_csv()
    {
        string nas = Fixtures.Path("pynavis/sound_mono_32ch_ONOFF_addr2b_ts02.aedat");
        (int code, string stdout, string err) = CliHarness.Run("convert", nas, Out("spikes.hdf5"), "--json");
        Assert.True(code == 0, err);
        using (JsonDocument json = JsonDocument.Parse(stdout))
        {
            Assert.Equal("shd", json.RootElement.GetProperty("output_format").GetString());
        }

        (code, _, err) = CliHarness.Run("convert", nas, Out("spikes.csv"));
        Assert.Equal(2, code);
        Assert.Contains("SHD-layout HDF5", err, StringComparison.Ordinal);
        AssertFolderHolds("spikes.hdf5");
    }
}
