using EventSnn.Snn;
using EventSnn.Torch.Native;
using TorchSharp;

namespace EventSnn.Torch.Tests;

/// <summary>
/// Offline batch training with <see cref="TorchTrainer"/>: at B = 32 one FPTT batch gives the
/// same weights as the managed FPTT learner following the same protocol, and both FPTT and BPTT
/// learn a small spike-pattern classification task from sparse batches.
/// </summary>
public class TrainerTests
{
    private const int Inputs = 24;
    private const int Steps = 12;

    public TrainerTests()
    {
        TorchRuntime.EnsureLoaded();
        torch.set_num_threads(1);
    }

    [Fact]
    public void One_fptt_batch_of_32_matches_the_managed_learner()
    {
        const int batch = 32;
        const int chunk = 4;
        var config = Config(21);
        var managed = new Network<float>(config);
        using var net = new TorchNetwork(managed);
        var options = new TorchTrainerOptions { ChunkLength = chunk, Optimizer = new TorchOptimizerOptions { LearningRate = 3e-3 } };
        using var trainer = new TorchTrainer(net, options, batch, Steps);
        SequenceBatch data = Batch(batch, new SnnRandom(3));

        BatchReport report = trainer.TrainBatch(data);

        // the managed engine, same protocol: fresh state, chunk p of P weighted (p+1)/P at its last step
        var opt = new Adam<float>(managed.Parameters, 3e-3);
        var learner = new FpttLearner<float>(managed, opt, options.Fptt, batch, chunk);
        NetworkState<float> state = managed.CreateState(batch);
        double loss = 0;
        int chunks = Steps / chunk;
        for (int p = 0; p < chunks; p++)
        {
            for (int t = p * chunk; t < (p + 1) * chunk; t++)
            {
                StepTarget<float> target = t == ((p + 1) * chunk) - 1 ? new StepTarget<float>(data.Labels, Fptt.ChunkWeight(p, chunks)) : default;
                learner.Observe(data.Step(t), target, state);
            }

            loss += learner.EndChunk().Loss;
        }

        Assert.Equal(chunks, report.Updates);
        Assert.Equal(loss, report.Loss, 1e-5 * Math.Max(1, loss));
        for (int p = 0; p < managed.Parameters.Count; p++)
        {
            CrossCheck.AssertClose(CrossCheck.Values(net.Parameters[p]), managed.Parameters[p].Data, 1e-5, "W of " + managed.Parameters[p].Name);
        }
    }

    [Theory]
    [InlineData(TrainingMethod.Fptt, 32)]
    [InlineData(TrainingMethod.Bptt, 64)]
    public void Learns_a_spike_pattern_task_from_sparse_batches(TrainingMethod method, int batch)
    {
        using var net = new TorchNetwork(Config(5));
        var options = new TorchTrainerOptions
        {
            Method = method,
            ChunkLength = 4,
            Optimizer = new TorchOptimizerOptions { LearningRate = 1e-2 },
        };
        using var trainer = new TorchTrainer(net, options, batch, Steps);
        var rng = new SnnRandom(9);
        SequenceBatch[] test = [Batch(50, new SnnRandom(1234)), Batch(46, new SnnRandom(4321))];
        BatchReport before = trainer.Evaluate(test);
        Assert.Equal(96, before.Samples);
        TrainingEpochReport last = default;
        for (int epoch = 1; epoch <= 4; epoch++)
        {
            var batches = new SequenceBatch[10];
            for (int i = 0; i < batches.Length; i++)
            {
                batches[i] = Batch(batch, rng);
            }

            last = trainer.TrainEpoch(batches);
            Assert.Equal(epoch, last.Epoch);
            Assert.Equal(10, last.Batches);
            Assert.Equal(10 * batch, last.Samples);
            Assert.Equal(method == TrainingMethod.Fptt ? 10 * (Steps / 4) : 10, last.Updates);
            Assert.True(double.IsFinite(last.Loss) && last.Loss > 0);
            Assert.InRange(last.Accuracy, 0, 1);
        }

        BatchReport after = trainer.Evaluate(test);
        Assert.Equal(4, trainer.Epoch);
        Assert.True(after.Accuracy >= 0.9, $"{method}: accuracy {before.Accuracy:P0} -> {after.Accuracy:P0} (loss {after.Loss:F3}, chance 33 %)");
        Assert.True(after.Loss < before.Loss, $"{method}: loss {before.Loss:F3} -> {after.Loss:F3}");
    }

