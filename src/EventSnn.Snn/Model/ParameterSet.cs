using System.Collections;
using System.Numerics;

namespace EventSnn.Snn;

/// <summary>
/// All trainable parameters of a network in a fixed order: layer 0, layer 1, ..., then the
/// readout; within a layer in the order its type documents (for LTC: w_in.weight,
/// w_in.bias, w_rec.weight, w_tau.weight, w_tau.bias, w_rho.weight, w_rho.bias, then
/// k_tau, k_rho when the sigmoid slope is learnable). This order is the order of PyTorch's
/// <c>named_parameters()</c> for the equivalent module and is part of the checkpoint format.
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class ParameterSet<T> : IReadOnlyList<Parameter<T>>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _items;
    private readonly Dictionary<string, int> _index;

    /// <summary>Creates the set; names must be unique.</summary>
    public ParameterSet(IEnumerable<Parameter<T>> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _items = [.. parameters];
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        long total = 0;
        for (int i = 0; i < _items.Length; i++)
        {
            if (!_index.TryAdd(_items[i].Name, i))
            {
                throw new ArgumentException($"duplicate parameter name '{_items[i].Name}'", nameof(parameters));
            }

            total += _items[i].Length;
        }

        TotalLength = total;
    }

    /// <summary>Number of parameter tensors.</summary>
    public int Count => _items.Length;

    /// <summary>Total number of scalar parameters.</summary>
    public long TotalLength { get; }

    /// <summary>Parameter at <paramref name="index"/> in the fixed order.</summary>
    public Parameter<T> this[int index] => _items[index];

    /// <summary>Parameter by name, or throws <see cref="KeyNotFoundException"/>.</summary>
    public Parameter<T> this[string name] => TryGet(name, out Parameter<T>? p) ? p : throw new KeyNotFoundException($"no parameter named '{name}'");

    /// <summary>Looks a parameter up by name.</summary>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Parameter<T>? parameter)
    {
        if (_index.TryGetValue(name, out int i))
        {
            parameter = _items[i];
            return true;
        }

        parameter = null;
        return false;
    }

    /// <summary>Index of the named parameter, or -1.</summary>
    public int IndexOf(string name) => _index.TryGetValue(name, out int i) ? i : -1;

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGrad()
    {
        foreach (Parameter<T> p in _items)
        {
            Array.Clear(p.Grad);
            p.GradNormSq = 0;
            p.GradNormTracked = false;
        }
    }

    /// <summary>Calls <see cref="Parameter{T}.MarkChanged"/> on every parameter.</summary>
    public void MarkChanged()
    {
        foreach (Parameter<T> p in _items)
        {
            p.MarkChanged();
        }
    }

    /// <summary>Global L2 norm of all gradients (double accumulation).</summary>
    public double GradientNorm()
    {
        double sum = 0;
        foreach (Parameter<T> p in _items)
        {
            sum += Internal.Kernels.SumOfSquares<T>(p.Grad);
        }

        return Math.Sqrt(sum);
    }

    /// <summary>True when every value is finite.</summary>
    public bool AllFinite()
    {
        foreach (Parameter<T> p in _items)
        {
            if (!double.IsFinite(Internal.Kernels.SumOfSquares<T>(p.Data)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Copies all values into one flat array in the fixed order.</summary>
    public T[] Flatten()
    {
        var flat = new T[TotalLength];
        int offset = 0;
        foreach (Parameter<T> p in _items)
        {
            p.Data.CopyTo(flat, offset);
            offset += p.Length;
        }

        return flat;
    }

    /// <summary>Copies values from another set with identical names and shapes.</summary>
    public void CopyFrom(ParameterSet<T> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Count != Count)
        {
            throw new ArgumentException("parameter sets differ in size", nameof(other));
        }

        for (int i = 0; i < _items.Length; i++)
        {
            if (other._items[i].Name != _items[i].Name || other._items[i].Length != _items[i].Length)
            {
                throw new ArgumentException($"parameter {i} differs: {other._items[i]} vs {_items[i]}", nameof(other));
            }

            other._items[i].Data.CopyTo(_items[i].Data, 0);
            _items[i].MarkChanged();
        }
    }

    /// <inheritdoc/>
    public IEnumerator<Parameter<T>> GetEnumerator() => ((IEnumerable<Parameter<T>>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();
}
