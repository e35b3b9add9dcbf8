using System.Text.Json.Nodes;
using EventSnn.Snn;
using EventSnn.Snn.Classification;
using EventSnn.Torch.Native;
using TorchSharp;

namespace EventSnn.Torch;

/// <summary>
/// The TorchSharp backend of <see cref="SequenceTrainer"/>: a <see cref="TorchTrainer"/> (autograd
/// FPTT or BPTT, torch.optim Adam) behind <see cref="ISequenceBatchLearner"/>. The network starts
/// from the managed engine's initialisation for the same configuration and seed; checkpoints use
/// the managed format (with the trainer's metadata), so `eval` and the streaming classifier read
/// them with the managed engine.
/// </summary>
public sealed class TorchSequenceLearner : ISequenceBatchLearner
{
    private readonly TorchNetwork _network;
    private readonly TorchTrainer _trainer;
    private readonly SnnRandom _random = new(1);
    private readonly Network<float> _good;
    private readonly FpttLearner<float>? _goodFptt;
    private readonly Network<float> _scratch;
    private readonly FpttLearner<float>? _scratchFptt;
    private readonly TorchOptimizerOptions _optimizerOptions;
    private double _learningRate;

    /// <summary>Loads libtorch (<see cref="TorchRuntime.EnsureLoaded"/>) and builds the network and trainer.</summary>
    public TorchSequenceLearner(SequenceLearnerSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        TorchRuntime.EnsureLoaded();
        Setup = setup;
        _good = new Network<float>(setup.Network);
        _network = new TorchNetwork(_good);
        _learningRate = setup.LearningRate;
        _optimizerOptions = new TorchOptimizerOptions { LearningRate = setup.LearningRate };
        _trainer = new TorchTrainer(
            _network,
            new TorchTrainerOptions
            {
                Method = setup.Method == SequenceTrainingMethod.Fptt ? TrainingMethod.Fptt : TrainingMethod.Bptt,
                ChunkLength = setup.ChunkLength,
                Fptt = setup.Fptt,
                Optimizer = _optimizerOptions,
                GradientClip = setup.GradientClip,
            },
            setup.Batch,
            setup.Steps);
        _scratch = new Network<float>(setup.Network);
        if (setup.Method == SequenceTrainingMethod.Fptt)
        {
            _goodFptt = new FpttLearner<float>(_good, new Adam<float>(_good.Parameters, setup.LearningRate), setup.Fptt, 1, 1);
            _scratchFptt = new FpttLearner<float>(_scratch, new Adam<float>(_scratch.Parameters, setup.LearningRate), setup.Fptt, 1, 1);
        }

        Snapshot();
    }

    /// <inheritdoc/>
    public string Backend => "torch";

    /// <inheritdoc/>
    public SequenceLearnerSetup Setup { get; }

    /// <summary>The torch network trained.</summary>
    public TorchNetwork Network => _network;

    /// <inheritdoc/>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            _learningRate = value;
            foreach (torch.optim.ILearningRateController g in _trainer.Learner.Optimizer.ParamGroups)
            {
                g.LearningRate = value;
            }
        }
    }

    /// <inheritdoc/>
    public BatchOutcome TrainBatch(float[] inputs, int[] labels, long stateSeed, CancellationToken cancellation)
    {
        var data = SequenceBatch.Dense(inputs, Setup.Steps, Setup.Batch, Setup.Network.InputSize, labels);
        int before = _trainer.Learner.DivergenceCount;
        _random.Reseed(stateSeed);
        BatchReport r = _trainer.TrainBatch(data, _random);
        bool diverged = _trainer.Learner.DivergenceCount != before || !double.IsFinite(r.Loss);
        int chunks = Setup.Method == SequenceTrainingMethod.Fptt ? Setup.ChunkCount : 1;
        double weights = Setup.Method == SequenceTrainingMethod.Fptt ? (chunks + 1) / 2.0 : 1.0;
        return new BatchOutcome(diverged ? double.NaN : r.Loss / weights, diverged ? 0 : (int)Math.Round(r.Accuracy * Setup.Batch), r.Updates, diverged, Complete: true);
    }

    /// <inheritdoc/>
    public void EndEpoch() => _trainer.EndEpoch();

    /// <inheritdoc/>
    public bool Snapshot()
    {
        // stage in a scratch copy, keep it only when everything is finite
        _network.CopyTo(_scratch.Parameters);
        if (!_scratch.Parameters.AllFinite())
        {
            return false;
        }

        if (_scratchFptt is not null && _trainer.Learner is TorchFpttLearner f)
        {
            f.CopyTo(_scratchFptt);
            for (int p = 0; p < _scratch.Parameters.Count; p++)
            {
                foreach (float v in _scratchFptt.GetAverage(p))
                {
                    if (!float.IsFinite(v))
                    {
                        return false;
                    }
                }
            }

            for (int p = 0; p < _scratch.Parameters.Count; p++)
            {
                _scratchFptt.GetAverage(p).CopyTo(_goodFptt!.GetAverage(p), 0);
                _scratchFptt.GetLambda(p).CopyTo(_goodFptt.GetLambda(p), 0);
            }
        }

        _good.Parameters.CopyFrom(_scratch.Parameters);
        return true;
    }

    /// <inheritdoc/>
    public void Rollback()
    {
        _trainer.Learner.DiscardChunk();
        if (_goodFptt is not null && _trainer.Learner is TorchFpttLearner f)
        {
            // the last good W̄; W ← W̄, λ ← 0, fresh optimiser state
            f.CopyFrom(_goodFptt);
            f.RestoreAverage();
        }
        else
        {
            _network.CopyFrom(_good.Parameters);
            TorchOptimizerState.CopyFrom(_trainer.Learner.Optimizer, _optimizerOptions.CreateManaged(new Network<float>(Setup.Network).Parameters));
        }

        LearningRate = _learningRate;
    }

    /// <inheritdoc/>
    public void ExportWeights(Network<float> target)
    {
        ArgumentNullException.ThrowIfNull(target);
        _network.CopyTo(target.Parameters);
        target.Parameters.MarkChanged();
    }

    /// <inheritdoc/>
    public void Save(string path, JsonObject training)
    {
        Network<float> managed = _network.ToManaged();
        Optimizer<float> optimizer = _optimizerOptions.CreateManaged(managed.Parameters);
        TorchOptimizerState.CopyTo(_trainer.Learner.Optimizer, optimizer, _trainer.Learner.StepCount);
        optimizer.LearningRate = _learningRate;
        // BPTT: W̄ = W and λ = 0 (a fresh learner), so streaming classifiers load it like an FPTT checkpoint
        var fptt = new FpttLearner<float>(managed, optimizer, Setup.Fptt, 1, 1);
        if (_trainer.Learner is TorchFpttLearner f)
        {
            f.CopyTo(fptt);
        }

        Checkpoint.Save(path, managed, optimizer, fptt, training);
    }

    /// <inheritdoc/>
    public CheckpointData Load(string path)
    {
        CheckpointData data = _trainer.Load(path);
        Snapshot();
        return data;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _trainer.Dispose();
        _network.Dispose();
    }
}
