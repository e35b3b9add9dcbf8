namespace EventSnn.Events;

/// <summary>
/// The canonical event of a dynamic vision sensor: timestamp in microseconds, pixel
/// address with the origin at the top-left corner, and polarity (true = ON, brightness up).
/// </summary>
public readonly record struct DvsEvent(long T, ushort X, ushort Y, bool On);

/// <summary>
/// A spike of an audio sensor (silicon cochlea, NAS) or of a spike-encoded dataset (SHD):
/// timestamp in microseconds, channel (frequency band), and where the sensor has them the
/// ear (0 left / mono, 1 right), the neuron within the channel and the ON/OFF polarity.
/// </summary>
public readonly record struct AudioSpike(long T, ushort Channel, byte Ear = 0, byte Neuron = 0, bool On = true);

/// <summary>What a trigger or special event reports.</summary>
public enum TriggerKind : byte
{
    /// <summary>External input pin, rising edge.</summary>
    ExternalRising = 0,
    /// <summary>External input pin, falling edge.</summary>
    ExternalFalling = 1,
    /// <summary>External input pin, pulse.</summary>
    ExternalPulse = 2,
    /// <summary>External input of unknown edge (e.g. the DVS128 external event bit).</summary>
    External = 3,
    /// <summary>The device reset its timestamp counter.</summary>
    TimestampReset = 4,
    /// <summary>The device generated an external trigger output.</summary>
    ExternalGenerator = 5,
    /// <summary>Any other special event; <see cref="TriggerEvent.Data"/> carries the raw code.</summary>
    Other = 255,
}

/// <summary>A trigger or special event (external inputs, timestamp resets).</summary>
public readonly record struct TriggerEvent(long T, TriggerKind Kind, int Data = 0);
