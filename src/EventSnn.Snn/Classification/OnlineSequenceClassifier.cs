using EventSnn.Snn.Internal;
namespace EventSnn.Snn.Classification;

/// <summary>
/// Streaming classification of labelled sequences (one stream, batch 1) with online learning
/// chunk by chunk as the time steps arrive, following the same <see cref="SequenceTrainerOptions"/>
/// recipe as offline training, with the recipe's method: FPTT (default), e-prop, OSTL or
/// truncated BPTT (an update every chunk), or BPTT (one update per sample, through the whole sample).
/// </summary>
/// <remarks>
/// Two copies of one model run side by side on every step:
/// <list type="bullet">
/// <item>the <b>decision</b> network holds the weights as they were when the sample began (by
/// default FPTT's running average W̄, the smoothed model the reference evaluates with, with the
/// learner's normalisation statistics) and decides through <see cref="SampleInference"/>, the same
/// routine as offline evaluation: the prediction is made before anything is learned from that
/// sample (prequential, "test then train");</item>
/// <item>the <b>learning</b> network learns at batch 1: the expected sample length is cut into
/// chunks of the recipe's length (BPTT: one chunk of the expected length); the loss sits at every
/// step or at chunk ends with the recipe's weighting over time (and oracle term); one optimiser
/// step per chunk; state carried across chunks without gradient (e-prop and OSTL carry their
/// eligibility traces through the whole sample). A sample longer than expected gets further
/// chunks of the same length (for BPTT: truncation at the expected length).</item>
/// </list>
/// Learning lags the decision path by one step so that the step which ends a sample (known
/// only when <see cref="EndSample"/> is called) can close the last chunk. A chunk whose loss is
/// NaN/Inf, or explodes by the <see cref="DivergenceGuard"/>'s rule (never an ordinary wrong
/// answer), rolls the learner back (FPTT: to its running average W̄; the other methods: to the
/// weights the sample began with, optimiser moments reset) and is counted in
/// <see cref="Divergences"/>. <see cref="EndEpoch"/> (the end of a pass) sets W ← W̄ (FPTT) and
/// moves the learning rate along the recipe's schedule. Nothing is allocated per step.
/// Decisions use W̄ only with FPTT; the other methods decide with W.
/// </remarks>
public sealed class OnlineSequenceClassifier
{
    private readonly Network<float> _learning;
    private readonly Network<float> _decision;
    private readonly Learner<float> _learner;
    private readonly FpttLearner<float>? _fptt;
    private readonly float[][] _sampleStart;
    private readonly Optimizer<float> _optimizer;
    private readonly NetworkState<float> _learnState;
    private readonly NetworkState<float> _initialState;
    private readonly SampleInference _inference;
    private readonly DivergenceGuard _guard;
    private readonly float[] _pending;
    private readonly float[] _learnOut;
    private readonly float[] _oracle;
    private readonly int[] _label = new int[1];
    private int _t;
    private bool _hasPending;
    private int _truth = -1;
    private bool _learnThisSample;
    private double _sampleLoss;
    private int _sampleChunks;
    private double _chunkWeight;
    private int _epoch;
    private bool _decisionStale = true;

