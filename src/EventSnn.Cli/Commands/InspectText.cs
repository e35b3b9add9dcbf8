using System.Globalization;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Cli.Commands;

/// <summary>
/// The human view of <c>eventsnn inspect</c>: names instead of codes, values with the unit they are
/// in, durations and rates in a readable unit. The JSON view keeps the raw fields.
/// </summary>
internal static class InspectText
{
    /// <summary>The format's short name and what it is, e.g. <c>aedat4 (AEDAT 4.0)</c>.</summary>
    public static string FormatTitle(EventFormat format) => format switch
    {
        EventFormat.Aedat2 => "aedat2 (jAER AEDAT 1.0/2.0)",
        EventFormat.Aedat3 => "aedat3 (AEDAT 3.1)",
        EventFormat.Aedat4 => "aedat4 (AEDAT 4.0)",
        EventFormat.Evt2 => "evt2 (Prophesee EVT 2.0)",
        EventFormat.Evt21 => "evt21 (Prophesee EVT 2.1)",
        EventFormat.Evt3 => "evt3 (Prophesee EVT 3.0)",
        EventFormat.Dat => "dat (Prophesee DAT)",
        EventFormat.NMnist => "nmnist (N-MNIST / N-Caltech101 binary)",
        EventFormat.Nas => "nas (NAS audio AEDAT)",
        EventFormat.Shd => "shd (SHD/SSC HDF5)",
        _ => EventFormats.Name(format),
    };

    /// <summary>As <see cref="FormatTitle(EventFormat)"/>, with the version a reader found (AEDAT 1.0 vs 2.0).</summary>
    public static string FormatTitle(IEventReader reader) => reader is Aedat2Reader a2
        ? $"aedat2 (jAER AEDAT {a2.Version})"
        : FormatTitle(reader.Format);

    /// <summary>The codec's name for people: none, LZ4, LZ4 (high compression), zstd, zstd (high compression).</summary>
    public static string CodecName(Aedat4Compression c) => c switch
    {
        Aedat4Compression.None => "none",
        Aedat4Compression.Lz4 => "LZ4",
        Aedat4Compression.Lz4High => "LZ4 (high compression)",
        Aedat4Compression.Zstd => "zstd",
        Aedat4Compression.ZstdHigh => "zstd (high compression)",
        _ => $"unknown ({(int)c})",
    };

    /// <summary>The codec's name for JSON: none, lz4, lz4_high, zstd, zstd_high (the same words as <c>convert --compression</c>).</summary>
    public static string CodecKey(Aedat4Compression c) => c switch
    {
        Aedat4Compression.None => "none",
        Aedat4Compression.Lz4 => "lz4",
        Aedat4Compression.Lz4High => "lz4_high",
        Aedat4Compression.Zstd => "zstd",
        Aedat4Compression.ZstdHigh => "zstd_high",
        _ => "unknown",
    };

    /// <summary>Events per second over <paramref name="durationUs"/>, or null (JSON null) when no time passed.</summary>
    public static double? RateOrNull(long events, long durationUs) => durationUs > 0 ? events / (durationUs / 1e6) : null;

    /// <summary><c>346 x 260 (from the file header)</c> or inferred from the largest addresses.</summary>
    public static void AddSensor(List<(string, string)> text, SensorGeometry g, bool inferred, string source = "from the file header")
    {
        text.Add(("sensor", string.Create(CultureInfo.InvariantCulture, $"{g.Width} x {g.Height} pixels ({(inferred ? "inferred from the largest x and y" : source)})")));
    }

    /// <summary>Counts with ON/OFF, first and last timestamp, duration and rate.</summary>
    public static void AddEvents(List<(string, string)> text, long events, long on, long tFirst, long tLast, long durationUs, string noun)
    {
        string split = events == 0
            ? string.Empty
            : string.Create(CultureInfo.InvariantCulture, $" (ON {Count(on)} = {on / (double)events:P1}, OFF {Count(events - on)})");
        text.Add((noun, Count(events) + split));
        if (events == 0)
        {
            return;
        }

        text.Add(("first timestamp", Timestamp(tFirst)));
        text.Add(("last timestamp", Timestamp(tLast)));
        text.Add(("duration", Duration(durationUs)));
        text.Add(("event rate", durationUs > 0 ? Rate(events / (durationUs / 1e6)) + $" {noun}/s" : "- (all at one timestamp)"));
    }

    /// <summary>A count with thousands separators.</summary>
    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>
    /// A timestamp in microseconds, with its value in seconds; Unix-epoch times (after 2001) also as a UTC date.
    /// </summary>
    public static string Timestamp(long us)
    {
        string raw = Count(us) + " us";
        if (us >= 1_000_000_000_000_000L && us < 4_102_444_800_000_000L)
        {
            DateTime utc = DateTime.UnixEpoch.AddTicks(us * 10);
            return $"{raw} ({utc.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)} UTC)";
        }

        return us >= 1_000_000 || us <= -1_000_000
            ? string.Create(CultureInfo.InvariantCulture, $"{raw} ({us / 1e6:0.######} s)")
            : raw;
    }

    /// <summary>A duration in the unit that reads best: us, ms, s, min, h.</summary>
    public static string Duration(long us)
    {
        var inv = CultureInfo.InvariantCulture;
        if (us < 1_000)
        {
            return string.Create(inv, $"{us} us");
        }

        if (us < 100_000)
        {
            return string.Create(inv, $"{us / 1e3:0.##} ms");
        }

        double s = us / 1e6;
        if (s < 120)
        {
            return string.Create(inv, $"{s:0.##} s");
        }

        long whole = (long)Math.Round(s);
        if (whole < 3600)
        {
            return string.Create(inv, $"{whole / 60} min {whole % 60} s");
        }

        return string.Create(inv, $"{whole / 3600} h {whole % 3600 / 60} min {whole % 60} s");
    }

    /// <summary>A rate with an SI prefix: 950, 12.3 k, 1.23 M, 2.5 G.</summary>
    public static string Rate(double perSecond)
    {
        var inv = CultureInfo.InvariantCulture;
        return perSecond switch
        {
            >= 1e9 => string.Create(inv, $"{perSecond / 1e9:0.##} G"),
            >= 1e6 => string.Create(inv, $"{perSecond / 1e6:0.##} M"),
            >= 1e3 => string.Create(inv, $"{perSecond / 1e3:0.##} k"),
            _ => perSecond.ToString("G3", inv),
        };
    }

    /// <summary>A size in bytes, B / KiB / MiB / GiB, with the exact count above 1 KiB.</summary>
    public static string Bytes(long bytes)
    {
        var inv = CultureInfo.InvariantCulture;
        return bytes switch
        {
            >= 1L << 30 => string.Create(inv, $"{bytes / (double)(1L << 30):0.##} GiB ({Count(bytes)} bytes)"),
            >= 1L << 20 => string.Create(inv, $"{bytes / (double)(1L << 20):0.##} MiB ({Count(bytes)} bytes)"),
            >= 1L << 10 => string.Create(inv, $"{bytes / 1024.0:0.##} KiB ({Count(bytes)} bytes)"),
            _ => string.Create(inv, $"{bytes} bytes"),
        };
    }
}
