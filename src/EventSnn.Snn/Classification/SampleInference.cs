using EventSnn.Transforms;
using EventSnn.Snn.Internal;
namespace EventSnn.Snn.Classification;

/// <summary>
/// The one inference routine of a sample (batch 1): the state starts from the network's
/// seeded initial state (<see cref="InitialStateSeed"/>), every step's readout feeds a
/// <see cref="DecisionAccumulator"/>, and the decision is read per <see cref="DecisionReadout"/>.
/// Offline evaluation, the streaming classifier's decisions and classify all run through it, so
/// a sample gets bit-identical decisions whichever path classifies it. Nothing is allocated per step.
/// </summary>
public sealed class SampleInference
{
    private readonly NetworkState<float> _state;
    private readonly NetworkState<float> _initial;
    private readonly float[] _output;
    private readonly DecisionAccumulator _decisions;

    /// <summary>Creates the routine for <paramref name="network"/> (its weights are read at every step).</summary>
    public SampleInference(Network<float> network, DecisionReadout decision)
    {
        ArgumentNullException.ThrowIfNull(network);
        Network = network;
        _initial = network.CreateState(1, new SnnRandom(InitialStateSeed(network.Config)));
        _state = network.CreateState(1);
        _output = new float[network.OutputSize];
        _decisions = new DecisionAccumulator(decision, 1, network.OutputSize);
        Begin();
    }

    /// <summary>The network.</summary>
    public Network<float> Network { get; }

    /// <summary>How the decision is read.</summary>
    public DecisionReadout Decision => _decisions.Mode;

    /// <summary>Steps of the current sample.</summary>
    public int Steps => _decisions.Steps;

    /// <summary>The last step's readout (C values).</summary>
    public ReadOnlySpan<float> Output => _output;

    /// <summary>Seed of the initial state every sample starts from (u ~ U[0,1) drawn once per network seed).</summary>
    public static long InitialStateSeed(NetworkConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Seed ^ 0x5EED;
    }

    /// <summary>Starts a sample from the initial state.</summary>
    public void Begin()
    {
        _initial.CopyTo(_state);
        _decisions.Reset();
        Array.Clear(_output);
    }

    /// <summary>Advances by one dense step (one value per input).</summary>
    public void Step(ReadOnlySpan<float> values)
    {
        using DenormalScope flush = DenormalScope.Enter();
        Network.Step(StepInput.Dense(values), _state, _output);
        _decisions.Add(_output, 1);
    }

    /// <summary>The decided class (-1 before the first step).</summary>
    public int Decide() => _decisions.Steps == 0 ? -1 : _decisions.Decide(0);

    /// <summary>Confidence of the decision (1/C before the first step).</summary>
    public double Confidence() => _decisions.Steps == 0 ? 1.0 / Network.OutputSize : _decisions.Confidence(0);

    /// <summary>NLL of <paramref name="label"/> under the decision's reading.</summary>
    public double Nll(int label) => _decisions.Nll(0, label);

    /// <summary>Runs a whole sample and returns its decided class.</summary>
    public int Classify(ILabelledSequence sample, float[] scratch) => Classify(sample, scratch, []);

    /// <summary>
    /// Runs a whole sample and returns its decided class; every step's readout also goes to each
    /// accumulator of <paramref name="alongside"/> (reset first, batch 1), to read the same sample
    /// other ways in the same pass.
    /// </summary>
    public int Classify(ILabelledSequence sample, float[] scratch, ReadOnlySpan<DecisionAccumulator> alongside)
    {
        using DenormalScope flush = DenormalScope.Enter();
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(scratch);
        Begin();
        foreach (DecisionAccumulator a in alongside)
        {
            a.Reset();
        }

        for (int t = 0; t < sample.Steps; t++)
        {
            Array.Clear(scratch);
            ReadOnlySpan<int> idx = sample.ActiveAt(t);
            ReadOnlySpan<float> val = sample.ValuesAt(t);
            for (int i = 0; i < idx.Length; i++)
            {
                scratch[idx[i]] = val[i];
            }

            Step(scratch);
            foreach (DecisionAccumulator a in alongside)
            {
                a.Add(_output, 1);
            }
        }

        return Decide();
    }
}
