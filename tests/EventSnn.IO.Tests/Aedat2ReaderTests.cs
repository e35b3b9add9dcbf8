using System.Buffers.Binary;
using System.Text.Json;
using EventSnn.Events;
using EventSnn.Testing;

namespace EventSnn.IO.Tests;

public class Aedat2ReaderTests
{
    public static TheoryData<string> Aedat2Fixtures() =>
    [
        "pyaedattools/IMU_rotDisk.aedat",
        "pyaedattools/IMU_translBoxes.aedat",
        "pyaedattools/TranslatingBarX.aedat",
        "pyaedattools/TranslatingSquare.aedat",
        "pyaedattools/RotatingBar.aedat",
        "tonic/sample_aedat_header.aedat",
    ];

    [Theory]
    [MemberData(nameof(Aedat2Fixtures))]
    public void Fixture_matches_expected_counts_timestamps_polarities_and_header_lines(string fixture)
    {
        JsonElement expected = TestData.Expected(fixture);
        using var reader = new Aedat2Reader(Fixtures.Path(fixture));
        EventStatistics stats = TestData.Stats(reader);

        Assert.Equal(expected.GetProperty("header_lines").GetInt32(), reader.HeaderLines);
        Assert.Equal(expected.GetProperty("chip").GetString(), reader.Chip == JaerChip.Davis ? "davis" : "dvs128");
        Assert.Equal(expected.GetProperty("events").GetInt64(), stats.Events);
        Assert.Empty(reader.Warnings);
        if (stats.Events == 0)
        {
            return;
        }

        Assert.Equal(expected.GetProperty("t_first").GetInt64(), stats.TFirst);
        Assert.Equal(expected.GetProperty("t_last").GetInt64(), stats.TLast);
        Assert.Equal(expected.GetProperty("t_min").GetInt64(), stats.TMin);
        Assert.Equal(expected.GetProperty("t_max").GetInt64(), stats.TMax);
        long[] polarity = [stats.On, stats.Events - stats.On];
        long[] expectedPolarity = [.. expected.GetProperty("polarity_counts_unordered").EnumerateArray().Select(e => e.GetInt64())];
        Array.Sort(polarity);
        Array.Sort(expectedPolarity);
        Assert.Equal(expectedPolarity, polarity);
    }

    [Fact]
    public void Davis_recordings_with_imu_declare_davis240_geometry_and_skip_every_imu_word()
    {
        string path = Fixtures.Path("pyaedattools/IMU_rotDisk.aedat");
        byte[] data = File.ReadAllBytes(path);
        int start = TestData.HeaderEnd(data);
        long records = (data.Length - start) / 8;
        long imuWords = 0;
        for (int i = start; i + 8 <= data.Length; i += 8)
        {
            uint a = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(i));
            imuWords += (a & 0x80000C00) == 0x80000C00 ? 1 : 0;
        }

        var samples = new List<JaerImuSample>();
        using var reader = new Aedat2Reader(path) { ImuSampleReceived = samples.Add };
        EventStatistics stats = TestData.Stats(reader);

        Assert.Equal(SensorGeometry.Davis240, reader.Geometry);
        Assert.Equal("eu.seebetter.ini.chips.davis.DAVIS240C", reader.ChipClass);
        Assert.False(reader.ChipInferred);
        Assert.Equal(start, reader.DataOffset);
        Assert.Equal(imuWords, reader.ImuWordsSkipped);
        Assert.True(imuWords > 0);
        Assert.Equal(0, reader.ApsWordsSkipped);
        Assert.Equal(records, reader.RecordsRead);
        Assert.Equal(records, stats.Events + reader.ImuWordsSkipped + reader.ApsWordsSkipped + reader.TriggersRead + reader.EventsOutOfRange);
        Assert.True(stats.XMax < 240 && stats.YMax < 180);

        // complete 7-word samples: at most imuWords / 7, and (nearly) all of them for a clean recording
        Assert.InRange(samples.Count, (imuWords / 7) - 2, imuWords / 7);
        Assert.Equal(samples.Count, reader.ImuSamples);
        Assert.All(samples, s => Assert.InRange(s.T, 0, 4_000_000));

