using System.Text;

namespace EventSnn.IO.Tests;

public class LabelCsvTests
{
    [Fact]
    public void Dvs_gesture_labels_parse_with_header_blank_lines_crlf_and_bom()
    {
        string text = "\uFEFFclass,startTime_usec,endTime_usec\r\n1,100,200\r\n\r\n2, 250 ,300,extra\n3,400,450";
        List<LabelSegment> segments = LabelCsv.Parse(Encoding.UTF8.GetBytes(text), "user01_labels.csv");
        Assert.Equal([new LabelSegment(1, 100, 200), new LabelSegment(2, 250, 300), new LabelSegment(3, 400, 450)], segments);
    }

    [Fact]
    public void Rows_without_a_header_and_zero_based_classes_are_read()
    {
        Assert.Equal([new LabelSegment(0, -5, 10)], LabelCsv.Parse("0,-5,10\n"));
    }

    [Theory]
    [InlineData("class,start,end\n1,5,x\n", 16, "endTime_usec", "'x' is not an integer")]
    [InlineData("class,start,end\n1,5,9\n2,9\n", 22, "line", "line 3: expected class,startTime_usec,endTime_usec")]
    [InlineData("1,5,5\n", 0, "endTime_usec", "end time 5 is not after start time 5")]
    [InlineData("1,9,5\n", 0, "endTime_usec", "end time 5 is not after start time 9")]
    [InlineData("1,5,9\n-2,10,20\n", 6, "class", "class -2 is not")]
    [InlineData("1,5,9\n99999999999,10,20\n", 6, "class", "class 99999999999 is not")]
    public void Malformed_rows_name_the_source_the_byte_offset_and_the_field(string text, long offset, string field, string problem)
    {
        var ex = Assert.Throws<EventFormatException>(() => LabelCsv.Parse(Encoding.UTF8.GetBytes(text), "user0_labels.csv"));
        Assert.Equal("user0_labels.csv", ex.SourceName);
        Assert.Equal(offset, ex.Offset);
        Assert.Equal(field, ex.Field);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_names_a_missing_file()
    {
        string path = Path.Combine(Path.GetTempPath(), "eventsnn-no-such-" + Guid.NewGuid().ToString("N") + "_labels.csv");
        var ex = Assert.Throws<FileNotFoundException>(() => LabelCsv.Read(path));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_parses_a_file_as_written()
    {
        string path = Path.Combine(Path.GetTempPath(), "eventsnn-" + Guid.NewGuid().ToString("N") + "_labels.csv");
        try
        {
            File.WriteAllText(path, "class,startTime_usec,endTime_usec\n3,1700000000220000,1700000001222000\n9,1700000001498000,1700000002644000\n");
            Assert.Equal([new LabelSegment(3, 1700000000220000, 1700000001222000), new LabelSegment(9, 1700000001498000, 1700000002644000)], LabelCsv.Read(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
