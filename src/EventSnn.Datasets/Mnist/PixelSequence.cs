using EventSnn.Snn.Classification;

namespace EventSnn.Datasets.Mnist;

/// <summary>
/// One MNIST digit as the pixel sequence of sequential MNIST (S-MNIST) as the LTC-SNN paper feeds
/// it: one step per pixel (784 for 28 x 28), a single dense input per step holding the intensity
/// / 255 in [0, 1]; for PS-MNIST the pixels are taken in a fixed permuted order. Stored as the
/// image's bytes in sequence order (one byte per step); a dark pixel (0) is an inactive step of
/// the sparse <see cref="ILabelledSequence"/> view, which the trainer densifies to 0.
/// </summary>
public sealed class PixelSequence : ILabelledSequence
{
    private static readonly float[] Levels = CreateLevels();
    private static readonly int[] FirstFeature = [0];
    private readonly byte[] _pixels;

    /// <summary>Creates the sequence from the pixels in sequence order.</summary>
    public PixelSequence(byte[] pixelsInOrder, int label)
    {
        ArgumentNullException.ThrowIfNull(pixelsInOrder);
        if (pixelsInOrder.Length == 0)
        {
            throw new ArgumentException("a pixel sequence needs at least one pixel", nameof(pixelsInOrder));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(label);
        _pixels = pixelsInOrder;
        Label = label;
        int nonZeros = 0;
        foreach (byte p in pixelsInOrder)
        {
            nonZeros += p != 0 ? 1 : 0;
        }

        NonZeros = nonZeros;
    }

    /// <inheritdoc/>
    public int Steps => _pixels.Length;

    /// <inheritdoc/>
    public int Features => 1;

    /// <inheritdoc/>
    public int Label { get; }

    /// <inheritdoc/>
    public int NonZeros { get; }

    /// <summary>The 8-bit pixel of step <paramref name="step"/>.</summary>
    public byte PixelAt(int step) => _pixels[step];

    /// <summary>The input value of step <paramref name="step"/>: intensity / 255.</summary>
    public float ValueAt(int step) => Levels[_pixels[step]];

    /// <inheritdoc/>
    public ReadOnlySpan<int> ActiveAt(int step) => _pixels[step] == 0 ? [] : FirstFeature;

    /// <inheritdoc/>
    public ReadOnlySpan<float> ValuesAt(int step)
    {
        byte p = _pixels[step];
        return p == 0 ? [] : Levels.AsSpan(p, 1);
    }

    /// <summary>
    /// The pixel sequences of the first <paramref name="count"/> images of <paramref name="set"/>:
    /// row-major order (S-MNIST), or step t reading pixel <paramref name="permutation"/>[t] (PS-MNIST).
    /// </summary>
    public static PixelSequence[] FromSet(MnistSet set, int count, int[]? permutation = null)
    {
        ArgumentNullException.ThrowIfNull(set);
        int pixels = set.Rows * set.Columns;
        if (permutation is not null)
        {
            CheckPermutation(permutation, pixels);
        }

        count = Math.Min(count, set.Count);
        var result = new PixelSequence[count];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> image = set.Image(i);
            var ordered = new byte[pixels];
            for (int t = 0; t < pixels; t++)
            {
                ordered[t] = image[permutation is null ? t : permutation[t]];
            }

            result[i] = new PixelSequence(ordered, set.Labels[i]);
        }

        return result;
    }

    /// <summary>Throws when <paramref name="permutation"/> is not a bijection of 0..<paramref name="pixels"/>-1.</summary>
    public static void CheckPermutation(int[] permutation, int pixels)
    {
        ArgumentNullException.ThrowIfNull(permutation);
        if (permutation.Length != pixels)
        {
            throw new ArgumentException($"the permutation has {permutation.Length} entries for {pixels} pixels", nameof(permutation));
        }

        var seen = new bool[pixels];
        foreach (int p in permutation)
        {
            if ((uint)p >= (uint)pixels || seen[p])
            {
                throw new ArgumentException($"the permutation is not a bijection of 0..{pixels - 1} (entry {p})", nameof(permutation));
            }

            seen[p] = true;
        }
    }

    private static float[] CreateLevels()
    {
        var levels = new float[256];
        for (int i = 0; i < levels.Length; i++)
        {
            levels[i] = i / 255f;
        }

        return levels;
    }
}
