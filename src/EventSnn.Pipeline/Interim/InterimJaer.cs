using System.Buffers.Binary;
using EventSnn.Events;

#pragma warning disable IDE0130 // interim stand-in placed in the namespace of the real type
namespace EventSnn.IO;
#pragma warning restore IDE0130

/// <summary>Which jAER raw address layout a stream uses (interim stand-in until EventSnn.IO's lands).</summary>
public enum JaerChip
{
    /// <summary>Not known yet.</summary>
    Unknown = 0,

    /// <summary>DVS128: bit 15 external, bits 14..8 row, bits 7..1 column, bit 0 polarity (0 = ON).</summary>
    Dvs128 = 1,

    /// <summary>DAVIS: bit 31 APS/IMU, bits 30..22 row, bits 21..12 column, bit 11 polarity, bit 10 external.</summary>
    Davis = 2,
}

/// <summary>jAER address encoding (interim stand-in).</summary>
internal static class JaerAddress
{
    public static uint EncodeDvs128(int x, int y, bool on) => (uint)(((127 - y) << 8) | ((127 - x) << 1) | (on ? 0 : 1));

    public static uint EncodeDavis(int x, int y, bool on, SensorGeometry geometry) =>
        (uint)(((geometry.Height - 1 - y) << 22) | ((geometry.Width - 1 - x) << 12) | (on ? 0x800 : 0));
}

/// <summary>Decoder of jAER big-endian (address, timestamp) records (interim stand-in).</summary>
internal sealed class JaerEventDecoder
{
    private readonly JaerChip _chip;
    private readonly SensorGeometry _geometry;
    private bool _started;
    private int _lastRaw;
    private long _time;

    public JaerEventDecoder(JaerChip chip, SensorGeometry geometry)
    {
        _chip = chip;
        _geometry = chip == JaerChip.Dvs128 ? SensorGeometry.Dvs128 : geometry;
    }

    public SensorGeometry Geometry => _geometry;

    public long EventsOutOfRange { get; private set; }

    public long Triggers { get; private set; }

    public void ResetTime() => _started = false;

    public int Decode(ReadOnlySpan<byte> records, int addressBytes, EventBatch batch)
    {
        int count = records.Length / 8;
        int i = 0;
        for (; i < count && !batch.IsFull; i++)
        {
            ReadOnlySpan<byte> r = records.Slice(i * 8, 8);
            uint a = BinaryPrimitives.ReadUInt32BigEndian(r);
            int raw = BinaryPrimitives.ReadInt32BigEndian(r[4..]);
            if (!_started)
            {
                _started = true;
                _time = (uint)raw;
            }
            else
            {
                _time += raw - _lastRaw;
            }

            _lastRaw = raw;
            int x, y;
            bool on;
            if (_chip == JaerChip.Dvs128)
            {
                if ((a & 0x80008000) != 0)
                {
                    batch.Triggers.Add(new TriggerEvent(_time, TriggerKind.External, (int)a));
                    Triggers++;
                    continue;
                }

                x = 127 - (int)((a >> 1) & 0x7F);
                y = 127 - (int)((a >> 8) & 0x7F);
                on = (a & 1) == 0;
            }
            else
            {
                if ((a & 0x80000000) != 0)
                {
                    continue;
                }

                if ((a & 0x400) != 0)
                {
                    batch.Triggers.Add(new TriggerEvent(_time, TriggerKind.External, (int)a));
                    Triggers++;
                    continue;
                }

                x = _geometry.Width - 1 - (int)((a >> 12) & 0x3FF);
                y = _geometry.Height - 1 - (int)((a >> 22) & 0x1FF);
                on = (a & 0x800) != 0;
            }

            if (!_geometry.Contains(x, y))
            {
                EventsOutOfRange++;
                continue;
            }

            batch.Add(_time, x, y, on);
        }

        return i * 8;
    }
}
