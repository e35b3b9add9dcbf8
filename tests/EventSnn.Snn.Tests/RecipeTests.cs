using EventSnn.Snn.Classification;
using EventSnn.Transforms;

namespace EventSnn.Snn.Tests;

/// <summary>The training recipe's pieces outside the gradient checks: decision readouts, the divergence guard, the recipe's JSON and checkpoint round trip, the one inference routine, and loss schedules.</summary>
public class RecipeTests
{
    [Fact]
    public void Decision_readouts_read_last_mean_and_max_of_the_steps()
    {
        // class 0 wins the last step, class 1 wins on average, class 2 has the single highest peak
        float[][] steps =
        [
            [0, 3, 0],
            [0, 3, 0],
            [0, 0, 6],
            [2, 0, 0],
        ];
        int Decide(DecisionReadout mode)
        {
            var acc = new DecisionAccumulator(mode, 1, 3);
            foreach (float[] o in steps)
            {
                acc.Add(o, 1);
            }

            Assert.Equal(4, acc.Steps);
            return acc.Decide(0);
        }

        Assert.Equal(0, Decide(DecisionReadout.Last));
        Assert.Equal(1, Decide(DecisionReadout.Mean));
        Assert.Equal(2, Decide(DecisionReadout.Max));

        // mean: NLL = −mean_t log p_t(y), confidence = softmax of the mean log-probabilities
        var mean = new DecisionAccumulator(DecisionReadout.Mean, 1, 3);
        double expected = 0;
        var logp = new double[3];
        foreach (float[] o in steps)
        {
            mean.Add(o, 1);
            DecisionAccumulator.LogSoftmax(o, logp);
            expected -= logp[1] / steps.Length;
        }

        Assert.Equal(expected, mean.Nll(0, 1), 12);
        Assert.InRange(mean.Confidence(0), 1.0 / 3, 1);
    }

    [Fact]
    public void The_guard_catches_non_finite_and_exploding_losses_but_not_a_confidently_wrong_answer()
    {
        var guard = new DivergenceGuard(classes: 20);
        for (int i = 0; i < 200; i++)
        {
            Assert.False(guard.IsDivergence(0.01)); // a well-fitted stream
        }

        Assert.False(guard.IsDivergence(25)); // a confidently wrong answer: -log(1e-11)
        Assert.True(guard.IsDivergence(double.NaN));
        Assert.True(guard.IsDivergence(double.PositiveInfinity));
        Assert.True(guard.IsDivergence(1e4));
        Assert.Equal(3, guard.Divergences);
        Assert.Equal(100 * Math.Log(20), guard.Limit, 9); // the floor ln C keeps the limit up while the mean is small
    }

    [Fact]
    public void A_confidently_wrong_sample_in_a_fitted_stream_is_not_rolled_back()
    {
        var options = new OnlineClassifierOptions { Inputs = 4, Classes = 3, Steps = 10, Recipe = new SequenceTrainerOptions { Hidden = 16, Chunks = 2, LearningRate = 0.02, Seed = 4 } };
        var c = new OnlineSequenceClassifier(options);
        var x = new float[4];
        for (int n = 0; n < 300; n++)
        {
            int label = n % 3;
            c.BeginSample(label);
            for (int t = 0; t < 10; t++)
            {
                Array.Clear(x);
                x[label] = 1;
                c.Step(x);
            }

            c.EndSample();
        }

        // the same input with the wrong label: a large, ordinary loss
        c.BeginSample(2);
        for (int t = 0; t < 10; t++)
        {
            Array.Clear(x);
            x[0] = 1;
            c.Step(x);
        }

        c.EndSample();
        Assert.Equal(0, c.Divergences);
    }

