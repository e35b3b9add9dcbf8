using System.Diagnostics;
using System.Text.Json.Nodes;

namespace EventSnn.Snn.Classification;

/// <summary>
/// Offline training of a one-layer spiking network (LTC by default) on labelled sequences, with
/// FPTT or BPTT through an <see cref="ISequenceBatchLearner"/> backend (managed by default).
/// </summary>
/// <remarks>
/// Per epoch: the training samples are shuffled (seeded), cut into batches of B (the last batch
/// is filled up with samples from the start of the shuffled order), densified into one
/// Steps x B x Inputs buffer (log(1 + x) of the values by default) and trained on. A batch
/// whose loss is NaN/Inf or exceeds <see cref="SequenceTrainerOptions.ExplodingLossFactor"/>
/// times max(running mean loss, ln C) is a divergence: the learner is rolled back
/// (<see cref="ISequenceBatchLearner.Rollback"/>) and the divergence is counted in the epoch's
/// metrics. After the epoch (FPTT: W ← W̄) the weights are evaluated on the test split with
/// <see cref="Evaluate"/> and, when a path is given, saved atomically as a checkpoint.
/// Cancellation stops training after the current chunk; the checkpoint is still saved.
/// </remarks>
public sealed class SequenceTrainer : IDisposable
{
    /// <summary>Batch size of <see cref="Evaluate"/> (fixed so that results do not depend on the training batch).</summary>
    public const int EvaluationBatch = 32;

    private readonly ISequenceBatchLearner _learner;
    private readonly Network<float> _evaluation;
    private readonly float[] _inputs;
    private readonly int[] _labels;
    private double _meanLoss = double.NaN;

    /// <summary>Creates the trainer on the managed engine for data of the given shape.</summary>
    public SequenceTrainer(SequenceTrainerOptions options, int inputs, int classes, int steps)
        : this(options, new ManagedBatchLearner(SequenceLearnerSetup.From(options, inputs, classes, steps)))
    {
    }

