using System.Numerics;
using System.Numerics.Tensors;

namespace EventSnn.Snn.Internal;

/// <summary>
/// The running-statistics normalisation shared by the layers' currents and the readout's: per-feature
/// batch sums in double, the exponential update of μ and σ², and (a − μ) ⊙ 1/√(σ² + ε).
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
internal static class RunningNorm<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// sums[j] = Σ_b x[b, j] and sums[n + j] = Σ_b x[b, j] y[b, j] (y = x when <paramref name="y"/> is empty)
    /// over <paramref name="batch"/> rows of <paramref name="n"/> features, in double; clears the sums first.
    /// </summary>
    public static void BatchSums(ReadOnlySpan<T> x, int batch, int n, Span<double> sums, ReadOnlySpan<T> y = default)
    {
        sums.Clear();
        Span<double> s1 = sums[..n];
        Span<double> s2 = sums.Slice(n, n);
        bool square = y.IsEmpty;
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> xr = x.Slice(b * n, n);
            ReadOnlySpan<T> yr = square ? xr : y.Slice(b * n, n);
            for (int j = 0; j < n; j++)
            {
                double v = double.CreateTruncating(xr[j]);
                s1[j] += v;
                s2[j] += v * double.CreateTruncating(yr[j]);
            }
        }
    }

    /// <summary>Moves μ toward the batch mean and σ² toward the batch's mean of (a − μ_new)², from the sums Σa, Σa² of <paramref name="total"/> rows.</summary>
    public static void Update(Span<T> mean, Span<T> var, ReadOnlySpan<double> sums, double total, T momentum)
    {
        int n = mean.Length;
        for (int j = 0; j < n; j++)
        {
            mean[j] += momentum * (T.CreateTruncating(sums[j] / total) - mean[j]);

            // mean over the batch of (a − μ_new)² = (Σa² − 2μΣa + Bμ²) / B
            double mu = double.CreateTruncating(mean[j]);
            double v = Math.Max(0, (sums[n + j] - (2 * mu * sums[j]) + (total * mu * mu)) / total);
            var[j] += momentum * (T.CreateTruncating(v) - var[j]);
        }
    }

    /// <summary>inv = 1/√(σ² + ε) and aHat = (a − μ) ⊙ inv for <paramref name="batch"/> rows.</summary>
    public static void Apply(ReadOnlySpan<T> a, Span<T> aHat, Span<T> inv, ReadOnlySpan<T> mean, ReadOnlySpan<T> var, int batch)
    {
        int n = mean.Length;
        T eps = T.CreateTruncating(1e-5);
        for (int j = 0; j < n; j++)
        {
            inv[j] = T.One / T.Sqrt(var[j] + eps);
        }

        for (int b = 0; b < batch; b++)
        {
            Span<T> h = aHat.Slice(b * n, n);
            TensorPrimitives.Subtract(a.Slice(b * n, n), mean, h);
            TensorPrimitives.Multiply(h, inv, h);
        }
    }
}