    [Fact]
    public void The_recipe_round_trips_through_json_and_checkpoints()
    {
        var recipe = new SequenceTrainerOptions
        {
            LayerSizes = [32, 16],
            Loss = LossPlacement.EveryStep,
            Weighting = LossWeighting.Uniform,
            Oracle = true,
            Decision = DecisionReadout.Max,
            InputNorm = InputNormKind.Running,
            NormGain = 0.5,
            Dropout = 0.1,
            TauBiasInit = -1,
            RhoBiasInit = 2,
            LearnableSlope = true,
            Optimizer = OptimizerKind.Adamax,
            WeightDecay = 1e-4,
            Schedule = LearningRateScheduleKind.Step,
            Augment = "shift:4",
            Seed = 9,
        };
        System.Text.Json.Nodes.JsonObject json = recipe.ToJson();
        Assert.Equal("every-step", json["loss"]!.GetValue<string>());
        Assert.Equal("adamax", json["optimizer"]!.GetValue<string>());
        SequenceTrainerOptions back = SequenceTrainerOptions.FromJson(json);
        Assert.Equal(recipe.ToJson().ToJsonString(), back.ToJson().ToJsonString());
        Assert.Equal(recipe.LayerSizes, back.LayerSizes);

        string path = Path.Combine(Path.GetTempPath(), "recipe-" + Guid.NewGuid().ToString("N") + ".ckpt");
        try
        {
            var c = new OnlineSequenceClassifier(new OnlineClassifierOptions { Inputs = 5, Classes = 3, Steps = 8, Recipe = recipe });
            c.Save(path);
            CheckpointData data = Checkpoint.Read(path);
            SequenceTrainerOptions stored = SequenceTrainerOptions.ForCheckpoint(data);
            Assert.Equal(DecisionReadout.Max, stored.Decision);
            Assert.Equal(recipe.NetworkConfig(5, 3, 8).LayoutKey(), data.Config.LayoutKey());

            // running statistics are model buffers: saved and loaded with the weights
            Assert.Equal(4, c.Network.Buffers.Count);
            Assert.Contains(data.Tensors.Keys, k => k == "layers.1.norm.running_var");
        }
        finally
        {
            File.Delete(path);
        }

        // an older checkpoint without a stored recipe gets one derived from its network
        var config = new NetworkConfig { InputSize = 5, Layers = [new LayerConfig { Size = 7 }, new LayerConfig { Size = 6 }], Readout = new ReadoutConfig { Size = 3 }, Seed = 5 };
        SequenceTrainerOptions derived = SequenceTrainerOptions.ForNetwork(config);
        Assert.Equal(config.LayoutKey(), derived.NetworkConfig(5, 3).LayoutKey());
    }

    [Fact]
    public void The_gate_biases_of_the_recipe_start_every_layer_and_are_recovered_from_the_network()
    {
        var recipe = new SequenceTrainerOptions { LayerSizes = [6, 5], TauBiasInit = -3, RhoBiasInit = 4, LearnableSlope = true, Seed = 2 };
        var net = new Network<float>(recipe.NetworkConfig(5, 3, 8));
        Assert.Equal(2, net.Layers.Count);
        foreach (var layer in net.Layers)
        {
            var ltc = Assert.IsType<LtcLayer<float>>(layer);
            Assert.All(ltc.TauBias.Data, v => Assert.Equal(-3f, v));
            Assert.All(ltc.RhoBias.Data, v => Assert.Equal(4f, v));
            Assert.Equal(1f, Assert.IsType<Parameter<float>>(ltc.TauSlope).Data[0]);
            Assert.Contains(ltc.RhoSlope!, ltc.Parameters);
        }

        SequenceTrainerOptions derived = SequenceTrainerOptions.ForNetwork(net.Config);
        Assert.Equal(-3, derived.TauBiasInit);
        Assert.Equal(4, derived.RhoBiasInit);
        Assert.True(derived.LearnableSlope);
        Assert.False(SequenceTrainerOptions.ForNetwork(new SequenceTrainerOptions().NetworkConfig(5, 3, 8)).LearnableSlope);
        Assert.Throws<ArgumentException>(() => (recipe with { RhoBiasInit = double.NaN }).Validate());
    }

