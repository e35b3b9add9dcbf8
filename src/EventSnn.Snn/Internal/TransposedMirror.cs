using System.Numerics;

namespace EventSnn.Snn.Internal;

/// <summary>
/// The transpose ([in, out]) of an [out, in] weight parameter, built on first use and rebuilt
/// whenever the parameter's <see cref="Parameter{T}.Version"/> or its values array changes (a
/// data-parallel replica that starts sharing another network's values). Inference reads weight
/// columns as contiguous rows of the mirror. Safe to read from several threads: a rebuild happens
/// under a lock and publishes the version after the data.
/// </summary>
internal sealed class TransposedMirror<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Lock _lock = new();
    private readonly Parameter<T> _source;
    private readonly int _rows;
    private readonly int _cols;
    private T[]? _data;
    private T[]? _builtFrom;
    private int _version = -1;

    public TransposedMirror(Parameter<T> source, int rows, int cols)
    {
        _source = source;
        _rows = rows;
        _cols = cols;
    }

    /// <summary>The mirror of the parameter's current values.</summary>
    public T[] Get()
    {
        int version = _source.Version;
        T[] values = _source.Data;
        T[]? m = Volatile.Read(ref _data);
        if (m is not null && Volatile.Read(ref _version) == version && ReferenceEquals(Volatile.Read(ref _builtFrom), values))
        {
            return m;
        }

        lock (_lock)
        {
            m = _data ?? new T[_source.Length];
            if (_version != version || _data is null || !ReferenceEquals(_builtFrom, values))
            {
                Kernels.Transpose<T>(values, _rows, _cols, m);
                _data = m;
                _builtFrom = values;
                Volatile.Write(ref _version, version);
            }

            return m;
        }
    }
}
