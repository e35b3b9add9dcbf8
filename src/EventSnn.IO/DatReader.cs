using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Streaming reader of Prophesee DAT files: an ASCII '%' header (geometry from '% Width' /
/// '% Height'), one byte event type (0 Event2d, 12 EventCD, 14 external trigger) and one byte
/// event size (must be 8), then 8-byte little-endian records: uint32 timestamp (us) and
/// uint32 w with x = w &amp; 0x3FFF, y = (w &gt;&gt; 14) &amp; 0x3FFF and polarity = the 4-bit field
/// from bit 28 (non-zero = ON). Trigger files (type 14) give triggers (value = bits 3..0,
/// channel id = bits 31..26) and no events. The 32-bit timestamp is unwrapped: a drop by at
/// least 2^31 adds 2^32 us.
/// </summary>
public sealed class DatReader : PropheseeReader
{
    private const uint HalfRange = 1u << 31;

    // Bytes ahead of the AVX-512 loop that it asks the cache to fetch: the hardware prefetcher stops
    // at 4 KB page boundaries, which costs most when decoding from a memory map (~10 % measured)
    private const int PrefetchDistance = 2048;
    private const long Loop = 1L << 32;

    private uint _last;
    private long _loops;
    private uint _maxX;
    private uint _maxY;
    private long _dataOffset;

    /// <summary>Opens a DAT stream and reads its header and event type/size bytes.</summary>
    /// <param name="stream">The DAT bytes, positioned at the header.</param>
    /// <param name="sourceName">File path or peer, used in errors and warnings.</param>
    /// <param name="options">Reader options (strictness, bounds, buffer size); null for defaults.</param>
    /// <param name="leaveOpen">True to leave <paramref name="stream"/> open on dispose.</param>
    public DatReader(Stream stream, string sourceName, ReaderOptions? options = null, bool leaveOpen = false)
        : base(stream, sourceName, options, leaveOpen, 8, "DAT record", null)
    {
        try
        {
            ReadTypeAndSize();
        }
        catch
        {
            Core.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public override EventFormat Format => EventFormat.Dat;

    /// <summary>Offset of the first record (after the header and the type/size bytes).</summary>
    public override long DataOffset => _dataOffset;

    /// <summary>The event type byte (0 Event2d, 12 EventCD, 14 trigger); -1 when the file ends before it.</summary>
    public int EventType { get; private set; } = -1;

    /// <summary>True for a trigger file (event type 14): records become triggers, not events.</summary>
    public bool IsTriggerFile => EventType == 14;

    /// <summary>Widest vector path used, in bits: 512 (AVX-512 when the CPU has it), 256, or 0 for record by record (tests compare them).</summary>
    internal int VectorWidth { get; init; } = 512;

    /// <summary>Opens a file.</summary>
    public static DatReader Open(string path, ReaderOptions? options = null) => OpenFile(path, fs => new DatReader(fs, path, options));

    private protected override int Decode(ByteInput input, int units, EventBatch batch, ref int n) =>
        IsTriggerFile
            ? DecodeTriggers(input.Span, Math.Min(units, batch.Triggers.Capacity - batch.Triggers.Count), batch.Triggers)
            : Decode(input.Span, Math.Min(units, batch.Capacity - n), batch, ref n);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe ulong Load(byte* p)
    {
        ulong v = Unsafe.ReadUnaligned<ulong>(p);
        return BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
    }

    private void ReadTypeAndSize()
    {
        ByteInput input = Core.Input;
        if (!input.Ensure(2))
        {
            // header only (no events), or cut inside the type/size bytes (a truncation)
            Core.EndOfData(2, "event type/size");
            _dataOffset = input.Position;
            return;
        }

        long at = input.Position;
        int type = input.Span[0];
        int size = input.Span[1];
        if (size != 8)
        {
            throw new EventFormatException(SourceName, at + 1, $"event size {size} is not supported (DAT events are 8 bytes)", "event size");
        }

        if (type is not (0 or 12 or 14))
        {
            throw new EventFormatException(SourceName, at, $"event type {type} is not supported (0 Event2d, 12 EventCD, 14 trigger)", "event type");
        }

        EventType = type;
        input.Advance(2);
        _dataOffset = input.Position;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long Unwrap(uint t)
    {
        if (t < _last && _last - t >= HalfRange)
        {
            _loops += Loop;
        }

        _last = t;
        return _loops + t;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe int Decode(ReadOnlySpan<byte> bytes, int records, EventBatch batch, ref int n)
    {
        fixed (byte* b = bytes)
        fixed (long* tp = batch.T)
        fixed (ushort* xp = batch.X)
        fixed (ushort* yp = batch.Y)
        fixed (byte* pp = batch.P)
        {
            int k = n;
            DecodeRecords(b, records, tp + k, xp + k, yp + k, pp + k, ref _last, ref _loops, ref _maxX, ref _maxY, VectorWidth);
            n = k + records;
            return records;
        }
    }

    /// <summary>
    /// Decodes <paramref name="records"/> 8-byte CD records at <paramref name="b"/> into the SoA
    /// arrays, unwrapping the 32-bit timestamps with <paramref name="last"/> / <paramref name="loops"/>
    /// and raising <paramref name="maxX"/> / <paramref name="maxY"/> to the largest x and y decoded.
    /// Runs of 32 (AVX-512) or 16 (AVX2) records whose timestamps all lie in
    /// [last, last + 2^31) — where no wrap is possible — are decoded as vectors, everything else
    /// record by record; <paramref name="width"/> caps the vector width (0: records one by one).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void DecodeRecords(byte* b, int records, long* tp, ushort* xp, ushort* yp, byte* pp, ref uint last, ref long loops, ref uint maxX, ref uint maxY, int width)
    {
        uint lastT = last;
        long wraps = loops;
        Vector512<uint> mx512 = Vector512<uint>.Zero, my512 = Vector512<uint>.Zero;
        uint mx = maxX, my = maxY;
        int i = 0;
        bool v512 = width >= 512 && BitConverter.IsLittleEndian && Avx512F.IsSupported;
        bool v256 = width >= 256 && BitConverter.IsLittleEndian && Avx2.IsSupported;
        Vector256<uint> m14 = Vector256.Create(0x3FFFu);
        Vector256<uint> fifteen = Vector256.Create(15u);
        Vector256<ulong> low32 = Vector256.Create(0xFFFF_FFFFUL);
        Vector256<ulong> fromBit31 = Vector256.Create(~0x7FFF_FFFFUL);
        Vector256<int> order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
        Vector256<ushort> mx16 = Vector256<ushort>.Zero, my16 = Vector256<ushort>.Zero;
        while (i < records)
        {
            if (v512 && records - i >= 32)
            {
                int done = Decode32Avx512(b + ((nint)i << 3), records - i, tp + i, xp + i, yp + i, pp + i, ref lastT, wraps, ref mx512, ref my512);
                i += done;
                if (i == records)
                {
                    break;
                }
            }

            int groupEnd = Math.Min(records, i + 16);
            if (v256 && groupEnd - i == 16)
            {
                // 16 records at a time while timestamps stay within [lastT, lastT + 2^31), where no wrap is possible
                byte* r = b + ((nint)i << 3);
                Vector256<ulong> r0 = Avx.LoadVector256((ulong*)r);
                Vector256<ulong> r1 = Avx.LoadVector256((ulong*)(r + 32));
                Vector256<ulong> r2 = Avx.LoadVector256((ulong*)(r + 64));
                Vector256<ulong> r3 = Avx.LoadVector256((ulong*)(r + 96));

                // timestamps: each record's low half, zero-extended in its own 64-bit lane; all 16 lie in
                // [lastT, lastT + 2^31) exactly when no difference t - lastT has a bit at or above bit 31
                Vector256<ulong> t0 = r0 & low32, t1 = r1 & low32, t2 = r2 & low32, t3 = r3 & low32;
                Vector256<ulong> lastV = Vector256.Create((ulong)lastT);
                Vector256<ulong> spread = (t0 - lastV) | (t1 - lastV) | (t2 - lastV) | (t3 - lastV);
                if (Avx.TestZ(spread, fromBit31))
                {
                    Vector256<long> lv = Vector256.Create(wraps);
                    long* tk = tp + i;
                    Avx.Store(tk, t0.AsInt64() + lv);
                    Avx.Store(tk + 4, t1.AsInt64() + lv);
                    Avx.Store(tk + 8, t2.AsInt64() + lv);
                    Avx.Store(tk + 12, t3.AsInt64() + lv);

                    // each record's word w in the low half of its lane (the high half zero), then x, y and
                    // polarity per 32-bit lane, packed to 16 bits (values < 2^14: no saturation) in three
                    // in-lane steps whose 32-bit pairs one cross-lane permute puts back in record order
                    Vector256<uint> w0 = Avx2.ShiftRightLogical(r0, 32).AsUInt32();
                    Vector256<uint> w1 = Avx2.ShiftRightLogical(r1, 32).AsUInt32();
                    Vector256<uint> w2 = Avx2.ShiftRightLogical(r2, 32).AsUInt32();
                    Vector256<uint> w3 = Avx2.ShiftRightLogical(r3, 32).AsUInt32();
                    Vector256<ushort> xs = Pack16(w0 & m14, w1 & m14, w2 & m14, w3 & m14, order);
                    Vector256<ushort> ys = Pack16((w0 >> 14) & m14, (w1 >> 14) & m14, (w2 >> 14) & m14, (w3 >> 14) & m14, order);
                    Vector256<ushort> ps = Pack16(((w0 >> 28) + fifteen) >> 4, ((w1 >> 28) + fifteen) >> 4, ((w2 >> 28) + fifteen) >> 4, ((w3 >> 28) + fifteen) >> 4, order);
                    Avx.Store(xp + i, xs);
                    Avx.Store(yp + i, ys);
                    Sse2.Store(pp + i, Sse2.PackUnsignedSaturate(ps.GetLower().AsInt16(), ps.GetUpper().AsInt16()));
                    mx16 = Avx2.Max(mx16, xs);
                    my16 = Avx2.Max(my16, ys);
                    lastT = (uint)t3.GetElement(3);
                    i += 16;
                    continue;
                }
            }

            for (; i < groupEnd; i++)
            {
                ulong rec = Load(b + ((nint)i << 3));
                uint t = (uint)rec;
                uint w = (uint)(rec >> 32);
                if (t < lastT && lastT - t >= HalfRange)
                {
                    wraps += Loop;
                }

                lastT = t;
                tp[i] = wraps + t;
                uint x = w & 0x3FFF, y = (w >> 14) & 0x3FFF;
                xp[i] = (ushort)x;
                yp[i] = (ushort)y;
                mx = Math.Max(mx, x);
                my = Math.Max(my, y);
                pp[i] = (byte)(((w >> 28) + 15) >> 4);
            }
        }

        last = lastT;
        loops = wraps;
        maxX = Math.Max(mx, Math.Max(MaxElement(Vector256.Max(mx512.GetLower(), mx512.GetUpper())), MaxElement(mx16)));
        maxY = Math.Max(my, Math.Max(MaxElement(Vector256.Max(my512.GetLower(), my512.GetUpper())), MaxElement(my16)));
    }

    /// <summary>
    /// Packs the low 16 bits of the 32-bit lanes 0, 2, 4, 6 of <paramref name="a"/>..<paramref name="d"/>
    /// (the words of records 0-15, each 32-bit lane pair holding one record; the odd lanes zero) into 16
    /// words in record order: three in-lane VPACKUSDW (exact for values below 2^16) and one VPERMD.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ushort> Pack16(Vector256<uint> a, Vector256<uint> b, Vector256<uint> c, Vector256<uint> d, Vector256<int> order)
    {
        Vector256<ushort> ab = Avx2.PackUnsignedSaturate(a.AsInt32(), b.AsInt32());
        Vector256<ushort> cd = Avx2.PackUnsignedSaturate(c.AsInt32(), d.AsInt32());
        Vector256<ushort> all = Avx2.PackUnsignedSaturate(ab.AsInt32(), cd.AsInt32());
        return Avx2.PermuteVar8x32(all.AsInt32(), order).AsUInt16();
    }

    private static uint MaxElement<TLane>(Vector256<TLane> v)
        where TLane : unmanaged, IBinaryInteger<TLane>, IUnsignedNumber<TLane>
    {
        uint max = 0;
        for (int i = 0; i < Vector256<TLane>.Count; i++)
        {
            max = Math.Max(max, uint.CreateTruncating(v.GetElement(i)));
        }

        return max;
    }

    /// <summary>
    /// AVX-512 steps of 32 records (four 512-bit loads) while their timestamps stay in
    /// [last, last + 2^31): timestamps are the records with the high half masked off plus the
    /// wrap count; two-source dword permutes gather the 32-bit words, VPMOVDW / VPMOVDB narrow
    /// x, y and polarity; <paramref name="maxX"/> / <paramref name="maxY"/> keep the largest x and y
    /// per lane. Returns the records done (a multiple of 32; fewer than 32 remain, or the
    /// next 32 hold a possible wrap).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int Decode32Avx512(byte* b, int records, long* tp, ushort* xp, ushort* yp, byte* pp, ref uint lastRef, long loops, ref Vector512<uint> maxX, ref Vector512<uint> maxY)
    {
        Vector512<uint> even = Vector512.Create(0u, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        Vector512<uint> odd = even + Vector512<uint>.One;
        Vector512<uint> m14 = Vector512.Create(0x3FFFu);
        Vector512<uint> half = Vector512.Create(HalfRange);
        Vector512<uint> fifteen = Vector512.Create(15u);
        Vector512<ulong> low = Vector512.Create(0xFFFF_FFFFUL);
        Vector512<long> lv = Vector512.Create(loops);
        uint last = lastRef;
        Vector512<uint> mx = maxX, my = maxY;
        int i = 0;
        for (; i <= records - 32; i += 32)
        {
            byte* r = b + ((nint)i << 3);
            byte* f = r + PrefetchDistance; // prefetches never fault, also past the end of the data
            Sse.Prefetch0(f);
            Sse.Prefetch0(f + 64);
            Sse.Prefetch0(f + 128);
            Sse.Prefetch0(f + 192);

            Vector512<ulong> r0 = Vector512.Load((ulong*)r);
            Vector512<ulong> r1 = Vector512.Load((ulong*)(r + 64));
            Vector512<ulong> r2 = Vector512.Load((ulong*)(r + 128));
            Vector512<ulong> r3 = Vector512.Load((ulong*)(r + 192));
            Vector512<uint> ta = Avx512F.PermuteVar16x32x2(r0.AsUInt32(), even, r1.AsUInt32());
            Vector512<uint> tb = Avx512F.PermuteVar16x32x2(r2.AsUInt32(), even, r3.AsUInt32());
            Vector512<uint> lastV = Vector512.Create(last);
            if (!(Vector512.GreaterThanOrEqualAll(ta, lastV) && Vector512.GreaterThanOrEqualAll(tb, lastV) &&
                  Vector512.LessThanAll(ta - lastV, half) && Vector512.LessThanAll(tb - lastV, half)))
            {
                break;
            }

            long* tk = tp + i;
            Vector512.Store((r0 & low).AsInt64() + lv, tk);
            Vector512.Store((r1 & low).AsInt64() + lv, tk + 8);
            Vector512.Store((r2 & low).AsInt64() + lv, tk + 16);
            Vector512.Store((r3 & low).AsInt64() + lv, tk + 24);
            Vector512<uint> wa = Avx512F.PermuteVar16x32x2(r0.AsUInt32(), odd, r1.AsUInt32());
            Vector512<uint> wb = Avx512F.PermuteVar16x32x2(r2.AsUInt32(), odd, r3.AsUInt32());
            Vector512<uint> xa = wa & m14, xb = wb & m14, ya = (wa >> 14) & m14, yb = (wb >> 14) & m14;
            Vector256.Store(Avx512F.ConvertToVector256UInt16(xa), xp + i);
            Vector256.Store(Avx512F.ConvertToVector256UInt16(xb), xp + i + 16);
            Vector256.Store(Avx512F.ConvertToVector256UInt16(ya), yp + i);
            Vector256.Store(Avx512F.ConvertToVector256UInt16(yb), yp + i + 16);
            mx = Vector512.Max(mx, Vector512.Max(xa, xb));
            my = Vector512.Max(my, Vector512.Max(ya, yb));
            Vector128.Store(Avx512F.ConvertToVector128Byte(((wa >> 28) + fifteen) >> 4), pp + i);
            Vector128.Store(Avx512F.ConvertToVector128Byte(((wb >> 28) + fifteen) >> 4), pp + i + 16);
            last = tb.GetElement(15);
        }

        lastRef = last;
        maxX = mx;
        maxY = my;
        return i;
    }

    /// <inheritdoc />
    private protected override void TrackBatch(EventBatch batch)
    {
        // the largest x and y of the batch were found while decoding it
        Core.Track(batch, (int)_maxX, (int)_maxY);
        _maxX = 0;
        _maxY = 0;
    }

    private int DecodeTriggers(ReadOnlySpan<byte> span, int records, TriggerBuffer triggers)
    {
        for (int i = 0; i < records; i++)
        {
            uint t = BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(i << 3, 4));
            uint w = BinaryPrimitives.ReadUInt32LittleEndian(span.Slice((i << 3) + 4, 4));
            long ts = Unwrap(t);
            var kind = (w & 0xF) != 0 ? TriggerKind.ExternalRising : TriggerKind.ExternalFalling;
            triggers.Add(new TriggerEvent(ts, kind, (int)(w >> 26)));
        }

        return records;
    }
}
