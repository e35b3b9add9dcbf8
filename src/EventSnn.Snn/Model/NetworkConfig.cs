using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventSnn.Snn;

/// <summary>Neuron model of a recurrent layer.</summary>
public enum NeuronModel
{
    /// <summary>Liquid-time-constant spiking neuron (input- and state-dependent rates, hard reset).</summary>
    Ltc,

    /// <summary>Adaptive LIF with fixed learned time constants and soft reset.</summary>
    Alif,

    /// <summary>LIF with a learned membrane time constant, fixed threshold and soft reset.</summary>
    Lif,
}

/// <summary>Kind of readout head.</summary>
public enum ReadoutKind
{
    /// <summary>Leaky integrator over the last layer's spikes (classification via log_softmax).</summary>
    Leaky,

    /// <summary>Linear map of the last layer's membrane potential (regression, e.g. the adding task).</summary>
    Membrane,

    /// <summary>Leaky integrator whose rate is an LTC-like gate of its input and state (the reference's S-MNIST head; classification via log_softmax).</summary>
    Liquid,
}

/// <summary>How a fresh state is initialised.</summary>
public enum InitialStateMode
{
    /// <summary>u ~ U[0,1), s = 0, b = b0 (the reference's default).</summary>
    Reference,

    /// <summary>u = 0, s = 0, b = 0 (the adding-task model).</summary>
    Zero,
}

/// <summary>Parameter initialisation scheme.</summary>
public enum InitializationScheme
{
    /// <summary>Reference §1: Xavier-uniform input and gate weights, orthogonal W_rec, zero biases.</summary>
    Reference,

    /// <summary>
    /// PyTorch's nn.Linear default as in the authors' adding-task model, whose input and recurrent
    /// weights are one Linear over [x ; s]: W_in, W_rec, bias ~ U(±1/√(D+N)); gate weights and
    /// biases ~ U(±1/√(2N)); readout weight Xavier-normal, bias U(±1/√N). Time constants as configured.
    /// </summary>
    TorchDefault,
}

/// <summary>Normalisation of a layer's feed-forward input current W_in x.</summary>
public enum InputNormKind
{
    /// <summary>No normalisation.</summary>
    None,

    /// <summary>
    /// Per neuron, (a − μ) / √(σ² + ε) with running estimates μ, σ² (exponential averages over the
    /// training steps, frozen outside learning), then a learned gain: works at batch 1 while streaming,
    /// the same in training and inference.
    /// </summary>
    Running,

    /// <summary>Layer norm: per stream and step over the layer's neurons, then a learned gain.</summary>
    Layer,

    /// <summary>
    /// Per-timestep batch norm (offline training, as the reference's S-MNIST model): per neuron over
    /// the batch at each step during training, with running statistics per timestep for inference
    /// (timesteps beyond <see cref="LayerConfig.NormSteps"/> use the last one's); needs batches of 2 or more.
    /// </summary>
    Batch,

    /// <summary>
    /// Per neuron and timestep, (a − μ_k) / √(σ²_k + ε) with running estimates per timestep k
    /// (exponential averages over the training batches' step k, constants for the gradient), used
    /// alike in training and inference, then a learned gain (timesteps beyond
    /// <see cref="LayerConfig.NormSteps"/> use the last one's). For samples of a fixed length: works
    /// at batch 1, and unlike <see cref="Running"/> its statistics do not follow the position within
    /// the sample during training (which then mismatches the frozen statistics of inference).
    /// </summary>
    Timestep,
}

/// <summary>Properties of the <see cref="InputNormKind"/> values.</summary>
public static class InputNormKinds
{
    /// <summary>
    /// True for the kinds with one set of statistics per timestep (<see cref="InputNormKind.Batch"/>,
    /// <see cref="InputNormKind.Timestep"/>): [NormSteps, N] buffers, offline only (samples of a fixed
    /// length), refused by streaming and by the trace learners.
    /// </summary>
    public static bool PerTimestep(this InputNormKind kind) => kind is InputNormKind.Batch or InputNormKind.Timestep;
}

/// <summary>Configuration of one recurrent layer.</summary>
public sealed record LayerConfig
{
    /// <summary>Neuron model.</summary>
    public NeuronModel Model { get; init; } = NeuronModel.Ltc;

    /// <summary>Number of neurons N.</summary>
    public int Size { get; init; } = 128;

    /// <summary>Whether the layer has recurrent weights W_rec (default true).</summary>
    public bool Recurrent { get; init; } = true;

    /// <summary>LTC only: sigmoid(k z) with a learnable scalar slope k per gate (initialised to 1).</summary>
    public bool LearnableSlope { get; init; }

