using EventSnn.Events;
using PureHDF;
using PureHDF.Selections;

namespace EventSnn.IO;

/// <summary>
/// Writes DVS events as HDF5 (via PureHDF) in the column layout h5py users expect (DSEC's, with
/// 64-bit times): one-dimensional datasets <c>/events/t</c> (int64, microseconds),
/// <c>/events/x</c> and <c>/events/y</c> (uint16, sensor pixels from the top-left corner) and
/// <c>/events/p</c> (uint8, 1 ON, 0 OFF); the group <c>/events</c> carries the int32 attributes
/// <c>width</c> and <c>height</c> (the sensor, 0 when unknown). Triggers are not written.
/// </summary>
/// <remarks>
/// HDF5 datasets are sized when the file is laid out, so the event count is given up front (a
/// converter counts the input first) and checked on <see cref="Dispose"/>. Each batch goes straight
/// from its pooled arrays to its slice of the four datasets: constant memory, nothing allocated
/// per event.
/// </remarks>
public sealed class Hdf5EventWriter : IEventWriter
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly H5NativeWriter _writer;
    private readonly H5Dataset<long[]> _t;
    private readonly H5Dataset<ushort[]> _x;
    private readonly H5Dataset<ushort[]> _y;
    private readonly H5Dataset<byte[]> _p;
    private bool _disposed;

    /// <summary>Lays out the file for <paramref name="eventCount"/> events on <paramref name="stream"/>.</summary>
    /// <param name="stream">Destination (seekable: HDF5 is not written front to back).</param>
    /// <param name="geometry">Sensor size stored as the attributes width and height (may be unknown: 0).</param>
    /// <param name="eventCount">The number of events that will be written.</param>
    /// <param name="leaveOpen">True to leave <paramref name="stream"/> open on dispose.</param>
    public Hdf5EventWriter(Stream stream, SensorGeometry geometry, long eventCount, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(eventCount);
        if (!stream.CanSeek)
        {
            throw new ArgumentException("HDF5 needs a seekable stream", nameof(stream));
        }

        _stream = stream;
        _leaveOpen = leaveOpen;
        Geometry = geometry;
        EventCount = eventCount;
        ulong[] dims = [(ulong)eventCount];
        _t = new H5Dataset<long[]>(fileDims: dims);
        _x = new H5Dataset<ushort[]>(fileDims: dims);
        _y = new H5Dataset<ushort[]>(fileDims: dims);
        _p = new H5Dataset<byte[]>(fileDims: dims);
        var file = new H5File
        {
            ["events"] = new H5Group
            {
                ["t"] = _t,
                ["x"] = _x,
                ["y"] = _y,
                ["p"] = _p,
                Attributes = new()
                {
                    ["width"] = geometry.Width,
                    ["height"] = geometry.Height,
                },
            },
        };
        _writer = file.BeginWrite(stream);
    }

    /// <summary>Sensor size stored in the file.</summary>
    public SensorGeometry Geometry { get; }

    /// <summary>The number of events the datasets hold.</summary>
    public long EventCount { get; }

    /// <summary>Events written so far.</summary>
    public long EventsWritten { get; private set; }

    /// <summary>Creates (or overwrites) a file for <paramref name="eventCount"/> events.</summary>
    public static Hdf5EventWriter Create(string path, SensorGeometry geometry, long eventCount) =>
        new(new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16), geometry, eventCount);

    /// <summary>Writes the events of <paramref name="batch"/> into the next slice of the datasets.</summary>
    /// <exception cref="InvalidOperationException">More events than the count given up front.</exception>
    public void Write(EventBatch batch)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(batch);
        int n = batch.Count;
        if (n == 0)
        {
            return;
        }

        if (EventsWritten + n > EventCount)
        {
            throw new InvalidOperationException($"HDF5: {EventsWritten + n} events written, the file was laid out for {EventCount}");
        }

        // the batch's pooled arrays are longer than its count: select its first n elements
        var memory = new HyperslabSelection(0, (ulong)n);
        var file = new HyperslabSelection((ulong)EventsWritten, (ulong)n);
        _writer.Write(_t, batch.T, memory, file);
        _writer.Write(_x, batch.X, memory, file);
        _writer.Write(_y, batch.Y, memory, file);
        _writer.Write(_p, batch.P, memory, file);
        EventsWritten += n;
    }

    /// <summary>Finishes the file and releases the stream unless leaveOpen.</summary>
    /// <exception cref="InvalidOperationException">Fewer events were written than the count given up front.</exception>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _writer.Dispose();
            _stream.Flush();
            if (EventsWritten != EventCount)
            {
                throw new InvalidOperationException($"HDF5: {EventsWritten} events written, the file was laid out for {EventCount}");
            }
        }
        finally
        {
            if (!_leaveOpen)
            {
                _stream.Dispose();
            }
        }
    }
}