    [Fact]
    public void The_readout_normalisation_follows_the_input_kind_and_is_recovered_from_the_network_and_bad_settings_are_refused()
    {
        var recipe = new SequenceTrainerOptions { LayerSizes = [6], InputNorm = InputNormKind.Running, NormGain = 0.4, ReadoutNorm = true, Seed = 2 };
        NetworkConfig config = recipe.NetworkConfig(5, 3, 8);
        Assert.Equal(InputNormKind.Running, config.Readout.Norm);
        var net = new Network<float>(config);
        Assert.Equal(["layers.0.norm.running_mean", "layers.0.norm.running_var", "readout.norm.running_mean", "readout.norm.running_var"], net.Buffers.Select(b => b.Name));
        Assert.Equal("readout.norm.weight", net.Readout.Parameters[^1].Name);
        Assert.All(net.Readout.NormGain!.Data, v => Assert.Equal(0.4f, v));
        Assert.NotEqual((recipe with { ReadoutNorm = false }).NetworkConfig(5, 3, 8).LayoutKey(), config.LayoutKey());
        Assert.True(SequenceTrainerOptions.ForNetwork(config).ReadoutNorm);
        Assert.Equal(config.Readout, NetworkConfig.FromJson(config.ToJson()).Readout);

        // the other initial values are those of the network without it (the gain draws nothing from the generator)
        var plain = new Network<float>((recipe with { ReadoutNorm = false }).NetworkConfig(5, 3, 8));
        Assert.Equal(plain.Readout.Weight.Data, net.Readout.Weight.Data);

        // a streaming learner at batch 1 moves the readout's statistics
        var online = new OnlineSequenceClassifier(new OnlineClassifierOptions { Inputs = 5, Classes = 3, Steps = 8, Recipe = recipe with { Hidden = 6, LayerSizes = [] } });
        var rng = new Random(4);
        var frame = new float[5];
        for (int n = 0; n < 4; n++)
        {
            online.BeginSample(n % 3);
            for (int t = 0; t < 8; t++)
            {
                for (int i = 0; i < frame.Length; i++)
                {
                    frame[i] = rng.NextDouble() < 0.5 ? 1f : 0f;
                }

                online.Step(frame);
            }
        }

        Assert.Contains(online.Network.Readout.RunningVar!.Data, v => v != 1f);

        // the statistics and the gain are saved with the weights and loaded back
        string path = Path.Combine(Path.GetTempPath(), "readnorm-" + Guid.NewGuid().ToString("N") + ".ckpt");
        try
        {
            online.Save(path);
            var loaded = new OnlineSequenceClassifier(new OnlineClassifierOptions { Inputs = 5, Classes = 3, Steps = 8, Recipe = recipe with { Hidden = 6, LayerSizes = [] } });
            Assert.NotEqual(online.Network.Readout.RunningVar.Data, loaded.Network.Readout.RunningVar!.Data);
            loaded.Load(path);
            Assert.Equal(online.Network.Readout.RunningVar.Data, loaded.Network.Readout.RunningVar.Data);
            Assert.Equal(online.Network.Readout.RunningMean!.Data, loaded.Network.Readout.RunningMean!.Data);
            Assert.Equal(online.Network.Readout.NormGain!.Data, loaded.Network.Readout.NormGain!.Data);
        }
        finally
        {
            File.Delete(path);
        }

        // needs a running kind; e-prop trains a readout without it; the membrane head and batch statistics are refused by the network
        ArgumentException e = Assert.Throws<ArgumentException>(() => (recipe with { InputNorm = InputNormKind.Layer }).Validate());
        Assert.Equal(nameof(SequenceTrainerOptions.ReadoutNorm), e.ParamName);
        e = Assert.Throws<ArgumentException>(() => (recipe with { Method = SequenceTrainingMethod.Eprop }).Validate());
        Assert.Equal(nameof(SequenceTrainerOptions.ReadoutNorm), e.ParamName);
        Assert.Contains("Readout.Norm", Assert.Throws<ArgumentException>(() => new Network<float>(config with { Readout = config.Readout with { Kind = ReadoutKind.Membrane } })).Message);
        Assert.Contains("Readout.Norm", Assert.Throws<ArgumentException>(() => new Network<float>(config with { Readout = config.Readout with { Norm = InputNormKind.Batch } })).Message);
    }

