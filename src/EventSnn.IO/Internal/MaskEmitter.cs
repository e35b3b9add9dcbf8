using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EventSnn.IO.Internal;

/// <summary>
/// Expands validity masks of vectorized formats (EVT 3.0 VECT_12/VECT_8, EVT 2.1 32-pixel words)
/// into the batch arrays without per-bit branches: one table lookup per mask byte gives the
/// offsets of its set bits, widened and stored eight at a time; timestamp, row and polarity are
/// the same for the whole mask and are filled with vector stores.
/// </summary>
internal static unsafe class MaskEmitter
{
    /// <summary>For each byte value: the positions of its set bits, ascending, one per byte.</summary>
    private static readonly ulong[] Offsets = BuildOffsets();

    /// <summary>
    /// Writes one event per set bit of <paramref name="mask"/> (bit i = x <paramref name="baseX"/> + i)
    /// at index <paramref name="k"/>; returns the new count. Writes up to 32 slots from
    /// <paramref name="k"/> (callers guarantee k + 32 &lt;= capacity).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Emit32(uint mask, int baseX, long t, ushort y, byte p, long* tp, ushort* xp, ushort* yp, byte* pp, int k)
    {
        int count = BitOperations.PopCount(mask);
        Fill(t, y, p, tp + k, yp + k, pp + k, count);
        ref ulong table = ref MemoryMarshal.GetArrayDataReference(Offsets);
        Vector128<ushort> b = Vector128.Create((ushort)baseX);
        ushort* x = xp + k;
        uint m0 = mask & 0xFF, m1 = (mask >> 8) & 0xFF, m2 = (mask >> 16) & 0xFF, m3 = mask >> 24;
        Store(Unsafe.Add(ref table, (nint)m0), b, x);
        x += BitOperations.PopCount(m0);
        Store(Unsafe.Add(ref table, (nint)m1), b + Vector128.Create((ushort)8), x);
        x += BitOperations.PopCount(m1);
        Store(Unsafe.Add(ref table, (nint)m2), b + Vector128.Create((ushort)16), x);
        x += BitOperations.PopCount(m2);
        Store(Unsafe.Add(ref table, (nint)m3), b + Vector128.Create((ushort)24), x);
        return k + count;
    }

    /// <summary>As <see cref="Emit32"/> for a mask of at most 16 bits (writes up to 16 slots).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Emit16(uint mask, int baseX, long t, ushort y, byte p, long* tp, ushort* xp, ushort* yp, byte* pp, int k)
    {
        int count = BitOperations.PopCount(mask);
        Vector256<long> tv = Vector256.Create(t);
        long* tk = tp + k;
        Vector256.Store(tv, tk);
        Vector256.Store(tv, tk + 4);
        Vector256.Store(tv, tk + 8);
        Vector256.Store(tv, tk + 12);
        Vector256.Store(Vector256.Create(y), yp + k);
        Vector128.Store(Vector128.Create(p), pp + k);
        ref ulong table = ref MemoryMarshal.GetArrayDataReference(Offsets);
        Vector128<ushort> b = Vector128.Create((ushort)baseX);
        uint m0 = mask & 0xFF, m1 = (mask >> 8) & 0xFF;
        Store(Unsafe.Add(ref table, (nint)m0), b, xp + k);
        Store(Unsafe.Add(ref table, (nint)m1), b + Vector128.Create((ushort)8), xp + k + BitOperations.PopCount(m0));
        return k + count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Fill(long t, ushort y, byte p, long* tp, ushort* yp, byte* pp, int count)
    {
        Vector256<long> tv = Vector256.Create(t);
        Vector256.Store(tv, tp);
        Vector256.Store(tv, tp + 4);
        Vector256.Store(tv, tp + 8);
        Vector256.Store(tv, tp + 12);
        if (count > 16)
        {
            Vector256.Store(tv, tp + 16);
            Vector256.Store(tv, tp + 20);
            Vector256.Store(tv, tp + 24);
            Vector256.Store(tv, tp + 28);
        }

        Vector256<ushort> yv = Vector256.Create(y);
        Vector256.Store(yv, yp);
        Vector256.Store(yv, yp + 16);
        Vector256.Store(Vector256.Create(p), pp);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ulong offsets, Vector128<ushort> baseX, ushort* x)
    {
        Vector128<ushort> wide = Vector128.WidenLower(Vector128.CreateScalarUnsafe(offsets).AsByte());
        Vector128.Store(wide + baseX, x);
    }

    private static ulong[] BuildOffsets()
    {
        var table = new ulong[256];
        for (int m = 0; m < 256; m++)
        {
            ulong packed = 0;
            int n = 0;
            for (int bit = 0; bit < 8; bit++)
            {
                if ((m & (1 << bit)) != 0)
                {
                    packed |= (ulong)bit << (8 * n);
                    n++;
                }
            }

            table[m] = packed;
        }

        return table;
    }
}
