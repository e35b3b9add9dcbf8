using System.Buffers.Binary;
using System.Text;
using EventSnn.Datasets.Generators;
using EventSnn.Datasets.Loaders;
using EventSnn.Datasets.Mnist;
using EventSnn.Events;
using EventSnn.IO;
using PureHDF;
using EventSnn.Transforms;

namespace EventSnn.Datasets.Tests;

public class GeneratorTests
{
    private static readonly GestureGeneratorOptions SmallGestures = new()
    {
        Geometry = new SensorGeometry(64, 64),
        FrameRateHz = 250,
        GapSeconds = 0.1,
    };

    [Fact]
    public void Gestures_AreDeterministicForASeed()
    {
        static DvsEvent[] Run(int seed)
        {
            var all = new List<DvsEvent>();
            GestureGenerator.Generate(seed, 0, 1, SmallGestures, b => all.AddRange(b.ToArray()));
            return [.. all];
        }

        DvsEvent[] a = Run(5), b = Run(5), c = Run(6);
        Assert.True(a.Length > 1000);
        Assert.Equal(a, b);
        Assert.NotEqual(a.Length, c.Length);
    }

    [Theory]
    [InlineData(GestureClass.SwipeRight, 1, 0)]
    [InlineData(GestureClass.SwipeLeft, -1, 0)]
    [InlineData(GestureClass.SwipeDown, 0, 1)]
    [InlineData(GestureClass.SwipeUp, 0, -1)]
    public void Swipes_MoveTheEventCentroidInTheirDirection(GestureClass cls, int sx, int sy)
    {
        var motion = new GestureMotion(cls, 1.0, 32, 32, 30, 0);
        var scene = new GestureScene(64, 64, ActorShape.Disk, 7, new Random(2));
        using var emu = new Dvs.DvsEmulator(new SensorGeometry(64, 64), new Dvs.DvsEmulatorOptions { LeakRateHz = 0, ShotNoiseRateHz = 0 }, 1);
        var frame = new float[64 * 64];
        using var batch = new EventBatch();
        var events = new List<DvsEvent>();
        for (int k = 0; k <= 250; k++)
        {
            scene.Render(motion.PoseAt(k / 250.0), frame);
            emu.Frame(frame, k * 4000L);
            while (emu.Read(batch))
            {
                events.AddRange(batch.ToArray());
            }
        }

        Assert.True(events.Count > 200);
        int third = events.Count / 3;
        double x0 = events.Take(third).Average(e => e.X), x1 = events.Skip(2 * third).Average(e => e.X);
        double y0 = events.Take(third).Average(e => e.Y), y1 = events.Skip(2 * third).Average(e => e.Y);
        if (sx != 0)
        {
            Assert.True((x1 - x0) * sx > 10, $"x {x0:F1} -> {x1:F1}");
        }

        if (sy != 0)
        {
            Assert.True((y1 - y0) * sy > 10, $"y {y0:F1} -> {y1:F1}");
        }
    }

    [Fact]
    public void GestureDataset_WritesDvsLayout_ReadBackByAedat4Reader_AndTheGestureLoader()
    {
        using var dir = new TempFolder();
        MakeResult result = DatasetMaker.Make(GeneratedDataset.Gestures, new DatasetMakerOptions { OutputFolder = dir.Path, SamplesPerClass = 2, Gestures = SmallGestures });
        Assert.Equal(10, result.TrainSamples);
        Assert.Equal(10, result.TestSamples);
        Assert.Equal("user01_synthetic.aedat4\n", File.ReadAllText(dir.File("trials_to_train.txt")));
        Assert.Equal("user02_synthetic.aedat4\n", File.ReadAllText(dir.File("trials_to_test.txt")));

        string csv = File.ReadAllText(dir.File("user01_synthetic_labels.csv"));
        string[] lines = csv.TrimEnd('\n').Split('\n');
        Assert.Equal("class,startTime_usec,endTime_usec", lines[0]);
        Assert.Equal(11, lines.Length);
        Assert.Equal(Enumerable.Range(1, 10), lines.Skip(1).Select(l => int.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture)).Order());