    /// <summary>Creates the classifier with freshly initialised weights.</summary>
    public OnlineSequenceClassifier(OnlineClassifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        SequenceTrainerOptions recipe = options.Recipe;
        _learning = new Network<float>(options.NetworkConfig);
        _decision = new Network<float>(options.NetworkConfig);
        _optimizer = recipe.Optimizer == OptimizerKind.Adamax
            ? new Adamax<float>(_learning.Parameters, recipe.LearningRateAt(0), weightDecay: recipe.WeightDecay)
            : new Adam<float>(_learning.Parameters, recipe.LearningRateAt(0), weightDecay: recipe.WeightDecay);
        int length = options.ChunkLength;
        double clip = recipe.GradientClip;
        _learner = recipe.Method switch
        {
            SequenceTrainingMethod.Fptt => _fptt = new FpttLearner<float>(_learning, _optimizer, new FpttOptions { Alpha = recipe.Alpha, Beta = recipe.Beta, GradientClip = clip }, batch: 1, length),
            SequenceTrainingMethod.Bptt => new BpttLearner<float>(_learning, _optimizer, 1, length, clip),
            SequenceTrainingMethod.Tbptt => new TruncatedBpttLearner<float>(_learning, _optimizer, 1, length, clip),
            SequenceTrainingMethod.Eprop => new EligibilityPropLearner<float>(_learning, _optimizer, 1, length, EpropFeedback.Symmetric, clip),
            _ => new OstlLearner<float>(_learning, _optimizer, 1, length, clip),
        };
        _learner.AutoUpdate = false; // chunk ends are this classifier's (TBPTT would otherwise update on its own when its tape fills)
        _learner.Diverged += _ => Divergences++;

        // the rollback point of the methods without a running average: the weights a sample began with
        _sampleStart = new float[_fptt is null ? _learning.Parameters.Count : 0][];
        for (int p = 0; p < _sampleStart.Length; p++)
        {
            _sampleStart[p] = new float[_learning.Parameters[p].Length];
        }

        _initialState = _learning.CreateState(1, new SnnRandom(SampleInference.InitialStateSeed(_learning.Config)));
        _learnState = _learning.CreateState(1);
        _inference = new SampleInference(_decision, recipe.Decision);
        _guard = new DivergenceGuard(options.Classes, recipe.ExplodingLossFactor);
        _pending = new float[options.Inputs];
        _learnOut = new float[options.Classes];
        _oracle = new float[options.Classes];
        Array.Fill(_oracle, 1f / options.Classes);
        _decision.CopyFrom(_learning);
    }

    /// <summary>The configuration.</summary>
    public OnlineClassifierOptions Options { get; }

    /// <summary>The learning network (its weights are the model).</summary>
    public Network<float> Network => _learning;

    /// <summary>The learner of the recipe's method.</summary>
    public Learner<float> Learner => _learner;

    /// <summary>The FPTT learner (W̄, λ); null for the other methods.</summary>
    public FpttLearner<float>? Fptt => _fptt;

    /// <summary>The optimiser.</summary>
    public Optimizer<float> Optimizer => _optimizer;

    /// <summary>Whether labelled samples are learned from (default true).</summary>
    public bool Learning { get; set; } = true;

    /// <summary>Chunk updates applied so far.</summary>
    public long Updates { get; private set; }

    /// <summary>Divergences detected and rolled back (NaN/Inf or exploding loss).</summary>
    public int Divergences { get; private set; }

    /// <summary>Samples decided so far.</summary>
    public long Samples { get; private set; }

    /// <summary>Passes completed (<see cref="EndEpoch"/> calls).</summary>
    public int Epochs => _epoch;

    /// <summary>True between <see cref="BeginSample"/> and <see cref="EndSample"/>.</summary>
    public bool InSample { get; private set; }

    /// <summary>Steps of the current sample so far.</summary>
    public int StepsInSample => _t;

    /// <summary>Starts a sample; <paramref name="truth"/> is its class when known (learning needs it), else -1.</summary>
    public void BeginSample(int truth = -1)
    {
        using DenormalScope flush = DenormalScope.Enter();
        if (truth >= Options.Classes)
        {
            throw new ArgumentOutOfRangeException(nameof(truth), $"class {truth} >= {Options.Classes} classes");
        }

        if (InSample)
        {
            EndSample();
        }

        if (_decisionStale)
        {
            SyncDecisionWeights();
        }

        // every sample starts from the same (seeded) initial state, so a decision depends only
        // on the weights and the sample, not on what was replayed before
        _inference.Begin();
        _initialState.CopyTo(_learnState);
        _truth = truth;
        _learnThisSample = Learning && truth >= 0;
        if (_learnThisSample && _fptt is null)
        {
            ParameterSet<float> ps = _learning.Parameters;
            for (int p = 0; p < ps.Count; p++)
            {
                ps[p].Data.CopyTo(_sampleStart[p], 0);
            }
        }

        _t = 0;
        _hasPending = false;
        _sampleLoss = 0;
        _sampleChunks = 0;
        _chunkWeight = 0;
        InSample = true;
    }

