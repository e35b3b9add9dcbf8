using System.Diagnostics;
using EventSnn.Events;
using PureHDF;

namespace EventSnn.IO.Tests;

public sealed class ShdTests : IDisposable
{
    private static readonly string[] ShdKeys =
    [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "null", "eins", "zwei", "drei", "vier", "fuenf", "sechs", "sieben", "acht", "neun",
    ];

    // the hand-chosen samples of ShdReferenceFiles, in microseconds (float16 0.001 s is 0.00100040 s -> 1000 us)
    private static readonly long[][] ReferenceTimesUs =
    [
        [0, 1000, 500_000], [], [250_000, 1_250_000], [125_000], [2_000_000, 3_500_000, 4_000_000, 1_000_000_000],
    ];

    private static readonly ushort[][] ReferenceUnits = [[0, 1, 699], [], [350, 351], [7], [10, 20, 30, 40]];
    private static readonly int[] ReferenceLabels = [3, 0, 19, 7, 12];
    private static readonly int[] ReferenceSpeakers = [1, 0, 11, 5, 2];

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "eventsnn-shd-" + Guid.NewGuid().ToString("N"));

    public ShdTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public void Float16_round_trip_keeps_everything_and_times_within_documented_tolerance()
    {
        Dataset data = MakeDataset(seed: 1);
        string path = WriteDataset(data, ShdTimeType.Float16);

        using var file = ShdFile.Open(path);
        Assert.Equal(data.Count, file.Count);
        Assert.Equal(data.Labels, file.Labels.ToArray());
        Assert.Equal(data.Speakers, file.Speakers.ToArray());
        Assert.True(file.HasSpeakers);
        Assert.Equal(ShdKeys, file.Keys);
        Assert.Equal(20, file.Classes);
        Assert.Equal(700, file.Channels);
        Assert.Equal(ShdTimeType.Float16, file.TimeType);
        Assert.Equal(data.Times.Sum(t => (long)t.Length), file.TotalSpikes);
        Assert.Equal(["female", "male"], file.MetaInfo["gender"]);
        Assert.Equal(["29", "31"], file.MetaInfo["age"]);
        Assert.Empty(file.Warnings);

        using var batch = new SpikeBatch(4096);
        double worst = 0;
        for (int i = 0; i < data.Count; i++)
        {
            Assert.Equal(data.Times[i].Length, file.SampleSpikeCount(i));
            Assert.Equal(data.Times[i].Length, file.ReadSample(i, batch));
            for (int k = 0; k < batch.Count; k++)
            {
                long expected = data.Times[i][k];
                long error = Math.Abs(batch.T[k] - expected);

                // documented bound: float16 keeps 11 significant bits -> t * 2^-11, plus the
                // subnormal half-spacing (2^-25 s = 0.03 us) and 0.5 us for rounding to microseconds
                double bound = (expected * Math.Pow(2, -11)) + 0.53;
                Assert.True(error <= bound, $"sample {i} spike {k}: {batch.T[k]} vs {expected} (bound {bound:F2})");
                worst = Math.Max(worst, error / bound);
                Assert.Equal(data.Units[i][k], batch.Channel[k]);
                Assert.Equal(0, batch.Ear[k]);
                Assert.Equal(0, batch.Neuron[k]);
                Assert.Equal(1, batch.P[k]);
            }
        }

        // the tolerance is tight: some spike uses more than half of it
        Assert.True(worst > 0.5, $"worst error used only {worst:P0} of the bound");
    }

    [Fact]
    public void Float32_round_trip_is_exact_below_8_seconds_and_float64_is_exact_everywhere()
    {
        Dataset data = MakeDataset(seed: 2, maxUs: 7_999_999);
        string path32 = WriteDataset(data, ShdTimeType.Float32);
        AssertExact(path32, data, ShdTimeType.Float32);

        Dataset wide = MakeDataset(seed: 3, maxUs: 86_400_000_000); // a day
        string path64 = WriteDataset(wide, ShdTimeType.Float64);
        AssertExact(path64, wide, ShdTimeType.Float64);
    }

    [Fact]
    public void Channel_count_other_than_700_is_stored_and_bounds_units()
    {
        string path = Path.Combine(_dir, "wide.h5");
        using (var w = ShdWriter.Create(path, channels: 1024, timeType: ShdTimeType.Float32))
        {
            w.Add([0, 10, 20], [0, 700, 1023], label: 200, speaker: 65535);
            Assert.Throws<ArgumentOutOfRangeException>(() => w.Add([0], [1024], label: 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => w.Add([-1], [0], label: 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => w.Add([0], [0], label: 256));
            Assert.Throws<ArgumentException>(() => w.Add([0, 1], [0], label: 0));
        }

        using var file = ShdFile.Open(path);
        Assert.Equal(1024, file.Channels);
        Assert.Equal(1, file.Count);
        Assert.Equal(201, file.Classes);
        Assert.Empty(file.Keys);
        Assert.Equal([65535], file.Speakers.ToArray());
        using var batch = new SpikeBatch(8);
        file.ReadSample(0, batch);
        Assert.Equal([0L, 10, 20], batch.Timestamps.ToArray());
        Assert.Equal([(ushort)0, 700, 1023], batch.Channels.ToArray());

        using var h5 = H5File.OpenRead(path);
        Assert.Equal(1024, h5.Attribute("channels").Read<int>());
    }

    [Fact]
    public void Float16_writer_rejects_times_beyond_half_range()
    {
        string path = Path.Combine(_dir, "range.h5");
        using var w = ShdWriter.Create(path);
        w.Add([65_504_000_000], [1], label: 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => w.Add([65_504_000_001], [1], label: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShdWriter.Create(path, keys: []));
        using var keyed = ShdWriter.Create(Path.Combine(_dir, "keyed.h5"), keys: ShdKeys);
        Assert.Throws<ArgumentOutOfRangeException>(() => keyed.Add([0], [0], label: 20));
    }

    [Fact]
    public void Written_file_has_the_h5py_shd_layout()
    {
        Dataset data = MakeDataset(seed: 4);
        string path = WriteDataset(data, ShdTimeType.Float16);

        using var h5 = H5File.OpenRead(path);
        IH5Dataset times = h5.Dataset("/spikes/times");
        Assert.Equal(H5DataTypeClass.VariableLength, times.Type.Class);
        Assert.Equal(H5DataTypeClass.FloatingPoint, times.Type.VariableLength.BaseType.Class);
        Assert.Equal(2, times.Type.VariableLength.BaseType.Size);
        Assert.Equal([(ulong)data.Count], times.Space.Dimensions);

        IH5Dataset units = h5.Dataset("/spikes/units");
        Assert.Equal(H5DataTypeClass.VariableLength, units.Type.Class);
        Assert.Equal(H5DataTypeClass.FixedPoint, units.Type.VariableLength.BaseType.Class);
        Assert.Equal(2, units.Type.VariableLength.BaseType.Size);
        Assert.False(units.Type.VariableLength.BaseType.FixedPoint.IsSigned);
        Assert.Equal([(ulong)data.Count], units.Space.Dimensions);

        IH5Dataset labels = h5.Dataset("/labels");
        Assert.Equal(H5DataTypeClass.FixedPoint, labels.Type.Class);
        Assert.Equal(1, labels.Type.Size);
        Assert.False(labels.Type.FixedPoint.IsSigned);
        Assert.Equal(data.Labels, labels.Read<byte[]>().Select(b => (int)b).ToArray());

        IH5Dataset speaker = h5.Dataset("/extra/speaker");
        Assert.Equal(H5DataTypeClass.FixedPoint, speaker.Type.Class);
        Assert.Equal(2, speaker.Type.Size);
        Assert.Equal([(ulong)data.Count], speaker.Space.Dimensions);

        IH5Dataset keys = h5.Dataset("/extra/keys");
        Assert.Equal(ShdKeys, keys.Read<string[]>());

        Assert.True(h5.LinkExists("/extra/meta_info"));
        Assert.IsAssignableFrom<IH5Group>(h5.Get("/extra/meta_info"));
        Assert.False(h5.AttributeExists("channels"));

        // the ragged arrays read back through PureHDF's own vlen API, including the empty sample
        Half[][] raw = times.Read<Half[][]>();
        Assert.Equal(data.Count, raw.Length);
        Assert.Contains(raw, a => a is null || a.Length == 0);
        ushort[][] rawUnits = units.Read<ushort[][]>();
        for (int i = 0; i < data.Count; i++)
        {
            Assert.Equal(data.Units[i], rawUnits[i] ?? []);
        }
    }

    [Fact]
    public void Reader_streams_samples_in_order_and_marks_sample_boundaries()
    {
        Dataset data = MakeDataset(seed: 5);
        string path = WriteDataset(data, ShdTimeType.Float32);
        const int capacity = 100;

        using var file = ShdFile.Open(path);
        using var reader = new ShdReader(file);
        Assert.Equal(EventFormat.Shd, reader.Format);
        Assert.Equal(700, reader.Channels);
        Assert.Equal(1, reader.Ears);
        Assert.Equal(-1, reader.CurrentSample);

        using var batch = new SpikeBatch(capacity);
        using var whole = new SpikeBatch(4096);
        var collected = new List<AudioSpike>();
        int batches = 0;
        int samplesSeen = 0;
        while (reader.Read(batch))
        {
            batches++;
            int sample = reader.CurrentSample;
            Assert.Equal(data.Labels[sample], reader.CurrentLabel);
            Assert.Equal(data.Speakers[sample], reader.CurrentSpeaker);
            if (reader.SampleStart)
            {
                Assert.Equal(samplesSeen, sample);
                collected.Clear();
            }

            collected.AddRange(batch.ToArray());
            if (reader.SampleEnd)
            {
                samplesSeen++;
                file.ReadSample(sample, whole);
                Assert.Equal(whole.ToArray(), collected.ToArray());
                Assert.Equal(data.Times[sample].Length, collected.Count);
            }
        }

        Assert.Equal(data.Count, samplesSeen);
        int expectedBatches = data.Times.Sum(t => Math.Max(1, (t.Length + capacity - 1) / capacity));
        Assert.Equal(expectedBatches, batches);
        Assert.False(reader.Read(batch));
        Assert.Equal(0, batch.Count);
    }

    [Fact]
    public void Samples_larger_than_the_batch_are_read_from_an_offset()
    {
        Dataset data = MakeDataset(seed: 6);
        string path = WriteDataset(data, ShdTimeType.Float64);
        using var file = ShdFile.Open(path);
        int big = Array.FindIndex(data.Times, t => t.Length > 1000);
        using var small = new SpikeBatch(300);
        var times = new List<long>();
        int offset = 0;
        int n;
        while ((n = file.ReadSample(big, small, offset)) > 0)
        {
            times.AddRange(small.Timestamps.ToArray());
            offset += n;
        }

        Assert.Equal(data.Times[big], times.ToArray());
        Assert.Equal(0, file.ReadSample(big, small, data.Times[big].Length + 5));
        Assert.Equal(300, file.ReadSample(big, small));
        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadSample(data.Count, small));
        Assert.Throws<ArgumentOutOfRangeException>(() => file.SampleSpikeCount(-1));
    }

    [Fact]
    public void Empty_file_with_no_samples_round_trips()
    {
        string path = Path.Combine(_dir, "empty.h5");
        using (ShdWriter.Create(path, keys: ShdKeys))
        {
        }

        using var reader = ShdReader.Open(path);
        Assert.Equal(0, reader.File.Count);
        Assert.Equal(0, reader.File.TotalSpikes);
        Assert.Equal(20, reader.File.Classes);
        using var batch = new SpikeBatch(16);
        Assert.False(reader.Read(batch));
    }

    [Theory]
    [InlineData(nameof(ShdReferenceFiles.H5pyDefault), ShdTimeType.Float16, true, true)]
    [InlineData(nameof(ShdReferenceFiles.PyTablesShuffleDeflate), ShdTimeType.Float16, true, false)]
    [InlineData(nameof(ShdReferenceFiles.H5pyLatest), ShdTimeType.Float32, false, false)]
    public void Reads_files_written_by_h5py_and_pytables(string name, ShdTimeType timeType, bool speakers, bool metaInfo)
    {
        string path = WriteReference(name);
        using var file = ShdFile.Open(path, new ReaderOptions { Strict = true });
        Assert.Equal(5, file.Count);
        Assert.Equal(timeType, file.TimeType);
        Assert.Equal(ReferenceLabels, file.Labels.ToArray());
        Assert.Equal(ShdKeys, file.Keys);
        Assert.Equal(20, file.Classes);
        Assert.Equal(700, file.Channels);
        Assert.Equal(10, file.TotalSpikes);
        Assert.Equal(speakers, file.HasSpeakers);
        Assert.Equal(speakers ? ReferenceSpeakers : [], file.Speakers.ToArray());
        if (metaInfo)
        {
            Assert.Equal(["female", "male", "female"], file.MetaInfo["gender"]);
            Assert.Equal(["29", "31", "45"], file.MetaInfo["age"]);
            Assert.Equal(["170", "182", "165"], file.MetaInfo["body_height"]);
        }
        else
        {
            Assert.Empty(file.MetaInfo);
        }

        using var batch = new SpikeBatch(16);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(ReferenceTimesUs[i].Length, file.ReadSample(i, batch));
            Assert.Equal(ReferenceTimesUs[i], batch.Timestamps.ToArray());
            Assert.Equal(ReferenceUnits[i], batch.Channels.ToArray());
        }

        // and streamed
        using var reader = new ShdReader(file);
        var labels = new List<int>();
        while (reader.Read(batch))
        {
            labels.Add(reader.CurrentLabel);
        }

        Assert.Equal(ReferenceLabels, labels);
        Assert.Empty(reader.Warnings);
    }

    [Fact]
    public void Non_hdf5_input_fails_at_offset_0()
    {
        string text = Path.Combine(_dir, "text.h5");
        File.WriteAllText(text, "this is not an HDF5 file, just some text that is long enough");
        EventFormatException ex = Assert.Throws<EventFormatException>(() => ShdFile.Open(text));
        Assert.Equal(0, ex.Offset);
        Assert.Equal("signature", ex.Field);
        Assert.Equal(text, ex.SourceName);
        Assert.False(ex.IsTruncation);
        Assert.Contains("89 48 44 46 0D 0A 1A 0A", ex.Message, StringComparison.Ordinal);

        string empty = Path.Combine(_dir, "empty.bin");
        File.WriteAllBytes(empty, []);
        ex = Assert.Throws<EventFormatException>(() => ShdFile.Open(empty));
        Assert.Equal(0, ex.Offset);
        Assert.True(ex.IsTruncation);

        string partial = Path.Combine(_dir, "partial.bin");
        File.WriteAllBytes(partial, [0x89, 0x48, 0x44, 0x46]);
        ex = Assert.Throws<EventFormatException>(() => ShdReader.Open(partial));
        Assert.Equal(0, ex.Offset);
        Assert.True(ex.IsTruncation);

        string aedat = Path.Combine(_dir, "fake.aedat");
        File.WriteAllBytes(aedat, [.. "#!AER-DAT2.0\r\n"u8, .. new byte[600]]);
        ex = Assert.Throws<EventFormatException>(() => ShdFile.Open(aedat));
        Assert.Equal(0, ex.Offset);
    }

    [Fact]
    public void Missing_or_mistyped_datasets_name_the_dataset()
    {
        Half[][] times = [[(Half)0.5f], []];
        ushort[][] units = [[3], []];
        byte[] labels = [1, 2];

        AssertFails(new H5File { ["spikes"] = new H5Group { ["units"] = units }, ["labels"] = labels }, "/spikes/times");
        AssertFails(new H5File { ["spikes"] = new H5Group { ["times"] = times }, ["labels"] = labels }, "/spikes/units");
        AssertFails(new H5File { ["spikes"] = new H5Group { ["times"] = times, ["units"] = units } }, "/labels");
        AssertFails(new H5File { ["spikes"] = new H5Group { ["times"] = new float[] { 0.5f, 1 }, ["units"] = units }, ["labels"] = labels }, "/spikes/times");
        AssertFails(new H5File { ["spikes"] = new H5Group { ["times"] = times, ["units"] = new float[][] { [1f], [] } }, ["labels"] = labels }, "/spikes/units");
        AssertFails(new H5File { ["spikes"] = new H5Group { ["times"] = times, ["units"] = units }, ["labels"] = new float[] { 1, 2 } }, "/labels");
        AssertFails(new H5File { ["spikes"] = new H5Group { ["times"] = times, ["units"] = units }, ["labels"] = new byte[] { 1, 2, 3 } }, "/labels");
        AssertFails(new H5File { ["spikes"] = new H5Group { ["times"] = times, ["units"] = units }, ["labels"] = new short[] { 1, -2 } }, "/labels");
        AssertFails(new H5File { ["spikes"] = new H5Group { ["times"] = times, ["units"] = units }, ["labels"] = labels, ["extra"] = new H5Group { ["speaker"] = new int[] { 1 } } }, "/extra/speaker");
        AssertFails(new H5File { ["spikes"] = new H5Group { ["times"] = times, ["units"] = units }, ["labels"] = labels, ["extra"] = new H5Group { ["keys"] = new string[] { "a", "b" } } }, "/labels");
        AssertFails(new H5File { ["spikes"] = "not a group", ["labels"] = labels }, "/spikes/times");

        // problems inside samples surface when the sample is read
        AssertSampleFails(new H5File { ["spikes"] = new H5Group { ["times"] = times, ["units"] = new ushort[][] { [3, 4], [] } }, ["labels"] = labels }, "/spikes/units");
        AssertSampleFails(new H5File { ["spikes"] = new H5Group { ["times"] = times, ["units"] = new ushort[][] { [700], [] } }, ["labels"] = labels }, "/spikes/units");
        AssertSampleFails(new H5File { ["spikes"] = new H5Group { ["times"] = new Half[][] { [Half.NaN], [] }, ["units"] = units }, ["labels"] = labels }, "/spikes/times");
        AssertSampleFails(new H5File { ["spikes"] = new H5Group { ["times"] = new float[][] { [-1f], [] }, ["units"] = units }, ["labels"] = labels }, "/spikes/times");
        AssertSampleFails(new H5File { ["spikes"] = new H5Group { ["times"] = times, ["units"] = new short[][] { [-3], [] } }, ["labels"] = labels }, "/spikes/units");
    }

    [Fact]
    public void Sample_length_is_bounded_by_max_packet_bytes()
    {
        Dataset data = MakeDataset(seed: 7);
        string path = WriteDataset(data, ShdTimeType.Float16);
        int big = Array.FindIndex(data.Times, t => t.Length > 1000);
        using var file = ShdFile.Open(path, new ReaderOptions { MaxPacketBytes = 16 * 1000 });
        Assert.Equal(1000, file.MaxSpikesPerSample);
        using var batch = new SpikeBatch(16);
        EventFormatException ex = Assert.Throws<EventFormatException>(() => file.ReadSample(big, batch));
        Assert.Equal("/spikes/times", ex.Field);
        Assert.Contains("bound", ex.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(ShdReferenceFiles.H5pyDefault))]
    [InlineData(nameof(ShdReferenceFiles.PyTablesShuffleDeflate))]
    public void Truncated_files_throw_in_strict_mode_and_yield_complete_samples_in_tolerant_mode(string name)
    {
        string path = WriteReference(name);
        byte[] bytes = File.ReadAllBytes(path);
        int opened = 0;
        int withSamples = 0;
        for (int cut = 0; cut < bytes.Length; cut += 61)
        {
            string cutPath = Path.Combine(_dir, "cut.h5");
            File.WriteAllBytes(cutPath, bytes.AsSpan(0, cut).ToArray());

            EventFormatException strict = Assert.Throws<EventFormatException>(() => ReadAll(cutPath, new ReaderOptions { Strict = true }));
            Assert.True(strict.IsTruncation, $"cut {cut}: {strict.Message}");
            Assert.Equal(cutPath, strict.SourceName);
            Assert.InRange(strict.Offset, 0, cut);

            try
            {
                using var reader = ShdReader.Open(cutPath);
                opened++;
                using var batch = new SpikeBatch(16);
                int sample = 0;
                while (reader.Read(batch))
                {
                    // every sample returned is complete and correct (labels may be lost past the cut)
                    Assert.Equal(sample++, reader.CurrentSample);
                    Assert.Equal(ReferenceTimesUs[reader.CurrentSample], batch.Timestamps.ToArray());
                    Assert.Equal(ReferenceUnits[reader.CurrentSample], batch.Channels.ToArray());
                    Assert.True(reader.CurrentLabel == -1 || reader.CurrentLabel == ReferenceLabels[reader.CurrentSample]);
                }

                withSamples += sample > 0 ? 1 : 0;
                Assert.True(reader.File.IsTruncated);
                Assert.NotEmpty(reader.Warnings);
            }
            catch (EventFormatException ex)
            {
                // the cut took the spike datasets' metadata: nothing can be returned
                Assert.True(ex.IsTruncation, $"cut {cut}: {ex.Message}");
            }
        }

        // h5py/PyTables write metadata first: later cuts still open and return what precedes the cut
        Assert.True(opened > 0, "no truncated file could be opened in tolerant mode");
        Assert.True(withSamples > 0, "tolerant mode returned no sample from any truncated file");
    }

    [Fact]
    public void Truncated_files_of_our_writer_are_always_reported_as_truncation()
    {
        // PureHDF writes the object headers after the data, so a cut file cannot be opened at all
        Dataset data = MakeDataset(seed: 8, samples: 10, maxSpikes: 100);
        string path = WriteDataset(data, ShdTimeType.Float16);
        byte[] bytes = File.ReadAllBytes(path);
        for (int cut = 0; cut < bytes.Length; cut += Math.Max(1, bytes.Length / 50))
        {
            string cutPath = Path.Combine(_dir, "cut.h5");
            File.WriteAllBytes(cutPath, bytes.AsSpan(0, cut).ToArray());
            foreach (bool strict in new[] { true, false })
            {
                try
                {
                    List<long[]> samples = ReadAll(cutPath, new ReaderOptions { Strict = strict });
                    Assert.False(strict, $"cut {cut}: strict mode read a truncated file");
                    for (int i = 0; i < samples.Count; i++)
                    {
                        Assert.Equal(samples[i].Length, data.Times[i].Length);
                    }
                }
                catch (EventFormatException ex)
                {
                    Assert.True(ex.IsTruncation, $"cut {cut}: {ex.Message}");
                }
            }
        }
    }

    [Theory]
    [InlineData("writer")]
    [InlineData(nameof(ShdReferenceFiles.H5pyDefault))]
    [InlineData(nameof(ShdReferenceFiles.PyTablesShuffleDeflate))]
    public void Random_mutations_only_raise_EventFormatException_without_hangs_or_large_allocations(string source)
    {
        string path = source == "writer"
            ? WriteDataset(MakeDataset(seed: 9, samples: 12, maxSpikes: 200), ShdTimeType.Float16)
            : WriteReference(source);
        byte[] original = File.ReadAllBytes(path);
        var rng = new Random(12345 + source.Length);
        int failures = 0;
        int cases = 0;
        int largeAllocations = 0;
        string mutated = Path.Combine(_dir, "mutated.h5");
        for (int c = 0; c < 300; c++)
        {
            byte[] bytes = (byte[])original.Clone();
            int edits = 1 + rng.Next(8);
            for (int e = 0; e < edits; e++)
            {
                int at = rng.Next(bytes.Length);
                switch (rng.Next(4))
                {
                    case 0:
                        bytes[at] ^= (byte)(1 << rng.Next(8));
                        break;
                    case 1:
                        bytes[at] = (byte)rng.Next(256);
                        break;
                    case 2:
                        bytes[at] = 0xFF;
                        break;
                    default:
                        bytes[at] = 0;
                        break;
                }
            }

            File.WriteAllBytes(mutated, bytes);
            var sw = Stopwatch.StartNew();
            (Exception? error, long allocated) = RunIsolated(() => Exercise(mutated));
            sw.Stop();
            cases++;
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"case {c}: took {sw.Elapsed}");
            Assert.True(error is null or EventFormatException, $"case {c}: {error}");
            if (error is EventFormatException efe)
            {
                failures++;
                Assert.Equal(mutated, efe.SourceName);
                Assert.InRange(efe.Offset, 0, bytes.Length);
            }

            // Bounded allocation. Our code sizes nothing from the file without a bound, and the global
            // heap (the per-sample vlen data) is checked before PureHDF decodes it. PureHDF itself
            // still sizes a buffer from a few corrupt metadata length fields (link, attribute,
            // local heap messages) before its read fails: allowed only inside PureHDF, rarely, and
            // never touched (the working set stays small).
            if (allocated >= 256L << 20)
            {
                largeAllocations++;
                Assert.True(error is EventFormatException { InnerException: not null }, $"case {c}: allocated {allocated} bytes without failing ({error})");
                Assert.Contains("PureHDF.", error!.InnerException!.StackTrace ?? string.Empty, StringComparison.Ordinal);
            }

            Assert.True(Environment.WorkingSet < 1L << 30, $"case {c}: working set {Environment.WorkingSet >> 20} MiB");
        }

        Assert.True(largeAllocations <= 9, $"{largeAllocations} of 300 cases made PureHDF allocate 256 MiB or more");
        Assert.Equal(300, cases);
        Assert.True(failures > 30, $"only {failures} of 300 mutations were detected");
    }

    private static (Exception? Error, long Allocated) RunIsolated(Action action)
    {
        Exception? error = null;
        long allocated = 0;
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                action();
            }
            catch (Exception ex)
            {
                error = ex;
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, maxStackSize: 16 << 20);
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(20)))
        {
            throw new TimeoutException("reader hung on a mutated file");
        }

        return (error, allocated);
    }

    private static void Exercise(string path)
    {
        using var reader = ShdReader.Open(path);
        using var batch = new SpikeBatch(512);
        int guard = 0;
        while (reader.Read(batch))
        {
            Assert.True(++guard < 100_000, "reader does not progress");
        }

        _ = reader.File.TotalSpikes;
        for (int i = 0; i < reader.File.Count; i += 3)
        {
            reader.File.ReadSample(i, batch);
        }
    }

    private static List<long[]> ReadAll(string path, ReaderOptions options)
    {
        var result = new List<long[]>();
        using var reader = ShdReader.Open(path, options);
        using var batch = new SpikeBatch(4096);
        while (reader.Read(batch))
        {
            result.Add(batch.Timestamps.ToArray());
        }

        return result;
    }

    private void AssertFails(H5File h5, string field)
    {
        string path = Path.Combine(_dir, "bad-" + Guid.NewGuid().ToString("N") + ".h5");
        h5.Write(path);
        EventFormatException ex = Assert.Throws<EventFormatException>(() =>
        {
            using ShdFile file = ShdFile.Open(path);
        });
        Assert.Equal(field, ex.Field);
        Assert.Equal(path, ex.SourceName);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    private void AssertSampleFails(H5File h5, string field)
    {
        string path = Path.Combine(_dir, "bad-" + Guid.NewGuid().ToString("N") + ".h5");
        h5.Write(path);
        using ShdFile file = ShdFile.Open(path);
        using var batch = new SpikeBatch(16);
        EventFormatException ex = Assert.Throws<EventFormatException>(() => file.ReadSample(0, batch));
        Assert.Equal(field, ex.Field);
        Assert.False(ex.IsTruncation);
        using var reader = new ShdReader(file);
        Assert.Throws<EventFormatException>(() => reader.Read(batch));
    }

    private void AssertExact(string path, Dataset data, ShdTimeType type)
    {
        using var file = ShdFile.Open(path);
        Assert.Equal(type, file.TimeType);
        using var batch = new SpikeBatch(4096);
        for (int i = 0; i < data.Count; i++)
        {
            file.ReadSample(i, batch);
            Assert.Equal(data.Times[i], batch.Timestamps.ToArray());
            Assert.Equal(data.Units[i], batch.Channels.ToArray());
        }
    }

    private string WriteReference(string name)
    {
        string base64 = name switch
        {
            nameof(ShdReferenceFiles.H5pyDefault) => ShdReferenceFiles.H5pyDefault,
            nameof(ShdReferenceFiles.PyTablesShuffleDeflate) => ShdReferenceFiles.PyTablesShuffleDeflate,
            _ => ShdReferenceFiles.H5pyLatest,
        };
        string path = Path.Combine(_dir, name + ".h5");
        ShdReferenceFiles.Write(base64, path);
        return path;
    }

    private string WriteDataset(Dataset data, ShdTimeType type)
    {
        string path = Path.Combine(_dir, $"data-{type}-{Guid.NewGuid():N}.h5");
        using var w = ShdWriter.Create(path, keys: ShdKeys, timeType: type);
        for (int i = 0; i < data.Count; i++)
        {
            w.Add(data.Times[i], data.Units[i], data.Labels[i], data.Speakers[i]);
        }

        w.SetMetaInfo("gender", ["female", "male"]);
        w.SetMetaInfo("age", [29, 31]);
        Assert.Equal(data.Count, w.Count);
        return path;
    }

    /// <summary>All 20 labels, ragged lengths including an empty sample, one sample over 1000 spikes.</summary>
    private static Dataset MakeDataset(int seed, long maxUs = 1_400_000, int samples = 23, int maxSpikes = 400)
    {
        var rng = new Random(seed);
        var times = new long[samples][];
        var units = new ushort[samples][];
        var labels = new int[samples];
        var speakers = new int[samples];
        for (int i = 0; i < samples; i++)
        {
            int n = i switch
            {
                2 => 0,
                5 => 1,
                7 => 1500,
                _ => rng.Next(maxSpikes),
            };
            times[i] = new long[n];
            units[i] = new ushort[n];
            for (int k = 0; k < n; k++)
            {
                times[i][k] = rng.NextInt64(maxUs + 1);
                units[i][k] = (ushort)rng.Next(700);
            }

            Array.Sort(times[i]);
            if (n >= 2)
            {
                units[i][0] = 0;
                units[i][^1] = 699;
                times[i][0] = 0;
            }

            labels[i] = i % 20;
            speakers[i] = rng.Next(12);
        }

        return new Dataset(times, units, labels, speakers);
    }

    private sealed record Dataset(long[][] Times, ushort[][] Units, int[] Labels, int[] Speakers)
    {
        public int Count => Labels.Length;
    }
}
