using EventSnn.Snn;
using EventSnn.Torch.Native;

namespace EventSnn.Torch.Tests;

/// <summary>
/// Checkpoints are interchangeable: train a few FPTT chunks in one backend, save, load into the
/// other (weights, optimiser moments and step, W̄ and λ), then continue both from the same
/// stream state — streaming inference outputs and further online learning stay identical
/// (relative error ≤ 1e-5).
/// </summary>
public sealed class CheckpointInterchangeTests : IDisposable
{
    private const int Chunk = 5;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "eventsnn-torch-ckpt-" + Guid.NewGuid().ToString("N")[..8]);

    public CheckpointInterchangeTests()
    {
        TorchRuntime.EnsureLoaded();
        Directory.CreateDirectory(_dir);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("ltc-leaky", true)]
    [InlineData("ltc-leaky", false)]
    [InlineData("alif-leaky", true)]
    [InlineData("ltc-fixed-membrane", false)]
    public void Train_in_one_backend_continue_in_the_other(string model, bool managedFirst)
    {
        const int batch = 2;
        NetworkConfig config = CrossCheck.Config(model);
        var options = new FpttOptions { Alpha = 0.5 };
        string path = Path.Combine(_dir, model + (managedFirst ? "-m" : "-t") + ".esnn");
        float[] x = CrossCheck.DenseInputs(40, batch, 31);
        var rng = new SnnRandom(32);

        // phase 1: 3 chunks in the first backend, then save
        Network<float> managed;
        Adam<float> mopt;
        FpttLearner<float> mlearner;
        NetworkState<float> stream;
        if (managedFirst)
        {
            managed = new Network<float>(config);
            mopt = new Adam<float>(managed.Parameters, 2e-3);
            mlearner = new FpttLearner<float>(managed, mopt, options, batch, Chunk);
            stream = managed.CreateState(batch);
            for (int t = 0; t < 3 * Chunk; t++)
            {
                mlearner.Observe(Input(x, t, batch), Target(config, batch, rng, out _), stream);
                if ((t + 1) % Chunk == 0)
                {
                    mlearner.EndChunk();
                }
            }

            Checkpoint.Save(path, managed, mopt, mlearner);
        }
        else
        {
            using var source = new TorchNetwork(config);
            using var tl = new TorchFpttLearner(source, new TorchOptimizerOptions { LearningRate = 2e-3 }, options, batch, Chunk);
            using TorchState ts0 = source.CreateState(batch);
            for (int t = 0; t < 3 * Chunk; t++)
            {
                tl.Observe(Input(x, t, batch), Target(config, batch, rng, out _), ts0);
                if ((t + 1) % Chunk == 0)
                {
                    tl.EndChunk();
                }
            }

            TorchCheckpoint.Save(path, source, tl);
            managed = new Network<float>(config);
            stream = managed.CreateState(batch);
            ts0.CopyTo(stream);
            mopt = new Adam<float>(managed.Parameters, 2e-3);
            mlearner = new FpttLearner<float>(managed, mopt, options, batch, Chunk);
            Checkpoint.Load(path, managed, mopt, mlearner);
            Assert.Equal(3, mopt.StepCount);
        }

        // phase 2: the other backend loads the file
        using TorchNetwork net = managedFirst ? TorchCheckpoint.LoadNetwork(path) : new TorchNetwork(config);
        using var tlearner = new TorchFpttLearner(net, new TorchOptimizerOptions { LearningRate = 2e-3 }, options, batch, Chunk);
        CheckpointData data = TorchCheckpoint.Load(path, net, tlearner);
        Assert.Equal(config.LayoutKey(), data.Config.LayoutKey());
        Assert.Equal(3, tlearner.StepCount);
        for (int p = 0; p < managed.Parameters.Count; p++)
        {
            Assert.Equal(managed.Parameters[p].Data, CrossCheck.Values(net.Parameters[p]));
            Assert.Equal(mlearner.GetAverage(p), CrossCheck.Values(tlearner.Average(p)));
            Assert.Equal(mlearner.GetLambda(p), CrossCheck.Values(tlearner.Lambda(p)));
        }

        // phase 3: continue from the same stream state: 2 more learning chunks, then streaming inference
        using TorchState ts = TorchState.FromManaged(stream);
        int c = config.Readout.Size;
        var mo = new float[batch * c];
        var to = new float[batch * c];
        for (int t = 3 * Chunk; t < 5 * Chunk; t++)
        {
            var local = new SnnRandom(100 + t);
            mlearner.Observe(Input(x, t, batch), Target(config, batch, local, out _), stream, mo);
            local = new SnnRandom(100 + t);
            tlearner.Observe(Input(x, t, batch), Target(config, batch, local, out _), ts, to);
            CrossCheck.AssertClose(to, mo, 1e-5, $"learning step {t}");
            if ((t + 1) % Chunk == 0)
            {
                mlearner.EndChunk();
                tlearner.EndChunk();
            }
        }

        for (int p = 0; p < managed.Parameters.Count; p++)
        {
            CrossCheck.AssertClose(CrossCheck.Values(net.Parameters[p]), managed.Parameters[p].Data, 1e-5, $"W of {managed.Parameters[p].Name} after continued training");
        }

        for (int t = 5 * Chunk; t < 40; t++)
        {
            managed.Step(Input(x, t, batch), stream, mo);
            net.Step(Input(x, t, batch), ts, to);
            CrossCheck.AssertClose(to, mo, 1e-5, $"streaming step {t}");
        }

        CrossCheck.AssertStatesMatch(stream, ts, 1e-5, "end of stream");
    }

    /// <summary>
    /// Managed → torch → managed: a managed FPTT learner with Adamax and weight decay trains a model
    /// with running and batch normalisation (so its running statistics have moved) and saves; torch
    /// loads it (weights, running statistics, Adamax moments and step, W̄, λ) and saves again; the
    /// managed engine reads back exactly the original values. Both then continue one chunk from the
    /// same stream state and the same dropout masks, and agree.
    /// </summary>
    [Theory]
    [InlineData("ltc2-batch-dropout")]
    [InlineData("ltc3-mixed-dropout")]
    public void Buffers_and_adamax_state_survive_managed_to_torch_to_managed(string model)
    {
        const int batch = 3;
        NetworkConfig config = CrossCheck.Config(model);
        var options = new FpttOptions { Alpha = 0.5 };
        string first = Path.Combine(_dir, model + "-managed.esnn");
        string second = Path.Combine(_dir, model + "-torch.esnn");
        float[] x = CrossCheck.DenseInputs(4 * Chunk, batch, 33);
        var rng = new SnnRandom(34);
        var managed = new Network<float>(config);
        var mopt = new Adamax<float>(managed.Parameters, 2e-3, weightDecay: 1e-3);
        var mlearner = new FpttLearner<float>(managed, mopt, options, batch, Chunk);
        NetworkState<float> stream = managed.CreateState(batch);
        for (int t = 0; t < 3 * Chunk; t++)
        {
            mlearner.Observe(Input(x, t, batch), Target(config, batch, rng, out _), stream);
            if ((t + 1) % Chunk == 0)
            {
                mlearner.EndChunk();
            }
        }

        Assert.All(managed.Buffers, b => Assert.Contains(b.Data, v => v != 0f && v != 1f));
        Checkpoint.Save(first, managed, mopt, mlearner);

        using TorchNetwork net = TorchCheckpoint.LoadNetwork(first);
        CrossCheck.AssertBuffersMatch(managed, net, 0, "torch network loaded");
        using var tlearner = new TorchFpttLearner(net, TorchOptimizerOptions.FromManaged(mopt), options, batch, Chunk);
        Assert.Equal(TorchOptimizerKind.Adamax, tlearner.OptimizerOptions.Kind);
        TorchCheckpoint.Load(first, net, tlearner);
        Assert.Equal(3, tlearner.StepCount);
        TorchCheckpoint.Save(second, net, tlearner);

        var back = new Network<float>(config);
        var bopt = new Adamax<float>(back.Parameters, 2e-3, weightDecay: 1e-3);
        var blearner = new FpttLearner<float>(back, bopt, options, batch, Chunk);
        CheckpointData data = Checkpoint.Load(second, back, bopt, blearner);
        Assert.Equal("adamax", data.Meta["optimizer"]?["name"]?.GetValue<string>());
        Assert.Equal(1e-3, data.Meta["optimizer"]?["hyper"]?["weight_decay"]?.GetValue<double>());
        Assert.Equal(mopt.StepCount, bopt.StepCount);
        for (int i = 0; i < managed.Buffers.Count; i++)
        {
            Assert.Equal(managed.Buffers[i].Name, back.Buffers[i].Name);
            Assert.Equal(managed.Buffers[i].Data, back.Buffers[i].Data);
        }

        for (int p = 0; p < managed.Parameters.Count; p++)
        {
            Assert.Equal(managed.Parameters[p].Data, back.Parameters[p].Data);
            Assert.Equal(mlearner.GetAverage(p), blearner.GetAverage(p));
            Assert.Equal(mlearner.GetLambda(p), blearner.GetLambda(p));
            Assert.Equal(mopt.GetState(0, p), bopt.GetState(0, p));
            Assert.Equal(mopt.GetState(1, p), bopt.GetState(1, p));
        }

        // one more chunk in both from the same stream state and masks
        using TorchState ts = TorchState.FromManaged(stream);
        mlearner.ReseedDropout(77);
        tlearner.ReseedDropout(77);
        int c = config.Readout.Size;
        var mo = new float[batch * c];
        var to = new float[batch * c];
        for (int t = 3 * Chunk; t < 4 * Chunk; t++)
        {
            var local = new SnnRandom(200 + t);
            mlearner.Observe(Input(x, t, batch), Target(config, batch, local, out _), stream, mo);
            local = new SnnRandom(200 + t);
            tlearner.Observe(Input(x, t, batch), Target(config, batch, local, out _), ts, to);
            CrossCheck.AssertClose(to, mo, 1e-5, $"continued step {t}");
        }

        mlearner.EndChunk();
        tlearner.EndChunk();
        CrossCheck.AssertBuffersMatch(managed, net, 1e-5, "after the continued chunk");
        for (int p = 0; p < managed.Parameters.Count; p++)
        {
            CrossCheck.AssertClose(CrossCheck.Values(net.Parameters[p]), managed.Parameters[p].Data, 1e-5, $"W of {managed.Parameters[p].Name} after the continued chunk");
        }
    }

    [Fact]
    public void Loading_a_checkpoint_of_another_layout_fails_with_a_checkpoint_exception()
    {
        string path = Path.Combine(_dir, "ltc.esnn");
        using (var net = new TorchNetwork(CrossCheck.Config("ltc-leaky")))
        {
            TorchCheckpoint.Save(path, net);
        }

        using var other = new TorchNetwork(CrossCheck.Config("alif-leaky"));
        CheckpointException ex = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Load(path, other));
        Assert.Contains("configuration differs", ex.Message, StringComparison.Ordinal);
    }

    private static StepInput<float> Input(float[] x, int t, int batch) =>
        new(x.AsSpan(t * batch * CrossCheck.Inputs, batch * CrossCheck.Inputs));

    private static StepTarget<float> Target(NetworkConfig config, int batch, SnnRandom rng, out int[] labels)
    {
        int c = config.Readout.Size;
        labels = new int[batch];
        for (int b = 0; b < batch; b++)
        {
            labels[b] = rng.NextInt(c);
        }

        if (config.Readout.Kind == ReadoutKind.Leaky)
        {
            return new StepTarget<float>(labels, 1.0);
        }

        var values = new float[batch * c];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)rng.NextDouble();
        }

        return new StepTarget<float>(values, 1.0);
    }
}
