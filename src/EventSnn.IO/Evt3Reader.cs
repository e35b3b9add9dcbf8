using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Streaming reader of Prophesee RAW EVT 3.0 files: an ASCII '%' header, then little-endian
/// 16-bit words, type in bits 15..12. The encoding is stateful:
/// ADDR_Y (0x0: y in 10..0, bit 11 = system type, ignored) sets the row of CD events;
/// 0x1 sets the row of exposure-measurement events (not CD: following addresses emit nothing, as in OpenEB);
/// ADDR_X (0x2: polarity bit 11, x 10..0) emits one event;
/// VECT_BASE_X (0x3: polarity bit 11, base x 10..0) starts a vector;
/// VECT_12 (0x4) / VECT_8 (0x5) emit an event at base + i for every set bit i of their 12/8-bit mask,
/// then advance the base by 12 / 8;
/// TIME_LOW (0x6) sets t[11:0]; TIME_HIGH (0x8) sets t[23:12] (and, as OpenEB does, resets t[11:0]
/// when it changes); EXT_TRIGGER (0xA: value bit 0, id 11..8) gives a trigger;
/// CONTINUED (0x7, 0xF), IMU (0xD) and OTHERS (0xE) are skipped.
/// t = loops * 2^24 + TIME_HIGH * 2^12 + TIME_LOW. A decrease of TIME_LOW is not a wrap;
/// TIME_HIGH wraps when it drops by at least half its range (OpenEB's rule), adding 2^24 us.
/// Words before the first TIME_HIGH are ignored.
/// Decoding: with SSSE3 and AVX2, runs of ADDR_Y, ADDR_X and TIME_LOW words are decoded eight
/// words at a time without a branch per word: the row and TIME_LOW in force at each word are
/// carried forward across the eight lanes with shifts, and the ADDR_X lanes are packed to the
/// front with one byte shuffle per array (a 256-entry table of shuffle controls). Vectors
/// (VECT_12 / VECT_8) are expanded with <see cref="MaskEmitter"/>; everything else goes word
/// by word. Every path produces the same events as the plain word-by-word decoder.
/// </summary>
public sealed class Evt3Reader : PropheseeReader
{
    private const uint HalfRange = 1u << 11;
    private const long Loop = 1L << 24;


    private bool _haveTimeHigh;
    private State _s = new() { Cd = 1 };
    private uint _pendingMask;
    private Step _step;
    private int _pendingBase;

    /// <summary>Shuffle controls packing the 16-bit lanes whose bit is set in an 8-bit mask to the front (zeros after).</summary>
    private static readonly byte[] PackControls = BuildPackControls();

    private static readonly bool SimdAvailable = BitConverter.IsLittleEndian && Ssse3.IsSupported && Avx2.IsSupported;

    /// <summary>Opens an EVT 3.0 stream and reads its header.</summary>
    /// <param name="stream">The RAW bytes, positioned at the header.</param>
    /// <param name="sourceName">File path or peer, used in errors and warnings.</param>
    /// <param name="options">Reader options (strictness, bounds, buffer size); null for defaults.</param>
    /// <param name="leaveOpen">True to leave <paramref name="stream"/> open on dispose.</param>
    public Evt3Reader(Stream stream, string sourceName, ReaderOptions? options = null, bool leaveOpen = false)
        : base(stream, sourceName, options, leaveOpen, 2, "EVT 3.0 word", EventFormat.Evt3)
    {
    }

    /// <inheritdoc />
    public override EventFormat Format => EventFormat.Evt3;

    /// <summary>False decodes word by word only (the reference the vector paths are tested against).</summary>
    internal bool Vectorized { get; init; } = true;

    /// <summary>Opens a file.</summary>
    public static Evt3Reader Open(string path, ReaderOptions? options = null) => OpenFile(path, fs => new Evt3Reader(fs, path, options));

    private protected override bool HasPending => _pendingMask != 0;

    private protected override int Decode(ByteInput input, int units, EventBatch batch, ref int n) =>
        Decode(input.Span, units, batch, ref n, input.Position);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe uint Load(byte* p)
    {
        ushort v = Unsafe.ReadUnaligned<ushort>(p);
        return BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
    }

    private protected override int DrainPending(EventBatch batch)
    {
        int k = 0;
        uint mask = _pendingMask;
        while (mask != 0 && k < batch.Capacity)
        {
            int bit = BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            batch.T[k] = _s.T;
            batch.X[k] = (ushort)(_pendingBase + bit);
            batch.Y[k] = (ushort)_s.Y;
            batch.P[k] = (byte)_s.Pol;
            k++;
        }

        _pendingMask = mask;
        return k;
    }

