using EventSnn.Snn.Classification;

namespace EventSnn.Snn.Tests;

public class OnlineClassifierTests
{
    private const int Inputs = 8;
    private const int Classes = 4;
    private const int Steps = 20;

    private static OnlineClassifierOptions Options(double lr = 3e-3) => new()
    {
        Inputs = Inputs,
        Classes = Classes,
        Steps = Steps,
        Recipe = new SequenceTrainerOptions { Hidden = 32, Chunks = 4, LearningRate = lr, Seed = 3 },
    };

    /// <summary>Class c drives inputs 2c and 2c+1 at random, everything else is noise.</summary>
    private static void Sample(OnlineSequenceClassifier c, int label, Random rng, float[] step)
    {
        for (int t = 0; t < Steps; t++)
        {
            Array.Clear(step);
            for (int i = 0; i < Inputs; i++)
            {
                bool signal = i / 2 == label;
                if (rng.NextDouble() < (signal ? 0.6 : 0.1))
                {
                    step[i] = 1 + rng.Next(3);
                }
            }

            c.Step(step);
        }
    }

    [Fact]
    public void Learns_a_separable_stream_and_decides_before_learning()
    {
        var c = new OnlineSequenceClassifier(Options(1e-2));
        var rng = new Random(5);
        float[] step = new float[Inputs];
        int firstCorrect = 0, lastCorrect = 0;
        const int samples = 400;
        for (int n = 0; n < samples; n++)
        {
            int label = rng.Next(Classes);
            c.BeginSample(label);
            Sample(c, label, rng, step);
            SampleDecision d = c.EndSample();
            Assert.Equal(label, d.Truth);
            Assert.Equal(Steps, d.Steps);
            Assert.InRange(d.Confidence, 0, 1);
            if (n < 40)
            {
                firstCorrect += d.Correct ? 1 : 0;
            }

            if (n >= samples - 100)
            {
                lastCorrect += d.Correct ? 1 : 0;
            }
        }

        Assert.True(lastCorrect >= 80, $"last 100 samples: {lastCorrect} correct");
        Assert.True(lastCorrect / 100.0 > (firstCorrect / 40.0) + 0.2, $"first 40: {firstCorrect}, last 100: {lastCorrect}");
        Assert.True(c.Updates >= samples * 4);
    }

