namespace EventSnn.Snn.Classification;

/// <summary>
/// Streaming classification of labelled sequences (one stream, batch 1) with online FPTT
/// learning chunk by chunk as the time steps arrive.
/// </summary>
/// <remarks>
/// Two copies of one model run side by side on every step:
/// <list type="bullet">
/// <item>the <b>decision</b> network holds the weights as they were when the sample began (by
/// default FPTT's running average W̄, the smoothed model the reference evaluates with) and
/// makes the sample's decision from its last step's readout — the prediction is made before
/// anything is learned from that sample (prequential, "test then train");</item>
/// <item>the <b>learning</b> network runs FPTT: the sample's expected length is cut into K chunks;
/// the last step of chunk p carries the cross-entropy against the truth with weight
/// min(1, (p + 1) / K) (the reference's simple (p/P)·CE form); one optimiser step per chunk;
/// state carried across chunks without gradient.</item>
/// </list>
/// Learning lags the decision path by one step so that the step which ends a sample (known
/// only when <see cref="EndSample"/> is called) can close the last chunk. A NaN/Inf or an
/// exploding chunk loss rolls the learner back to its running average W̄ and is counted in
/// <see cref="Divergences"/>. Nothing is allocated per step.
/// </remarks>
public sealed class OnlineSequenceClassifier
{
    private readonly Network<float> _learning;
    private readonly Network<float> _decision;
    private readonly FpttLearner<float> _learner;
    private readonly Adam<float> _optimizer;
    private readonly NetworkState<float> _learnState;
    private readonly NetworkState<float> _decisionState;
    private readonly float[] _input;
    private readonly float[] _pending;
    private readonly float[] _decisionOut;
    private readonly float[] _learnOut;
    private readonly int[] _label = new int[1];
    private readonly SnnRandom _random;
    private int _t;
    private bool _hasPending;
    private int _truth = -1;
    private bool _learnThisSample;
    private double _sampleLoss;
    private int _sampleChunks;
    private double _meanLoss;
    private long _chunks;

    /// <summary>Creates the classifier with freshly initialised weights.</summary>
    public OnlineSequenceClassifier(OnlineClassifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _learning = new Network<float>(options.NetworkConfig);
        _decision = new Network<float>(options.NetworkConfig);
        _optimizer = new Adam<float>(_learning.Parameters, options.LearningRate);
        _learner = new FpttLearner<float>(_learning, _optimizer, new FpttOptions { Alpha = options.Alpha, Beta = options.Beta, GradientClip = options.GradientClip }, batch: 1, options.ChunkLength);
        _learner.Diverged += _ => Divergences++;
        _random = new SnnRandom(options.Seed ^ 0x5EED);
        _learnState = _learning.CreateState(1, _random);
        _decisionState = _decision.CreateState(1, _random);
        _input = new float[options.Inputs];
        _pending = new float[options.Inputs];
        _decisionOut = new float[options.Classes];
        _learnOut = new float[options.Classes];
        _decision.CopyFrom(_learning);
    }

    /// <summary>The configuration.</summary>
    public OnlineClassifierOptions Options { get; }

    /// <summary>The learning network (its weights are the model).</summary>
    public Network<float> Network => _learning;

    /// <summary>The FPTT learner (W̄, λ).</summary>
    public FpttLearner<float> Learner => _learner;

    /// <summary>Whether labelled samples are learned from (default true).</summary>
    public bool Learning { get; set; } = true;

    /// <summary>Chunk updates applied so far.</summary>
    public long Updates => _chunks;

    /// <summary>Divergences detected and rolled back (NaN/Inf or exploding loss).</summary>
    public int Divergences { get; private set; }

    /// <summary>Samples decided so far.</summary>
    public long Samples { get; private set; }

    /// <summary>True between <see cref="BeginSample"/> and <see cref="EndSample"/>.</summary>
    public bool InSample { get; private set; }

    /// <summary>Steps of the current sample so far.</summary>
    public int StepsInSample => _t;

    /// <summary>Starts a sample; <paramref name="truth"/> is its class when known (learning needs it), else -1.</summary>
    public void BeginSample(int truth = -1)
    {
        if (truth >= Options.Classes)
        {
            throw new ArgumentOutOfRangeException(nameof(truth), $"class {truth} >= {Options.Classes} classes");
        }

        if (InSample)
        {
            EndSample();
        }

        SyncDecisionWeights();

        // every sample starts from the same (seeded) initial state, so a decision depends only
        // on the weights and the sample, not on what was replayed before
        _random.Reseed(Options.Seed ^ 0x5EED);
        _learning.ResetState(_learnState, _random);
        _random.Reseed(Options.Seed ^ 0x5EED);
        _decision.ResetState(_decisionState, _random);
        _truth = truth;
        _learnThisSample = Learning && truth >= 0;
        _t = 0;
        _hasPending = false;
        _sampleLoss = 0;
        _sampleChunks = 0;
        InSample = true;
    }

