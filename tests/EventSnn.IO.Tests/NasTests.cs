using System.Buffers.Binary;
using EventSnn.Events;
using EventSnn.Testing;

namespace EventSnn.IO.Tests;

public class NasTests
{
    public static TheoryData<string, int, int, int, int> PyNavisFixtures() => new()
    {
        // fixture, address bytes, tick ns, channels, ears
        { "pynavis/130Hz_mono_64ch_ONOFF_addr2b_ts02.aedat", 2, 200, 64, 1 },
        { "pynavis/sound_mono_32ch_ONOFF_addr2b_ts02.aedat", 2, 200, 32, 1 },
        { "pynavis/enun_stereo_64ch_ONOFF_addr4b_ts1.aedat", 4, 1000, 64, 2 },
    };

    [Theory]
    [MemberData(nameof(PyNavisFixtures))]
    public void Settings_come_from_the_file_name_and_every_record_is_a_spike(string fixture, int addressBytes, int tickNs, int channels, int ears)
    {
        string path = Fixtures.Path(fixture);
        byte[] data = File.ReadAllBytes(path);
        using var reader = new NasReader(path);
        List<AudioSpike> spikes = TestData.ReadAll(reader, batchCapacity: 4096);

        Assert.Equal(addressBytes, reader.AddressBytes);
        Assert.Equal(tickNs, reader.TickNanoseconds);
        Assert.Equal(channels, reader.Channels);
        Assert.Equal(ears, reader.Ears);
        Assert.Equal("address: file name; tick: file name; ears: file name; channels: file name", reader.SettingsSource);
        Assert.Equal(0, reader.HeaderLines); // pyNAVIS' examples are headerless
        int recordSize = addressBytes + 4;
        Assert.Equal(0, data.Length % recordSize);
        Assert.Equal(data.Length / recordSize, spikes.Count);
        Assert.Equal(0, reader.AddressesOutOfRange);
        Assert.Empty(reader.Warnings);

        // invariants checked independently of the reader
        for (int i = 1; i < spikes.Count; i++)
        {
            Assert.True(spikes[i].T >= spikes[i - 1].T, $"timestamps decrease at spike {i}");
        }

        Assert.All(spikes, s => Assert.True(s.Channel < channels && s.Ear < ears));
        Assert.Equal(ears == 2, spikes.Any(s => s.Ear == 1));
        Assert.True(spikes.Any(s => s.On) && spikes.Any(s => !s.On));

        // duration: pyNAVIS' ts_tick (0.2 or 1 us) times the tick span of the raw bytes
        uint firstTicks = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(addressBytes));
        uint lastTicks = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(data.Length - 4));
        double seconds = (lastTicks - firstTicks) * (tickNs / 1e9);
        Assert.Equal(seconds, (spikes[^1].T - spikes[0].T) / 1e6, 5);
        Assert.InRange(seconds, 0.3, 20); // short utterances / tones

        // first spikes against a hand decode of the bytes (pyNAVIS: channel = a / 2 within the ear, even = ON)
        for (int i = 0; i < 5; i++)
        {
            ReadOnlySpan<byte> rec = data.AsSpan(i * recordSize, recordSize);
            uint a = addressBytes == 2 ? BinaryPrimitives.ReadUInt16BigEndian(rec) : BinaryPrimitives.ReadUInt32BigEndian(rec);
            long ticks = BinaryPrimitives.ReadUInt32BigEndian(rec[addressBytes..]);
            int ear = (int)(a / (2u * (uint)channels));
            uint within = a - ((uint)ear * 2u * (uint)channels);
            Assert.Equal(new AudioSpike(ticks * tickNs / 1000, (ushort)(within / 2), (byte)ear, 0, within % 2 == 0), spikes[i]);
        }
    }

    [Fact]
    public void Stereo_file_hand_checked_first_spikes()
    {
        // first records of enun_stereo (bytes 00 00 00 EA 00 00 00 00 | 00 00 00 81 00 00 19 1A):
        // 234 >= 2 x 64 -> right ear, 234 - 128 = 106 -> channel 53, even -> ON, t 0;
        // 129 -> right ear, 1 -> channel 0, odd -> OFF, t 0x191A = 6426 ticks of 1 us
        using var reader = new NasReader(Fixtures.Path("pynavis/enun_stereo_64ch_ONOFF_addr4b_ts1.aedat"));
        List<AudioSpike> spikes = TestData.ReadAll(reader);
        Assert.Equal(new AudioSpike(0, 53, 1, 0, true), spikes[0]);
        Assert.Equal(new AudioSpike(6426, 0, 1, 0, false), spikes[1]);
    }

    [Theory]
    [MemberData(nameof(PyNavisFixtures))]
    public void Address_width_and_channels_are_inferred_from_content_without_name_hints(string fixture, int addressBytes, int tickNs, int channels, int ears)
    {
        byte[] data = File.ReadAllBytes(Fixtures.Path(fixture));
        var options = new ReaderOptions { NasStereo = ears == 2, NasTickNanoseconds = tickNs };
        using var reader = new NasReader(new MemoryStream(data), "recording.aedat", options);
        List<AudioSpike> spikes = TestData.ReadAll(reader, batchCapacity: 50_000);

        Assert.Equal(addressBytes, reader.AddressBytes);
        Assert.Equal(channels, reader.Channels);
        Assert.StartsWith("address: content; tick: option; ears: option; channels: content", reader.SettingsSource, StringComparison.Ordinal);
        Assert.Equal(data.Length / (addressBytes + 4), spikes.Count);
    }

    [Fact]
    public void Options_override_name_hints()
    {
        byte[] data = File.ReadAllBytes(Fixtures.Path("pynavis/sound_mono_32ch_ONOFF_addr2b_ts02.aedat"));
        var options = new ReaderOptions { NasTickNanoseconds = 1000, NasChannels = 16 };
        using var reader = new NasReader(new MemoryStream(data), "sound_mono_32ch_ONOFF_addr2b_ts02.aedat", options);
        List<AudioSpike> spikes = TestData.ReadAll(reader);
        Assert.Equal(1000, reader.TickNanoseconds);
        Assert.Equal(16, reader.Channels);
        // addresses 32..63 no longer fit 16 channels of a mono sensor: skipped and counted
        Assert.True(reader.AddressesOutOfRange > 0);
        Assert.Equal(data.Length / 6, spikes.Count + reader.AddressesOutOfRange);
    }

    [Fact]
    public void Header_lines_are_skipped_and_tick_conversion_and_wrap_are_exact()
    {
        var ms = new MemoryStream();
        ms.Write("#!AER-DAT2.0\r\n# NAS test\r\n"u8);
        (uint A, uint T)[] recs = [(0, 5), (3, 10), (130, 0x7FFFFFF0), (7, 0x80000010), (9, 0xFFFFFFF0), (11, 5)];
        byte[] r = new byte[6];
        foreach ((uint a, uint t) in recs)
        {
            BinaryPrimitives.WriteUInt16BigEndian(r, (ushort)a);
            BinaryPrimitives.WriteUInt32BigEndian(r.AsSpan(2), t);
            ms.Write(r);
        }

        ms.Position = 0;
        using var reader = new NasReader(ms, "x_stereo_64ch_addr2b_ts02.aedat");
        List<AudioSpike> spikes = TestData.ReadAll(reader);
        Assert.Equal(2, reader.HeaderLines);
        Assert.Equal(
            [
                new AudioSpike(1, 0, 0, 0, true),            // 5 ticks x 0.2 us
                new AudioSpike(2, 1, 0, 0, false),           // address 3: channel 1 OFF
                new AudioSpike(429_496_726, 1, 1, 0, true),  // 130 - 128 = 2 -> right ear channel 1 ON; 2147483632 / 5
                new AudioSpike(429_496_732, 3, 0, 0, false), // across 2^31 ticks: forward
                new AudioSpike(858_993_456, 4, 0, 0, false), // 4294967280 / 5
                new AudioSpike(858_993_460, 5, 0, 0, false), // wrapped past 2^32 ticks: 4294967301 / 5
            ],
            spikes);
    }

    [Fact]
    public void Writer_round_trip_mono_and_stereo()
    {
        foreach ((int addressBytes, int tick, bool stereo) in new[] { (2, 200, false), (4, 1000, true) })
        {
            var spikes = new List<AudioSpike>();
            var rng = new Random(addressBytes);
            long t = 0;
            for (int i = 0; i < 5000; i++)
            {
                t += rng.Next(0, 50);
                spikes.Add(new AudioSpike(t, (ushort)rng.Next(64), (byte)(stereo ? rng.Next(2) : 0), 0, rng.Next(2) == 0));
            }

            var ms = new MemoryStream();
            using (var writer = new NasWriter(ms, 64, stereo, addressBytes, tick, leaveOpen: true))
            {
                foreach (AudioSpike s in spikes)
                {
                    writer.Write(s);
                }
            }

            ms.Position = 0;
            var options = new ReaderOptions { NasAddressBytes = addressBytes, NasTickNanoseconds = tick, NasChannels = 64, NasStereo = stereo };
            using var reader = new NasReader(ms, "rt.aedat", options);
            Assert.Equal(spikes, TestData.ReadAll(reader));
        }
    }

    [Fact]
    public void Truncated_record_warns_or_throws()
    {
        byte[] data = [0, 2, 0, 0, 0, 1, 0, 4, 0, 0, 0, 2, 0, 6, 0];
        using (var tolerant = new NasReader(new MemoryStream(data), "a_addr2b_ts1_8ch_mono"))
        {
            Assert.Equal(2, TestData.ReadAll(tolerant).Count);
            Assert.Equal(12, Assert.Single(tolerant.Warnings).Offset);
        }

        using var strict = new NasReader(new MemoryStream(data), "a_addr2b_ts1_8ch_mono", new ReaderOptions { Strict = true });
        using var batch = new SpikeBatch(16);
        Assert.True(strict.Read(batch));
        EventFormatException ex = Assert.Throws<EventFormatException>(() => strict.Read(batch));
        Assert.True(ex.IsTruncation);
        Assert.Equal(12, ex.Offset);
    }
}
