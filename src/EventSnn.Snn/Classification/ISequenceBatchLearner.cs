using System.Text.Json.Nodes;

namespace EventSnn.Snn.Classification;

/// <summary>
/// The compute backend of <see cref="SequenceTrainer"/>: trains a network on batches of dense
/// sequences and keeps a last-good copy of its learning state for rollbacks. The managed
/// engine's implementation is <see cref="ManagedBatchLearner"/>; other backends (TorchSharp)
/// implement the same contract.
/// </summary>
public interface ISequenceBatchLearner : IDisposable
{
    /// <summary>Backend name for reports ("managed", "torch").</summary>
    string Backend { get; }

    /// <summary>The setup the learner was built for.</summary>
    SequenceLearnerSetup Setup { get; }

    /// <summary>Learning rate of the optimiser (set per epoch by the schedule).</summary>
    double LearningRate { get; set; }

    /// <summary>
    /// Trains on one batch: <paramref name="inputs"/> holds Steps x Batch x Inputs values
    /// (step-major), <paramref name="labels"/> one class per sequence. Starts from a fresh state
    /// drawn from <paramref name="stateSeed"/>. May stop between chunks when
    /// <paramref name="cancellation"/> is signalled (then <see cref="BatchOutcome.Complete"/> is false).
    /// </summary>
    BatchOutcome TrainBatch(float[] inputs, int[] labels, long stateSeed, CancellationToken cancellation);

    /// <summary>End of an epoch (FPTT: W ← W̄).</summary>
    void EndEpoch();

    /// <summary>
    /// Remembers the current learning state as the last good one; returns false (and keeps the
    /// previous snapshot) when a weight or running average is not finite.
    /// </summary>
    bool Snapshot();

    /// <summary>
    /// Rolls back after a divergence: FPTT to the running average W̄ of the last good state
    /// (W ← W̄, λ ← 0), BPTT to the last good weights; optimiser moments are reset.
    /// </summary>
    void Rollback();

    /// <summary>Copies the current weights W into <paramref name="target"/> (same configuration).</summary>
    void ExportWeights(Network<float> target);

    /// <summary>Saves weights, optimiser and FPTT state atomically in the managed checkpoint format, with <paramref name="training"/> as metadata.</summary>
    void Save(string path, JsonObject training);

    /// <summary>Loads a checkpoint (weights, optimiser and FPTT state) written by <see cref="Save"/>.</summary>
    CheckpointData Load(string path);
}
