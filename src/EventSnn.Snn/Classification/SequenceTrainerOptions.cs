using System.Text.Json;

using EventSnn.Transforms;

namespace EventSnn.Snn.Classification;

/// <summary>Learning method of <see cref="SequenceTrainer"/>.</summary>
public enum SequenceTrainingMethod
{
    /// <summary>Forward Propagation Through Time: one update per chunk, chunk p of P weighted (p+1)/P, W ← W̄ at epoch end.</summary>
    Fptt,

    /// <summary>Full backpropagation through time: one update per batch, loss at the last step.</summary>
    Bptt,

    /// <summary>Truncated BPTT: one update per chunk, gradients cut at chunk boundaries, the FPTT chunk losses without the regulariser.</summary>
    Tbptt,

    /// <summary>e-prop with symmetric feedback (<see cref="EligibilityPropLearner{T}"/>): an update every chunk length steps, the FPTT chunk losses.</summary>
    Eprop,

    /// <summary>OSTL (<see cref="OstlLearner{T}"/>): an update every chunk length steps, the FPTT chunk losses.</summary>
    Ostl,
}

/// <summary>Names and properties of the training methods.</summary>
public static class SequenceTrainingMethods
{
    /// <summary>The lower-case name of <paramref name="method"/> (fptt, bptt, tbptt, eprop, ostl).</summary>
    public static string Name(SequenceTrainingMethod method) => method switch
    {
        SequenceTrainingMethod.Fptt => "fptt",
        SequenceTrainingMethod.Bptt => "bptt",
        SequenceTrainingMethod.Tbptt => "tbptt",
        SequenceTrainingMethod.Eprop => "eprop",
        _ => "ostl",
    };

    /// <summary>True when the method updates every chunk (every method but full BPTT).</summary>
    public static bool Chunked(SequenceTrainingMethod method) => method != SequenceTrainingMethod.Bptt;
}

/// <summary>Learning-rate schedule over epochs.</summary>
public enum LearningRateScheduleKind
{
    /// <summary>The same rate every epoch.</summary>
    Constant,

    /// <summary>Cosine annealing to 0 over the epochs (CosineAnnealingLR).</summary>
    Cosine,

    /// <summary>Multiplied by 0.1 every ⌈epochs / 3⌉ epochs (StepLR).</summary>
    Step,
}

/// <summary>Where a training sequence carries its classification loss.</summary>
public enum LossPlacement
{
    /// <summary>One loss term at the last step of every chunk.</summary>
    ChunkEnd,

    /// <summary>A loss term at every step (averaged over the chunk's steps).</summary>
    EveryStep,
}

/// <summary>How the loss terms of a sequence are weighted over time.</summary>
public enum LossWeighting
{
    /// <summary>The reference's (p+1)/P: chunk p of P (or step t of T for per-step losses) weighted (p+1)/P.</summary>
    Linear,

    /// <summary>Every loss term weighted 1.</summary>
    Uniform,
}

/// <summary>How a sample's decision is read from the readout over its steps.</summary>
public enum DecisionReadout
{
    /// <summary>Argmax of the last step's readout.</summary>
    Last,

    /// <summary>Argmax of the mean over the steps of log_softmax(readout).</summary>
    Mean,

    /// <summary>Argmax over classes of the maximum over the steps of log_softmax(readout).</summary>
    Max,
}

/// <summary>Optimiser of the trainer.</summary>
public enum OptimizerKind
{
    /// <summary>Adam (PyTorch semantics).</summary>
    Adam,

    /// <summary>Adamax (PyTorch semantics; the reference's S-MNIST optimiser).</summary>
    Adamax,
}

