using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace EventSnn.Cli.Tests;

/// <summary>Launches the built tool (<c>dotnet eventsnn.dll ...</c>) as a real process and watches its output.</summary>
internal sealed partial class ToolProcessClassify : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _outClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _lineArrived = new(0);

    private ToolProcessClassify(Process process)
    {
        _process = process;
    }

    /// <summary>The repository root (the folder holding EventSnn.sln, appsettings.json and recordings/).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The built eventsnn.dll (see <see cref="FindTool"/>).</summary>
    public static string ToolDll { get; } = FindTool();

    /// <summary>Process id.</summary>
    public int Id => _process.Id;

    /// <summary>Starts the tool with <paramref name="args"/> in <paramref name="workingDirectory"/> (default: the repository root).</summary>
    public static ToolProcessClassify Start(IEnumerable<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workingDirectory ?? RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(ToolDll);
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        // the tool must see only the environment the test gives it (no inherited EVENTSNN_ overrides)
        foreach (string key in info.Environment.Keys.Where(k => k.StartsWith("EVENTSNN_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }

        if (environment is not null)
        {
            foreach ((string key, string value) in environment)
            {
                info.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var tool = new ToolProcessClassify(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                tool._outClosed.TrySetResult();
                return;
            }

            lock (tool._stdout)
            {
                tool._stdout.AppendLine(e.Data);
            }

            tool._lines.Enqueue(e.Data);
            tool._lineArrived.Release();
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                tool._errClosed.TrySetResult();
                return;
            }

            lock (tool._stderr)
            {
                tool._stderr.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return tool;
    }

    /// <summary>Runs the tool to completion; returns exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Err) Run(IEnumerable<string> args, TimeSpan timeout, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        using ToolProcessClassify tool = Start(args, workingDirectory, environment);
        int code = tool.WaitForExit(timeout);
        return (code, tool.Stdout, tool.Stderr);
    }

    /// <summary>Everything written to stdout so far.</summary>
    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    /// <summary>Everything written to stderr so far.</summary>
    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Waits until <paramref name="count"/> stdout lines satisfy <paramref name="match"/>; false on timeout or exit.</summary>
    public bool WaitForLines(Func<string, bool> match, int count, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        int seen = 0;
        while (clock.Elapsed < timeout)
        {
            while (_lines.TryDequeue(out string? line))
            {
                if (match(line) && ++seen >= count)
                {
                    return true;
                }
            }

            if (_process.HasExited && _lines.IsEmpty && _outClosed.Task.IsCompleted)
            {
                return false;
            }

            _lineArrived.Wait(TimeSpan.FromMilliseconds(200));
        }

        return false;
    }

    /// <summary>Sends SIGTERM (not SIGKILL: Process.Kill would be SIGKILL) to the tool.</summary>
    public void Terminate()
    {
        if (kill(_process.Id, 15) != 0)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Sends SIGKILL (kill -9: no handler runs, writes stop wherever they are) and waits for the process to be gone.</summary>
    public void KillHard()
    {
        if (kill(_process.Id, 9) != 0 && !_process.HasExited)
        {
            throw new InvalidOperationException($"kill -KILL {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }

        _process.WaitForExit();
    }

    /// <summary>Waits for the exit (killing the process on timeout) and for its output to drain; returns the exit code.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            throw new TimeoutException($"eventsnn {string.Join(' ', _process.StartInfo.ArgumentList.Skip(1))} did not exit within {timeout.TotalSeconds} s (killed); stdout tail:\n{Tail(Stdout)}\nstderr tail:\n{Tail(Stderr)}");
        }

        _process.WaitForExit();
        Task.WaitAll([_outClosed.Task, _errClosed.Task], TimeSpan.FromSeconds(10));
        return _process.ExitCode;
    }

    /// <summary>Kills the process if it still runs.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        _process.Dispose();
        _lineArrived.Dispose();
    }

    /// <summary>The JSON lines of <paramref name="stdout"/> (lines that start with '{').</summary>
    public static List<JsonElement> JsonLines(string stdout)
    {
        var result = new List<JsonElement>();
        foreach (string line in stdout.Split('\n'))
        {
            string l = line.Trim();
            if (l.StartsWith('{'))
            {
                using JsonDocument doc = JsonDocument.Parse(l);
                result.Add(doc.RootElement.Clone());
            }
        }

        return result;
    }

    /// <summary>The "summary" object of the last line of <paramref name="stdout"/>.</summary>
    public static JsonElement Summary(string stdout)
    {
        List<JsonElement> lines = JsonLines(stdout);
        Assert.NotEmpty(lines);
        Assert.True(lines[^1].TryGetProperty("summary", out JsonElement summary), "last line is not {\"summary\": ...}: " + Tail(stdout));
        return summary;
    }

    public static string Tail(string text) => text.Length <= 2000 ? text : text[^2000..];

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }

        string? self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase) ? self : "dotnet";
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EventSnn.sln")) && Directory.Exists(Path.Combine(dir.FullName, "recordings")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("repository root (EventSnn.sln + recordings/) not found above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// The tool to launch: $EVENTSNN_TEST_TOOL when set; else the Release build of src/EventSnn.Cli
    /// when it is newer than every source (learning runs are several times slower in Debug); else
    /// that Release build is made once (dotnet build -c Release); if that fails, the build beside
    /// the test assembly (the project reference) or src/EventSnn.Cli/bin/&lt;Configuration&gt;/net10.0.
    /// </summary>
    private static string FindTool()
    {
        if (Environment.GetEnvironmentVariable("EVENTSNN_TEST_TOOL") is { Length: > 0 } given && File.Exists(given))
        {
            return given;
        }

        string project = Path.Combine(RepoRoot, "src", "EventSnn.Cli");
        string release = Path.Combine(project, "bin", "Release", "net10.0", "eventsnn.dll");
        if (File.Exists(release) && File.GetLastWriteTimeUtc(release) > NewestSource())
        {
            return release;
        }

        if (BuildRelease(Path.Combine(project, "EventSnn.Cli.csproj")) && File.Exists(release))
        {
            return release;
        }

        string beside = Path.Combine(AppContext.BaseDirectory, "eventsnn.dll");
        if (File.Exists(beside) && File.Exists(Path.Combine(AppContext.BaseDirectory, "eventsnn.runtimeconfig.json")))
        {
            return beside;
        }

        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Debug";
        string built = Path.Combine(project, "bin", configuration, "net10.0", "eventsnn.dll");
        return File.Exists(built) ? built : throw new InvalidOperationException("the built eventsnn.dll was not found beside the tests or under src/EventSnn.Cli/bin");
    }

    private static DateTime NewestSource()
    {
        DateTime newest = DateTime.MinValue;
        foreach (string name in new[] { "Directory.Build.props", "Directory.Packages.props", "appsettings.json" })
        {
            string path = Path.Combine(RepoRoot, name);
            if (File.Exists(path))
            {
                newest = Max(newest, File.GetLastWriteTimeUtc(path));
            }
        }

        foreach (string file in Directory.EnumerateFiles(Path.Combine(RepoRoot, "src"), "*", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(RepoRoot, file).Replace('\\', '/');
            if (rel.Contains("/bin/", StringComparison.Ordinal) || rel.Contains("/obj/", StringComparison.Ordinal))
            {
                continue;
            }

            if (file.EndsWith(".cs", StringComparison.Ordinal) || file.EndsWith(".csproj", StringComparison.Ordinal) || file.EndsWith(".json", StringComparison.Ordinal))
            {
                newest = Max(newest, File.GetLastWriteTimeUtc(file));
            }
        }

        return newest;
    }

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;

    private static bool BuildRelease(string project)
    {
        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "build", project, "-c", "Release", "-nologo", "-v", "q" })
        {
            info.ArgumentList.Add(a);
        }

        using Process? build = Process.Start(info);
        if (build is null)
        {
            return false;
        }

        Task<string> drainOut = build.StandardOutput.ReadToEndAsync();
        Task<string> drainErr = build.StandardError.ReadToEndAsync();
        if (!build.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            build.Kill(entireProcessTree: true);
            return false;
        }

        Task.WaitAll(drainOut, drainErr);
        return build.ExitCode == 0;
    }
}
