using System.Text.Json.Nodes;
using EventSnn.Snn;
using EventSnn.Snn.Classification;
using EventSnn.Torch.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EventSnn.Torch;

/// <summary>
/// The TorchSharp backend of <see cref="SequenceTrainer"/>: a <see cref="TorchTrainer"/> (autograd
/// FPTT or BPTT, torch.optim Adam or Adamax with weight decay) behind
/// <see cref="ISequenceBatchLearner"/>, following the whole recipe of the setup as the managed
/// <see cref="ManagedBatchLearner"/> does: loss placement, weighting and oracle term
/// (<see cref="LossSchedule"/>), decision readout of the training accuracy, input normalisation,
/// spike dropout (masks from the managed learner's generator), multi-layer stacks. The network
/// starts from the managed engine's initialisation for the same configuration and seed;
/// checkpoints use the managed format (parameters, running statistics, optimiser and FPTT state,
/// with the trainer's metadata), so evaluation and the streaming classifier read them with the
/// managed engine.
/// </summary>
public sealed class TorchSequenceLearner : ISequenceBatchLearner
{
    private readonly TorchNetwork _network;
    private readonly TorchTrainer _trainer;
    private readonly SnnRandom _random = new(1);
    private readonly Tensor[] _goodWeights;
    private readonly Tensor[]? _goodAverage;
    private readonly Tensor[]? _goodLambda;
    private readonly TorchOptimizerOptions _optimizerOptions;
    private readonly int _previousThreads;
    private double _learningRate;
    private bool _disposed;

    /// <summary>Loads libtorch (<see cref="TorchRuntime.EnsureLoaded"/>) and builds the network and trainer.</summary>
    /// <param name="setup">Network, method, batch and sequence shape.</param>
    /// <param name="threads">
    /// libtorch intra-op threads while the learner lives (process-wide, restored by
    /// <see cref="Dispose"/>; ≤ 0 keeps libtorch's default of one per core). The default 1 is the
    /// fast choice for these small per-step tensors: with more threads every operation waits for
    /// OpenMP workers, which on a loaded machine made training 20-30x slower.
    /// </param>
    public TorchSequenceLearner(SequenceLearnerSetup setup, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(setup);
        TorchRuntime.EnsureLoaded();
        Setup = setup;
        _previousThreads = torch.get_num_threads();
        if (threads > 0)
        {
            torch.set_num_threads(threads);
        }

        if (setup.Method is not (SequenceTrainingMethod.Fptt or SequenceTrainingMethod.Bptt))
        {
            throw new ArgumentException($"the torch backend trains with fptt or bptt, not {SequenceTrainingMethods.Name(setup.Method)} (use the managed backend)", nameof(setup));
        }

        _network = new TorchNetwork(new Network<float>(setup.Network));
        _learningRate = setup.LearningRate;
        _optimizerOptions = new TorchOptimizerOptions
        {
            Kind = setup.Optimizer == OptimizerKind.Adamax ? TorchOptimizerKind.Adamax : TorchOptimizerKind.Adam,
            LearningRate = setup.LearningRate,
            WeightDecay = setup.WeightDecay,
        };
        _trainer = new TorchTrainer(
            _network,
            new TorchTrainerOptions
            {
                Method = setup.Method == SequenceTrainingMethod.Fptt ? TrainingMethod.Fptt : TrainingMethod.Bptt,
                ChunkLength = setup.ChunkLength,
                Fptt = setup.Fptt,
                Optimizer = _optimizerOptions,
                GradientClip = setup.GradientClip,
                Loss = setup.Loss,
                Weighting = setup.Weighting,
                Oracle = setup.Oracle,
                Decision = setup.Decision,
            },
            setup.Batch,
            setup.Steps);

        // the last good state lives in torch tensors: a snapshot is an in-place copy_, no round trip through managed arrays
        IReadOnlyList<Parameter> ps = _network.Parameters;
        _goodWeights = new Tensor[ps.Count];
        using (torch.no_grad())
        {
            for (int i = 0; i < ps.Count; i++)
            {
                _goodWeights[i] = ps[i].detach().clone().DetachFromDisposeScope();
            }

            if (_trainer.Learner is TorchFpttLearner f)
            {
                _goodAverage = new Tensor[ps.Count];
                _goodLambda = new Tensor[ps.Count];
                for (int i = 0; i < ps.Count; i++)
                {
                    _goodAverage[i] = f.Average(i).clone().DetachFromDisposeScope();
                    _goodLambda[i] = f.Lambda(i).clone().DetachFromDisposeScope();
                }
            }
        }
    }

