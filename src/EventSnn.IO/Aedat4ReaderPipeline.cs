using System.Buffers;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using EventSnn.IO.Aedat4;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// The two-thread mode of <see cref="Aedat4Reader"/>: a producer thread reads the packets in
/// order (header checks, warnings) into a ring of <see cref="RingSlots"/> slots, each with its
/// own pooled buffer, and the reading thread takes the slots in order and decodes them. The two
/// threads share the LZ4 / zstd work: while fewer than <see cref="ShareDepth"/> slots wait, the
/// producer hands the compressed payload over and the reading thread decompresses it into the
/// decoder's own buffer (as the one-thread mode does); when the reading thread falls behind, the
/// producer decompresses into a buffer only it writes and stores the result in the slot. Either
/// way each thread's decompressor writes memory the other thread does not read, and the busier
/// thread gets the lighter packets. Memory stays at RingSlots + 1 slot buffers and two
/// decompression buffers. Warnings travel with the slot that caused them and errors are raised
/// when the reading thread reaches the failing packet, so the events, warnings, counters and
/// errors are those of the one-thread mode. Operations that move in the file (seeking, loading the
/// FileDataTable) stop the producer and rewind to the first packet not yet decoded.
/// </summary>
public sealed partial class Aedat4Reader
{
    /// <summary>Slots in the ring between the producer and the reading thread.</summary>
    private const int RingSlots = 8;

    /// <summary>Filled slots from which on the producer decompresses packets itself instead of handing them over compressed.</summary>
    private const int ShareDepth = 3;

    /// <summary>How long a thread waiting for a slot spins before it yields.</summary>
    private const long SpinMicroseconds = 20;

    /// <summary>How long a thread waiting for a slot spins and yields before it blocks.</summary>
    private const long YieldMicroseconds = 200;

    private Slot[]? _ring;
    private Slot? _current;
    private Aedat4Decompressor? _producerDecompressor;
    private Pipeline? _pipeline;
    private ExceptionDispatchInfo? _pipelineError;
    private long _position;

    /// <summary>Which thread decompresses the packets in the two-thread mode.</summary>
    internal enum WorkSplit
    {
        /// <summary>By the ring's fill level (see <see cref="ShareDepth"/>).</summary>
        Balanced,

        /// <summary>Always the producer.</summary>
        Producer,

        /// <summary>Always the reading thread.</summary>
        Reader,
    }

    /// <summary>What a slot holds.</summary>
    private enum SlotKind
    {
        /// <summary>A decompressed payload.</summary>
        Payload,

        /// <summary>A payload as stored, for the reading thread to decompress.</summary>
        Compressed,
        Skipped,
        TableReached,
        End,
        Error,
    }

    /// <summary>Which thread decompresses in the two-thread mode (tests pin it to one side; default: balanced).</summary>
    internal WorkSplit Split { get; set; }

    /// <summary>Next packet in the two-thread mode: the same steps as <see cref="NextPacket"/>, packets read (and partly decompressed) ahead.</summary>
    private bool NextPacketThreaded()
    {
        _pipelineError?.Throw();
        Pipeline pipeline = _pipeline ?? StartPipeline();
        Take(pipeline.Full, CancellationToken.None);
        int index = pipeline.Head;
        pipeline.Head = (index + 1) % RingSlots;
        Slot slot = _ring![index];

        // keep this slot for the decoder and give the previous one back to the producer
        _ring[index] = _current!;
        _current = slot;
        pipeline.Free.Release();

        foreach (FormatWarning w in slot.Warnings)
        {
            _warnings.Warn(w.Offset, w.Message);
        }

        switch (slot.Kind)
        {
            case SlotKind.Skipped:
                _position = slot.PositionAfter;
                _decoder.CountSkipped(slot.StreamId);
                return true;
            case SlotKind.Payload:
            case SlotKind.Compressed:
                _position = slot.PacketStart;
                Aedat4StreamType type;
                try
                {
                    if (slot.Kind == SlotKind.Compressed)
                    {
                        type = _decoder.Load(slot.StreamId, slot.Data.AsSpan(0, slot.Length), slot.PacketStart + PacketHeaderBytes);
                    }
                    else
                    {
                        _decoder.BeginLoad();
                        type = _decoder.LoadDecompressed(slot.StreamId, slot.Data, slot.Length, slot.PacketStart + PacketHeaderBytes);
                    }
                }
                catch (Exception ex)
                {
                    // as in the one-thread mode the reader stays at the failing packet and raises the error again
                    _pipelineError = ExceptionDispatchInfo.Capture(IsUnexpected(ex) ? Wrap(ex, slot.PacketStart) : ex);
                    StopPipeline();
                    _pipelineError.Throw();
                    throw;
                }

                _position = slot.PositionAfter;
                AfterLoad(type);
                return true;
            case SlotKind.TableReached:
                _position = slot.PositionAfter;
                StopPipeline();
                CheckTableAtEnd();
                return false;
            case SlotKind.End:
                _position = slot.PositionAfter;
                StopPipeline();
                return false;
            default:
                _position = slot.PositionAfter;
                if (slot.ErrorInLoad)
                {
                    _decoder.BeginLoad();
                }

                _pipelineError = slot.Error;
                StopPipeline();
                slot.Error!.Throw();
                return false;
        }
    }