    /// <summary>Creates the trainer on the given backend (built from <see cref="SequenceLearnerSetup.From"/> of the same options); the trainer owns and disposes it.</summary>
    public SequenceTrainer(SequenceTrainerOptions options, ISequenceBatchLearner learner)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(learner);
        options.Validate();
        Options = options;
        _learner = learner;
        SequenceLearnerSetup s = learner.Setup;
        _evaluation = new Network<float>(s.Network);
        _inputs = new float[s.Steps * s.Batch * s.Network.InputSize];
        _labels = new int[s.Batch];
    }

    /// <summary>Settings.</summary>
    public SequenceTrainerOptions Options { get; }

    /// <summary>The backend.</summary>
    public ISequenceBatchLearner Learner => _learner;

    /// <summary>Input features per step.</summary>
    public int Inputs => _learner.Setup.Network.InputSize;

    /// <summary>Classes.</summary>
    public int Classes => _learner.Setup.Network.Readout.Size;

    /// <summary>Time steps per sequence.</summary>
    public int Steps => _learner.Setup.Steps;

    /// <summary>Epochs completed (including those of a resumed checkpoint).</summary>
    public int CompletedEpochs { get; private set; }

    /// <summary>Divergences detected and rolled back so far.</summary>
    public int Divergences { get; private set; }

    /// <summary>A managed network holding the current weights W (refreshed by every call).</summary>
    public Network<float> CurrentNetwork()
    {
        _learner.ExportWeights(_evaluation);
        return _evaluation;
    }

    /// <summary>
    /// Trains from epoch <see cref="CompletedEpochs"/> + 1 to <see cref="SequenceTrainerOptions.Epochs"/>.
    /// </summary>
    /// <param name="train">Training samples.</param>
    /// <param name="test">Test samples (evaluated after every epoch; may be empty).</param>
    /// <param name="checkpointPath">Where to save a checkpoint after every epoch and on interruption (null: none).</param>
    /// <param name="onEpoch">Called with every epoch's metrics (after the checkpoint is saved).</param>
    /// <param name="onProgress">Called after every training batch.</param>
    /// <param name="cancellation">Stops training after the current chunk.</param>
    public TrainingResult Train(IReadOnlyList<ILabelledSequence> train, IReadOnlyList<ILabelledSequence> test, string? checkpointPath = null, Action<EpochMetrics>? onEpoch = null, Action<TrainingProgress>? onProgress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        if (train.Count == 0)
        {
            throw new ArgumentException("no training samples", nameof(train));
        }

        CheckShapes(train, nameof(train));
        CheckShapes(test, nameof(test));
        var total = Stopwatch.StartNew();
        var epochs = new List<EpochMetrics>();
        int[] order = new int[train.Count];
        int b = _learner.Setup.Batch;
        int batches = (train.Count + b - 1) / b;
        long events = 0;
        for (int i = 0; i < train.Count; i++)
        {
            events += train[i].NonZeros;
        }

        double best = double.NaN, final = double.NaN;
        bool interrupted = false;
        while (CompletedEpochs < Options.Epochs && !interrupted)
        {
            int epoch = CompletedEpochs + 1;
            var sw = Stopwatch.StartNew();
            double lr = Options.LearningRateAt(epoch - 1);
            _learner.LearningRate = lr;

            // the shuffle of epoch e depends only on the seed and e (resumable)
            for (int i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }

            var random = new Random(unchecked((Options.Seed * 7919) + epoch));
            random.Shuffle(order);
            double lossSum = 0;
            int lossCount = 0, correct = 0, seen = 0, divergences = 0, updates = 0, done = 0;
            long eventsSeen = 0;
            for (int batch = 0; batch < batches; batch++)
            {
                if (cancellation.IsCancellationRequested)
                {
                    interrupted = true;
                    break;
                }

                for (int k = 0; k < b; k++)
                {
                    ILabelledSequence s = train[order[((batch * b) + k) % order.Length]];
                    _labels[k] = s.Label;
                    eventsSeen += s.NonZeros;
                }

                Fill(train, order, batch * b, _inputs);
                BatchOutcome r = _learner.TrainBatch(_inputs, _labels, (Options.Seed * 1_000_003L) + (epoch * 7919L) + batch, cancellation);
                updates += r.Updates;
                done++;
                if (IsDivergence(r.Loss) || !_learner.Snapshot())
                {
                    _learner.Rollback();
                    divergences++;
                    Divergences++;
                }
                else
                {
                    _meanLoss = double.IsNaN(_meanLoss) ? r.Loss : (0.9 * _meanLoss) + (0.1 * r.Loss);
                    if (r.Complete)
                    {
                        lossSum += r.Loss;
                        lossCount++;
                        correct += r.Correct;
                        seen += b;
                    }
                }

                onProgress?.Invoke(new TrainingProgress(epoch, batch + 1, batches, lossCount == 0 ? double.NaN : lossSum / lossCount));
                if (!r.Complete)
                {
                    interrupted = true;
                    break;
                }
            }

            double trainSeconds = sw.Elapsed.TotalSeconds;
            double testAccuracy = double.NaN, testLoss = double.NaN;
            if (!interrupted)
            {
                _learner.EndEpoch();
                CompletedEpochs = epoch;
                if (test.Count > 0)
                {
                    EvaluationResult e = Evaluate(CurrentNetwork(), test, Options.Log1pInputs, Options.Decision, cancellation);
                    testAccuracy = e.Accuracy;
                    testLoss = e.Loss;
                    final = testAccuracy;
                    best = double.IsNaN(best) ? testAccuracy : Math.Max(best, testAccuracy);
                }
            }

            if (checkpointPath is not null)
            {
                SaveCheckpoint(checkpointPath, interrupted);
            }

            var m = new EpochMetrics(
                epoch,
                lossCount == 0 ? double.NaN : lossSum / lossCount,
                seen == 0 ? double.NaN : correct / (double)seen,
                testAccuracy,
                testLoss,
                sw.Elapsed.TotalSeconds,
                trainSeconds > 0 ? done * b / trainSeconds : 0,
                trainSeconds > 0 ? eventsSeen / trainSeconds : 0,
                divergences,
                lr,
                updates,
                interrupted);
            epochs.Add(m);
            onEpoch?.Invoke(m);
        }

        return new TrainingResult(epochs, final, best, Divergences, interrupted, total.Elapsed.TotalSeconds);
    }

    /// <summary>Saves the learning state atomically with the training metadata ("training": epoch, method, interrupted, ...).</summary>
    public void SaveCheckpoint(string path, bool interrupted = false)
    {
        var training = new JsonObject
        {
            ["epoch"] = CompletedEpochs,
            ["method"] = Options.Method == SequenceTrainingMethod.Fptt ? "fptt" : "bptt",
            ["backend"] = _learner.Backend,
            ["batch"] = _learner.Setup.Batch,
            ["steps"] = _learner.Setup.Steps,
            ["chunk_length"] = _learner.Setup.ChunkLength,
            ["seed"] = Options.Seed,
            ["divergences"] = Divergences,
            ["interrupted"] = interrupted,
        };
        _learner.Save(path, training);
    }

    /// <summary>
    /// Resumes from a checkpoint written by <see cref="SaveCheckpoint"/> (weights, optimiser and
    /// FPTT state, completed epochs); throws <see cref="CheckpointException"/> when it does not fit.
    /// </summary>
    public void Resume(string path)
    {
        string want = Options.Method == SequenceTrainingMethod.Fptt ? "fptt" : "bptt";
        string? method = Checkpoint.Read(path).Meta["training"]?["method"]?.GetValue<string>();
        if (method is not null && method != want)
        {
            throw new CheckpointException(path, $"was written by {method.ToUpperInvariant()} training, not {want.ToUpperInvariant()}");
        }

        CheckpointData data = _learner.Load(path);

        CompletedEpochs = data.Meta["training"]?["epoch"]?.GetValue<int>() ?? 0;
        Divergences = data.Meta["training"]?["divergences"]?.GetValue<int>() ?? 0;
    }

    /// <summary>
    /// Accuracy, mean NLL and confusion of <paramref name="network"/> on <paramref name="samples"/>,
    /// the prediction taken from the last step's readout. Batches of <see cref="EvaluationBatch"/>
    /// start from initial states drawn from the network's seed, so the result depends only on
    /// the weights and the samples (their order included).
    /// </summary>
    public static EvaluationResult Evaluate(Network<float> network, IReadOnlyList<ILabelledSequence> samples, bool log1pInputs = true, DecisionReadout decision = DecisionReadout.Last, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(samples);
        var sw = Stopwatch.StartNew();
        int classes = network.OutputSize;
        int d = network.InputSize;
        var confusion = new int[classes * classes];
        if (samples.Count == 0)
        {
            return new EvaluationResult(0, classes, double.NaN, double.NaN, confusion, 0);
        }

        int steps = 0;
        foreach (ILabelledSequence s in samples)
        {
            if (s.Features != d)
            {
                throw new ArgumentException($"a sample has {s.Features} features, the network takes {d}", nameof(samples));
            }

            if ((uint)s.Label >= (uint)classes)
            {
                throw new ArgumentException($"label {s.Label} is outside the network's {classes} classes", nameof(samples));
            }

            steps = Math.Max(steps, s.Steps);
        }

        int b = Math.Min(EvaluationBatch, samples.Count);
        var random = new SnnRandom(network.Config.Seed ^ 0x7E57);
        NetworkState<float> state = network.CreateState(b, random);
        var x = new float[b * d];
        var output = new float[b * classes];
        var decisions = new DecisionAccumulator(decision, b, classes);
        int correct = 0, n = 0;
        double nll = 0;
        for (int start = 0; start < samples.Count; start += b)
        {
            cancellation.ThrowIfCancellationRequested();
            int real = Math.Min(b, samples.Count - start);
            random.Reseed(network.Config.Seed ^ 0x7E57);
            network.ResetState(state, random);
            decisions.Reset();
            for (int t = 0; t < steps; t++)
            {
                Array.Clear(x);
                for (int k = 0; k < real; k++)
                {
                    Scatter(samples[start + k], t, x.AsSpan(k * d, d), log1pInputs);
                }

                network.Step(StepInput.Dense<float>(x), state, output);
                decisions.Add(output, real);
            }

            for (int k = 0; k < real; k++)
            {
                ReadOnlySpan<float> o = output.AsSpan(k * classes, classes);
                int y = samples[start + k].Label;
                int p = decisions.Decide(k);
                confusion[(y * classes) + p]++;
                correct += p == y ? 1 : 0;
                nll += LogSumExp(o) - o[y];
                n++;
            }
        }

        return new EvaluationResult(n, classes, correct / (double)n, nll / n, confusion, sw.Elapsed.TotalSeconds);
    }

    /// <inheritdoc/>
    public void Dispose() => _learner.Dispose();

    private bool IsDivergence(double loss)
    {
        if (!double.IsFinite(loss))
        {
            return true;
        }

        double reference = Math.Max(double.IsNaN(_meanLoss) ? 0 : _meanLoss, Math.Log(Classes));
        return loss > Options.ExplodingLossFactor * reference;
    }

    private void CheckShapes(IReadOnlyList<ILabelledSequence> samples, string name)
    {
        foreach (ILabelledSequence s in samples)
        {
            if (s.Features != Inputs)
            {
                throw new ArgumentException($"a sample has {s.Features} features, the model takes {Inputs}", name);
            }

            if ((uint)s.Label >= (uint)Classes)
            {
                throw new ArgumentException($"label {s.Label} is outside [0, {Classes})", name);
            }
        }
    }

    private void Fill(IReadOnlyList<ILabelledSequence> data, int[] order, int first, float[] inputs)
    {
        int b = _learner.Setup.Batch, d = Inputs, steps = Steps;
        Array.Clear(inputs);
        for (int k = 0; k < b; k++)
        {
            ILabelledSequence s = data[order[(first + k) % order.Length]];
            int n = Math.Min(steps, s.Steps);
            for (int t = 0; t < n; t++)
            {
                Scatter(s, t, inputs.AsSpan(((t * b) + k) * d, d), Options.Log1pInputs);
            }
        }
    }

    private static void Scatter(ILabelledSequence s, int t, Span<float> row, bool log1p)
    {
        if (t >= s.Steps)
        {
            return;
        }

        ReadOnlySpan<int> idx = s.ActiveAt(t);
        ReadOnlySpan<float> val = s.ValuesAt(t);
        for (int i = 0; i < idx.Length; i++)
        {
            float v = val[i];
            row[idx[i]] = log1p ? (v <= 0 ? 0 : MathF.Log(1 + v)) : v;
        }
    }

    private static double LogSumExp(ReadOnlySpan<float> o)
    {
        double max = double.NegativeInfinity;
        foreach (float v in o)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (float v in o)
        {
            sum += Math.Exp(v - max);
        }

        return max + Math.Log(sum);
    }
}