    /// <summary>Normalisation of the feed-forward input current W_in x (default none).</summary>
    public InputNormKind InputNorm { get; init; } = InputNormKind.None;

    /// <summary>
    /// Normalise the recurrent current W_rec s_{t-1} as well, separately from W_in x: the same
    /// <see cref="InputNorm"/> kind (running or per-timestep running statistics), a gain of its own
    /// ("norm_rec.weight", initialised to <see cref="NormGain"/>) and statistics of its own, as the
    /// reference's S-MNIST model normalises both currents with per-timestep batch norm. Needs a
    /// recurrent layer with <see cref="InputNormKind.Running"/> or <see cref="InputNormKind.Timestep"/>.
    /// </summary>
    public bool RecurrentNorm { get; init; }

    /// <summary>Initial gain of the input normalisation (Cooijmans et al.'s recurrent batch norm uses 0.1).</summary>
    public double NormGain { get; init; } = 1.0;

    /// <summary>Update rate of the running statistics (running and batch normalisation) per training step.</summary>
    public double NormMomentum { get; init; } = 0.01;

    /// <summary>Batch normalisation: timesteps with statistics of their own.</summary>
    public int NormSteps { get; init; } = 1000;

    /// <summary>LTC: initial bias c_tau of the membrane gate (0: tau starts near 0.5; negative: slower membranes).</summary>
    public double TauBiasInit { get; init; }

    /// <summary>LTC: initial bias c_rho of the adaptation gate.</summary>
    public double RhoBiasInit { get; init; }

    /// <summary>Threshold baseline b0 (reference: 0.1).</summary>
    public double ThresholdBase { get; init; } = 0.1;

    /// <summary>Threshold adaptation strength beta in theta = b0 + beta b (reference: 1.8; 0 disables adaptation).</summary>
    public double ThresholdAdaptation { get; init; } = 1.8;

    /// <summary>ALIF/LIF: mean of the initial membrane time constant tau_m (steps).</summary>
    public double TauMembraneMean { get; init; } = 20.0;

    /// <summary>ALIF/LIF: standard deviation of the initial tau_m.</summary>
    public double TauMembraneStd { get; init; } = 5.0;

    /// <summary>ALIF: mean of the initial adaptation time constant tau_adp (steps).</summary>
    public double TauAdaptationMean { get; init; } = 200.0;

    /// <summary>ALIF: standard deviation of the initial tau_adp.</summary>
    public double TauAdaptationStd { get; init; } = 50.0;
}

/// <summary>Configuration of the readout head.</summary>
public sealed record ReadoutConfig
{
    /// <summary>Kind of head.</summary>
    public ReadoutKind Kind { get; init; } = ReadoutKind.Leaky;

    /// <summary>Number of outputs C (classes, or regression targets).</summary>
    public int Size { get; init; } = 10;

    /// <summary>
    /// Normalisation of the head's current W_o s_t before its gain and bias, z_t = γ_o ⊙ norm(W_o s_t) + c_o
    /// (leaky and liquid heads; the reference's S-MNIST head batch-normalises it per timestep):
    /// <see cref="InputNormKind.None"/> (default), <see cref="InputNormKind.Running"/> (one set of running
    /// statistics, works at batch 1) or <see cref="InputNormKind.Timestep"/> (a set per timestep, offline);
    /// the statistics are constants for the gradient, as in the layers.
    /// </summary>
    public InputNormKind Norm { get; init; } = InputNormKind.None;

    /// <summary>Initial gain γ_o of the normalisation ("readout.norm.weight").</summary>
    public double NormGain { get; init; } = 1.0;

    /// <summary>Update rate of the running statistics per training step.</summary>
    public double NormMomentum { get; init; } = 0.01;

    /// <summary><see cref="InputNormKind.Timestep"/>: timesteps with statistics of their own (later ones use the last set).</summary>
    public int NormSteps { get; init; } = 1000;
}

