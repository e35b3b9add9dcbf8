using EventSnn.Events;

namespace EventSnn.IO;

/// <summary>A writer of DVS events (and the triggers that travel with them) in one file format.</summary>
public interface IEventWriter : IDisposable
{
    /// <summary>Writes the events and triggers of <paramref name="batch"/>; timestamps must not decrease.</summary>
    void Write(EventBatch batch);
}
