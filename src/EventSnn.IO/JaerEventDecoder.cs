using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EventSnn.Events;

namespace EventSnn.IO;

/// <summary>
/// Stateful decoder of jAER raw records — big-endian (address, int32 timestamp) pairs as
/// stored in AEDAT 1.0 (int16 address, 6 bytes) and AEDAT 2.0 (int32 address, 8 bytes)
/// files and sent by jAER's UDP/TCP streams — straight into the struct-of-arrays
/// <see cref="EventBatch"/>. Allocation-free per call; reuse one instance per stream.
/// </summary>
/// <remarks>
/// <para>Address decoding and the x/y/polarity convention: see <see cref="JaerAddress"/>.</para>
/// <para>
/// <b>Timestamps.</b> jAER timestamps are int32 microseconds that wrap every 2^32 us
/// (about 71.6 min: "Time is negative, then positive, then negative again", jAER
/// <c>AEFileInputStream</c> class comment), and jAER compares them by int32 subtraction.
/// This decoder does the same and unwraps to int64: the first timestamp is taken as an
/// unsigned 32-bit value, every later one as the previous unwrapped time plus the signed
/// 32-bit difference <c>(int)(raw - previousRaw)</c>. So the wrap from 0x7FFFFFFF to
/// 0x80000000 (large positive to negative) and from 0xFFFFFFFF to 0 continue forward,
/// while a backward step smaller than 2^31 (a timestamp reset, slightly out-of-order IMU
/// samples) stays backward. The state covers every record, including skipped APS/IMU words.
/// </para>
/// <para>
/// <b>Records that are not DVS events.</b> DVS128 external (bit 15/31) and DAVIS external
/// input (bit 10) records become <see cref="TriggerKind.External"/> triggers whose
/// <see cref="TriggerEvent.Data"/> is the raw address. DAVIS APS samples and IMU words are
/// skipped and counted; IMU words are assembled into <see cref="JaerImuSample"/>s
/// (7 words, type codes 0..6 in order, like jAER's <c>IMUSample.constructFromAEPacketRaw</c>)
/// and passed to <see cref="ImuSampleReceived"/> when set. DVS events whose address lies
/// outside the known sensor are dropped and counted in <see cref="EventsOutOfRange"/>.
/// </para>
/// </remarks>
public sealed class JaerEventDecoder
{
    private readonly short[] _imu = new short[7];
    private readonly bool _mirror;
    private readonly uint _width;
    private readonly uint _height;
    private readonly int _xBase;
    private readonly int _yBase;
    private bool _started;
    private int _lastRaw;
    private long _time;
    private int _imuNext;
    private long _imuT;

    /// <summary>Creates a decoder for one address layout and sensor size.</summary>
    /// <param name="chip">Address layout (must not be <see cref="JaerChip.Unknown"/>).</param>
    /// <param name="geometry">
    /// DAVIS sensor size; <see cref="SensorGeometry.Unknown"/> reports raw, unmirrored
    /// coordinates. Ignored for DVS128 (always 128 x 128).
    /// </param>
    public JaerEventDecoder(JaerChip chip, SensorGeometry geometry)
    {
        if (chip is not (JaerChip.Dvs128 or JaerChip.Davis))
        {
            throw new ArgumentOutOfRangeException(nameof(chip), chip, "The address layout must be Dvs128 or Davis.");
        }

        Chip = chip;
        Geometry = chip == JaerChip.Dvs128 ? SensorGeometry.Dvs128 : geometry;
        _mirror = Geometry.IsKnown;
        _width = _mirror ? (uint)Geometry.Width : JaerAddress.DavisXMask + 1;
        _height = _mirror ? (uint)Geometry.Height : JaerAddress.DavisYMask + 1;
        _xBase = _mirror ? Geometry.Width - 1 : 0;
        _yBase = _mirror ? Geometry.Height - 1 : 0;
    }

    /// <summary>The address layout.</summary>
    public JaerChip Chip { get; }

    /// <summary>The sensor size used to mirror DAVIS coordinates (Unknown: raw coordinates).</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>Called for every complete IMU sample (DAVIS); null skips them silently.</summary>
    public Action<JaerImuSample>? ImuSampleReceived { get; set; }

    /// <summary>Records consumed so far (events, triggers and skipped words).</summary>
    public long RecordsDecoded { get; private set; }

    /// <summary>DVS events produced so far.</summary>
    public long Events { get; private set; }

    /// <summary>External-input triggers produced so far.</summary>
    public long Triggers { get; private set; }

    /// <summary>DAVIS IMU words skipped so far.</summary>
    public long ImuWordsSkipped { get; private set; }

    /// <summary>Complete IMU samples assembled so far.</summary>
    public long ImuSamples { get; private set; }