/// <summary>
/// The training recipe: network shape, loss placement and weighting, oracle term, decision
/// readout, normalisation, dropout, optimiser, learning rate and schedule, FPTT α/β, clipping,
/// divergence guard. The offline trainer (<see cref="SequenceTrainer"/>) and the streaming
/// classifier (<see cref="OnlineSequenceClassifier"/>, at batch 1) follow the same recipe;
/// checkpoints store it as JSON (<see cref="ToJson"/>) so that evaluation and classification read
/// decisions the way the model was trained.
/// </summary>
public sealed record SequenceTrainerOptions
{
    private static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.KebabCaseLower) },
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
    };

    /// <summary>The recipe as a JSON object (snake_case names, kebab-case enum values).</summary>
    public System.Text.Json.Nodes.JsonObject ToJson() =>
        System.Text.Json.JsonSerializer.SerializeToNode(this, Json)!.AsObject();

    /// <summary>Name of the recipe's metadata object in checkpoints.</summary>
    public const string CheckpointKey = "recipe";

    /// <summary>The recipe stored in a checkpoint, or null when it has none.</summary>
    public static SequenceTrainerOptions? FromCheckpoint(CheckpointData checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return checkpoint.Metadata(CheckpointKey) is { } node ? FromJson(node) : null;
    }

    /// <summary>
    /// The recipe of a checkpoint: the stored one, or (for a checkpoint written before recipes were
    /// stored) one derived from its network configuration with the decision read from the last step.
    /// </summary>
    public static SequenceTrainerOptions ForCheckpoint(CheckpointData checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return FromCheckpoint(checkpoint) ?? ForNetwork(checkpoint.Config) with { Decision = DecisionReadout.Last };
    }

    /// <summary>A recipe (defaults) whose network is <paramref name="config"/>'s layer stack, normalisation, dropout and seed.</summary>
    public static SequenceTrainerOptions ForNetwork(NetworkConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        LayerConfig first = config.Layers[0];
        var sizes = new int[config.Layers.Count];
        for (int i = 0; i < sizes.Length; i++)
        {
            sizes[i] = config.Layers[i].Size;
        }

        return new SequenceTrainerOptions
        {
            Model = first.Model,
            Hidden = first.Size,
            LayerSizes = sizes.Length > 1 ? sizes : [],
            InputNorm = first.InputNorm,
            NormGain = first.NormGain,
            RecurrentNorm = first.RecurrentNorm,
            TauBiasInit = first.TauBiasInit,
            RhoBiasInit = first.RhoBiasInit,
            LearnableSlope = first.LearnableSlope,
            LiquidReadout = config.Readout.Kind == ReadoutKind.Liquid,
            ReadoutNorm = config.Readout.Norm != InputNormKind.None,
            Dropout = config.Dropout,
            Seed = (int)config.Seed,
        };
    }

    /// <summary>Reads a recipe written by <see cref="ToJson"/>; missing fields take their defaults.</summary>
    public static SequenceTrainerOptions FromJson(System.Text.Json.Nodes.JsonNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return node.Deserialize<SequenceTrainerOptions>(Json) ?? throw new System.Text.Json.JsonException("empty recipe");
    }

    /// <summary>FPTT (default) or BPTT.</summary>
    public SequenceTrainingMethod Method { get; init; } = SequenceTrainingMethod.Fptt;

    /// <summary>Training epochs.</summary>
    public int Epochs { get; init; } = 40;

    /// <summary>Neurons of the recurrent layer.</summary>
    public int Hidden { get; init; } = 128;

    /// <summary>Neuron model of the recurrent layer.</summary>
    public NeuronModel Model { get; init; } = NeuronModel.Ltc;

    /// <summary>Sizes of the stacked recurrent layers, input side first (empty: one layer of <see cref="Hidden"/>).</summary>
    public IReadOnlyList<int> LayerSizes { get; init; } = [];

    /// <summary>Normalisation of every layer's feed-forward input current.</summary>
    public InputNormKind InputNorm { get; init; } = InputNormKind.None;

    /// <summary>Initial gain of the input normalisation.</summary>
    public double NormGain { get; init; } = 1.0;

    /// <summary>Dropout on the spikes passed up between layers and to the readout (training only).</summary>
    public double Dropout { get; init; }

    /// <summary>Training-time augmentation of the samples, in the preprocessing's text form (e.g. "shift:16,drop-event:0.1"; empty: none).</summary>
    public string Augment { get; init; } = string.Empty;

    /// <summary>Normalise the recurrent current W_rec s_{t-1} too, separately, with the <see cref="InputNorm"/> kind (running or timestep; the reference's S-MNIST model normalises both currents).</summary>
    public bool RecurrentNorm { get; init; }

    /// <summary>Initial bias of the LTC membrane gate c_tau.</summary>
    public double TauBiasInit { get; init; }

    /// <summary>Initial bias of the LTC adaptation gate c_rho (positive: the threshold adaptation b starts slow, a longer memory).</summary>
    public double RhoBiasInit { get; init; }

    /// <summary>LTC gates as sigmoid(k z) with a learnable slope k per gate, initialised to 1 (the reference's S-MNIST model).</summary>
    public bool LearnableSlope { get; init; }

    /// <summary>The liquid readout (its rate an LTC-like gate of its input and state, the reference's S-MNIST head) instead of the leaky one with a learned rate per class.</summary>
    public bool LiquidReadout { get; init; }

    /// <summary>
    /// Normalise the readout's current W_o s_t like the layers' input current (the same running or
    /// timestep statistics, its own gain "readout.norm.weight" initialised to <see cref="NormGain"/>),
    /// as the reference's S-MNIST head batch-normalises it.
    /// </summary>
    public bool ReadoutNorm { get; init; }

    /// <summary>Where the classification loss sits in a sequence.</summary>
    public LossPlacement Loss { get; init; } = LossPlacement.EveryStep;

    /// <summary>Weighting of the loss terms over time.</summary>
    public LossWeighting Weighting { get; init; } = LossWeighting.Linear;

    /// <summary>Add the reference's oracle term with weight 1 − (p+1)/P (uniform class distribution).</summary>
    public bool Oracle { get; init; }

    /// <summary>How decisions (accuracy) are read from the readout.</summary>
    public DecisionReadout Decision { get; init; } = DecisionReadout.Mean;

    /// <summary>Optimiser.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>L2 weight decay of the optimiser.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Sequences per training batch B.</summary>
    public int Batch { get; init; } = 16;

    /// <summary>FPTT chunks per sequence K (used when <see cref="ChunkLength"/> is 0).</summary>
    public int Chunks { get; init; } = 5;

    /// <summary>FPTT chunk length in steps (0: ⌈T / <see cref="Chunks"/>⌉).</summary>
    public int ChunkLength { get; init; }

    /// <summary>Adam learning rate at the first epoch.</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Learning-rate schedule.</summary>
    public LearningRateScheduleKind Schedule { get; init; } = LearningRateScheduleKind.Cosine;

    /// <summary>FPTT α.</summary>
    public double Alpha { get; init; } = 0.1;

    /// <summary>FPTT β.</summary>
    public double Beta { get; init; } = 0.5;

    /// <summary>Global gradient-norm clip.</summary>
    public double GradientClip { get; init; } = 1.0;

    /// <summary>
    /// A batch whose loss exceeds this multiple of max(running mean loss, ln C) counts as
    /// exploding: the learner is rolled back like after a NaN (see <see cref="DivergenceGuard"/>).
    /// </summary>
    public double ExplodingLossFactor { get; init; } = 100;

    /// <summary>Seed of initialisation, shuffling and initial states.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>
    /// Compute threads of the managed engine: a training batch is split into this many slices of
    /// streams trained in parallel with one update per chunk (see <see cref="ManagedBatchLearner"/>;
    /// the result equals one thread's up to float summation order), and evaluation classifies this
    /// many samples in parallel. At most <see cref="Batch"/>; the streaming classifiers learn at
    /// batch 1 on one thread (1 there).
    /// </summary>
    public int Threads { get; init; } = 1;

    /// <summary>FPTT chunk length for sequences of <paramref name="steps"/> steps.</summary>
    public int ChunkLengthFor(int steps) =>
        ChunkLength > 0 ? Math.Min(ChunkLength, Math.Max(1, steps)) : Math.Max(1, (steps + Math.Max(1, Chunks) - 1) / Math.Max(1, Chunks));

    /// <summary>Learning rate of epoch <paramref name="epoch"/> (0-based).</summary>
    public double LearningRateAt(int epoch) => Schedule switch
    {
        LearningRateScheduleKind.Cosine => new CosineSchedule(LearningRate, Math.Max(1, Epochs)).LearningRate(epoch),
        LearningRateScheduleKind.Step => StepSchedule.Every(LearningRate, Math.Max(1, (Epochs + 2) / 3), 0.1).LearningRate(epoch),
        _ => LearningRate,
    };

    /// <summary>The network these options describe for <paramref name="inputs"/> inputs and <paramref name="classes"/> classes.</summary>
    public NetworkConfig NetworkConfig(int inputs, int classes, int steps = 1000) => new()
    {
        InputSize = inputs,
        Layers = LayerConfigs(steps),
        Readout = ReadoutNorm
            ? new ReadoutConfig { Kind = LiquidReadout ? ReadoutKind.Liquid : ReadoutKind.Leaky, Size = classes, Norm = InputNorm, NormGain = NormGain, NormSteps = Math.Max(1, steps) }
            : new ReadoutConfig { Kind = LiquidReadout ? ReadoutKind.Liquid : ReadoutKind.Leaky, Size = classes },
        Dropout = Dropout,
        Seed = Seed,
    };

    /// <summary>The recurrent layers these options describe.</summary>
    public LayerConfig[] LayerConfigs(int steps = 1000)
    {
        if (LayerSizes.Count == 0)
        {
            return [Layer(Hidden, steps)];
        }

        var layers = new LayerConfig[LayerSizes.Count];
        for (int i = 0; i < layers.Length; i++)
        {
            layers[i] = Layer(LayerSizes[i], steps);
        }

        return layers;
    }

    private LayerConfig Layer(int size, int steps) => new() { Model = Model, Size = size, InputNorm = InputNorm, NormGain = NormGain, RecurrentNorm = RecurrentNorm, NormSteps = Math.Max(1, steps), TauBiasInit = TauBiasInit, RhoBiasInit = RhoBiasInit, LearnableSlope = LearnableSlope };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate() => Validate(streaming: false);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting (<paramref name="streaming"/>: the batch-1 online use, where the batch size is irrelevant).</summary>
    public void Validate(bool streaming)
    {
        Check(Epochs >= 1, nameof(Epochs), Epochs);
        Check(LayerSizes.Count <= 3, nameof(LayerSizes), LayerSizes.Count);
        foreach (int size in LayerSizes)
        {
            Check(size >= 1, nameof(LayerSizes), size);
        }

        Check(Hidden >= 1, nameof(Hidden), Hidden);
        Check(Batch >= 1, nameof(Batch), Batch);
        Check(streaming ? Threads == 1 : Threads >= 1 && Threads <= 64 && Threads <= Batch, nameof(Threads), Threads, streaming ? "streaming learns on one thread" : "1..64, at most Batch");
        Check(Chunks >= 1, nameof(Chunks), Chunks);
        Check(ChunkLength >= 0, nameof(ChunkLength), ChunkLength);
        Check(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate);
        Check(Alpha > 0 && double.IsFinite(Alpha), nameof(Alpha), Alpha);
        Check(Beta > 0 && Beta <= 1, nameof(Beta), Beta);
        Check(GradientClip > 0, nameof(GradientClip), GradientClip);
        Check(Dropout >= 0 && Dropout < 1, nameof(Dropout), Dropout);
        Check(streaming || InputNorm != InputNormKind.Batch || Batch >= 2, nameof(InputNorm), InputNorm, "batch norm needs Batch >= 2");
        Check(NormGain > 0 && double.IsFinite(NormGain), nameof(NormGain), NormGain);
        Check(!RecurrentNorm || InputNorm is InputNormKind.Running or InputNormKind.Timestep, nameof(RecurrentNorm), RecurrentNorm, $"the recurrent current is normalised like the input current: needs running or timestep normalisation, not {InputNorm}");
        Check(double.IsFinite(TauBiasInit), nameof(TauBiasInit), TauBiasInit);
        Check(double.IsFinite(RhoBiasInit), nameof(RhoBiasInit), RhoBiasInit);
        Check(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), WeightDecay);
        Check(ExplodingLossFactor > 1, nameof(ExplodingLossFactor), ExplodingLossFactor);
        bool traces = Method is SequenceTrainingMethod.Eprop or SequenceTrainingMethod.Ostl;
        Check(!traces || !InputNorm.PerTimestep(), nameof(InputNorm), InputNorm, "e-prop and OSTL learn online: running or layer normalisation, not per-timestep statistics");
        Check(!traces || !RecurrentNorm, nameof(RecurrentNorm), RecurrentNorm, "e-prop and OSTL do not support a normalised recurrent current");
        Check(!traces || !LiquidReadout, nameof(LiquidReadout), LiquidReadout, "e-prop and OSTL train the leaky readout, not the liquid one");
        Check(!ReadoutNorm || InputNorm is InputNormKind.Running or InputNormKind.Timestep, nameof(ReadoutNorm), ReadoutNorm, $"the readout's current is normalised like the input current: needs running or timestep normalisation, not {InputNorm}");
        Check(!traces || !ReadoutNorm, nameof(ReadoutNorm), ReadoutNorm, "e-prop and OSTL train a readout without normalisation");
    }

    private static void Check(bool ok, string field, object value, string? rule = null)
    {
        if (!ok)
        {
            throw new ArgumentException($"{field} = {value} is out of range{(rule is null ? string.Empty : $" ({rule})")}", field);
        }
    }
}

