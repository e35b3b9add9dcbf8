using System.Diagnostics;
using System.Text.Json.Nodes;
using EventSnn.Transforms;
using EventSnn.Snn.Internal;

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
/// <see cref="Evaluate(Network{float}, IReadOnlyList{ILabelledSequence}, DecisionReadout, int, CancellationToken)"/> and, when a path is given, saved atomically as a checkpoint.
/// Cancellation takes effect between batches: the checkpoint then keeps the state after the last
/// whole batch with the epoch's progress (batches done, running sums, seconds), and
/// <see cref="Resume"/> continues the epoch from the next batch, so an interrupted and resumed run
/// equals the uninterrupted one (the shuffle and the batch seeds depend only on the seed, the epoch
/// and the batch).
/// </remarks>
public sealed class SequenceTrainer : IDisposable
{
    private readonly ISequenceBatchLearner _learner;
    private readonly Network<float> _evaluation;
    private readonly float[] _inputs;
    private readonly int[] _labels;
    private readonly DivergenceGuard _guard;
    private EpochProgress? _progress;
    private string? _resumedFrom;

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
        _guard = new DivergenceGuard(s.Network.Readout.Size, options.ExplodingLossFactor);
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

    /// <summary>Wall seconds of the completed epochs (training and test), including those of a resumed checkpoint.</summary>
    public double CompletedSeconds { get; private set; }

    /// <summary>Divergences detected and rolled back so far.</summary>
    public int Divergences { get; private set; }

    /// <summary>
    /// Batches of epoch <see cref="CompletedEpochs"/> + 1 that a resumed checkpoint had already
    /// trained when it was interrupted (0 when it ended with a whole epoch); the next
    /// <see cref="Train(IReadOnlyList{ILabelledSequence}, IReadOnlyList{ILabelledSequence}, string?, Action{EpochMetrics}?, Action{TrainingProgress}?, CancellationToken)"/>
    /// continues from the batch after them.
    /// </summary>
    public int ResumedBatches => _progress?.BatchesDone ?? 0;

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
    /// <param name="cancellation">Stops training after the current batch (or during the test of a whole epoch).</param>
    public TrainingResult Train(IReadOnlyList<ILabelledSequence> train, IReadOnlyList<ILabelledSequence> test, string? checkpointPath = null, Action<EpochMetrics>? onEpoch = null, Action<TrainingProgress>? onProgress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        return Train(_ => train, test, checkpointPath, onEpoch, onProgress, cancellation);
    }

    /// <summary>
    /// Where the best epoch so far (by test accuracy) is also saved, atomically, whenever an epoch
    /// beats it (null: not kept). The best accuracy carries over a resume.
    /// </summary>
    public string? BestCheckpointPath { get; set; }

    /// <summary>The best test accuracy of a completed epoch so far (NaN before the first; restored by <see cref="Resume"/>).</summary>
    public double BestTestAccuracy { get; private set; } = double.NaN;

    /// <summary>The test accuracy of the last completed epoch (NaN before the first; restored by <see cref="Resume"/>).</summary>
    public double LastTestAccuracy { get; private set; } = double.NaN;

