namespace EventSnn.Datasets;

/// <summary>
/// Deterministic seed derivation (SplitMix64). <see cref="HashCode"/> is randomised per
/// process and must never be used for seeds; this is stable across runs and platforms.
/// </summary>
public static class Seeds
{
    /// <summary>Derives a non-negative 31-bit seed from a base seed and up to three stream indices.</summary>
    public static int Derive(long seed, long a = 0, long b = 0, long c = 0)
    {
        ulong x = (ulong)seed;
        x = Mix(x ^ Mix((ulong)a + 0x9E3779B97F4A7C15UL));
        x = Mix(x ^ Mix((ulong)b + 0xBF58476D1CE4E5B9UL));
        x = Mix(x ^ Mix((ulong)c + 0x94D049BB133111EBUL));
        return (int)(x >> 33);
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
