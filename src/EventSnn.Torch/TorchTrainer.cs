using System.Diagnostics;
using EventSnn.Snn;
using EventSnn.Snn.Classification;

namespace EventSnn.Torch;

/// <summary>Training method of <see cref="TorchTrainer"/>.</summary>
public enum TrainingMethod
{
    /// <summary>FPTT: one update per chunk, chunk p of P weighted (p+1)/P.</summary>
    Fptt,

    /// <summary>Full BPTT: one update per sequence.</summary>
    Bptt,
}

/// <summary>Settings of <see cref="TorchTrainer"/>.</summary>
public sealed record TorchTrainerOptions
{
    /// <summary>FPTT (default) or BPTT.</summary>
    public TrainingMethod Method { get; init; } = TrainingMethod.Fptt;

    /// <summary>FPTT chunk length in steps (the sequence is split into ⌈T / L⌉ chunks).</summary>
    public int ChunkLength { get; init; } = 10;

    /// <summary>FPTT hyper-parameters (α, β, clip).</summary>
    public FpttOptions Fptt { get; init; } = new();

    /// <summary>Optimiser.</summary>
    public TorchOptimizerOptions Optimizer { get; init; } = new();

    /// <summary>BPTT global gradient-norm clip (≤ 0 disables).</summary>
    public double GradientClip { get; init; } = 1.0;

    /// <summary>Where the classification loss sits (chunk ends, or every step averaged over its chunk).</summary>
    public LossPlacement Loss { get; init; } = LossPlacement.ChunkEnd;

    /// <summary>Weighting of the loss terms over time ((p+1)/P resp. (t+1)/T, or uniform).</summary>
    public LossWeighting Weighting { get; init; } = LossWeighting.Linear;

    /// <summary>Adds the oracle term (uniform class distribution) with weight 1 − progress.</summary>
    public bool Oracle { get; init; }

    /// <summary>How decisions (training and evaluation accuracy) are read from the readout over the steps.</summary>
    public DecisionReadout Decision { get; init; } = DecisionReadout.Last;
}

/// <summary>
/// A batch of B labelled sequences of T time steps for offline training: dense inputs
/// (T x B x D values, step-major) or sparse binary spikes (per step, the active indices of every
/// sample and B + 1 offsets), plus one class label per sample (terminal-label classification).
/// </summary>
public sealed class SequenceBatch
{
    private SequenceBatch(int steps, int batch, int inputs, int[] labels, float[]? dense, int[][]? indices, int[][]? offsets)
    {
        Steps = steps;
        Batch = batch;
        Inputs = inputs;
        Labels = labels;
        DenseValues = dense;
        SparseIndices = indices;
        SparseOffsets = offsets;
    }

    /// <summary>Time steps T.</summary>
    public int Steps { get; }

    /// <summary>Samples B.</summary>
    public int Batch { get; }

    /// <summary>Input channels D.</summary>
    public int Inputs { get; }

    /// <summary>Class label of every sample.</summary>
    public int[] Labels { get; }

    /// <summary>Dense inputs (T x B x D), or null.</summary>
    public float[]? DenseValues { get; }

    /// <summary>Sparse inputs: active indices per step, or null.</summary>
    public int[][]? SparseIndices { get; }

    /// <summary>Sparse inputs: B + 1 offsets per step, or null.</summary>
    public int[][]? SparseOffsets { get; }

    /// <summary>A dense batch.</summary>
    public static SequenceBatch Dense(float[] values, int steps, int batch, int inputs, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        if (values.Length != (long)steps * batch * inputs || labels.Length != batch)
        {
            throw new ArgumentException($"a dense batch needs {steps} x {batch} x {inputs} values and {batch} labels");
        }

        return new SequenceBatch(steps, batch, inputs, labels, values, null, null);
    }

