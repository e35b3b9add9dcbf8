using System.Numerics;

namespace EventSnn.Snn.Internal;

/// <summary>Loss values and their gradients with respect to the readout output.</summary>
internal static class Losses
{
    /// <summary>Writes dL/doutput into <paramref name="grad"/> (overwrites) and returns L.</summary>
    public static double Apply<T>(ReadOnlySpan<T> output, in StepTarget<T> target, Span<T> grad, int batch, int classes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        grad = grad[..(batch * classes)];
        grad.Clear();
        if (!target.Active)
        {
            return 0;
        }

        return target.Kind switch
        {
            LossKind.Classification => Classification(output, target, grad, batch, classes),
            LossKind.Regression => Regression(output, target, grad, batch, classes),
            _ => 0,
        };
    }

    private static double Classification<T>(ReadOnlySpan<T> output, in StepTarget<T> target, Span<T> grad, int batch, int classes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (target.Labels.Length < batch)
        {
            throw new ArgumentException($"classification target needs {batch} labels");
        }

        bool oracle = target.OracleWeight != 0 && !target.Oracle.IsEmpty;
        if (oracle && target.Oracle.Length < batch * classes)
        {
            throw new ArgumentException($"oracle distribution needs {batch * classes} values");
        }

        double w = target.Weight / batch;
        double wo = oracle ? target.OracleWeight / (batch * classes) : 0;
        double loss = 0;
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> o = output.Slice(b * classes, classes);
            double max = double.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                max = Math.Max(max, double.CreateTruncating(o[c]));
            }

            double sum = 0;
            for (int c = 0; c < classes; c++)
            {
                sum += Math.Exp(double.CreateTruncating(o[c]) - max);
            }

            double lse = max + Math.Log(sum);
            int y = target.Labels[b];
            if ((uint)y >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(nameof(target), $"label {y} outside [0, {classes})");
            }

            loss -= w * (double.CreateTruncating(o[y]) - lse);
            double qSum = 0;
            if (oracle)
            {
                for (int c = 0; c < classes; c++)
                {
                    double q = double.CreateTruncating(target.Oracle[(b * classes) + c]);
                    qSum += q;
                    loss -= wo * q * (double.CreateTruncating(o[c]) - lse);
                }
            }

            for (int c = 0; c < classes; c++)
            {
                double p = Math.Exp(double.CreateTruncating(o[c]) - lse);
                double g = w * (p - (c == y ? 1 : 0));
                if (oracle)
                {
                    g += wo * ((p * qSum) - double.CreateTruncating(target.Oracle[(b * classes) + c]));
                }

                grad[(b * classes) + c] = T.CreateTruncating(g);
            }
        }

        return loss;
    }

    private static double Regression<T>(ReadOnlySpan<T> output, in StepTarget<T> target, Span<T> grad, int batch, int classes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = batch * classes;
        if (target.Values.Length < n)
        {
            throw new ArgumentException($"regression target needs {n} values");
        }

        double w = target.Weight / n;
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            double d = double.CreateTruncating(output[i]) - double.CreateTruncating(target.Values[i]);
            loss += w * d * d;
            grad[i] = T.CreateTruncating(2 * w * d);
        }

        return loss;
    }
}