        // DV's AEDAT4 conventions, checked on the bytes: magic line, size-prefixed IOHeader "IOHE",
        // then (int32 streamId, int32 size, payload) packets of stream 0 up to the data table
        byte[] file = File.ReadAllBytes(dir.File("user01_synthetic.aedat4"));
        Assert.Equal("#!AER-DAT4.0\r\n", Encoding.ASCII.GetString(file, 0, 14));
        int headerSize = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(14));
        Assert.Equal("IOHE", Encoding.ASCII.GetString(file, 18 + 4, 4));
        using var reader = Aedat4Reader.Open(dir.File("user01_synthetic.aedat4"));
        Assert.Equal(new SensorGeometry(64, 64), reader.Geometry);
        Assert.Contains("<attr key=\"typeIdentifier\" type=\"string\">EVTS</attr>", reader.Header.InfoNode, StringComparison.Ordinal);
        Assert.Single(reader.Streams);
        long pos = 18 + headerSize;
        int packets = 0;
        long packetEvents = 0;
        while (pos < reader.DataTablePosition)
        {
            Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan((int)pos)));
            int size = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan((int)pos + 4));
            Assert.InRange(size, 1, file.Length);

            // each payload is one LZ4 frame holding a size-prefixed "EVTS" FlatBuffer of 16-byte events
            Assert.Equal(0x184D2204u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan((int)pos + 8)));
            using var lz4 = K4os.Compression.LZ4.Streams.LZ4Stream.Decode(new MemoryStream(file, (int)pos + 8, size));
            using var plain = new MemoryStream();
            lz4.CopyTo(plain);
            byte[] fb = plain.ToArray();
            Assert.Equal("EVTS", Encoding.ASCII.GetString(fb, 8, 4));
            Assert.Equal(fb.Length - 4, BinaryPrimitives.ReadInt32LittleEndian(fb));
            int root = 4 + BinaryPrimitives.ReadInt32LittleEndian(fb.AsSpan(4));
            int vtable = root - BinaryPrimitives.ReadInt32LittleEndian(fb.AsSpan(root));
            int field = BinaryPrimitives.ReadUInt16LittleEndian(fb.AsSpan(vtable + 4)); // elements vector
            int vector = root + field + BinaryPrimitives.ReadInt32LittleEndian(fb.AsSpan(root + field));
            int elements = BinaryPrimitives.ReadInt32LittleEndian(fb.AsSpan(vector));
            Assert.True(vector + 4 + (16 * elements) <= fb.Length);
            packetEvents += elements;
            pos += 8 + size;
            packets++;
        }

        Assert.Equal(reader.DataTablePosition, pos);
        Assert.True(packets > 1);

        long count = 0, last = long.MinValue;
        using var batch = new EventBatch();
        while (reader.Read(batch))
        {
            for (int i = 0; i < batch.Count; i++)
            {
                Assert.True(batch.T[i] >= last);
                last = batch.T[i];
                Assert.InRange(batch.X[i], 0, 63);
                Assert.InRange(batch.Y[i], 0, 63);
            }

            count += batch.Count;
        }

        Assert.Empty(reader.Warnings);
        Assert.True(count > 1000);
        Assert.Equal(packetEvents, count);

        DvsGestureDataset train = DvsGestureDataset.Open(dir.Path, train: true, EventSnn.Transforms.PreprocessingPresets.DvsGesture.ForSensor(64, 64) with { Frames = 8, Pooling = 4 });
        Assert.Equal(10, train.Classes);
        Assert.Equal(2 * 16 * 16, train.Features);
        List<SpikeSequence> samples = [.. train.Samples()];
        Assert.Equal(10, samples.Count);
        Assert.Equal(Enumerable.Range(0, 10), samples.Select(s => s.Label).Order());
        Assert.All(samples, s => Assert.Equal(8, s.Steps));
        Assert.All(samples, s => Assert.True(s.NonZeros > 10));
    }

    [Fact]
    public void NMnist_WritesTheFolderLayout_ReadBackByNMnistReader_AndTheLoader()
    {
        using var dir = new TempFolder();
        string mnist = TestMnist.Write(dir.File("idx"), perDigit: 2);
        string output = dir.File("nmnist");
        MakeResult r = DatasetMaker.Make(GeneratedDataset.NMnist, new DatasetMakerOptions { OutputFolder = output, SamplesPerClass = 2, MnistFolder = mnist });
        Assert.Equal(20, r.TrainSamples);
        Assert.Equal(10, r.TestSamples);
        for (int d = 0; d < 10; d++)
        {
            Assert.Equal(2, Directory.GetFiles(Path.Combine(output, "Train", d.ToString(System.Globalization.CultureInfo.InvariantCulture)), "*.bin").Length);
        }

        string any = Directory.GetFiles(Path.Combine(output, "Train", "3"), "*.bin")[0];
        Assert.Equal(0, new FileInfo(any).Length % 5);
        using (var reader = new NMnistReader(any))
        {
            using var batch = new EventBatch();
            long n = 0, tMax = 0;
            while (reader.Read(batch))
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    Assert.InRange(batch.X[i], 0, 33);
                    Assert.InRange(batch.Y[i], 0, 33);
                    tMax = Math.Max(tMax, batch.T[i]);
                }

                n += batch.Count;
            }

            Assert.True(n > 300, $"{n} events");
            Assert.InRange(tMax, 250_000, 310_000); // three saccades of 100 ms
        }

        NMnistDataset test = NMnistDataset.Open(output, train: false);
        Assert.Equal(10, test.Count);
        List<SpikeSequence> samples = [.. test.Samples()];
        Assert.Equal(Enumerable.Range(0, 10), samples.Select(s => s.Label).Order());
        Assert.All(samples, s => Assert.Equal(2 * 17 * 17, s.Features)); // pooled 2 x 2
        // every saccade produces events: each third of the 30 steps is active
        Assert.All(samples, s =>
        {
            for (int third = 0; third < 3; third++)
            {
                int active = 0;
                for (int k = third * 10; k < (third + 1) * 10; k++)
                {
                    active += s.ActiveAt(k).Length;
                }

                Assert.True(active > 0);
            }
        });
    }

    [Fact]
    public void SMnist_WritesShdLayoutWith80Channels()
    {
        using var dir = new TempFolder();
        string mnist = TestMnist.Write(dir.File("idx"), perDigit: 1);
        MakeResult r = DatasetMaker.Make(GeneratedDataset.PsMnist, new DatasetMakerOptions { OutputFolder = dir.File("ps"), SamplesPerClass = 1, MnistFolder = mnist, Seed = 9 });
        Assert.Equal(10, r.TrainSamples);
        string path = Path.Combine(dir.File("ps"), "psmnist_train.h5");
        using (ShdFile f = ShdFile.Open(path))
        {
            Assert.Equal(80, f.Channels);
            Assert.Equal(10, f.Count);
            Assert.Equal("0123456789", string.Concat(f.Keys));
            using var batch = new SpikeBatch();
            f.ReadSample(0, batch);
            Assert.True(batch.Count > 10);
            Assert.Equal(783_000, batch.T[batch.Count - 1]); // the end cue at the last of 784 one-millisecond steps
            Assert.Equal(79, batch.Channel[batch.Count - 1]);
        }

        string[] perm = File.ReadAllLines(Path.Combine(dir.File("ps"), "permutation.txt"));
        Assert.Equal(SequentialMnist.Permutation(784, 9).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), perm);
        using var h5 = H5File.OpenRead(path);
        Assert.Equal(80, h5.Attribute("channels").Read<int>());
    }

    [Fact]
    public void SpokenDigits_UsesEspeak_WritesShdLayout_SplitByVoice()
    {
        // needs espeak-ng (CI installs it): fails loudly when it is missing
        SpokenDigits.CheckEspeak();
        using var dir = new TempFolder();
        MakeResult r = DatasetMaker.Make(GeneratedDataset.SpokenDigits, new DatasetMakerOptions { OutputFolder = dir.Path, SamplesPerClass = 1, CacheFolder = dir.File("cache") });
        Assert.Equal(20, r.TrainSamples + r.TestSamples);
        Assert.True(r.TestSamples > 0 && r.TrainSamples > 0);

        // h5py-style layout, checked with PureHDF directly
        string trainPath = dir.File(DatasetMaker.ShdTrainFile);
        using (var h5 = H5File.OpenRead(trainPath))
        {
            IH5Dataset times = h5.Dataset("/spikes/times");
            Assert.Equal(H5DataTypeClass.VariableLength, times.Type.Class);
            Assert.Equal(H5DataTypeClass.FloatingPoint, times.Type.VariableLength.BaseType.Class);
            IH5Dataset units = h5.Dataset("/spikes/units");
            Assert.Equal(H5DataTypeClass.VariableLength, units.Type.Class);
            Assert.Equal(H5DataTypeClass.FixedPoint, units.Type.VariableLength.BaseType.Class);
            Assert.Equal(2, units.Type.VariableLength.BaseType.Size);
            Assert.Equal(H5DataTypeClass.FixedPoint, h5.Dataset("/labels").Type.Class);
            Assert.Equal(H5DataTypeClass.FixedPoint, h5.Dataset("/extra/speaker").Type.Class);
            Assert.True(h5.LinkExists("/extra/keys"));
            Assert.False(h5.AttributeExists("channels")); // 700 channels: no attribute, as in SHD
        }

        var trainSpeakers = new HashSet<int>();
        var testSpeakers = new HashSet<int>();
        var labels = new List<int>();
        foreach ((string file, HashSet<int> speakers) in new[] { (trainPath, trainSpeakers), (dir.File(DatasetMaker.ShdTestFile), testSpeakers) })
        {
            using ShdFile f = ShdFile.Open(file);
            Assert.Equal(700, f.Channels);
            Assert.Equal(SpokenDigits.Keys, f.Keys);
            using var batch = new SpikeBatch();
            for (int i = 0; i < f.Count; i++)
            {
                speakers.Add(f.Speakers[i]);
                labels.Add(f.Label(i));
                Assert.True(f.SampleSpikeCount(i) > 100, $"{file}#{i}: {f.SampleSpikeCount(i)} spikes");
            }
        }

        Assert.Empty(trainSpeakers.Intersect(testSpeakers));
        Assert.All(testSpeakers, s => Assert.True(SpokenDigits.Speakers[s].IsTest));
        Assert.Equal(Enumerable.Range(0, 20), labels.Order());

        using ShdDataset binned = ShdDataset.Open(trainPath);
        SpikeSequence first = binned.Samples().First();
        Assert.Equal(100, first.Steps);
        Assert.Equal(700, first.Features);
        Assert.True(first.NonZeros > 50);
    }

    [Fact]
    public void SpokenDigits_MissingEspeak_SaysHowToInstallIt()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => SpokenDigits.CheckEspeak("/nonexistent/espeak-ng"));
        Assert.Contains("apt-get install -y espeak-ng", ex.Message);
        using var dir = new TempFolder();
        var make = Assert.Throws<InvalidOperationException>(() => DatasetMaker.Make(GeneratedDataset.SpokenDigits, new DatasetMakerOptions { OutputFolder = dir.Path, Espeak = "/nonexistent/espeak-ng" }));
        Assert.Contains("espeak-ng", make.Message);
    }

    [Fact]
    public void SpokenDigits_SpeakersCoverEveryDigitAndHoldOutFourVoices()
    {
        Assert.Equal(16, SpokenDigits.Speakers.Length);
        Assert.Equal(4, SpokenDigits.Speakers.Count(s => s.IsTest));
        for (int label = 0; label < 20; label++)
        {
            var speakers = Enumerable.Range(0, 16).Select(i => SpokenDigits.SpeakerFor(label, i).Id).ToHashSet();
            Assert.Equal(16, speakers.Count);
        }
    }

    [Fact]
    public void SpokenDigits_SameSeedSameUtterance()
    {
        SpokenDigits.CheckEspeak();
        using var dir = new TempFolder();
        Utterance a = SpokenDigits.Synthesize(15, 2, 4, dir.Path);
        Utterance b = SpokenDigits.Synthesize(15, 2, 4, dir.Path);
        Assert.StartsWith("de+", a.Voice, StringComparison.Ordinal);
        Assert.Equal(a.Pcm, b.Pcm);
        Assert.Equal(SpokenDigits.Encode(a).TimesUs, SpokenDigits.Encode(b).TimesUs);
        Assert.Empty(Directory.GetFiles(dir.Path)); // the temporary WAV is removed
    }
}
