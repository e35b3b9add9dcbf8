using System.Text.Json.Nodes;

namespace EventSnn.Snn.Classification;

/// <summary>
/// <see cref="ISequenceBatchLearner"/> on the managed engine: <see cref="FpttLearner{T}"/> or
/// <see cref="BpttLearner{T}"/> with Adam. FPTT: the T steps of a batch run in chunks of L
/// steps; the last step of chunk p of P carries the NLL with weight (p + 1) / P; one update per
/// chunk, state carried across chunks without gradient. BPTT: the NLL at the last step, one
/// update per batch. Buffers are allocated once; nothing is allocated per step.
/// </summary>
public sealed class ManagedBatchLearner : ISequenceBatchLearner
{
    private readonly Network<float> _network;
    private readonly Optimizer<float> _optimizer;
    private readonly DecisionAccumulator _decisions;
    private readonly float[] _oracle;
    private readonly FpttLearner<float>? _fptt;
    private readonly Learner<float> _learner;
    private readonly NetworkState<float> _state;
    private readonly SnnRandom _random;
    private readonly float[] _output;
    private readonly float[][] _goodWeights;
    private readonly float[][] _goodAverage;

    /// <summary>Creates the network (initialised from the setup's seed) and its learner.</summary>
    public ManagedBatchLearner(SequenceLearnerSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        Setup = setup;
        _network = new Network<float>(setup.Network);
        _optimizer = setup.Optimizer == OptimizerKind.Adamax
            ? new Adamax<float>(_network.Parameters, setup.LearningRate, weightDecay: setup.WeightDecay)
            : new Adam<float>(_network.Parameters, setup.LearningRate, weightDecay: setup.WeightDecay);
        _decisions = new DecisionAccumulator(setup.Decision, setup.Batch, _network.OutputSize);
        _oracle = new float[setup.Batch * _network.OutputSize];
        Array.Fill(_oracle, 1f / _network.OutputSize);
        if (setup.Method == SequenceTrainingMethod.Fptt)
        {
            _fptt = new FpttLearner<float>(_network, _optimizer, setup.Fptt, setup.Batch, setup.ChunkLength);
            _learner = _fptt;
        }
        else
        {
            _learner = new BpttLearner<float>(_network, _optimizer, setup.Batch, setup.Steps, setup.GradientClip);
        }

        _random = new SnnRandom(setup.Seed);
        _state = _network.CreateState(setup.Batch, _random);
        _output = new float[setup.Batch * _network.OutputSize];
        ParameterSet<float> ps = _network.Parameters;
        _goodWeights = new float[ps.Count][];
        _goodAverage = new float[ps.Count][];
        for (int p = 0; p < ps.Count; p++)
        {
            _goodWeights[p] = new float[ps[p].Length];
            _goodAverage[p] = new float[ps[p].Length];
        }

        Snapshot();
    }

    /// <inheritdoc/>
    public string Backend => "managed";

    /// <inheritdoc/>
    public SequenceLearnerSetup Setup { get; }

    /// <summary>The network trained (its weights are W).</summary>
    public Network<float> Network => _network;

    /// <summary>The FPTT learner (null for BPTT).</summary>
    public FpttLearner<float>? Fptt => _fptt;

    /// <inheritdoc/>
    public double LearningRate
    {
        get => _optimizer.LearningRate;
        set => _optimizer.LearningRate = value;
    }

