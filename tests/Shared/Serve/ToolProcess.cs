using System.Diagnostics;

namespace EventSnn.Testing;

/// <summary>The built tool (<c>dotnet eventsnn.dll</c>) as a real process, its output collected line by line.</summary>
internal sealed class ToolProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];

    private ToolProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public IReadOnlyList<string> Stdout
    {
        get
        {
            lock (_stdout)
            {
                return [.. _stdout];
            }
        }
    }

    public IReadOnlyList<string> Stderr
    {
        get
        {
            lock (_stderr)
            {
                return [.. _stderr];
            }
        }
    }

    public static ToolProcess Start(IEnumerable<string> args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "eventsnn.dll");
        Assert.True(File.Exists(dll), dll + " not built");
        var info = new ProcessStartInfo(Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        info.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        var process = new Process { StartInfo = info };
        var tool = new ToolProcess(process);
        process.OutputDataReceived += (_, e) => Collect(tool._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Collect(tool._stderr, e.Data);
        Assert.True(process.Start());
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return tool;
    }

    /// <summary>Runs the tool to its end (at most <paramref name="timeout"/>); returns exit code and output.</summary>
    public static (int Code, IReadOnlyList<string> Stdout, IReadOnlyList<string> Stderr) Run(IEnumerable<string> args, TimeSpan timeout)
    {
        using ToolProcess p = Start(args);
        int code = p.WaitForExit(timeout).GetAwaiter().GetResult();
        return (code, p.Stdout, p.Stderr);
    }

    public async Task<string> WaitForLine(Func<string, bool> match)
    {
        string? found = null;
        await WaitUntil(() => (found = Stdout.FirstOrDefault(match)) is not null);
        return found!;
    }

    public async Task WaitUntil(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.False(_process.HasExited && !condition(), "the tool exited: " + string.Join('\n', Stderr));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "timed out; stderr: " + string.Join('\n', Stderr));
            await Task.Delay(20);
        }
    }

    public void WaitForStderr(Func<string, bool> match, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!Stderr.Any(match))
        {
            Assert.False(_process.HasExited, "the tool exited: " + string.Join('\n', Stderr));
            Assert.True(clock.Elapsed < timeout, "timed out; stderr: " + string.Join('\n', Stderr));
            Thread.Sleep(50);
        }
    }

    /// <summary>Waits for the exit and until the redirected output has been read to the end; returns the exit code.</summary>
    public async Task<int> WaitForExit(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail("the tool did not exit; stderr: " + string.Join('\n', Stderr));
        }

        _process.WaitForExit(); // flushes the redirected output
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown, no last save.</summary>
    public void KillHard()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    private static void Collect(List<string> lines, string? line)
    {
        if (line is not null)
        {
            lock (lines)
            {
                lines.Add(line);
            }
        }
    }
}
