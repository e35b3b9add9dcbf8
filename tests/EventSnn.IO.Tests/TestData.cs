using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using EventSnn.Events;
using EventSnn.Testing;

namespace EventSnn.IO.Tests;

/// <summary>Helpers shared by the reader tests: building small files by hand and draining readers.</summary>
internal static class TestData
{
    /// <summary>Builds an AEDAT 1.0/2.0 file: header lines (CRLF) then big-endian records.</summary>
    public static byte[] Aedat2(IEnumerable<string> headerLines, IEnumerable<(uint Address, int Timestamp)> records, int addressBytes = 4)
    {
        var ms = new MemoryStream();
        foreach (string line in headerLines)
        {
            byte[] b = Encoding.ASCII.GetBytes(line + "\r\n");
            ms.Write(b);
        }

        Span<byte> rec = stackalloc byte[8];
        foreach ((uint a, int t) in records)
        {
            if (addressBytes == 4)
            {
                BinaryPrimitives.WriteUInt32BigEndian(rec, a);
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(rec, (ushort)a);
            }

            BinaryPrimitives.WriteInt32BigEndian(rec[addressBytes..], t);
            ms.Write(rec[..(addressBytes + 4)]);
        }

        return ms.ToArray();
    }

    /// <summary>A standard AEDAT 2.0 header naming a chip class.</summary>
    public static string[] Header2(string? chip) => chip is null
        ? ["#!AER-DAT2.0", "# test file"]
        : ["#!AER-DAT2.0", "# test file", "# AEChip: " + chip, "#End Of ASCII Header"];

    /// <summary>Drains a DVS reader (small batches to exercise resumption) into events and triggers.</summary>
    public static (List<DvsEvent> Events, List<TriggerEvent> Triggers) ReadAll(IDvsEventReader reader, int batchCapacity = 1000)
    {
        var events = new List<DvsEvent>();
        var triggers = new List<TriggerEvent>();
        using var batch = new EventBatch(batchCapacity);
        int guard = 0;
        while (reader.Read(batch))
        {
            events.AddRange(batch.ToArray());
            foreach (TriggerEvent t in batch.Triggers.Items)
            {
                triggers.Add(t);
            }

            Assert.True(++guard < 10_000_000, "reader does not make progress");
        }

        Assert.False(reader.Read(batch), "Read must keep returning false at the end");
        return (events, triggers);
    }

    /// <summary>Drains a DVS reader into statistics only.</summary>
    public static EventStatistics Stats(IDvsEventReader reader, int batchCapacity = EventBatch.DefaultCapacity)
    {
        var stats = new EventStatistics();
        using var batch = new EventBatch(batchCapacity);
        while (reader.Read(batch))
        {
            stats.Add(batch);
        }

        return stats;
    }

    /// <summary>Drains a spike reader.</summary>
    public static List<AudioSpike> ReadAll(ISpikeReader reader, int batchCapacity = 1000)
    {
        var spikes = new List<AudioSpike>();
        using var batch = new SpikeBatch(batchCapacity);
        while (reader.Read(batch))
        {
            spikes.AddRange(batch.ToArray());
        }

        Assert.False(reader.Read(batch));
        return spikes;
    }

    /// <summary>The EXPECTED.json entry of a fixture.</summary>
    public static JsonElement Expected(string fixture) => Fixtures.Expected[fixture];

    /// <summary>Byte offset of the first record after an AEDAT 2.0 style '#' header (the header-end rule of the reader, computed independently).</summary>
    public static int HeaderEnd(byte[] data)
    {
        int pos = 0;
        while (pos < data.Length && data[pos] == (byte)'#')
        {
            int eol = Array.IndexOf(data, (byte)'\n', pos);
            int next = eol < 0 ? data.Length : eol + 1;
            string line = Encoding.Latin1.GetString(data, pos, next - pos).TrimEnd('\r', '\n');
            pos = next;
            if (line.TrimStart('#').Trim().Equals("End Of ASCII Header", StringComparison.OrdinalIgnoreCase))
            {
                break;
            }
        }

        return pos;
    }
}