/// <summary>What a learner backend needs to build its model and learner.</summary>
/// <param name="Network">Network configuration.</param>
/// <param name="Method">FPTT or BPTT.</param>
/// <param name="Batch">Sequences per batch.</param>
/// <param name="Steps">Time steps per sequence (BPTT tape length).</param>
/// <param name="ChunkLength">FPTT chunk length.</param>
/// <param name="LearningRate">Initial Adam learning rate.</param>
/// <param name="Fptt">FPTT hyper-parameters.</param>
/// <param name="GradientClip">Global gradient-norm clip.</param>
/// <param name="Seed">Seed of the initial states.</param>
public sealed record SequenceLearnerSetup(NetworkConfig Network, SequenceTrainingMethod Method, int Batch, int Steps, int ChunkLength, double LearningRate, FpttOptions Fptt, double GradientClip, int Seed)
{
    /// <summary>Where the loss sits (setups come from <see cref="From"/>; the default here is the low-level one).</summary>
    public LossPlacement Loss { get; init; } = LossPlacement.ChunkEnd;

    /// <summary>Weighting of the loss terms.</summary>
    public LossWeighting Weighting { get; init; } = LossWeighting.Linear;

    /// <summary>Oracle term on.</summary>
    public bool Oracle { get; init; }

    /// <summary>Decision readout (training accuracy).</summary>
    public DecisionReadout Decision { get; init; } = DecisionReadout.Last;

