using EventSnn.Snn;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn.Tests;

/// <summary>The float SIMD kernels (register-blocked, with remainders) against naive double loops.</summary>
public class KernelTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 256, 512)]
    [InlineData(3, 7, 13)]
    [InlineData(64, 128, 256)]
    [InlineData(5, 9, 40)]
    [InlineData(2, 4, 8)]
    [InlineData(1, 13, 47)]
    [InlineData(3, 9, 33)]
    [InlineData(2, 5, 100)]
    public void MatMulABt_matches_reference(int m, int n, int k)
    {
        var rng = new SnnRandom(m * 1000 + n * 10 + k);
        int lda = k + 3;
        int ldw = k + 1;
        int ldc = n + 2;
        float[] a = Random(rng, m * lda);
        float[] w = Random(rng, n * ldw);
        float[] c = Random(rng, m * ldc);
        float[] c0 = (float[])c.Clone();
        Kernels.MatMulABt<float>(a, lda, w, ldw, c, ldc, m, n, k, accumulate: true);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = c0[(i * ldc) + j];
                for (int p = 0; p < k; p++)
                {
                    s += (double)a[(i * lda) + p] * w[(j * ldw) + p];
                }

                Assert.Equal(s, c[(i * ldc) + j], 1e-4 * Math.Sqrt(k));
            }

            // padding between rows untouched
            for (int j = n; j < ldc && (i * ldc) + j < c.Length; j++)
            {
                Assert.Equal(c0[(i * ldc) + j], c[(i * ldc) + j]);
            }
        }

        Kernels.MatMulABt<float>(a, lda, w, ldw, c, ldc, m, n, k, accumulate: false);
        double s00 = 0;
        for (int p = 0; p < k; p++)
        {
            s00 += (double)a[p] * w[p];
        }

        Assert.Equal(s00, c[0], 1e-4 * Math.Sqrt(k));
    }

    [Theory]
    [InlineData(1, 256, 256, false)]
    [InlineData(64, 128, 128, false)]
    [InlineData(3, 5, 37, false)]
    [InlineData(128, 1280, 256, true)]
    [InlineData(7, 11, 50, true)]
    [InlineData(4, 3, 24, true)]
    [InlineData(9, 10, 512, true)]
    [InlineData(6, 2, 5, true)]
    [InlineData(1, 7, 200, false)]
    [InlineData(3, 6, 77, false)]
    [InlineData(2, 3, 150, false)]
    public void AddProduct_matches_reference_in_both_layouts(int rows, int inner, int cols, bool transposedG)
    {
        var rng = new SnnRandom(rows * 7 + inner * 3 + cols);
        int ldb = cols + 5;
        int ldd = cols + 1;
        int gsr = transposedG ? 1 : inner + 2;
        int gsq = transposedG ? rows + 3 : 1;
        int gLen = ((rows - 1) * gsr) + ((inner - 1) * gsq) + 1;
        float[] g = Random(rng, gLen);
        float[] b = Random(rng, inner * ldb);
        float[] d = Random(rng, rows * ldd);
        float[] d0 = (float[])d.Clone();
        Kernels.AddProduct<float>(g, gsr, gsq, b, ldb, d, ldd, rows, inner, cols);
        for (int r = 0; r < rows; r++)
        {
            for (int p = 0; p < cols; p++)
            {
                double s = d0[(r * ldd) + p];
                for (int q = 0; q < inner; q++)
                {
                    s += (double)g[(r * gsr) + (q * gsq)] * b[(q * ldb) + p];
                }

                Assert.Equal(s, d[(r * ldd) + p], 1e-4 * Math.Sqrt(inner));
            }

            if (r < rows - 1)
            {
                Assert.Equal(d0[(r * ldd) + cols], d[(r * ldd) + cols]);
            }
        }
    }

    [Fact]
    public void Kernels_reject_buffers_that_are_too_short()
    {
        float[] a = new float[10];
        float[] w = new float[10];
        float[] c = new float[10];
        Assert.Throws<ArgumentException>(() => Kernels.MatMulABt<float>(a, 5, w, 5, c, 5, 3, 2, 5, false));
        Assert.Throws<ArgumentException>(() => Kernels.AddProduct<float>(a, 5, 1, w, 5, c, 5, 3, 5, 5));
    }

    [Fact]
    public void Transpose_and_sum_of_squares()
    {
        float[] src = [1, 2, 3, 4, 5, 6];
        float[] dst = new float[6];
        Kernels.Transpose<float>(src, 2, 3, dst);
        Assert.Equal([1f, 4, 2, 5, 3, 6], dst);
        var big = new float[3000];
        Array.Fill(big, 0.5f);
        Assert.Equal(750.0, Kernels.SumOfSquares<float>(big), 6);
        big[2999] = float.NaN;
        Assert.True(double.IsNaN(Kernels.SumOfSquares<float>(big)));
    }

    /// <summary>The register-tiled path (rows and columns multiples of 8, tiles of 64 with partial edge tiles) moves every element to its place.</summary>
    [Theory]
    [InlineData(8, 8)]
    [InlineData(24, 40)]
    [InlineData(72, 136)]
    [InlineData(256, 2048)]
    public void Tiled_transpose_equals_the_definition(int rows, int cols)
    {
        float[] src = Random(new SnnRandom(rows + cols), rows * cols);
        float[] dst = new float[rows * cols];
        Kernels.Transpose<float>(src, rows, cols, dst);
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                Assert.Equal(src[(r * cols) + c], dst[(c * rows) + r]);
            }
        }

        float[] back = new float[rows * cols];
        Kernels.Transpose<float>(dst, cols, rows, back);
        Assert.Equal(src, back);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(16, 5)]
    [InlineData(129, 40)]
    [InlineData(256, 512)]
    [InlineData(300, 17)]
    [InlineData(520, 9)]
    public void AddVecMatT_is_one_fma_chain_per_output_in_input_order(int n, int k)
    {
        // every output, whichever vector width or remainder loop computes it, is the scalar FMA chain
        var rng = new SnnRandom(n + (k * 1000));
        float[] x = Random(rng, k);
        float[] wt = Random(rng, k * n);
        float[] c = Random(rng, n + 3);
        float[] c0 = (float[])c.Clone();
        Kernels.AddVecMatT<float>(x, wt, c, n, k);
        for (int j = 0; j < n; j++)
        {
            float s = c0[j];
            double d = c0[j];
            for (int p = 0; p < k; p++)
            {
                s = MathF.FusedMultiplyAdd(x[p], wt[(p * n) + j], s);
                d += (double)x[p] * wt[(p * n) + j];
            }

            Assert.Equal(s, c[j]);
            Assert.Equal(d, c[j], 1e-4 * Math.Sqrt(k));
        }

        for (int j = n; j < c.Length; j++)
        {
            Assert.Equal(c0[j], c[j]);
        }

        Assert.Throws<ArgumentException>(() => Kernels.AddVecMatT<float>(x, wt.AsSpan(1), c, n, k));
    }

    [Theory]
    [InlineData(1, 4, 0)]
    [InlineData(7, 10, 3)]
    [InlineData(16, 50, 41)]
    [InlineData(200, 30, 12)]
    [InlineData(256, 2048, 41)]
    [InlineData(130, 64, 64)]
    public void AddRows_equals_adding_the_rows_one_after_another(int n, int rows, int count)
    {
        var rng = new SnnRandom(n + rows + count);
        float[] m = Random(rng, rows * n);
        int[] idx = new int[count];
        for (int i = 0; i < count; i++)
        {
            idx[i] = (int)(rng.NextDouble() * rows);
        }

        float[] c = Random(rng, n + 2);
        float[] expected = (float[])c.Clone();
        foreach (int r in idx)
        {
            for (int j = 0; j < n; j++)
            {
                expected[j] += m[(r * n) + j];
            }
        }

        Kernels.AddRows<float>(idx, m, c, n);
        Assert.Equal(expected, c);
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.AddRows<float>([rows], m, c, n));
    }

    private static float[] Random(SnnRandom rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = (float)rng.NextDouble(-1, 1);
        }

        return a;
    }
}