    /// <inheritdoc/>
    public string Backend => "torch";

    /// <inheritdoc/>
    public SequenceLearnerSetup Setup { get; }

    /// <summary>The torch network trained.</summary>
    public TorchNetwork Network => _network;

    /// <summary>The trainer (its <see cref="TorchTrainer.Learner"/> holds the optimiser and, for FPTT, W̄ and λ).</summary>
    public TorchTrainer Trainer => _trainer;

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
        _random.Reseed(stateSeed);
        BatchReport r = _trainer.TrainBatch(data, _random, cancellation);
        bool diverged = r.Diverged || !double.IsFinite(r.Loss);
        return new BatchOutcome(diverged ? double.NaN : r.Loss / Math.Max(r.Weight, 1e-12), r.Correct, r.Updates, diverged, r.Complete);
    }

    /// <inheritdoc/>
    public void EndEpoch() => _trainer.EndEpoch();

    /// <inheritdoc/>
    /// <remarks>
    /// Keeps the state only when every weight W and (FPTT) every running average W̄ is finite,
    /// like the managed backend; the check and the copies are torch operations on the tensors
    /// (no copy to managed arrays), so a snapshot after every batch costs a few small tensor ops.
    /// </remarks>
    public bool Snapshot()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        IReadOnlyList<Parameter> ps = _network.Parameters;
        TorchFpttLearner? f = _trainer.Learner as TorchFpttLearner;
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        for (int i = 0; i < ps.Count; i++)
        {
            if (!AllFinite(ps[i]) || (f is not null && !AllFinite(f.Average(i))))
            {
                return false;
            }
        }

        for (int i = 0; i < ps.Count; i++)
        {
            _goodWeights[i].copy_(ps[i]);
            if (f is not null)
            {
                _goodAverage![i].copy_(f.Average(i));
                _goodLambda![i].copy_(f.Lambda(i));
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public void Rollback()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _trainer.Learner.DiscardChunk();
        if (_trainer.Learner is TorchFpttLearner f)
        {
            // the last good W̄; W ← W̄, λ ← 0, fresh optimiser state
            using (torch.no_grad())
            using (torch.NewDisposeScope())
            {
                for (int i = 0; i < _goodAverage!.Length; i++)
                {
                    f.Average(i).copy_(_goodAverage[i]);
                    f.Lambda(i).copy_(_goodLambda![i]);
                }
            }

            f.RestoreAverage();
        }
        else
        {
            using (torch.no_grad())
            using (torch.NewDisposeScope())
            {
                IReadOnlyList<Parameter> ps = _network.Parameters;
                for (int i = 0; i < ps.Count; i++)
                {
                    ps[i].copy_(_goodWeights[i]);
                }
            }

            TorchOptimizerState.CopyFrom(_trainer.Learner.Optimizer, _optimizerOptions.CreateManaged(new Network<float>(Setup.Network).Parameters));
        }

        LearningRate = _learningRate;
    }

    /// <inheritdoc/>
    /// <remarks>The running statistics of the input normalisation are copied too (inference needs them).</remarks>
    public void ExportWeights(Network<float> target)
    {
        ArgumentNullException.ThrowIfNull(target);
        _network.CopyTo(target);
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
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _trainer.Dispose();
        _network.Dispose();
        DisposeAll(_goodWeights);
        DisposeAll(_goodAverage);
        DisposeAll(_goodLambda);
        if (_previousThreads > 0 && torch.get_num_threads() != _previousThreads)
        {
            torch.set_num_threads(_previousThreads);
        }
    }

    private static bool AllFinite(Tensor t)
    {
        using Tensor finite = torch.isfinite(t);
        using Tensor all = finite.all();
        return all.item<bool>();
    }

    private static void DisposeAll(Tensor[]? tensors)
    {
        if (tensors is null)
        {
            return;
        }

        foreach (Tensor t in tensors)
        {
            t.Dispose();
        }
    }
}