    [Fact]
    public void Dense_and_sparse_batches_train_the_same()
    {
        const int batch = 32;
        SequenceBatch sparse = Batch(batch, new SnnRandom(77));
        var dense = new float[Steps * batch * Inputs];
        for (int t = 0; t < Steps; t++)
        {
            for (int b = 0; b < batch; b++)
            {
                for (int k = sparse.SparseOffsets![t][b]; k < sparse.SparseOffsets[t][b + 1]; k++)
                {
                    dense[(((t * batch) + b) * Inputs) + sparse.SparseIndices![t][k]] = 1f;
                }
            }
        }

        SequenceBatch denseBatch = SequenceBatch.Dense(dense, Steps, batch, Inputs, sparse.Labels);
        var options = new TorchTrainerOptions { ChunkLength = 5, Optimizer = new TorchOptimizerOptions { LearningRate = 5e-3 } };
        using var a = new TorchNetwork(Config(8));
        using var b2 = new TorchNetwork(Config(8));
        using var ta = new TorchTrainer(a, options, batch, Steps);
        using var tb = new TorchTrainer(b2, options, batch, Steps);

        BatchReport ra = ta.TrainBatch(sparse);
        BatchReport rb = tb.TrainBatch(denseBatch);

        Assert.Equal(3, ra.Updates); // ⌈12 / 5⌉ chunks, the last one short
        Assert.Equal(ra.Updates, rb.Updates);
        Assert.Equal(ra.Loss, rb.Loss, 1e-5 * Math.Max(1, ra.Loss));
        Assert.Equal(ra.Accuracy, rb.Accuracy);
        for (int p = 0; p < a.Parameters.Count; p++)
        {
            CrossCheck.AssertClose(CrossCheck.Values(b2.Parameters[p]), CrossCheck.Values(a.Parameters[p]), 1e-5, "W of " + a.ParameterNames[p]);
        }
    }

    /// <summary>
    /// The batch loss is the mean over samples, so the batch gradient (one chunk, at the start
    /// where the FPTT regulariser's gradient α(W − W̄) − λ is zero) equals the mean of the B
    /// single-sample gradients. Zero initial state, so every sample starts alike in both runs.
    /// </summary>
    [Fact]
    public void Batch_gradient_is_the_mean_of_per_sample_gradients()
    {
        const int batch = 8;
        NetworkConfig config = Config(31) with { InitialState = InitialStateMode.Zero };
        SequenceBatch data = Batch(batch, new SnnRandom(5));
        var options = new TorchTrainerOptions { ChunkLength = Steps };
        using var net = new TorchNetwork(config);
        using var trainer = new TorchTrainer(net, options, batch, Steps);
        trainer.Learner.CaptureGradients = true;
        trainer.TrainBatch(data);

        int count = net.Parameters.Count;
        var mean = new double[count][];
        for (int b = 0; b < batch; b++)
        {
            using var single = new TorchNetwork(config);
            using var one = new TorchTrainer(single, options, 1, Steps);
            one.Learner.CaptureGradients = true;
            one.TrainBatch(Sample(data, b));
            for (int p = 0; p < count; p++)
            {
                float[] g = one.Learner.CapturedGradient(p);
                mean[p] ??= new double[g.Length];
                for (int i = 0; i < g.Length; i++)
                {
                    mean[p][i] += g[i] / (double)batch;
                }
            }
        }

        double total = 0;
        for (int p = 0; p < count; p++)
        {
            float[] expected = Array.ConvertAll(mean[p], v => (float)v);
            double e = CrossCheck.NormRelativeError(trainer.Learner.CapturedGradient(p), expected);
            Assert.True(e <= 1e-4, $"gradient of {net.ParameterNames[p]}: relative error {e:E3}");
            foreach (float v in expected)
            {
                total += Math.Abs(v);
            }
        }

        Assert.True(total > 0, "all gradients are zero: the check would be vacuous");
    }