    /// <summary>Optimiser.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>L2 weight decay.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Compute threads (managed engine: data-parallel slices of a batch).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>FPTT chunks per sequence P = ⌈T / L⌉.</summary>
    public int ChunkCount => (Steps + ChunkLength - 1) / ChunkLength;

    /// <summary>The setup for <paramref name="options"/> and data of the given shape.</summary>
    public static SequenceLearnerSetup From(SequenceTrainerOptions options, int inputs, int classes, int steps)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        return new SequenceLearnerSetup(
            options.NetworkConfig(inputs, classes, steps),
            options.Method,
            options.Batch,
            steps,
            SequenceTrainingMethods.Chunked(options.Method) ? options.ChunkLengthFor(steps) : steps,
            options.LearningRate,
            new FpttOptions { Alpha = options.Alpha, Beta = options.Beta, GradientClip = options.GradientClip },
            options.GradientClip,
            options.Seed)
        {
            Loss = options.Loss,
            Weighting = options.Weighting,
            Oracle = options.Oracle,
            Decision = options.Decision,
            Optimizer = options.Optimizer,
            WeightDecay = options.WeightDecay,
            Threads = options.Threads,
        };
    }
}

/// <summary>Numbers of one training epoch.</summary>
/// <param name="Epoch">Epoch number (1-based).</param>
/// <param name="Loss">Mean training loss: per batch the weighted mean of the chunk-end NLLs (BPTT: the last step's NLL).</param>
/// <param name="TrainAccuracy">Accuracy on the training batches while learning, read per <see cref="SequenceTrainerOptions.Decision"/>.</param>
/// <param name="TestAccuracy">Accuracy on the test split after the epoch, read per <see cref="SequenceTrainerOptions.Decision"/> (NaN when interrupted before it).</param>
/// <param name="TestLoss">Mean NLL of the label on the test split under the decision's reading (NaN when interrupted).</param>
/// <param name="Seconds">Wall time of the epoch (training and test; a resumed epoch includes the time before the interruption).</param>
/// <param name="SamplesPerSecond">Training samples per second.</param>
/// <param name="EventsPerSecond">Training events (non-zero inputs) per second.</param>
/// <param name="Divergences">Batches in this epoch whose loss was NaN/Inf or exploded and that were rolled back.</param>
/// <param name="LearningRate">Learning rate used.</param>
/// <param name="Updates">Optimiser steps applied.</param>
/// <param name="Interrupted">True when cancellation stopped the epoch early (between batches, or during the test of a whole epoch).</param>
public readonly record struct EpochMetrics(int Epoch, double Loss, double TrainAccuracy, double TestAccuracy, double TestLoss, double Seconds, double SamplesPerSecond, double EventsPerSecond, int Divergences, double LearningRate, int Updates, bool Interrupted)
{
    /// <summary>The test accuracy of the same pass under each decision reading (NaN when there was no test).</summary>
    public DecisionAccuracies TestByDecision { get; init; } = DecisionAccuracies.None;

    /// <summary>Batches of the epoch trained (all of them unless <see cref="Interrupted"/>; a resumed epoch counts those before the interruption).</summary>
    public int BatchesDone { get; init; }

    /// <summary>Batches per epoch.</summary>
    public int Batches { get; init; }
}

