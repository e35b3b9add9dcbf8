using System.Numerics;
using EventSnn.Snn;

namespace EventSnn.Snn.Tests;

/// <summary>Random inputs and targets of a chunk (dense or sparse inputs; classification with oracle or regression).</summary>
internal sealed class ChunkData<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _dense;
    private readonly int[][] _indices;
    private readonly int[][] _offsets;
    private readonly int[] _labels;
    private readonly T[] _values;
    private readonly T[] _oracle;
    private readonly double[] _weights;
    private readonly int _batch;
    private readonly int _inputs;
    private readonly int _classes;

    public ChunkData(NetworkConfig config, int batch, int steps, bool sparse, bool regression, SnnRandom rng)
    {
        Steps = steps;
        Sparse = sparse;
        Regression = regression;
        _batch = batch;
        _inputs = config.InputSize;
        _classes = config.Readout.Size;
        _dense = new T[steps * batch * _inputs];
        for (int i = 0; i < _dense.Length; i++)
        {
            _dense[i] = T.CreateTruncating(rng.NextDouble(-1, 1.5));
        }

        _indices = new int[steps][];
        _offsets = new int[steps][];
        for (int t = 0; t < steps; t++)
        {
            var idx = new List<int>();
            _offsets[t] = new int[batch + 1];
            for (int b = 0; b < batch; b++)
            {
                for (int j = 0; j < _inputs; j++)
                {
                    if (rng.NextDouble() < 0.4)
                    {
                        idx.Add(j);
                    }
                }

                _offsets[t][b + 1] = idx.Count;
            }

            _indices[t] = [.. idx];
        }

        _labels = new int[steps * batch];
        for (int i = 0; i < _labels.Length; i++)
        {
            _labels[i] = rng.NextInt(_classes);
        }

        _values = new T[steps * batch * _classes];
        for (int i = 0; i < _values.Length; i++)
        {
            _values[i] = T.CreateTruncating(rng.NextDouble(-0.5, 1.5));
        }

        _oracle = new T[steps * batch * _classes];
        for (int i = 0; i < _oracle.Length; i++)
        {
            _oracle[i] = T.CreateTruncating(rng.NextDouble() / _classes);
        }

        _weights = new double[steps];
        for (int t = 0; t < steps; t++)
        {
            _weights[t] = t % 2 == 0 ? 0.3 + (0.1 * t) : (t == steps - 1 ? 1.0 : 0); // some steps without a loss
        }
    }

    public int Steps { get; }

    public bool Sparse { get; }

    public bool Regression { get; }

    public StepInput<T> Input(int t) => Sparse
        ? new StepInput<T>(_indices[t], _offsets[t])
        : new StepInput<T>(_dense.AsSpan(t * _batch * _inputs, _batch * _inputs));

    public StepTarget<T> Target(int t)
    {
        if (_weights[t] == 0)
        {
            return default;
        }

        return Regression
            ? new StepTarget<T>(_values.AsSpan(t * _batch * _classes, _batch * _classes), _weights[t])
            : new StepTarget<T>(_labels.AsSpan(t * _batch, _batch), _weights[t], _oracle.AsSpan(t * _batch * _classes, _batch * _classes), 1 - _weights[t]);
    }
}
