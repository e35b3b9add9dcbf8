using System.Globalization;
using System.Text;
using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// The ASCII header of a Prophesee RAW (EVT 2.0 / 2.1 / 3.0) or DAT file: lines
/// '% key value' ending in LF (or CRLF), optionally closed by '% end'. Gives the raw lines,
/// a key/value dictionary, the declared format and the sensor geometry, taken in this
/// order from '% format EVT3;height=720;width=1280', '% geometry 1280x720', DAT
/// '% Width W' / '% Height H', or sensor generation hints (Gen3 640x480, Gen4/Gen4.1/IMX636
/// 1280x720, GenX320 320x320, IMX637 640x512); otherwise <see cref="SensorGeometry.Unknown"/>.
/// </summary>
public sealed class PropheseeHeader
{
    private static readonly IReadOnlyDictionary<string, string> EmptyValues =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    private PropheseeHeader(List<string> lines, Dictionary<string, string> values, bool hasEnd, long byteLength, List<string> problems)
    {
        Lines = lines;
        Values = values.Count == 0 ? EmptyValues : values;
        HasEndMarker = hasEnd;
        ByteLength = byteLength;
        Problems = problems;
        (DeclaredFormat, LegacyEvt21WordOrder) = ParseFormat(values);
        Geometry = ParseGeometry(values, problems);
    }

    /// <summary>Header lines as read, without the line ends (the '% end' line included when present).</summary>
    public IReadOnlyList<string> Lines { get; }

    /// <summary>
    /// '% key value' pairs, keys case-insensitive (e.g. "evt" = "3.0", "format" = "EVT3;height=720;width=1280",
    /// "Width" = "640"). When a key repeats, the first value is kept.
    /// </summary>
    public IReadOnlyDictionary<string, string> Values { get; }

    /// <summary>Sensor size declared (or implied by the sensor generation), else <see cref="SensorGeometry.Unknown"/>.</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>The RAW encoding named by '% evt X' or '% format NAME;...' (Evt2, Evt21, Evt3), else <see cref="EventFormat.Unknown"/>.</summary>
    public EventFormat DeclaredFormat { get; }

    /// <summary>
    /// EVT 2.1 only: true when the format line says 'endianness=legacy', i.e. each 64-bit word is
    /// stored as the 32-bit half holding the type first, then the 32-bit validity mask (IMX636
    /// style); false for plain little-endian 64-bit words (mask first).
    /// </summary>
    public bool LegacyEvt21WordOrder { get; }

    /// <summary>True when the header ended with a '% end' line.</summary>
    public bool HasEndMarker { get; }

    /// <summary>Length of the header in bytes (offset of the first data byte relative to the header start).</summary>
    public long ByteLength { get; }

    /// <summary>Non-fatal problems found in the header (unparseable geometry values and the like).</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>Parses header lines (each starting with '%', without line ends); for tools and tests.</summary>
    public static PropheseeHeader Parse(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var list = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        bool hasEnd = false;
        long bytes = 0;
        foreach (string line in lines)
        {
            list.Add(line);
            bytes += line.Length + 1;
            if (AddLine(line, values))
            {
                hasEnd = true;
                break;
            }
        }

        return new PropheseeHeader(list, values, hasEnd, bytes, []);
    }

    /// <summary>
    /// Geometry implied by a sensor or plugin name ("hal_plugin_gen41_evk3", "Gen3.1", "IMX636", "4.1", ...),
    /// or <see cref="SensorGeometry.Unknown"/>.
    /// </summary>
    public static SensorGeometry GeometryFromSensorHint(string? hint)
    {
        if (string.IsNullOrWhiteSpace(hint))
        {
            return SensorGeometry.Unknown;
        }

        string h = hint.Trim().ToLowerInvariant().Replace(".", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal);
        if (h.Contains("genx320", StringComparison.Ordinal))
        {
            return new SensorGeometry(320, 320);
        }

        if (h.Contains("imx637", StringComparison.Ordinal))
        {
            return new SensorGeometry(640, 512);
        }

        if (h.Contains("imx636", StringComparison.Ordinal) || h.Contains("imx646", StringComparison.Ordinal) ||
            h.Contains("gen41", StringComparison.Ordinal) || h.Contains("gen4", StringComparison.Ordinal) ||
            h is "41" or "4")
        {
            return new SensorGeometry(1280, 720);
        }

        if (h.Contains("gen31", StringComparison.Ordinal) || h.Contains("gen3", StringComparison.Ordinal) || h is "31" or "3" or "30")
        {
            return new SensorGeometry(640, 480);
        }

        return SensorGeometry.Unknown;
    }