/// <summary>Progress within an epoch (after every training batch).</summary>
/// <param name="Epoch">Epoch number (1-based).</param>
/// <param name="Batch">Batches done in the epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="Loss">Mean loss so far in the epoch.</param>
public readonly record struct TrainingProgress(int Epoch, int Batch, int Batches, double Loss);

/// <summary>Outcome of SequenceTrainer.Train.</summary>
/// <param name="Epochs">Metrics of the epochs run (this call).</param>
/// <param name="FinalTestAccuracy">Test accuracy after the last completed epoch (NaN when none completed).</param>
/// <param name="BestTestAccuracy">Best test accuracy over the epochs run.</param>
/// <param name="Divergences">Divergences over the epochs run.</param>
/// <param name="Interrupted">True when cancellation stopped training.</param>
/// <param name="Seconds">Wall time.</param>
public sealed record TrainingResult(IReadOnlyList<EpochMetrics> Epochs, double FinalTestAccuracy, double BestTestAccuracy, int Divergences, bool Interrupted, double Seconds);

/// <summary>Outcome of <see cref="SequenceTrainer.Evaluate(Network{float}, IReadOnlyList{ILabelledSequence}, DecisionReadout, int, CancellationToken)"/>.</summary>
/// <param name="Samples">Samples evaluated.</param>
/// <param name="Classes">Classes C.</param>
/// <param name="Accuracy">Fraction whose decision (read per <see cref="DecisionReadout"/>) is the label.</param>
/// <param name="Loss">Mean NLL of the label under the decision's reading (<see cref="DecisionAccumulator.Nll"/>).</param>
/// <param name="Confusion">C x C counts, row = true class, column = predicted class.</param>
/// <param name="Seconds">Wall time.</param>
public sealed record EvaluationResult(int Samples, int Classes, double Accuracy, double Loss, int[] Confusion, double Seconds)
{
    /// <summary>The accuracy of the same pass under each decision reading (<see cref="Accuracy"/> is the one asked for).</summary>
    public DecisionAccuracies ByDecision { get; init; } = DecisionAccuracies.None;