    /// <summary>DAVIS APS (frame ADC) words skipped so far.</summary>
    public long ApsWordsSkipped { get; private set; }

    /// <summary>DVS events dropped because their address lies outside <see cref="Geometry"/>.</summary>
    public long EventsOutOfRange { get; private set; }

    /// <summary>The unwrapped timestamp of the last record consumed (us).</summary>
    public long LastTimestamp => _time;

    /// <summary>Forgets the timestamp history and any partial IMU sample (e.g. on a new connection).</summary>
    public void ResetTime()
    {
        _started = false;
        _lastRaw = 0;
        _time = 0;
        _imuNext = 0;
    }

    /// <summary>
    /// Decodes whole records from <paramref name="records"/> (big-endian address of
    /// <paramref name="addressBytes"/> bytes, 2 or 4, then a big-endian int32 timestamp)
    /// and appends events and triggers to <paramref name="batch"/> until the input is used
    /// up or the batch (or its trigger buffer) is full. A trailing partial record is ignored.
    /// </summary>
    /// <returns>Bytes consumed: a whole number of records.</returns>
    public int Decode(ReadOnlySpan<byte> records, int addressBytes, EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (addressBytes is not (2 or 4))
        {
            throw new ArgumentOutOfRangeException(nameof(addressBytes), addressBytes, "Address width must be 2 or 4 bytes.");
        }

        int recordSize = addressBytes + 4;
        int count = records.Length / recordSize;
        if (count == 0)
        {
            return 0;
        }

        if (!_started)
        {
            _lastRaw = BinaryPrimitives.ReadInt32BigEndian(records.Slice(addressBytes, 4));
            _time = (uint)_lastRaw;
            _started = true;
        }

        int done = Chip == JaerChip.Davis && addressBytes == 4
            ? DecodeDavis32(records, count, batch)
            : DecodeGeneric(records, count, addressBytes, batch);
        RecordsDecoded += done;
        return done * recordSize;
    }

