using System.Xml;
using EventSnn.Events;
using EventSnn.IO.Aedat4;
using Google.FlatBuffers;

namespace EventSnn.IO;

/// <summary>
/// The AEDAT 4.0 IOHeader (FlatBuffer, identifier "IOHE"): packet compression, position
/// of the FileDataTable (-1 when absent) and the infoNode XML describing the streams.
/// Fields a writer omitted take the schema defaults (NONE, -1, no XML). Used for files and
/// for the DV network protocol, which sends the same header (uint32 size + IOHeader).
/// </summary>
public sealed class Aedat4IOHeader
{
    private const int FieldCompression = 0;
    private const int FieldDataTable = 1;
    private const int FieldInfoNode = 2;

    /// <summary>Packet compression.</summary>
    public Aedat4Compression Compression { get; init; }

    /// <summary>Byte offset of the FileDataTable, or -1 when the file has none.</summary>
    public long DataTablePosition { get; init; } = -1;

    /// <summary>The infoNode XML (null when the header has none).</summary>
    public string? InfoNode { get; init; }

    /// <summary>Streams declared in <see cref="InfoNode"/> (empty when none or unparsable).</summary>
    public IReadOnlyList<Aedat4StreamInfo> Streams { get; init; } = [];

    /// <summary>Why <see cref="InfoNode"/> could not be parsed (null when it was fine or absent).</summary>
    public string? InfoNodeProblem { get; init; }

    /// <summary>Sensor size of the first "EVTS" stream, or <see cref="SensorGeometry.Unknown"/>.</summary>
    public SensorGeometry Geometry
    {
        get
        {
            foreach (Aedat4StreamInfo s in Streams)
            {
                if (s.Type == Aedat4StreamType.Events)
                {
                    return s.Geometry;
                }
            }

            return SensorGeometry.Unknown;
        }
    }

    /// <summary>The stream with id <paramref name="id"/>, or null.</summary>
    public Aedat4StreamInfo? FindStream(int id)
    {
        foreach (Aedat4StreamInfo s in Streams)
        {
            if (s.Id == id)
            {
                return s;
            }
        }

        return null;
    }

    /// <summary>
    /// Parses an IOHeader FlatBuffer (the bytes after the uint32 size). Structural problems
    /// and an unknown compression throw <see cref="EventFormatException"/>; malformed infoNode
    /// XML does not (packets carry their own type identifiers) and is reported in
    /// <see cref="InfoNodeProblem"/>.
    /// </summary>
    /// <param name="flatBuffer">The FlatBuffer bytes.</param>
    /// <param name="sourceName">File path or peer, for errors.</param>
    /// <param name="offset">Byte offset of the FlatBuffer in the source, for errors.</param>
    public static Aedat4IOHeader Parse(ReadOnlySpan<byte> flatBuffer, string sourceName = "<IOHeader>", long offset = 0)
    {
        var fb = new FbView(flatBuffer, sourceName, offset, "IOHeader");
        if (!fb.HasIdentifier(Aedat4Names.IdHeader))
        {
            throw fb.Error("file identifier is not \"IOHE\"", "identifier");
        }

        FbTable root = fb.Root();
        int compression = fb.Int32(root, FieldCompression, 0, "compression");
        if (compression is < 0 or > 4)
        {
            throw fb.Error($"unknown compression {compression}", "compression");
        }

        long dataTable = fb.Int64(root, FieldDataTable, -1, "dataTablePosition");
        string? xml = fb.String(root, FieldInfoNode, flatBuffer.Length, "infoNode");
        IReadOnlyList<Aedat4StreamInfo> streams = [];
        string? problem = null;
        if (!string.IsNullOrWhiteSpace(xml))
        {
            try
            {
                streams = Aedat4InfoXml.Parse(xml);
            }
            catch (XmlException ex)
            {
                problem = $"infoNode XML is malformed ({ex.Message})";
            }
        }

        return new Aedat4IOHeader
        {
            Compression = (Aedat4Compression)compression,
            DataTablePosition = dataTable < -1 ? -1 : dataTable,
            InfoNode = xml,
            Streams = streams,
            InfoNodeProblem = problem,
        };
    }

    /// <summary>
    /// Builds the size-prefixed IOHeader FlatBuffer with every field present (defaults
    /// forced), so dataTablePosition has a fixed slot that can be rewritten in place.
    /// </summary>
    /// <param name="dataTableFieldOffset">Offset of the int64 dataTablePosition within the returned bytes.</param>
    internal byte[] ToSizePrefixedFlatBuffer(out int dataTableFieldOffset)
    {
        var b = new FlatBufferBuilder(256 + ((InfoNode?.Length ?? 0) * 2)) { ForceDefaults = true };
        StringOffset info = b.CreateString(InfoNode ?? string.Empty);
        b.StartTable(3);
        b.AddLong(FieldDataTable, DataTablePosition, -1);
        b.AddOffset(FieldInfoNode, info.Value, 0);
        b.AddInt(FieldCompression, (int)Compression, 0);
        int root = b.EndTable();
        b.FinishSizePrefixed(root, "IOHE");
        byte[] bytes = b.SizedByteArray();
        var fb = new FbView(bytes.AsSpan(4), "<writer>", 0, "IOHeader");
        FbTable t = fb.Root();
        dataTableFieldOffset = 4 + fb.Field(t, FieldDataTable, 8, "dataTablePosition");
        return bytes;
    }
}
