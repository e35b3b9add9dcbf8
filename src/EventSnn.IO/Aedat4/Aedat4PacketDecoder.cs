using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EventSnn.Events;
using EventSnn.IO.Aedat4;

namespace EventSnn.IO;

/// <summary>
/// Decodes AEDAT 4.0 packets — (streamId, payload) pairs as they appear in files and in
/// the DV network protocol — into <see cref="EventBatch"/>es. <see cref="Load"/>
/// decompresses one payload into a pooled buffer and validates its FlatBuffer; the events
/// (or triggers) it holds stay pending there and <see cref="Drain"/> copies as many as fit
/// into a batch, so a packet larger than the batch is delivered over several batches in
/// constant memory. Frames and IMU samples go to the optional callbacks. Corrupt input
/// throws <see cref="EventFormatException"/> only.
/// </summary>
public sealed class Aedat4PacketDecoder : IDisposable
{
    private const int EventBytes = 16;

    private readonly string _source;
    private readonly Aedat4Decompressor _decompressor;
    private readonly Dictionary<int, Aedat4StreamType> _streamTypes = [];
    private byte[] _eventBuffer = [];
    private int _eventPos;
    private int _eventCount;
    private int _eventIndex;
    private TriggerEvent[] _triggers = [];
    private int _triggerCount;
    private int _triggerIndex;

    /// <summary>Creates a decoder for payloads compressed with <paramref name="compression"/>.</summary>
    /// <param name="compression">The IOHeader's compression.</param>
    /// <param name="sourceName">File path or peer, for errors.</param>
    /// <param name="options">Bounds (MaxPacketBytes bounds compressed and decompressed sizes).</param>
    /// <param name="streams">Declared streams (lets frame packets be skipped unread when nobody listens).</param>
    public Aedat4PacketDecoder(Aedat4Compression compression, string sourceName, ReaderOptions? options = null, IReadOnlyList<Aedat4StreamInfo>? streams = null)
    {
        options ??= ReaderOptions.Default;
        Compression = compression;
        _source = sourceName;
        _decompressor = new Aedat4Decompressor(compression, sourceName, Math.Max(1024, options.MaxPacketBytes));
        if (streams is not null)
        {
            foreach (Aedat4StreamInfo s in streams)
            {
                _streamTypes.TryAdd(s.Id, s.Type);
            }
        }
    }

    /// <summary>The payload compression.</summary>
    public Aedat4Compression Compression { get; }

    /// <summary>Called for every decoded frame (the pixels are valid only during the call). Null: frame packets are skipped.</summary>
    public Action<Aedat4Frame>? FrameReceived { get; set; }

    /// <summary>Called for every decoded IMU sample.</summary>
    public Action<ImuSample>? ImuReceived { get; set; }

    /// <summary>Packets handed to <see cref="Load"/> or <see cref="CountSkipped"/>.</summary>
    public long PacketsRead { get; private set; }

    /// <summary>"EVTS" packets decoded.</summary>
    public long EventPacketsRead { get; private set; }

    /// <summary>"TRIG" packets decoded.</summary>
    public long TriggerPacketsRead { get; private set; }

    /// <summary>"IMUS" packets decoded.</summary>
    public long ImuPacketsRead { get; private set; }

    /// <summary>Frames seen ("FRME" packets, decoded or skipped).</summary>
    public long FramesRead { get; private set; }

    /// <summary>IMU samples decoded.</summary>
    public long ImuSamplesRead { get; private set; }

    /// <summary>Packets of types this decoder does not know (skipped).</summary>
    public long UnknownPacketsRead { get; private set; }

    /// <summary>Events decoded from "EVTS" packets so far (delivered or pending).</summary>
    public long EventsDecoded { get; private set; }

    /// <summary>Triggers decoded so far.</summary>
    public long TriggersDecoded { get; private set; }