    /// <summary>A sparse batch: <paramref name="indices"/>[t] holds the active inputs of all samples at step t, sample b owning offsets[t][b] .. offsets[t][b+1].</summary>
    public static SequenceBatch Sparse(int[][] indices, int[][] offsets, int inputs, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(offsets);
        ArgumentNullException.ThrowIfNull(labels);
        if (indices.Length == 0 || offsets.Length != indices.Length)
        {
            throw new ArgumentException("a sparse batch needs one index list and one offset list per step");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(labels.Length, 1, nameof(labels));
        for (int t = 0; t < offsets.Length; t++)
        {
            int[] o = offsets[t];
            int[] idx = indices[t];
            if (o is null || idx is null || o.Length != labels.Length + 1 || o[0] != 0 || o[^1] != idx.Length)
            {
                throw new ArgumentException($"step {t}: {labels.Length + 1} offsets from 0 to the number of indices expected");
            }

            for (int b = 0; b < labels.Length; b++)
            {
                if (o[b + 1] < o[b])
                {
                    throw new ArgumentException($"step {t}: offsets decrease at sample {b}");
                }
            }

            foreach (int j in idx)
            {
                if ((uint)j >= (uint)inputs)
                {
                    throw new ArgumentException($"step {t}: input index {j} outside [0, {inputs})");
                }
            }
        }

        return new SequenceBatch(indices.Length, labels.Length, inputs, labels, null, indices, offsets);
    }

    /// <summary>The input of step <paramref name="t"/>.</summary>
    public StepInput<float> Step(int t) => DenseValues is not null
        ? new StepInput<float>(DenseValues.AsSpan(t * Batch * Inputs, Batch * Inputs))
        : new StepInput<float>(SparseIndices![t], SparseOffsets![t]);
}

/// <summary>Result of one training batch or an evaluation.</summary>
public readonly record struct BatchReport
{
    /// <summary>
    /// Training: sum of the (weighted) chunk losses; evaluation: mean NLL of the label under the
    /// decision's reading (<see cref="DecisionAccumulator.Nll"/>; last step: of log_softmax at the last step).
    /// </summary>
    public double Loss { get; init; }

    /// <summary>Training: sum of the NLL weights of the steps trained (the loss divided by it is the weighted mean NLL).</summary>
    public double Weight { get; init; }

    /// <summary>Fraction of samples whose decision (per <see cref="TorchTrainerOptions.Decision"/>) is the label (0 when diverged or interrupted).</summary>
    public double Accuracy { get; init; }

    /// <summary>Samples whose decision is the label (0 when diverged or interrupted).</summary>
    public int Correct { get; init; }

    /// <summary>Optimiser steps taken (0 for an evaluation).</summary>
    public int Updates { get; init; }

    /// <summary>Samples in the batch (or evaluated in total).</summary>
    public int Samples { get; init; }

    /// <summary>Training: a chunk diverged (NaN/Inf); the batch stopped there.</summary>
    public bool Diverged { get; init; }

    /// <summary>Training: false when cancellation stopped the batch between chunks.</summary>
    public bool Complete { get; init; }
}

/// <summary>Per-epoch metrics of <see cref="TorchTrainer.TrainEpoch"/>.</summary>
public readonly record struct TrainingEpochReport
{
    /// <summary>1-based epoch number (counted by the trainer).</summary>
    public int Epoch { get; init; }

    /// <summary>Mean over the epoch's batches of <see cref="BatchReport.Loss"/>.</summary>
    public double Loss { get; init; }

    /// <summary>Training accuracy over the epoch (last-step argmax, while the weights were still changing).</summary>
    public double Accuracy { get; init; }

    /// <summary>Batches trained.</summary>
    public int Batches { get; init; }

    /// <summary>Samples trained.</summary>
    public int Samples { get; init; }

    /// <summary>Optimiser steps taken.</summary>
    public int Updates { get; init; }

    /// <summary>Wall-clock seconds of the epoch.</summary>
    public double Seconds { get; init; }
}

/// <summary>
/// Offline batch training (typically B = 32 to 256) of a <see cref="TorchNetwork"/> on recorded,
/// labelled sequences with the TorchSharp learners. Per batch: a fresh state
/// (<see cref="TorchNetwork.CreateState"/>, with the generator given or the config-seeded one);
/// FPTT splits the T steps into chunks of <see cref="TorchTrainerOptions.ChunkLength"/>, one update
/// per chunk, and <see cref="EndEpoch"/> sets W ← W̄; BPTT is one chunk and one update per batch.
/// The loss terms follow the recipe exactly as the managed batch learner
/// (<see cref="LossSchedule.Weights"/>): by default at the last step of chunk p of P
/// ((p+1)/P) · NLL(log_softmax(o), y) (BPTT: NLL at the last step), or at every step with weight
/// (t+1)/T (or 1) divided by the chunk's steps; the optional oracle term adds
/// (1 − progress) · mean_{b,c}(−q log p) with a uniform q. Decisions are read per
/// <see cref="TorchTrainerOptions.Decision"/> (<see cref="DecisionAccumulator"/>). Checkpoints (<see cref="Save"/>,
/// <see cref="Load"/>) use the managed format, so a model trained here streams in the managed engine.
/// </summary>
public sealed class TorchTrainer : IDisposable
{
    private readonly TorchLearner _learner;
    private readonly DecisionAccumulator _decisions;
    private readonly float[] _oracle;
    private float[] _output;
    private int _epoch;

