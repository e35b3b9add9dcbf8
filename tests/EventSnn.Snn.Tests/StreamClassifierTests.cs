using EventSnn.Snn.Classification;

namespace EventSnn.Snn.Tests;

/// <summary><see cref="StreamClassifier"/>: segmenting, late label feedback and the tally.</summary>
public class StreamClassifierTests
{
    private const int Inputs = 8;

    private static OnlineSequenceClassifier Model(bool learning) =>
        new(new OnlineClassifierOptions { Inputs = Inputs, Classes = 3, Steps = 10, Recipe = new SequenceTrainerOptions { Hidden = 8, Chunks = 2 } }) { Learning = learning };

    private static float[] Frame(int k)
    {
        float[] f = new float[Inputs];
        f[k % Inputs] = 2;
        return f;
    }

    [Fact]
    public void Windows_of_event_time_give_one_decision_each_and_the_last_partial_one_on_Complete()
    {
        using var s = new StreamClassifier(Model(learning: false), new StreamClassifierOptions { WindowUs = 100 });
        var decisions = new List<StreamDecision>();
        s.Decided = decisions.Add;
        for (int i = 0; i < 25; i++)
        {
            s.Step(Frame(i), 1000 + (i * 10), 1000 + (i * 10) + 10, events: 3);
        }

        Assert.Equal(2, decisions.Count); // windows [1000,1100) and [1100,1200) closed by their last bin
        s.Complete();
        Assert.Equal([10, 10, 5], decisions.Select(d => d.Steps));
        Assert.Equal([1000L, 1100, 1200], decisions.Select(d => d.StartUs));
        Assert.Equal([1100L, 1200, 1300], decisions.Select(d => d.TUs));
        Assert.Equal([0L, 1, 2], decisions.Select(d => d.Index));
        Assert.All(decisions, d => Assert.Equal(-1, d.TruthIndex));
        Assert.Equal(75, s.Events);
        Assert.Equal(3, s.Tally.Decisions);
        Assert.Equal(0, s.Tally.Labelled);
    }

    [Fact]
    public void A_gap_skips_to_the_window_of_the_next_step()
    {
        using var s = new StreamClassifier(Model(learning: false), new StreamClassifierOptions { WindowUs = 100 });
        var decisions = new List<StreamDecision>();
        s.Decided = decisions.Add;
        s.Step(Frame(0), 0, 10);
        s.Step(Frame(1), 530, 540);
        s.Complete();
        Assert.Equal([0L, 500], decisions.Select(d => d.StartUs));
        Assert.Equal([1, 1], decisions.Select(d => d.Steps));
    }

    [Fact]
    public void Caller_samples_are_segments_with_their_truth_and_learning_happens_when_known()
    {
        OnlineSequenceClassifier model = Model(learning: true);
        using var s = new StreamClassifier(model);
        var decisions = new List<StreamDecision>();
        s.Decided = decisions.Add;
        for (int sample = 0; sample < 4; sample++)
        {
            for (int k = 0; k < 10; k++)
            {
                s.Step(Frame(sample + k), (sample * 1000) + (k * 10), (sample * 1000) + (k * 10) + 10, sample, truth: sample % 3, endsSample: k == 9);
            }
        }

        Assert.Equal(4, decisions.Count);
        Assert.Equal([0, 1, 2, 0], decisions.Select(d => d.TruthIndex));
        Assert.Equal(4, s.Tally.Labelled);
        Assert.Equal(decisions.Count(d => d.Correct), s.Tally.Correct);
        Assert.Equal(8, model.Updates); // 2 chunks per sample
    }

    [Fact]
    public void A_late_label_scores_the_decided_window_and_learns_from_its_kept_inputs()
    {
        OnlineSequenceClassifier model = Model(learning: true);
        using var s = new StreamClassifier(model, new StreamClassifierOptions { WindowUs = 100 });
        var decisions = new List<StreamDecision>();
        s.Decided = decisions.Add;
        for (int i = 0; i < 10; i++)
        {
            s.Step(Frame(i), i * 10, (i * 10) + 10);
        }

        Assert.Single(decisions);
        Assert.Equal(0, model.Updates); // truth unknown: decided, nothing learned yet
        s.Label(100, 2); // the segment ending at 100 is class 2
        s.Step(Frame(0), 100, 110); // next boundary applies it
        Assert.Equal(1, s.Tally.Labelled);
        Assert.Equal(decisions[0].LabelIndex == 2 ? 1 : 0, s.Tally.Correct);
        Assert.Equal(1, s.LateLearned);
        Assert.Equal(2, model.Updates);
        Assert.Equal(1, s.LabelsReceived);
        Assert.Equal(0, s.LabelsUnmatched);
    }

    [Fact]
    public void A_label_ahead_of_its_window_becomes_the_truth_at_decision_time()
    {
        OnlineSequenceClassifier model = Model(learning: true);
        using var s = new StreamClassifier(model, new StreamClassifierOptions { WindowUs = 100 });
        var decisions = new List<StreamDecision>();
        s.Decided = decisions.Add;
        s.Label(150, 1);
        s.Label(5, 0); // before the stream's first window ends but older than nothing decided: kept until it matches
        for (int i = 0; i < 20; i++)
        {
            s.Step(Frame(i), i * 10, (i * 10) + 10);
        }

        Assert.Equal(2, decisions.Count);
        Assert.Equal(0, decisions[0].TruthIndex);
        Assert.Equal(1, decisions[1].TruthIndex);
        Assert.Equal(2, s.Tally.Labelled);
        Assert.Equal(0, s.LateLearned);
        Assert.Equal(4, model.Updates);
    }

    [Fact]
    public void Labels_for_segments_no_longer_kept_are_counted_unmatched()
    {
        using var s = new StreamClassifier(Model(learning: false), new StreamClassifierOptions { WindowUs = 100, PendingSegments = 1 });
        for (int i = 0; i < 30; i++)
        {
            s.Step(Frame(i), i * 10, (i * 10) + 10);
        }

        s.Label(100, 1); // window 0: dropped from the kept segments (only 1 kept)
        s.Label(300, 2); // window 2: kept
        s.Complete();
        Assert.Equal(1, s.LabelsUnmatched);
        Assert.Equal(1, s.Tally.Labelled);
        Assert.Equal(0, s.LateLearned); // not learning
    }

    [Fact]
    public void Labels_outside_the_classes_are_rejected()
    {
        using var s = new StreamClassifier(Model(learning: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Label(0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Label(0, -1));
    }

    [Fact]
    public void Tally_halves_follow_the_labelled_decisions_in_order()
    {
        var t = new ClassificationTally();
        t.Add(label: 0, truth: 1); // wrong
        int late = t.Add(label: 2, truth: -1);
        t.Add(label: 1, truth: 1); // right
        t.Add(label: 0, truth: 0); // right
        Assert.Equal(3, t.Labelled);
        Assert.Null(t.Outcome(late));
        t.Resolve(late, label: 2, truth: 2); // right, second in order
        t.Resolve(late, label: 2, truth: 0); // already known: ignored
        Assert.Equal(4, t.Labelled);
        Assert.Equal(3, t.Correct);
        Assert.Equal(0.75, t.Accuracy);
        Assert.Equal(0.5, t.AccuracyFirstHalf);
        Assert.Equal(1.0, t.AccuracySecondHalf);
        Assert.True(t.Outcome(late));
    }
}