    /// <summary>Events of the last "EVTS" packet not yet drained.</summary>
    public int PendingEvents => _eventCount - _eventIndex;

    /// <summary>Triggers of the last "TRIG" packet not yet drained.</summary>
    public int PendingTriggers => _triggerCount - _triggerIndex;

    /// <summary>True while events or triggers wait to be drained.</summary>
    public bool HasPending => _eventIndex < _eventCount || _triggerIndex < _triggerCount;

    /// <summary>The declared type of stream <paramref name="streamId"/> (Unknown when not declared).</summary>
    public Aedat4StreamType StreamType(int streamId) =>
        _streamTypes.TryGetValue(streamId, out Aedat4StreamType t) ? t : Aedat4StreamType.Unknown;

    /// <summary>
    /// False when the packet can be skipped without reading its payload: a declared frame
    /// stream while nobody listens to frames. Call <see cref="CountSkipped"/> instead of
    /// <see cref="Load"/> for such packets.
    /// </summary>
    public bool NeedsPayload(int streamId) =>
        FrameReceived is not null || StreamType(streamId) != Aedat4StreamType.Frames;

    /// <summary>Counts a packet skipped without decoding (see <see cref="NeedsPayload"/>).</summary>
    public void CountSkipped(int streamId)
    {
        PacketsRead++;
        if (StreamType(streamId) == Aedat4StreamType.Frames)
        {
            FramesRead++;
        }
        else
        {
            UnknownPacketsRead++;
        }
    }

    /// <summary>Forgets pending events and triggers.</summary>
    public void ClearPending()
    {
        _eventCount = _eventIndex = 0;
        _triggerCount = _triggerIndex = 0;
    }

    /// <summary>
    /// Decompresses and validates one packet payload. Events and triggers become pending
    /// (drain them with <see cref="Drain"/> before the next Load, which replaces them);
    /// frames and IMU samples go to the callbacks. Returns the packet's type, taken from the
    /// FlatBuffer identifier.
    /// </summary>
    /// <param name="streamId">The packet's stream id.</param>
    /// <param name="payload">The payload as stored (compressed per <see cref="Compression"/>).</param>
    /// <param name="payloadOffset">Byte offset of the payload in the source, for errors.</param>
    public Aedat4StreamType Load(int streamId, ReadOnlySpan<byte> payload, long payloadOffset)
    {
        BeginLoad();
        int length = _decompressor.Decompress(payload, payloadOffset);
        return LoadDecompressed(streamId, _decompressor.Buffer, length, payloadOffset);
    }

    /// <summary>The first step of <see cref="Load"/>: forgets pending items and counts the packet (the payload is decompressed elsewhere).</summary>
    internal void BeginLoad()
    {
        ClearPending();
        PacketsRead++;
    }

    /// <summary>
    /// The rest of <see cref="Load"/> after <see cref="BeginLoad"/>, for a payload already
    /// decompressed into <paramref name="buf"/> (<paramref name="length"/> bytes). Pending
    /// events refer to <paramref name="buf"/>, which must stay unchanged until they are drained.
    /// </summary>
    internal Aedat4StreamType LoadDecompressed(int streamId, byte[] buf, int length, long payloadOffset)
    {
        _eventBuffer = buf;
        if (length < 12)
        {
            throw new EventFormatException(_source, payloadOffset, $"decompressed packet of {length} bytes is too short for a FlatBuffer", "payload");
        }

        uint declared = BinaryPrimitives.ReadUInt32LittleEndian(buf);
        if (declared > (uint)(length - 4) || declared < 8)
        {
            throw new EventFormatException(_source, payloadOffset, $"FlatBuffer size prefix {declared} does not fit the {length - 4} decompressed bytes", "size");
        }

        var fb = new FbView(buf.AsSpan(4, (int)declared), _source, payloadOffset, "packet");
        Aedat4StreamType type = Aedat4Names.TypeOf(fb.Identifier);
        switch (type)
        {
            case Aedat4StreamType.Events:
                LoadEvents(fb, 4);
                break;
            case Aedat4StreamType.Triggers:
                LoadTriggers(fb);
                break;
            case Aedat4StreamType.Imu:
                LoadImu(fb);
                break;
            case Aedat4StreamType.Frames:
                FramesRead++;
                if (FrameReceived is not null)
                {
                    LoadFrame(fb, streamId, buf, 4);
                }

                break;
            default:
                UnknownPacketsRead++;
                break;
        }

        return type;
    }

