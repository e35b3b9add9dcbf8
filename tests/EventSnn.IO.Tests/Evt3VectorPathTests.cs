using CsCheck;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.IO.Tests;

/// <summary>
/// The EVT 3.0 reader's vector paths (eight-word runs of ADDR_Y / ADDR_X / TIME_LOW, vector
/// mask expansion) decode exactly what the word-by-word decoder decodes, on random word streams.
/// </summary>
public class Evt3VectorPathTests
{
    /// <summary>A word stream: the words and the batch capacity used to read it.</summary>
    public sealed record Stream3(ushort[] Words, int Capacity)
    {
        public override string ToString() =>
            $"{Words.Length} words [{string.Join(" ", Words.Take(24).Select(w => w.ToString("X4", System.Globalization.CultureInfo.InvariantCulture)))}{(Words.Length > 24 ? " ..." : string.Empty)}], capacity {Capacity}";
    }

    /// <summary>One word: mostly ADDR_Y / ADDR_X / TIME_LOW (long runs reach the eight-word path), the rest any type.</summary>
    private static readonly Gen<ushort> Word =
        Gen.Frequency(
            (40, Gen.Int[0, 0xFFF].Select(v => (ushort)((0x2 << 12) | v))),
            (14, Gen.Int[0, 0xFFF].Select(v => (ushort)v)),
            (8, Gen.Int[0, 0xFFF].Select(v => (ushort)((0x6 << 12) | v))),
            (3, Gen.Int[0, 0xFFF].Select(v => (ushort)((0x8 << 12) | v))),
            (3, Gen.Int[0, 0xFFF].Select(v => (ushort)((0x4 << 12) | v))),
            (2, Gen.Int[0, 0xFFF].Select(v => (ushort)((0x5 << 12) | v))),
            (3, Gen.Int[0, 0xFFF].Select(v => (ushort)((0x3 << 12) | v))),
            (1, Gen.Int[0, 0xFFF].Select(v => (ushort)((0x1 << 12) | v))),
            (1, Gen.Int[0, 0xFFF].Select(v => (ushort)((0xA << 12) | v))),
            (1, Gen.OneOf(0x7, 0xD, 0xE, 0xF, 0x9, 0xB, 0xC).SelectMany(t => Gen.Int[0, 0xFFF].Select(v => (ushort)((t << 12) | v)))));

    private static readonly Gen<Stream3> Streams =
        from words in Word.Array[0, 3000]
        from capacity in Gen.OneOf(Gen.Int[1, 64], Gen.Int[64, 5000])
        select new Stream3(words, capacity);

    private static (List<DvsEvent> Events, List<TriggerEvent> Triggers, List<FormatWarning> Warnings, string? Error) Read(byte[] file, bool vectorized, int capacity)
    {
        var events = new List<DvsEvent>();
        var triggers = new List<TriggerEvent>();
        using var reader = new Evt3Reader(new MemoryStream(file, writable: false), "words.raw") { Vectorized = vectorized };
        using var batch = new EventBatch(capacity);
        try
        {
            while (reader.Read(batch))
            {
                events.AddRange(batch.ToArray());
                triggers.AddRange(batch.Triggers.Items.ToArray());
            }
        }
        catch (EventFormatException ex)
        {
            return (events, triggers, [.. reader.Warnings], ex.Message);
        }

        return (events, triggers, [.. reader.Warnings], null);
    }

    [Fact]
    public void Vector_paths_decode_like_the_word_by_word_decoder()
    {
        Streams.Sample(s =>
        {
            byte[] file = PropheseeTestSupport.Evt3File(s.Words);
            var plain = Read(file, vectorized: false, s.Capacity);
            var fast = Read(file, vectorized: true, s.Capacity);
            Assert.Equal(plain.Error, fast.Error);
            PropheseeTestSupport.AssertSameEvents(plain.Events, fast.Events);
            Assert.Equal(plain.Triggers, fast.Triggers);
            Assert.Equal(plain.Warnings, fast.Warnings);
        }, iter: 3000, threads: 1);
    }

    [Fact]
    public void Runs_of_rows_columns_and_times_take_the_vector_path_and_keep_the_time_rules()
    {
        // TIME_HIGH 0x001 then alternating rows, columns and TIME_LOW changes: long eligible runs
        var words = new List<ushort> { 0x8001 };
        var expected = new List<DvsEvent>();
        var rng = new Random(7);
        long t = 1 << 12;
        int y = 0;
        for (int i = 0; i < 5000; i++)
        {
            int r = rng.Next(10);
            if (r == 0)
            {
                int low = rng.Next(0x1000);
                words.Add((ushort)(0x6000 | low));
                t = (1 << 12) + low;
            }
            else if (r < 4)
            {
                y = rng.Next(720);
                words.Add((ushort)y);
            }
            else
            {
                int x = rng.Next(1280);
                bool on = rng.Next(2) == 1;
                words.Add((ushort)(0x2000 | (on ? 0x800 : 0) | x));
                expected.Add(new DvsEvent(t, (ushort)x, (ushort)y, on));
            }
        }

        byte[] file = PropheseeTestSupport.Evt3File([.. words]);
        PropheseeTestSupport.AssertSameEvents(expected, Read(file, vectorized: true, 4096).Events);
        PropheseeTestSupport.AssertSameEvents(expected, Read(file, vectorized: false, 4096).Events);
    }
}