    [Fact]
    public void Evaluation_and_the_streaming_classifier_decide_every_sample_alike()
    {
        var recipe = new SequenceTrainerOptions { Hidden = 12, LayerSizes = [12, 8], InputNorm = InputNormKind.Layer, Decision = DecisionReadout.Mean, Seed = 3 };
        var options = new OnlineClassifierOptions { Inputs = 6, Classes = 3, Steps = 9, Recipe = recipe };
        var online = new OnlineSequenceClassifier(options) { Learning = false };
        var rng = new Random(1);
        var samples = new List<ILabelledSequence>();
        for (int n = 0; n < 30; n++)
        {
            var dense = new float[9 * 6];
            for (int i = 0; i < dense.Length; i++)
            {
                dense[i] = rng.NextDouble() < 0.3 ? (float)rng.NextDouble() * 2 : 0;
            }

            samples.Add(new DenseSequence(dense, 9, 6, n % 3));
        }

        EvaluationResult eval = SequenceTrainer.Evaluate(online.Network, samples, DecisionReadout.Mean);
        int correct = 0;
        var step = new float[6];
        foreach (ILabelledSequence s in samples)
        {
            online.BeginSample(s.Label);
            for (int t = 0; t < s.Steps; t++)
            {
                ((DenseSequence)s).Step(t, step);
                online.Step(step);
            }

            correct += online.EndSample().Correct ? 1 : 0;
        }

        Assert.Equal(eval.Accuracy, correct / (double)samples.Count);
    }

    [Fact]
    public void Loss_schedules_weight_every_step_or_chunk_ends_as_documented()
    {
        // every step, linear: (t+1)/T divided by the chunk's steps; oracle 1 − progress
        (double w, double o) = LossSchedule.Weights(LossPlacement.EveryStep, LossWeighting.Linear, oracle: true, SequenceTrainingMethod.Fptt, steps: 10, t: 3, chunk: 1, chunks: 5, start: 2, end: 4);
        Assert.Equal(0.4 / 2, w, 12);
        Assert.Equal(0.6 / 2, o, 12);

        // chunk end: (p+1)/P at the last step of the chunk only
        Assert.Equal((0, 0), LossSchedule.Weights(LossPlacement.ChunkEnd, LossWeighting.Linear, oracle: true, SequenceTrainingMethod.Fptt, 10, 2, 1, 5, 2, 4));
        (w, o) = LossSchedule.Weights(LossPlacement.ChunkEnd, LossWeighting.Linear, oracle: true, SequenceTrainingMethod.Fptt, 10, 3, 1, 5, 2, 4);
        Assert.Equal(0.4, w, 12);
        Assert.Equal(0.6, o, 12);
        Assert.Equal((1.0, 0.0), LossSchedule.Weights(LossPlacement.ChunkEnd, LossWeighting.Linear, oracle: true, SequenceTrainingMethod.Bptt, 10, 9, 0, 1, 0, 10));
    }

    private sealed class DenseSequence(float[] dense, int steps, int features, int label) : ILabelledSequence
    {
        private readonly int[][] _idx = Indices(dense, steps, features, out float[][] values);
        private readonly float[][] _val = Values(dense, steps, features);

        public int Steps => steps;

        public int Features => features;

        public int Label => label;

        public int NonZeros => dense.Count(v => v != 0);

        public ReadOnlySpan<int> ActiveAt(int step) => _idx[step];

        public ReadOnlySpan<float> ValuesAt(int step) => _val[step];

        public void Step(int t, float[] into) => dense.AsSpan(t * features, features).CopyTo(into);

        private static int[][] Indices(float[] dense, int steps, int features, out float[][] values)
        {
            values = Values(dense, steps, features);
            var idx = new int[steps][];
            for (int t = 0; t < steps; t++)
            {
                idx[t] = [.. Enumerable.Range(0, features).Where(j => dense[(t * features) + j] != 0)];
            }

            return idx;
        }

        private static float[][] Values(float[] dense, int steps, int features)
        {
            var val = new float[steps][];
            for (int t = 0; t < steps; t++)
            {
                val[t] = [.. Enumerable.Range(0, features).Select(j => dense[(t * features) + j]).Where(v => v != 0)];
            }

            return val;
        }
    }
}
