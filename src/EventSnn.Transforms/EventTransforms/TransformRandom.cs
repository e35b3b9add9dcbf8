using System.Runtime.CompilerServices;

namespace EventSnn.Transforms;

/// <summary>
/// The random source of the transforms: SplitMix64 (a value type, so a stage's draws allocate
/// nothing), with uniform doubles, bounded integers and standard normal deviates. The same seed
/// always gives the same sequence on every platform (no floating-point state beyond the spare
/// normal deviate).
/// </summary>
internal struct TransformRandom
{
    private ulong _state;
    private double _spare;
    private bool _hasSpare;

    public TransformRandom(ulong seed)
    {
        _state = seed;
        _spare = 0;
        _hasSpare = false;
    }

    /// <summary>The seed of sub-stream <paramref name="stream"/> of <paramref name="seed"/> (e.g. the i-th transform of a composition).</summary>
    public static ulong Derive(ulong seed, ulong stream)
    {
        var r = new TransformRandom(seed ^ (stream * 0xD1B54A32D192ED03UL) ^ 0x5851F42D4C957F2DUL);
        return r.Next();
    }

    /// <summary>A coin that falls true with probability <paramref name="p"/> (always for p &gt;= 1), drawn from <paramref name="seed"/>: a per-sample decision.</summary>
    public static bool Coin(ulong seed, double p)
    {
        var r = new TransformRandom(seed);
        return p >= 1 || r.NextDouble() < p;
    }

    /// <summary>Next 64 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, <paramref name="bound"/>) (multiply-shift; bound &gt; 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextBelow(ulong bound) => (ulong)(((UInt128)Next() * bound) >> 64);

    /// <summary>Uniform integer in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public long NextInclusive(long min, long max) => min + (long)NextBelow((ulong)(max - min) + 1);

    /// <summary>Standard normal deviate (Marsaglia's polar method; the second deviate of a pair is kept for the next call).</summary>
    public double NextGaussian()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }

        double u, v, s;
        do
        {
            u = (2 * NextDouble()) - 1;
            v = (2 * NextDouble()) - 1;
            s = (u * u) + (v * v);
        }
        while (s >= 1 || s == 0);

        double f = Math.Sqrt(-2 * Math.Log(s) / s);
        _spare = v * f;
        _hasSpare = true;
        return u * f;
    }
}
