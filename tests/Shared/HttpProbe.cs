using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EventSnn.Testing;

/// <summary>HTTP clients of the serve host's endpoints in tests: HttpClient for real requests, a raw socket for malformed ones.</summary>
internal static class HttpProbe
{
    /// <summary>GET http://127.0.0.1:<paramref name="port"/><paramref name="path"/>: status and body.</summary>
    public static async Task<(int Status, string Body)> Get(int port, string path, CancellationToken token = default)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        using HttpResponseMessage response = await client.GetAsync(new Uri($"http://127.0.0.1:{port}{path}"), token);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(token));
    }

    /// <summary>
    /// Reads the Server-Sent Events of GET <paramref name="target"/> until the server ends the
    /// stream: the data of the unnamed events (decisions) in order, and in <paramref name="named"/>
    /// (when given) the data of the named ones as (event, data); <paramref name="onData"/> sees each
    /// unnamed event's data as it arrives.
    /// </summary>
    public static async Task<List<string>> ReadSse(int port, string target, CancellationToken token, List<(string Event, string Data)>? named = null, Action<string>? onData = null)
    {
        using var client = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using HttpResponseMessage response = await client.GetAsync(new Uri($"http://127.0.0.1:{port}{target}"), HttpCompletionOption.ResponseHeadersRead, token);
        if (response.StatusCode != HttpStatusCode.OK || response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            throw new InvalidOperationException($"GET {target}: {(int)response.StatusCode} {response.Content.Headers.ContentType}");
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(token), Encoding.UTF8);
        var data = new List<string>();
        string? eventName = null;
        while (await reader.ReadLineAsync(token) is { } line)
        {
            if (line.Length == 0)
            {
                eventName = null;
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                eventName = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                if (eventName is null)
                {
                    data.Add(line["data: ".Length..]);
                    onData?.Invoke(data[^1]);
                }
                else
                {
                    named?.Add((eventName, line["data: ".Length..]));
                }
            }
        }

        return data;
    }

    /// <summary>Sends <paramref name="request"/> as raw bytes and reads the answer until the server closes: status and body.</summary>
    public static async Task<(int Status, string Body)> Raw(int port, byte[] request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        NetworkStream s = client.GetStream();
        await s.WriteAsync(request);
        using var reader = new StreamReader(s, Encoding.UTF8);
        string all = await reader.ReadToEndAsync();
        if (all.Length == 0)
        {
            return (0, string.Empty);
        }

        int status = int.Parse(all.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        int body = all.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return (status, body < 0 ? string.Empty : all[(body + 4)..]);
    }
}
