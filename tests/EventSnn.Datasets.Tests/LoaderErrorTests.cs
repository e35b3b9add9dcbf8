using EventSnn.Datasets.Loaders;
using EventSnn.Datasets.Mnist;
using EventSnn.IO;
using EventSnn.Transforms;

namespace EventSnn.Datasets.Tests;

public class LoaderErrorTests
{
    [Fact]
    public void Shd_MissingFile_NamesIt_MalformedFile_IsAFormatError()
    {
        using var dir = new TempFolder();
        var missing = Assert.Throws<FileNotFoundException>(() => ShdDataset.Open(dir.File("shd_train.h5")));
        Assert.Contains("shd_train.h5", missing.Message);
        File.WriteAllBytes(dir.File("bad.h5"), [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 31))]);
        var bad = Assert.Throws<EventFormatException>(() => ShdDataset.Open(dir.File("bad.h5")));
        Assert.Contains("bad.h5", bad.Message);
    }

    [Fact]
    public void Gesture_MissingListsRecordingsAndLabels_AreNamed()
    {
        using var dir = new TempFolder();
        var noList = Assert.Throws<FileNotFoundException>(() => DvsGestureDataset.Open(dir.Path, train: true));
        Assert.Contains("trials_to_train.txt", noList.Message);

        File.WriteAllText(dir.File("trials_to_train.txt"), "user01_fluorescent.aedat\n");
        var noLabels = Assert.Throws<FileNotFoundException>(() => DvsGestureDataset.Open(dir.Path, train: true));
        Assert.Contains("user01_fluorescent_labels.csv", noLabels.Message);

        File.WriteAllText(dir.File("user01_fluorescent_labels.csv"), "class,startTime_usec,endTime_usec\n1,100,200\n");
        var noRecording = Assert.Throws<FileNotFoundException>(() => DvsGestureDataset.Open(dir.Path, train: true));
        Assert.Contains("user01_fluorescent.aedat", noRecording.Message);

        Assert.Throws<DirectoryNotFoundException>(() => DvsGestureDataset.Open(dir.File("nowhere"), train: true));
    }

    [Theory]
    [InlineData("class,startTime_usec,endTime_usec\n1,100,200\n2,abc,300\n", 3, "startTime_usec")]
    [InlineData("class,startTime_usec,endTime_usec\r\n1,100,200\r\n0,300,400\r\n", 3, "class")]
    [InlineData("class,startTime_usec,endTime_usec\n5,500,400\n", 2, "endTime_usec")]
    [InlineData("gesture;start;end\n1;2;3\n", 2, "line")]
    public void Gesture_MalformedLabels_NameFileAndLine(string csv, int line, string field)
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("u_labels.csv"), csv);
        var ex = Assert.Throws<EventFormatException>(() => DvsGestureDataset.ReadLabels(dir.File("u_labels.csv")));
        Assert.Contains("u_labels.csv", ex.Message);
        Assert.Contains($"line {line}", ex.Message);
        Assert.Equal(field, ex.Field);
    }

    [Fact]
    public void Gesture_LabelsWithCrlfAndBlankLines_Parse()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("u_labels.csv"), "class,startTime_usec,endTime_usec\r\n3,300,400\r\n\r\n1,100,200\r\n");
        List<LabelSegment> l = DvsGestureDataset.ReadLabels(dir.File("u_labels.csv"));
        Assert.Equal([new(1, 100, 200), new(3, 300, 400)], l);
    }

    [Fact]
    public void NMnist_MissingSplitOrEmptySplit_AreNamed()
    {
        using var dir = new TempFolder();
        var missing = Assert.Throws<DirectoryNotFoundException>(() => NMnistDataset.Open(dir.Path, train: true));
        Assert.Contains("Train", missing.Message);
        Directory.CreateDirectory(Path.Combine(dir.Path, "Test", "4"));
        var empty = Assert.Throws<FileNotFoundException>(() => NMnistDataset.Open(dir.Path, train: false));
        Assert.Contains("Test", empty.Message);
    }

    [Fact]
    public void NMnist_TruncatedBinFile_YieldsCompleteEventsInTolerantModeAndThrowsInStrict()
    {
        using var dir = new TempFolder();
        string digit = Path.Combine(dir.Path, "Train", "1");
        Directory.CreateDirectory(digit);
        // two complete 5-byte events and 3 bytes of a third
        File.WriteAllBytes(Path.Combine(digit, "00001.bin"), [1, 2, 0x80, 0, 10, 3, 4, 0, 0, 20, 5, 6, 0]);
        List<SpikeSequence> samples = [.. NMnistDataset.Open(dir.Path, train: true).Samples()];
        Assert.Single(samples);
        Assert.Equal(2, samples[0].NonZeros);
        Assert.Equal(1, samples[0].Label);
        var ex = Assert.Throws<EventFormatException>(() => NMnistDataset.Open(dir.Path, train: true, options: new ReaderOptions { Strict = true }).Samples().ToList());
        Assert.True(ex.IsTruncation);
    }

    [Fact]
    public void MnistIdx_BadMagicAndShortFiles_AreFormatErrors()
    {
        using var dir = new TempFolder();
        string folder = TestMnist.Write(dir.File("idx"), 1);
        byte[] images = File.ReadAllBytes(Path.Combine(folder, "train-images-idx3-ubyte"));
        images[3] = 0x01;
        File.WriteAllBytes(Path.Combine(folder, "train-images-idx3-ubyte"), images);
        var magic = Assert.Throws<EventFormatException>(() => MnistIdx.ReadSplit(folder, train: true));
        Assert.Equal("magic", magic.Field);
        Assert.Contains("train-images-idx3-ubyte", magic.Message);

        byte[] labels = File.ReadAllBytes(Path.Combine(folder, "t10k-labels-idx1-ubyte"));
        File.WriteAllBytes(Path.Combine(folder, "t10k-labels-idx1-ubyte"), labels[..12]);
        var cut = Assert.Throws<EventFormatException>(() => MnistIdx.ReadSplit(folder, train: false));
        Assert.True(cut.IsTruncation);
        Assert.Throws<FileNotFoundException>(() => MnistIdx.ReadSplit(dir.File("none"), train: true));
    }
}
