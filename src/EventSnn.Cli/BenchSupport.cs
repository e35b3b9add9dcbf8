using System.Diagnostics;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Cli;

/// <summary>Result of a decode benchmark.</summary>
internal readonly record struct BenchResult(EventFormat Format, long Events, long Bytes, double DecodeSeconds, double ReadSeconds, double[] DecodeSecondsEach)
{
    public double EventsPerSecond => Events / DecodeSeconds;

    public double ReadBytesPerSecond => Bytes / ReadSeconds;

    public double DecodeBytesPerSecond => Bytes / DecodeSeconds;
}

/// <summary>Measurement helpers shared by the bench commands.</summary>
internal static class BenchSupport
{
    /// <summary>Pins the process to one core (the benchmarks' "one core" condition); returns the previous affinity mask.</summary>
    public static IntPtr PinToOneCore() => PinToCores(1);

    /// <summary>
    /// Pins the process, and on Linux the calling thread too, to the first <paramref name="cores"/>
    /// cores; returns the previous affinity mask. (Linux applies the process mask to its main thread
    /// only; a command runs on another thread, and the threads it starts inherit its mask.)
    /// </summary>
    public static IntPtr PinToCores(int cores)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
        {
            try
            {
                using Process p = Process.GetCurrentProcess();
                IntPtr previous = p.ProcessorAffinity;
                var mask = new IntPtr((1L << Math.Clamp(cores, 1, 62)) - 1);
                p.ProcessorAffinity = mask;
                SetThreadAffinity(mask);
                return previous;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not permitted: measure unpinned
            }
        }

        return IntPtr.Zero;
    }

    /// <summary>Restores an affinity mask returned by <see cref="PinToOneCore"/>.</summary>
    public static void RestoreAffinity(IntPtr mask)
    {
        if (mask != IntPtr.Zero && (OperatingSystem.IsLinux() || OperatingSystem.IsWindows()))
        {
            using Process p = Process.GetCurrentProcess();
            p.ProcessorAffinity = mask;
            SetThreadAffinity(mask);
        }
    }

    /// <summary>Linux: sched_setaffinity of the calling thread (best effort; a refusal leaves it unpinned).</summary>
    private static void SetThreadAffinity(IntPtr mask)
    {
        if (OperatingSystem.IsLinux())
        {
            ulong bits = (ulong)mask.ToInt64();
            _ = SchedSetAffinity(0, sizeof(ulong), ref bits);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static extern int SchedSetAffinity(int pid, nint size, ref ulong mask);

    /// <summary>Peak resident set size of this process (Linux VmHWM; elsewhere the peak working set).</summary>
    public static long PeakRssBytes()
    {
        if (OperatingSystem.IsLinux())
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }

        using Process p = Process.GetCurrentProcess();
        return p.PeakWorkingSet64;
    }

    /// <summary>Plain read of the file (1 MiB reads to the end): seconds taken.</summary>
    public static double PlainRead(string path)
    {
        byte[] buffer = new byte[1 << 20];
        var sw = Stopwatch.StartNew();
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
        {
            while (fs.Read(buffer, 0, buffer.Length) > 0)
            {
            }
        }

        return sw.Elapsed.TotalSeconds;
    }

    /// <summary>Decodes the whole file <paramref name="repeat"/> times and reads it plainly as often; reports the fastest of each.</summary>
    public static BenchResult MeasureDecode(string path, ReaderOptions options, int repeat, int batchSize)
    {
        long bytes = new FileInfo(path).Length;
        PlainRead(path); // warm the page cache
        double bestRead = double.MaxValue, bestDecode = double.MaxValue;
        long events = 0;
        EventFormat format = EventReaders.ResolveFormat(path, options);
        options = options with { Format = format, BufferBytes = Math.Max(options.BufferBytes, 4 << 20) };
        using var batch = new EventBatch(batchSize);
        using var spikes = new SpikeBatch(batchSize);
        double[] each = new double[repeat];
        for (int i = 0; i < repeat; i++)
        {
            bestRead = Math.Min(bestRead, PlainRead(path));
            var sw = Stopwatch.StartNew();
            long n = 0;
            using (IEventReader reader = EventReaders.Open(path, options))
            {
                if (reader is IDvsEventReader dvs)
                {
                    while (dvs.Read(batch))
                    {
                        n += batch.Count;
                    }
                }
                else if (reader is ISpikeReader sr)
                {
                    while (sr.Read(spikes))
                    {
                        n += spikes.Count;
                    }
                }
            }

            each[i] = sw.Elapsed.TotalSeconds;
            bestDecode = Math.Min(bestDecode, each[i]);
            events = n;
        }

        return new BenchResult(format, events, bytes, bestDecode, bestRead, each);
    }
}