    /// <summary>Decodes words until the input chunk ends or the batch fills; returns the words consumed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe int Decode(ReadOnlySpan<byte> bytes, int words, EventBatch batch, ref int n, long offset)
    {
        fixed (byte* pinnedBytes = bytes)
        fixed (long* pinnedT = batch.T)
        fixed (ushort* pinnedX = batch.X)
        fixed (ushort* pinnedY = batch.Y)
        fixed (byte* pinnedP = batch.P)
        {
            // few live values so the loop stays in registers: word pointers, plain copies of the
            // pinned array pointers, the count, the time, row+CD flag and vector base+polarity
            ushort* first = (ushort*)pinnedBytes;
            ushort* w = first;
            ushort* end = first + words;
            if (!_haveTimeHigh)
            {
                for (; w < end; w++)
                {
                    uint v = Load((byte*)w);
                    if ((v >> 12) == 0x8)
                    {
                        _haveTimeHigh = true;
                        _s.High = v & 0xFFF;
                        _s.Low = 0;
                        _s.THigh = (long)_s.High << 12;
                        _s.T = _s.THigh;
                        w++;
                        break;
                    }
                }

                if (!_haveTimeHigh)
                {
                    return words;
                }
            }

            long* tp = pinnedT;
            ushort* xp = pinnedX;
            ushort* yp = pinnedY;
            byte* pp = pinnedP;
            int fastLimit = batch.Capacity - 32;
            bool simd = SimdAvailable && Vectorized;
            ushort* simdEnd = end - 8;
            int k = n;
            long tHigh = _s.THigh;
            long t = _s.T;
            uint ycd = _s.Y | (_s.Cd << 16);
            uint vb = _s.BaseX | (_s.Pol << 16);
            for (; w < end; w++)
            {
                if (simd && w <= simdEnd && k <= fastLimit && (ycd >> 16) != 0)
                {
                    int added = DecodeRun8(w, ref ycd, ref t, tHigh, tp + k, xp + k, yp + k, pp + k);
                    if (added >= 0)
                    {
                        k += added;
                        w += 7; // the loop adds the eighth
                        continue;
                    }
                }

                uint v = Load((byte*)w);
                uint type = v >> 12;
                if ((type & ~0x2u) == 0 && k <= fastLimit)
                {
                    // ADDR_Y and ADDR_X without branches: the event slot is always written and only
                    // counted for ADDR_X; the row is blended with a mask.
                    uint value = v & 0x7FF;
                    tp[k] = t;
                    xp[k] = (ushort)value;
                    yp[k] = (ushort)ycd;
                    pp[k] = (byte)((v >> 11) & 1);
                    k += (int)((type >> 1) & (ycd >> 16));
                    uint mY = (type >> 1) - 1; // all ones for ADDR_Y, zero for ADDR_X
                    ycd = (ycd & ~mY) | ((value | 0x10000u) & mY);
                    continue;
                }

                if (type == 0x6)
                {
                    t = tHigh + (v & 0xFFF);
                    continue;
                }

                if (type == 0x3)
                {
                    vb = (v & 0x7FF) | (((v >> 11) & 1) << 16);
                    continue;
                }

                if (type == 0x4 && w + 2 < end && k <= fastLimit)
                {
                    // the usual VECT_12, VECT_12, VECT_8 pattern: one 32-pixel mask
                    uint v1 = Load((byte*)(w + 1));
                    uint v2 = Load((byte*)(w + 2));
                    if ((v1 >> 12) == 0x4 && (v2 >> 12) == 0x5)
                    {
                        if ((ycd >> 16) != 0)
                        {
                            uint mask = (v & 0xFFF) | ((v1 & 0xFFF) << 12) | ((v2 & 0xFF) << 24);
                            k = MaskEmitter.Emit32(mask, (int)(vb & 0xFFFF), t, (ushort)ycd, (byte)(vb >> 16), tp, xp, yp, pp, k);
                        }

                        vb = (vb & 0x10000u) | ((vb + 32) & 0xFFFFu);
                        w += 2;
                        continue;
                    }
                }

                if ((type & ~0x1u) == 0x4 && k <= fastLimit)
                {
                    // a single VECT_12 or VECT_8: branch-free mask expansion
                    uint width = type == 0x4 ? 12u : 8u;
                    if ((ycd >> 16) != 0)
                    {
                        k = MaskEmitter.Emit16(v & ((1u << (int)width) - 1), (int)(vb & 0xFFFF), t, (ushort)ycd, (byte)(vb >> 16), tp, xp, yp, pp, k);
                    }

                    vb = (vb & 0x10000u) | ((vb + width) & 0xFFFFu);
                    continue;
                }

                // everything else, out of line
                _s.THigh = tHigh;
                _s.T = t;
                _s.Low = (uint)(t - tHigh);
                _s.Y = ycd & 0xFFFF;
                _s.Cd = ycd >> 16;
                _s.BaseX = vb & 0xFFFF;
                _s.Pol = vb >> 16;
                k = Cold(v, k, batch, offset + ((w - first) << 1));
                Step step = _step;
                tHigh = _s.THigh;
                t = _s.T;
                ycd = _s.Y | (_s.Cd << 16);
                vb = (_s.BaseX & 0xFFFF) | (_s.Pol << 16);
                if (step != Step.Next)
                {
                    if (step == Step.StopAfter)
                    {
                        w++;
                    }

                    break;
                }
            }

            _s.THigh = tHigh;
            _s.T = t;
            _s.Low = (uint)(t - tHigh);
            _s.Y = ycd & 0xFFFF;
            _s.Cd = ycd >> 16;
            _s.BaseX = vb & 0xFFFF;
            _s.Pol = vb >> 16;
            n = k;
            return (int)(w - first);
        }
    }

