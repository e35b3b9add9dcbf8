using System.Text;

namespace EventSnn.IO.Internal;

/// <summary>
/// Reads the ASCII header lines that start many event files ('#' for AEDAT, '%' for
/// Prophesee). Lines end in LF or CRLF; reading stops at the first line that does not
/// start with the prefix, after a line for which <c>isLast</c> returns true, or fails when
/// the header exceeds the bound.
/// </summary>
internal static class AsciiHeader
{
    /// <summary>
    /// Reads header lines (without line ends) starting with <paramref name="prefix"/>.
    /// Consumes exactly the header bytes.
    /// </summary>
    public static List<string> Read(ByteInput input, byte prefix, int maxBytes, Func<string, bool>? isLast = null)
    {
        var lines = new List<string>();
        long start = input.Position;
        while (true)
        {
            if (!input.Ensure(1) || input.Span[0] != prefix)
            {
                return lines;
            }

            // find the end of this line within the bound
            int searched = 0;
            int eol;
            while (true)
            {
                eol = input.Span[searched..].IndexOf((byte)'\n');
                if (eol >= 0)
                {
                    eol += searched;
                    break;
                }

                searched = input.Available;
                if (input.Position - start + searched > maxBytes)
                {
                    throw new EventFormatException(input.SourceName, input.Position, $"ASCII header longer than {maxBytes} bytes (no end of line found)", "header");
                }

                if (!input.Ensure(searched + 1))
                {
                    // header line runs into the end of the file: take it as the last line
                    eol = input.Available;
                    break;
                }
            }

            ReadOnlySpan<byte> raw = input.Span[..eol];
            if (raw.Length > 0 && raw[^1] == (byte)'\r')
            {
                raw = raw[..^1];
            }

            string line = Encoding.Latin1.GetString(raw);
            input.Advance(Math.Min(eol + 1, input.Available));
            lines.Add(line);
            if (input.Position - start > maxBytes)
            {
                throw new EventFormatException(input.SourceName, input.Position, $"ASCII header longer than {maxBytes} bytes", "header");
            }

            if (isLast is not null && isLast(line))
            {
                return lines;
            }
        }
    }
}
