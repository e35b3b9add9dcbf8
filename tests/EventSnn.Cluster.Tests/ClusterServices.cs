using EventSnn.Testing;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EventSnn.Cluster.Tests;

/// <summary>
/// Real nats-server (JetStream) and redis-server processes on free loopback ports with temporary
/// data folders (Debian packages, installed by scripts/install-prereqs.sh), and the built tool's
/// `cluster` commands as processes. Everything is stopped and deleted on dispose.
/// </summary>
internal sealed class ClusterServices : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("eventsnn-cluster-").FullName;
    private readonly List<ToolProcess> _tools = [];
    private Process? _nats;
    private Process? _redis;

    public ClusterServices()
    {
        RedisPort = FreePort();
        NatsPort = FreePort();
        ClusterId = "test-" + Guid.NewGuid().ToString("N")[..8];
        _redis = StartServer("redis-server", ["--port", RedisPort.ToString(), "--bind", "127.0.0.1", "--dir", _dir, "--save", "", "--appendonly", "no", "--daemonize", "no"], RedisPort);
        StartNats();
    }

    public int RedisPort { get; }

    public int NatsPort { get; }

    public string ClusterId { get; }

    public string Redis => $"127.0.0.1:{RedisPort}";

    public string Nats => $"nats://127.0.0.1:{NatsPort}";

    public static string Recording(int user) => Path.Combine(ServeStreams.RepoRoot(), "recordings", "gestures", $"user{user:00}_synthetic.aedat4");

    public static string Labels(int user) => Path.Combine(ServeStreams.RepoRoot(), "recordings", "gestures", $"user{user:00}_synthetic_labels.csv");

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Stops NATS (SIGKILL) and starts it again on the same port and store.</summary>
    public void RestartNats(TimeSpan down)
    {
        _nats!.Kill(entireProcessTree: true);
        _nats.WaitForExit();
        _nats.Dispose();
        Thread.Sleep(down);
        StartNats();
    }

    public ToolProcess Silo(int siloPort, int gatewayPort, params string[] extra)
    {
        ToolProcess p = Tool(["cluster", "silo", "--redis", Redis, "--nats", Nats, "--silo-port", siloPort.ToString(), "--gateway-port", gatewayPort.ToString(), "--cluster-id", ClusterId, .. extra]);
        p.WaitForStderr(l => l.StartsWith("cluster silo:", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        return p;
    }

    public ToolProcess Tool(IEnumerable<string> args)
    {
        var p = ToolProcess.Start(args);
        lock (_tools)
        {
            _tools.Add(p);
        }

        return p;
    }

    public void Dispose()
    {
        lock (_tools)
        {
            foreach (ToolProcess t in _tools)
            {
                t.Dispose();
            }
        }

        Stop(_nats);
        Stop(_redis);
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void StartNats() =>
        _nats = StartServer("nats-server", ["-js", "-a", "127.0.0.1", "-p", NatsPort.ToString(), "-sd", Path.Combine(_dir, "jetstream"), "--http_port", "0"], NatsPort);

    private static Process StartServer(string program, string[] args, int port)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        Process p;
        try
        {
            p = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"{program} is not installed (run scripts/install-prereqs.sh): {ex.Message}", ex);
        }

        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, port);
                return p;
            }
            catch (SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(20) && !p.HasExited)
            {
                Thread.Sleep(50);
            }
        }
    }

    private static void Stop(Process? p)
    {
        if (p is null)
        {
            return;
        }

        try
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        p.Dispose();
    }
}