    /// <summary>
    /// Decodes the eight words at <paramref name="w"/> when all are ADDR_Y, ADDR_X or TIME_LOW
    /// (the row is a CD row on entry, so it stays one): writes up to eight events at the given
    /// array positions (always eight slots), updates the row/CD word and the time, and returns
    /// the number of events. Returns -1, touching nothing, when any other word type is among them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int DecodeRun8(ushort* w, ref uint ycd, ref long t, long tHigh, long* tp, ushort* xp, ushort* yp, byte* pp)
    {
        Vector128<ushort> v = Sse2.LoadVector128(w);
        Vector128<ushort> type = Sse2.ShiftRightLogical(v, 12);
        Vector128<ushort> isY = Sse2.CompareEqual(type, Vector128<ushort>.Zero);
        Vector128<ushort> isX = Sse2.CompareEqual(type, Vector128.Create((ushort)0x2));
        Vector128<ushort> isT = Sse2.CompareEqual(type, Vector128.Create((ushort)0x6));
        if (!Vector128.EqualsAll(isY | isX | isT, Vector128<ushort>.AllBitsSet))
        {
            return -1;
        }

        // row and TIME_LOW of the last ADDR_Y / TIME_LOW at or before each lane, flagged by bit 15
        Vector128<ushort> flag = Vector128.Create((ushort)0x8000);
        Vector128<ushort> rows = CarryForward(((v & Vector128.Create((ushort)0x7FF)) | flag) & isY);
        Vector128<ushort> lows = CarryForward(((v & Vector128.Create((ushort)0xFFF)) | flag) & isT);

        // lanes before the first ADDR_Y / TIME_LOW keep the values in force on entry
        rows = Vector128.ConditionalSelect(HasFlag(rows), rows, Vector128.Create((ushort)(ycd & 0x7FF))) & Vector128.Create((ushort)0x7FF);
        lows = Vector128.ConditionalSelect(HasFlag(lows), lows, Vector128.Create((ushort)(t - tHigh))) & Vector128.Create((ushort)0xFFF);
        ycd = rows.GetElement(7) | 0x10000u;
        t = tHigh + lows.GetElement(7);

        uint mask = Vector128.ExtractMostSignificantBits(isX);
        Vector128<byte> control = Vector128.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(PackControls), (nuint)(mask * 16));
        Vector128<ushort> words = Ssse3.Shuffle(v.AsByte(), control).AsUInt16();
        Sse2.Store(xp, words & Vector128.Create((ushort)0x7FF));
        Sse2.Store(yp, Ssse3.Shuffle(rows.AsByte(), control).AsUInt16());
        Vector128<short> pol = Sse2.ShiftRightLogical(words, 11).AsInt16() & Vector128.Create((short)1);
        *(ulong*)pp = Sse2.PackUnsignedSaturate(pol, pol).AsUInt64().ToScalar();
        Vector128<ushort> low = Ssse3.Shuffle(lows.AsByte(), control).AsUInt16();
        Vector256<long> th = Vector256.Create(tHigh);
        Avx.Store(tp, Avx2.ConvertToVector256Int64(low) + th);
        Avx.Store(tp + 4, Avx2.ConvertToVector256Int64(Sse2.ShiftRightLogical128BitLane(low, 8)) + th);
        return BitOperations.PopCount(mask);
    }

    /// <summary>Each lane without bit 15 set takes the value of the nearest earlier lane that has it (or stays 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> CarryForward(Vector128<ushort> v)
    {
        v |= Sse2.AndNot(HasFlag(v), Sse2.ShiftLeftLogical128BitLane(v, 2));
        v |= Sse2.AndNot(HasFlag(v), Sse2.ShiftLeftLogical128BitLane(v, 4));
        v |= Sse2.AndNot(HasFlag(v), Sse2.ShiftLeftLogical128BitLane(v, 8));
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> HasFlag(Vector128<ushort> v) => Sse2.ShiftRightArithmetic(v.AsInt16(), 15).AsUInt16();

    private static byte[] BuildPackControls()
    {
        var table = new byte[256 * 16];
        for (int m = 0; m < 256; m++)
        {
            int o = 0;
            for (int lane = 0; lane < 8; lane++)
            {
                if ((m & (1 << lane)) != 0)
                {
                    table[(m * 16) + (2 * o)] = (byte)(2 * lane);
                    table[(m * 16) + (2 * o) + 1] = (byte)((2 * lane) + 1);
                    o++;
                }
            }

            for (int b = 2 * o; b < 16; b++)
            {
                table[(m * 16) + b] = 0x80;
            }
        }

        return table;
    }

    /// <summary>
    /// One word outside the fast paths: any type when the batch is nearly full, single vectors,
    /// TIME_HIGH, exposure-measurement rows, triggers, skipped and unknown types.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int Cold(uint v, int k, EventBatch batch, long offset)
    {
        ref State s = ref _s;
        _step = Step.Next;
        int cap = batch.Capacity;
        switch (v >> 12)
        {
            case 0x2:
                if (s.Cd != 0)
                {
                    if (k >= cap)
                    {
                        _step = Step.StopBefore;
                        return k;
                    }

                    batch.T[k] = s.T;
                    batch.X[k] = (ushort)(v & 0x7FF);
                    batch.Y[k] = (ushort)s.Y;
                    batch.P[k] = (byte)((v >> 11) & 1);
                    k++;
                }

                return k;
            case 0x0:
                s.Y = v & 0x7FF;
                s.Cd = 1;
                return k;
            case 0x1:
                s.Y = v & 0x7FF;
                s.Cd = 0;
                return k;
            case 0x3:
                s.BaseX = v & 0x7FF;
                s.Pol = (v >> 11) & 1;
                return k;
            case 0x4:
            case 0x5:
                {
                    uint width = (v >> 12) == 0x4 ? 12u : 8u;
                    uint mask = v & ((1u << (int)width) - 1);
                    uint baseX = s.BaseX;
                    s.BaseX = (baseX + width) & 0xFFFF;
                    if (s.Cd == 0)
                    {
                        return k;
                    }

                    while (mask != 0 && k < cap)
                    {
                        int bit = BitOperations.TrailingZeroCount(mask);
                        mask &= mask - 1;
                        batch.T[k] = s.T;
                        batch.X[k] = (ushort)(baseX + (uint)bit);
                        batch.Y[k] = (ushort)s.Y;
                        batch.P[k] = (byte)s.Pol;
                        k++;
                    }

                    if (mask != 0 || k >= cap)
                    {
                        _pendingMask = mask;
                        _pendingBase = (int)baseX;
                        _step = Step.StopAfter;
                        return k;
                    }

                    return k;
                }

            case 0x6:
                s.Low = v & 0xFFF;
                s.T = s.THigh + s.Low;
                return k;
            case 0x8:
                {
                    // OpenEB's rule: a drop of at least half the range is a wrap; a new TIME_HIGH resets TIME_LOW
                    uint next = v & 0xFFF;
                    if (s.High >= HalfRange + next)
                    {
                        s.Loops += Loop;
                    }

                    if (next != s.High)
                    {
                        s.Low = 0;
                    }

                    s.High = next;
                    s.THigh = s.Loops + ((long)next << 12);
                    s.T = s.THigh + s.Low;
                    return k;
                }

            case 0xA:
                {
                    var kind = (v & 1) != 0 ? TriggerKind.ExternalRising : TriggerKind.ExternalFalling;
                    batch.Triggers.Add(new TriggerEvent(s.T, kind, (int)((v >> 8) & 0xF)));
                    _step = batch.Triggers.Count >= batch.Triggers.Capacity ? Step.StopAfter : Step.Next;
                    return k;
                }

            case 0x7:
            case 0xD:
            case 0xE:
            case 0xF:
                return k;
            default:
                Core.UnknownWord(offset, (int)(v >> 12), "EVT 3.0");
                return k;
        }
    }

    /// <summary>What the decoding loop does after a cold word.</summary>
    private enum Step
    {
        /// <summary>Go on with the next word.</summary>
        Next,

        /// <summary>Stop; the word was not consumed (batch full).</summary>
        StopBefore,

        /// <summary>Stop after this word (pending vector events or trigger buffer full).</summary>
        StopAfter,
    }

    /// <summary>The decoder state between words.</summary>
    private struct State
    {
        public long Loops;
        public long THigh;
        public long T;
        public uint High;
        public uint Low;
        public uint Y;
        public uint BaseX;
        public uint Pol;
        public uint Cd;
    }
}
