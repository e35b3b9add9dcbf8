using System.Text;

namespace EventSnn.Pipeline.Serving;

/// <summary>
/// The request head of the minimal HTTP/1.1 endpoint, parsed as it arrives: bytes in, a status
/// out (0 while more is needed). Knows no sockets, so the socket loop and a fuzz target share it.
/// </summary>
internal static class HttpRequestHead
{
    /// <summary>
    /// Looks at the head after new bytes arrived: <paramref name="head"/> holds everything so far,
    /// of which the first <paramref name="before"/> bytes were looked at already. Returns
    /// (0, null) while the head is incomplete and its request line (when complete) looks right,
    /// else the answer of <see cref="Parse"/>.
    /// </summary>
    public static (int Status, string? Target) Received(ReadOnlySpan<byte> head, int before)
    {
        int scanFrom = Math.Clamp(before - 3, 0, head.Length);
        int end = head[scanFrom..].IndexOf("\r\n\r\n"u8);
        if (end >= 0)
        {
            return Parse(head[..(scanFrom + end)]);
        }

        // a request line must look like one as soon as it is complete
        int lf = head.IndexOf((byte)'\n');
        return lf >= 0 && Parse(head[..lf]).Status == 400 ? (400, null) : (0, null);
    }

    /// <summary>Parses a request head: (200, target) for a GET of an absolute path, 405 for another method, 400 for anything that is not an HTTP/1.x request line.</summary>
    public static (int Status, string? Target) Parse(ReadOnlySpan<byte> head)
    {
        int lineEnd = head.IndexOf((byte)'\n');
        ReadOnlySpan<byte> line = lineEnd >= 0 ? head[..lineEnd] : head;
        if (line.Length > 0 && line[^1] == '\r')
        {
            line = line[..^1];
        }

        foreach (byte b in line)
        {
            if (b is < 0x20 or > 0x7E)
            {
                return (400, null);
            }
        }

        string text = Encoding.ASCII.GetString(line);
        string[] parts = text.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal) || parts[1].Length == 0 || parts[1][0] != '/')
        {
            return (400, null);
        }

        foreach (char c in parts[0])
        {
            if (c is < 'A' or > 'Z')
            {
                return (400, null);
            }
        }

        return parts[0] == "GET" ? (200, parts[1]) : (405, null);
    }

    /// <summary>The <c>stream=</c> value of a query string (unescaped), or null.</summary>
    public static string? StreamFilter(string query)
    {
        foreach (string part in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith("stream=", StringComparison.Ordinal))
            {
                return Uri.UnescapeDataString(part["stream=".Length..]);
            }
        }

        return null;
    }
}
