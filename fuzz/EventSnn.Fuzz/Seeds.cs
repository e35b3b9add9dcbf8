using System.Buffers.Binary;
using System.Text;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;

namespace EventSnn.Fuzz;

/// <summary>
/// Writes the starting corpus: the first few KB of the shared fixtures (<see cref="FixtureHeads"/>,
/// made from the fixtures at run time, not stored in the repository) and small files generated
/// with the writers, a few KB each (the repository's fuzz/corpus holds only these).
/// </summary>
public static class Seeds
{
    private const int Trim = 3072;

    /// <summary>Writes corpus/&lt;target&gt;/ files under <paramref name="corpus"/> from <paramref name="fixtures"/>.</summary>
    public static void Write(string fixtures, string corpus)
    {
        void Put(string target, string name, byte[] bytes)
        {
            string dir = Path.Combine(corpus, target);
            Directory.CreateDirectory(dir);
            System.IO.File.WriteAllBytes(Path.Combine(dir, name), bytes);
            Console.WriteLine($"{target}/{name}: {bytes.Length} bytes");
        }

        // readers: trimmed real recordings (cut from the fixtures when the corpus is written; never stored in the repository)
        foreach ((string target, string name, byte[] bytes) in FixtureHeads(fixtures))
        {
            Put(target, name, bytes);
        }

        // readers: small generated files
        DvsEvent[] events = Events(120, 346, 260, 7);
        TriggerEvent[] triggers = [new(events[40].T, TriggerKind.ExternalRising, 1), new(events[90].T, TriggerKind.ExternalFalling, 1)];
        Put("aedat3", "generated-davis346", Write(EventFormat.Aedat3, SensorGeometry.Davis346, events, triggers));
        Put("aedat2", "generated-davis346", Write(EventFormat.Aedat2, SensorGeometry.Davis346, events, triggers));
        Put("evt21", "generated-346x260", Write(EventFormat.Evt21, SensorGeometry.Davis346, Rows(events), triggers));
        Put("evt3", "generated-vectors", Write(EventFormat.Evt3, SensorGeometry.Davis346, Rows(events), triggers));
        Put("evt2", "generated-346x260", Write(EventFormat.Evt2, SensorGeometry.Davis346, events, triggers));
        Put("dat", "generated-346x260", Write(EventFormat.Dat, SensorGeometry.Davis346, events, []));
        Put("nmnist", "generated-overflow", Write(EventFormat.NMnist, new SensorGeometry(34, 34), Events(80, 34, 34, 3, step: 400_000), []));
        foreach (Aedat4Compression c in new[] { Aedat4Compression.Lz4, Aedat4Compression.Zstd, Aedat4Compression.None })
        {
            Put("aedat4", $"generated-{c.ToString().ToLowerInvariant()}", Aedat4(events, triggers, c, table: true));
        }

        Put("nas", "generated-stereo_8ch_addr4b_ts1", Nas());
        Put("shd", "generated-two-samples", Shd());

        // the detector: one of each
        Put("detect", "aedat4", Aedat4(events[..20], [], Aedat4Compression.Lz4, table: true));
        Put("detect", "evt3", Write(EventFormat.Evt3, SensorGeometry.Davis346, events[..20], []));
        Put("detect", "aedat2", Write(EventFormat.Aedat2, SensorGeometry.Dvs128, Events(20, 128, 128, 5), []));

        // live protocols
        byte[] dvNet = Aedat4(events, triggers, Aedat4Compression.Lz4, table: false)[14..]; // network mode: no '#!AER-DAT4.0' line
        Put("dv-tcp", "lz4-reads-of-97", [96, .. dvNet]);
        Put("dv-tcp", "none-reads-of-256", [255, .. Aedat4(events[..40], [], Aedat4Compression.None, table: false)[14..]]);
        byte[] packets = Aedat3Packets(events, triggers);
        Put("aedat3-tcp", "reads-of-200", [199, .. NetworkHeader(0), .. packets]);
        Put("aedat3-udp", "three-datagrams", [.. Framed([.. NetworkHeader(5), .. packets.AsSpan(0, Math.Min(packets.Length, 1000))]), .. Framed([.. NetworkHeader(7)]), .. Framed([.. NetworkHeader(6), .. Aedat3Packets(events[..10], [])])]);
        byte[] records = JaerRecords(events, 128, 128);
        Put("jaer-tcp", "reads-of-13", [12, .. records]);
        Put("jaer-udp", "numbered-datagrams", [.. Framed([0, 0, 0, 1, .. records.AsSpan(0, 400)]), .. Framed([0, 0, 0, 3, .. records.AsSpan(400, 160)]), .. Framed([0, 0, 0, 2, .. records.AsSpan(560, 8)])]);
        Put("labels", "lines", [6, .. Encoding.ASCII.GetBytes("t_us,label\n1000,3\n# comment\n\n2000 , 4\nbad line\n3000,12\n4000,1")]);
    }

