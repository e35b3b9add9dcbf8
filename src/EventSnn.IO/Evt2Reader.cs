using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Streaming reader of Prophesee RAW EVT 2.0 files: an ASCII '%' header, then little-endian
/// 32-bit words whose bits 31..28 give the type: CD_OFF (0x0) / CD_ON (0x1) carry time bits 5..0
/// (27..22), x (21..11) and y (10..0); TIME_HIGH (0x8) carries time bits 33..6; EXT_TRIGGER (0xA)
/// carries time bits 5..0, channel id (12..8) and value (0); IMU (0xD), OTHERS (0xE) and
/// CONTINUED (0xF) are skipped. Words before the first TIME_HIGH are ignored. The 34-bit time
/// wraps: a TIME_HIGH lower than the previous one by at least half its range adds 2^34 us.
/// Decodes straight from a pooled buffer into the batch arrays; memory stays constant.
/// </summary>
public sealed class Evt2Reader : PropheseeReader
{
    private const uint TimeHighMask = 0x0FFF_FFFF;
    private const uint HalfRange = 1u << 27;
    private const long Loop = 1L << 34;

    private bool _haveTimeHigh;
    private uint _timeHigh;
    private long _loops;
    private long _timeBase;

    /// <summary>Opens an EVT 2.0 stream and reads its header.</summary>
    /// <param name="stream">The RAW bytes, positioned at the header.</param>
    /// <param name="sourceName">File path or peer, used in errors and warnings.</param>
    /// <param name="options">Reader options (strictness, bounds, buffer size); null for defaults.</param>
    /// <param name="leaveOpen">True to leave <paramref name="stream"/> open on dispose.</param>
    public Evt2Reader(Stream stream, string sourceName, ReaderOptions? options = null, bool leaveOpen = false)
        : base(stream, sourceName, options, leaveOpen, 4, "EVT 2.0 word", EventFormat.Evt2)
    {
    }

    /// <inheritdoc />
    public override EventFormat Format => EventFormat.Evt2;

    /// <summary>Opens a file.</summary>
    public static Evt2Reader Open(string path, ReaderOptions? options = null) => OpenFile(path, fs => new Evt2Reader(fs, path, options));

    private protected override int Decode(ByteInput input, int units, EventBatch batch, ref int n) =>
        Decode(input.Span, Math.Min(units, batch.Capacity - n), batch, ref n, input.Position);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe uint Load(byte* p)
    {
        uint v = Unsafe.ReadUnaligned<uint>(p);
        return BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
    }

    /// <summary>Decodes up to <paramref name="words"/> words (each yields at most one event); returns the words consumed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe int Decode(ReadOnlySpan<byte> bytes, int words, EventBatch batch, ref int n, long offset)
    {
        fixed (byte* b = bytes)
        fixed (long* tp = batch.T)
        fixed (ushort* xp = batch.X)
        fixed (ushort* yp = batch.Y)
        fixed (byte* pp = batch.P)
        {
            int i = 0;
            if (!_haveTimeHigh)
            {
                for (; i < words; i++)
                {
                    uint v = Load(b + ((nint)i << 2));
                    if ((v >> 28) == 0x8)
                    {
                        _haveTimeHigh = true;
                        _timeHigh = v & TimeHighMask;
                        _timeBase = (long)_timeHigh << 6;
                        i++;
                        break;
                    }
                }

                if (!_haveTimeHigh)
                {
                    return i;
                }
            }

            long tb = _timeBase;
            int k = n;
            while (i < words)
            {
                int groupEnd = Math.Min(words, i + 16);
                if (BitConverter.IsLittleEndian && Vector256.IsHardwareAccelerated && groupEnd - i == 16)
                {
                    // 16 words at a time when all are CD events (the common case at high event rates)
                    Vector256<uint> a = Vector256.Load((uint*)(b + ((nint)i << 2)));
                    Vector256<uint> c = Vector256.Load((uint*)(b + ((nint)i << 2) + 32));
                    if (((a | c) & Vector256.Create(0xE000_0000u)) == Vector256<uint>.Zero)
                    {
                        Vector256<uint> m11 = Vector256.Create(0x7FFu);
                        Vector256.Store(Vector256.Narrow((a >> 11) & m11, (c >> 11) & m11), xp + k);
                        Vector256.Store(Vector256.Narrow(a & m11, c & m11), yp + k);
                        Vector256<ushort> pw = Vector256.Narrow(a >> 28, c >> 28);
                        Vector128.Store(Vector128.Narrow(pw.GetLower(), pw.GetUpper()), pp + k);
                        Vector256<long> tv = Vector256.Create(tb);
                        Vector256<uint> m6 = Vector256.Create(63u);
                        (Vector256<ulong> a0, Vector256<ulong> a1) = Vector256.Widen((a >> 22) & m6);
                        (Vector256<ulong> c0, Vector256<ulong> c1) = Vector256.Widen((c >> 22) & m6);
                        long* tk = tp + k;
                        Vector256.Store(a0.AsInt64() + tv, tk);
                        Vector256.Store(a1.AsInt64() + tv, tk + 4);
                        Vector256.Store(c0.AsInt64() + tv, tk + 8);
                        Vector256.Store(c1.AsInt64() + tv, tk + 12);
                        k += 16;
                        i += 16;
                        continue;
                    }
                }

                for (; i < groupEnd; i++)
                {
                    uint v = Load(b + ((nint)i << 2));
                    uint type = v >> 28;
                    if (type <= 1)
                    {
                        tp[k] = tb + ((v >> 22) & 63);
                        xp[k] = (ushort)((v >> 11) & 0x7FF);
                        yp[k] = (ushort)(v & 0x7FF);
                        pp[k] = (byte)type;
                        k++;
                    }
                    else if (type == 0x8)
                    {
                        tb = TimeHigh(v);
                    }
                    else if (!Other(v, type, tb, batch, offset + ((long)i << 2)))
                    {
                        n = k;
                        return i + 1;
                    }
                }
            }

            n = k;
            return i;
        }
    }

    private long TimeHigh(uint v)
    {
        uint th = v & TimeHighMask;
        if (th < _timeHigh && _timeHigh - th >= HalfRange)
        {
            _loops += Loop;
        }

        _timeHigh = th;
        _timeBase = _loops + ((long)th << 6);
        return _timeBase;
    }

    /// <summary>Triggers and skipped types; returns false when the trigger buffer became full.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Other(uint v, uint type, long timeBase, EventBatch batch, long offset)
    {
        switch (type)
        {
            case 0xA:
                long t = timeBase + ((v >> 22) & 63);
                var kind = (v & 1) != 0 ? TriggerKind.ExternalRising : TriggerKind.ExternalFalling;
                batch.Triggers.Add(new TriggerEvent(t, kind, (int)((v >> 8) & 0x1F)));
                return batch.Triggers.Count < batch.Triggers.Capacity;
            case 0xD:
            case 0xE:
            case 0xF:
                return true;
            default:
                Core.UnknownWord(offset, (int)type, "EVT 2.0");
                return true;
        }
    }
}
