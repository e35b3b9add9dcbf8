using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using EventSnn.Events;

namespace EventSnn.IO.Aedat4;

/// <summary>
/// The IOHeader infoNode: DV's configuration-tree XML describing the output streams.
/// Parsing is lenient (any node with a numeric name and a typeIdentifier attribute is a
/// stream; its "info" child gives sizeX, sizeY, source, tsOffset). Writing reproduces the
/// layout DV's recorder produces.
/// </summary>
internal static class Aedat4InfoXml
{
    /// <summary>Parses the streams; throws <see cref="XmlException"/> on malformed XML.</summary>
    public static List<Aedat4StreamInfo> Parse(string xml)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            IgnoreComments = true,
            MaxCharactersInDocument = 64L << 20,
        };
        using var text = new StringReader(xml);
        using var reader = XmlReader.Create(text, settings);
        XDocument doc = XDocument.Load(reader);
        var streams = new List<Aedat4StreamInfo>();
        var seen = new HashSet<int>();
        foreach (XElement node in doc.Descendants("node"))
        {
            if (!int.TryParse(node.Attribute("name")?.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int id))
            {
                continue;
            }

            string? type = Attr(node, "typeIdentifier");
            if (type is null || !seen.Add(id))
            {
                continue;
            }

            XElement? info = null;
            foreach (XElement child in node.Elements("node"))
            {
                if (child.Attribute("name")?.Value == "info")
                {
                    info = child;
                    break;
                }
            }

            int sizeX = ParseInt(Attr(info, "sizeX"));
            int sizeY = ParseInt(Attr(info, "sizeY"));
            long? tsOffset = long.TryParse(Attr(info, "tsOffset"), NumberStyles.Integer, CultureInfo.InvariantCulture, out long ts) ? ts : null;
            var geometry = sizeX > 0 && sizeY > 0 ? new SensorGeometry(sizeX, sizeY) : SensorGeometry.Unknown;
            streams.Add(new Aedat4StreamInfo(id, type.Trim(), geometry, Attr(info, "source") ?? string.Empty, Attr(node, "originalOutputName") ?? string.Empty)
            {
                TimestampOffset = tsOffset,
            });
        }

        return streams;
    }

    /// <summary>Builds the infoNode XML for <paramref name="streams"/> the way DV's recorder writes it.</summary>
    public static string Build(IReadOnlyList<Aedat4StreamInfo> streams, Aedat4Compression compression, string moduleName)
    {
        const string root = "/mainloop/Recorder/outInfo/";
        var sb = new StringBuilder(1024);
        sb.Append("<dv version=\"2.0\">\n");
        sb.Append("    <node name=\"outInfo\" path=\"").Append(root).Append("\">\n");
        foreach (Aedat4StreamInfo s in streams)
        {
            string id = s.Id.ToString(CultureInfo.InvariantCulture);
            string path = root + id + "/";
            sb.Append("        <node name=\"").Append(id).Append("\" path=\"").Append(path).Append("\">\n");
            AppendAttr(sb, 12, "compression", "string", Aedat4Names.CompressionName(compression));
            AppendAttr(sb, 12, "originalModuleName", "string", moduleName);
            AppendAttr(sb, 12, "originalOutputName", "string", s.Name.Length > 0 ? s.Name : DefaultName(s.Type));
            AppendAttr(sb, 12, "typeDescription", "string", Description(s.Type));
            AppendAttr(sb, 12, "typeIdentifier", "string", s.TypeIdentifier);
            sb.Append("            <node name=\"info\" path=\"").Append(path).Append("info/\">\n");
            if (s.Geometry.IsKnown && s.Type is Aedat4StreamType.Events or Aedat4StreamType.Frames)
            {
                AppendAttr(sb, 16, "sizeX", "int", s.Geometry.Width.ToString(CultureInfo.InvariantCulture));
                AppendAttr(sb, 16, "sizeY", "int", s.Geometry.Height.ToString(CultureInfo.InvariantCulture));
            }

            AppendAttr(sb, 16, "source", "string", s.Source);
            if (s.TimestampOffset is long ts)
            {
                AppendAttr(sb, 16, "tsOffset", "long", ts.ToString(CultureInfo.InvariantCulture));
            }

            sb.Append("            </node>\n");
            sb.Append("        </node>\n");
        }

        sb.Append("    </node>\n");
        sb.Append("</dv>\n");
        return sb.ToString();
    }

    public static string DefaultName(Aedat4StreamType type) => type switch
    {
        Aedat4StreamType.Events => "events",
        Aedat4StreamType.Frames => "frames",
        Aedat4StreamType.Imu => "imu",
        Aedat4StreamType.Triggers => "triggers",
        _ => "output",
    };

    private static string Description(Aedat4StreamType type) => type switch
    {
        Aedat4StreamType.Events => "Array of events (polarity ON/OFF).",
        Aedat4StreamType.Frames => "Standard frame (8-bit image).",
        Aedat4StreamType.Imu => "Inertial Measurement Unit data samples.",
        Aedat4StreamType.Triggers => "External triggers and special signals.",
        _ => "Unknown data.",
    };

    private static void AppendAttr(StringBuilder sb, int indent, string key, string type, string value)
    {
        sb.Append(' ', indent).Append("<attr key=\"").Append(key).Append("\" type=\"").Append(type).Append("\">");
        foreach (char c in value)
        {
            switch (c)
            {
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '&': sb.Append("&amp;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&apos;"); break;
                default: sb.Append(c); break;
            }
        }

        sb.Append("</attr>\n");
    }

    private static string? Attr(XElement? node, string key)
    {
        if (node is null)
        {
            return null;
        }

        foreach (XElement attr in node.Elements("attr"))
        {
            if (attr.Attribute("key")?.Value == key)
            {
                return attr.Value;
            }
        }

        return null;
    }

    private static int ParseInt(string? s) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : 0;
}