/// <summary>
/// Configuration of a network: input size, the stack of recurrent layers and the readout.
/// Serialised as JSON into checkpoints; two configurations describe the same parameter
/// layout exactly when <see cref="LayoutKey"/> is equal.
/// </summary>
public sealed record NetworkConfig
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        WriteIndented = false,
    };

    /// <summary>Input dimension D of the first layer.</summary>
    public int InputSize { get; init; } = 2;

    /// <summary>Recurrent layers, input side first.</summary>
    public IReadOnlyList<LayerConfig> Layers { get; init; } = [new LayerConfig()];

    /// <summary>Readout head.</summary>
    public ReadoutConfig Readout { get; init; } = new();

    /// <summary>
    /// Dropout on spikes during training: each spike a layer passes up (to the next layer and to
    /// the readout) is dropped with this probability and the kept ones scaled by 1/(1 − p); the
    /// recurrence sees the undropped spikes, inference uses no dropout.
    /// </summary>
    public double Dropout { get; init; }

    /// <summary>Initial-state convention for fresh states.</summary>
    public InitialStateMode InitialState { get; init; } = InitialStateMode.Reference;

    /// <summary>Initialisation scheme.</summary>
    public InitializationScheme Initialization { get; init; } = InitializationScheme.Reference;

    /// <summary>Seed of the parameter initialisation.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Checks sizes; throws <see cref="ArgumentException"/> naming the bad field.</summary>
    public void Validate()
    {
        if (InputSize < 1)
        {
            throw new ArgumentException($"InputSize must be >= 1 (is {InputSize})");
        }

        if (Layers is null || Layers.Count == 0)
        {
            throw new ArgumentException("at least one layer is required");
        }

        for (int i = 0; i < Layers.Count; i++)
        {
            if (Layers[i].Size < 1)
            {
                throw new ArgumentException($"Layers[{i}].Size must be >= 1 (is {Layers[i].Size})");
            }

            if (Layers[i].NormSteps < 1)
            {
                throw new ArgumentException($"Layers[{i}].NormSteps must be >= 1 (is {Layers[i].NormSteps})");
            }

            if (!(Layers[i].NormMomentum >= 0 && Layers[i].NormMomentum <= 1))
            {
                throw new ArgumentException($"Layers[{i}].NormMomentum must be in [0, 1] (is {Layers[i].NormMomentum})");
            }

            if (Layers[i].RecurrentNorm && !(Layers[i].Recurrent && Layers[i].InputNorm is InputNormKind.Running or InputNormKind.Timestep))
            {
                throw new ArgumentException($"Layers[{i}].RecurrentNorm needs a recurrent layer with running or timestep normalisation (InputNorm is {Layers[i].InputNorm}{(Layers[i].Recurrent ? string.Empty : ", the layer is feed-forward")})");
            }
        }

        if (!(Dropout >= 0 && Dropout < 1))
        {
            throw new ArgumentException($"Dropout must be in [0, 1) (is {Dropout})");
        }

        if (Readout is null || Readout.Size < 1)
        {
            throw new ArgumentException("Readout.Size must be >= 1");
        }

        if (Readout.Norm != InputNormKind.None)
        {
            if (Readout.Norm is not (InputNormKind.Running or InputNormKind.Timestep))
            {
                throw new ArgumentException($"Readout.Norm must be None, Running or Timestep (is {Readout.Norm})");
            }

            if (Readout.Kind == ReadoutKind.Membrane)
            {
                throw new ArgumentException("Readout.Norm normalises the current of a leaky or liquid head, not of the membrane readout");
            }

            if (Readout.NormSteps < 1)
            {
                throw new ArgumentException($"Readout.NormSteps must be >= 1 (is {Readout.NormSteps})");
            }

            if (!(Readout.NormMomentum >= 0 && Readout.NormMomentum <= 1))
            {
                throw new ArgumentException($"Readout.NormMomentum must be in [0, 1] (is {Readout.NormMomentum})");
            }
        }
    }

    /// <summary>JSON text of this configuration.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses a configuration written by <see cref="ToJson"/>.</summary>
    public static NetworkConfig FromJson(string json) =>
        JsonSerializer.Deserialize<NetworkConfig>(json, Json) ?? throw new JsonException("empty network configuration");

    /// <summary>
    /// A string identifying the parameter layout (models, sizes, recurrence, slopes, readout),
    /// independent of the initialisation seed and of non-structural constants.
    /// </summary>
    public string LayoutKey()
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("in=").Append(InputSize);
        foreach (LayerConfig l in Layers)
        {
            sb.Append(';').Append(l.Model).Append(':').Append(l.Size).Append(l.Recurrent ? ":rec" : ":ff").Append(l.LearnableSlope ? ":k" : string.Empty);
            if (l.InputNorm != InputNormKind.None)
            {
                sb.Append(":norm=").Append(l.InputNorm);
            }

            if (l.InputNorm.PerTimestep())
            {
                sb.Append(":steps=").Append(l.NormSteps);
            }

            if (l.RecurrentNorm)
            {
                sb.Append(":normrec");
            }
        }

        sb.Append(";readout=").Append(Readout.Kind).Append(':').Append(Readout.Size);
        if (Readout.Norm != InputNormKind.None)
        {
            sb.Append(":norm=").Append(Readout.Norm);
            if (Readout.Norm.PerTimestep())
            {
                sb.Append(":steps=").Append(Readout.NormSteps);
            }
        }

        return sb.ToString();
    }
}
