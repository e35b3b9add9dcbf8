using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using EventSnn.Events;
using EventSnn.Testing;
using PureHDF;

namespace EventSnn.IO.Tests;

/// <summary>
/// The export writers (CSV, NumPy .npy, HDF5 event arrays): exact layouts checked by hand, the
/// count bookkeeping of the formats that state it, the limits, constant memory, and round trips
/// through numpy and h5py, readers that share no code with the writers.
/// </summary>
public sealed class ExportWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("eventsnn-export-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly DvsEvent[] Few =
    [
        new(-5, 0, 0, true),
        new(0, 65535, 7, false),
        new(1_605_537_493_718_345, 345, 259, true),
        new(long.MaxValue, 1, 65535, false),
    ];

    [Fact]
    public void Csv_is_a_header_then_one_line_per_event()
    {
        var ms = new MemoryStream();
        using (var writer = new CsvWriter(ms, leaveOpen: true))
        {
            WriteBatches(writer, Few, cuts: [1, 1, 3]);
            Assert.Equal(4, writer.EventsWritten);
        }

        Assert.Equal(
            "t,x,y,p\n-5,0,0,1\n0,65535,7,0\n1605537493718345,345,259,1\n9223372036854775807,1,65535,0\n",
            Encoding.ASCII.GetString(ms.ToArray()));
    }

    [Fact]
    public void Npy_header_is_numpy_1_0_with_tonics_dtype_and_the_count_is_patched_on_close()
    {
        DvsEvent[] events = [.. Few.Select(e => e with { X = (ushort)Math.Min((int)e.X, 32767), Y = (ushort)Math.Min((int)e.Y, 32767) })];
        var ms = new MemoryStream();
        using (var writer = new NpyWriter(ms, eventCount: null, leaveOpen: true))
        {
            WriteBatches(writer, events, cuts: [2]);
        }

        byte[] file = ms.ToArray();
        (string dict, int dataStart) = ParseNpyHeader(file);
        Assert.Equal(0, dataStart % 64);
        Assert.Contains("'descr': [('t', '<i8'), ('x', '<i2'), ('y', '<i2'), ('p', '<i1')]", dict, StringComparison.Ordinal);
        Assert.Contains("'fortran_order': False", dict, StringComparison.Ordinal);
        Assert.Contains("'shape': (4,)", dict, StringComparison.Ordinal);
        Assert.Equal(dataStart + (13 * events.Length), file.Length);
        for (int i = 0; i < events.Length; i++)
        {
            ReadOnlySpan<byte> r = file.AsSpan(dataStart + (13 * i), 13);
            Assert.Equal(events[i].T, BinaryPrimitives.ReadInt64LittleEndian(r));
            Assert.Equal(events[i].X, (int)BinaryPrimitives.ReadInt16LittleEndian(r[8..]));
            Assert.Equal(events[i].Y, (int)BinaryPrimitives.ReadInt16LittleEndian(r[10..]));
            Assert.Equal(events[i].On ? 1 : 0, (sbyte)r[12]);
        }
    }

    [Fact]
    public void Npy_with_the_count_up_front_streams_to_an_unseekable_stream_and_holds_the_writer_to_it()
    {
        var sink = new MemoryStream();
        using (var writer = new NpyWriter(new ForwardOnlyStream(sink), eventCount: 2, leaveOpen: true))
        {
            WriteBatches(writer, [new DvsEvent(1, 2, 3, true), new DvsEvent(4, 5, 6, false)], cuts: []);
        }

        (string dict, int dataStart) = ParseNpyHeader(sink.ToArray());
        Assert.Contains("'shape': (2,)", dict, StringComparison.Ordinal);
        Assert.Equal(dataStart + 26, sink.Length);

        Assert.Throws<ArgumentException>(() => new NpyWriter(new ForwardOnlyStream(new MemoryStream())));
        var tooMany = new NpyWriter(new MemoryStream(), eventCount: 1);
        Assert.Throws<InvalidOperationException>(() => WriteBatches(tooMany, [new DvsEvent(1, 2, 3, true), new DvsEvent(4, 5, 6, false)], cuts: []));
        var tooFew = new NpyWriter(new MemoryStream(), eventCount: 3);
        WriteBatches(tooFew, [new DvsEvent(1, 2, 3, true)], cuts: []);
        Assert.Throws<InvalidOperationException>(tooFew.Dispose);
    }

    [Fact]
    public void Npy_refuses_addresses_beyond_int16_and_the_limits_say_so()
    {
        using var writer = new NpyWriter(new MemoryStream());
        var ex = Assert.Throws<FormatLimitException>(() => WriteBatches(writer, [new DvsEvent(0, 32768, 0, true)], cuts: []));
        Assert.Contains("int16", ex.Message, StringComparison.Ordinal);
        Assert.Equal(32767, EventWriters.Limits(EventFormat.Npy).MaxX);
        Assert.NotNull(EventWriters.Limits(EventFormat.Npy).CheckGeometry(new SensorGeometry(40000, 10)));
        Assert.Null(EventWriters.Limits(EventFormat.Hdf5).CheckGeometry(new SensorGeometry(65535, 65535)));
    }

    [Fact]
    public void Hdf5_holds_four_columns_and_the_sensor_and_checks_the_count()
    {
        string path = Path.Combine(_dir, "few.h5");
        using (IEventWriter writer = EventWriters.Create(EventFormat.Hdf5, path, new SensorGeometry(346, 260), eventCount: Few.Length))
        {
            WriteBatches(writer, Few, cuts: [1, 3, 3]);
        }

        using (var file = H5File.OpenRead(path))
        {
            IH5Group events = file.Group("events");
            Assert.Equal(346, events.Attribute("width").Read<int>());
            Assert.Equal(260, events.Attribute("height").Read<int>());
            Assert.Equal(Few.Select(e => e.T), events.Dataset("t").Read<long[]>());
            Assert.Equal(Few.Select(e => e.X), events.Dataset("x").Read<ushort[]>());
            Assert.Equal(Few.Select(e => e.Y), events.Dataset("y").Read<ushort[]>());
            Assert.Equal(Few.Select(e => (byte)(e.On ? 1 : 0)), events.Dataset("p").Read<byte[]>());
        }

        Assert.Throws<ArgumentException>(() => EventWriters.Create(EventFormat.Hdf5, new MemoryStream(), SensorGeometry.Dvs128));
        IEventWriter tooFew = EventWriters.Create(EventFormat.Hdf5, Path.Combine(_dir, "short.h5"), SensorGeometry.Dvs128, eventCount: 5);
        WriteBatches(tooFew, Few, cuts: []);
        Assert.Throws<InvalidOperationException>(tooFew.Dispose);
        IEventWriter tooMany = EventWriters.Create(EventFormat.Hdf5, Path.Combine(_dir, "long.h5"), SensorGeometry.Dvs128, eventCount: 3);
        Assert.Throws<InvalidOperationException>(() => WriteBatches(tooMany, Few, cuts: []));
        Assert.Throws<InvalidOperationException>(tooMany.Dispose);
    }

    [Fact]
    public void Opening_an_export_as_a_recording_says_it_is_write_only()
    {
        string h5 = Path.Combine(_dir, "export.h5");
        using (IEventWriter writer = EventWriters.Create(EventFormat.Hdf5, h5, SensorGeometry.Dvs128, eventCount: Few.Length))
        {
            WriteBatches(writer, Few, cuts: []);
        }

        var ex = Assert.Throws<EventFormatException>(() => EventReaders.Open(h5).Dispose());
        Assert.Contains("event-array export", ex.Message, StringComparison.Ordinal);
        Assert.StartsWith(h5 + ": byte ", ex.Message, StringComparison.Ordinal);

        string npy = Path.Combine(_dir, "export.npy");
        using (NpyWriter writer = NpyWriter.Create(npy))
        {
            WriteBatches(writer, [new DvsEvent(1, 2, 3, true)], cuts: []);
        }

        ex = Assert.Throws<EventFormatException>(() => EventReaders.Open(npy, new ReaderOptions { Format = EventFormat.Npy }).Dispose());
        Assert.Contains("writes it but does not read it", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, int> Kinds => new()
    {
        { "csv", 0 },
        { "csv", 20_000 },
        { "npy", 0 },
        { "npy", 20_000 },
        { "h5", 0 },
        { "h5", 20_000 },
    };

    [SkippableTheory]
    [MemberData(nameof(Kinds))]
    public void Numpy_and_h5py_read_back_every_event(string kind, int count)
    {
        PythonReaders.Require();
        var rng = new Random(17 + count);
        var events = new DvsEvent[count];
        long t = -1_000 + rng.Next(2_000);
        for (int i = 0; i < count; i++)
        {
            t += rng.Next(3) == 0 ? rng.Next(1_000_000) : rng.Next(3);
            events[i] = new DvsEvent(t, (ushort)rng.Next(32768), (ushort)rng.Next(32768), rng.Next(2) == 1);
        }

        string path = Path.Combine(_dir, "events." + kind);
        EventFormat format = kind switch { "csv" => EventFormat.Csv, "npy" => EventFormat.Npy, _ => EventFormat.Hdf5 };
        using (IEventWriter writer = EventWriters.Create(format, path, new SensorGeometry(32768, 32768), eventCount: count))
        {
            int[] cuts = [.. Enumerable.Range(0, 7).Select(_ => rng.Next(count + 1)).Order()];
            WriteBatches(writer, events, cuts);
        }

        (long[] ts, long[] xs, long[] ys, long[] ps, JsonElement meta) = PythonReaders.Read(kind, path);
        Assert.Equal(events.Select(e => e.T), ts);
        Assert.Equal(events.Select(e => (long)e.X), xs);
        Assert.Equal(events.Select(e => (long)e.Y), ys);
        Assert.Equal(events.Select(e => e.On ? 1L : 0L), ps);
        switch (kind)
        {
            case "npy":
                Assert.Equal(["t <i8", "x <i2", "y <i2", "p |i1"], meta.GetProperty("descr").EnumerateArray().Select(f => $"{f[0].GetString()} {f[1].GetString()}"));
                Assert.Equal(count, meta.GetProperty("shape")[0].GetInt32());
                break;
            case "csv":
                Assert.Equal("t,x,y,p", meta.GetProperty("header").GetString());
                break;
            default:
                Assert.Equal(32768, meta.GetProperty("attrs").GetProperty("width").GetInt32());
                Assert.Equal("<i8", meta.GetProperty("dtypes").GetProperty("t").GetString());
                Assert.Equal("<u2", meta.GetProperty("dtypes").GetProperty("x").GetString());
                Assert.Equal("<u2", meta.GetProperty("dtypes").GetProperty("y").GetString());
                Assert.Equal("|u1", meta.GetProperty("dtypes").GetProperty("p").GetString());
                break;
        }
    }

    [Theory]
    [InlineData(EventFormat.Csv)]
    [InlineData(EventFormat.Npy)]
    [InlineData(EventFormat.Hdf5)]
    public void Writing_allocates_nothing_per_event(EventFormat format)
    {
        const int batches = 48;
        using var batch = new EventBatch(1 << 16);
        var rng = new Random(3);
        for (int i = 0; i < batch.Capacity; i++)
        {
            batch.Add(1_600_000_000_000_000 + i, rng.Next(640), rng.Next(480), rng.Next(2) == 1);
        }

        string path = Path.Combine(_dir, "big." + EventWriters.Extension(format));
        long allocated;
        using (IEventWriter writer = EventWriters.Create(format, path, new SensorGeometry(640, 480), eventCount: (long)batches * batch.Count))
        {
            writer.Write(batch); // first use: pools, lazy initialisation
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int b = 1; b < batches; b++)
            {
                writer.Write(batch);
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        long events = (batches - 1L) * batch.Count;
        Assert.True(allocated < events / 8, $"{format}: {allocated:N0} bytes allocated writing {events:N0} events");
        long length = new FileInfo(path).Length, all = (long)batches * batch.Count;
        Assert.True(
            format switch { EventFormat.Npy => length == NpyWriter.HeaderBytes + (13L * all), EventFormat.Hdf5 => length >= 13L * all, _ => length >= 8L * all },
            $"{format}: {length:N0} bytes for {all:N0} events");
    }

    private static void WriteBatches(IEventWriter writer, DvsEvent[] events, int[] cuts)
    {
        using var batch = new EventBatch(Math.Max(1, events.Length));
        int start = 0;
        foreach (int cut in cuts.Append(events.Length))
        {
            batch.Clear();
            for (int i = start; i < Math.Max(start, cut); i++)
            {
                batch.Add(events[i]);
            }

            writer.Write(batch);
            start = Math.Max(start, cut);
        }
    }

    /// <summary>The NPY 1.0 header read by its specification: magic, version, little-endian length, the dict ending in LF.</summary>
    private static (string Dict, int DataStart) ParseNpyHeader(byte[] file)
    {
        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0], file[..8]);
        int length = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8));
        string dict = Encoding.ASCII.GetString(file, 10, length);
        Assert.EndsWith("\n", dict, StringComparison.Ordinal);
        return (dict.TrimEnd(), 10 + length);
    }

    /// <summary>A write-only stream that cannot seek (a pipe).</summary>
    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}