    /// <summary>
    /// Trains like <see cref="Train(IReadOnlyList{ILabelledSequence}, IReadOnlyList{ILabelledSequence}, string?, Action{EpochMetrics}?, Action{TrainingProgress}?, CancellationToken)"/>
    /// with training samples that may change from epoch to epoch (augmentation):
    /// <paramref name="trainForEpoch"/> gives epoch e's samples (1-based; the same number every epoch).
    /// </summary>
    public TrainingResult Train(Func<int, IReadOnlyList<ILabelledSequence>> trainForEpoch, IReadOnlyList<ILabelledSequence> test, string? checkpointPath = null, Action<EpochMetrics>? onEpoch = null, Action<TrainingProgress>? onProgress = null, CancellationToken cancellation = default)
    {
        using DenormalScope flush = DenormalScope.Enter();
        ArgumentNullException.ThrowIfNull(trainForEpoch);
        ArgumentNullException.ThrowIfNull(test);
        IReadOnlyList<ILabelledSequence> train = trainForEpoch(CompletedEpochs + 1);
        if (train.Count == 0)
        {
            throw new ArgumentException("no training samples", nameof(trainForEpoch));
        }

        CheckShapes(test, nameof(test));
        var total = Stopwatch.StartNew();
        var epochs = new List<EpochMetrics>();
        int[] order = new int[train.Count];
        int b = _learner.Setup.Batch;
        int batches = (train.Count + b - 1) / b;
        if (_progress is { } resumed && (resumed.Batch != b || resumed.Samples != train.Count))
        {
            throw new CheckpointException(
                _resumedFrom ?? "checkpoint",
                $"stopped in epoch {resumed.Epoch} after {resumed.BatchesDone} batches of {resumed.Batch} of {resumed.Samples} training samples; this run has batches of {b} and {train.Count} samples, so it cannot continue that epoch");
        }

        double best = double.NaN, final = double.NaN;
        bool interrupted = false;
        while (CompletedEpochs < Options.Epochs && !interrupted)
        {
            int epoch = CompletedEpochs + 1;
            var sw = Stopwatch.StartNew();
            if (epochs.Count > 0)
            {
                train = trainForEpoch(epoch);
            }

            if (train.Count != order.Length)
            {
                throw new InvalidOperationException($"epoch {epoch} has {train.Count} training samples, the first had {order.Length}");
            }

            CheckShapes(train, nameof(trainForEpoch));
            double lr = Options.LearningRateAt(epoch - 1);
            _learner.LearningRate = lr;

            // the shuffle of epoch e depends only on the seed and e (resumable)
            for (int i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }

            var random = new Random(unchecked((Options.Seed * 7919) + epoch));
            random.Shuffle(order);

            // a checkpoint interrupted inside this epoch continues it from its next batch, with its sums
            EpochProgress carried = _progress is { } partial && partial.Epoch == epoch ? partial : new EpochProgress(epoch, b, train.Count);
            _progress = null;
            double lossSum = carried.LossSum;
            int lossCount = carried.LossCount, correct = carried.Correct, seen = carried.Seen, divergences = carried.Divergences, updates = carried.Updates;
            int done = carried.BatchesDone;
            long eventsSeen = carried.Events;
            for (int batch = carried.BatchesDone; batch < batches; batch++)
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

                // a stop request takes effect between batches, where the state can be saved and continued exactly
                BatchOutcome r = _learner.TrainBatch(_inputs, _labels, (Options.Seed * 1_000_003L) + (epoch * 7919L) + batch, CancellationToken.None);
                updates += r.Updates;
                done++;
                if (_guard.IsDivergence(r.Loss) || !_learner.Snapshot())
                {
                    _learner.Rollback();
                    divergences++;
                    Divergences++;
                }
                else
                {
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

            double trainSeconds = carried.TrainSeconds + sw.Elapsed.TotalSeconds;
            double testAccuracy = double.NaN, testLoss = double.NaN;
            DecisionAccuracies testByDecision = DecisionAccuracies.None;
            if (!interrupted)
            {
                _learner.EndEpoch();
                CompletedEpochs = epoch;
                if (test.Count > 0)
                {
                    try
                    {
                        EvaluationResult e = Evaluate(CurrentNetwork(), test, Options.Decision, Options.Threads, cancellation);
                        testAccuracy = e.Accuracy;
                        testLoss = e.Loss;
                        testByDecision = e.ByDecision;
                        final = testAccuracy;
                        best = double.IsNaN(best) ? testAccuracy : Math.Max(best, testAccuracy);
                    }
                    catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
                    {
                        // stopped while testing a completed epoch: its weights are kept and saved below,
                        // without a test accuracy
                        interrupted = true;
                    }
                }
            }

            bool improved = !interrupted && !double.IsNaN(testAccuracy) && (double.IsNaN(BestTestAccuracy) || testAccuracy > BestTestAccuracy);
            if (!interrupted && !double.IsNaN(testAccuracy))
            {
                LastTestAccuracy = testAccuracy;
            }

            if (improved)
            {
                BestTestAccuracy = testAccuracy;
            }

            double epochSeconds = carried.Seconds + sw.Elapsed.TotalSeconds;
            if (CompletedEpochs == epoch)
            {
                CompletedSeconds += epochSeconds; // training and test of the epoch, before it is saved
            }
            else
            {
                _progress = carried with
                {
                    BatchesDone = done,
                    LossSum = lossSum,
                    LossCount = lossCount,
                    Correct = correct,
                    Seen = seen,
                    Divergences = divergences,
                    Updates = updates,
                    Events = eventsSeen,
                    Seconds = epochSeconds,
                    TrainSeconds = trainSeconds,
                };
            }

            if (checkpointPath is not null)
            {
                SaveCheckpoint(checkpointPath, interrupted);
            }

            if (improved && BestCheckpointPath is not null)
            {
                SaveCheckpoint(BestCheckpointPath);
            }

            var m = new EpochMetrics(
                epoch,
                lossCount == 0 ? double.NaN : lossSum / lossCount,
                seen == 0 ? double.NaN : correct / (double)seen,
                testAccuracy,
                testLoss,
                epochSeconds,
                trainSeconds > 0 ? done * b / trainSeconds : 0,
                trainSeconds > 0 ? eventsSeen / trainSeconds : 0,
                divergences,
                lr,
                updates,
                interrupted)
            {
                TestByDecision = testByDecision,
                BatchesDone = done,
                Batches = batches,
            };
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
            ["method"] = SequenceTrainingMethods.Name(Options.Method),
            ["backend"] = _learner.Backend,
            ["batch"] = _learner.Setup.Batch,
            ["steps"] = _learner.Setup.Steps,
            ["chunk_length"] = _learner.Setup.ChunkLength,
            ["seed"] = Options.Seed,
            ["divergences"] = Divergences,
            ["seconds"] = CompletedSeconds,
            ["interrupted"] = interrupted,
        };
        if (!double.IsNaN(_guard.MeanLoss))
        {
            training["guard_mean_loss"] = _guard.MeanLoss;
        }

        if (_progress is { } progress)
        {
            training["progress"] = progress.ToJson();
        }

        if (!double.IsNaN(LastTestAccuracy))
        {
            training["test_accuracy"] = LastTestAccuracy;
        }

        if (!double.IsNaN(BestTestAccuracy))
        {
            training["best_test_accuracy"] = BestTestAccuracy;
        }

        using IDisposable recipe = Checkpoint.AttachMetadata(SequenceTrainerOptions.CheckpointKey, Options.ToJson());
        _learner.Save(path, training);
    }

    /// <summary>
    /// Resumes from a checkpoint written by <see cref="SaveCheckpoint"/> (weights, optimiser and
    /// FPTT state, completed epochs); throws <see cref="CheckpointException"/> when it does not fit.
    /// </summary>
    public void Resume(string path)
    {
        string want = SequenceTrainingMethods.Name(Options.Method);
        string? method = Checkpoint.Read(path).Meta["training"]?["method"]?.GetValue<string>();
        if (method is not null && method != want)
        {
            throw new CheckpointException(path, $"was written by {method.ToUpperInvariant()} training, not {want.ToUpperInvariant()}");
        }

        CheckpointData data = _learner.Load(path);

        CompletedEpochs = data.Meta["training"]?["epoch"]?.GetValue<int>() ?? 0;
        Divergences = data.Meta["training"]?["divergences"]?.GetValue<int>() ?? 0;
        CompletedSeconds = data.Meta["training"]?["seconds"]?.GetValue<double>() ?? 0;
        BestTestAccuracy = data.Meta["training"]?["best_test_accuracy"]?.GetValue<double>() ?? double.NaN;
        LastTestAccuracy = data.Meta["training"]?["test_accuracy"]?.GetValue<double>() ?? double.NaN;
        _resumedFrom = path;
        _progress = null;
        try
        {
            if (data.Meta["training"]?["guard_mean_loss"]?.GetValue<double>() is double mean)
            {
                _guard.Resume(mean);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException)
        {
            throw new CheckpointException(path, $"its field training.guard_mean_loss is unusable ({ex.Message})");
        }

        if (data.Meta["training"]?["progress"] is JsonObject progress)
        {
            try
            {
                _progress = EpochProgress.FromJson(progress);
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException)
            {
                throw new CheckpointException(path, $"its field training.progress is unreadable ({ex.Message})");
            }

            if (_progress.Value.Epoch != CompletedEpochs + 1)
            {
                throw new CheckpointException(path, $"its field training.progress is for epoch {_progress.Value.Epoch}, but it holds {CompletedEpochs} whole epoch(s)");
            }
        }
    }

    /// <summary>
    /// Accuracy, mean NLL and confusion of <paramref name="network"/> on <paramref name="samples"/>:
    /// every sample runs alone through <see cref="SampleInference"/> (the routine of the streaming
    /// classifiers: the network's seeded initial state, the sample's own steps, the decision read per
    /// <paramref name="decision"/>), so the result depends only on the weights and the samples and
    /// equals what the streaming path decides for the same samples.
    /// </summary>
    public static EvaluationResult Evaluate(Network<float> network, IReadOnlyList<ILabelledSequence> samples, DecisionReadout decision = DecisionReadout.Last, CancellationToken cancellation = default) =>
        Evaluate(network, samples, decision, 1, cancellation);

    /// <summary>
    /// <see cref="Evaluate(Network{float}, IReadOnlyList{ILabelledSequence}, DecisionReadout, CancellationToken)"/>
    /// on <paramref name="threads"/> threads: the samples are cut into contiguous ranges classified in
    /// parallel (each sample still alone, so every decision is the same as on one thread).
    /// </summary>
    public static EvaluationResult Evaluate(Network<float> network, IReadOnlyList<ILabelledSequence> samples, DecisionReadout decision, int threads, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var sw = Stopwatch.StartNew();
        int classes = network.OutputSize;
        int d = network.InputSize;
        var confusion = new int[classes * classes];
        if (samples.Count == 0)
        {
            return new EvaluationResult(0, classes, double.NaN, double.NaN, confusion, 0);
        }

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
        }

        threads = Math.Min(threads, samples.Count);
        var parts = new EvaluationPart[threads];
        for (int k = 0; k < threads; k++)
        {
            parts[k] = new EvaluationPart(network, decision, k * samples.Count / threads, (k + 1) * samples.Count / threads);
        }

        var workers = new Thread[threads - 1];
        for (int k = 1; k < threads; k++)
        {
            EvaluationPart part = parts[k];
            workers[k - 1] = new Thread(() =>
            {
                DenormalScope.EnterForThread(); // this thread runs the evaluation only
                part.Run(samples, cancellation);
            })
            { IsBackground = true, Name = $"eventsnn-eval-{k}" };
            workers[k - 1].Start();
        }

        parts[0].Run(samples, cancellation);
        foreach (Thread t in workers)
        {
            t.Join();
        }

        int correct = 0;
        double nll = 0;
        int last = 0, mean = 0, max = 0;
        foreach (EvaluationPart part in parts)
        {
            part.Failure?.Throw();
            correct += part.Correct;
            last += part.CorrectBy[0];
            mean += part.CorrectBy[1];
            max += part.CorrectBy[2];
            nll += part.Nll;
            for (int i = 0; i < confusion.Length; i++)
            {
                confusion[i] += part.Confusion[i];
            }
        }

        double n = samples.Count;
        return new EvaluationResult(samples.Count, classes, correct / n, nll / samples.Count, confusion, sw.Elapsed.TotalSeconds)
        {
            ByDecision = new DecisionAccuracies(last / n, mean / n, max / n),
        };
    }

    /// <inheritdoc/>
    public void Dispose() => _learner.Dispose();

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

    /// <summary>One thread's range of samples in <see cref="Evaluate(Network{float}, IReadOnlyList{ILabelledSequence}, DecisionReadout, int, CancellationToken)"/>.</summary>
    private sealed class EvaluationPart(Network<float> network, DecisionReadout decision, int start, int end)
    {
        public int Correct { get; private set; }

        /// <summary>Correct decisions under <see cref="DecisionReadout.Last"/>, <see cref="DecisionReadout.Mean"/> and <see cref="DecisionReadout.Max"/> (indexed by the enum's value).</summary>
        public int[] CorrectBy { get; } = new int[3];

        public double Nll { get; private set; }

        public int[] Confusion { get; } = new int[network.OutputSize * network.OutputSize];

        public System.Runtime.ExceptionServices.ExceptionDispatchInfo? Failure { get; private set; }

        public void Run(IReadOnlyList<ILabelledSequence> samples, CancellationToken cancellation)
        {
            try
            {
                int classes = network.OutputSize;
                var inference = new SampleInference(network, decision);
                var x = new float[network.InputSize];

                // the inference reads the asked-for rule; the other two read the same steps alongside
                var others = new DecisionReadout[2];
                var readings = new DecisionAccumulator[2];
                int o = 0;
                foreach (DecisionReadout mode in (ReadOnlySpan<DecisionReadout>)[DecisionReadout.Last, DecisionReadout.Mean, DecisionReadout.Max])
                {
                    if (mode != decision)
                    {
                        others[o] = mode;
                        readings[o++] = new DecisionAccumulator(mode, 1, classes);
                    }
                }

                for (int i = start; i < end; i++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    ILabelledSequence s = samples[i];
                    int p = inference.Classify(s, x, readings);
                    int y = s.Label;
                    CorrectBy[(int)decision] += p == y ? 1 : 0;
                    for (int r = 0; r < readings.Length; r++)
                    {
                        CorrectBy[(int)others[r]] += readings[r].Decide(0) == y ? 1 : 0;
                    }

                    if (p >= 0)
                    {
                        Confusion[(y * classes) + p]++;
                    }

                    Correct += p == y ? 1 : 0;
                    Nll += inference.Nll(y);
                }
            }
            catch (Exception ex)
            {
                Failure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex);
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
                Scatter(s, t, inputs.AsSpan(((t * b) + k) * d, d));
            }
        }
    }

    private static void Scatter(ILabelledSequence s, int t, Span<float> row)
    {
        if (t >= s.Steps)
        {
            return;
        }

        ReadOnlySpan<int> idx = s.ActiveAt(t);
        ReadOnlySpan<float> val = s.ValuesAt(t);
        for (int i = 0; i < idx.Length; i++)
        {
            row[idx[i]] = val[i];
        }
    }
}
