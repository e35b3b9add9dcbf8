using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace EventSnn.Pipeline;

/// <summary>
/// A label feedback stream over TCP: text lines <c>t_us,label</c> (the label applies to the
/// segment of the event stream ending at <c>t_us</c>). Blank lines and lines starting with '#'
/// are skipped; a non-numeric first line is a header; other malformed lines are counted,
/// reported as warnings to the logger given to <see cref="Connect"/> and skipped. Reads on a background thread until the peer closes or <see cref="Dispose"/>.
/// </summary>
public sealed class LabelStreamClient : IDisposable
{
    private readonly TcpClient _client;
    private readonly LabelLineDecoder _decoder;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _done = new(false);
    private volatile bool _stopped;

    private LabelStreamClient(TcpClient client, string source, Action<long, int> onLabel, ILogger? logger)
    {
        _client = client;
        SourceName = source;
        _decoder = new LabelLineDecoder(source, onLabel, logger);
        _thread = new Thread(Run) { IsBackground = true, Name = "eventsnn labels " + source };
        PipelineMetrics.Observe(this);
        _thread.Start();
    }

    /// <summary>The peer as tcp://host:port.</summary>
    public string SourceName { get; }

    /// <summary>Labels delivered.</summary>
    public long Lines => _decoder.Lines;

    /// <summary>Malformed lines skipped.</summary>
    public long Malformed => _decoder.Malformed;

    /// <summary>The error that ended the stream early (null when the peer closed or it was disposed).</summary>
    public Exception? Error { get; private set; }

    /// <summary>
    /// Connects to <paramref name="address"/> (tcp://host:port) and starts reading;
    /// <paramref name="onLabel"/> gets (t_us, label) on the receive thread. Throws
    /// <see cref="ArgumentException"/> for a bad address and <see cref="PipelineException"/>
    /// naming the peer when it cannot connect. Every line skipped as malformed is a warning to
    /// <paramref name="logger"/> (on the receive thread): "tcp://host:port: line N: what was wrong".
    /// </summary>
    public static LabelStreamClient Connect(string address, Action<long, int> onLabel, TimeSpan? timeout = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(onLabel);
        if (!Uri.TryCreate(address, UriKind.Absolute, out Uri? uri) || !uri.Scheme.Equals("tcp", StringComparison.OrdinalIgnoreCase) || uri.Port <= 0 || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"label stream '{address}' is not tcp://host:port", nameof(address));
        }

        string host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host.Trim('[', ']') : uri.Host;
        string source = $"tcp://{host}:{uri.Port}";
        var client = new TcpClient();
        try
        {
            using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(5));
            client.ConnectAsync(host, uri.Port, cts.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
        {
            client.Dispose();
            throw new PipelineException(source, 0, "cannot connect to the label stream: " + ex.Message, ex);
        }

        return new LabelStreamClient(client, source, onLabel, logger);
    }

    /// <summary>Parses one line <c>t_us,label</c>; false when it is not two integers.</summary>
    public static bool TryParse(ReadOnlySpan<char> line, out long tUs, out int label) => LabelLineDecoder.TryParse(line, out tUs, out label);

    /// <summary>Waits until the peer closed the stream (or it failed or was disposed).</summary>
    public bool WaitCompleted(TimeSpan timeout) => _done.Wait(timeout);

    /// <summary>Closes the connection and stops the thread.</summary>
    public void Dispose()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        _client.Dispose();
        if (_thread != Thread.CurrentThread)
        {
            _thread.Join(TimeSpan.FromSeconds(2));
        }

        _done.Dispose();
    }

    private void Run()
    {
        try
        {
            using NetworkStream stream = _client.GetStream();
            byte[] buffer = new byte[8192];
            int read;
            while (!_stopped && (read = stream.Read(buffer)) > 0)
            {
                _decoder.Feed(buffer.AsSpan(0, read));
            }

            if (!_stopped)
            {
                _decoder.Complete();
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            if (!_stopped)
            {
                Error = new PipelineException(SourceName, 0, "label stream failed: " + ex.Message, ex);
            }
        }
        finally
        {
            if (!_stopped)
            {
                _done.Set();
            }
        }
    }
}
