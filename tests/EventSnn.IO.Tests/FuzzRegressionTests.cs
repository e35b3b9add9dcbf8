namespace EventSnn.IO.Tests;

/// <summary>Inputs the fuzzer found (fuzz/regressions/&lt;target&gt;/), checked for what went wrong with them.</summary>
public class FuzzRegressionTests
{
    private static string Regression(string target, string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EventSnn.sln")))
            {
                return Path.Combine(dir.FullName, "fuzz", "regressions", target, name);
            }
        }

        throw new InvalidOperationException("EventSnn.sln not found");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Shd_link_name_length_beyond_its_message_fails_without_allocating_it(bool strict)
    {
        // a version-2 object header whose link message claims a 2 GiB name: PureHDF allocated the
        // name before reading it (2 GiB zeroed per open, 10+ s on a loaded machine)
        byte[] file = File.ReadAllBytes(Regression("shd", "link-name-claims-2GiB"));
        long before = GC.GetAllocatedBytesForCurrentThread();
        EventFormatException ex = Assert.Throws<EventFormatException>(() =>
        {
            using IEventReader reader = EventReaders.Open(new MemoryStream(file), "fuzz.h5", new ReaderOptions { Format = EventFormat.Shd, Strict = strict });
        });
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64 << 20, $"{allocated:N0} bytes allocated");
        Assert.Contains("link message", ex.Message, StringComparison.Ordinal);
    }
}