    /// <summary>
    /// Appends pending events (as many as <paramref name="batch"/> has room for) and pending
    /// triggers (as many as its trigger buffer has room for). Returns the number of events added.
    /// </summary>
    public int Drain(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int added = 0;
        int n = Math.Min(_eventCount - _eventIndex, batch.Remaining);
        if (n > 0)
        {
            int dst = batch.Count;
            DecodeEvents(_eventBuffer, _eventPos + (_eventIndex * EventBytes), n, batch.T, batch.X, batch.Y, batch.P, dst);
            batch.SetCount(dst + n);
            _eventIndex += n;
            added = n;
        }

        TriggerBuffer triggers = batch.Triggers;
        while (_triggerIndex < _triggerCount && triggers.Count < triggers.Capacity)
        {
            triggers.Add(_triggers[_triggerIndex++]);
        }

        return added;
    }

    /// <summary>Drops pending events older than <paramref name="t"/> up to the first one at or after it.</summary>
    internal void SkipEventsBefore(long t)
    {
        byte[] buf = _eventBuffer;
        while (_eventIndex < _eventCount && BinaryPrimitives.ReadInt64LittleEndian(buf.AsSpan(_eventPos + (_eventIndex * EventBytes))) < t)
        {
            _eventIndex++;
        }
    }

    /// <summary>Largest timestamp among the pending events (long.MinValue when none).</summary>
    internal long MaxPendingTimestamp()
    {
        long max = long.MinValue;
        byte[] buf = _eventBuffer;
        for (int i = _eventIndex; i < _eventCount; i++)
        {
            long t = BinaryPrimitives.ReadInt64LittleEndian(buf.AsSpan(_eventPos + (i * EventBytes)));
            if (t > max)
            {
                max = t;
            }
        }

        return max;
    }

    /// <summary>Returns the pooled buffers.</summary>
    public void Dispose()
    {
        _decompressor.Dispose();
        if (_triggers.Length > 0)
        {
            ArrayPool<TriggerEvent>.Shared.Return(_triggers);
            _triggers = [];
        }

        ClearPending();
        _eventBuffer = [];
    }