        // plausibility of the assembled samples: |a| is about 1 g at one of the MPU-6150 scales
        // (16384/8192/4096/2048 LSB per g) and the die temperature (raw / 340 + 35) is near room temperature
        double g = samples.Average(s => Math.Sqrt((double)(s.AccelX * s.AccelX) + (s.AccelY * s.AccelY) + (s.AccelZ * s.AccelZ)));
        Assert.Contains(new[] { 16384.0, 8192.0, 4096.0, 2048.0 }, lsb => Math.Abs(g - lsb) < 0.15 * lsb);
        double celsius = samples.Average(s => (s.Temperature / 340.0) + 35);
        Assert.InRange(celsius, 15, 60);
    }

    [Fact]
    public void Synthetic_files_without_aechip_are_inferred_as_davis_with_raw_coordinates()
    {
        string path = Fixtures.Path("pyaedattools/TranslatingBarX.aedat");
        byte[] data = File.ReadAllBytes(path);
        int start = TestData.HeaderEnd(data);
        using var reader = new Aedat2Reader(path);
        (List<DvsEvent> events, _) = TestData.ReadAll(reader);

        Assert.Null(reader.ChipClass);
        Assert.True(reader.ChipInferred);
        Assert.Equal(JaerChip.Davis, reader.Chip);
        Assert.Equal(SensorGeometry.Unknown, reader.Geometry);

        // hand decode of the first record: raw fields, no mirror (the sensor size is unknown)
        uint a = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(start));
        int t = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(start + 4));
        Assert.Equal(new DvsEvent(t, (ushort)((a >> 12) & 0x3FF), (ushort)((a >> 22) & 0x1FF), (a & 0x800) != 0), events[0]);
    }

    [Fact]
    public void Aedat2Chip_option_overrides_the_layout_and_supplies_the_geometry()
    {
        string path = Fixtures.Path("pyaedattools/TranslatingBarX.aedat");
        using var raw = new Aedat2Reader(path);
        using var mirrored = new Aedat2Reader(path, new ReaderOptions { Aedat2Chip = "davis240" });
        (List<DvsEvent> a, _) = TestData.ReadAll(raw);
        (List<DvsEvent> b, _) = TestData.ReadAll(mirrored);

        Assert.Equal(SensorGeometry.Davis240, mirrored.Geometry);
        Assert.False(mirrored.ChipInferred);
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(239 - a[i].X, b[i].X);
            Assert.Equal(179 - a[i].Y, b[i].Y);
            Assert.Equal(a[i].On, b[i].On);
        }

        Assert.Throws<ArgumentException>(() => new Aedat2Reader(path, new ReaderOptions { Aedat2Chip = "toaster" }));
    }

    [Theory]
    [InlineData("mibblez/header_test_128.aedat", 128, 128, JaerChip.Dvs128)]
    [InlineData("mibblez/header_test_240.aedat", 240, 180, JaerChip.Davis)]
    public void Header_test_files_give_aechip_geometry_and_one_record_per_whole_8_bytes(string fixture, int width, int height, JaerChip chip)
    {
        string path = Fixtures.Path(fixture);
        byte[] data = File.ReadAllBytes(path);
        int start = TestData.HeaderEnd(data);
        int wholeRecords = (data.Length - start) / 8;

        using var reader = new Aedat2Reader(path);
        (List<DvsEvent> events, List<TriggerEvent> triggers) = TestData.ReadAll(reader);

        Assert.Equal(new SensorGeometry(width, height), reader.Geometry);
        Assert.Equal(chip, reader.Chip);
        Assert.Equal(start, reader.DataOffset);
        Assert.Equal(wholeRecords, reader.RecordsRead);
        Assert.Equal(wholeRecords, events.Count + triggers.Count + reader.ImuWordsSkipped + reader.ApsWordsSkipped + reader.EventsOutOfRange);
        Assert.Single(reader.Warnings); // the filler does not end on a record boundary
        Assert.Equal(data.Length, reader.Position);
        if (chip == JaerChip.Dvs128)
        {
            // filler '$$$$' = 0x24242424: no external bit -> DVS128 pixel events
            Assert.Equal(wholeRecords, events.Count);
            Assert.All(events, e => Assert.Equal(new DvsEvent(0x24242424, 127 - 0x12, 127 - 0x24, true), e));
        }
        else
        {
            // 0x24242424 has bit 10 set: a DAVIS external input record
            Assert.Equal(wholeRecords, triggers.Count);
            Assert.All(triggers, t => Assert.Equal(TriggerKind.External, t.Kind));
        }
    }

    [Fact]
    public void Dvs128_addresses_decode_to_top_left_coordinates_with_jaer_polarity()
    {
        // x field (bits 7..1) = 5, y field (bits 14..8) = 100; jAER: x = 127-5, y_up = 100 -> top-left y = 27
        uint on = (100u << 8) | (5u << 1) | 0; // raw polarity 0 = ON (jAER DVS128 extractor)
        uint off = (0u << 8) | (127u << 1) | 1;
        uint external = 0x8000;
        byte[] file = TestData.Aedat2(TestData.Header2("ch.unizh.ini.jaer.chip.retina.DVS128"), [(on, 10), (external, 15), (off, 20)]);
        using var reader = new Aedat2Reader(new MemoryStream(file), "dvs128.aedat");
        (List<DvsEvent> events, List<TriggerEvent> triggers) = TestData.ReadAll(reader);

        Assert.Equal(JaerChip.Dvs128, reader.Chip);
        Assert.Equal([new DvsEvent(10, 122, 27, true), new DvsEvent(20, 0, 127, false)], events);
        Assert.Equal([new TriggerEvent(15, TriggerKind.External, 0x8000)], triggers);
        Assert.Equal(on, JaerAddress.EncodeDvs128(122, 27, true));
    }

    [Fact]
    public void Aedat1_files_use_16_bit_addresses_and_a_missing_version_line_means_aedat1()
    {
        uint a = (3u << 8) | (4u << 1) | 1;
        foreach (string[] header in new[] { new[] { "#!AER-DAT1.0", "# old" }, new[] { "# no version line" } })
        {
            byte[] file = TestData.Aedat2(header, [(a, 7), (a | 0x8000, 8), (a, 9)], addressBytes: 2);
            using var reader = new Aedat2Reader(new MemoryStream(file), "v1.dat");
            (List<DvsEvent> events, List<TriggerEvent> triggers) = TestData.ReadAll(reader);

            Assert.Equal(2, reader.AddressBytes);
            Assert.Equal(6, reader.RecordBytes);
            Assert.Equal(JaerChip.Dvs128, reader.Chip);
            Assert.Equal([new DvsEvent(7, 123, 124, false), new DvsEvent(9, 123, 124, false)], events);
            Assert.Single(triggers);
            Assert.Empty(reader.Warnings);
        }
    }

    [Fact]
    public void Davis_addresses_decode_mirrored_with_bit11_on_and_skip_aps_and_imu_words()
    {
        // DAVIS240: canonical (10, 20) ON -> raw x 239-10 = 229, raw y 179-20 = 159
        uint dvsOn = (159u << 22) | (229u << 12) | 0x800;
        uint dvsOff = (0u << 22) | (0u << 12); // raw (0, 0) -> canonical (239, 179), OFF
        uint external = 0x400;
        uint externalAlt = 0xC00; // bits 11..10 = 11 on a DVS word is also external (jAER tests bit 10)
        uint aps = 0x80000000 | (5u << 22) | (6u << 12) | (1u << 10) | 0x155; // signal read ADC sample
        uint outside = (200u << 22) | (3u << 12); // raw y 200 >= 180
        var records = new List<(uint, int)> { (dvsOn, 100), (aps, 101), (external, 102) };
        short[] imuValues = [100, -200, 8192, 340, -1, 2, 32767];
        for (int type = 0; type < 7; type++)
        {
            records.Add((0x80000C00 | ((uint)type << 28) | ((uint)(ushort)imuValues[type] << 12), 103));
        }

        records.AddRange([(dvsOff, 104), (externalAlt, 105), (outside, 106)]);
        byte[] file = TestData.Aedat2(TestData.Header2("eu.seebetter.ini.chips.davis.DAVIS240C"), records);
        var samples = new List<JaerImuSample>();
        using var reader = new Aedat2Reader(new MemoryStream(file), "davis.aedat") { ImuSampleReceived = samples.Add };
        (List<DvsEvent> events, List<TriggerEvent> triggers) = TestData.ReadAll(reader);

        Assert.Equal([new DvsEvent(100, 10, 20, true), new DvsEvent(104, 239, 179, false)], events);
        Assert.Equal([new TriggerEvent(102, TriggerKind.External, 0x400), new TriggerEvent(105, TriggerKind.External, 0xC00)], triggers);
        Assert.Equal(1, reader.ApsWordsSkipped);
        Assert.Equal(7, reader.ImuWordsSkipped);
        Assert.Equal(1, reader.EventsOutOfRange);
        Assert.Equal([new JaerImuSample(103, 100, -200, 8192, 340, -1, 2, 32767)], samples);
        Assert.Equal(dvsOn, JaerAddress.EncodeDavis(10, 20, true, SensorGeometry.Davis240));
    }

    [Fact]
    public void Imu_words_out_of_sequence_are_dropped_without_a_sample()
    {
        var records = new List<(uint, int)>();
        foreach (int type in new[] { 0, 1, 2, 4, 5, 6 }) // type 3 missing
        {
            records.Add((0x80000C00 | ((uint)type << 28), 1));
        }

        byte[] file = TestData.Aedat2(TestData.Header2("eu.seebetter.ini.chips.davis.Davis346B"), records);
        int samples = 0;
        using var reader = new Aedat2Reader(new MemoryStream(file), "imu.aedat") { ImuSampleReceived = _ => samples++ };
        TestData.ReadAll(reader);

        Assert.Equal(6, reader.ImuWordsSkipped);
        Assert.Equal(0, samples);
        Assert.Equal(SensorGeometry.Davis346, reader.Geometry);
    }

    [Fact]
    public void Int32_timestamp_wrap_is_unwrapped_to_int64()
    {
        uint a = (1u << 22) | (1u << 12);
        int[] raw = [2_147_483_000, int.MaxValue, int.MinValue, -2_147_483_000, -1, 0, 5, 3];
        byte[] file = TestData.Aedat2(TestData.Header2("eu.seebetter.ini.chips.davis.DAVIS240C"), raw.Select(t => (a, t)));
        using var reader = new Aedat2Reader(new MemoryStream(file), "wrap.aedat");
        (List<DvsEvent> events, _) = TestData.ReadAll(reader, batchCapacity: 3);

        long[] expected = [2_147_483_000, 2_147_483_647, 2_147_483_648, 2_147_484_296, 4_294_967_295, 4_294_967_296, 4_294_967_301, 4_294_967_299];
        Assert.Equal(expected, events.Select(e => e.T));
    }

    [Fact]
    public void A_file_starting_after_the_sign_change_starts_at_its_unsigned_time()
    {
        uint a = (1u << 22) | (1u << 12);
        byte[] file = TestData.Aedat2(TestData.Header2("eu.seebetter.ini.chips.davis.DAVIS240C"), [(a, -100), (a, -50)]);
        using var reader = new Aedat2Reader(new MemoryStream(file), "late.aedat");
        (List<DvsEvent> events, _) = TestData.ReadAll(reader);
        Assert.Equal([4_294_967_196L, 4_294_967_246L], events.Select(e => e.T));
    }

    [Fact]
    public void Truncated_record_warns_in_tolerant_mode_and_throws_in_strict_mode_after_the_complete_events()
    {
        uint a = (1u << 22) | (1u << 12);
        byte[] full = TestData.Aedat2(TestData.Header2("eu.seebetter.ini.chips.davis.DAVIS240C"), [(a, 1), (a, 2), (a, 3)]);
        byte[] cut = full[..^3];

        using (var tolerant = new Aedat2Reader(new MemoryStream(cut), "cut.aedat"))
        {
            (List<DvsEvent> events, _) = TestData.ReadAll(tolerant);
            Assert.Equal(2, events.Count);
            FormatWarning w = Assert.Single(tolerant.Warnings);
            Assert.Equal(cut.Length - 5, w.Offset);
        }

        using var strict = new Aedat2Reader(new MemoryStream(cut), "cut.aedat", new ReaderOptions { Strict = true });
        using var batch = new EventBatch(16);
        Assert.True(strict.Read(batch));
        Assert.Equal(2, batch.Count);
        EventFormatException ex = Assert.Throws<EventFormatException>(() => strict.Read(batch));
        Assert.True(ex.IsTruncation);
        Assert.Equal("cut.aedat", ex.SourceName);
        Assert.Equal(cut.Length - 5, ex.Offset);
    }

    [Fact]
    public void Aedat3_or_4_version_lines_are_rejected_with_a_format_exception()
    {
        byte[] file = TestData.Aedat2(["#!AER-DAT3.1", "#!END-HEADER"], []);
        EventFormatException ex = Assert.Throws<EventFormatException>(() => new Aedat2Reader(new MemoryStream(file), "v3.aedat"));
        Assert.Equal("version", ex.Field);
    }

    [Fact]
    public void Header_longer_than_the_bound_is_rejected()
    {
        byte[] file = TestData.Aedat2(["#!AER-DAT2.0", "# " + new string('x', 5000)], []);
        var ex = Assert.Throws<EventFormatException>(() => new Aedat2Reader(new MemoryStream(file), "long.aedat", new ReaderOptions { MaxHeaderBytes = 1024 }));
        Assert.Equal("header", ex.Field);
    }

    [Fact]
    public void Lf_line_ends_and_end_marker_variants_are_accepted()
    {
        var ms = new MemoryStream();
        ms.Write("#!AER-DAT2.0\n# AEChip: eu.seebetter.ini.chips.davis.DAVIS240C\n# End of ASCII Header\n"u8);
        ms.Write([0x23, 0x00, 0x00, 0x00, 0, 0, 0, 9]); // first record starts with '#' (0x23): only the end marker protects it
        using var reader = new Aedat2Reader(new MemoryStream(ms.ToArray()), "lf.aedat");
        (List<DvsEvent> events, _) = TestData.ReadAll(reader);
        Assert.Equal(3, reader.HeaderLines);
        DvsEvent e = Assert.Single(events);
        Assert.Equal(new DvsEvent(9, 239, (ushort)(179 - (0x23000000 >> 22)), false), e);
    }
}
