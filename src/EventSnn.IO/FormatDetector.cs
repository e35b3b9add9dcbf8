using System.Text;

namespace EventSnn.IO;

/// <summary>
/// Detects an event file's format from its first bytes (magic numbers and header lines),
/// with the file name as a tie-breaker for headerless formats.
/// </summary>
public static class FormatDetector
{
    /// <summary>How many leading bytes <see cref="Detect(ReadOnlySpan{byte}, string?)"/> wants.</summary>
    public const int HeadBytes = 64 * 1024;

    private static readonly byte[] Hdf5Signature = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Detects the format of the file at <paramref name="path"/>.</summary>
    public static EventFormat Detect(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        byte[] head = new byte[(int)Math.Min(HeadBytes, fs.Length)];
        fs.ReadExactly(head);
        return Detect(head, path);
    }

    /// <summary>
    /// Detects the format from the leading bytes of a file. Returns
    /// <see cref="EventFormat.Unknown"/> when nothing fits.
    /// </summary>
    public static EventFormat Detect(ReadOnlySpan<byte> head, string? fileName)
    {
        string name = Path.GetFileName(fileName ?? string.Empty).ToLowerInvariant();
        string ext = Path.GetExtension(name);

        if (StartsWith(head, "#!AER-DAT4"))
        {
            return EventFormat.Aedat4;
        }

        if (StartsWith(head, "#!AER-DAT3"))
        {
            return EventFormat.Aedat3;
        }

        if (IsHdf5(head))
        {
            return EventFormat.Shd;
        }

        if (head.Length > 0 && head[0] == (byte)'#')
        {
            // jAER AEDAT 1.0/2.0, or a NAS recording with a jAER header
            string header = HeaderText(head, (byte)'#');
            if (header.Contains("Cochlea", StringComparison.OrdinalIgnoreCase)
                || header.Contains("AEChip: NAS", StringComparison.OrdinalIgnoreCase)
                || header.Contains(".NAS", StringComparison.Ordinal)
                || HasNasNameHints(name))
            {
                return EventFormat.Nas;
            }

            return EventFormat.Aedat2;
        }

        if (head.Length > 0 && head[0] == (byte)'%')
        {
            return DetectProphesee(head, ext);
        }

        // Headerless formats.
        if (ext == ".bin")
        {
            return EventFormat.NMnist;
        }

        if (ext == ".aedat" || HasNasNameHints(name))
        {
            return EventFormat.Nas;
        }

        if (ext is ".h5" or ".hdf5")
        {
            return EventFormat.Shd;
        }

        return LooksLikeNMnist(head) ? EventFormat.NMnist : EventFormat.Unknown;
    }

    /// <summary>True when the name carries pyNAVIS/NAS naming hints (addr2b/addr4b, ts02/ts1, NNch).</summary>
    public static bool HasNasNameHints(string fileName)
    {
        string n = Path.GetFileName(fileName).ToLowerInvariant();
        return n.Contains("addr2b", StringComparison.Ordinal) || n.Contains("addr4b", StringComparison.Ordinal)
            || n.Contains("_ts02", StringComparison.Ordinal) || n.Contains("_ts1", StringComparison.Ordinal);
    }

    private static EventFormat DetectProphesee(ReadOnlySpan<byte> head, string ext)
    {
        string header = HeaderText(head, (byte)'%');
        foreach (string rawLine in header.Split('\n'))
        {
            string line = rawLine.Trim().TrimStart('%').Trim().ToLowerInvariant();
            if (line.StartsWith("evt ", StringComparison.Ordinal))
            {
                string v = line[4..].Trim();
                if (v.StartsWith("2.1", StringComparison.Ordinal))
                {
                    return EventFormat.Evt21;
                }

                if (v.StartsWith('2'))
                {
                    return EventFormat.Evt2;
                }

                if (v.StartsWith('3'))
                {
                    return EventFormat.Evt3;
                }
            }

            if (line.StartsWith("format ", StringComparison.Ordinal))
            {
                string v = line[7..].Trim();
                if (v.StartsWith("evt21", StringComparison.Ordinal) || v.StartsWith("evt2.1", StringComparison.Ordinal))
                {
                    return EventFormat.Evt21;
                }

                if (v.StartsWith("evt2", StringComparison.Ordinal))
                {
                    return EventFormat.Evt2;
                }

                if (v.StartsWith("evt3", StringComparison.Ordinal))
                {
                    return EventFormat.Evt3;
                }
            }
        }

        // DAT: '% Data file containing ...', '% Version 2', then a type byte and a size byte of 8.
        if (header.Contains("Data file", StringComparison.OrdinalIgnoreCase) || ext == ".dat")
        {
            return EventFormat.Dat;
        }

        int end = HeaderEnd(head, (byte)'%');
        if (end + 2 <= head.Length && head[end + 1] == 8)
        {
            return EventFormat.Dat;
        }

        return ext == ".raw" ? EventFormat.Evt2 : EventFormat.Unknown;
    }

    private static bool LooksLikeNMnist(ReadOnlySpan<byte> head)
    {
        // 5-byte records with timestamps that never decrease (overflow markers aside).
        int records = Math.Min(head.Length / 5, 2000);
        if (records < 8 || head.Length % 5 != 0 && head.Length < HeadBytes)
        {
            return false;
        }

        long last = -1;
        for (int i = 0; i < records; i++)
        {
            ReadOnlySpan<byte> r = head.Slice(i * 5, 5);
            if (r[1] == 240)
            {
                continue;
            }

            long t = ((r[2] & 0x7F) << 16) | (r[3] << 8) | r[4];
            if (t < last)
            {
                return false;
            }

            last = t;
        }

        return true;
    }

    private static bool IsHdf5(ReadOnlySpan<byte> head)
    {
        // The superblock may follow a user block at 0, 512, 1024, 2048, ...
        for (int at = 0; at + 8 <= head.Length; at = at == 0 ? 512 : at * 2)
        {
            if (head.Slice(at, 8).SequenceEqual(Hdf5Signature))
            {
                return true;
            }
        }

        return false;
    }

    private static bool StartsWith(ReadOnlySpan<byte> head, string ascii) =>
        head.Length >= ascii.Length && head[..ascii.Length].SequenceEqual(Encoding.ASCII.GetBytes(ascii));

    private static int HeaderEnd(ReadOnlySpan<byte> head, byte prefix)
    {
        int pos = 0;
        while (pos < head.Length && head[pos] == prefix)
        {
            int nl = head[pos..].IndexOf((byte)'\n');
            if (nl < 0)
            {
                return head.Length;
            }

            string line = Encoding.Latin1.GetString(head.Slice(pos, nl)).TrimEnd('\r');
            pos += nl + 1;
            if (prefix == (byte)'%' && line.Trim() == "% end")
            {
                break;
            }
        }

        return pos;
    }

    private static string HeaderText(ReadOnlySpan<byte> head, byte prefix) =>
        Encoding.Latin1.GetString(head[..HeaderEnd(head, prefix)]);
}
