using EventSnn.Transforms;

namespace EventSnn.Datasets.Mnist;

/// <summary>
/// One MNIST digit as the pixel sequence of sequential MNIST (S-MNIST) as the LTC-SNN paper feeds
/// it: one step per pixel (784 for 28 x 28), a single dense input per step holding the intensity
/// / 255 in [0, 1]; for PS-MNIST the pixels are taken in a fixed permuted order. With
/// <c>pixelsPerStep</c> &gt; 1 each step reads that many consecutive pixels of the sequence as
/// that many inputs (28 = the row-by-row variant: 28 steps of 28 inputs). Stored as the image's
/// bytes in sequence order plus the non-zero pixels of each step; a dark pixel (0) is an inactive
/// input of the sparse <see cref="ILabelledSequence"/> view, which the trainer densifies to 0.
/// </summary>
public sealed class PixelSequence : ILabelledSequence
{
    private static readonly float[] Levels = CreateLevels();
    private readonly byte[] _pixels;
    private readonly int[] _starts;
    private readonly int[] _active;
    private readonly float[] _values;

    /// <summary>Creates the sequence from the pixels in sequence order, <paramref name="pixelsPerStep"/> pixels per step.</summary>
    public PixelSequence(byte[] pixelsInOrder, int label, int pixelsPerStep = 1)
    {
        ArgumentNullException.ThrowIfNull(pixelsInOrder);
        if (pixelsInOrder.Length == 0)
        {
            throw new ArgumentException("a pixel sequence needs at least one pixel", nameof(pixelsInOrder));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(label);
        ArgumentOutOfRangeException.ThrowIfLessThan(pixelsPerStep, 1);
        if (pixelsInOrder.Length % pixelsPerStep != 0)
        {
            throw new ArgumentException($"{pixelsInOrder.Length} pixels do not split into steps of {pixelsPerStep}", nameof(pixelsPerStep));
        }

        _pixels = pixelsInOrder;
        Label = label;
        Features = pixelsPerStep;
        Steps = pixelsInOrder.Length / pixelsPerStep;
        int nonZeros = 0;
        foreach (byte p in pixelsInOrder)
        {
            nonZeros += p != 0 ? 1 : 0;
        }

        NonZeros = nonZeros;
        _starts = new int[Steps + 1];
        _active = new int[nonZeros];
        _values = new float[nonZeros];
        int k = 0;
        for (int step = 0; step < Steps; step++)
        {
            _starts[step] = k;
            for (int f = 0; f < pixelsPerStep; f++)
            {
                byte p = pixelsInOrder[(step * pixelsPerStep) + f];
                if (p != 0)
                {
                    _active[k] = f;
                    _values[k++] = Levels[p];
                }
            }
        }

        _starts[Steps] = k;
    }

    /// <inheritdoc/>
    public int Steps { get; }

    /// <summary>Inputs per step: the pixels each step reads.</summary>
    public int Features { get; }

    /// <inheritdoc/>
    public int Label { get; }

    /// <inheritdoc/>
    public int NonZeros { get; }

    /// <summary>The 8-bit pixel at position <paramref name="position"/> of the sequence order.</summary>
    public byte PixelAt(int position) => _pixels[position];

    /// <summary>The input value of the pixel at position <paramref name="position"/>: intensity / 255.</summary>
    public float ValueAt(int position) => Levels[_pixels[position]];

    /// <inheritdoc/>
    public ReadOnlySpan<int> ActiveAt(int step) => _active.AsSpan(_starts[step], _starts[step + 1] - _starts[step]);

    /// <inheritdoc/>
    public ReadOnlySpan<float> ValuesAt(int step) => _values.AsSpan(_starts[step], _starts[step + 1] - _starts[step]);

    /// <summary>
    /// The pixel sequences of the first <paramref name="count"/> images of <paramref name="set"/>:
    /// row-major order (S-MNIST), or position t reading pixel <paramref name="permutation"/>[t] (PS-MNIST),
    /// <paramref name="pixelsPerStep"/> positions per step.
    /// </summary>
    public static PixelSequence[] FromSet(MnistSet set, int count, int[]? permutation = null, int pixelsPerStep = 1)
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

            result[i] = new PixelSequence(ordered, set.Labels[i], pixelsPerStep);
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
