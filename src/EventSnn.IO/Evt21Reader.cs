using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// Streaming reader of Prophesee RAW EVT 2.1 files: an ASCII '%' header, then 64-bit words,
/// type in bits 63..60: EVT_NEG (0x0) / EVT_POS (0x1) carry time bits 5..0 (59..54), a base x
/// (53..43), y (42..32) and a 32-bit validity mask (31..0): one event at base + i for each set
/// bit i; TIME_HIGH (0x8) carries time bits 33..6 in 59..32; EXT_TRIGGER (0xA) carries time bits
/// 5..0, channel id (44..40) and value (32); OTHERS (0xE) and CONTINUED (0xF) are skipped.
/// Word order in the file: by default each word is a little-endian uint64 (the mask half
/// first, as OpenEB's EVT21Decoder); when the header's format line says 'endianness=legacy'
/// the half holding the type comes first (OpenEB's EVT21LegacyDecoder, IMX636 style).
/// Words before the first TIME_HIGH are ignored; the 34-bit time wraps like EVT 2.0.
/// </summary>
public sealed class Evt21Reader : PropheseeReader
{
    private const uint TimeHighMask = 0x0FFF_FFFF;
    private const uint HalfRange = 1u << 27;
    private const long Loop = 1L << 34;

    private bool _haveTimeHigh;
    private uint _timeHigh;
    private long _loops;
    private long _timeBase;
    private uint _pendingMask;
    private int _pendingBase;
    private long _pendingT;
    private ushort _pendingY;
    private byte _pendingP;

    /// <summary>Opens an EVT 2.1 stream and reads its header.</summary>
    /// <param name="stream">The RAW bytes, positioned at the header.</param>
    /// <param name="sourceName">File path or peer, used in errors and warnings.</param>
    /// <param name="options">Reader options (strictness, bounds, buffer size); null for defaults.</param>
    /// <param name="leaveOpen">True to leave <paramref name="stream"/> open on dispose.</param>
    public Evt21Reader(Stream stream, string sourceName, ReaderOptions? options = null, bool leaveOpen = false)
        : base(stream, sourceName, options, leaveOpen, 8, "EVT 2.1 word", EventFormat.Evt21)
    {
        LegacyWordOrder = Core.Header.LegacyEvt21WordOrder;
    }

    /// <inheritdoc />
    public override EventFormat Format => EventFormat.Evt21;

    /// <summary>True when words are stored type-half first ('endianness=legacy' in the header).</summary>
    public bool LegacyWordOrder { get; }

    /// <summary>Opens a file.</summary>
    public static Evt21Reader Open(string path, ReaderOptions? options = null) => OpenFile(path, fs => new Evt21Reader(fs, path, options));

    private protected override bool HasPending => _pendingMask != 0;

    private protected override int Decode(ByteInput input, int units, EventBatch batch, ref int n) =>
        Decode(input.Span, units, batch, ref n, input.Position);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe ulong Load(byte* p)
    {
        ulong v = Unsafe.ReadUnaligned<ulong>(p);
        if (!BitConverter.IsLittleEndian)
        {
            v = BinaryPrimitives.ReverseEndianness(v);
        }

        return LegacyWordOrder ? BitOperations.RotateLeft(v, 32) : v;
    }

    private protected override int DrainPending(EventBatch batch)
    {
        int k = 0;
        uint mask = _pendingMask;
        while (mask != 0 && k < batch.Capacity)
        {
            int bit = BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            batch.T[k] = _pendingT;
            batch.X[k] = (ushort)(_pendingBase + bit);
            batch.Y[k] = _pendingY;
            batch.P[k] = _pendingP;
            k++;
        }

        _pendingMask = mask;
        return k;
    }

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
                    ulong v = Load(b + ((nint)i << 3));
                    if ((v >> 60) == 0x8)
                    {
                        _haveTimeHigh = true;
                        _timeHigh = (uint)(v >> 32) & TimeHighMask;
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

            int cap = batch.Capacity;
            long tb = _timeBase;
            int k = n;
            for (; i < words; i++)
            {
                ulong v = Load(b + ((nint)i << 3));
                uint type = (uint)(v >> 60);
                if (type <= 1)
                {
                    uint mask = (uint)v;
                    if (mask == 0)
                    {
                        continue;
                    }

                    long t = tb + (long)((v >> 54) & 63);
                    int x0 = (int)((v >> 43) & 0x7FF);
                    ushort y = (ushort)((v >> 32) & 0x7FF);
                    byte p = (byte)type;
                    if (k + 32 <= cap)
                    {
                        k = MaskEmitter.Emit32(mask, x0, t, y, p, tp, xp, yp, pp, k);
                    }
                    else
                    {
                        while (mask != 0 && k < cap)
                        {
                            int bit = BitOperations.TrailingZeroCount(mask);
                            mask &= mask - 1;
                            tp[k] = t;
                            xp[k] = (ushort)(x0 + bit);
                            yp[k] = y;
                            pp[k] = p;
                            k++;
                        }

                        if (mask != 0 || k >= cap)
                        {
                            _pendingMask = mask;
                            _pendingBase = x0;
                            _pendingT = t;
                            _pendingY = y;
                            _pendingP = p;
                            i++;
                            break;
                        }
                    }
                }
                else if (type == 0x8)
                {
                    uint th = (uint)(v >> 32) & TimeHighMask;
                    if (th < _timeHigh && _timeHigh - th >= HalfRange)
                    {
                        _loops += Loop;
                    }

                    _timeHigh = th;
                    tb = _loops + ((long)th << 6);
                }
                else if (type == 0xA)
                {
                    long t = tb + (long)((v >> 54) & 63);
                    var kind = ((v >> 32) & 1) != 0 ? TriggerKind.ExternalRising : TriggerKind.ExternalFalling;
                    batch.Triggers.Add(new TriggerEvent(t, kind, (int)((v >> 40) & 0x1F)));
                    if (batch.Triggers.Count >= batch.Triggers.Capacity)
                    {
                        i++;
                        break;
                    }
                }
                else if (type is not (0xE or 0xF))
                {
                    Core.UnknownWord(offset + ((long)i << 3), (int)type, "EVT 2.1");
                }
            }

            _timeBase = tb;
            n = k;
            return i;
        }
    }
}
