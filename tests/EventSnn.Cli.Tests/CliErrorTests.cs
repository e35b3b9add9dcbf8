namespace EventSnn.Cli.Tests;

/// <summary>Bad input: exit code 2, one line naming the file and offset, no stack trace unless --verbose.</summary>
public class CliErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("eventsnn-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Unrecognised_content_is_exit_2_with_file_and_offset()
    {
        string path = Path.Combine(_dir, "noise.xyz");
        File.WriteAllBytes(path, [.. Enumerable.Range(0, 999).Select(i => (byte)(i * 37 % 251))]);
        (int code, string stdout, string stderr) = CliHarness.Run("inspect", path, "--json");
        Assert.Equal(2, code);
        Assert.Equal(string.Empty, stdout);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(path, line, StringComparison.Ordinal);
        Assert.Contains("byte 0", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Absurd_length_field_names_field_and_offset()
    {
        string path = Path.Combine(_dir, "bad.aedat4");
        File.WriteAllBytes(path, [.. "#!AER-DAT4.0\r\n"u8, 0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3, 4]);
        (int code, _, string stderr) = CliHarness.Run("inspect", path);
        Assert.Equal(2, code);
        Assert.Contains("byte 14", stderr, StringComparison.Ordinal);
        Assert.Contains("IOHeader", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);

        (int verboseCode, _, string verboseErr) = CliHarness.Run("inspect", path, "--verbose");
        Assert.Equal(2, verboseCode);
        Assert.Contains("   at ", verboseErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_and_bad_usage_are_exit_2()
    {
        Assert.Equal(2, CliHarness.Run("inspect", Path.Combine(_dir, "none.aedat4")).Code);
        Assert.Equal(2, CliHarness.Run("inspect").Code);
        Assert.Equal(2, CliHarness.Run("inspect", "x", "--no-such-option").Code);
        Assert.Equal(2, CliHarness.Run("no-such-command").Code);
        Assert.Equal(2, CliHarness.Run("inspect", "x", "--format", "jpeg").Code);
    }

    [Fact]
    public void Truncated_file_is_read_tolerantly_and_refused_strictly()
    {
        string full = EventSnn.Testing.Fixtures.Path("tonic/sample.aedat4");
        string cut = Path.Combine(_dir, "cut.aedat4");
        File.WriteAllBytes(cut, File.ReadAllBytes(full)[..300_000]);
        (int code, string stdout, string stderr) = CliHarness.Run("inspect", cut, "--json");
        Assert.Equal(0, code);
        Assert.Contains("\"events\":", stdout, StringComparison.Ordinal);
        Assert.Contains("warning:", stderr, StringComparison.Ordinal);

        (int strictCode, _, string strictErr) = CliHarness.Run("inspect", cut, "--strict");
        Assert.Equal(2, strictCode);
        Assert.Contains(cut, strictErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_with_two_threads_prints_the_same_and_refuses_zero_threads()
    {
        string path = EventSnn.Testing.Fixtures.Path("shiba24/sample.aedat4");
        (int code, string one, _) = CliHarness.Run("inspect", path, "--json");
        (int code2, string two, _) = CliHarness.Run("inspect", path, "--json", "--threads", "2");
        Assert.Equal(0, code);
        Assert.Equal(0, code2);
        Assert.Contains("\"events\":", two, StringComparison.Ordinal);
        Assert.Equal(one, two);

        string cut = Path.Combine(_dir, "cut2.aedat4");
        File.WriteAllBytes(cut, File.ReadAllBytes(path)[..200_000]);
        (int strict1, _, string err1) = CliHarness.Run("inspect", cut, "--strict");
        (int strict2, _, string err2) = CliHarness.Run("inspect", cut, "--strict", "--threads", "2");
        Assert.Equal(2, strict1);
        Assert.Equal(strict1, strict2);
        Assert.Equal(err1, err2);

        (int zero, _, string zeroErr) = CliHarness.Run("inspect", path, "--threads", "0");
        Assert.Equal(2, zero);
        Assert.Contains("--threads", zeroErr, StringComparison.Ordinal);
    }
}
