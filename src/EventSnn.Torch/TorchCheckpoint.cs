using EventSnn.Snn;

namespace EventSnn.Torch;

/// <summary>
/// Checkpoints of the TorchSharp backend in the managed engine's format
/// (<see cref="Checkpoint"/>: same file layout, same tensor names — parameters, buffers (running
/// statistics of the input normalisation), "fptt.average/NAME",
/// "fptt.lambda/NAME", "optim.STATE/NAME" — and the same validation). A checkpoint written by
/// either backend loads into the other: the values pass through a managed network, optimiser and
/// FPTT learner of the same layout, which the managed writer and reader handle.
/// </summary>
public static class TorchCheckpoint
{
    /// <summary>Writes <paramref name="network"/> (parameters and buffers; and the learner's optimiser state and FPTT W̄, λ when given) atomically.</summary>
    public static void Save(string path, TorchNetwork network, TorchLearner? learner = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        Network<float> managed = network.ToManaged();
        Optimizer<float>? optimizer = null;
        FpttLearner<float>? fptt = null;
        if (learner is not null)
        {
            optimizer = learner.OptimizerOptions.CreateManaged(managed.Parameters);
            TorchOptimizerState.CopyTo(learner.Optimizer, optimizer, learner.StepCount);
            if (learner is TorchFpttLearner tf)
            {
                fptt = new FpttLearner<float>(managed, optimizer, tf.Options, 1, 1);
                tf.CopyTo(fptt);
            }
        }

        Checkpoint.Save(path, managed, optimizer, fptt);
    }

    /// <summary>
    /// Loads a checkpoint (written by either backend) into <paramref name="network"/> (parameters and buffers) and, when
    /// given, the learner's optimiser state and FPTT state; validates layout, names and shapes
    /// exactly like <see cref="Checkpoint.Load{T}"/> (throws <see cref="CheckpointException"/>).
    /// </summary>
    public static CheckpointData Load(string path, TorchNetwork network, TorchLearner? learner = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var managed = new Network<float>(network.Config);
        Optimizer<float>? optimizer = learner?.OptimizerOptions.CreateManaged(managed.Parameters);
        FpttLearner<float>? fptt = learner is TorchFpttLearner tf ? new FpttLearner<float>(managed, optimizer!, tf.Options, 1, 1) : null;
        CheckpointData data = Checkpoint.Load(path, managed, optimizer, fptt);
        network.CopyFrom(managed);
        if (learner is not null)
        {
            TorchOptimizerState.CopyFrom(learner.Optimizer, optimizer!);
        }

        if (learner is TorchFpttLearner t && fptt is not null)
        {
            t.CopyFrom(fptt);
        }

        return data;
    }

    /// <summary>Creates a torch network from the checkpoint's configuration and loads its weights.</summary>
    public static TorchNetwork LoadNetwork(string path) => new(Checkpoint.LoadNetwork<float>(path));
}
