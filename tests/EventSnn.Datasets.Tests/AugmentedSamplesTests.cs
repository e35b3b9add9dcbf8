using EventSnn.Datasets.Loaders;
using EventSnn.Transforms;

namespace EventSnn.Datasets.Tests;

public class AugmentedSamplesTests
{
    private static string Gestures()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EventSnn.sln")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        return Path.Combine(dir.FullName, "recordings", "gestures");
    }

    [Fact]
    public void Without_augmentation_the_raw_samples_bin_to_exactly_the_loaders_samples()
    {
        DvsGestureDataset set = DvsGestureDataset.Open(Gestures(), train: false);
        var raw = set.RawSamples().ToList();
        var loaded = set.Samples().ToList();
        Assert.Equal(loaded.Count, raw.Count);
        var source = new AugmentedSamples(raw, set.Preprocessing, Augmentation.None, seed: 1);
        List<SpikeSequence> epoch = source.ForEpoch(1);
        for (int i = 0; i < loaded.Count; i++)
        {
            Assert.Equal(loaded[i].Label, epoch[i].Label);
            Assert.Equal(loaded[i].Steps, epoch[i].Steps);
            Assert.Equal(loaded[i].ToDense(), epoch[i].ToDense());
        }
    }

    [Fact]
    public void Every_epoch_sees_other_variants_and_an_epoch_is_reproducible()
    {
        DvsGestureDataset set = DvsGestureDataset.Open(Gestures(), train: false);
        var raw = set.RawSamples().Take(4).ToList();
        var a = new AugmentedSamples(raw, set.Preprocessing, Augmentation.Parse("shift:16,drop-event:0.1"), seed: 3);
        var b = new AugmentedSamples(raw, set.Preprocessing, Augmentation.Parse("shift:16,drop-event:0.1"), seed: 3);
        List<SpikeSequence> e1 = a.ForEpoch(1), e2 = a.ForEpoch(2), again = b.ForEpoch(1);
        for (int i = 0; i < raw.Count; i++)
        {
            Assert.Equal(raw[i].Label, e1[i].Label);
            Assert.Equal(e1[i].ToDense(), again[i].ToDense());
            Assert.NotEqual(e1[i].ToDense(), e2[i].ToDense());
        }
    }
}
