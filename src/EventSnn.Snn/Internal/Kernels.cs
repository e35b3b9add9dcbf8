using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EventSnn.Snn.Internal;

/// <summary>
/// Dense linear-algebra kernels on row-major spans. Each kernel has a float fast path
/// (Vector256, fused multiply-add, register blocking, no bounds checks after an up-front size
/// check) and a generic path used for double (the gradient-check tests).
/// </summary>
internal static class Kernels
{
    /// <summary>
    /// Positions and values of the non-zero entries of <paramref name="x"/>, in order, written to
    /// <paramref name="idx"/> and <paramref name="val"/>. Returns their count, or −1 as soon as
    /// there are more than <paramref name="idx"/> can hold (the caller then takes a dense path).
    /// </summary>
    public static int NonZeros<T>(ReadOnlySpan<T> x, Span<int> idx, Span<T> val)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cap = Math.Min(idx.Length, val.Length);
        int count = 0;
        int i = 0;
        if (typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated)
        {
            ReadOnlySpan<float> xf = MemoryMarshal.Cast<T, float>(x);
            ref float x0 = ref MemoryMarshal.GetReference(xf);
            for (; i + 8 <= xf.Length; i += 8)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref x0, (nuint)i);
                uint mask = ~Vector256.Equals(v, Vector256<float>.Zero).ExtractMostSignificantBits() & 0xFFu;
                while (mask != 0)
                {
                    if (count == cap)
                    {
                        return -1;
                    }

                    int j = i + BitOperations.TrailingZeroCount(mask);
                    idx[count] = j;
                    val[count++] = x[j];
                    mask &= mask - 1;
                }
            }
        }

        for (; i < x.Length; i++)
        {
            if (x[i] != T.Zero)
            {
                if (count == cap)
                {
                    return -1;
                }

                idx[count] = i;
                val[count++] = x[i];
            }
        }

        return count;
    }

    /// <summary>
    /// C[i, j] (+)= sum_p A[i, p] * W[j, p] for i &lt; m, j &lt; n, p &lt; k (C = A Wᵀ): the
    /// forward product of a batch of input rows with an [out, in] weight matrix.
    /// </summary>
    public static void MatMulABt<T>(ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> w, int ldw, Span<T> c, int ldc, int m, int n, int k, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        Check(a.Length, m, k, lda);
        Check(w.Length, n, k, ldw);
        Check(c.Length, m, n, ldc);
        if (typeof(T) == typeof(float))
        {
            MatMulABtFloat(
                MemoryMarshal.Cast<T, float>(a),
                lda,
                MemoryMarshal.Cast<T, float>(w),
                ldw,
                MemoryMarshal.Cast<T, float>(c),
                ldc,
                m,
                n,
                k,
                accumulate);
            return;
        }

        for (int i = 0; i < m; i++)
        {
            ReadOnlySpan<T> ai = a.Slice(i * lda, k);
            for (int j = 0; j < n; j++)
            {
                T s = TensorPrimitives.Dot(ai, w.Slice(j * ldw, k));
                c[(i * ldc) + j] = accumulate ? c[(i * ldc) + j] + s : s;
            }
        }
    }

    /// <summary>
    /// D[r, p] += sum_q G(r, q) * B[q, p] for r &lt; rows, q &lt; inner, p &lt; cols, where
    /// G(r, q) = g[r * gsr + q * gsq]. With gsr = ldg, gsq = 1 this is D += G B (input
    /// gradients through a weight matrix); with gsr = 1, gsq = ldg it is D += Gᵀ B (weight
    /// gradients from a batch of output gradients and inputs).
    /// </summary>
    public static void AddProduct<T>(ReadOnlySpan<T> g, int gsr, int gsq, ReadOnlySpan<T> b, int ldb, Span<T> d, int ldd, int rows, int inner, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rows == 0 || inner == 0 || cols == 0)
        {
            return;
        }

        long gLast = ((long)(rows - 1) * gsr) + ((long)(inner - 1) * gsq);
        if (gsr < 0 || gsq < 0 || gLast >= g.Length)
        {
            throw new ArgumentException("G is too short for the requested product");
        }

        Check(b.Length, inner, cols, ldb);
        Check(d.Length, rows, cols, ldd);
        if (typeof(T) == typeof(float) && rows == 1 && gsq == 1 && Vector256.IsHardwareAccelerated)
        {
            // one row (batch 1): the outputs stay in registers across all of B's rows, each summing
            // its terms in the order of q like the tiled path below
            AddVecMatTFloat(MemoryMarshal.Cast<T, float>(g), MemoryMarshal.Cast<T, float>(b), ldb, MemoryMarshal.Cast<T, float>(d), cols, inner);
            return;
        }

        if (typeof(T) == typeof(float) && gsr == 1 && rows >= 4 && Vector256.IsHardwareAccelerated)
        {
            // weight-gradient form (G stored [inner, rows]): 4 x 24 register tiles, inner blocked for L1
            int rows4 = rows & ~3;
            AddProductTransposedFloat(
                MemoryMarshal.Cast<T, float>(g),
                gsq,
                MemoryMarshal.Cast<T, float>(b),
                ldb,
                MemoryMarshal.Cast<T, float>(d),
                ldd,
                rows4,
                inner,
                cols);
            if (rows4 == rows)
            {
                return;
            }

            AddProductFloat(
                MemoryMarshal.Cast<T, float>(g)[rows4..],
                gsr,
                gsq,
                MemoryMarshal.Cast<T, float>(b),
                ldb,
                MemoryMarshal.Cast<T, float>(d)[(rows4 * ldd)..],
                ldd,
                rows - rows4,
                inner,
                cols);
            return;
        }

        if (typeof(T) == typeof(float))
        {
            AddProductFloat(
                MemoryMarshal.Cast<T, float>(g),
                gsr,
                gsq,
                MemoryMarshal.Cast<T, float>(b),
                ldb,
                MemoryMarshal.Cast<T, float>(d),
                ldd,
                rows,
                inner,
                cols);
            return;
        }

        for (int r = 0; r < rows; r++)
        {
            Span<T> dr = d.Slice(r * ldd, cols);
            for (int q = 0; q < inner; q++)
            {
                T gv = g[(r * gsr) + (q * gsq)];
                if (gv != T.Zero)
                {
                    TensorPrimitives.MultiplyAdd(b.Slice(q * ldb, cols), gv, dr, dr);
                }
            }
        }
    }

    /// <summary>
    /// c[j] += Σ_p x[p] · wt[p · n + j] for j &lt; n, p &lt; k: a vector times a matrix stored
    /// transposed ([in, out], the inference mirrors of the [out, in] weights). Each output is one
    /// fused multiply-add chain in input order, held in a register across the whole input, so the
    /// matrix is streamed once without horizontal sums.
    /// </summary>
    public static void AddVecMatT<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> wt, Span<T> c, int n, int k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Length < k || c.Length < n || wt.Length < (long)k * n)
        {
            throw new ArgumentException($"vector-matrix buffers too short: x {x.Length}/{k}, wt {wt.Length}/{(long)k * n}, c {c.Length}/{n}");
        }

        if (typeof(T) == typeof(float))
        {
            AddVecMatTFloat(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(wt), n, MemoryMarshal.Cast<T, float>(c), n, k);
            return;
        }

        for (int p = 0; p < k; p++)
        {
            T xp = x[p];
            ReadOnlySpan<T> row = wt.Slice(p * n, n);
            for (int j = 0; j < n; j++)
            {
                c[j] = T.FusedMultiplyAdd(xp, row[j], c[j]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void AddVecMatTFloat(ReadOnlySpan<float> xSpan, ReadOnlySpan<float> wSpan, int ldw, Span<float> cSpan, int n, int k)
    {
        fixed (float* x = xSpan)
        fixed (float* w = wSpan)
        fixed (float* c = cSpan)
        {
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                // 256 outputs (sixteen 16-lane chains) per pass over the rows, then 128 (eight chains:
                // still enough to cover the FMA latency)
                for (; j + 256 <= n; j += 256)
                {
                    float* cj = c + j;
                    Vector512<float> s0 = Vector512.Load(cj), s1 = Vector512.Load(cj + 16), s2 = Vector512.Load(cj + 32), s3 = Vector512.Load(cj + 48);
                    Vector512<float> s4 = Vector512.Load(cj + 64), s5 = Vector512.Load(cj + 80), s6 = Vector512.Load(cj + 96), s7 = Vector512.Load(cj + 112);
                    Vector512<float> s8 = Vector512.Load(cj + 128), s9 = Vector512.Load(cj + 144), s10 = Vector512.Load(cj + 160), s11 = Vector512.Load(cj + 176);
                    Vector512<float> s12 = Vector512.Load(cj + 192), s13 = Vector512.Load(cj + 208), s14 = Vector512.Load(cj + 224), s15 = Vector512.Load(cj + 240);
                    float* r = w + j;
                    for (int p = 0; p < k; p++, r += ldw)
                    {
                        Vector512<float> b = Vector512.Create(x[p]);
                        s0 = Fma(b, Vector512.Load(r), s0);
                        s1 = Fma(b, Vector512.Load(r + 16), s1);
                        s2 = Fma(b, Vector512.Load(r + 32), s2);
                        s3 = Fma(b, Vector512.Load(r + 48), s3);
                        s4 = Fma(b, Vector512.Load(r + 64), s4);
                        s5 = Fma(b, Vector512.Load(r + 80), s5);
                        s6 = Fma(b, Vector512.Load(r + 96), s6);
                        s7 = Fma(b, Vector512.Load(r + 112), s7);
                        s8 = Fma(b, Vector512.Load(r + 128), s8);
                        s9 = Fma(b, Vector512.Load(r + 144), s9);
                        s10 = Fma(b, Vector512.Load(r + 160), s10);
                        s11 = Fma(b, Vector512.Load(r + 176), s11);
                        s12 = Fma(b, Vector512.Load(r + 192), s12);
                        s13 = Fma(b, Vector512.Load(r + 208), s13);
                        s14 = Fma(b, Vector512.Load(r + 224), s14);
                        s15 = Fma(b, Vector512.Load(r + 240), s15);
                    }

                    s0.Store(cj);
                    s1.Store(cj + 16);
                    s2.Store(cj + 32);
                    s3.Store(cj + 48);
                    s4.Store(cj + 64);
                    s5.Store(cj + 80);
                    s6.Store(cj + 96);
                    s7.Store(cj + 112);
                    s8.Store(cj + 128);
                    s9.Store(cj + 144);
                    s10.Store(cj + 160);
                    s11.Store(cj + 176);
                    s12.Store(cj + 192);
                    s13.Store(cj + 208);
                    s14.Store(cj + 224);
                    s15.Store(cj + 240);
                }

                for (; j + 128 <= n; j += 128)
                {
                    float* cj = c + j;
                    Vector512<float> s0 = Vector512.Load(cj), s1 = Vector512.Load(cj + 16), s2 = Vector512.Load(cj + 32), s3 = Vector512.Load(cj + 48);
                    Vector512<float> s4 = Vector512.Load(cj + 64), s5 = Vector512.Load(cj + 80), s6 = Vector512.Load(cj + 96), s7 = Vector512.Load(cj + 112);
                    float* r = w + j;
                    for (int p = 0; p < k; p++, r += ldw)
                    {
                        Vector512<float> b = Vector512.Create(x[p]);
                        s0 = Fma(b, Vector512.Load(r), s0);
                        s1 = Fma(b, Vector512.Load(r + 16), s1);
                        s2 = Fma(b, Vector512.Load(r + 32), s2);
                        s3 = Fma(b, Vector512.Load(r + 48), s3);
                        s4 = Fma(b, Vector512.Load(r + 64), s4);
                        s5 = Fma(b, Vector512.Load(r + 80), s5);
                        s6 = Fma(b, Vector512.Load(r + 96), s6);
                        s7 = Fma(b, Vector512.Load(r + 112), s7);
                    }

                    s0.Store(cj);
                    s1.Store(cj + 16);
                    s2.Store(cj + 32);
                    s3.Store(cj + 48);
                    s4.Store(cj + 64);
                    s5.Store(cj + 80);
                    s6.Store(cj + 96);
                    s7.Store(cj + 112);
                }

                for (; j + 16 <= n; j += 16)
                {
                    Vector512<float> s = Vector512.Load(c + j);
                    float* r = w + j;
                    for (int p = 0; p < k; p++, r += ldw)
                    {
                        s = Fma(Vector512.Create(x[p]), Vector512.Load(r), s);
                    }

                    s.Store(c + j);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                for (; j + 64 <= n; j += 64)
                {
                    float* cj = c + j;
                    Vector256<float> s0 = Vector256.Load(cj), s1 = Vector256.Load(cj + 8), s2 = Vector256.Load(cj + 16), s3 = Vector256.Load(cj + 24);
                    Vector256<float> s4 = Vector256.Load(cj + 32), s5 = Vector256.Load(cj + 40), s6 = Vector256.Load(cj + 48), s7 = Vector256.Load(cj + 56);
                    float* r = w + j;
                    for (int p = 0; p < k; p++, r += ldw)
                    {
                        Vector256<float> b = Vector256.Create(x[p]);
                        s0 = Fma(b, Vector256.Load(r), s0);
                        s1 = Fma(b, Vector256.Load(r + 8), s1);
                        s2 = Fma(b, Vector256.Load(r + 16), s2);
                        s3 = Fma(b, Vector256.Load(r + 24), s3);
                        s4 = Fma(b, Vector256.Load(r + 32), s4);
                        s5 = Fma(b, Vector256.Load(r + 40), s5);
                        s6 = Fma(b, Vector256.Load(r + 48), s6);
                        s7 = Fma(b, Vector256.Load(r + 56), s7);
                    }

                    s0.Store(cj);
                    s1.Store(cj + 8);
                    s2.Store(cj + 16);
                    s3.Store(cj + 24);
                    s4.Store(cj + 32);
                    s5.Store(cj + 40);
                    s6.Store(cj + 48);
                    s7.Store(cj + 56);
                }

                for (; j + 8 <= n; j += 8)
                {
                    Vector256<float> s = Vector256.Load(c + j);
                    float* r = w + j;
                    for (int p = 0; p < k; p++, r += ldw)
                    {
                        s = Fma(Vector256.Create(x[p]), Vector256.Load(r), s);
                    }

                    s.Store(c + j);
                }
            }

            for (; j < n; j++)
            {
                float s = c[j];
                float* r = w + j;
                for (int p = 0; p < k; p++, r += ldw)
                {
                    s = MathF.FusedMultiplyAdd(x[p], *r, s);
                }

                c[j] = s;
            }
        }
    }

    /// <summary>
    /// c[j] += Σ_k m[rows[k] · n + j] for j &lt; n, summed in the order of <paramref name="rows"/>
    /// (the same sums as adding the rows one after another): binary inputs times a matrix stored
    /// transposed, with the outputs held in registers across all the rows.
    /// </summary>
    public static void AddRows<T>(ReadOnlySpan<int> rows, ReadOnlySpan<T> m, Span<T> c, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (c.Length < n)
        {
            throw new ArgumentException($"row sum buffer too short: {c.Length}/{n}");
        }

        long limit = m.Length / n;
        foreach (int r in rows)
        {
            if ((uint)r >= (ulong)limit)
            {
                throw new ArgumentOutOfRangeException(nameof(rows), $"row {r} outside a matrix of {limit} rows");
            }
        }

        if (typeof(T) == typeof(float))
        {
            AddRowsFloat(rows, MemoryMarshal.Cast<T, float>(m), MemoryMarshal.Cast<T, float>(c), n);
            return;
        }

        foreach (int r in rows)
        {
            TensorPrimitives.Add(c[..n], m.Slice(r * n, n), c);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void AddRowsFloat(ReadOnlySpan<int> rowSpan, ReadOnlySpan<float> mSpan, Span<float> cSpan, int n)
    {
        int count = rowSpan.Length;
        fixed (int* rows = rowSpan)
        fixed (float* m = mSpan)
        fixed (float* c = cSpan)
        {
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j + 128 <= n; j += 128)
                {
                    float* cj = c + j;
                    Vector512<float> s0 = Vector512.Load(cj), s1 = Vector512.Load(cj + 16), s2 = Vector512.Load(cj + 32), s3 = Vector512.Load(cj + 48);
                    Vector512<float> s4 = Vector512.Load(cj + 64), s5 = Vector512.Load(cj + 80), s6 = Vector512.Load(cj + 96), s7 = Vector512.Load(cj + 112);
                    for (int k = 0; k < count; k++)
                    {
                        float* r = m + ((long)rows[k] * n) + j;
                        s0 += Vector512.Load(r);
                        s1 += Vector512.Load(r + 16);
                        s2 += Vector512.Load(r + 32);
                        s3 += Vector512.Load(r + 48);
                        s4 += Vector512.Load(r + 64);
                        s5 += Vector512.Load(r + 80);
                        s6 += Vector512.Load(r + 96);
                        s7 += Vector512.Load(r + 112);
                    }

                    s0.Store(cj);
                    s1.Store(cj + 16);
                    s2.Store(cj + 32);
                    s3.Store(cj + 48);
                    s4.Store(cj + 64);
                    s5.Store(cj + 80);
                    s6.Store(cj + 96);
                    s7.Store(cj + 112);
                }

                for (; j + 16 <= n; j += 16)
                {
                    Vector512<float> s = Vector512.Load(c + j);
                    for (int k = 0; k < count; k++)
                    {
                        s += Vector512.Load(m + ((long)rows[k] * n) + j);
                    }

                    s.Store(c + j);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                for (; j + 64 <= n; j += 64)
                {
                    float* cj = c + j;
                    Vector256<float> s0 = Vector256.Load(cj), s1 = Vector256.Load(cj + 8), s2 = Vector256.Load(cj + 16), s3 = Vector256.Load(cj + 24);
                    Vector256<float> s4 = Vector256.Load(cj + 32), s5 = Vector256.Load(cj + 40), s6 = Vector256.Load(cj + 48), s7 = Vector256.Load(cj + 56);
                    for (int k = 0; k < count; k++)
                    {
                        float* r = m + ((long)rows[k] * n) + j;
                        s0 += Vector256.Load(r);
                        s1 += Vector256.Load(r + 8);
                        s2 += Vector256.Load(r + 16);
                        s3 += Vector256.Load(r + 24);
                        s4 += Vector256.Load(r + 32);
                        s5 += Vector256.Load(r + 40);
                        s6 += Vector256.Load(r + 48);
                        s7 += Vector256.Load(r + 56);
                    }

                    s0.Store(cj);
                    s1.Store(cj + 8);
                    s2.Store(cj + 16);
                    s3.Store(cj + 24);
                    s4.Store(cj + 32);
                    s5.Store(cj + 40);
                    s6.Store(cj + 48);
                    s7.Store(cj + 56);
                }

                for (; j + 8 <= n; j += 8)
                {
                    Vector256<float> s = Vector256.Load(c + j);
                    for (int k = 0; k < count; k++)
                    {
                        s += Vector256.Load(m + ((long)rows[k] * n) + j);
                    }

                    s.Store(c + j);
                }
            }

            for (; j < n; j++)
            {
                float s = c[j];
                for (int k = 0; k < count; k++)
                {
                    s += m[((long)rows[k] * n) + j];
                }

                c[j] = s;
            }
        }
    }

    /// <summary>y += alpha * x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy<T>(T alpha, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
        => TensorPrimitives.MultiplyAdd(x, alpha, y, y);

    /// <summary>
    /// dst += src and src ← 0 in one pass (the data-parallel gradient sum); returns ‖dst‖² after the
    /// addition when <paramref name="norm"/> is set (else 0).
    /// </summary>
    public static unsafe double AddAndClear(Span<float> dst, Span<float> src, bool norm)
    {
        int n = dst.Length;
        if (src.Length != n)
        {
            throw new ArgumentException("spans differ in length", nameof(src));
        }

        double sum = 0;
        fixed (float* d = dst, s = src)
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                while (i + 8 <= n)
                {
                    int end = Math.Min(n & ~7, i + 1024);
                    var acc = Vector256<float>.Zero;
                    for (; i < end; i += 8)
                    {
                        var v = Vector256.Load(d + i) + Vector256.Load(s + i);
                        v.Store(d + i);
                        Vector256<float>.Zero.Store(s + i);
                        acc = Vector256.FusedMultiplyAdd(v, v, acc);
                    }

                    sum += Vector256.Sum(acc);
                }
            }

            for (; i < n; i++)
            {
                float v = d[i] + s[i];
                d[i] = v;
                s[i] = 0;
                sum += (double)v * v;
            }
        }

        return norm ? sum : 0;
    }

    /// <summary>Sum of squares with double accumulation (NaN/Inf propagate).</summary>
    public static double SumOfSquares<T>(ReadOnlySpan<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            ReadOnlySpan<float> f = MemoryMarshal.Cast<T, float>(x);
            double total = 0;
            int i = 0;
            ref float r0 = ref MemoryMarshal.GetReference(f);
            if (Vector256.IsHardwareAccelerated)
            {
                // blocks of 1024 floats summed in float vectors, then added in double
                for (; i + 1024 <= f.Length; i += 1024)
                {
                    Vector256<float> acc0 = Vector256<float>.Zero;
                    Vector256<float> acc1 = Vector256<float>.Zero;
                    for (int p = 0; p < 1024; p += 16)
                    {
                        Vector256<float> v0 = Vector256.LoadUnsafe(ref r0, (nuint)(i + p));
                        Vector256<float> v1 = Vector256.LoadUnsafe(ref r0, (nuint)(i + p + 8));
                        acc0 = Vector256.FusedMultiplyAdd(v0, v0, acc0);
                        acc1 = Vector256.FusedMultiplyAdd(v1, v1, acc1);
                    }

                    total += Vector256.Sum(acc0 + acc1);
                }
            }

            for (; i < f.Length; i++)
            {
                double v = Unsafe.Add(ref r0, i);
                total += v * v;
            }

            return total;
        }

        double s = 0;
        foreach (T v in x)
        {
            double dv = double.CreateTruncating(v);
            s += dv * dv;
        }

        return s;
    }

    /// <summary>Sum with double accumulation.</summary>
    public static double Sum<T>(ReadOnlySpan<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double s = 0;
        foreach (T v in x)
        {
            s += double.CreateTruncating(v);
        }

        return s;
    }

    /// <summary>dst[c, r] = src[r, c] for an r x c matrix (blocked).</summary>
    public static void Transpose<T>(ReadOnlySpan<T> src, int rows, int cols, Span<T> dst)
        where T : unmanaged
    {
        const int Block = 16;
        if (src.Length < rows * cols || dst.Length < rows * cols)
        {
            throw new ArgumentException("transpose buffers too short");
        }

        if (typeof(T) == typeof(float) && Avx.IsSupported && rows % 8 == 0 && cols % 8 == 0)
        {
            TransposeFloat8(MemoryMarshal.Cast<T, float>(src), rows, cols, MemoryMarshal.Cast<T, float>(dst));
            return;
        }

        for (int r0 = 0; r0 < rows; r0 += Block)
        {
            int r1 = Math.Min(rows, r0 + Block);
            for (int c0 = 0; c0 < cols; c0 += Block)
            {
                int c1 = Math.Min(cols, c0 + Block);
                for (int r = r0; r < r1; r++)
                {
                    for (int c = c0; c < c1; c++)
                    {
                        dst[(c * rows) + r] = src[(r * cols) + c];
                    }
                }
            }
        }
    }

    /// <summary>dst[c, r] = src[r, c] for rows and cols multiples of 8: 8x8 register tiles (unpack, shuffle, lane permute) inside 64x64 cache tiles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void TransposeFloat8(ReadOnlySpan<float> srcSpan, int rows, int cols, Span<float> dstSpan)
    {
        const int Tile = 64;
        fixed (float* src = srcSpan)
        fixed (float* dst = dstSpan)
        {
            for (int r0 = 0; r0 < rows; r0 += Tile)
            {
                int r1 = Math.Min(rows, r0 + Tile);
                for (int c0 = 0; c0 < cols; c0 += Tile)
                {
                    int c1 = Math.Min(cols, c0 + Tile);
                    for (int r = r0; r < r1; r += 8)
                    {
                        for (int c = c0; c < c1; c += 8)
                        {
                            float* s = src + ((long)r * cols) + c;
                            Vector256<float> a0 = Avx.LoadVector256(s);
                            Vector256<float> a1 = Avx.LoadVector256(s + cols);
                            Vector256<float> a2 = Avx.LoadVector256(s + (2L * cols));
                            Vector256<float> a3 = Avx.LoadVector256(s + (3L * cols));
                            Vector256<float> a4 = Avx.LoadVector256(s + (4L * cols));
                            Vector256<float> a5 = Avx.LoadVector256(s + (5L * cols));
                            Vector256<float> a6 = Avx.LoadVector256(s + (6L * cols));
                            Vector256<float> a7 = Avx.LoadVector256(s + (7L * cols));
                            Vector256<float> t0 = Avx.UnpackLow(a0, a1), t1 = Avx.UnpackHigh(a0, a1);
                            Vector256<float> t2 = Avx.UnpackLow(a2, a3), t3 = Avx.UnpackHigh(a2, a3);
                            Vector256<float> t4 = Avx.UnpackLow(a4, a5), t5 = Avx.UnpackHigh(a4, a5);
                            Vector256<float> t6 = Avx.UnpackLow(a6, a7), t7 = Avx.UnpackHigh(a6, a7);
                            Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
                            Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
                            Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
                            Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
                            float* d = dst + ((long)c * rows) + r;
                            Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
                            Avx.Store(d + rows, Avx.Permute2x128(u1, u5, 0x20));
                            Avx.Store(d + (2L * rows), Avx.Permute2x128(u2, u6, 0x20));
                            Avx.Store(d + (3L * rows), Avx.Permute2x128(u3, u7, 0x20));
                            Avx.Store(d + (4L * rows), Avx.Permute2x128(u0, u4, 0x31));
                            Avx.Store(d + (5L * rows), Avx.Permute2x128(u1, u5, 0x31));
                            Avx.Store(d + (6L * rows), Avx.Permute2x128(u2, u6, 0x31));
                            Avx.Store(d + (7L * rows), Avx.Permute2x128(u3, u7, 0x31));
                        }
                    }
                }
            }
        }
    }

    private static void Check(int length, int rows, int cols, int ld)
    {
        if (ld < cols || (long)(rows - 1) * ld + cols > length)
        {
            throw new ArgumentException($"matrix buffer too short: {rows}x{cols} with leading dimension {ld} needs {((long)(rows - 1) * ld) + cols}, has {length}");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MatMulABtFloat(ReadOnlySpan<float> aSpan, int lda, ReadOnlySpan<float> wSpan, int ldw, Span<float> cSpan, int ldc, int m, int n, int k, bool accumulate)
    {
        int k8 = Vector256.IsHardwareAccelerated ? k & ~7 : 0;
        fixed (float* a = aSpan)
        fixed (float* w = wSpan)
        fixed (float* c = cSpan)
        {
            float* r = stackalloc float[8];
            int i = 0;
            for (; i + 2 <= m; i += 2)
            {
                float* a0 = a + ((long)i * lda);
                float* a1 = a0 + lda;
                float* c0 = c + ((long)i * ldc);
                float* c1 = c0 + ldc;
                int j = 0;
                for (; j + 4 <= n; j += 4)
                {
                    float* w0 = w + ((long)j * ldw);
                    float* w1 = w0 + ldw;
                    float* w2 = w1 + ldw;
                    float* w3 = w2 + ldw;
                    Vector256<float> s00 = default, s01 = default, s02 = default, s03 = default;
                    Vector256<float> s10 = default, s11 = default, s12 = default, s13 = default;
                    for (int p = 0; p < k8; p += 8)
                    {
                        Vector256<float> x0 = Vector256.Load(a0 + p);
                        Vector256<float> x1 = Vector256.Load(a1 + p);
                        Vector256<float> v = Vector256.Load(w0 + p);
                        s00 = Fma(x0, v, s00);
                        s10 = Fma(x1, v, s10);
                        v = Vector256.Load(w1 + p);
                        s01 = Fma(x0, v, s01);
                        s11 = Fma(x1, v, s11);
                        v = Vector256.Load(w2 + p);
                        s02 = Fma(x0, v, s02);
                        s12 = Fma(x1, v, s12);
                        v = Vector256.Load(w3 + p);
                        s03 = Fma(x0, v, s03);
                        s13 = Fma(x1, v, s13);
                    }

                    float r00 = Vector256.Sum(s00), r01 = Vector256.Sum(s01), r02 = Vector256.Sum(s02), r03 = Vector256.Sum(s03);
                    float r10 = Vector256.Sum(s10), r11 = Vector256.Sum(s11), r12 = Vector256.Sum(s12), r13 = Vector256.Sum(s13);
                    for (int p = k8; p < k; p++)
                    {
                        float x0 = a0[p];
                        float x1 = a1[p];
                        r00 += x0 * w0[p];
                        r01 += x0 * w1[p];
                        r02 += x0 * w2[p];
                        r03 += x0 * w3[p];
                        r10 += x1 * w0[p];
                        r11 += x1 * w1[p];
                        r12 += x1 * w2[p];
                        r13 += x1 * w3[p];
                    }

                    if (accumulate)
                    {
                        c0[j] += r00;
                        c0[j + 1] += r01;
                        c0[j + 2] += r02;
                        c0[j + 3] += r03;
                        c1[j] += r10;
                        c1[j + 1] += r11;
                        c1[j + 2] += r12;
                        c1[j + 3] += r13;
                    }
                    else
                    {
                        c0[j] = r00;
                        c0[j + 1] = r01;
                        c0[j + 2] = r02;
                        c0[j + 3] = r03;
                        c1[j] = r10;
                        c1[j + 1] = r11;
                        c1[j + 2] = r12;
                        c1[j + 3] = r13;
                    }
                }

                for (; j < n; j++)
                {
                    float* wj = w + ((long)j * ldw);
                    Vector256<float> s0 = default, s1 = default;
                    for (int p = 0; p < k8; p += 8)
                    {
                        Vector256<float> v = Vector256.Load(wj + p);
                        s0 = Fma(Vector256.Load(a0 + p), v, s0);
                        s1 = Fma(Vector256.Load(a1 + p), v, s1);
                    }

                    float r0 = Vector256.Sum(s0), r1 = Vector256.Sum(s1);
                    for (int p = k8; p < k; p++)
                    {
                        r0 += a0[p] * wj[p];
                        r1 += a1[p] * wj[p];
                    }

                    c0[j] = accumulate ? c0[j] + r0 : r0;
                    c1[j] = accumulate ? c1[j] + r1 : r1;
                }
            }

            for (; i < m; i++)
            {
                float* a0 = a + ((long)i * lda);
                float* c0 = c + ((long)i * ldc);
                int j = 0;

                // eight output rows at a time: eight independent FMA chains hide the FMA latency (each
                // output sums its terms exactly as the one-row loop below and the two-row loop above do)
                for (; j + 8 <= n; j += 8)
                {
                    float* w0 = w + ((long)j * ldw);
                    Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                    Vector256<float> s4 = default, s5 = default, s6 = default, s7 = default;
                    for (int p = 0; p < k8; p += 8)
                    {
                        Vector256<float> x0 = Vector256.Load(a0 + p);
                        float* wp = w0 + p;
                        s0 = Fma(x0, Vector256.Load(wp), s0);
                        s1 = Fma(x0, Vector256.Load(wp + ldw), s1);
                        s2 = Fma(x0, Vector256.Load(wp + (2 * ldw)), s2);
                        s3 = Fma(x0, Vector256.Load(wp + (3 * ldw)), s3);
                        s4 = Fma(x0, Vector256.Load(wp + (4 * ldw)), s4);
                        s5 = Fma(x0, Vector256.Load(wp + (5 * ldw)), s5);
                        s6 = Fma(x0, Vector256.Load(wp + (6 * ldw)), s6);
                        s7 = Fma(x0, Vector256.Load(wp + (7 * ldw)), s7);
                    }

                    r[0] = Vector256.Sum(s0);
                    r[1] = Vector256.Sum(s1);
                    r[2] = Vector256.Sum(s2);
                    r[3] = Vector256.Sum(s3);
                    r[4] = Vector256.Sum(s4);
                    r[5] = Vector256.Sum(s5);
                    r[6] = Vector256.Sum(s6);
                    r[7] = Vector256.Sum(s7);
                    for (int q = 0; q < 8; q++)
                    {
                        float* wq = w0 + ((long)q * ldw);
                        float rq = r[q];
                        for (int p = k8; p < k; p++)
                        {
                            rq += a0[p] * wq[p];
                        }

                        c0[j + q] = accumulate ? c0[j + q] + rq : rq;
                    }
                }

                for (; j < n; j++)
                {
                    float* wj = w + ((long)j * ldw);
                    Vector256<float> s0 = default;
                    for (int p = 0; p < k8; p += 8)
                    {
                        s0 = Fma(Vector256.Load(a0 + p), Vector256.Load(wj + p), s0);
                    }

                    float r0 = Vector256.Sum(s0);
                    for (int p = k8; p < k; p++)
                    {
                        r0 += a0[p] * wj[p];
                    }

                    c0[j] = accumulate ? c0[j] + r0 : r0;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void AddProductFloat(ReadOnlySpan<float> gSpan, int gsr, int gsq, ReadOnlySpan<float> bSpan, int ldb, Span<float> dSpan, int ldd, int rows, int inner, int cols)
    {
        int c64 = Vector512.IsHardwareAccelerated ? cols & ~63 : 0;
        int c32 = Vector256.IsHardwareAccelerated ? cols & ~31 : 0;
        int c8 = Vector256.IsHardwareAccelerated ? cols & ~7 : 0;
        fixed (float* g = gSpan)
        fixed (float* b = bSpan)
        fixed (float* d = dSpan)
        {
            int r = 0;
            for (; r + 2 <= rows; r += 2)
            {
                float* g0 = g + ((long)r * gsr);
                float* g1 = g0 + gsr;
                float* d0 = d + ((long)r * ldd);
                float* d1 = d0 + ldd;
                int p = 0;
                for (; p < c64; p += 64)
                {
                    // 512-bit lanes: every element still sums its terms in the order of q (results identical to the 256-bit path)
                    Vector512<float> a00 = Vector512.Load(d0 + p), a01 = Vector512.Load(d0 + p + 16), a02 = Vector512.Load(d0 + p + 32), a03 = Vector512.Load(d0 + p + 48);
                    Vector512<float> a10 = Vector512.Load(d1 + p), a11 = Vector512.Load(d1 + p + 16), a12 = Vector512.Load(d1 + p + 32), a13 = Vector512.Load(d1 + p + 48);
                    float* bq = b + p;
                    long go = 0;
                    for (int q = 0; q < inner; q++, bq += ldb, go += gsq)
                    {
                        Vector512<float> x0 = Vector512.Create(g0[go]);
                        Vector512<float> x1 = Vector512.Create(g1[go]);
                        Vector512<float> v0 = Vector512.Load(bq);
                        Vector512<float> v1 = Vector512.Load(bq + 16);
                        Vector512<float> v2 = Vector512.Load(bq + 32);
                        Vector512<float> v3 = Vector512.Load(bq + 48);
                        a00 = Fma(x0, v0, a00);
                        a01 = Fma(x0, v1, a01);
                        a02 = Fma(x0, v2, a02);
                        a03 = Fma(x0, v3, a03);
                        a10 = Fma(x1, v0, a10);
                        a11 = Fma(x1, v1, a11);
                        a12 = Fma(x1, v2, a12);
                        a13 = Fma(x1, v3, a13);
                    }

                    a00.Store(d0 + p);
                    a01.Store(d0 + p + 16);
                    a02.Store(d0 + p + 32);
                    a03.Store(d0 + p + 48);
                    a10.Store(d1 + p);
                    a11.Store(d1 + p + 16);
                    a12.Store(d1 + p + 32);
                    a13.Store(d1 + p + 48);
                }

                for (; p < c32; p += 32)
                {
                    Vector256<float> a00 = Vector256.Load(d0 + p), a01 = Vector256.Load(d0 + p + 8), a02 = Vector256.Load(d0 + p + 16), a03 = Vector256.Load(d0 + p + 24);
                    Vector256<float> a10 = Vector256.Load(d1 + p), a11 = Vector256.Load(d1 + p + 8), a12 = Vector256.Load(d1 + p + 16), a13 = Vector256.Load(d1 + p + 24);
                    float* bq = b + p;
                    long go = 0;
                    for (int q = 0; q < inner; q++, bq += ldb, go += gsq)
                    {
                        Vector256<float> x0 = Vector256.Create(g0[go]);
                        Vector256<float> x1 = Vector256.Create(g1[go]);
                        Vector256<float> v0 = Vector256.Load(bq);
                        Vector256<float> v1 = Vector256.Load(bq + 8);
                        Vector256<float> v2 = Vector256.Load(bq + 16);
                        Vector256<float> v3 = Vector256.Load(bq + 24);
                        a00 = Fma(x0, v0, a00);
                        a01 = Fma(x0, v1, a01);
                        a02 = Fma(x0, v2, a02);
                        a03 = Fma(x0, v3, a03);
                        a10 = Fma(x1, v0, a10);
                        a11 = Fma(x1, v1, a11);
                        a12 = Fma(x1, v2, a12);
                        a13 = Fma(x1, v3, a13);
                    }

                    a00.Store(d0 + p);
                    a01.Store(d0 + p + 8);
                    a02.Store(d0 + p + 16);
                    a03.Store(d0 + p + 24);
                    a10.Store(d1 + p);
                    a11.Store(d1 + p + 8);
                    a12.Store(d1 + p + 16);
                    a13.Store(d1 + p + 24);
                }

                for (; p < c8; p += 8)
                {
                    Vector256<float> a0 = Vector256.Load(d0 + p), a1 = Vector256.Load(d1 + p);
                    float* bq = b + p;
                    long go = 0;
                    for (int q = 0; q < inner; q++, bq += ldb, go += gsq)
                    {
                        Vector256<float> v = Vector256.Load(bq);
                        a0 = Fma(Vector256.Create(g0[go]), v, a0);
                        a1 = Fma(Vector256.Create(g1[go]), v, a1);
                    }

                    a0.Store(d0 + p);
                    a1.Store(d1 + p);
                }

                for (; p < cols; p++)
                {
                    float s0 = d0[p], s1 = d1[p];
                    float* bq = b + p;
                    long go = 0;
                    for (int q = 0; q < inner; q++, bq += ldb, go += gsq)
                    {
                        s0 += g0[go] * *bq;
                        s1 += g1[go] * *bq;
                    }

                    d0[p] = s0;
                    d1[p] = s1;
                }
            }

            for (; r < rows; r++)
            {
                float* g0 = g + ((long)r * gsr);
                float* d0 = d + ((long)r * ldd);
                int p = 0;
                for (; p < c32; p += 32)
                {
                    Vector256<float> a00 = Vector256.Load(d0 + p), a01 = Vector256.Load(d0 + p + 8), a02 = Vector256.Load(d0 + p + 16), a03 = Vector256.Load(d0 + p + 24);
                    float* bq = b + p;
                    long go = 0;
                    for (int q = 0; q < inner; q++, bq += ldb, go += gsq)
                    {
                        Vector256<float> x0 = Vector256.Create(g0[go]);
                        a00 = Fma(x0, Vector256.Load(bq), a00);
                        a01 = Fma(x0, Vector256.Load(bq + 8), a01);
                        a02 = Fma(x0, Vector256.Load(bq + 16), a02);
                        a03 = Fma(x0, Vector256.Load(bq + 24), a03);
                    }

                    a00.Store(d0 + p);
                    a01.Store(d0 + p + 8);
                    a02.Store(d0 + p + 16);
                    a03.Store(d0 + p + 24);
                }

                for (; p < c8; p += 8)
                {
                    Vector256<float> a0 = Vector256.Load(d0 + p);
                    float* bq = b + p;
                    long go = 0;
                    for (int q = 0; q < inner; q++, bq += ldb, go += gsq)
                    {
                        a0 = Fma(Vector256.Create(g0[go]), Vector256.Load(bq), a0);
                    }

                    a0.Store(d0 + p);
                }

                for (; p < cols; p++)
                {
                    float s0 = d0[p];
                    float* bq = b + p;
                    long go = 0;
                    for (int q = 0; q < inner; q++, bq += ldb, go += gsq)
                    {
                        s0 += g0[go] * *bq;
                    }

                    d0[p] = s0;
                }
            }
        }
    }
    /// <summary>D[r, p] += sum_q G[q * ldg + r] * B[q * ldb + p] for rows a multiple of 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void AddProductTransposedFloat(ReadOnlySpan<float> gSpan, int ldg, ReadOnlySpan<float> bSpan, int ldb, Span<float> dSpan, int ldd, int rows, int inner, int cols)
    {
        const int QBlock = 128;
        int c48 = Vector512.IsHardwareAccelerated ? cols - (cols % 48) : 0;
        int c24 = c48 + (cols - c48) - ((cols - c48) % 24);
        fixed (float* g = gSpan)
        fixed (float* b = bSpan)
        fixed (float* d = dSpan)
        {
            for (int q0 = 0; q0 < inner; q0 += QBlock)
            {
                int q1 = Math.Min(inner, q0 + QBlock);
                for (int p = 0; p < c48; p += 48)
                {
                    // 512-bit lanes: every element still sums its terms in the order of q (results identical to the 256-bit path)
                    for (int r = 0; r < rows; r += 4)
                    {
                        float* d0 = d + ((long)r * ldd) + p;
                        float* d1 = d0 + ldd;
                        float* d2 = d1 + ldd;
                        float* d3 = d2 + ldd;
                        Vector512<float> a00 = Vector512.Load(d0), a01 = Vector512.Load(d0 + 16), a02 = Vector512.Load(d0 + 32);
                        Vector512<float> a10 = Vector512.Load(d1), a11 = Vector512.Load(d1 + 16), a12 = Vector512.Load(d1 + 32);
                        Vector512<float> a20 = Vector512.Load(d2), a21 = Vector512.Load(d2 + 16), a22 = Vector512.Load(d2 + 32);
                        Vector512<float> a30 = Vector512.Load(d3), a31 = Vector512.Load(d3 + 16), a32 = Vector512.Load(d3 + 32);
                        float* bq = b + ((long)q0 * ldb) + p;
                        float* gq = g + ((long)q0 * ldg) + r;
                        for (int q = q0; q < q1; q++, bq += ldb, gq += ldg)
                        {
                            Vector512<float> v0 = Vector512.Load(bq);
                            Vector512<float> v1 = Vector512.Load(bq + 16);
                            Vector512<float> v2 = Vector512.Load(bq + 32);
                            Vector512<float> x = Vector512.Create(gq[0]);
                            a00 = Fma(x, v0, a00);
                            a01 = Fma(x, v1, a01);
                            a02 = Fma(x, v2, a02);
                            x = Vector512.Create(gq[1]);
                            a10 = Fma(x, v0, a10);
                            a11 = Fma(x, v1, a11);
                            a12 = Fma(x, v2, a12);
                            x = Vector512.Create(gq[2]);
                            a20 = Fma(x, v0, a20);
                            a21 = Fma(x, v1, a21);
                            a22 = Fma(x, v2, a22);
                            x = Vector512.Create(gq[3]);
                            a30 = Fma(x, v0, a30);
                            a31 = Fma(x, v1, a31);
                            a32 = Fma(x, v2, a32);
                        }

                        a00.Store(d0);
                        a01.Store(d0 + 16);
                        a02.Store(d0 + 32);
                        a10.Store(d1);
                        a11.Store(d1 + 16);
                        a12.Store(d1 + 32);
                        a20.Store(d2);
                        a21.Store(d2 + 16);
                        a22.Store(d2 + 32);
                        a30.Store(d3);
                        a31.Store(d3 + 16);
                        a32.Store(d3 + 32);
                    }
                }

                for (int p = c48; p < c24; p += 24)
                {
                    for (int r = 0; r < rows; r += 4)
                    {
                        float* d0 = d + ((long)r * ldd) + p;
                        float* d1 = d0 + ldd;
                        float* d2 = d1 + ldd;
                        float* d3 = d2 + ldd;
                        Vector256<float> a00 = Vector256.Load(d0), a01 = Vector256.Load(d0 + 8), a02 = Vector256.Load(d0 + 16);
                        Vector256<float> a10 = Vector256.Load(d1), a11 = Vector256.Load(d1 + 8), a12 = Vector256.Load(d1 + 16);
                        Vector256<float> a20 = Vector256.Load(d2), a21 = Vector256.Load(d2 + 8), a22 = Vector256.Load(d2 + 16);
                        Vector256<float> a30 = Vector256.Load(d3), a31 = Vector256.Load(d3 + 8), a32 = Vector256.Load(d3 + 16);
                        float* bq = b + ((long)q0 * ldb) + p;
                        float* gq = g + ((long)q0 * ldg) + r;
                        for (int q = q0; q < q1; q++, bq += ldb, gq += ldg)
                        {
                            Vector256<float> v0 = Vector256.Load(bq);
                            Vector256<float> v1 = Vector256.Load(bq + 8);
                            Vector256<float> v2 = Vector256.Load(bq + 16);
                            Vector256<float> x = Vector256.Create(gq[0]);
                            a00 = Fma(x, v0, a00);
                            a01 = Fma(x, v1, a01);
                            a02 = Fma(x, v2, a02);
                            x = Vector256.Create(gq[1]);
                            a10 = Fma(x, v0, a10);
                            a11 = Fma(x, v1, a11);
                            a12 = Fma(x, v2, a12);
                            x = Vector256.Create(gq[2]);
                            a20 = Fma(x, v0, a20);
                            a21 = Fma(x, v1, a21);
                            a22 = Fma(x, v2, a22);
                            x = Vector256.Create(gq[3]);
                            a30 = Fma(x, v0, a30);
                            a31 = Fma(x, v1, a31);
                            a32 = Fma(x, v2, a32);
                        }

                        a00.Store(d0);
                        a01.Store(d0 + 8);
                        a02.Store(d0 + 16);
                        a10.Store(d1);
                        a11.Store(d1 + 8);
                        a12.Store(d1 + 16);
                        a20.Store(d2);
                        a21.Store(d2 + 8);
                        a22.Store(d2 + 16);
                        a30.Store(d3);
                        a31.Store(d3 + 8);
                        a32.Store(d3 + 16);
                    }
                }

                // remaining columns (< 24): 8-wide, then scalar
                for (int p = c24; p < cols; p += 8)
                {
                    bool full = p + 8 <= cols;
                    for (int r = 0; r < rows; r++)
                    {
                        float* dr = d + ((long)r * ldd);
                        if (full)
                        {
                            Vector256<float> acc = Vector256.Load(dr + p);
                            float* bq = b + ((long)q0 * ldb) + p;
                            float* gq = g + ((long)q0 * ldg) + r;
                            for (int q = q0; q < q1; q++, bq += ldb, gq += ldg)
                            {
                                acc = Fma(Vector256.Create(*gq), Vector256.Load(bq), acc);
                            }

                            acc.Store(dr + p);
                        }
                        else
                        {
                            for (int pp = p; pp < cols; pp++)
                            {
                                float acc = dr[pp];
                                float* bq = b + ((long)q0 * ldb) + pp;
                                float* gq = g + ((long)q0 * ldg) + r;
                                for (int q = q0; q < q1; q++, bq += ldb, gq += ldg)
                                {
                                    acc += *gq * *bq;
                                }

                                dr[pp] = acc;
                            }
                        }
                    }
                }
            }
        }
    }
}