    /// <inheritdoc/>
    public BatchOutcome TrainBatch(float[] inputs, int[] labels, long stateSeed, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        int b = Setup.Batch, d = _network.InputSize, steps = Setup.Steps;
        if (inputs.Length != steps * b * d || labels.Length != b)
        {
            throw new ArgumentException($"a batch needs {steps} x {b} x {d} inputs and {b} labels");
        }

        _random.Reseed(stateSeed);
        _network.ResetState(_state, _random);
        int length = Setup.Method == SequenceTrainingMethod.Fptt ? Setup.ChunkLength : steps;
        int chunks = (steps + length - 1) / length;
        double loss = 0, weights = 0;
        int updates = 0;
        bool diverged = false, complete = true;
        _decisions.Reset();
        for (int p = 0; p < chunks && !diverged; p++)
        {
            int start = p * length, end = Math.Min(steps, start + length);
            double chunkWeight = 0;
            for (int t = start; t < end; t++)
            {
                (double weight, double oracle) = LossWeights(t, p, chunks, start, end);
                chunkWeight += weight;
                var target = weight == 0 && oracle == 0 ? default : new StepTarget<float>(labels, weight, Setup.Oracle ? _oracle : default, oracle);
                _learner.Observe(StepInput.Dense<float>(inputs.AsSpan(t * b * d, b * d)), target, _state, _output);
                _decisions.Add(_output, b);
            }

            ChunkReport r;
            try
            {
                r = _learner.EndChunk();
            }
            catch (InvalidOperationException)
            {
                // the FPTT guard found W̄ itself non-finite (weights overflowed in an earlier step): Rollback repairs it
                _learner.DiscardChunk();
                diverged = true;
                break;
            }

            loss += r.Loss;
            weights += chunkWeight;
            updates += r.Updated ? 1 : 0;
            diverged = r.Diverged || !double.IsFinite(r.Loss);
            if (p + 1 < chunks && cancellation.IsCancellationRequested)
            {
                complete = false;
                break;
            }
        }

        int correct = 0;
        if (!diverged && complete)
        {
            for (int k = 0; k < b; k++)
            {
                correct += _decisions.Decide(k) == labels[k] ? 1 : 0;
            }
        }

        return new BatchOutcome(diverged ? double.NaN : loss / Math.Max(weights, 1e-12), correct, updates, diverged, complete);
    }

    /// <inheritdoc/>
    public void EndEpoch() => _fptt?.EndEpoch();

    /// <summary>
    /// Loss weights of step <paramref name="t"/> (in chunk <paramref name="p"/> of
    /// <paramref name="chunks"/>, spanning [start, end)): the NLL weight and the oracle-term weight.
    /// </summary>
    private (double Weight, double Oracle) LossWeights(int t, int p, int chunks, int start, int end) =>
        LossSchedule.Weights(Setup.Loss, Setup.Weighting, Setup.Oracle, Setup.Method, Setup.Steps, t, p, chunks, start, end);

    /// <inheritdoc/>
    public bool Snapshot()
    {
        ParameterSet<float> ps = _network.Parameters;
        for (int p = 0; p < ps.Count; p++)
        {
            if (!AllFinite(ps[p].Data) || (_fptt is not null && !AllFinite(_fptt.GetAverage(p))))
            {
                return false;
            }
        }

        for (int p = 0; p < ps.Count; p++)
        {
            ps[p].Data.CopyTo(_goodWeights[p], 0);
            _fptt?.GetAverage(p).CopyTo(_goodAverage[p], 0);
        }

        return true;
    }

    /// <inheritdoc/>
    public void Rollback()
    {
        _learner.DiscardChunk();
        ParameterSet<float> ps = _network.Parameters;
        for (int p = 0; p < ps.Count; p++)
        {
            if (_fptt is not null)
            {
                _goodAverage[p].CopyTo(_fptt.GetAverage(p), 0);
                _goodAverage[p].CopyTo(ps[p].Data, 0);
                Array.Clear(_fptt.GetLambda(p));
            }
            else
            {
                _goodWeights[p].CopyTo(ps[p].Data, 0);
            }

            ps[p].MarkChanged();
        }

        ps.ZeroGrad();
        _optimizer.ResetState();
        _fptt?.Resynchronize();
    }

    /// <inheritdoc/>
    public void ExportWeights(Network<float> target)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.CopyFrom(_network);
    }

    /// <summary>
    /// Saves atomically. A BPTT checkpoint also carries an FPTT state with W̄ = W and λ = 0, so
    /// that the streaming classifiers (which adapt with FPTT) load it like an FPTT one.
    /// </summary>
    public void Save(string path, JsonObject training) =>
        Checkpoint.Save(path, _network, _optimizer, _fptt ?? new FpttLearner<float>(_network, _optimizer, Setup.Fptt, 1, 1), training);

    /// <inheritdoc/>
    public CheckpointData Load(string path)
    {
        CheckpointData data = Checkpoint.Load(path, _network, _optimizer, _fptt);
        _fptt?.Resynchronize();
        Snapshot();
        return data;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    internal static bool AllFinite(ReadOnlySpan<float> values)
    {
        float sum = 0;
        foreach (float v in values)
        {
            sum += v * 0;
        }

        // any NaN or ±Inf makes v * 0 NaN
        return !float.IsNaN(sum);
    }

    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int c = 1; c < values.Length; c++)
        {
            if (values[c] > values[best])
            {
                best = c;
            }
        }

        return best;
    }
}
