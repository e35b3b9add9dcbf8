using EventSnn.Events;
using EventSnn.Testing;
using static EventSnn.IO.Tests.PropheseeTestSupport;

namespace EventSnn.IO.Tests;

/// <summary>
/// <see cref="ReaderOptions.MemoryMap"/>: the Prophesee readers decoding from a memory map of the
/// file give exactly what the buffered path gives (events, triggers, warnings, errors, offsets).
/// </summary>
public sealed class MemoryMappedInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("eventsnn-mmap-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Load(string fixture) =>
        fixture == "generated-evt21" ? PropheseeRobustnessTests.Evt21Sample() : File.ReadAllBytes(Fixtures.Path(fixture));

    private string Save(byte[] bytes, string name)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static ReadResult Read(string path, EventFormat format, bool map, bool strict, int capacity)
    {
        var options = new ReaderOptions { Format = format, MemoryMap = map, Strict = strict };
        var triggers = new List<TriggerEvent>();
        var events = new List<DvsEvent>();
        IDvsEventReader? reader = null;
        try
        {
            reader = (IDvsEventReader)EventReaders.Open(path, options);
            bool mapped = ((PropheseeReader)reader).IsMemoryMapped;
            events = ReadAll(reader, capacity, triggers);
            return new ReadResult(events, triggers, [.. ((PropheseeReader)reader).Warnings], null, mapped);
        }
        catch (EventFormatException e)
        {
            return new ReadResult(events, triggers, reader is PropheseeReader p ? [.. p.Warnings] : [], $"{e.Offset}: {e.Message}", map);
        }
        finally
        {
            reader?.Dispose();
        }
    }

    private static void AssertSame(ReadResult buffered, ReadResult mapped)
    {
        AssertSameEvents(buffered.Events, mapped.Events);
        Assert.Equal(buffered.Triggers, mapped.Triggers);
        Assert.Equal(buffered.Warnings, mapped.Warnings);
        Assert.Equal(buffered.Error, mapped.Error);
    }

    [Theory]
    [MemberData(nameof(PropheseeRobustnessTests.Recordings), MemberType = typeof(PropheseeRobustnessTests))]
    [InlineData("generated-evt21", EventFormat.Evt21)]
    public void A_mapped_file_decodes_exactly_as_the_buffered_read(string fixture, EventFormat format)
    {
        byte[] bytes = Load(fixture);
        string path = Save(bytes, "whole");
        foreach (int capacity in new[] { EventBatch.DefaultCapacity, 777, 1 })
        {
            var buffered = Read(path, format, map: false, strict: false, capacity);
            var mapped = Read(path, format, map: true, strict: false, capacity);
            Assert.NotEmpty(buffered.Events);
            Assert.False(buffered.Mapped);
            Assert.True(mapped.Mapped);
            AssertSame(buffered, mapped);
        }
    }

    [Theory]
    [MemberData(nameof(PropheseeRobustnessTests.Recordings), MemberType = typeof(PropheseeRobustnessTests))]
    [InlineData("generated-evt21", EventFormat.Evt21)]
    public void A_mapped_file_cut_anywhere_gives_the_same_events_warnings_and_errors(string fixture, EventFormat format)
    {
        byte[] bytes = Load(fixture);
        var rng = new Random(fixture.Length);
        var cuts = new SortedSet<int> { 0, 1, 2, bytes.Length - 1 };
        for (int i = 0; i < 24; i++)
        {
            cuts.Add(rng.Next(0, bytes.Length));
        }

        foreach (int cut in cuts)
        {
            string path = Save(bytes[..cut], $"cut-{cut}");
            foreach (bool strict in new[] { false, true })
            {
                var buffered = Read(path, format, map: false, strict, 4096);
                var mapped = Read(path, format, map: true, strict, 4096);
                AssertSame(buffered, mapped);
            }
        }
    }

    [Fact]
    public void A_stream_that_is_not_a_file_is_read_buffered_when_mapping_is_asked_for()
    {
        byte[] bytes = Load("tonic/sample_ncars.dat");
        List<DvsEvent> plain = ReadAll(EventFormat.Dat, bytes);
        using IDvsEventReader reader = Open(EventFormat.Dat, bytes, new ReaderOptions { MemoryMap = true });
        Assert.False(((PropheseeReader)reader).IsMemoryMapped);
        List<DvsEvent> asked = ReadAll(reader);
        Assert.NotEmpty(plain);
        AssertSameEvents(plain, asked);
    }

    [Fact]
    public void A_mapped_reader_releases_the_file_on_dispose()
    {
        byte[] bytes = Load("expelliarmus/evt3_sample.raw");
        string path = Save(bytes, "release");
        var options = new ReaderOptions { Format = EventFormat.Evt3, MemoryMap = true };
        using (IEventReader reader = EventReaders.Open(path, options))
        {
            Assert.NotEmpty(ReadAll((IDvsEventReader)reader));
        }

        // rewriting the file in place succeeds once no mapping or handle holds it (also on Windows)
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var half = Read(path, EventFormat.Evt3, map: true, strict: false, 4096);
        var halfBuffered = Read(path, EventFormat.Evt3, map: false, strict: false, 4096);
        Assert.NotEmpty(half.Events);
        Assert.True(half.Mapped);
        AssertSame(halfBuffered, half);
    }

    private sealed record ReadResult(List<DvsEvent> Events, List<TriggerEvent> Triggers, List<FormatWarning> Warnings, string? Error, bool Mapped);
}
