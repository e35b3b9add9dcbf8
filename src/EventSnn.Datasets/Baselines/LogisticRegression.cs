namespace EventSnn.Datasets.Baselines;

/// <summary>
/// Multinomial logistic regression (softmax) trained with mini-batch SGD with momentum and
/// L2 weight decay on standardised features. Small and deterministic for a seed.
/// </summary>
public sealed class LogisticRegression
{
    private readonly int _features;
    private readonly int _classes;
    private readonly double[] _w;
    private readonly double[] _mean;
    private readonly double[] _scale;

    /// <summary>Creates an untrained model.</summary>
    public LogisticRegression(int features, int classes)
    {
        _features = features;
        _classes = classes;
        _w = new double[(features + 1) * classes];
        _mean = new double[features];
        _scale = new double[features];
        Array.Fill(_scale, 1.0);
    }

    /// <summary>Trains on <paramref name="x"/> (one feature vector per sample) and labels <paramref name="y"/>.</summary>
    public void Fit(IReadOnlyList<float[]> x, IReadOnlyList<int> y, int epochs = 60, double learningRate = 0.05, double l2 = 1e-3, int batchSize = 32, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        int n = x.Count;
        if (n == 0)
        {
            throw new ArgumentException("no training samples");
        }

        // standardise with the training statistics
        Array.Clear(_mean);
        var sq = new double[_features];
        foreach (float[] v in x)
        {
            for (int f = 0; f < _features; f++)
            {
                _mean[f] += v[f];
                sq[f] += v[f] * (double)v[f];
            }
        }

        for (int f = 0; f < _features; f++)
        {
            _mean[f] /= n;
            double var = (sq[f] / n) - (_mean[f] * _mean[f]);
            _scale[f] = var > 1e-12 ? 1 / Math.Sqrt(var) : 0;
        }

        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        var random = new Random(seed);
        var grad = new double[_w.Length];
        var velocity = new double[_w.Length];
        var z = new double[_features + 1];
        var p = new double[_classes];
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            random.Shuffle(order);
            double lr = learningRate / (1 + (0.05 * epoch));
            for (int b = 0; b < n; b += batchSize)
            {
                Array.Clear(grad);
                int end = Math.Min(n, b + batchSize);
                for (int k = b; k < end; k++)
                {
                    int i = order[k];
                    Standardise(x[i], z);
                    Probabilities(z, p);
                    p[y[i]] -= 1;
                    for (int c = 0; c < _classes; c++)
                    {
                        double g = p[c];
                        int row = c * (_features + 1);
                        for (int f = 0; f <= _features; f++)
                        {
                            grad[row + f] += g * z[f];
                        }
                    }
                }

                double inv = 1.0 / (end - b);
                for (int j = 0; j < _w.Length; j++)
                {
                    velocity[j] = (0.9 * velocity[j]) - (lr * ((grad[j] * inv) + (l2 * _w[j])));
                    _w[j] += velocity[j];
                }
            }
        }
    }

    /// <summary>The most probable class of <paramref name="x"/>.</summary>
    public int Predict(float[] x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var z = new double[_features + 1];
        var p = new double[_classes];
        Standardise(x, z);
        Probabilities(z, p);
        int best = 0;
        for (int c = 1; c < _classes; c++)
        {
            if (p[c] > p[best])
            {
                best = c;
            }
        }

        return best;
    }

    /// <summary>Fraction of samples classified correctly.</summary>
    public double Accuracy(IReadOnlyList<float[]> x, IReadOnlyList<int> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        int correct = 0;
        for (int i = 0; i < x.Count; i++)
        {
            if (Predict(x[i]) == y[i])
            {
                correct++;
            }
        }

        return x.Count == 0 ? 0 : correct / (double)x.Count;
    }

    private void Standardise(float[] x, double[] z)
    {
        for (int f = 0; f < _features; f++)
        {
            z[f] = (x[f] - _mean[f]) * _scale[f];
        }

        z[_features] = 1; // bias
    }

    private void Probabilities(double[] z, double[] p)
    {
        double max = double.NegativeInfinity;
        for (int c = 0; c < _classes; c++)
        {
            double s = 0;
            int row = c * (_features + 1);
            for (int f = 0; f <= _features; f++)
            {
                s += _w[row + f] * z[f];
            }

            p[c] = s;
            max = Math.Max(max, s);
        }

        double sum = 0;
        for (int c = 0; c < _classes; c++)
        {
            p[c] = Math.Exp(p[c] - max);
            sum += p[c];
        }

        for (int c = 0; c < _classes; c++)
        {
            p[c] /= sum;
        }
    }
}
