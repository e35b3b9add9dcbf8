using System.Numerics;

namespace EventSnn.Snn;

/// <summary>
/// One named trainable tensor: row-major <see cref="Data"/> with its gradient buffer
/// <see cref="Grad"/> of the same length. Weights of linear maps are stored
/// [out, in] exactly like PyTorch's <c>nn.Linear.weight</c>; vectors are [n].
/// </summary>
/// <typeparam name="T">float (the engine) or double (the test path).</typeparam>
public sealed class Parameter<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int[] _shape;
    private Parameter<T>? _owner;
    private int _version;

    /// <summary>Creates a zero-initialised parameter.</summary>
    public Parameter(string name, params int[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        int length = 1;
        foreach (int d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(d, 1, nameof(shape));
            length = checked(length * d);
        }

        Name = name;
        _shape = (int[])shape.Clone();
        Data = new T[length];
        Grad = new T[length];
    }

    /// <summary>PyTorch-style dotted name, e.g. "layers.0.w_in.weight".</summary>
    public string Name { get; }

    /// <summary>Shape (row-major; weights are [out, in]).</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>Number of elements.</summary>
    public int Length => Data.Length;

    /// <summary>Values, row-major.</summary>
    public T[] Data { get; private set; }

    /// <summary>Gradient accumulated by the backward pass (same layout as <see cref="Data"/>).</summary>
    public T[] Grad { get; }

    /// <summary>
    /// Counter bumped whenever <see cref="Data"/> changes through the engine (optimiser steps,
    /// checkpoint loads, FPTT resets). Code that writes <see cref="Data"/> directly must call
    /// <see cref="MarkChanged"/> so that cached derived data (e.g. transposed copies used by
    /// the inference path) is rebuilt.
    /// </summary>
    public int Version => _owner?.Version ?? Volatile.Read(ref _version);

    /// <summary>‖Grad‖² when <see cref="GradNormTracked"/> (maintained by sparse gradient scatters for the FPTT clip norm).</summary>
    internal double GradNormSq { get; set; }

    /// <summary>True when every change to Grad since <see cref="GradNormSq"/> was set has been added to it.</summary>
    internal bool GradNormTracked { get; set; }

    /// <summary>Declares that <see cref="Data"/> was modified.</summary>
    public void MarkChanged()
    {
        if (_owner is not null)
        {
            _owner.MarkChanged();
            return;
        }

        Interlocked.Increment(ref _version);
    }

    /// <summary>
    /// Makes this parameter a view of <paramref name="owner"/>'s values (same <see cref="Data"/>
    /// array and version counter) while keeping its own <see cref="Grad"/>: the data-parallel
    /// replicas of a network read the trained weights without copies and accumulate their own gradients.
    /// </summary>
    internal void ShareValues(Parameter<T> owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (owner.Name != Name || owner.Length != Length)
        {
            throw new ArgumentException($"cannot share {owner} with {this}", nameof(owner));
        }

        Data = owner.Data;
        _owner = owner;
    }

    /// <summary>Shape as text, e.g. "[256, 512]".</summary>
    public string ShapeText => "[" + string.Join(", ", _shape) + "]";

    /// <inheritdoc/>
    public override string ToString() => Name + " " + ShapeText;
}
