using EventSnn.Datasets.Generators;
using EventSnn.Datasets.Loaders;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Datasets.Tests;

/// <summary>The committed recordings/ folder: within budget, in the public layouts, readable by our readers.</summary>
public class RecordingsTests
{
    private static string Recordings()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EventSnn.sln")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        string path = Path.Combine(dir.FullName, "recordings");
        Assert.True(Directory.Exists(path), $"{path} is missing");
        return path;
    }

    [Fact]
    public void Recordings_StayWithinTenMegabytes()
    {
        long bytes = 0;
        foreach (string f in Directory.EnumerateFiles(Recordings(), "*", SearchOption.AllDirectories))
        {
            bytes += new FileInfo(f).Length;
        }

        Assert.InRange(bytes, 1_000_000, 10_000_000);
        Assert.True(File.Exists(Path.Combine(Recordings(), "README.md")));
    }

    [Fact]
    public void SpokenDigitRecordings_AreShdFilesSplitByVoice()
    {
        string root = Path.Combine(Recordings(), "spoken-digits");
        using ShdFile train = ShdFile.Open(Path.Combine(root, DatasetMaker.ShdTrainFile));
        using ShdFile test = ShdFile.Open(Path.Combine(root, DatasetMaker.ShdTestFile));
        Assert.Equal(700, train.Channels);
        Assert.Equal(SpokenDigits.Keys, train.Keys);
        Assert.True(train.Count >= 200, $"{train.Count} training samples");
        Assert.True(test.Count >= 50);
        var trainSpeakers = new HashSet<int>(train.Speakers.ToArray());
        Assert.All(test.Speakers.ToArray(), s => Assert.DoesNotContain(s, trainSpeakers));
        var perClass = new int[20];
        foreach (int l in train.Labels)
        {
            perClass[l]++;
        }

        Assert.All(perClass, c => Assert.True(c >= 5));
    }

    [Fact]
    public void GestureRecordings_FollowTheDvsGestureLayout()
    {
        string root = Path.Combine(Recordings(), "gestures");
        var train = DvsGestureDataset.Open(root, train: true);
        var test = DvsGestureDataset.Open(root, train: false);
        Assert.Equal(10, train.Classes);
        Assert.Empty(train.Trials.Intersect(test.Trials));
        Assert.True(train.Trials.Count >= 8);
        string first = Path.Combine(root, test.Trials[0]);
        List<LabelSegment> labels = DvsGestureDataset.ReadLabels(DvsGestureDataset.LabelsPath(root, test.Trials[0]));
        Assert.Equal(10, labels.Count);
        using var reader = Aedat4Reader.Open(first);
        Assert.Equal(SensorGeometry.Dvs128, reader.Geometry);
        using var batch = new EventBatch();
        Assert.True(reader.Read(batch));
        Assert.True(batch.T[0] <= labels[0].StartUs);
    }

    [Fact]
    public void GestureRecordings_NameTheirClasses()
    {
        DvsGestureDataset set = DvsGestureDataset.Open(Path.Combine(Recordings(), "gestures"), train: true);
        Assert.Equal(10, set.Classes);
        Assert.Equal(GestureGenerator.ClassNames, set.ClassNames);
    }
}
