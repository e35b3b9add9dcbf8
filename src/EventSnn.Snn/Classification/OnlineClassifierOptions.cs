namespace EventSnn.Snn.Classification;

/// <summary>Configuration of an <see cref="OnlineSequenceClassifier"/>: the data's shape and the training recipe.</summary>
public sealed record OnlineClassifierOptions
{
    /// <summary>Inputs per time step.</summary>
    public required int Inputs { get; init; }

    /// <summary>Number of classes.</summary>
    public required int Classes { get; init; }

    /// <summary>Expected time steps per sample (sets the chunk length and the loss weighting over time).</summary>
    public required int Steps { get; init; }

    /// <summary>
    /// The training recipe (network, loss placement and weighting, oracle term, decision readout,
    /// optimiser, FPTT α/β, clip, divergence factor, seed): the same type and defaults as offline
    /// training, applied at batch 1 (<see cref="SequenceTrainerOptions.Batch"/> and
    /// <see cref="SequenceTrainerOptions.Epochs"/> set the learning-rate schedule over passes only).
    /// </summary>
    public SequenceTrainerOptions Recipe { get; init; } = new();

    /// <summary>Decide with FPTT's running average W̄ (true) or the current weights W (false); the other methods always decide with W.</summary>
    public bool DecideWithAverage { get; init; } = true;

    /// <summary>The network configuration these options describe.</summary>
    public NetworkConfig NetworkConfig => Recipe.NetworkConfig(Inputs, Classes, Steps);

    /// <summary>Steps per chunk (one update each): the recipe's chunking, or the whole expected sample for BPTT.</summary>
    public int ChunkLength => SequenceTrainingMethods.Chunked(Recipe.Method) ? Recipe.ChunkLengthFor(Steps) : Steps;

    /// <summary>Chunks per expected sample.</summary>
    public int Chunks => (Steps + ChunkLength - 1) / ChunkLength;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        Check(Inputs > 0, nameof(Inputs), Inputs);
        Check(Classes >= 2, nameof(Classes), Classes);
        Check(Steps > 0, nameof(Steps), Steps);
        ArgumentNullException.ThrowIfNull(Recipe, nameof(Recipe));
        if (Recipe.InputNorm.PerTimestep())
        {
            throw new ArgumentException($"InputNorm = {Recipe.InputNorm} is offline only (per-timestep statistics); streaming at batch 1 needs running or layer normalisation", nameof(Recipe));
        }

        Recipe.Validate(streaming: true);
        if (Recipe.ChunkLength == 0 && Recipe.Chunks > Steps)
        {
            throw new ArgumentException($"Recipe.Chunks = {Recipe.Chunks} exceeds the {Steps} steps per sample", nameof(Recipe));
        }
    }

    private static void Check(bool ok, string name, object value)
    {
        if (!ok)
        {
            throw new ArgumentException($"{name} = {value} is out of range", name);
        }
    }
}

/// <summary>The classifier's answer for one sample.</summary>
/// <param name="Label">Predicted class.</param>
/// <param name="Confidence">Confidence of the predicted class (see <see cref="DecisionAccumulator.Confidence"/>).</param>
/// <param name="Truth">The true class when known, else -1.</param>
/// <param name="Steps">Time steps the sample had.</param>
/// <param name="Loss">Mean FPTT chunk loss of the learning on this sample (0 when not learning).</param>
public readonly record struct SampleDecision(int Label, double Confidence, int Truth, int Steps, double Loss)
{
    /// <summary>True when the truth is known and matches.</summary>
    public bool Correct => Truth >= 0 && Label == Truth;
}
