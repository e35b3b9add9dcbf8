using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Cli;

/// <summary>Writes large synthetic recordings for the decode benchmarks.</summary>
internal static class SyntheticFiles
{
    /// <summary>Sensor used per format: the sensor that format usually comes from.</summary>
    public static SensorGeometry GeometryFor(EventFormat format) => format switch
    {
        EventFormat.Evt3 or EventFormat.Evt21 => new SensorGeometry(1280, 720),
        EventFormat.Evt2 or EventFormat.Dat => new SensorGeometry(640, 480),
        EventFormat.NMnist => SensorGeometry.NMnist,
        _ => SensorGeometry.Davis346,
    };

    public static EventFormat Parse(string name) =>
        EventFormats.TryParse(name, out EventFormat f) && EventWriters.Writable.Contains(f)
            ? f
            : throw new UsageException($"cannot generate '{name}': one of {string.Join(", ", EventWriters.Writable.Select(EventFormats.Name))}");

    public static string Extension(string name) => EventWriters.Extension(Parse(name));

    /// <summary>Writes <paramref name="events"/> synthetic events (20 M events/s sensor rate) in <paramref name="formatName"/>.</summary>
    public static void Write(string formatName, string path, long events, string compression, SensorGeometry? geometry = null)
    {
        EventFormat format = Parse(formatName);
        SensorGeometry g = geometry ?? GeometryFor(format);
        var generator = new SyntheticEventGenerator(g, eventsPerSecond: 20e6, seed: 42);
        Aedat4Compression c;
        try
        {
            c = EventWriters.ParseCompression(compression);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(CommandRunner.UserMessage(ex));
        }

        using IEventWriter writer = EventWriters.Create(format, path, g, c, triggers: false);
        using var batch = new EventBatch(1 << 16);
        long left = events;
        while (left > 0)
        {
            generator.Fill(batch, (int)Math.Min(left, batch.Capacity));
            writer.Write(batch);
            left -= batch.Count;
        }
    }
}