    /// <summary>
    /// Reads header lines from <paramref name="input"/>. A line is a header line when it starts with '%'
    /// and is text up to its LF; reading stops after '% end', at the first byte that is not '%', or at a
    /// '%' that begins binary data (a control byte before the LF). Consumes exactly the header bytes.
    /// </summary>
    internal static PropheseeHeader Read(ByteInput input, int maxBytes)
    {
        var lines = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var problems = new List<string>();
        long start = input.Position;
        bool hasEnd = false;
        while (input.Ensure(1) && input.Span[0] == (byte)'%')
        {
            int lineEnd = FindLineEnd(input, start, maxBytes, out int consumed);
            if (lineEnd < 0)
            {
                break; // binary data that happens to start with '%'
            }

            bool unterminated = consumed == lineEnd && consumed == input.Available;
            string line = Encoding.Latin1.GetString(input.Span[..lineEnd]);
            input.Advance(consumed);
            if (input.Position - start > maxBytes)
            {
                throw new EventFormatException(input.SourceName, input.Position, $"ASCII header longer than {maxBytes} bytes", "header");
            }

            lines.Add(line);
            if (unterminated)
            {
                // the file ends inside this line: it may be cut, so it is kept but not interpreted
                problems.Add("the last header line has no line end (file cut?); it was not interpreted");
                break;
            }

            if (AddLine(line, values))
            {
                hasEnd = true;
                break;
            }
        }

        return new PropheseeHeader(lines, values, hasEnd, input.Position - start, problems);
    }