    /// <summary>Creates the trainer for batches of <paramref name="batch"/> sequences of up to <paramref name="maxSteps"/> steps.</summary>
    /// <param name="network">The network trained (not owned: the caller disposes it).</param>
    /// <param name="options">Method, chunk length, FPTT and optimiser settings.</param>
    /// <param name="batch">Samples per training batch B.</param>
    /// <param name="maxSteps">Longest sequence (BPTT records the whole sequence).</param>
    public TorchTrainer(TorchNetwork network, TorchTrainerOptions options, int batch, int maxSteps)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ChunkLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSteps, 1);
        Network = network;
        Options = options;
        Batch = batch;
        MaxSteps = maxSteps;
        _learner = options.Method == TrainingMethod.Fptt
            ? new TorchFpttLearner(network, options.Optimizer, options.Fptt, batch, options.ChunkLength)
            : new TorchBpttLearner(network, options.Optimizer, batch, maxSteps, options.GradientClip);
        _output = new float[batch * network.OutputSize];
        _decisions = new DecisionAccumulator(options.Decision, batch, network.OutputSize);
        _oracle = new float[batch * network.OutputSize];
        Array.Fill(_oracle, 1f / network.OutputSize);
    }

    /// <summary>The network trained.</summary>
    public TorchNetwork Network { get; }

    /// <summary>Settings.</summary>
    public TorchTrainerOptions Options { get; }

    /// <summary>Samples per training batch B.</summary>
    public int Batch { get; }

    /// <summary>Longest sequence accepted.</summary>
    public int MaxSteps { get; }

    /// <summary>Epochs completed (<see cref="EndEpoch"/> calls).</summary>
    public int Epoch => _epoch;

    /// <summary>The underlying learner (its optimiser and, for FPTT, W̄ and λ).</summary>
    public TorchLearner Learner => _learner;

    /// <summary>Trains on one batch; returns the loss, the training accuracy of the batch and the number of updates.</summary>
    /// <param name="data">B sequences with their labels.</param>
    /// <param name="stateRandom">Generator of the random initial membrane (null: the config-seeded one, the same for every batch).</param>
    /// <param name="cancellation">Stops the batch between chunks (then <see cref="BatchReport.Complete"/> is false).</param>
    public BatchReport TrainBatch(SequenceBatch data, SnnRandom? stateRandom = null, CancellationToken cancellation = default)
    {
        Check(data);
        if (data.Batch != Batch || data.Steps > MaxSteps)
        {
            throw new ArgumentException($"the trainer takes batches of {Batch} sequences of up to {MaxSteps} steps (got {data.Batch} x {data.Steps})", nameof(data));
        }

        using TorchState state = Network.CreateState(Batch, stateRandom);
        int steps = data.Steps;
        float[] output = _output;
        SequenceTrainingMethod method = Options.Method == TrainingMethod.Fptt ? SequenceTrainingMethod.Fptt : SequenceTrainingMethod.Bptt;
        int length = method == SequenceTrainingMethod.Fptt ? Options.ChunkLength : steps;
        int chunks = (steps + length - 1) / length;
        bool everyStep = Options.Decision != DecisionReadout.Last;
        double loss = 0, weights = 0;
        int updates = 0;
        bool diverged = false, complete = true;
        _decisions.Reset();
        for (int p = 0; p < chunks && !diverged; p++)
        {
            int start = p * length;
            int end = Math.Min(steps, start + length);
            double chunkWeight = 0;
            for (int t = start; t < end; t++)
            {
                (double weight, double oracle) = LossSchedule.Weights(Options.Loss, Options.Weighting, Options.Oracle, method, steps, t, p, chunks, start, end);
                chunkWeight += weight;
                StepTarget<float> target = weight == 0 && oracle == 0 ? default : new StepTarget<float>(data.Labels, weight, Options.Oracle ? _oracle : default, oracle);
                bool read = everyStep || t == steps - 1;
                _learner.Observe(data.Step(t), target, state, read ? output : default);
                if (read)
                {
                    _decisions.Add(output, Batch);
                }
            }

            ChunkReport r = _learner.EndChunk();
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
            for (int b = 0; b < Batch; b++)
            {
                correct += _decisions.Decide(b) == data.Labels[b] ? 1 : 0;
            }
        }

        return new BatchReport
        {
            Loss = loss,
            Weight = weights,
            Accuracy = correct / (double)Batch,
            Correct = correct,
            Updates = updates,
            Samples = Batch,
            Diverged = diverged,
            Complete = complete,
        };
    }

    /// <summary>
    /// Trains one epoch on <paramref name="batches"/> (each of <see cref="Batch"/> samples; shuffle
    /// and drop a short last batch before), then <see cref="EndEpoch"/>; returns the epoch's metrics.
    /// </summary>
    /// <param name="batches">The epoch's batches.</param>
    /// <param name="stateRandom">Generator of the random initial membranes (null: the config-seeded one per batch).</param>
    public TrainingEpochReport TrainEpoch(IEnumerable<SequenceBatch> batches, SnnRandom? stateRandom = null)
    {
        ArgumentNullException.ThrowIfNull(batches);
        long started = Stopwatch.GetTimestamp();
        double loss = 0, correct = 0;
        int count = 0, samples = 0, updates = 0;
        foreach (SequenceBatch data in batches)
        {
            BatchReport r = TrainBatch(data, stateRandom);
            loss += r.Loss;
            correct += r.Accuracy * r.Samples;
            samples += r.Samples;
            updates += r.Updates;
            count++;
        }

        EndEpoch();
        return new TrainingEpochReport
        {
            Epoch = _epoch,
            Loss = count == 0 ? 0 : loss / count,
            Accuracy = samples == 0 ? 0 : correct / samples,
            Batches = count,
            Samples = samples,
            Updates = updates,
            Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds,
        };
    }

    /// <summary>
    /// Inference over a batch of any size (no autograd): accuracy of the decisions read per
    /// <see cref="TorchTrainerOptions.Decision"/> and the mean NLL of the labels under that reading
    /// (the last step's by default).
    /// </summary>
    /// <param name="data">Sequences with their labels.</param>
    /// <param name="stateRandom">Generator of the random initial membrane (null: the config-seeded one).</param>
    public BatchReport Evaluate(SequenceBatch data, SnnRandom? stateRandom = null)
    {
        Check(data);
        int n = data.Batch;
        int c = Network.OutputSize;
        if (_output.Length < n * c)
        {
            _output = new float[n * c];
        }

        Span<float> output = _output.AsSpan(0, n * c);
        var decisions = n == Batch ? _decisions : new DecisionAccumulator(Options.Decision, n, c);
        decisions.Reset();
        using TorchState state = Network.CreateState(n, stateRandom);
        for (int t = 0; t < data.Steps; t++)
        {
            Network.Step(data.Step(t), state, output);
            if (Options.Decision != DecisionReadout.Last || t == data.Steps - 1)
            {
                decisions.Add(output, n);
            }
        }

        double nll = 0;
        int correct = 0;
        for (int b = 0; b < n; b++)
        {
            nll += decisions.Nll(b, data.Labels[b]);
            correct += decisions.Decide(b) == data.Labels[b] ? 1 : 0;
        }

        return new BatchReport { Loss = nll / n, Accuracy = correct / (double)n, Correct = correct, Samples = n, Complete = true };
    }

    /// <summary>Evaluates several batches (of any sizes): sample-weighted mean NLL and accuracy.</summary>
    public BatchReport Evaluate(IEnumerable<SequenceBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        double nll = 0, correct = 0;
        int samples = 0;
        foreach (SequenceBatch data in batches)
        {
            BatchReport r = Evaluate(data);
            nll += r.Loss * r.Samples;
            correct += r.Accuracy * r.Samples;
            samples += r.Samples;
        }

        return samples == 0 ? default : new BatchReport { Loss = nll / samples, Accuracy = correct / samples, Samples = samples };
    }

    /// <summary>End of a training epoch (FPTT: W ← W̄; BPTT: nothing); counts the epoch.</summary>
    public void EndEpoch()
    {
        if (_learner is TorchFpttLearner f)
        {
            f.EndEpoch();
        }

        _epoch++;
    }

    /// <summary>
    /// Writes a checkpoint in the managed format (<see cref="Checkpoint"/>): weights, optimiser
    /// state and, for FPTT, W̄ and λ. <see cref="Checkpoint.LoadNetwork{T}(string)"/> or
    /// <see cref="TorchCheckpoint.LoadNetwork"/> reads it back.
    /// </summary>
    public void Save(string path) => TorchCheckpoint.Save(path, Network, _learner);

    /// <summary>Loads a checkpoint of either backend (same layout) into the network and the learner's state.</summary>
    public CheckpointData Load(string path) => TorchCheckpoint.Load(path, Network, _learner);

    /// <inheritdoc/>
    public void Dispose() => _learner.Dispose();

    private void Check(SequenceBatch data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Inputs != Network.InputSize)
        {
            throw new ArgumentException($"the network takes {Network.InputSize} inputs (got {data.Inputs})", nameof(data));
        }

        foreach (int y in data.Labels)
        {
            if ((uint)y >= (uint)Network.OutputSize)
            {
                throw new ArgumentException($"label {y} outside [0, {Network.OutputSize})", nameof(data));
            }
        }
    }
}
