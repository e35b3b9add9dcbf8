using System.Text;
using System.Text.Json;
using EventSnn.Snn.Classification;

namespace EventSnn.Snn.Tests;

/// <summary><see cref="StreamDecision"/> through the source-generated <see cref="DecisionJsonContext"/>.</summary>
public class StreamDecisionJsonTests
{
    private static readonly StreamDecision Full = new()
    {
        TUs = 1_700_000_002_562_000,
        StartUs = 1_700_000_001_000_000,
        Stream = "gestures",
        Label = "zoom_out",
        LabelIndex = 9,
        Confidence = 0.7712345678,
        LatencyMs = 0.123456789,
        Truth = "rotate_cw",
        TruthIndex = 6,
        Index = 41,
        Sample = 12,
        Steps = 20,
        Events = 31_337,
        Phase = "train",
        Pass = 2,
        Loss = 1.234567891,
        Silo = "silo-a",
    };

    [Fact]
    public void Every_member_has_its_snake_case_name_in_declaration_order()
    {
        using JsonDocument doc = JsonDocument.Parse(Full.ToUtf8Json());
        string[] names = [.. doc.RootElement.EnumerateObject().Select(p => p.Name)];
        Assert.Equal(
            ["t_us", "start_us", "stream", "label", "label_index", "confidence", "latency_ms", "truth", "truth_index", "correct", "decision", "sample", "steps", "events", "phase", "pass", "loss", "silo"],
            names);
        JsonElement r = doc.RootElement;
        Assert.Equal(1_700_000_002_562_000, r.GetProperty("t_us").GetInt64());
        Assert.Equal(0.771235, r.GetProperty("confidence").GetDouble());
        Assert.Equal(0.1235, r.GetProperty("latency_ms").GetDouble());
        Assert.Equal(1.23457, r.GetProperty("loss").GetDouble());
        Assert.False(r.GetProperty("correct").GetBoolean());
        Assert.Equal(41, r.GetProperty("decision").GetInt64());
    }

    [Fact]
    public void A_decision_round_trips_through_the_context()
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(Full, DecisionJsonContext.Default.StreamDecision);
        Assert.Equal(Full, JsonSerializer.Deserialize(json, DecisionJsonContext.Default.StreamDecision));
        Assert.Equal(Full, StreamDecision.Parse(json));
        Assert.Equal(Encoding.UTF8.GetString(json), Full.ToJson());
    }

    [Fact]
    public void Unknown_members_are_left_out_but_an_unknown_truth_is_null()
    {
        var bare = new StreamDecision { TUs = 5, StartUs = 1, Stream = "s", Label = "?", LabelIndex = -1 };
        string json = bare.ToJson();
        Assert.Equal("""{"t_us":5,"start_us":1,"stream":"s","label":"?","label_index":-1,"confidence":0,"latency_ms":0,"truth":null,"truth_index":-1,"correct":false,"decision":0,"steps":0}""", json);
        Assert.Equal(bare, StreamDecision.Parse(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void Anything_else_is_not_a_decision()
    {
        Assert.Null(StreamDecision.Parse("""{"type":"frame","stream":"s"}"""u8));
        Assert.Null(StreamDecision.Parse("not json"u8));
        Assert.Null(StreamDecision.Parse("""{"t_us":1,"stream":null,"label":"x","label_index":0}"""u8));
    }

    [Fact]
    public void A_counting_tally_restores_and_reads_counts_without_outcomes()
    {
        var t = new ClassificationTally(keepOutcomes: false);
        t.Restore(decisions: 10, labelled: 4, correct: 3);
        t.Add(Full with { TruthIndex = 9 });
        t.Add(Full with { TruthIndex = -1, Truth = null });
        Assert.Equal((12L, 5L, 4L), (t.Decisions, t.Labelled, t.Correct));
        Assert.Equal(0.8, t.Accuracy);
        Assert.Throws<InvalidOperationException>(() => t.Outcome(0));
        Assert.Null(new ClassificationTally(keepOutcomes: false).AccuracyOrNull);
        Assert.Throws<InvalidOperationException>(() => new ClassificationTally().Restore(1, 1, 1));
    }
}
