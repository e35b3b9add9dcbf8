using System.Text.Json;

namespace EventSnn.Testing;

/// <summary>
/// Locates the shared real recordings (../shared/fixtures beside the clone). When the
/// folder is missing, tests that need it fail when CI=true and otherwise also fail with a
/// clear message: a conformance test never silently passes without its data.
/// </summary>
public static class Fixtures
{
    private static readonly Lazy<string?> RootLazy = new(FindRoot);

    /// <summary>The fixtures folder, or throws with a clear message.</summary>
    public static string Root => RootLazy.Value ?? throw new InvalidOperationException(
        "The shared fixtures folder was not found. Expected ../shared/fixtures beside the clone " +
        "(or set EVENTSNN_FIXTURES). CI=" + (Environment.GetEnvironmentVariable("CI") ?? "<unset>") + ".");

    /// <summary>Full path of a fixture, e.g. "tonic/sample.aedat4".</summary>
    public static string Path(string relative) => System.IO.Path.Combine(Root, relative);

    /// <summary>EXPECTED.json entries by relative path.</summary>
    public static IReadOnlyDictionary<string, JsonElement> Expected
    {
        get
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(Root, "EXPECTED.json")));
            var map = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                map[p.Name] = p.Value.Clone();
            }

            return map;
        }
    }

    /// <summary>Every recording file (not .md/.json) below the fixtures folder, as relative paths.</summary>
    public static IEnumerable<string> AllRecordings()
    {
        foreach (string f in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            string ext = System.IO.Path.GetExtension(f);
            if (ext is ".md" or ".json")
            {
                continue;
            }

            yield return System.IO.Path.GetRelativePath(Root, f).Replace('\\', '/');
        }
    }

    private static string? FindRoot()
    {
        string? env = Environment.GetEnvironmentVariable("EVENTSNN_FIXTURES");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env))
        {
            return env;
        }

        // Walk up from the test binary to the clone root (the folder holding EventSnn.sln), then ../shared/fixtures.
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "EventSnn.sln")))
            {
                string candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir.FullName, "..", "shared", "fixtures"));
                return Directory.Exists(candidate) ? candidate : null;
            }

            dir = dir.Parent;
        }

        return null;
    }
}