    /// <summary>
    /// Takes one count of <paramref name="semaphore"/>: a slot is usually only microseconds
    /// away, so the thread first spins on the CPU for up to <see cref="SpinMicroseconds"/> (no
    /// system calls: on a virtual machine a blocked waiter's wake-up costs far more than the wait),
    /// then gives its core away with yields up to <see cref="YieldMicroseconds"/> (the other
    /// thread may be waiting for that core), then blocks.
    /// </summary>
    private static void Take(SemaphoreSlim semaphore, CancellationToken token)
    {
        if (semaphore.Wait(0, CancellationToken.None))
        {
            return;
        }

        long start = Stopwatch.GetTimestamp();
        long spinEnd = start + (SpinMicroseconds * Stopwatch.Frequency / 1_000_000);
        long yieldEnd = start + (YieldMicroseconds * Stopwatch.Frequency / 1_000_000);
        long now = start;
        while (now < yieldEnd)
        {
            if (now < spinEnd)
            {
                Thread.SpinWait(20);
            }
            else
            {
                Thread.Yield();
            }

            if (semaphore.CurrentCount > 0 && semaphore.Wait(0, CancellationToken.None))
            {
                return;
            }

            token.ThrowIfCancellationRequested();
            now = Stopwatch.GetTimestamp();
        }

        semaphore.Wait(token);
    }

    private Pipeline StartPipeline()
    {
        if (_ring is null)
        {
            _ring = new Slot[RingSlots];
            for (int i = 0; i < RingSlots; i++)
            {
                _ring[i] = new Slot();
            }

            _current = new Slot();
            _producerDecompressor = new Aedat4Decompressor(Header.Compression, SourceName, Math.Max(1024, _options.MaxPacketBytes));
        }

        _position = _input.Position;
        var pipeline = new Pipeline(this);
        _pipeline = pipeline;
        pipeline.Thread.Start();
        return pipeline;
    }

    /// <summary>
    /// Stops the producer and waits for it; a seekable input is moved back to the first packet
    /// not yet decoded (what the producer read ahead is read again after a restart).
    /// Pending events of the current slot stay valid.
    /// </summary>
    private void StopPipeline()
    {
        Pipeline? pipeline = _pipeline;
        if (pipeline is null)
        {
            return;
        }

        _pipeline = null;
        pipeline.Cancel.Cancel();
        pipeline.Thread.Join();
        pipeline.Dispose();
        if (_input.CanSeek && _input.Position != _position)
        {
            _input.Seek(_position);
        }
    }

    private void DisposeSlots()
    {
        if (_ring is not null)
        {
            foreach (Slot s in _ring)
            {
                s.Dispose();
            }

            _ring = null;
        }

        _current?.Dispose();
        _current = null;
        _producerDecompressor?.Dispose();
        _producerDecompressor = null;
    }

