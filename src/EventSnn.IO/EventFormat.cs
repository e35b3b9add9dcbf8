namespace EventSnn.IO;

/// <summary>Event file formats EventSnn reads.</summary>
public enum EventFormat
{
    /// <summary>Not known yet: detect from content.</summary>
    Unknown = 0,
    /// <summary>jAER AEDAT 1.0/2.0 (big-endian address + timestamp).</summary>
    Aedat2,
    /// <summary>libcaer AEDAT 3.1 (packets).</summary>
    Aedat3,
    /// <summary>DV AEDAT 4.0 (FlatBuffers, compressed packets).</summary>
    Aedat4,
    /// <summary>Prophesee RAW EVT 2.0.</summary>
    Evt2,
    /// <summary>Prophesee RAW EVT 2.1.</summary>
    Evt21,
    /// <summary>Prophesee RAW EVT 3.0.</summary>
    Evt3,
    /// <summary>Prophesee DAT.</summary>
    Dat,
    /// <summary>N-MNIST / N-Caltech101 40-bit events.</summary>
    NMnist,
    /// <summary>Neuromorphic Auditory Sensor recordings (audio spikes).</summary>
    Nas,
    /// <summary>Spiking Heidelberg Digits / Spiking Speech Commands (HDF5).</summary>
    Shd,
    /// <summary>Comma-separated text: a <c>t,x,y,p</c> header, one event per line (export).</summary>
    Csv,
    /// <summary>NumPy <c>.npy</c>: a structured array t &lt;i8, x &lt;i2, y &lt;i2, p &lt;i1 as Tonic uses (export).</summary>
    Npy,
    /// <summary>HDF5 with datasets <c>events/t</c>, <c>events/x</c>, <c>events/y</c>, <c>events/p</c> (export).</summary>
    Hdf5,
}

/// <summary>Names of formats as used on the command line and in JSON output.</summary>
public static class EventFormats
{
    /// <summary>The short name (aedat2, aedat3, aedat4, evt2, evt21, evt3, dat, nmnist, nas, shd, csv, npy, hdf5).</summary>
    public static string Name(EventFormat format) => format switch
    {
        EventFormat.Aedat2 => "aedat2",
        EventFormat.Aedat3 => "aedat3",
        EventFormat.Aedat4 => "aedat4",
        EventFormat.Evt2 => "evt2",
        EventFormat.Evt21 => "evt21",
        EventFormat.Evt3 => "evt3",
        EventFormat.Dat => "dat",
        EventFormat.NMnist => "nmnist",
        EventFormat.Nas => "nas",
        EventFormat.Shd => "shd",
        EventFormat.Csv => "csv",
        EventFormat.Npy => "npy",
        EventFormat.Hdf5 => "hdf5",
        _ => "unknown",
    };

    /// <summary>Parses a short name (case-insensitive); also accepts a few common aliases.</summary>
    public static bool TryParse(string? name, out EventFormat format)
    {
        format = (name ?? string.Empty).Trim().ToLowerInvariant() switch
        {
            "aedat2" or "aedat1" or "aedat" or "jaer" => EventFormat.Aedat2,
            "aedat3" or "aedat31" or "aedat3.1" => EventFormat.Aedat3,
            "aedat4" => EventFormat.Aedat4,
            "evt2" or "evt20" or "evt2.0" => EventFormat.Evt2,
            "evt21" or "evt2.1" => EventFormat.Evt21,
            "evt3" or "evt30" or "evt3.0" => EventFormat.Evt3,
            "dat" => EventFormat.Dat,
            "nmnist" or "ncaltech" or "ncaltech101" or "bin" => EventFormat.NMnist,
            "nas" => EventFormat.Nas,
            "shd" or "ssc" => EventFormat.Shd,
            "csv" => EventFormat.Csv,
            "npy" or "numpy" => EventFormat.Npy,
            "hdf5" or "h5" => EventFormat.Hdf5,
            _ => EventFormat.Unknown,
        };
        return format != EventFormat.Unknown;
    }

    /// <summary>True for formats that carry audio spikes rather than DVS events.</summary>
    public static bool IsAudio(EventFormat format) => format is EventFormat.Nas or EventFormat.Shd;

    /// <summary>True for the export formats EventSnn writes but does not read back (CSV, NumPy, HDF5 event arrays).</summary>
    public static bool IsExportOnly(EventFormat format) => format is EventFormat.Csv or EventFormat.Npy or EventFormat.Hdf5;
}
