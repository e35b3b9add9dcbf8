using System.Buffers.Text;
using System.Text;

namespace EventSnn.IO;

/// <summary>One labelled span of a recording: [StartUs, EndUs) in event time, with its class as written in the file.</summary>
public readonly record struct LabelSegment(int Label, long StartUs, long EndUs);

/// <summary>
/// The label files of DVS128 Gesture and of this project's generated recordings
/// (<c>*_labels.csv</c>): an optional header line (<c>class,startTime_usec,endTime_usec</c>), then
/// one <c>class,start,end</c> row per segment, integers, times in microseconds. Blank lines and a
/// trailing carriage return are ignored; extra columns after the third are ignored. A row that is
/// not three integers, a negative class, or a segment whose end is not after its start is an
/// <see cref="EventFormatException"/> naming the source, the byte offset of the row and the field;
/// readers of 1-based files (DVS128 Gesture) pass <c>firstClass: 1</c> to refuse class 0. Rows keep
/// the file's order.
/// </summary>
public static class LabelCsv
{
    /// <summary>Largest label file read (64 MiB; a DVS Gesture file is a few hundred bytes).</summary>
    public const long MaxBytes = 64L << 20;

    /// <summary>Reads a label file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist (the message names it).</exception>
    /// <exception cref="EventFormatException">A row is malformed, or the file is larger than <see cref="MaxBytes"/>.</exception>
    public static List<LabelSegment> Read(string path, int firstClass = 0)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"label file not found: {path}", path);
        }

        long length = new FileInfo(path).Length;
        if (length > MaxBytes)
        {
            throw new EventFormatException(path, 0, $"a label file of {length} bytes is larger than the {MaxBytes} bytes read");
        }

        return Parse(File.ReadAllBytes(path), path, firstClass);
    }

    /// <summary>Parses label rows from UTF-8 text; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="EventFormatException">A row is malformed.</exception>
    public static List<LabelSegment> Parse(ReadOnlySpan<byte> utf8, string source = "<labels>", int firstClass = 0)
    {
        ArgumentNullException.ThrowIfNull(source);
        var result = new List<LabelSegment>();
        int offset = 0;
        int lineNumber = 0;
        while (offset < utf8.Length)
        {
            int rowStart = offset;
            int nl = utf8[offset..].IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = nl < 0 ? utf8[offset..] : utf8.Slice(offset, nl);
            offset = nl < 0 ? utf8.Length : offset + nl + 1;
            lineNumber++;
            line = line.Trim(" \t\r"u8);
            if (lineNumber == 1 && line.StartsWith("\uFEFF"u8))
            {
                line = line[3..];
            }

            if (line.IsEmpty)
            {
                continue;
            }

            if (lineNumber == 1 && !IsDigitOrSign(line[0]))
            {
                continue; // header
            }

            result.Add(ParseRow(line, source, rowStart, lineNumber, firstClass));
        }

        return result;
    }

    /// <summary>Parses label rows from text (e.g. lines received over a network).</summary>
    /// <exception cref="EventFormatException">A row is malformed.</exception>
    public static List<LabelSegment> Parse(string text, string source = "<labels>", int firstClass = 0)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Parse(Encoding.UTF8.GetBytes(text), source, firstClass);
    }

    private static LabelSegment ParseRow(ReadOnlySpan<byte> line, string source, int offset, int lineNumber, int firstClass)
    {
        Span<Range> parts = stackalloc Range[3];
        int count = 0, from = 0;
        while (count < 3)
        {
            int comma = line[from..].IndexOf((byte)',');
            parts[count++] = comma < 0 ? from..line.Length : from..(from + comma);
            if (comma < 0)
            {
                break;
            }

            from += comma + 1;
        }

        if (count < 3)
        {
            throw new EventFormatException(source, offset, $"line {lineNumber}: expected class,startTime_usec,endTime_usec, found '{Text(line)}'", "line");
        }

        long label = Integer(line[parts[0]], source, offset, lineNumber, "class");
        long start = Integer(line[parts[1]], source, offset, lineNumber, "startTime_usec");
        long end = Integer(line[parts[2]], source, offset, lineNumber, "endTime_usec");
        if (label < Math.Max(0, firstClass) || label > int.MaxValue)
        {
            throw new EventFormatException(source, offset, $"line {lineNumber}: class {label} is not {Math.Max(0, firstClass)}..{int.MaxValue}", "class");
        }

        if (end <= start)
        {
            throw new EventFormatException(source, offset, $"line {lineNumber}: end time {end} is not after start time {start}", "endTime_usec");
        }

        return new LabelSegment((int)label, start, end);
    }

    private static long Integer(ReadOnlySpan<byte> field, string source, int offset, int lineNumber, string name)
    {
        field = field.Trim(" \t"u8);
        return Utf8Parser.TryParse(field, out long v, out int used) && used == field.Length
            ? v
            : throw new EventFormatException(source, offset, $"line {lineNumber}: '{Text(field)}' is not an integer", name);
    }

    private static bool IsDigitOrSign(byte b) => b is (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'+';

    private static string Text(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes.Length > 80 ? bytes[..80] : bytes);
}