    /// <summary>
    /// Converts <paramref name="count"/> 16-byte DV events (int64 t, int16 x, int16 y, bool
    /// polarity, 3 padding bytes) starting at <paramref name="srcPos"/> into the SoA arrays.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void DecodeEvents(byte[] src, int srcPos, int count, long[] t, ushort[] x, ushort[] y, byte[] p, int dst)
    {
        if ((uint)srcPos > (uint)src.Length || (long)count * EventBytes > src.Length - srcPos
            || (uint)dst > (uint)t.Length || count > t.Length - dst || count > x.Length - dst || count > y.Length - dst || count > p.Length - dst)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        ref byte s = ref src[srcPos];
        ref long tr = ref t[dst];
        ref ushort xr = ref x[dst];
        ref ushort yr = ref y[dst];
        ref byte pr = ref p[dst];
        if (BitConverter.IsLittleEndian)
        {
            int i = 0;
            if (Avx2.IsSupported && count >= 8)
            {
                i = DecodeEventsAvx2(ref s, count, ref tr, ref xr, ref yr, ref pr);
            }

            for (; i < count; i++)
            {
                ref byte e = ref Unsafe.Add(ref s, i * EventBytes);
                Unsafe.Add(ref tr, i) = Unsafe.ReadUnaligned<long>(ref e);
                Unsafe.Add(ref xr, i) = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref e, 8));
                Unsafe.Add(ref yr, i) = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref e, 10));
                Unsafe.Add(ref pr, i) = Unsafe.Add(ref e, 12) != 0 ? (byte)1 : (byte)0;
            }
        }
        else
        {
            ReadOnlySpan<byte> span = src.AsSpan(srcPos, count * EventBytes);
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> e = span.Slice(i * EventBytes, EventBytes);
                t[dst + i] = BinaryPrimitives.ReadInt64LittleEndian(e);
                x[dst + i] = BinaryPrimitives.ReadUInt16LittleEndian(e[8..]);
                y[dst + i] = BinaryPrimitives.ReadUInt16LittleEndian(e[10..]);
                p[dst + i] = e[12] != 0 ? (byte)1 : (byte)0;
            }
        }
    }

    /// <summary>
    /// AVX2 transpose of 8 events per step: 64-bit unpacks split the 16-byte events into
    /// timestamps and (x, y, polarity) words; a byte shuffle, 32-bit unpacks and a dword
    /// permute gather x0..x7 and y0..y7 into one vector and the polarity bytes (clamped to
    /// 0/1) into another. Returns the number of events done (a multiple of 8).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int DecodeEventsAvx2(ref byte s, int count, ref long tr, ref ushort xr, ref ushort yr, ref byte pr)
    {
        // per 128-bit lane holding words m(a), m(b): x(a) x(b) | y(a) y(b) | polarity bytes
        // (low half of the third dword in lane 0, high half in lane 1, so the lanes OR together)
        Vector256<byte> gather = Vector256.Create(
            (byte)0, 1, 8, 9, 2, 3, 10, 11, 4, 12, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
            0, 1, 8, 9, 2, 3, 10, 11, 0x80, 0x80, 4, 12, 0x80, 0x80, 0x80, 0x80);
        Vector256<int> order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
        Vector128<byte> one = Vector128<byte>.One;
        int i = 0;
        for (; i <= count - 8; i += 8)
        {
            ref byte e = ref Unsafe.Add(ref s, i * EventBytes);
            Vector256<ulong> v0 = Vector256.LoadUnsafe(ref e).AsUInt64();
            Vector256<ulong> v1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref e, 32)).AsUInt64();
            Vector256<ulong> v2 = Vector256.LoadUnsafe(ref Unsafe.Add(ref e, 64)).AsUInt64();
            Vector256<ulong> v3 = Vector256.LoadUnsafe(ref Unsafe.Add(ref e, 96)).AsUInt64();
            Avx2.Permute4x64(Avx2.UnpackLow(v0, v1), 0b11_01_10_00).AsInt64().StoreUnsafe(ref Unsafe.Add(ref tr, i));
            Avx2.Permute4x64(Avx2.UnpackLow(v2, v3), 0b11_01_10_00).AsInt64().StoreUnsafe(ref Unsafe.Add(ref tr, i + 4));
            Vector256<int> a = Avx2.Shuffle(Avx2.Permute4x64(Avx2.UnpackHigh(v0, v1), 0b11_01_10_00).AsByte(), gather).AsInt32();
            Vector256<int> b = Avx2.Shuffle(Avx2.Permute4x64(Avx2.UnpackHigh(v2, v3), 0b11_01_10_00).AsByte(), gather).AsInt32();
            Vector256<int> xy = Avx2.PermuteVar8x32(Avx2.UnpackLow(a, b), order);
            xy.GetLower().AsUInt16().StoreUnsafe(ref Unsafe.Add(ref xr, i));
            xy.GetUpper().AsUInt16().StoreUnsafe(ref Unsafe.Add(ref yr, i));
            Vector256<int> pol = Avx2.UnpackHigh(a, b);
            Vector128<byte> p8 = Vector128.Min((pol.GetLower() | pol.GetUpper()).AsByte(), one);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref pr, i), p8.AsUInt64().ToScalar());
        }

        return i;
    }

    private void LoadEvents(FbView fb, int fbBase)
    {
        FbTable root = fb.Root();
        (int start, int count) = fb.Vector(root, 0, EventBytes, "elements");
        _eventPos = fbBase + start;
        _eventCount = count;
        _eventIndex = 0;
        EventPacketsRead++;
        EventsDecoded += count;
    }

    private void LoadTriggers(FbView fb)
    {
        FbTable root = fb.Root();
        (int start, int count) = fb.Vector(root, 0, 4, "elements");
        if (_triggers.Length < count)
        {
            if (_triggers.Length > 0)
            {
                ArrayPool<TriggerEvent>.Shared.Return(_triggers);
            }

            _triggers = ArrayPool<TriggerEvent>.Shared.Rent(Math.Max(count, 64));
        }

        for (int i = 0; i < count; i++)
        {
            FbTable t = fb.TableFromSlot(start + (4 * i), "elements[]");
            long ts = fb.Int64(t, 0, 0, "timestamp");
            sbyte code = fb.Int8(t, 1, 0, "type");
            _triggers[i] = new TriggerEvent(ts, Aedat4Names.KindOf(code), code);
        }

        _triggerCount = count;
        _triggerIndex = 0;
        TriggerPacketsRead++;
        TriggersDecoded += count;
    }

    private void LoadImu(FbView fb)
    {
        FbTable root = fb.Root();
        (int start, int count) = fb.Vector(root, 0, 4, "elements");
        Action<ImuSample>? callback = ImuReceived;
        for (int i = 0; i < count; i++)
        {
            FbTable t = fb.TableFromSlot(start + (4 * i), "elements[]");
            var sample = new ImuSample(
                fb.Int64(t, 0, 0, "timestamp"),
                fb.Float32(t, 1, 0f, "temperature"),
                fb.Float32(t, 2, 0f, "accelerometerX"),
                fb.Float32(t, 3, 0f, "accelerometerY"),
                fb.Float32(t, 4, 0f, "accelerometerZ"),
                fb.Float32(t, 5, 0f, "gyroscopeX"),
                fb.Float32(t, 6, 0f, "gyroscopeY"),
                fb.Float32(t, 7, 0f, "gyroscopeZ"),
                fb.Float32(t, 8, 0f, "magnetometerX"),
                fb.Float32(t, 9, 0f, "magnetometerY"),
                fb.Float32(t, 10, 0f, "magnetometerZ"));
            callback?.Invoke(sample);
        }

        ImuPacketsRead++;
        ImuSamplesRead += count;
    }

    private void LoadFrame(FbView fb, int streamId, byte[] buf, int fbBase)
    {
        FbTable t = fb.Root();
        (int start, int count) = fb.Vector(t, 10, 1, "pixels");
        var frame = new Aedat4Frame(
            streamId,
            fb.Int64(t, 0, 0, "timestamp"),
            fb.Int64(t, 1, 0, "timestampStartOfFrame"),
            fb.Int64(t, 2, 0, "timestampEndOfFrame"),
            fb.Int64(t, 3, 0, "timestampStartOfExposure"),
            fb.Int64(t, 4, 0, "timestampEndOfExposure"),
            unchecked((byte)fb.Int8(t, 5, 0, "format")),
            fb.Int16(t, 6, 0, "sizeX"),
            fb.Int16(t, 7, 0, "sizeY"),
            fb.Int16(t, 8, 0, "positionX"),
            fb.Int16(t, 9, 0, "positionY"),
            new ReadOnlyMemory<byte>(buf, fbBase + start, count),
            fb.Int64(t, 11, 0, "exposure"),
            fb.Int8(t, 12, 0, "source"));
        FrameReceived?.Invoke(frame);
    }
}
