using EventSnn.Transforms;
namespace EventSnn.Datasets.Baselines;

/// <summary>Result of a baseline run.</summary>
/// <param name="TrainSamples">Training samples used.</param>
/// <param name="TestSamples">Test samples used.</param>
/// <param name="Classes">Number of classes.</param>
/// <param name="TrainAccuracy">Accuracy on the training split.</param>
/// <param name="TestAccuracy">Accuracy on the test split.</param>
/// <param name="Features">Feature vector length.</param>
public sealed record BaselineResult(int TrainSamples, int TestSamples, int Classes, double TrainAccuracy, double TestAccuracy, int Features)
{
    /// <summary>Accuracy of always guessing one class (1 / classes).</summary>
    public double Chance => 1.0 / Classes;
}

/// <summary>
/// The spike-count baseline: each sample becomes log(1 + count) per (time slice, pooled
/// feature group) and a <see cref="LogisticRegression"/> is trained on the train split and
/// scored on the test split.
/// </summary>
public static class SpikeCountBaseline
{
    /// <summary>Feature vector of a sample: counts in <paramref name="timeSlices"/> equal slices of its steps, features pooled in groups of <paramref name="pool"/>.</summary>
    public static float[] Features(SpikeSequence sample, int timeSlices, int pool)
    {
        ArgumentNullException.ThrowIfNull(sample);
        int groups = (sample.Features + pool - 1) / pool;
        var x = new float[timeSlices * groups];
        for (int s = 0; s < sample.Steps; s++)
        {
            int slice = (int)((long)s * timeSlices / sample.Steps);
            ReadOnlySpan<int> idx = sample.ActiveAt(s);
            ReadOnlySpan<float> val = sample.ValuesAt(s);
            for (int i = 0; i < idx.Length; i++)
            {
                x[(slice * groups) + (idx[i] / pool)] += val[i];
            }
        }

        for (int i = 0; i < x.Length; i++)
        {
            x[i] = MathF.Log(1 + x[i]);
        }

        return x;
    }

    /// <summary>Trains on <paramref name="train"/> and scores on both splits.</summary>
    public static BaselineResult Run(ISequenceDataset train, ISequenceDataset test, int timeSlices = 4, int pool = 1, int epochs = 60, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        (List<float[]> xTrain, List<int> yTrain) = Collect(train, timeSlices, pool);
        (List<float[]> xTest, List<int> yTest) = Collect(test, timeSlices, pool);
        int classes = train.Classes;
        var model = new LogisticRegression(xTrain[0].Length, classes);
        model.Fit(xTrain, yTrain, epochs, seed: seed);
        return new BaselineResult(xTrain.Count, xTest.Count, classes, model.Accuracy(xTrain, yTrain), model.Accuracy(xTest, yTest), xTrain[0].Length);
    }

    private static (List<float[]> X, List<int> Y) Collect(ISequenceDataset data, int timeSlices, int pool)
    {
        var x = new List<float[]>();
        var y = new List<int>();
        foreach (SpikeSequence s in data.Samples())
        {
            x.Add(Features(s, timeSlices, pool));
            y.Add(s.Label);
        }

        if (x.Count == 0)
        {
            throw new InvalidDataException($"{data.Name} has no samples");
        }

        return (x, y);
    }
}

/// <summary>An in-memory dataset (small generated sets and tests).</summary>
public sealed class InMemoryDataset : ISequenceDataset
{
    private readonly IReadOnlyList<SpikeSequence> _samples;

    /// <summary>Wraps a list of samples.</summary>
    public InMemoryDataset(string name, int classes, int features, IReadOnlyList<SpikeSequence> samples)
    {
        Name = name;
        Classes = classes;
        Features = features;
        _samples = samples;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public int Classes { get; }

    /// <inheritdoc />
    public int Features { get; }

    /// <inheritdoc />
    public int Count => _samples.Count;

    /// <inheritdoc />
    public IEnumerable<SpikeSequence> Samples() => _samples;
}
