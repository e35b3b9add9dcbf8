using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;

namespace EventSnn.Testing;

/// <summary>
/// Streams for tests of the serve host (linked into the Serving and CLI test projects): repository
/// recordings, the DV and jAER wire encodings, pushing them to a port, and reading the published
/// decisions back.
/// </summary>
internal static class ServeStreams
{
    /// <summary>Events of a repository gesture recording (128 x 128), the first <paramref name="seconds"/> seconds.</summary>
    public static EventBatch GestureEvents(string file, double seconds)
    {
        string path = Path.Combine(RepoRoot(), "recordings", "gestures", file);
        using Aedat4Reader reader = Aedat4Reader.Open(path);
        Assert.Equal(SensorGeometry.Dvs128, reader.Geometry);
        var all = new EventBatch(1 << 20);
        using var batch = new EventBatch();
        long first = -1;
        while (reader.Read(batch))
        {
            for (int i = 0; i < batch.Count; i++)
            {
                first = first < 0 ? batch.T[i] : first;
                if (batch.T[i] - first >= seconds * 1e6 || all.IsFull)
                {
                    return all;
                }

                all.Add(batch.T[i], batch.X[i], batch.Y[i], batch.P[i] != 0);
            }
        }

        return all;
    }

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EventSnn.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("EventSnn.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The DV network stream (uint32 size + IOHeader, packets) of <paramref name="events"/>.</summary>
    public static byte[] DvStream(EventBatch events)
    {
        using var ms = new MemoryStream();
        using (var writer = new Aedat4Writer(ms, new Aedat4WriterOptions { Geometry = SensorGeometry.Dvs128, WriteTable = false, LeaveOpen = true, EventsPerPacket = 2048 }))
        {
            writer.WriteEvents(events);
        }

        return ms.ToArray()[14..]; // the network protocol has no '#!AER-DAT4.0\r\n' line
    }

    public static void PushTcp(int port, byte[] bytes)
    {
        using var client = new TcpClient();
        client.Connect(IPAddress.Loopback, port);
        NetworkStream s = client.GetStream();
        for (int i = 0; i < bytes.Length; i += 4096)
        {
            s.Write(bytes, i, Math.Min(4096, bytes.Length - i));
        }

        client.Client.Shutdown(SocketShutdown.Send);

        // wait for the server to close its side: the whole stream was consumed
        byte[] one = new byte[1];
        client.ReceiveTimeout = 20_000;
        _ = s.Read(one, 0, 1);
    }

    public static void SendUdp(int port, EventBatch events)
    {
        using var sender = new JaerUdpSender(port, eventsPerDatagram: 500);
        using var part = new EventBatch(500);
        for (int start = 0; start < events.Count; start += 500)
        {
            part.Clear();
            part.Append(events, start, Math.Min(500, events.Count - start));
            sender.OnNext(part);
            if (start % 5000 == 0)
            {
                Thread.Sleep(2); // be gentle with the loopback receive buffer
            }
        }
    }

    public static async Task<List<string>> ReadLines(int port, CancellationToken token)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port, token);
        using var reader = new StreamReader(client.GetStream(), Encoding.UTF8);
        var lines = new List<string>();
        while (await reader.ReadLineAsync(token) is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }

    public static Dictionary<string, List<JsonElement>> ByStream(IEnumerable<string> lines)
    {
        var map = new Dictionary<string, List<JsonElement>>(StringComparer.Ordinal);
        foreach (string line in lines)
        {
            JsonElement e = JsonDocument.Parse(line).RootElement.Clone();
            string stream = e.GetProperty("stream").GetString()!;
            if (!map.TryGetValue(stream, out List<JsonElement>? list))
            {
                map[stream] = list = [];
            }

            list.Add(e);
        }

        return map;
    }
}