    /// <summary>
    /// Every method learns the separable stream online at batch 1 (decisions made before learning on
    /// each sample): FPTT, e-prop and OSTL (running normalisation and dropout on), TBPTT with an
    /// update per chunk, BPTT with one update per sample; allocation-free after warm-up.
    /// </summary>
    [Theory]
    [InlineData(SequenceTrainingMethod.Fptt)]
    [InlineData(SequenceTrainingMethod.Eprop)]
    [InlineData(SequenceTrainingMethod.Ostl)]
    [InlineData(SequenceTrainingMethod.Tbptt)]
    [InlineData(SequenceTrainingMethod.Bptt)]
    public void Every_method_learns_the_stream_online(SequenceTrainingMethod method)
    {
        OnlineClassifierOptions o = Options(1e-2);
        o = o with { Recipe = o.Recipe with { Method = method, InputNorm = InputNormKind.Running, Dropout = 0.1 } };
        var c = new OnlineSequenceClassifier(o);
        Assert.Equal(method == SequenceTrainingMethod.Fptt, c.Fptt is not null);
        var rng = new Random(5);
        float[] step = new float[Inputs];
        int lastCorrect = 0;
        const int samples = 400;
        long allocated = 0;
        for (int n = 0; n < samples; n++)
        {
            int label = rng.Next(Classes);
            long before = GC.GetAllocatedBytesForCurrentThread();
            c.BeginSample(label);
            Sample(c, label, rng, step);
            SampleDecision d = c.EndSample();
            allocated += n >= 20 ? GC.GetAllocatedBytesForCurrentThread() - before : 0;
            lastCorrect += n >= samples - 100 && d.Correct ? 1 : 0;
        }

        Assert.True(lastCorrect >= 60, $"{method}: last 100 samples {lastCorrect} correct (chance 25)");
        Assert.Equal(method == SequenceTrainingMethod.Bptt ? samples : samples * 4, c.Updates);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void First_decision_is_the_same_with_or_without_learning_on_that_sample()
    {
        var learning = new OnlineSequenceClassifier(Options(0.5));
        var frozen = new OnlineSequenceClassifier(Options(0.5)) { Learning = false };
        float[] step = new float[Inputs];
        var decisions = new List<SampleDecision>();
        foreach (OnlineSequenceClassifier c in new[] { learning, frozen })
        {
            var rng = new Random(9);
            c.BeginSample(2);
            Sample(c, 2, rng, step);
            decisions.Add(c.EndSample());
        }

        Assert.Equal(decisions[0].Label, decisions[1].Label);
        Assert.Equal(decisions[0].Confidence, decisions[1].Confidence, 12);
        Assert.True(learning.Updates > 0);
        Assert.Equal(0, frozen.Updates);
    }

    [Fact]
    public void Streaming_steps_allocate_nothing_after_warm_up()
    {
        var c = new OnlineSequenceClassifier(Options());
        var rng = new Random(1);
        float[] step = new float[Inputs];
        for (int n = 0; n < 5; n++)
        {
            c.BeginSample(n % Classes);
            Sample(c, n % Classes, rng, step);
            c.EndSample();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int n = 0; n < 20; n++)
        {
            c.BeginSample(n % Classes);
            Sample(c, n % Classes, rng, step);
            c.EndSample();
        }

        // Random.Next in the test's data generator allocates nothing; neither may the classifier.
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>FPTT rolls back to W̄; the methods without a running average to the weights the sample began with.</summary>
    [Theory]
    [InlineData(SequenceTrainingMethod.Fptt)]
    [InlineData(SequenceTrainingMethod.Eprop)]
    public void Exploding_learning_is_rolled_back_and_counted(SequenceTrainingMethod method)
    {
        var c = new OnlineSequenceClassifier(Options(lr: 0.9) is var o ? o with { Recipe = o.Recipe with { Method = method, GradientClip = 1e9, ExplodingLossFactor = 3 } } : null!);
        var rng = new Random(2);
        float[] step = new float[Inputs];
        for (int n = 0; n < 300 && c.Divergences == 0; n++)
        {
            int label = rng.Next(Classes);
            c.BeginSample(label);
            Sample(c, label, rng, step);
            c.EndSample();
        }

        Assert.True(c.Divergences > 0, "a learning rate of 0.9 without clipping should blow up the loss");
        Assert.True(c.Network.Parameters.AllFinite());
    }

    /// <summary>
    /// A checkpoint loaded into an FPTT classifier decides like its writer; one written by another
    /// method (no W̄, λ in it) starts the reader's average at the loaded weights.
    /// </summary>
    [Theory]
    [InlineData(SequenceTrainingMethod.Fptt)]
    [InlineData(SequenceTrainingMethod.Ostl)]
    public void Checkpoint_round_trip_gives_the_same_decisions(SequenceTrainingMethod writer)
    {
        string path = Path.Combine(Path.GetTempPath(), $"eventsnn-classifier-{Guid.NewGuid():N}.ckpt");
        try
        {
            var a = new OnlineSequenceClassifier(Options() with { Recipe = Options().Recipe with { Method = writer } });
            var rng = new Random(4);
            float[] step = new float[Inputs];
            for (int n = 0; n < 30; n++)
            {
                a.BeginSample(n % Classes);
                Sample(a, n % Classes, rng, step);
                a.EndSample();
            }

            a.Save(path);
            var b = new OnlineSequenceClassifier(Options());
            b.Load(path);
            if (writer != SequenceTrainingMethod.Fptt)
            {
                for (int p = 0; p < b.Network.Parameters.Count; p++)
                {
                    Assert.Equal(a.Network.Parameters[p].Data, b.Fptt!.GetAverage(p));
                    Assert.All(b.Fptt.GetLambda(p), v => Assert.Equal(0f, v));
                }
            }
            a.Learning = false;
            b.Learning = false;
            var ra = new Random(7);
            var rb = new Random(7);
            for (int n = 0; n < 5; n++)
            {
                a.BeginSample(1);
                Sample(a, 1, ra, step);
                b.BeginSample(1);
                Sample(b, 1, rb, step);
                SampleDecision da = a.EndSample(), db = b.EndSample();
                Assert.Equal(da.Label, db.Label);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Invalid_options_and_calls_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new OnlineSequenceClassifier(Options() with { Classes = 1 }));
        Assert.Throws<ArgumentException>(() => new OnlineSequenceClassifier(Options() is var o ? o with { Recipe = o.Recipe with { Chunks = Steps + 1 } } : null!));
        var c = new OnlineSequenceClassifier(Options());
        Assert.Throws<InvalidOperationException>(() => c.Step(new float[Inputs]));
        Assert.Throws<InvalidOperationException>(() => c.EndSample());
        Assert.Throws<ArgumentOutOfRangeException>(() => c.BeginSample(Classes));
        c.BeginSample();
        Assert.Throws<ArgumentException>(() => c.Step(new float[Inputs + 1]));
    }
}

public class OnlineClassifierLoadTests
{
    [Fact]
    public void A_loaded_checkpoint_learns_at_the_classifiers_rate_not_the_decayed_rate_it_was_saved_with()
    {
        string path = Path.Combine(Path.GetTempPath(), $"lr-{Guid.NewGuid():N}.ckpt");
        try
        {
            var trained = new OnlineSequenceClassifier(new OnlineClassifierOptions { Inputs = 4, Classes = 3, Steps = 6, Recipe = new SequenceTrainerOptions { Hidden = 8, LearningRate = 0.01, Seed = 2 } });
            trained.Optimizer.LearningRate = 8e-6; // where a cosine schedule ends
            trained.Save(path);

            var online = new OnlineSequenceClassifier(new OnlineClassifierOptions { Inputs = 4, Classes = 3, Steps = 6, Recipe = new SequenceTrainerOptions { Hidden = 8, LearningRate = 0.003, Seed = 2 } });
            online.Load(path);
            Assert.Equal(0.003, online.Optimizer.LearningRate, 12);
            Assert.Equal(trained.Network.Parameters[0].Data, online.Network.Parameters[0].Data); // the weights did load
        }
        finally
        {
            File.Delete(path);
        }
    }
}
