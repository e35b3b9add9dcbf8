using EventSnn.Events;

namespace EventSnn.IO;

/// <summary>What every streaming reader exposes.</summary>
public interface IEventReader : IDisposable
{
    /// <summary>The file path or peer the events come from.</summary>
    string SourceName { get; }

    /// <summary>The format being decoded.</summary>
    EventFormat Format { get; }

    /// <summary>Byte offset in the source of the next byte not yet decoded.</summary>
    long Position { get; }

    /// <summary>Non-fatal problems met so far (tolerant mode), at most a bounded number.</summary>
    IReadOnlyList<FormatWarning> Warnings { get; }
}

/// <summary>A streaming reader of DVS events.</summary>
public interface IDvsEventReader : IEventReader
{
    /// <summary>Sensor size declared by the file, or <see cref="SensorGeometry.Unknown"/>.</summary>
    SensorGeometry Geometry { get; }

    /// <summary>
    /// Clears <paramref name="batch"/> and fills it with the next events (and triggers).
    /// Returns false when the source is exhausted and nothing was added.
    /// </summary>
    bool Read(EventBatch batch);
}

/// <summary>A streaming reader of audio spikes.</summary>
public interface ISpikeReader : IEventReader
{
    /// <summary>Number of channels per ear (0 when unknown).</summary>
    int Channels { get; }

    /// <summary>Number of ears (1 mono, 2 stereo).</summary>
    int Ears { get; }

    /// <summary>
    /// Clears <paramref name="batch"/> and fills it with the next spikes.
    /// Returns false when the source is exhausted and nothing was added.
    /// </summary>
    bool Read(SpikeBatch batch);
}
