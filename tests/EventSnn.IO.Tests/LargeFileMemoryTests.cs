using System.Buffers.Binary;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.IO.Tests;

[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public sealed class MemoryMeasurement
{
}

/// <summary>
/// Decoding is streaming: a 2 GiB recording (generated on the fly, never held) decodes with
/// a constant amount of managed allocation and without the resident set growing.
/// </summary>
[Collection(nameof(MemoryMeasurement))]
public class LargeFileMemoryTests
{
    private const long TwoGiB = 2L << 30;

    [Fact]
    public void Two_gigabyte_evt2_stream_decodes_in_constant_memory()
    {
        using var stream = new SyntheticEvt2Stream(TwoGiB);
        GC.Collect();
        long rssBefore = ReadStatusKb("VmRSS") * 1024;
        ResetPeakRss();
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        long events = 0;
        using (var reader = new Evt2Reader(stream, "synthetic-2GiB.raw", new ReaderOptions { BufferBytes = 1 << 20 }, leaveOpen: true))
        using (var batch = new EventBatch(1 << 16))
        {
            while (reader.Read(batch))
            {
                events += batch.Count;
            }

            Assert.Equal(stream.Length, reader.Position);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        long peakRss = ReadStatusKb("VmHWM") * 1024;

        Assert.Equal(stream.Events, events);
        Assert.True(events > 500_000_000, $"{events} events");
        // Managed allocation does not depend on the file size (buffers are pooled).
        Assert.True(allocated < 8L << 20, $"allocated {allocated / 1e6:F1} MB while decoding 2 GiB");
        if (OperatingSystem.IsLinux() && rssBefore > 0)
        {
            Assert.True(peakRss - rssBefore < 100L << 20, $"resident set grew by {(peakRss - rssBefore) / 1e6:F0} MB (before {rssBefore / 1e6:F0} MB, peak {peakRss / 1e6:F0} MB)");
        }
    }

    private static long ReadStatusKb(string key)
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(key.Length + 1).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    private static void ResetPeakRss()
    {
        if (OperatingSystem.IsLinux())
        {
            // "5" resets the peak resident set size (VmHWM) of the process.
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
    }

    /// <summary>An EVT 2.0 recording of a given length produced on the fly: a header, then TIME_HIGH every 32 words and CD events between.</summary>
    private sealed class SyntheticEvt2Stream : Stream
    {
        private static readonly byte[] Header = "% evt 2.0\n% geometry 640x480\n% end\n"u8.ToArray();
        private readonly long _length;
        private long _position;

        public SyntheticEvt2Stream(long length)
        {
            _length = Header.Length + ((length - Header.Length) / 4 * 4);
        }

        public long Events
        {
            get
            {
                long words = (_length - Header.Length) / 4;
                return words - ((words + 31) / 32);
            }
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => _length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int written = 0;
            while (written < buffer.Length && _position < _length)
            {
                if (_position < Header.Length)
                {
                    int n = (int)Math.Min(buffer.Length - written, Header.Length - _position);
                    Header.AsSpan((int)_position, n).CopyTo(buffer[written..]);
                    written += n;
                    _position += n;
                    continue;
                }

                if (buffer.Length - written < 4)
                {
                    break;
                }

                long word = (_position - Header.Length) / 4;
                uint value;
                if (word % 32 == 0)
                {
                    value = (0x8u << 28) | (uint)((word / 32) & 0x0FFF_FFFF);
                }
                else
                {
                    uint x = (uint)(word % 640), y = (uint)((word / 640) % 480), low = (uint)(word % 64);
                    value = ((uint)(word & 1) << 28) | (low << 22) | (x << 11) | y;
                }

                BinaryPrimitives.WriteUInt32LittleEndian(buffer[written..], value);
                written += 4;
                _position += 4;
            }

            return written;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
