namespace EventSnn.Snn.Classification;

/// <summary>Configuration of an <see cref="OnlineSequenceClassifier"/>.</summary>
public sealed record OnlineClassifierOptions
{
    /// <summary>Inputs per time step.</summary>
    public required int Inputs { get; init; }

    /// <summary>Number of classes.</summary>
    public required int Classes { get; init; }

    /// <summary>Expected time steps per sample (sets the chunk length: Steps / Chunks).</summary>
    public required int Steps { get; init; }

    /// <summary>Neurons of the recurrent layer.</summary>
    public int Hidden { get; init; } = 128;

    /// <summary>Neuron model of the recurrent layer.</summary>
    public NeuronModel Model { get; init; } = NeuronModel.Ltc;

    /// <summary>FPTT chunks per expected sample (K).</summary>
    public int Chunks { get; init; } = 5;

    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>FPTT alpha.</summary>
    public double Alpha { get; init; } = 0.1;

    /// <summary>FPTT beta.</summary>
    public double Beta { get; init; } = 0.5;

    /// <summary>Gradient-norm clip.</summary>
    public double GradientClip { get; init; } = 1.0;

    /// <summary>
    /// A chunk loss above this multiple of the running mean loss (after a warm-up of 20
    /// chunks) counts as exploding: the learner rolls back to its running average W̄.
    /// </summary>
    public double ExplodingLossFactor { get; init; } = 50;

    /// <summary>Decide with FPTT's running average W̄ (true) or the current weights W (false).</summary>
    public bool DecideWithAverage { get; init; } = true;

    /// <summary>Feed log(1 + x) of the step values (event counts) instead of x.</summary>
    public bool Log1pInputs { get; init; } = true;

    /// <summary>Seed of initialisation.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>The network configuration these options describe.</summary>
    public NetworkConfig NetworkConfig => new()
    {
        InputSize = Inputs,
        Layers = [new LayerConfig { Model = Model, Size = Hidden }],
        Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = Classes },
        Seed = Seed,
    };

    /// <summary>Steps per FPTT chunk.</summary>
    public int ChunkLength => Math.Max(1, (Steps + Chunks - 1) / Chunks);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        Check(Inputs > 0, nameof(Inputs), Inputs);
        Check(Classes >= 2, nameof(Classes), Classes);
        Check(Steps > 0, nameof(Steps), Steps);
        Check(Hidden > 0, nameof(Hidden), Hidden);
        Check(Chunks > 0 && Chunks <= Steps, nameof(Chunks), Chunks);
        Check(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate);
        Check(Alpha > 0 && double.IsFinite(Alpha), nameof(Alpha), Alpha);
        Check(Beta > 0 && Beta <= 1, nameof(Beta), Beta);
        Check(GradientClip > 0, nameof(GradientClip), GradientClip);
        Check(ExplodingLossFactor > 1, nameof(ExplodingLossFactor), ExplodingLossFactor);
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
/// <param name="Confidence">Softmax probability of the predicted class.</param>
/// <param name="Truth">The true class when known, else -1.</param>
/// <param name="Steps">Time steps the sample had.</param>
/// <param name="Loss">Mean FPTT chunk loss of the learning on this sample (0 when not learning).</param>
public readonly record struct SampleDecision(int Label, double Confidence, int Truth, int Steps, double Loss)
{
    /// <summary>True when the truth is known and matches.</summary>
    public bool Correct => Truth >= 0 && Label == Truth;
}