    /// <summary>The producer thread: fills free slots in order until the end, an error or cancellation.</summary>
    private void Produce(Pipeline pipeline)
    {
        CancellationToken token = pipeline.Cancel.Token;
        try
        {
            while (true)
            {
                Take(pipeline.Free, token);
                Slot slot = _ring![pipeline.Tail];
                pipeline.Tail = (pipeline.Tail + 1) % RingSlots;
                slot.Reset();
                Fill(slot, pipeline);
                pipeline.Full.Release();
                if (slot.Kind is SlotKind.End or SlotKind.TableReached or SlotKind.Error)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // stopped by the reading thread
        }
    }

    /// <summary>True when the producer decompresses the next packet itself (the reading thread has enough waiting).</summary>
    private bool ProducerDecompresses(Pipeline pipeline) => Split switch
    {
        WorkSplit.Producer => true,
        WorkSplit.Reader => false,
        _ => pipeline.Full.CurrentCount >= ShareDepth,
    };

    private void Fill(Slot slot, Pipeline pipeline)
    {
        try
        {
            PacketStep step = ReadPacketHeader(slot.Warnings, out int streamId, out int size, out long pos);
            slot.StreamId = streamId;
            slot.PacketStart = pos;
            switch (step)
            {
                case PacketStep.Payload:
                    ReadOnlySpan<byte> payload = _input.Span.Slice(PacketHeaderBytes, size);
                    if (Header.Compression == Aedat4Compression.None)
                    {
                        // stored as is (size is within MaxPacketBytes): the copy is the decompression
                        slot.Store(payload);
                        slot.Kind = SlotKind.Payload;
                    }
                    else if (ProducerDecompresses(pipeline))
                    {
                        slot.ErrorInLoad = true;
                        int n = _producerDecompressor!.Decompress(payload, pos + PacketHeaderBytes);
                        slot.ErrorInLoad = false;
                        slot.Store(_producerDecompressor.Buffer.AsSpan(0, n));
                        slot.Kind = SlotKind.Payload;
                    }
                    else
                    {
                        slot.Store(payload);
                        slot.Kind = SlotKind.Compressed;
                    }

                    _input.Advance(PacketHeaderBytes + size);
                    break;
                case PacketStep.Skipped:
                    slot.Kind = SlotKind.Skipped;
                    break;
                case PacketStep.TableReached:
                    slot.Kind = SlotKind.TableReached;
                    break;
                default:
                    slot.Kind = SlotKind.End;
                    break;
            }
        }
        catch (Exception ex)
        {
            slot.Kind = SlotKind.Error;
            slot.Error = ExceptionDispatchInfo.Capture(IsUnexpected(ex) ? Wrap(ex, _input.Position) : ex);
        }

        slot.PositionAfter = _input.Position;
    }

    /// <summary>One packet on its way from the producer to the reading thread.</summary>
    private sealed class Slot : IDisposable
    {
        /// <summary>The payload (decompressed or as stored, per <see cref="Kind"/>); pooled, grown on demand, kept for the next packets.</summary>
        public byte[] Data { get; private set; } = [];

        public WarningList Warnings { get; } = new();

        public SlotKind Kind { get; set; }

        public int StreamId { get; set; }

        /// <summary>Bytes of <see cref="Data"/> in use.</summary>
        public int Length { get; private set; }

        public long PacketStart { get; set; }

        public long PositionAfter { get; set; }

        public bool ErrorInLoad { get; set; }

        public ExceptionDispatchInfo? Error { get; set; }

        public void Reset()
        {
            Warnings.Clear();
            Kind = SlotKind.End;
            Length = 0;
            ErrorInLoad = false;
            Error = null;
        }

        /// <summary>Copies <paramref name="bytes"/> into <see cref="Data"/> (callers bound the length by MaxPacketBytes).</summary>
        public void Store(ReadOnlySpan<byte> bytes)
        {
            if (Data.Length < bytes.Length)
            {
                byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(bytes.Length, 64 * 1024));
                if (Data.Length > 0)
                {
                    ArrayPool<byte>.Shared.Return(Data);
                }

                Data = bigger;
            }

            bytes.CopyTo(Data);
            Length = bytes.Length;
        }

        public void Dispose()
        {
            if (Data.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(Data);
                Data = [];
            }
        }
    }
    /// <summary>One run of the producer: its thread, the ring's counters and the cancellation.</summary>
    private sealed class Pipeline : IDisposable
    {
        public Pipeline(Aedat4Reader reader)
        {
            Thread = new Thread(() => reader.Produce(this))
            {
                IsBackground = true,
                Name = "AEDAT4 decompression",
            };
        }

        public Thread Thread { get; }

        public CancellationTokenSource Cancel { get; } = new();

        /// <summary>Slots the producer may fill.</summary>
        public SemaphoreSlim Free { get; } = new(RingSlots, RingSlots);

        /// <summary>Slots filled and not yet taken.</summary>
        public SemaphoreSlim Full { get; } = new(0, RingSlots);

        /// <summary>Next slot to fill (producer only).</summary>
        public int Tail { get; set; }

        /// <summary>Next slot to take (reading thread only).</summary>
        public int Head { get; set; }

        public void Dispose()
        {
            Cancel.Dispose();
            Free.Dispose();
            Full.Dispose();
        }
    }
}