    /// <summary>Feeds one dense time step (the preprocessing chain's values, one per input).</summary>
    public void Step(ReadOnlySpan<float> values)
    {
        using DenormalScope flush = DenormalScope.Enter();
        if (!InSample)
        {
            throw new InvalidOperationException("call BeginSample first");
        }

        if (values.Length != Options.Inputs)
        {
            throw new ArgumentException($"step has {values.Length} values, the model takes {Options.Inputs}", nameof(values));
        }

        _inference.Step(values);
        if (_learnThisSample)
        {
            if (_hasPending)
            {
                LearnPending(isLast: false);
            }

            values.CopyTo(_pending);
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

        int label = _inference.Decide();
        double confidence = _inference.Confidence();
        decided?.Invoke(new SampleDecision(label, confidence, _truth, _t, 0));
        if (_learnThisSample && _hasPending)
        {
            LearnPending(isLast: true);
        }

        InSample = false;
        Samples++;
        return new SampleDecision(label, confidence, _truth, _t, _sampleChunks == 0 ? 0 : _sampleLoss / _sampleChunks);
    }

    /// <summary>End of a pass over a dataset: FPTT's W ← W̄, and the next pass's learning rate from the recipe's schedule.</summary>
    public void EndEpoch()
    {
        _fptt?.EndEpoch();
        _decisionStale = true;
        _epoch++;
        _optimizer.LearningRate = Options.Recipe.LearningRateAt(Math.Min(_epoch, Options.Recipe.Epochs - 1));
    }

    /// <summary>Saves model, optimiser and (FPTT) W̄ and λ atomically.</summary>
    public void Save(string path)
    {
        using IDisposable recipe = Checkpoint.AttachMetadata(SequenceTrainerOptions.CheckpointKey, Options.Recipe.ToJson());
        Checkpoint.Save(path, _learning, _optimizer, _fptt);
    }

    /// <summary>
    /// Loads a checkpoint written by <see cref="Save"/> (validates version and shapes): weights,
    /// FPTT state and the optimiser's moments. The learning rate stays this classifier's (its
    /// recipe's schedule at its epoch), not the rate the checkpoint's schedule had decayed to: a
    /// model trained with a cosine schedule ends near zero and would otherwise learn nothing online.
    /// An FPTT classifier loading a checkpoint trained by another method (no W̄, λ in it) starts its
    /// average at the loaded weights (W̄ = W, λ = 0).
    /// </summary>
    public void Load(string path)
    {
        bool average = _fptt is not null && Checkpoint.Read(path).Meta["fptt"] is not null;
        Checkpoint.Load(path, _learning, _optimizer, average ? _fptt : null);
        _optimizer.LearningRate = Options.Recipe.LearningRateAt(Math.Min(_epoch, Math.Max(1, Options.Recipe.Epochs) - 1));
        if (_fptt is not null)
        {
            if (!average)
            {
                _fptt.ResetAverage();
            }

            _fptt.Resynchronize();
        }

        SyncDecisionWeights();
    }

    /// <summary>
    /// A new network holding the weights decisions are made with (W̄ when
    /// <see cref="OnlineClassifierOptions.DecideWithAverage"/>), with the normalisation statistics:
    /// a frozen copy that inference (<see cref="Network{T}.Step"/>, <see cref="SampleInference"/>)
    /// may share between streams, each with its own state. Not while a sample is in progress.
    /// </summary>
    public Network<float> CreateDecisionNetwork()
    {
        if (InSample)
        {
            throw new InvalidOperationException("a sample is in progress");
        }

        SyncDecisionWeights();
        var copy = new Network<float>(Options.NetworkConfig);
        copy.CopyFrom(_decision);
        return copy;
    }

    /// <summary>Copies the weights decisions are made with (W̄ or W, and the normalisation statistics) into the decision network; done at a sample's start only after something was learned or loaded.</summary>
    private void SyncDecisionWeights()
    {
        _decisionStale = false;
        _decision.CopyFrom(_learning);
        if (Options.DecideWithAverage && _fptt is not null)
        {
            ParameterSet<float> target = _decision.Parameters;
            for (int p = 0; p < target.Count; p++)
            {
                _fptt.GetAverage(p).CopyTo(target[p].Data, 0);
                target[p].MarkChanged();
            }
        }
    }

    private void LearnPending(bool isLast)
    {
        // step _t - 1 of the sample (the pending one); chunk boundaries follow the expected length
        int t = _t - 1;
        int length = Options.ChunkLength;
        int chunk = t / length;
        bool chunkEnd = isLast || (t + 1) % length == 0;
        (double weight, double oracle) = LossWeights(t, chunk, chunkEnd);
        _chunkWeight += weight;
        _label[0] = _truth;
        _decisionStale = true; // the learner's state (weights, W̄, statistics) moves from here on
        var target = weight == 0 && oracle == 0 ? default : new StepTarget<float>(_label, weight, Options.Recipe.Oracle ? _oracle : default, oracle);
        _learner.Observe(StepInput.Dense<float>(_pending), target, _learnState, _learnOut);
        if (!chunkEnd)
        {
            return;
        }

        ChunkReport report = _learner.EndChunk();
        Updates += report.Updated ? 1 : 0;
        double meanLoss = _chunkWeight > 0 ? report.Loss / _chunkWeight : 0;
        _chunkWeight = 0;
        if (report.Diverged)
        {
            _guard.Count();
            return;
        }

        if (_guard.IsDivergence(meanLoss))
        {
            // a real explosion (never an ordinary wrong answer): roll back and say so
            RollBack();
            Divergences++;
            _initialState.CopyTo(_learnState);
            return;
        }

        _sampleLoss += meanLoss;
        _sampleChunks++;
    }

    /// <summary>
    /// Loss weights of step t per the recipe (<see cref="LossSchedule"/>, as offline): the sample's
    /// length is unknown while it streams, so progress counts against the expected steps (capped at
    /// 1) and a chunk spans its nominal length until the sample's end closes it.
    /// </summary>
    private (double Weight, double Oracle) LossWeights(int t, int chunk, bool chunkEnd)
    {
        SequenceTrainerOptions r = Options.Recipe;
        int length = Options.ChunkLength;
        int start = chunk * length;
        int end = r.Loss == LossPlacement.EveryStep ? start + length : chunkEnd ? t + 1 : start + length;
        int steps = Math.Max(Options.Steps, t + 1);
        int chunks = Math.Max(Options.Chunks, chunk + 1);
        return LossSchedule.Weights(r.Loss, r.Weighting, r.Oracle, r.Method, steps, t, chunk, chunks, start, end);
    }

    /// <summary>FPTT: W ← W̄, λ ← 0; the other methods: the weights the sample began with. Optimiser moments reset.</summary>
    private void RollBack()
    {
        if (_fptt is not null)
        {
            _fptt.RestoreAverage();
            return;
        }

        ParameterSet<float> ps = _learning.Parameters;
        for (int p = 0; p < ps.Count; p++)
        {
            _sampleStart[p].CopyTo(ps[p].Data, 0);
            Array.Clear(ps[p].Grad);
            ps[p].MarkChanged();
        }

        _optimizer.ResetState();
        if (_learner is TraceLearner<float> traces)
        {
            traces.ResetTraces();
        }
    }
}
