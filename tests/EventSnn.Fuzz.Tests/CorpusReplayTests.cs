using EventSnn.IO;

namespace EventSnn.Fuzz.Tests;

/// <summary>
/// Replays every file of fuzz/corpus/&lt;target&gt;/ and every saved reproducer in
/// fuzz/regressions/&lt;target&gt;/ through its fuzz target: each must finish within the time
/// bound and may fail with <see cref="EventFormatException"/> only (the targets catch it; anything
/// that escapes is a finding).
/// </summary>
public class CorpusReplayTests
{
    /// <summary>Per input, generous for a loaded 2-core machine (the targets take milliseconds).</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static readonly string FuzzRoot = FindFuzzRoot();

    public static TheoryData<string> Targets => new(FuzzTargets.Names.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_corpus_file_and_reproducer_runs_clean_and_in_time(string target)
    {
        List<string> files = Inputs(target).ToList();
        Assert.True(Directory.Exists(Path.Combine(FuzzRoot, "corpus", target)), $"no fuzz/corpus/{target}/");
        Assert.NotEmpty(files);
        foreach (string file in files)
        {
            RunBounded(target, File.ReadAllBytes(file), Relative(file));
        }
    }

    public static TheoryData<string> FixtureHeadNames => new(["aedat2/mibblez-dvs128-head", "aedat2/pyaedattools-davis240-head", "evt2/expelliarmus-head", "evt3/expelliarmus-head", "dat/tonic-ncars-head", "nmnist/tonic-nmnist-head", "nas/pynavis-addr2b-head", "nas/pynavis-addr4b-head"]);

    [Theory]
    [MemberData(nameof(FixtureHeadNames))]
    public void Every_fixture_head_seed_runs_clean_and_in_time(string seed)
    {
        // the seeds cut from the shared fixtures are made here, not kept in the repository
        (string target, string name, byte[] data) = Seeds.FixtureHeads(EventSnn.Testing.Fixtures.Root).Single(h => $"{h.Target}/{h.Name}" == seed);
        Assert.InRange(data.Length, 100, 4096);
        RunBounded(target, data, name);
    }

    /// <summary>Runs <paramref name="data"/> through <paramref name="target"/> on a thread of its own: it must end within <see cref="Bound"/> without an exception escaping.</summary>
    private static void RunBounded(string target, byte[] data, string what)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                FuzzTargets.Run(target, data);
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        }, maxStackSize: 16 << 20) { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(Bound), $"{what}: still running after {Bound.TotalSeconds} s (a hang)");
        Assert.True(failure is null, $"{what}: {failure}");
    }

    [Fact]
    public void Every_target_has_a_corpus_and_every_corpus_a_target()
    {
        string[] folders = [.. Directory.GetDirectories(Path.Combine(FuzzRoot, "corpus")).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];
        Assert.Equal(FuzzTargets.Names.Order(StringComparer.Ordinal), folders);
        string regressions = Path.Combine(FuzzRoot, "regressions");
        if (Directory.Exists(regressions))
        {
            Assert.All(Directory.GetDirectories(regressions).Select(Path.GetFileName), t => Assert.Contains(t, FuzzTargets.Names));
        }
    }

    private static IEnumerable<string> Inputs(string target)
    {
        foreach (string folder in new[] { "corpus", "regressions" })
        {
            string dir = Path.Combine(FuzzRoot, folder, target);
            if (Directory.Exists(dir))
            {
                foreach (string file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    yield return file;
                }
            }
        }
    }

    private static string Relative(string file) => Path.GetRelativePath(FuzzRoot, file);

    private static string FindFuzzRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EventSnn.sln")))
            {
                return Path.Combine(dir.FullName, "fuzz");
            }
        }

        throw new InvalidOperationException("EventSnn.sln not found above " + AppContext.BaseDirectory);
    }
}
