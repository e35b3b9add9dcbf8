using BenchmarkDotNet.Attributes;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Benchmarks;

/// <summary>
/// The decoders' inner loops: a file of <see cref="Events"/> synthetic events (the generator of
/// <c>eventsnn bench decode --generate</c>) held in memory and read to the end into one pooled
/// batch. Times are per event (<c>OperationsPerInvoke</c>).
/// </summary>
[MemoryDiagnoser]
public class DecodeBenchmarks
{
    /// <summary>Events per file.</summary>
    public const int Events = 1_000_000;

    private byte[] _file = [];
    private EventBatch? _batch;

    /// <summary>The format decoded ("aedat4-2threads": AEDAT 4.0 decompressing on a second thread).</summary>
    [Params("evt2", "evt3", "dat", "aedat4", "aedat4-2threads")]
    public string Format { get; set; } = "evt2";

    /// <summary>Writes the file into memory.</summary>
    [GlobalSetup]
    public void Setup()
    {
        EventFormat format = Format switch
        {
            "evt2" => EventFormat.Evt2,
            "evt3" => EventFormat.Evt3,
            "dat" => EventFormat.Dat,
            _ => EventFormat.Aedat4,
        };
        SensorGeometry geometry = format == EventFormat.Evt3 ? new SensorGeometry(1280, 720) : new SensorGeometry(640, 480);
        var generator = new SyntheticEventGenerator(geometry, eventsPerSecond: 20e6, seed: 42);
        using var stream = new MemoryStream();
        using (IEventWriter writer = EventWriters.Create(format, stream, geometry, Aedat4Compression.Lz4, triggers: false, leaveOpen: true))
        {
            using var batch = new EventBatch(1 << 16);
            for (int left = Events; left > 0; left -= batch.Count)
            {
                generator.Fill(batch, Math.Min(left, batch.Capacity));
                writer.Write(batch);
            }
        }

        _file = stream.ToArray();
        _batch = new EventBatch(1 << 16);
    }

    /// <summary>Releases the batch.</summary>
    [GlobalCleanup]
    public void Cleanup() => _batch?.Dispose();

    /// <summary>Decodes the whole file; returns the events read (checked against <see cref="Events"/>).</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long Decode()
    {
        using IEventReader reader = EventReaders.Open(new MemoryStream(_file, writable: false), "bench", new ReaderOptions { DecodeThreads = Format == "aedat4-2threads" ? 2 : 1 });
        long n = 0;
        var dvs = (IDvsEventReader)reader;
        while (dvs.Read(_batch!))
        {
            n += _batch!.Count;
        }

        return n == Events ? n : throw new InvalidOperationException($"decoded {n} of {Events} events");
    }
}
