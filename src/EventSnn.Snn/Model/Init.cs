using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace EventSnn.Snn;

/// <summary>Parameter initialisers with PyTorch's definitions (torch.nn.init), driven by <see cref="SnnRandom"/>.</summary>
public static class Init
{
    /// <summary>Xavier/Glorot uniform: U(−a, a), a = gain √(6 / (fan_in + fan_out)), for an [out, in] weight.</summary>
    public static void XavierUniform<T>(Parameter<T> p, SnnRandom rng, double gain = 1.0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(rng);
        (int fanOut, int fanIn) = Fans(p);
        double a = gain * Math.Sqrt(6.0 / (fanIn + fanOut));
        for (int i = 0; i < p.Length; i++)
        {
            p.Data[i] = T.CreateTruncating(rng.NextDouble(-a, a));
        }

        p.MarkChanged();
    }

    /// <summary>Xavier/Glorot normal: N(0, σ²), σ = gain √(2 / (fan_in + fan_out)).</summary>
    public static void XavierNormal<T>(Parameter<T> p, SnnRandom rng, double gain = 1.0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(rng);
        (int fanOut, int fanIn) = Fans(p);
        double std = gain * Math.Sqrt(2.0 / (fanIn + fanOut));
        for (int i = 0; i < p.Length; i++)
        {
            p.Data[i] = T.CreateTruncating(rng.NextNormal(0, std));
        }

        p.MarkChanged();
    }

    /// <summary>
    /// Orthogonal initialisation like torch.nn.init.orthogonal_: QR of a Gaussian matrix
    /// (MathNet), Q multiplied by the signs of diag(R) so the result is uniformly distributed.
    /// </summary>
    public static void Orthogonal<T>(Parameter<T> p, SnnRandom rng, double gain = 1.0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(rng);
        int rows = p.Shape[0];
        int cols = p.Length / rows;
        bool transpose = rows < cols;
        int r = transpose ? cols : rows;
        int c = transpose ? rows : cols;
        var g = Matrix<double>.Build.Dense(r, c);
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < c; j++)
            {
                g[i, j] = rng.NextNormal();
            }
        }

        var qr = g.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin);
        Matrix<double> q = qr.Q;
        Matrix<double> rr = qr.R;
        for (int j = 0; j < c; j++)
        {
            double sign = Math.Sign(rr[j, j]);
            if (sign == 0)
            {
                sign = 1;
            }

            for (int i = 0; i < r; i++)
            {
                q[i, j] *= sign;
            }
        }

        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                double v = transpose ? q[j, i] : q[i, j];
                p.Data[(i * cols) + j] = T.CreateTruncating(gain * v);
            }
        }

        p.MarkChanged();
    }

    /// <summary>Every element from U(−bound, bound).</summary>
    public static void Uniform<T>(Parameter<T> p, SnnRandom rng, double bound)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(rng);
        for (int i = 0; i < p.Length; i++)
        {
            p.Data[i] = T.CreateTruncating(rng.NextDouble(-bound, bound));
        }

        p.MarkChanged();
    }

    /// <summary>Every element from N(mean, std²).</summary>
    public static void Normal<T>(Parameter<T> p, SnnRandom rng, double mean, double std)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(rng);
        for (int i = 0; i < p.Length; i++)
        {
            p.Data[i] = T.CreateTruncating(rng.NextNormal(mean, std));
        }

        p.MarkChanged();
    }

    /// <summary>Every element set to <paramref name="value"/>.</summary>
    public static void Constant<T>(Parameter<T> p, double value)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(p);
        Array.Fill(p.Data, T.CreateTruncating(value));
        p.MarkChanged();
    }

    private static (int FanOut, int FanIn) Fans<T>(Parameter<T> p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (p.Shape.Count < 2)
        {
            throw new ArgumentException($"{p.Name}: fan in/out need a matrix, shape is {p.ShapeText}");
        }

        return (p.Shape[0], p.Length / p.Shape[0]);
    }
}
