using System.Buffers.Binary;
using EventSnn.Events;

namespace EventSnn.IO.Tests;

public class JaerEventDecoderTests
{
    [Theory]
    [InlineData(0.0, 1)]   // pure DVS: the vector path almost everywhere
    [InlineData(0.05, 2)]  // a few external/APS/IMU/out-of-range words: mixed paths
    [InlineData(0.5, 3)]   // mostly scalar
    public void Davis_decoding_matches_a_per_record_reference_with_time_jumps_and_odd_batch_sizes(double otherFraction, int seed)
    {
        var rng = new Random(seed);
        const int count = 40_000;
        byte[] data = new byte[count * 8];
        int raw = int.MaxValue - 3_000_000; // crosses the int32 sign change
        for (int i = 0; i < count; i++)
        {
            uint a;
            if (rng.NextDouble() < otherFraction)
            {
                a = rng.Next(4) switch
                {
                    0 => 0x400u | ((uint)rng.Next(1 << 10) << 12),                   // external input
                    1 => 0x80000000u | ((uint)rng.Next(1 << 20) << 10 >> 10),        // APS
                    2 => 0x80000C00u | ((uint)rng.Next(7) << 28),                    // IMU word
                    _ => ((uint)rng.Next(260, 512) << 22) | ((uint)rng.Next(346) << 12), // y outside DAVIS346
                };
            }
            else
            {
                a = ((uint)rng.Next(260) << 22) | ((uint)rng.Next(346) << 12) | ((uint)rng.Next(2) << 11);
            }

            int step = rng.Next(100) switch
            {
                0 => (1 << 30) + rng.Next(1000),  // a jump beyond the vector path's window
                1 => -rng.Next(50),               // slightly backwards
                _ => rng.Next(0, 200),
            };
            raw = unchecked(raw + step);
            BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(i * 8), a);
            BinaryPrimitives.WriteInt32BigEndian(data.AsSpan((i * 8) + 4), raw);
        }

        // reference: one record at a time, straight from the documented rules
        var expectedEvents = new List<DvsEvent>();
        var expectedTriggers = new List<TriggerEvent>();
        long t = 0;
        int last = 0;
        for (int i = 0; i < count; i++)
        {
            uint a = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(i * 8));
            int r = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan((i * 8) + 4));
            t = i == 0 ? (uint)r : t + unchecked(r - last);
            last = r;
            if ((a & 0x80000000) != 0)
            {
                continue;
            }

            if ((a & 0x400) != 0)
            {
                expectedTriggers.Add(new TriggerEvent(t, TriggerKind.External, unchecked((int)a)));
                continue;
            }

            int rx = (int)((a >> 12) & 0x3FF), ry = (int)((a >> 22) & 0x1FF);
            if (rx < 346 && ry < 260)
            {
                expectedEvents.Add(new DvsEvent(t, (ushort)(345 - rx), (ushort)(259 - ry), (a & 0x800) != 0));
            }
        }

        var decoder = new JaerEventDecoder(JaerChip.Davis, SensorGeometry.Davis346);
        var events = new List<DvsEvent>();
        var triggers = new List<TriggerEvent>();
        int pos = 0;
        while (pos < data.Length)
        {
            using var batch = new EventBatch(rng.Next(1, 3000));
            int chunk = Math.Min(data.Length - pos, rng.Next(1, 5000) * 8 + rng.Next(8));
            int used = decoder.Decode(data.AsSpan(pos, chunk), 4, batch);
            Assert.Equal(0, used % 8);
            Assert.True(used > 0, "no progress"); // a fresh batch always takes at least one record
            pos += used;
            events.AddRange(batch.ToArray());
            triggers.AddRange(batch.Triggers.Items.ToArray());
        }

        Assert.Equal(expectedEvents, events);
        Assert.Equal(expectedTriggers, triggers);
        Assert.Equal(count, decoder.RecordsDecoded);
    }

    [Theory]
    [InlineData("ch.unizh.ini.jaer.chip.retina.DVS128", JaerChip.Dvs128, 128, 128)]
    [InlineData("eu.seebetter.ini.chips.davis.DAVIS240C", JaerChip.Davis, 240, 180)]
    [InlineData("eu.seebetter.ini.chips.davis.Davis346red", JaerChip.Davis, 346, 260)]
    [InlineData("eu.seebetter.ini.chips.davis.Davis346B", JaerChip.Davis, 346, 260)]
    [InlineData("eu.seebetter.ini.chips.davis.Davis640", JaerChip.Davis, 640, 480)]
    [InlineData("eu.seebetter.ini.chips.davis.Davis208PixelParade", JaerChip.Davis, 208, 192)]
    [InlineData("eu.seebetter.ini.chips.DavisChip", JaerChip.Davis, 0, 0)]
    [InlineData("davis", JaerChip.Davis, 0, 0)]
    [InlineData("dvs128", JaerChip.Dvs128, 128, 128)]
    public void Chip_class_names_map_to_layout_and_size(string name, JaerChip chip, int width, int height)
    {
        Assert.True(JaerAddress.TryParseChip(name, out JaerChip c, out SensorGeometry g));
        Assert.Equal(chip, c);
        Assert.Equal(new SensorGeometry(width, height), g);
    }

    [Theory]
    [InlineData("DAVI346")]
    [InlineData("ch.unizh.ini.jaer.chip.cochlea.CochleaAMS1c")]
    [InlineData("")]
    public void Unknown_chip_names_are_not_guessed(string name) => Assert.False(JaerAddress.TryParseChip(name, out _, out _));
}