    /// <summary>Samples per second.</summary>
    public double SamplesPerSecond => Seconds > 0 ? Samples / Seconds : 0;

    /// <summary>Samples of class <paramref name="c"/>.</summary>
    public int Support(int c)
    {
        int n = 0;
        for (int k = 0; k < Classes; k++)
        {
            n += Confusion[(c * Classes) + k];
        }

        return n;
    }

    /// <summary>Accuracy on the samples of class <paramref name="c"/> (NaN when there are none).</summary>
    public double ClassAccuracy(int c)
    {
        int n = Support(c);
        return n == 0 ? double.NaN : Confusion[(c * Classes) + c] / (double)n;
    }
}

/// <summary>Outcome of one training batch of an <see cref="ISequenceBatchLearner"/>.</summary>
/// <param name="Loss">Weighted mean of the chunk-end NLLs (NaN/Inf when diverged).</param>
/// <param name="Correct">Samples of the batch whose last-step argmax was the label.</param>
/// <param name="Updates">Optimiser steps applied.</param>
/// <param name="Diverged">True when the learner detected NaN/Inf.</param>
/// <param name="Complete">False when cancellation stopped the batch between chunks.</param>
public readonly record struct BatchOutcome(double Loss, int Correct, int Updates, bool Diverged, bool Complete);
