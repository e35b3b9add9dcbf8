using EventSnn.Datasets.Loaders;
using EventSnn.IO;

namespace EventSnn.Datasets.Tests;

public class ClassNamesFileTests
{
    [Fact]
    public void Names_round_trip_and_fill_the_classes_in_label_order()
    {
        using var dir = new TempFolder();
        ClassNamesFile.Write(dir.Path, ["clap", "wave", "roll"]);
        Assert.Equal(["clap", "wave", "roll"], ClassNamesFile.Read(dir.Path));
        Assert.Equal(["clap", "wave"], ClassNamesFile.For(dir.Path, 2));
        Assert.Equal(["1", "2", "3", "4"], ClassNamesFile.For(dir.Path, 4, firstLabel: 1)); // too few names: the label numbers
    }

    [Fact]
    public void A_folder_without_the_file_falls_back_to_given_names_of_the_right_count_else_numbers()
    {
        using var dir = new TempFolder();
        Assert.Null(ClassNamesFile.Read(dir.Path));
        Assert.Equal(DvsGestureDataset.PublishedClassNames, ClassNamesFile.For(dir.Path, 11, DvsGestureDataset.PublishedClassNames));
        Assert.Equal(["0", "1", "2"], ClassNamesFile.For(dir.Path, 3, DvsGestureDataset.PublishedClassNames));
    }

    [Theory]
    [InlineData("a\n\nb\n", 2, "line 2 is empty")]
    [InlineData("a\nb\na\n", 4, "'a' names an earlier class again")]
    public void Bad_files_name_the_file_the_offset_and_the_line(string text, long offset, string problem)
    {
        using var dir = new TempFolder();
        File.WriteAllText(Path.Combine(dir.Path, ClassNamesFile.FileName), text);
        var ex = Assert.Throws<EventFormatException>(() => ClassNamesFile.Read(dir.Path));
        Assert.EndsWith(ClassNamesFile.FileName, ex.SourceName, StringComparison.Ordinal);
        Assert.Equal(offset, ex.Offset);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }
}
