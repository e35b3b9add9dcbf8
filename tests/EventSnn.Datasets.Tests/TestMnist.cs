using System.Buffers.Binary;

namespace EventSnn.Datasets.Tests;

/// <summary>Writes small IDX files of synthetic 28 x 28 "digits" (a bar at a digit-dependent angle) for tests.</summary>
internal static class TestMnist
{
    public static string Write(string folder, int perDigit)
    {
        Directory.CreateDirectory(folder);
        foreach (string prefix in new[] { "train", "t10k" })
        {
            int n = perDigit * 10;
            var images = new byte[16 + (n * 784)];
            BinaryPrimitives.WriteInt32BigEndian(images, 0x803);
            BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), n);
            BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), 28);
            BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), 28);
            var labels = new byte[8 + n];
            BinaryPrimitives.WriteInt32BigEndian(labels, 0x801);
            BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), n);
            for (int i = 0; i < n; i++)
            {
                int digit = i % 10;
                labels[8 + i] = (byte)digit;
                double angle = digit * Math.PI / 10;
                for (int y = 0; y < 28; y++)
                {
                    for (int x = 0; x < 28; x++)
                    {
                        double dx = x - 13.5, dy = y - 13.5;
                        double along = (dx * Math.Cos(angle)) + (dy * Math.Sin(angle));
                        double across = (-dx * Math.Sin(angle)) + (dy * Math.Cos(angle));
                        if (Math.Abs(across) < 2 + (i / 10 % 2) && Math.Abs(along) < 10)
                        {
                            images[16 + (i * 784) + (y * 28) + x] = 255;
                        }
                    }
                }
            }

            File.WriteAllBytes(Path.Combine(folder, prefix + "-images-idx3-ubyte"), images);
            File.WriteAllBytes(Path.Combine(folder, prefix + "-labels-idx1-ubyte"), labels);
        }

        return folder;
    }
}

/// <summary>A temporary folder deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "eventsnn-datasets-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