    private static DvsEvent[] Events(int count, int width, int height, int seed, int step = 40)
    {
        var rng = new Random(seed);
        var events = new DvsEvent[count];
        long t = rng.Next(1000);
        for (int i = 0; i < count; i++)
        {
            t += rng.Next(step);
            events[i] = new DvsEvent(t, (ushort)rng.Next(width), (ushort)rng.Next(height), rng.Next(2) == 1);
        }

        return events;
    }

    /// <summary>Runs of same-time, same-row events at increasing x (vector words in EVT 2.1 / 3.0).</summary>
    private static DvsEvent[] Rows(DvsEvent[] events) =>
        [.. events.SelectMany((e, i) => i % 10 == 0 ? Enumerable.Range(0, 12).Select(k => e with { X = (ushort)Math.Min(345, (e.X & ~31) + (2 * k)) }).DistinctBy(r => r.X) : [e])];

    private static byte[] Write(EventFormat format, SensorGeometry geometry, DvsEvent[] events, TriggerEvent[] triggers) =>
        Written(ms => EventWriters.Create(format, ms, geometry, leaveOpen: true), events, triggers);

    private static byte[] Aedat4(DvsEvent[] events, TriggerEvent[] triggers, Aedat4Compression compression, bool table) =>
        Written(ms => new Aedat4Writer(ms, new Aedat4WriterOptions { Geometry = SensorGeometry.Davis346, Compression = compression, Triggers = true, EventsPerPacket = 50, WriteTable = table, LeaveOpen = true }), events, triggers);

    /// <summary>The bytes a writer opened on a memory stream produces for one batch of the events and triggers.</summary>
    private static byte[] Written(Func<Stream, IEventWriter> open, DvsEvent[] events, TriggerEvent[] triggers)
    {
        using var ms = new MemoryStream();
        using (IEventWriter writer = open(ms))
        using (var batch = new EventBatch(1024))
        {
            foreach (DvsEvent e in events)
            {
                batch.Add(e);
            }

            foreach (TriggerEvent t in triggers)
            {
                batch.Triggers.Add(t);
            }

            writer.Write(batch);
        }

        return ms.ToArray();
    }

    private static byte[] Nas()
    {
        using var ms = new MemoryStream();
        ms.Write("#!AER-DAT2.0\r\n# NAS test\r\n"u8);
        using (var writer = new NasWriter(ms, 8, stereo: true, addressBytes: 4, tickNanoseconds: 1000, leaveOpen: true))
        {
            var rng = new Random(3);
            long t = 10;
            for (int i = 0; i < 150; i++)
            {
                writer.Write(t += rng.Next(50), rng.Next(8), rng.Next(2), rng.Next(2) == 1);
            }
        }

        return ms.ToArray();
    }

