using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace EventSnn.Pipeline;

/// <summary>
/// A label feedback stream over TCP: text lines <c>t_us,label</c> (the label applies to the
/// segment of the event stream ending at <c>t_us</c>). Blank lines and lines starting with '#'
/// are skipped; a non-numeric first line is a header; other malformed lines are counted and
/// skipped. Reads on a background thread until the peer closes or <see cref="Dispose"/>.
/// </summary>
public sealed class LabelStreamClient : IDisposable
{
    private const int MaxLineBytes = 4096;
    private readonly TcpClient _client;
    private readonly Action<long, int> _onLabel;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _done = new(false);
    private volatile bool _stopped;
    private long _lines;
    private long _malformed;

    private LabelStreamClient(TcpClient client, string source, Action<long, int> onLabel)
    {
        _client = client;
        _onLabel = onLabel;
        SourceName = source;
        _thread = new Thread(Run) { IsBackground = true, Name = "eventsnn labels " + source };
        _thread.Start();
    }

    /// <summary>The peer as tcp://host:port.</summary>
    public string SourceName { get; }

    /// <summary>Labels delivered.</summary>
    public long Lines => Interlocked.Read(ref _lines);

    /// <summary>Malformed lines skipped.</summary>
    public long Malformed => Interlocked.Read(ref _malformed);

    /// <summary>The error that ended the stream early (null when the peer closed or it was disposed).</summary>
    public Exception? Error { get; private set; }

    /// <summary>Called with every line skipped as malformed (on the receive thread).</summary>
    public Action<string>? OnMalformed { get; init; }

    /// <summary>
    /// Connects to <paramref name="address"/> (tcp://host:port) and starts reading;
    /// <paramref name="onLabel"/> gets (t_us, label) on the receive thread. Throws
    /// <see cref="ArgumentException"/> for a bad address and <see cref="PipelineException"/>
    /// naming the peer when it cannot connect.
    /// </summary>
    public static LabelStreamClient Connect(string address, Action<long, int> onLabel, TimeSpan? timeout = null, Action<string>? onMalformed = null)
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

        return new LabelStreamClient(client, source, onLabel) { OnMalformed = onMalformed };
    }

    /// <summary>Parses one line <c>t_us,label</c>; false when it is not two integers.</summary>
    public static bool TryParse(ReadOnlySpan<char> line, out long tUs, out int label)
    {
        tUs = 0;
        label = 0;
        int comma = line.IndexOf(',');
        return comma > 0
            && long.TryParse(line[..comma].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out tUs)
            && int.TryParse(line[(comma + 1)..].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out label);
    }

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
            byte[] line = new byte[MaxLineBytes];
            int length = 0;
            bool overlong = false;
            long number = 0;
            int read;
            while (!_stopped && (read = stream.Read(buffer)) > 0)
            {
                for (int i = 0; i < read; i++)
                {
                    byte b = buffer[i];
                    if (b == (byte)'\n')
                    {
                        number++;
                        Line(line.AsSpan(0, length), number, overlong);
                        length = 0;
                        overlong = false;
                    }
                    else if (length < line.Length)
                    {
                        line[length++] = b;
                    }
                    else
                    {
                        overlong = true;
                    }
                }
            }

            if (length > 0 && !_stopped)
            {
                Line(line.AsSpan(0, length), number + 1, overlong);
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

    private void Line(ReadOnlySpan<byte> bytes, long number, bool overlong)
    {
        Span<char> chars = stackalloc char[MaxLineBytes];
        int n = Encoding.ASCII.GetChars(bytes, chars);
        ReadOnlySpan<char> text = chars[..n].Trim();
        if (text.IsEmpty || text[0] == '#')
        {
            return;
        }

        if (!overlong && TryParse(text, out long t, out int label))
        {
            try
            {
                _onLabel(t, label);
                Interlocked.Increment(ref _lines);
                return;
            }
            catch (ArgumentException ex)
            {
                // e.g. a class outside the model's range: reported like a malformed line
                Interlocked.Increment(ref _malformed);
                OnMalformed?.Invoke($"{SourceName}: line {number}: {ex.Message}");
                return;
            }
        }

        if (number == 1 && !overlong)
        {
            return; // a header
        }

        Interlocked.Increment(ref _malformed);
        OnMalformed?.Invoke($"{SourceName}: line {number}: expected t_us,label but found '{(overlong ? "(longer than 4096 bytes)" : text.ToString())}'");
    }
}
