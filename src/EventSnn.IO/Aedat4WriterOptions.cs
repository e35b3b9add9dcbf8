using EventSnn.Events;

namespace EventSnn.IO;

/// <summary>
/// Settings of an <see cref="Aedat4Writer"/>: compression and the streams declared up
/// front. The event stream is always declared (id 0); triggers (id 3), frames (id 1) and IMU
/// (id 2) are optional and use DV's usual stream ids.
/// </summary>
public sealed record Aedat4WriterOptions
{
    /// <summary>Stream id of the events.</summary>
    public const int EventStreamId = 0;

    /// <summary>Stream id of the frames.</summary>
    public const int FrameStreamId = 1;

    /// <summary>Stream id of the IMU samples.</summary>
    public const int ImuStreamId = 2;

    /// <summary>Stream id of the triggers.</summary>
    public const int TriggerStreamId = 3;

    /// <summary>Packet compression (default LZ4, as DV records).</summary>
    public Aedat4Compression Compression { get; init; } = Aedat4Compression.Lz4;

    /// <summary>Sensor size written as sizeX/sizeY of the event (and frame) stream.</summary>
    public SensorGeometry Geometry { get; init; }

    /// <summary>Camera/source name written in the streams' "source" attribute.</summary>
    public string Source { get; init; } = "EventSnn";

    /// <summary>Module name written as originalModuleName.</summary>
    public string ModuleName { get; init; } = "eventsnn";

    /// <summary>Declares the trigger stream (id 3); without it triggers are not written.</summary>
    public bool Triggers { get; init; }

    /// <summary>Declares the frame stream (id 1).</summary>
    public bool Frames { get; init; }

    /// <summary>Declares the IMU stream (id 2).</summary>
    public bool Imu { get; init; }

    /// <summary>Events per "EVTS" packet, 1..<see cref="Aedat4Writer.MaxEventsPerPacket"/> (also the trigger count that forces a "TRIG" packet).</summary>
    public int EventsPerPacket { get; init; } = 8192;

    /// <summary>tsOffset attribute of the streams (microseconds), omitted when null.</summary>
    public long? TimestampOffset { get; init; }

    /// <summary>Append the FileDataTable on close (seekable streams only).</summary>
    public bool WriteTable { get; init; } = true;

    /// <summary>Leave the stream open when the writer is disposed.</summary>
    public bool LeaveOpen { get; init; }

    /// <summary>The streams these options declare, in id order.</summary>
    public IReadOnlyList<Aedat4StreamInfo> DeclaredStreams()
    {
        var list = new List<Aedat4StreamInfo>(4)
        {
            new(EventStreamId, "EVTS", Geometry, Source, "events") { TimestampOffset = TimestampOffset },
        };
        if (Frames)
        {
            list.Add(new(FrameStreamId, "FRME", Geometry, Source, "frames") { TimestampOffset = TimestampOffset });
        }

        if (Imu)
        {
            list.Add(new(ImuStreamId, "IMUS", SensorGeometry.Unknown, Source, "imu") { TimestampOffset = TimestampOffset });
        }

        if (Triggers)
        {
            list.Add(new(TriggerStreamId, "TRIG", SensorGeometry.Unknown, Source, "triggers") { TimestampOffset = TimestampOffset });
        }

        return list;
    }
}
