using EventSnn.Events;
using EventSnn.IO.Internal;

namespace EventSnn.IO;

/// <summary>
/// What the Prophesee readers (<see cref="Evt2Reader"/>, <see cref="Evt21Reader"/>,
/// <see cref="Evt3Reader"/>, <see cref="DatReader"/>) share: the '%' header, the buffered input,
/// warnings, geometry tracking, and the read loop, which hands each format's decoder the whole
/// words (records) that are in the buffer and stops when the batch or its trigger buffer is full,
/// when the decoder keeps events pending for the next batch, or at the end of the data (a partial
/// last word is reported through <see cref="Warnings"/> or, in strict mode, thrown).
/// </summary>
public abstract class PropheseeReader : IDvsEventReader
{
    private readonly int _unitShift;
    private readonly string _unitName;

    private protected PropheseeReader(Stream stream, string sourceName, ReaderOptions? options, bool leaveOpen, int unitBytes, string unitName, EventFormat? required)
    {
        if (unitBytes is not (2 or 4 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(unitBytes), unitBytes, "words of 2, 4 or 8 bytes");
        }

        _unitShift = unitBytes switch { 2 => 1, 4 => 2, _ => 3 };
        _unitName = unitName;
        Core = new PropheseeCore(stream, sourceName, options, leaveOpen);
        if (required is { } format)
        {
            try
            {
                Core.RequireFormat(format);
            }
            catch
            {
                Core.Dispose();
                throw;
            }
        }
    }

    /// <inheritdoc />
    public string SourceName => Core.SourceName;

    /// <inheritdoc />
    public abstract EventFormat Format { get; }

    /// <inheritdoc />
    public long Position => Core.Input.Position;

    /// <inheritdoc />
    public IReadOnlyList<FormatWarning> Warnings => Core.Warnings;

    /// <summary>Declared geometry, else the one implied by the largest address seen so far (Unknown before any event).</summary>
    public SensorGeometry Geometry => Core.Geometry;

    /// <summary>The file header ('% key value' lines).</summary>
    public PropheseeHeader Header => Core.Header;

    /// <summary>Offset of the first data byte (just after the header).</summary>
    public virtual long DataOffset => Core.DataOffset;

    /// <summary>Events read so far whose address lies outside the declared geometry (kept, not dropped).</summary>
    public long OutOfGeometryEvents => Core.OutOfGeometry;

    /// <summary>True when the reader decodes from a memory map of its file (<see cref="ReaderOptions.MemoryMap"/>).</summary>
    internal bool IsMemoryMapped => Core.Input.IsMapped;

    private protected PropheseeCore Core { get; }

    /// <summary>True while the decoder holds events of a word it could not fit into the last batch.</summary>
    private protected virtual bool HasPending => false;

    /// <inheritdoc />
    public bool Read(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Core.ThrowIfDisposed();
        batch.Clear();
        ByteInput input = Core.Input;
        TriggerBuffer triggers = batch.Triggers;
        int unit = 1 << _unitShift;
        int n = HasPending ? DrainPending(batch) : 0;
        while (n < batch.Capacity && !HasPending && triggers.Count < triggers.Capacity && !Core.Ended)
        {
            if (input.Available < unit && !input.Ensure(unit))
            {
                Core.EndOfData(unit, _unitName);
                break;
            }

            int units = input.Available >> _unitShift;
            int used = Decode(input, units, batch, ref n);
            input.Advance(used << _unitShift);
            if (used == 0)
            {
                break; // nothing fitted: the loop condition says why (batch or trigger buffer full, events pending)
            }
        }

        batch.SetCount(n);
        TrackBatch(batch);
        return n > 0 || triggers.Count > 0;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Core.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Opens <paramref name="path"/> and creates a reader over it (the file is closed when that fails).</summary>
    private protected static T OpenFile<T>(string path, Func<FileStream, T> create)
    {
        FileStream fs = PropheseeCore.OpenFile(path);
        try
        {
            return create(fs);
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Decodes from the <paramref name="units"/> whole words at the input's start into the batch
    /// from event <paramref name="n"/> (advanced past the events written); returns the words consumed.
    /// </summary>
    private protected abstract int Decode(ByteInput input, int units, EventBatch batch, ref int n);

    /// <summary>Updates the geometry tracking with the batch just read (decoders that know its largest addresses pass them on).</summary>
    private protected virtual void TrackBatch(EventBatch batch) => Core.Track(batch);

    /// <summary>Writes the pending events that fit into the empty batch; returns how many.</summary>
    private protected virtual int DrainPending(EventBatch batch) => 0;
}
