using EventSnn.Datasets.Baselines;
using EventSnn.Datasets.Loaders;
using EventSnn.Datasets.Mnist;
using EventSnn.IO;
using EventSnn.Transforms;

namespace EventSnn.Datasets.Tests;

public class BinningAndBaselineTests
{
    [Fact]
    public void ShdLoader_PreparesSamplesThroughTheChain_AndRefusesAForeignDescription()
    {
        using var dir = new TempFolder();
        string path = dir.File("shd_train.h5");
        using (ShdWriter w = ShdWriter.Create(path, channels: 24, timeType: ShdTimeType.Float32))
        {
            w.Add([0, 10, 9_999, 10_000, 995_000, 1_000_000], [1, 1, 5, 2, 3, 4], 1);
            w.Add([500], [23], 0);
        }

        using (ShdDataset data = ShdDataset.Open(path))
        {
            Assert.Equal(PreprocessingPresets.Shd.ForChannels(24), data.Preprocessing);
            Assert.Equal(24, data.Features);
            SpikeSequence s = data.Read(0);
            Assert.Equal((100, 24, 1), (s.Steps, s.Features, s.Label));
            Assert.Equal(new[] { 1, 5 }, s.ActiveAt(0).ToArray());
            Assert.Equal(new[] { 1f, 1f }, s.ValuesAt(0).ToArray()); // binary
            Assert.Equal(new[] { 2 }, s.ActiveAt(1).ToArray());
            Assert.Equal(new[] { 3 }, s.ActiveAt(99).ToArray());
            Assert.Equal(4, s.NonZeros); // the spike at 1 s falls after the 100th bin

            // the same sample through the chain directly
            SparseSequence direct = new SequenceBinner(data.Preprocessing).ApplySpikes([0, 10, 9_999, 10_000, 995_000, 1_000_000], [1, 1, 5, 2, 3, 4], [1, 1, 1, 1, 1, 1], startUs: 0);
            Assert.Equal(direct.ToDense(), s.ToDense());
            Assert.Equal(100, data.Read(1).Steps); // padded
        }

        using (ShdDataset counts = ShdDataset.Open(path, PreprocessingPresets.ShdReference.ForChannels(24) with { Value = ValueKind.Count }))
        {
            SpikeSequence s = counts.Read(0);
            Assert.Equal(250, s.Steps);
            Assert.Equal(new[] { 1 }, s.ActiveAt(0).ToArray()); // 4 ms bins: channel 5 at 9.999 ms is in bin 2
            Assert.Equal(new[] { 2f }, s.ValuesAt(0).ToArray());
            Assert.Equal(new[] { 2, 5 }, s.ActiveAt(2).ToArray());
        }

        var ex = Assert.Throws<PreprocessingException>(() => ShdDataset.Open(path, PreprocessingPresets.Shd));
        Assert.Equal("channels", ex.Field);
        Assert.Contains("700 does not match the 24 channels", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<PreprocessingException>(() => ShdDataset.Open(path, PreprocessingPresets.DvsGesture));
        Assert.Equal("input", ex.Field);
    }

    [Fact]
    public void SequentialMnist_ThresholdCrossings_HandComputed()
    {
        float[] seq = [0f, 0.31f, 0.31f, 0f];
        var times = new List<long>();
        var units = new List<ushort>();
        SequentialMnist.EncodeSpikes(seq, 1000, times, units);
        // 0.31 crosses thresholds 1/40 .. 12/40 upwards at step 1 and downwards at step 3; the end cue fires at step 3
        Assert.Equal(12 + 12 + 1, times.Count);
        for (int j = 0; j < 12; j++)
        {
            Assert.Equal(1000, times[j]);
            Assert.Equal(j, units[j]);
            Assert.Equal(3000, times[12 + j]);
            Assert.Equal(39 + j, units[12 + j]);
        }

        Assert.Equal(79, units[^1]);
        Assert.Equal(3000, times[^1]);

        var ink = new List<ushort>();
        SequentialMnist.EncodeSpikes([0.6f, 0.6f], 1000, [], ink);
        Assert.Equal(2, ink.Count(c => c == 78));
    }

    [Fact]
    public void PsMnistPermutation_IsASeededPermutation()
    {
        int[] a = SequentialMnist.Permutation(784, 3), b = SequentialMnist.Permutation(784, 3), c = SequentialMnist.Permutation(784, 4);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(Enumerable.Range(0, 784), a.Order());
        byte[] image = new byte[784];
        image[a[0]] = 255;
        var seq = new float[784];
        SequentialMnist.Sequence(image, a, seq);
        Assert.Equal(1f, seq[0]);
        Assert.Equal(1f, seq.Sum());
    }

    [Fact]
    public void LogisticRegression_LearnsASeparableProblem_AndBaselineReportsChance()
    {
        var rng = new Random(1);
        var train = new List<SpikeSequence>();
        var test = new List<SpikeSequence>();
        for (int i = 0; i < 300; i++)
        {
            int label = i % 3;
            var dense = new float[4 * 6];
            for (int s = 0; s < 4; s++)
            {
                for (int f = 0; f < 6; f++)
                {
                    // class c is louder on features 2c and 2c + 1
                    double rate = f / 2 == label ? 3 : 1;
                    dense[(s * 6) + f] = rng.NextDouble() < rate / 4 ? 1 : 0;
                }
            }

            (i < 240 ? train : test).Add(SpikeSequence.FromDense(dense, 4, 6, label));
        }

        BaselineResult r = SpikeCountBaseline.Run(new InMemoryDataset("a", 3, 6, train), new InMemoryDataset("b", 3, 6, test), timeSlices: 1, pool: 1);
        Assert.Equal(1.0 / 3, r.Chance, 9);
        Assert.True(r.TestAccuracy > 0.7, $"test accuracy {r.TestAccuracy}");
        Assert.Equal(60, r.TestSamples);
    }
}
