using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
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
/// </summary>
public sealed class Evt3Reader : IDvsEventReader
{
    private const uint HalfRange = 1u << 11;
    private const long Loop = 1L << 24;

    private readonly PropheseeCore _core;
    private bool _haveTimeHigh;
    private uint _high;
    private uint _low;
    private long _loops;
    private long _t;
    private ushort _y;
    private bool _isCd = true;
    private int _baseX;
    private byte _pol;
    private uint _pendingMask;
    private int _pendingBase;

    /// <summary>Opens an EVT 3.0 stream and reads its header.</summary>
    /// <param name="stream">The RAW bytes, positioned at the header.</param>
    /// <param name="sourceName">File path or peer, used in errors and warnings.</param>
    /// <param name="options">Reader options (strictness, bounds, buffer size); null for defaults.</param>
    /// <param name="leaveOpen">True to leave <paramref name="stream"/> open on dispose.</param>
    public Evt3Reader(Stream stream, string sourceName, ReaderOptions? options = null, bool leaveOpen = false)
    {
        _core = new PropheseeCore(stream, sourceName, options, leaveOpen);
        try
        {
            _core.RequireFormat(EventFormat.Evt3);
        }
        catch
        {
            _core.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public string SourceName => _core.SourceName;

    /// <inheritdoc />
    public EventFormat Format => EventFormat.Evt3;

    /// <inheritdoc />
    public long Position => _core.Input.Position;

    /// <inheritdoc />
    public IReadOnlyList<FormatWarning> Warnings => _core.Warnings;

    /// <summary>Declared geometry, else the one implied by the largest address seen so far (Unknown before any event).</summary>
    public SensorGeometry Geometry => _core.Geometry;

    /// <summary>The file header ('% key value' lines).</summary>
    public PropheseeHeader Header => _core.Header;

    /// <summary>Offset of the first data byte (just after the header).</summary>
    public long DataOffset => _core.DataOffset;

    /// <summary>Events read so far whose address lies outside the declared geometry (kept, not dropped).</summary>
    public long OutOfGeometryEvents => _core.OutOfGeometry;

    /// <summary>Opens a file.</summary>
    public static Evt3Reader Open(string path, ReaderOptions? options = null)
    {
        FileStream fs = PropheseeCore.OpenFile(path);
        try
        {
            return new Evt3Reader(fs, path, options);
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public bool Read(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        _core.ThrowIfDisposed();
        batch.Clear();
        ByteInput input = _core.Input;
        TriggerBuffer triggers = batch.Triggers;
        int cap = batch.Capacity;
        int n = 0;
        if (_pendingMask != 0)
        {
            n = DrainPending(batch);
        }

        while (n < cap && _pendingMask == 0 && triggers.Count < triggers.Capacity && !_core.Ended)
        {
            if (input.Available < 2 && !input.Ensure(2))
            {
                _core.EndOfData(2, "EVT 3.0 word");
                break;
            }

            int words = input.Available >> 1;
            int used = Decode(input.Buffer, input.Start, words, batch, ref n, input.Position);
            input.Advance(used << 1);
            if (used < words)
            {
                break; // batch or trigger buffer full
            }
        }

        batch.SetCount(n);
        _core.Track(batch);
        return n > 0 || triggers.Count > 0;
    }

    /// <inheritdoc />
    public void Dispose() => _core.Dispose();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe uint Load(byte* p)
    {
        ushort v = Unsafe.ReadUnaligned<ushort>(p);
        return BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
    }

    private int DrainPending(EventBatch batch)
    {
        int k = 0;
        uint mask = _pendingMask;
        while (mask != 0 && k < batch.Capacity)
        {
            int bit = BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            batch.T[k] = _t;
            batch.X[k] = (ushort)(_pendingBase + bit);
            batch.Y[k] = _y;
            batch.P[k] = _pol;
            k++;
        }

        _pendingMask = mask;
        return k;
    }

    /// <summary>Decodes words until the input chunk ends or the batch fills; returns the words consumed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe int Decode(byte[] buffer, int start, int words, EventBatch batch, ref int n, long offset)
    {
        fixed (byte* b = &buffer[start])
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
                    uint v = Load(b + ((nint)i << 1));
                    if ((v >> 12) == 0x8)
                    {
                        _haveTimeHigh = true;
                        _high = v & 0xFFF;
                        _low = 0;
                        _t = (long)_high << 12;
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
            int k = n;
            long t = _t;
            ushort y = _y;
            int baseX = _baseX;
            byte pol = _pol;
            bool isCd = _isCd;
            for (; i < words; i++)
            {
                uint v = Load(b + ((nint)i << 1));
                switch (v >> 12)
                {
                    case 0x2:
                        if (isCd)
                        {
                            if (k >= cap)
                            {
                                goto Stop;
                            }

                            tp[k] = t;
                            xp[k] = (ushort)(v & 0x7FF);
                            yp[k] = y;
                            pp[k] = (byte)((v >> 11) & 1);
                            k++;
                        }

                        break;
                    case 0x0:
                        y = (ushort)(v & 0x7FF);
                        isCd = true;
                        break;
                    case 0x3:
                        baseX = (int)(v & 0x7FF);
                        pol = (byte)((v >> 11) & 1);
                        break;
                    case 0x4:
                    case 0x5:
                        {
                            uint mask;
                            int width;
                            if ((v >> 12) == 0x4)
                            {
                                mask = v & 0xFFF;
                                width = 12;
                                if (i + 2 < words)
                                {
                                    // the usual VECT_12, VECT_12, VECT_8 pattern: one 32-pixel mask
                                    uint v1 = Load(b + ((nint)(i + 1) << 1));
                                    uint v2 = Load(b + ((nint)(i + 2) << 1));
                                    if ((v1 >> 12) == 0x4 && (v2 >> 12) == 0x5)
                                    {
                                        mask |= ((v1 & 0xFFF) << 12) | ((v2 & 0xFF) << 24);
                                        width = 32;
                                        i += 2;
                                    }
                                }
                            }
                            else
                            {
                                mask = v & 0xFF;
                                width = 8;
                            }

                            if (isCd && mask != 0)
                            {
                                if (k + 32 <= cap)
                                {
                                    k = width == 32
                                        ? MaskEmitter.Emit32(mask, baseX, t, y, pol, tp, xp, yp, pp, k)
                                        : MaskEmitter.Emit16(mask, baseX, t, y, pol, tp, xp, yp, pp, k);
                                }
                                else
                                {
                                    while (mask != 0 && k < cap)
                                    {
                                        int bit = BitOperations.TrailingZeroCount(mask);
                                        mask &= mask - 1;
                                        tp[k] = t;
                                        xp[k] = (ushort)(baseX + bit);
                                        yp[k] = y;
                                        pp[k] = pol;
                                        k++;
                                    }

                                    if (mask != 0 || k >= cap)
                                    {
                                        _pendingMask = mask;
                                        _pendingBase = baseX;
                                        baseX += width;
                                        i++;
                                        goto Stop;
                                    }
                                }
                            }

                            baseX += width;
                            break;
                        }

                    case 0x6:
                        _low = v & 0xFFF;
                        t = _loops + ((long)_high << 12) + _low;
                        break;
                    case 0x8:
                        t = TimeHigh(v & 0xFFF);
                        break;
                    case 0x1:
                        y = (ushort)(v & 0x7FF);
                        isCd = false;
                        break;
                    case 0xA:
                        {
                            var kind = (v & 1) != 0 ? TriggerKind.ExternalRising : TriggerKind.ExternalFalling;
                            batch.Triggers.Add(new TriggerEvent(t, kind, (int)((v >> 8) & 0xF)));
                            if (batch.Triggers.Count >= batch.Triggers.Capacity)
                            {
                                i++;
                                goto Stop;
                            }

                            break;
                        }

                    case 0x7:
                    case 0xD:
                    case 0xE:
                    case 0xF:
                        break;
                    default:
                        _core.UnknownWord(offset + ((long)i << 1), (int)(v >> 12), "EVT 3.0");
                        break;
                }
            }

        Stop:
            _t = t;
            _y = y;
            _baseX = baseX;
            _pol = pol;
            _isCd = isCd;
            n = k;
            return i;
        }
    }

    private long TimeHigh(uint high)
    {
        if (_high >= HalfRange + high)
        {
            _loops += Loop;
        }

        if (high != _high)
        {
            _low = 0;
        }

        _high = high;
        _t = _loops + ((long)high << 12) + _low;
        return _t;
    }
}