    /// <summary>Feeds one dense time step (event counts or rates, one value per input).</summary>
    public void Step(ReadOnlySpan<float> values)
    {
        if (!InSample)
        {
            throw new InvalidOperationException("call BeginSample first");
        }

        if (values.Length != Options.Inputs)
        {
            throw new ArgumentException($"step has {values.Length} values, the model takes {Options.Inputs}", nameof(values));
        }

        if (Options.Log1pInputs)
        {
            for (int i = 0; i < values.Length; i++)
            {
                float v = values[i];
                _input[i] = v <= 0 ? 0 : MathF.Log(1 + v);
            }
        }
        else
        {
            values.CopyTo(_input);
        }

        _decision.Step(StepInput.Dense<float>(_input), _decisionState, _decisionOut);
        if (_learnThisSample)
        {
            if (_hasPending)
            {
                LearnPending(isLast: false);
            }

            _input.CopyTo(_pending, 0);
            _hasPending = true;
        }

        _t++;
    }

    /// <summary>
    /// Ends the sample: returns the decision (made with the weights from before the sample)
    /// and finishes learning on it.
    /// </summary>
    /// <param name="decided">Called with the decision as soon as it is made, before the learning on the sample finishes (for latency measurement and early output).</param>
    public SampleDecision EndSample(Action<SampleDecision>? decided = null)
    {
        if (!InSample)
        {
            throw new InvalidOperationException("no sample in progress");
        }

        int best = 0;
        float max = _decisionOut[0];
        for (int c = 1; c < _decisionOut.Length; c++)
        {
            if (_decisionOut[c] > max)
            {
                max = _decisionOut[c];
                best = c;
            }
        }

        double sum = 0;
        for (int c = 0; c < _decisionOut.Length; c++)
        {
            sum += Math.Exp(_decisionOut[c] - max);
        }

        double confidence = _t == 0 ? 1.0 / Options.Classes : 1.0 / sum;
        decided?.Invoke(new SampleDecision(_t == 0 ? -1 : best, confidence, _truth, _t, 0));
        if (_learnThisSample && _hasPending)
        {
            LearnPending(isLast: true);
        }

        InSample = false;
        Samples++;
        return new SampleDecision(_t == 0 ? -1 : best, confidence, _truth, _t, _sampleChunks == 0 ? 0 : _sampleLoss / _sampleChunks);
    }

    /// <summary>End of a pass over a dataset: FPTT's W ← W̄.</summary>
    public void EndEpoch() => _learner.EndEpoch();

    /// <summary>Saves model, optimiser and FPTT state atomically.</summary>
    public void Save(string path) => Checkpoint.Save(path, _learning, _optimizer, _learner);

    /// <summary>Loads a checkpoint written by <see cref="Save"/> (validates version and shapes).</summary>
    public void Load(string path)
    {
        Checkpoint.Load(path, _learning, _optimizer, _learner);
        SyncDecisionWeights();
    }

    private void SyncDecisionWeights()
    {
        if (Options.DecideWithAverage)
        {
            ParameterSet<float> target = _decision.Parameters;
            for (int p = 0; p < target.Count; p++)
            {
                _learner.GetAverage(p).CopyTo(target[p].Data, 0);
                target[p].MarkChanged();
            }
        }
        else
        {
            _decision.CopyFrom(_learning);
        }
    }

    private void LearnPending(bool isLast)
    {
        // step _t - 1 of the sample (the pending one); chunk boundaries follow the expected length
        int t = _t - 1;
        int chunkLength = Options.ChunkLength;
        int chunk = t / chunkLength;
        bool chunkEnd = isLast || (t + 1) % chunkLength == 0;
        double weight = chunkEnd ? Math.Min(1.0, (chunk + 1.0) / Options.Chunks) : 0;
        _label[0] = _truth;
        _learner.Observe(StepInput.Dense<float>(_pending), new StepTarget<float>(_label, weight), _learnState, _learnOut);
        if (chunkEnd)
        {
            ChunkReport report = _learner.EndChunk();
            _chunks++;
            if (!report.Diverged && double.IsFinite(report.Loss))
            {
                if (_chunks > 20 && report.Loss > Options.ExplodingLossFactor * Math.Max(_meanLoss, 1e-3))
                {
                    // exploding: roll back to the running average and say so
                    _learner.RestoreAverage();
                    Divergences++;
                    _learning.ResetState(_learnState, _random);
                }
                else
                {
                    _meanLoss = _chunks == 1 ? report.Loss : (0.98 * _meanLoss) + (0.02 * report.Loss);
                    _sampleLoss += report.Loss;
                    _sampleChunks++;
                }
            }
        }
    }
}
