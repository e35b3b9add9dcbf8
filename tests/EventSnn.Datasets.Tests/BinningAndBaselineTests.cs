using EventSnn.Datasets.Baselines;
using EventSnn.Datasets.Loaders;
using EventSnn.Datasets.Mnist;
using EventSnn.Events;

namespace EventSnn.Datasets.Tests;

public class BinningAndBaselineTests
{
    [Fact]
    public void ShdBinning_FourMillisecondBins_BinaryOrCounts_DropsLateSpikes()
    {
        long[] t = [0, 10, 3999, 4000, 999_999, 1_000_000];
        ushort[] u = [1, 1, 5, 2, 3, 4];
        SpikeSequence s = Binning.Shd(t, u, label: 7);
        Assert.Equal(250, s.Steps);
        Assert.Equal(700, s.Features);
        Assert.Equal(7, s.Label);
        Assert.Equal(new[] { 1, 5 }, s.ActiveAt(0).ToArray());
        Assert.Equal(new[] { 1f, 1f }, s.ValuesAt(0).ToArray());
        Assert.Equal(new[] { 2 }, s.ActiveAt(1).ToArray());
        Assert.Equal(new[] { 3 }, s.ActiveAt(249).ToArray());
        Assert.Equal(4, s.NonZeros); // the spike at exactly 1 s falls after the last bin

        SpikeSequence counts = Binning.Shd(t, u, 0, binary: false);
        Assert.Equal(new[] { 2f, 1f }, counts.ValuesAt(0).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => Binning.Shd([0], [700], 0));
    }

    [Fact]
    public void EqualCountFrames_SplitEventsEvenlyAndPool()
    {
        var g = new SensorGeometry(8, 8);
        DvsEvent[] ev =
        [
            new(0, 0, 0, true), new(1, 3, 3, true), new(2, 4, 0, false), new(3, 7, 7, true),
            new(100, 0, 4, false), new(200, 5, 5, true), new(300, 1, 1, true), new(400, 6, 2, false),
        ];
        SpikeSequence s = Binning.EqualCountFrames(ev, g, frames: 2, pool: 4, label: 3);
        Assert.Equal(2, s.Steps);
        Assert.Equal(2 * 2 * 2, s.Features);
        // frame 0: ON (0,0)x2 -> idx 4+0 = 2 events; OFF (1,0) -> idx 1; ON (1,1) -> idx 4+3
        Assert.Equal(new[] { 1, 4, 7 }, s.ActiveAt(0).ToArray());
        Assert.Equal(new[] { 1f / 16, 2f / 16, 1f / 16 }, s.ValuesAt(0).ToArray()); // 4 x 4 average pooling
        // frame 1: OFF (0,1) -> 2; ON (1,1) -> 7; ON (0,0) -> 4; OFF (1,0) -> 1
        Assert.Equal(new[] { 1, 2, 4, 7 }, s.ActiveAt(1).ToArray());
        float[] dense = s.ToDense();
        Assert.Equal(0.5f, dense.Sum(), 5);
    }

    [Fact]
    public void TimeFrames_BinByTimeFromStart()
    {
        DvsEvent[] ev = [new(5, 1, 1, true), new(9_999, 2, 2, false), new(10_000, 3, 3, true), new(300_000, 0, 0, true)];
        SpikeSequence s = Binning.TimeFrames(ev, SensorGeometry.NMnist, 0, 10_000, 30, 1, 4);
        Assert.Equal(2 * 34 * 34, s.Features);
        Assert.Equal(2, s.ActiveAt(0).Length);
        Assert.Equal(new[] { (34 * 34) + (3 * 34) + 3 }, s.ActiveAt(1).ToArray());
        Assert.Equal(3, s.NonZeros);
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