    private static byte[] Shd()
    {
        string path = Path.Combine(Path.GetTempPath(), $"eventsnn-fuzz-seed-{Environment.ProcessId}.h5");
        try
        {
            using (ShdWriter writer = ShdWriter.Create(path, 16, keys: ["zero", "one"], ShdTimeType.Float16))
            {
                writer.Add([0, 1000, 2500, 9000], [1, 5, 15, 2], label: 1, speaker: 3);
                writer.Add([50], [7], label: 0);
            }

            return System.IO.File.ReadAllBytes(path);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    private static byte[] NetworkHeader(long sequence)
    {
        byte[] h = new byte[Aedat3NetworkHeader.Size];
        new Aedat3NetworkHeader(Aedat3NetworkHeader.ExpectedMagic, sequence, 1, 0, 1).Write(h);
        return h;
    }

    /// <summary>The packets of an AEDAT 3.1 file (without its ASCII header).</summary>
    private static byte[] Aedat3Packets(DvsEvent[] events, TriggerEvent[] triggers)
    {
        byte[] file = Write(EventFormat.Aedat3, SensorGeometry.Davis346, events, triggers);
        int end = file.AsSpan().IndexOf("#!END-HEADER\r\n"u8) + 14;
        return file[end..];
    }

    private static byte[] JaerRecords(DvsEvent[] events, int width, int height)
    {
        byte[] records = new byte[events.Length * 8];
        for (int i = 0; i < events.Length; i++)
        {
            DvsEvent e = events[i];
            uint address = JaerAddress.EncodeDvs128(e.X % width, e.Y % height, e.On);
            BinaryPrimitives.WriteUInt32BigEndian(records.AsSpan(i * 8), i == 50 ? JaerAddress.Dvs128ExternalBit : address);
            BinaryPrimitives.WriteInt32BigEndian(records.AsSpan((i * 8) + 4), (int)e.T);
        }

        return records;
    }

    private static byte[] Framed(byte[] datagram)
    {
        byte[] framed = new byte[datagram.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)datagram.Length);
        datagram.CopyTo(framed, 2);
        return framed;
    }

    /// <summary>
    /// The first few KB of real recordings of <paramref name="fixtures"/> (real headers and records,
    /// cut at a record boundary where the format has fixed records), as (target, name, bytes): seeds
    /// for afl-fuzz and inputs of the corpus replay test, made from the fixtures each time.
    /// </summary>
    public static IEnumerable<(string Target, string Name, byte[] Bytes)> FixtureHeads(string fixtures)
    {
        byte[] Head(string fixture, int bytes = Trim) => System.IO.File.ReadAllBytes(Path.Combine(fixtures, fixture)).AsSpan(0, bytes).ToArray();

        yield return ("aedat2", "mibblez-dvs128-head", Head("mibblez/header_test_128.aedat", 3000));
        yield return ("aedat2", "pyaedattools-davis240-head", HeadAfterHeader("pyaedattools/TranslatingBarX.aedat", fixtures, 8, 120));
        yield return ("evt2", "expelliarmus-head", Head("expelliarmus/evt2_sample.raw"));
        yield return ("evt3", "expelliarmus-head", Head("expelliarmus/evt3_sample.raw"));
        yield return ("dat", "tonic-ncars-head", Head("tonic/sample_ncars.dat", 2000));
        yield return ("nmnist", "tonic-nmnist-head", Head("tonic/sample_nmnist.bin", 2000));
        yield return ("nas", "pynavis-addr2b-head", Head("pynavis/sound_mono_32ch_ONOFF_addr2b_ts02.aedat", 1800));
        yield return ("nas", "pynavis-addr4b-head", Head("pynavis/enun_stereo_64ch_ONOFF_addr4b_ts1.aedat", 2400));
    }

    /// <summary>The ASCII header of a jAER file and its first <paramref name="records"/> records of <paramref name="recordBytes"/> bytes.</summary>
    private static byte[] HeadAfterHeader(string fixture, string fixtures, int recordBytes, int records)
    {
        byte[] file = System.IO.File.ReadAllBytes(Path.Combine(fixtures, fixture));
        int at = 0;
        while (at < file.Length && file[at] == (byte)'#')
        {
            int lf = file.AsSpan(at).IndexOf((byte)'\n');
            at = lf < 0 ? file.Length : at + lf + 1;
        }

        return file.AsSpan(0, Math.Min(file.Length, at + (recordBytes * records))).ToArray();
    }
}
