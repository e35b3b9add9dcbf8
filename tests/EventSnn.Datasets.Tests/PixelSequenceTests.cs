using System.Buffers.Binary;
using EventSnn.Datasets.Mnist;

namespace EventSnn.Datasets.Tests;

/// <summary>The S-MNIST / PS-MNIST pixel sequences (one dense input per pixel) read from IDX files.</summary>
public class PixelSequenceTests
{
    private const int Pixels = 784;

    /// <summary>Writes an IDX image/label pair of <paramref name="count"/> 28 x 28 images with graded pixels (every value 0..255 occurs).</summary>
    private static (string Images, string Labels) WriteIdx(TempFolder dir, int count)
    {
        var images = new byte[16 + (count * Pixels)];
        BinaryPrimitives.WriteInt32BigEndian(images, 0x803);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), 28);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), 28);
        var labels = new byte[8 + count];
        BinaryPrimitives.WriteInt32BigEndian(labels, 0x801);
        BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), count);
        for (int i = 0; i < count; i++)
        {
            labels[8 + i] = (byte)((i * 3) % 10);
            for (int p = 0; p < Pixels; p++)
            {
                // a dark border (zeros, as in MNIST) around a graded interior
                int y = p / 28, x = p % 28;
                bool inside = y is >= 4 and < 24 && x is >= 4 and < 24;
                images[16 + (i * Pixels) + p] = inside ? (byte)(((p * 7) + (i * 31)) % 256) : (byte)0;
            }
        }

        string img = dir.File("img-idx3-ubyte");
        string lab = dir.File("lab-idx1-ubyte");
        File.WriteAllBytes(img, images);
        File.WriteAllBytes(lab, labels);
        return (img, lab);
    }

    [Theory]
    [InlineData(28)]
    [InlineData(4)]
    public void Several_pixels_per_step_are_that_many_inputs_in_sequence_order(int perStep)
    {
        using var dir = new TempFolder();
        (string img, string lab) = WriteIdx(dir, 2);
        MnistSet set = MnistIdx.Read(img, lab);
        PixelSequence[] seqs = PixelSequence.FromSet(set, 2, pixelsPerStep: perStep);
        for (int i = 0; i < seqs.Length; i++)
        {
            PixelSequence s = seqs[i];
            ReadOnlySpan<byte> image = set.Image(i);
            Assert.Equal(Pixels / perStep, s.Steps);
            Assert.Equal(perStep, s.Features);
            int nonZeros = 0;
            for (int step = 0; step < s.Steps; step++)
            {
                var dense = new float[perStep];
                ReadOnlySpan<int> active = s.ActiveAt(step);
                ReadOnlySpan<float> values = s.ValuesAt(step);
                Assert.Equal(active.Length, values.Length);
                for (int k = 0; k < active.Length; k++)
                {
                    Assert.True(k == 0 || active[k] > active[k - 1], "active inputs ascend");
                    dense[active[k]] = values[k];
                }

                nonZeros += active.Length;
                for (int f = 0; f < perStep; f++)
                {
                    Assert.Equal(image[(step * perStep) + f] / 255f, dense[f]); // row 'step' when 28 per step
                }
            }

            Assert.Equal(s.NonZeros, nonZeros);
        }

        Assert.Throws<ArgumentException>(() => new PixelSequence(new byte[784], 0, pixelsPerStep: 5));
    }

    [Fact]
    public void Sequences_have_784_steps_of_one_input_with_the_intensity_over_255()
    {
        using var dir = new TempFolder();
        (string img, string lab) = WriteIdx(dir, 3);
        MnistSet set = MnistIdx.Read(img, lab);
        PixelSequence[] seqs = PixelSequence.FromSet(set, 10);
        Assert.Equal(3, seqs.Length); // no more than the file holds
        for (int i = 0; i < seqs.Length; i++)
        {
            PixelSequence s = seqs[i];
            ReadOnlySpan<byte> image = set.Image(i);
            Assert.Equal(Pixels, s.Steps);
            Assert.Equal(1, s.Features);
            Assert.Equal(set.Labels[i], s.Label);
            int nonZeros = 0;
            for (int t = 0; t < Pixels; t++)
            {
                float v = s.ValueAt(t);
                Assert.InRange(v, 0f, 1f);
                Assert.Equal(image[t] / 255f, v); // row-major order, intensity / 255
                ReadOnlySpan<int> active = s.ActiveAt(t);
                ReadOnlySpan<float> values = s.ValuesAt(t);
                Assert.Equal(active.Length, values.Length);
                if (image[t] == 0)
                {
                    Assert.Equal(0, active.Length);
                }
                else
                {
                    nonZeros++;
                    Assert.Equal(0, active[0]);
                    Assert.Equal(v, values[0]);
                }
            }

            Assert.Equal(nonZeros, s.NonZeros);
            Assert.True(nonZeros > 300);
        }

        // the extremes map to 0 and 1 exactly
        var bright = new PixelSequence([0, 255, 128], 4);
        Assert.Equal(0f, bright.ValueAt(0));
        Assert.Equal(1f, bright.ValueAt(1));
        Assert.Equal(128 / 255f, bright.ValueAt(2));
        Assert.Equal(2, bright.NonZeros);
    }

    [Fact]
    public void The_permutation_is_a_fixed_bijection_and_is_applied()
    {
        int[] perm = SequentialMnist.Permutation(Pixels, 1);
        PixelSequence.CheckPermutation(perm, Pixels); // throws unless a bijection of 0..783
        int[] sorted = [.. perm.Order()];
        Assert.Equal(Enumerable.Range(0, Pixels), sorted);
        Assert.Equal(perm, SequentialMnist.Permutation(Pixels, 1)); // fixed for the seed
        Assert.NotEqual(perm, SequentialMnist.Permutation(Pixels, 2));
        Assert.True(perm.Where((p, t) => p != t).Count() > 700); // a real shuffle

        using var dir = new TempFolder();
        (string img, string lab) = WriteIdx(dir, 2);
        MnistSet set = MnistIdx.Read(img, lab);
        PixelSequence[] plain = PixelSequence.FromSet(set, 2);
        PixelSequence[] permuted = PixelSequence.FromSet(set, 2, perm);
        for (int i = 0; i < 2; i++)
        {
            ReadOnlySpan<byte> image = set.Image(i);
            bool differs = false;
            for (int t = 0; t < Pixels; t++)
            {
                Assert.Equal(image[perm[t]], permuted[i].PixelAt(t));
                Assert.Equal(image[perm[t]] / 255f, permuted[i].ValueAt(t));
                differs |= permuted[i].PixelAt(t) != plain[i].PixelAt(t);
            }

            Assert.True(differs);
            Assert.Equal(plain[i].NonZeros, permuted[i].NonZeros); // the same pixels in another order
            Assert.Equal(plain[i].Label, permuted[i].Label);
        }

        int[] notBijection = [.. perm];
        notBijection[5] = notBijection[6];
        Assert.Throws<ArgumentException>(() => PixelSequence.FromSet(set, 1, notBijection));
        Assert.Throws<ArgumentException>(() => PixelSequence.FromSet(set, 1, perm[..100]));
    }
}
