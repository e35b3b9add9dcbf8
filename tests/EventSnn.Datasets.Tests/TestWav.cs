using System.Buffers.Binary;

namespace EventSnn.Datasets.Tests;

/// <summary>Writes small WAVE files for tests.</summary>
internal static class TestWav
{
    public static byte[] Pcm16(float[] interleaved, int channels, int rate)
    {
        var data = new byte[interleaved.Length * 2];
        for (int i = 0; i < interleaved.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(i * 2), (short)Math.Clamp(MathF.Round(interleaved[i] * 32767f), -32768, 32767));
        }

        return Wrap(data, 1, channels, rate, 16);
    }

    public static byte[] Float32(float[] interleaved, int channels, int rate)
    {
        var data = new byte[interleaved.Length * 4];
        for (int i = 0; i < interleaved.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), interleaved[i]);
        }

        return Wrap(data, 3, channels, rate, 32);
    }

    public static byte[] Wrap(byte[] data, int tag, int channels, int rate, int bits)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        w.Write("RIFF"u8);
        w.Write(36 + data.Length + 12);
        w.Write("WAVE"u8);
        w.Write("LIST"u8); // an unknown chunk the reader must skip
        w.Write(4);
        w.Write("INFO"u8);
        w.Write("fmt "u8);
        w.Write(16);
        w.Write((short)tag);
        w.Write((short)channels);
        w.Write(rate);
        w.Write(rate * channels * bits / 8);
        w.Write((short)(channels * bits / 8));
        w.Write((short)bits);
        w.Write("data"u8);
        w.Write(data.Length);
        w.Write(data);
        w.Flush();
        return ms.ToArray();
    }

    public static float[] Tone(double hz, double amplitude, int rate, double seconds)
    {
        var x = new float[(int)(rate * seconds)];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(amplitude * Math.Sin(2 * Math.PI * hz * i / rate));
        }

        return x;
    }
}
