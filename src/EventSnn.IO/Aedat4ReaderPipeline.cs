using System.Runtime.ExceptionServices;
using EventSnn.IO.Aedat4;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// The two-thread mode of <see cref="Aedat4Reader"/>: a producer thread runs the packet
/// header checks and decompresses payloads into a ring of <see cref="RingSlots"/> slots, each
/// with its own pooled buffer; the reading thread takes the slots in order, decodes them and
/// hands the slot it finished back to the producer. Memory stays at RingSlots + 1 packet
/// buffers. Warnings travel with the slot that caused them and errors are raised when the
/// reading thread reaches the failing packet, so the events, warnings, counters and errors
/// are those of the one-thread mode. Operations that move in the file (seeking, loading the
/// FileDataTable) stop the producer and rewind to the first packet not yet decoded.
/// </summary>
public sealed partial class Aedat4Reader
{
    /// <summary>Slots in the ring between the producer and the reading thread.</summary>
    private const int RingSlots = 3;

    private Slot[]? _ring;
    private Slot? _current;
    private Pipeline? _pipeline;
    private ExceptionDispatchInfo? _pipelineError;
    private long _position;

    /// <summary>What a slot holds.</summary>
    private enum SlotKind
    {
        Payload,
        Skipped,
        TableReached,
        End,
        Error,
    }

    /// <summary>Next packet in the two-thread mode: the same steps as <see cref="NextPacket"/>, decompression done ahead.</summary>
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
                _position = slot.PacketStart;
                _decoder.BeginLoad();
                Aedat4StreamType type = _decoder.LoadDecompressed(slot.StreamId, slot.Decompressor.Buffer, slot.Length, slot.PacketStart + PacketHeaderBytes);
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
    /// Takes one count of <paramref name="semaphore"/>: a short spin that yields the core first
    /// (a packet is usually only microseconds away, and a blocked waiter costs a kernel wake-up
    /// per packet), then a blocking wait.
    /// </summary>
    private static void Take(SemaphoreSlim semaphore, CancellationToken token)
    {
        if (semaphore.Wait(0, CancellationToken.None))
        {
            return;
        }

        var spin = default(SpinWait);
        for (int i = 0; i < 200; i++)
        {
            spin.SpinOnce(sleep1Threshold: -1);
            token.ThrowIfCancellationRequested();
            if (semaphore.Wait(0, CancellationToken.None))
            {
                return;
            }
        }

        semaphore.Wait(token);
    }

    private Pipeline StartPipeline()
    {
        if (_ring is null)
        {
            int max = Math.Max(1024, _options.MaxPacketBytes);
            _ring = new Slot[RingSlots];
            for (int i = 0; i < RingSlots; i++)
            {
                _ring[i] = new Slot(new Aedat4Decompressor(Header.Compression, SourceName, max));
            }

            _current = new Slot(new Aedat4Decompressor(Header.Compression, SourceName, max));
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
                s.Decompressor.Dispose();
            }

            _ring = null;
        }

        _current?.Decompressor.Dispose();
        _current = null;
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
                Fill(slot);
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

    private void Fill(Slot slot)
    {
        try
        {
            PacketStep step = ReadPacketHeader(slot.Warnings, out int streamId, out int size, out long pos);
            slot.StreamId = streamId;
            slot.PacketStart = pos;
            switch (step)
            {
                case PacketStep.Payload:
                    slot.ErrorInLoad = true;
                    slot.Length = slot.Decompressor.Decompress(_input.Span.Slice(PacketHeaderBytes, size), pos + PacketHeaderBytes);
                    slot.ErrorInLoad = false;
                    _input.Advance(PacketHeaderBytes + size);
                    slot.Kind = SlotKind.Payload;
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
    private sealed class Slot(Aedat4Decompressor decompressor)
    {
        public Aedat4Decompressor Decompressor { get; } = decompressor;

        public WarningList Warnings { get; } = new();

        public SlotKind Kind { get; set; }

        public int StreamId { get; set; }

        public int Length { get; set; }

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