    /// <summary>Builds a RAW header: '% evt', '% format', '% geometry', generator and '% end' lines.</summary>
    internal static byte[] BuildRaw(string evtVersion, string formatName, SensorGeometry geometry, string? formatExtra = null)
    {
        var sb = new StringBuilder();
        sb.Append("% date ").Append(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("% evt ").Append(evtVersion).Append('\n');
        sb.Append("% format ").Append(formatName);
        if (formatExtra is not null)
        {
            sb.Append(';').Append(formatExtra);
        }

        if (geometry.IsKnown)
        {
            sb.Append(";height=").Append(geometry.Height).Append(";width=").Append(geometry.Width).Append('\n');
            sb.Append("% geometry ").Append(geometry.Width).Append('x').Append(geometry.Height).Append('\n');
        }
        else
        {
            sb.Append('\n');
        }

        sb.Append("% generator EventSnn\n");
        sb.Append("% end\n");
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    /// <summary>Builds a DAT header (CD or trigger events, version 2, width/height when known).</summary>
    internal static byte[] BuildDat(SensorGeometry geometry, bool triggers)
    {
        var sb = new StringBuilder();
        sb.Append("% Data file containing ").Append(triggers ? "Trigger" : "CD").Append(" events\n");
        sb.Append("% Date ").Append(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("% Version 2\n");
        if (geometry.IsKnown)
        {
            sb.Append("% Width ").Append(geometry.Width).Append('\n');
            sb.Append("% Height ").Append(geometry.Height).Append('\n');
        }

        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    /// <summary>
    /// Finds the end of the header line at the start of the input. Returns the length of the line text
    /// (without CR/LF) and in <paramref name="consumed"/> the bytes to consume, or -1 when the bytes are
    /// not a text line.
    /// </summary>
    private static int FindLineEnd(ByteInput input, long headerStart, int maxBytes, out int consumed)
    {
        int searched = 1;
        while (true)
        {
            ReadOnlySpan<byte> span = input.Span;
            int rel = span[searched..].IndexOfAnyInRange((byte)0, (byte)0x1F);
            if (rel >= 0)
            {
                int at = searched + rel;
                byte c = span[at];
                if (c == (byte)'\n')
                {
                    consumed = at + 1;
                    return at;
                }

                if (c == (byte)'\t')
                {
                    searched = at + 1;
                    continue;
                }

                if (c == (byte)'\r')
                {
                    if (at + 1 < span.Length)
                    {
                        if (span[at + 1] == (byte)'\n')
                        {
                            consumed = at + 2;
                            return at;
                        }

                        consumed = 0;
                        return -1;
                    }

                    if (!input.Ensure(at + 2))
                    {
                        consumed = at + 1; // CR at the very end of the file
                        return at;
                    }

                    continue; // re-examine with the next byte available
                }

                consumed = 0;
                return -1; // a control byte: binary data, not a header line
            }

            searched = span.Length;
            if (input.Position - headerStart + searched > maxBytes)
            {
                throw new EventFormatException(input.SourceName, input.Position,
                    $"ASCII header longer than {maxBytes} bytes (no end of line found)", "header");
            }

            if (!input.Ensure(searched + 1))
            {
                // the line runs into the end of the file: take it as the last header line
                consumed = input.Available;
                return input.Available;
            }
        }
    }

    /// <summary>Adds one line to the dictionary; returns true for the '% end' marker.</summary>
    private static bool AddLine(string line, Dictionary<string, string> values)
    {
        ReadOnlySpan<char> s = line.AsSpan();
        if (s.Length > 0 && s[0] == '%')
        {
            s = s[1..];
        }

        s = s.Trim();
        if (s.Equals("end", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (s.IsEmpty)
        {
            return false;
        }

        int space = s.IndexOfAny(' ', '\t');
        string key = (space < 0 ? s : s[..space]).ToString();
        string value = space < 0 ? string.Empty : s[(space + 1)..].Trim().ToString();
        values.TryAdd(key, value);
        return false;
    }

    private static (EventFormat Format, bool Legacy) ParseFormat(Dictionary<string, string> values)
    {
        EventFormat format = EventFormat.Unknown;
        bool legacy = false;
        if (values.TryGetValue("format", out string? f))
        {
            string[] parts = f.Split(';', StringSplitOptions.TrimEntries);
            format = parts[0].ToUpperInvariant() switch
            {
                "EVT2" or "EVT20" or "EVT2.0" => EventFormat.Evt2,
                "EVT21" or "EVT2.1" => EventFormat.Evt21,
                "EVT3" or "EVT30" or "EVT3.0" => EventFormat.Evt3,
                _ => EventFormat.Unknown,
            };
            foreach (string p in parts)
            {
                if (p.Equals("endianness=legacy", StringComparison.OrdinalIgnoreCase))
                {
                    legacy = true;
                }
            }
        }

        if (format == EventFormat.Unknown && values.TryGetValue("evt", out string? v))
        {
            format = v.Trim() switch
            {
                "2.0" => EventFormat.Evt2,
                "2.1" => EventFormat.Evt21,
                "3.0" => EventFormat.Evt3,
                _ => EventFormat.Unknown,
            };
        }

        return (format, legacy);
    }

    private static SensorGeometry ParseGeometry(Dictionary<string, string> values, List<string> problems)
    {
        if (values.TryGetValue("format", out string? f))
        {
            int w = 0, h = 0;
            foreach (string part in f.Split(';', StringSplitOptions.TrimEntries))
            {
                int eq = part.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    continue;
                }

                string k = part[..eq].Trim();
                string val = part[(eq + 1)..].Trim();
                if (k.Equals("width", StringComparison.OrdinalIgnoreCase))
                {
                    w = ParseDimension(val, "format width", problems);
                }
                else if (k.Equals("height", StringComparison.OrdinalIgnoreCase))
                {
                    h = ParseDimension(val, "format height", problems);
                }
            }

            if (w > 0 && h > 0)
            {
                return new SensorGeometry(w, h);
            }
        }

        if (values.TryGetValue("geometry", out string? g))
        {
            int x = g.IndexOfAny(['x', 'X']);
            if (x > 0)
            {
                int w = ParseDimension(g[..x].Trim(), "geometry width", problems);
                int h = ParseDimension(g[(x + 1)..].Trim(), "geometry height", problems);
                if (w > 0 && h > 0)
                {
                    return new SensorGeometry(w, h);
                }
            }
            else
            {
                problems.Add($"geometry '{Clip(g)}' is not WxH");
            }
        }

        if (values.TryGetValue("Width", out string? ws) && values.TryGetValue("Height", out string? hs))
        {
            int w = ParseDimension(ws.Trim(), "Width", problems);
            int h = ParseDimension(hs.Trim(), "Height", problems);
            if (w > 0 && h > 0)
            {
                return new SensorGeometry(w, h);
            }
        }

        foreach (string key in (string[])["sensor_generation", "sensor_name", "plugin_name", "camera_integrator_name"])
        {
            if (values.TryGetValue(key, out string? hint))
            {
                SensorGeometry sg = GeometryFromSensorHint(hint);
                if (sg.IsKnown)
                {
                    return sg;
                }
            }
        }

        return SensorGeometry.Unknown;
    }

    private static int ParseDimension(string s, string what, List<string> problems)
    {
        if (int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v is > 0 and <= 65536)
        {
            return v;
        }

        problems.Add($"{what} '{Clip(s)}' is not a size in 1..65536");
        return 0;
    }

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