    /// <summary>
    /// <see cref="TorchTrainer.Save"/> writes the managed checkpoint format: the managed engine loads
    /// it and streams the same readouts; a second trainer loading it (weights, Adam moments, W̄, λ)
    /// continues training exactly like the original.
    /// </summary>
    [Fact]
    public void Save_writes_a_managed_checkpoint_that_both_backends_continue_from()
    {
        const int batch = 32;
        string dir = Path.Combine(Path.GetTempPath(), "eventsnn-trainer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "model.ckpt");
            var options = new TorchTrainerOptions { ChunkLength = 4, Optimizer = new TorchOptimizerOptions { LearningRate = 5e-3 } };
            using var net = new TorchNetwork(Config(12));
            using var trainer = new TorchTrainer(net, options, batch, Steps);
            var rng = new SnnRandom(2);
            trainer.TrainBatch(Batch(batch, rng));
            trainer.TrainBatch(Batch(batch, rng));
            trainer.Save(path);

            // the managed engine streams the saved model like the torch one
            Network<float> managed = Checkpoint.LoadNetwork<float>(path);
            SequenceBatch probe = Batch(4, new SnnRandom(3));
            NetworkState<float> ms = managed.CreateState(4);
            using TorchState ts = net.CreateState(4);
            var mo = new float[4 * 3];
            var to = new float[4 * 3];
            for (int t = 0; t < Steps; t++)
            {
                managed.Step(probe.Step(t), ms, mo);
                net.Step(probe.Step(t), ts, to);
                CrossCheck.AssertClose(mo, to, 1e-5, $"step {t}: readout");
            }

            // a fresh trainer resumes from the file exactly (network from the checkpoint's config, then optimiser, W̄, λ)
            using TorchNetwork net2 = TorchCheckpoint.LoadNetwork(path);
            using var resumed = new TorchTrainer(net2, options, batch, Steps);
            resumed.Load(path);
            SequenceBatch next = Batch(batch, rng);
            BatchReport r1 = trainer.TrainBatch(next);
            BatchReport r2 = resumed.TrainBatch(next);
            Assert.Equal(r1.Loss, r2.Loss, 1e-6 * Math.Max(1, r1.Loss));
            for (int p = 0; p < net.Parameters.Count; p++)
            {
                CrossCheck.AssertClose(CrossCheck.Values(net2.Parameters[p]), CrossCheck.Values(net.Parameters[p]), 1e-6, "W of " + net.ParameterNames[p]);
                var f1 = (TorchFpttLearner)trainer.Learner;
                var f2 = (TorchFpttLearner)resumed.Learner;
                CrossCheck.AssertClose(CrossCheck.Values(f2.Average(p)), CrossCheck.Values(f1.Average(p)), 1e-6, "W̄ of " + net.ParameterNames[p]);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Rejects_mismatched_batches()
    {
        using var net = new TorchNetwork(Config(1));
        using var trainer = new TorchTrainer(net, new TorchTrainerOptions(), 32, Steps);
        Assert.Throws<ArgumentException>(() => trainer.TrainBatch(Batch(16, new SnnRandom(1))));
        Assert.Throws<ArgumentException>(() => SequenceBatch.Sparse([[0, 30]], [[0, 2]], Inputs, [0]));
        Assert.Throws<ArgumentException>(() => SequenceBatch.Dense(new float[10], 1, 1, Inputs, [0]));
        Assert.Equal(16, trainer.Evaluate(Batch(16, new SnnRandom(1))).Samples); // evaluation takes any batch size
    }

    private static SequenceBatch Sample(SequenceBatch data, int b)
    {
        var indices = new int[data.Steps][];
        var offsets = new int[data.Steps][];
        for (int t = 0; t < data.Steps; t++)
        {
            int lo = data.SparseOffsets![t][b], hi = data.SparseOffsets[t][b + 1];
            indices[t] = data.SparseIndices![t][lo..hi];
            offsets[t] = [0, hi - lo];
        }

        return SequenceBatch.Sparse(indices, offsets, data.Inputs, [data.Labels[b]]);
    }

    private static NetworkConfig Config(long seed) => new()
    {
        InputSize = Inputs,
        Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 24 }],
        Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 3 },
        Seed = seed,
    };

    /// <summary>Class k fires mostly in channel block k (8 channels each), with background noise.</summary>
    private static SequenceBatch Batch(int batch, SnnRandom rng)
    {
        int[] labels = new int[batch];
        for (int b = 0; b < batch; b++)
        {
            labels[b] = rng.NextInt(3);
        }

        var indices = new int[Steps][];
        var offsets = new int[Steps][];
        var list = new List<int>();
        for (int t = 0; t < Steps; t++)
        {
            list.Clear();
            offsets[t] = new int[batch + 1];
            for (int b = 0; b < batch; b++)
            {
                for (int j = 0; j < Inputs; j++)
                {
                    bool own = j / 8 == labels[b];
                    if (rng.NextDouble() < (own ? 0.5 : 0.05))
                    {
                        list.Add(j);
                    }
                }

                offsets[t][b + 1] = list.Count;
            }

            indices[t] = [.. list];
        }

        return SequenceBatch.Sparse(indices, offsets, Inputs, labels);
    }
}