    /// <summary>
    /// The hot path: DAVIS 8-byte records. With AVX2, blocks of four records that are all
    /// in-range DVS events and whose timestamps lie within 2^30 us of the previous record are
    /// decoded with one byte shuffle (big-endian to little-endian) and a few lane operations;
    /// any other block (external inputs, APS/IMU words, out-of-range addresses, huge time
    /// steps) goes through the scalar loop, so both paths give identical results.
    /// </summary>
    private int DecodeDavis32(ReadOnlySpan<byte> records, int count, EventBatch batch)
    {
        ref byte src = ref MemoryMarshal.GetReference(records);
        ref long tDst = ref MemoryMarshal.GetArrayDataReference(batch.T);
        ref ushort xDst = ref MemoryMarshal.GetArrayDataReference(batch.X);
        ref ushort yDst = ref MemoryMarshal.GetArrayDataReference(batch.Y);
        ref byte pDst = ref MemoryMarshal.GetArrayDataReference(batch.P);
        int start = batch.Count;
        int n = start;
        int cap = batch.Capacity;
        long t = _time;
        int last = _lastRaw;
        uint w = _width;
        uint h = _height;
        int xBase = _xBase;
        int yBase = _yBase;
        int sign = _mirror ? -1 : 1;
        long outOfRange = 0;
        int i = 0;
        bool full = false;
        while (i < count && n < cap && !full)
        {
            if (Avx2.IsSupported && count - i >= 4 && cap - n >= 4)
            {
                int done = DecodeBlocksAvx2(ref src, i, count, ref tDst, ref xDst, ref yDst, ref pDst, n, cap, ref t, ref last);
                i += done;
                n += done;
                if (i >= count || n >= cap)
                {
                    break;
                }
            }

            // scalar: at least one record, up to the next 4-record boundary
            int stop = Math.Min(count, i + 4);
            for (; i < stop && n < cap; i++)
            {
                ref byte rec = ref Unsafe.Add(ref src, i << 3);
                uint a = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(ref rec));
                int raw = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref rec, 4)));
                long tn = t + unchecked(raw - last);
                if ((a & (JaerAddress.DavisApsImuBit | JaerAddress.DavisExternalBit)) == 0)
                {
                    uint rx = (a >> JaerAddress.DavisXShift) & JaerAddress.DavisXMask;
                    uint ry = (a >> JaerAddress.DavisYShift) & JaerAddress.DavisYMask;
                    if (rx < w && ry < h)
                    {
                        Unsafe.Add(ref tDst, n) = tn;
                        Unsafe.Add(ref xDst, n) = (ushort)(xBase + (sign * (int)rx));
                        Unsafe.Add(ref yDst, n) = (ushort)(yBase + (sign * (int)ry));
                        Unsafe.Add(ref pDst, n) = (byte)((a >> 11) & 1);
                        n++;
                    }
                    else
                    {
                        outOfRange++;
                    }
                }
                else if (!DavisOther(a, tn, batch))
                {
                    full = true; // trigger buffer full: leave this record for the next call
                    break;
                }

                t = tn;
                last = raw;
            }
        }

        _time = t;
        _lastRaw = last;
        EventsOutOfRange += outOfRange;
        Events += n - start;
        batch.SetCount(n);
        return i;
    }

    /// <summary>
    /// Decodes consecutive 4-record blocks while every record is a DVS event inside the
    /// sensor and every timestamp is within 2^30 of <paramref name="last"/> (then the signed
    /// 32-bit differences of consecutive records sum exactly to the difference from
    /// <paramref name="last"/>, so t = base + (raw - last) equals the scalar result).
    /// Returns the records (= events) done.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int DecodeBlocksAvx2(
        ref byte src,
        int i,
        int count,
        ref long tDst,
        ref ushort xDst,
        ref ushort yDst,
        ref byte pDst,
        int n,
        int cap,
        ref long t,
        ref int last)
    {
        // byte order reversal inside each 32-bit lane; then gather [t0..t3 | a0..a3]
        Vector256<byte> bswap = Vector256.Create(
            (byte)3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
            3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
        Vector256<int> gather = Vector256.Create(1, 3, 5, 7, 0, 2, 4, 6);
        Vector128<int> notDvs = Vector128.Create(unchecked((int)(JaerAddress.DavisApsImuBit | JaerAddress.DavisExternalBit)));
        Vector128<int> tenBits = Vector128.Create((int)JaerAddress.DavisXMask);
        Vector128<int> nineBits = Vector128.Create((int)JaerAddress.DavisYMask);
        Vector128<int> width = Vector128.Create((int)_width);
        Vector128<int> height = Vector128.Create((int)_height);
        Vector128<int> flip = Vector128.Create(_mirror ? -1 : 0);
        Vector128<int> xOff = Vector128.Create(_mirror ? _xBase + 1 : 0);
        Vector128<int> yOff = Vector128.Create(_mirror ? _yBase + 1 : 0);
        Vector128<int> quarter = Vector128.Create(1 << 30);
        Vector128<int> minusOne = Vector128.Create(-1);
        // Every timestamp of the run is taken relative to the run's first base (raw "last",
        // unwrapped "t"): no dependency from block to block. A step of 2^30 us or more from
        // the base ends the run; the scalar loop then moves the base forward.
        Vector128<int> baseRaw = Vector128.Create(last);
        Vector256<long> baseTime = Vector256.Create(t);
        Vector128<int> lastD = Vector128<int>.Zero;
        Vector128<int> lastTs = baseRaw;
        int done = 0;
        while (count - (i + done) >= 4 && cap - (n + done) >= 4)
        {
            Vector256<byte> raw = Vector256.LoadUnsafe(ref src, (nuint)((i + done) << 3));
            Vector256<int> g = Avx2.PermuteVar8x32(Avx2.Shuffle(raw, bswap).AsInt32(), gather);
            Vector128<int> ts = g.GetLower();
            Vector128<int> a = g.GetUpper();
            Vector128<int> d = Sse2.Subtract(ts, baseRaw);
            Vector128<int> rx = Sse2.And(Sse2.ShiftRightLogical(a, JaerAddress.DavisXShift), tenBits);
            Vector128<int> ry = Sse2.And(Sse2.ShiftRightLogical(a, JaerAddress.DavisYShift), nineBits);
            Vector128<int> ok = Sse2.And(
                Sse2.And(Sse2.CompareEqual(Sse2.And(a, notDvs), Vector128<int>.Zero), Sse2.CompareGreaterThan(Sse2.Add(d, quarter), minusOne)),
                Sse2.And(Sse2.CompareLessThan(rx, width), Sse2.CompareLessThan(ry, height)));
            if (Sse2.MoveMask(ok.AsByte()) != 0xFFFF)
            {
                break;
            }

            int at = n + done;
            Avx2.Add(Avx2.ConvertToVector256Int64(d), baseTime).StoreUnsafe(ref tDst, (nuint)at);
            Vector128<int> x = Sse2.Add(Sse2.Xor(rx, flip), xOff);
            Vector128<int> y = Sse2.Add(Sse2.Xor(ry, flip), yOff);
            Vector128<ulong> xy = Sse41.PackUnsignedSaturate(x, y).AsUInt64();
            Unsafe.WriteUnaligned(ref Unsafe.As<ushort, byte>(ref Unsafe.Add(ref xDst, at)), xy.ToScalar());
            Unsafe.WriteUnaligned(ref Unsafe.As<ushort, byte>(ref Unsafe.Add(ref yDst, at)), xy.GetElement(1));
            uint m = (uint)Sse.MoveMask(Sse2.ShiftLeftLogical(a, 20).AsSingle()); // polarity bits 11 -> sign bits
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref pDst, at), (m & 1) | ((m & 2) << 7) | ((m & 4) << 14) | ((m & 8) << 21));
            lastD = d;
            lastTs = ts;
            done += 4;
        }

        long tt = t + lastD.GetElement(3);
        int ll = lastTs.GetElement(3);
        t = tt;
        last = ll;
        return done;
    }

    private int DecodeGeneric(ReadOnlySpan<byte> records, int count, int addressBytes, EventBatch batch)
    {
        int recordSize = addressBytes + 4;
        int start = batch.Count;
        int n = start;
        int cap = batch.Capacity;
        long[] ts = batch.T;
        ushort[] xs = batch.X;
        ushort[] ys = batch.Y;
        byte[] ps = batch.P;
        long t = _time;
        int last = _lastRaw;
        bool dvs128 = Chip == JaerChip.Dvs128;
        int i = 0;
        for (; i < count && n < cap; i++)
        {
            ReadOnlySpan<byte> rec = records.Slice(i * recordSize, recordSize);
            uint a = addressBytes == 4 ? BinaryPrimitives.ReadUInt32BigEndian(rec) : BinaryPrimitives.ReadUInt16BigEndian(rec);
            int raw = BinaryPrimitives.ReadInt32BigEndian(rec[addressBytes..]);
            long tn = t + unchecked(raw - last);
            if (dvs128)
            {
                if (JaerAddress.IsDvs128External(a))
                {
                    if (!AddTrigger(batch, tn, a))
                    {
                        break;
                    }
                }
                else
                {
                    JaerAddress.DecodeDvs128(a, out int x, out int y, out bool on);
                    ts[n] = tn;
                    xs[n] = (ushort)x;
                    ys[n] = (ushort)y;
                    ps[n] = on ? (byte)1 : (byte)0;
                    n++;
                }
            }
            else if ((a & (JaerAddress.DavisApsImuBit | JaerAddress.DavisExternalBit)) == 0)
            {
                uint rx = (a >> JaerAddress.DavisXShift) & JaerAddress.DavisXMask;
                uint ry = (a >> JaerAddress.DavisYShift) & JaerAddress.DavisYMask;
                if (rx < _width && ry < _height)
                {
                    ts[n] = tn;
                    xs[n] = (ushort)(_mirror ? _xBase - (int)rx : (int)rx);
                    ys[n] = (ushort)(_mirror ? _yBase - (int)ry : (int)ry);
                    ps[n] = (byte)((a >> 11) & 1);
                    n++;
                }
                else
                {
                    EventsOutOfRange++;
                }
            }
            else if (!DavisOther(a, tn, batch))
            {
                break;
            }

            t = tn;
            last = raw;
        }

        _time = t;
        _lastRaw = last;
        Events += n - start;
        batch.SetCount(n);
        return i;
    }

    /// <summary>DAVIS external input, IMU or APS word. Returns false when a trigger did not fit.</summary>
    private bool DavisOther(uint a, long t, EventBatch batch)
    {
        if ((a & JaerAddress.DavisApsImuBit) == 0)
        {
            return AddTrigger(batch, t, a);
        }

        if ((a & JaerAddress.DavisImuMask) == JaerAddress.DavisImuMask)
        {
            ImuWordsSkipped++;
            ImuWord(a, t);
        }
        else
        {
            ApsWordsSkipped++;
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool AddTrigger(EventBatch batch, long t, uint address)
    {
        TriggerBuffer triggers = batch.Triggers;
        if (triggers.Count >= triggers.Capacity)
        {
            return false;
        }

        triggers.Add(new TriggerEvent(t, TriggerKind.External, unchecked((int)address)));
        Triggers++;
        return true;
    }

    private void ImuWord(uint a, long t)
    {
        int type = JaerAddress.DavisImuType(a);
        if (type == 0)
        {
            _imuT = t;
            _imu[0] = JaerAddress.DavisImuValue(a);
            _imuNext = 1;
            return;
        }

        if (type != _imuNext || type >= 7)
        {
            _imuNext = 0; // out of sequence: drop the partial sample (jAER: BadIMUDataException)
            return;
        }

        _imu[type] = JaerAddress.DavisImuValue(a);
        _imuNext = type + 1;
        if (type == 6)
        {
            _imuNext = 0;
            ImuSamples++;
            ImuSampleReceived?.Invoke(new JaerImuSample(_imuT, _imu[0], _imu[1], _imu[2], _imu[3], _imu[4], _imu[5], _imu[6]));
        }
    }
}
