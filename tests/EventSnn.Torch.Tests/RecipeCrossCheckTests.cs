using EventSnn.Snn;
using EventSnn.Snn.Classification;
using EventSnn.Torch.Native;

namespace EventSnn.Torch.Tests;

/// <summary>
/// The training recipe in both backends: input normalisation (running statistics, layer norm,
/// per-timestep batch norm; learned gains; running statistics as buffers), stacks of 1-3 layers,
/// spike dropout (the torch learner draws its masks from a generator seeded like the managed
/// learner's, so both drop the same spikes and the comparison is exact), gate-bias
/// initialisation, per-step losses with linear weighting and the oracle term
/// (<see cref="LossSchedule"/>), Adam/Adamax with weight decay. Inference steps agree to 1e-5;
/// in FPTT and BPTT training the readouts agree to 1e-5 at every step, the gradient of every
/// parameter (norm gains included) to ‖diff‖₂/‖managed‖₂ ≤ 1e-4, and after every update W, W̄, λ and
/// the running statistics to 1e-5.
/// </summary>
public class RecipeCrossCheckTests
{
    private const double GradientTolerance = 1e-4;

    public RecipeCrossCheckTests() => TorchRuntime.EnsureLoaded();

    public static TheoryData<string, int, bool> InferenceCases()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (string m in CrossCheck.RecipeModels)
        {
            data.Add(m, 1, false);
            data.Add(m, 3, false);
            data.Add(m, 1, true);
            data.Add(m, 3, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(InferenceCases))]
    public void Inference_steps_match_with_input_normalisation_and_stacks(string model, int batch, bool sparse)
    {
        const int steps = 24;
        var managed = new Network<float>(CrossCheck.Config(model));
        CrossCheck.RandomizeBuffers(managed, 3);
        using var net = new TorchNetwork(managed);
        CrossCheck.AssertBuffersMatch(managed, net, 0, "copied");
        for (int l = 0; l < managed.Config.Layers.Count; l++)
        {
            // the gate biases start at the configured values (the managed initialisation, copied)
            LayerConfig lc = managed.Config.Layers[l];
            if (lc.Model == NeuronModel.Ltc)
            {
                Assert.All(CrossCheck.Values(net[$"layers.{l}.w_tau.bias"]), v => Assert.Equal((float)lc.TauBiasInit, v));
                Assert.All(CrossCheck.Values(net[$"layers.{l}.w_rho.bias"]), v => Assert.Equal((float)lc.RhoBiasInit, v));
            }
        }

        NetworkState<float> ms = managed.CreateState(batch);
        using TorchState ts = net.CreateState(batch);
        float[] dense = CrossCheck.DenseInputs(steps, batch, 7);
        (int[][] idx, int[][] off) = CrossCheck.SparseInputs(steps, batch, 8);
        int c = managed.OutputSize;
        var mo = new float[batch * c];
        var to = new float[batch * c];
        int spikes = 0;
        for (int t = 0; t < steps; t++)
        {
            StepInput<float> input = sparse
                ? new StepInput<float>(idx[t], batch == 1 ? default : off[t])
                : new StepInput<float>(dense.AsSpan(t * batch * CrossCheck.Inputs, batch * CrossCheck.Inputs));
            managed.Step(input, ms, mo);
            net.Step(input, ts, to);
            CrossCheck.AssertClose(to, mo, 1e-5, $"{model} step {t}: readout");
            CrossCheck.AssertStatesMatch(ms, ts, 1e-5, $"{model} step {t}");
            foreach (LayerState<float> ls in ms.Layers)
            {
                spikes += ls.S.Count(s => s != 0);
            }
        }

        Assert.True(spikes > 0, "no spikes: the inputs do not drive the network");

        // inference leaves the running statistics alone
        CrossCheck.AssertBuffersMatch(managed, net, 0, "after inference");
    }

    public static TheoryData<string, int, bool, LossPlacement, LossWeighting, string, double> FpttCases()
    {
        var data = new TheoryData<string, int, bool, LossPlacement, LossWeighting, string, double>();
        foreach (string m in CrossCheck.RecipeModels)
        {
            data.Add(m, 3, false, LossPlacement.EveryStep, LossWeighting.Linear, "adamax", 1e-2);
        }

        data.Add("ltc-running", 1, true, LossPlacement.ChunkEnd, LossWeighting.Uniform, "adam", 1e-3);
        // (not batch 2: batch norm over two streams makes the normalised current ±1 whatever W_in is, its
        // gradient is rounding noise, and Adam(ax)'s first, sign-like step turns noise into ±lr per element)
        data.Add("ltc2-batch", 4, true, LossPlacement.ChunkEnd, LossWeighting.Linear, "adamax", 0);
        data.Add("ltc3-mixed-dropout", 2, true, LossPlacement.EveryStep, LossWeighting.Uniform, "adam", 5e-3);
        return data;
    }

    [Theory]
    [MemberData(nameof(FpttCases))]
    public void Fptt_chunks_match_the_managed_engine(string model, int batch, bool sparse, LossPlacement loss, LossWeighting weighting, string optimizer, double weightDecay)
    {
        const int chunk = 5;
        const int chunks = 3;
        const int steps = chunk * chunks;
        NetworkConfig config = CrossCheck.Config(model);
        var managed = new Network<float>(config);
        using var net = new TorchNetwork(managed);
        Optimizer<float> mopt = optimizer == "adamax"
            ? new Adamax<float>(managed.Parameters, 3e-3, weightDecay: weightDecay)
            : new Adam<float>(managed.Parameters, 2e-3, weightDecay: weightDecay);
        var options = new FpttOptions { Alpha = 0.5, Beta = 0.5, GradientClip = 1.0 };
        var mlearner = new FpttLearner<float>(managed, mopt, options, batch, chunk);
        using var tlearner = new TorchFpttLearner(net, TorchOptimizerOptions.FromManaged(mopt), options, batch, chunk) { CaptureGradients = true };
        Assert.Equal(weightDecay, tlearner.OptimizerOptions.WeightDecay);

        // reference task gradients: a copy with a learner of its own, whose dropout generator draws in lockstep with the others
        var copy = new Network<float>(config);
        NetworkState<float> copyState = copy.CreateState(batch);
        var grad = new GradientOnlyLearner<float>(copy, batch, chunk);

        NetworkState<float> ms = managed.CreateState(batch);
        using TorchState ts = net.CreateState(batch);
        Data data = Data.Make(config, batch, steps, 41);
        (int[][] idx, int[][] off) = CrossCheck.SparseInputs(steps, batch, 42);
        bool leaky = config.Readout.Kind == ReadoutKind.Leaky;
        var mo = new float[batch * config.Readout.Size];
        var to = new float[batch * config.Readout.Size];

        for (int k = 0; k < chunks; k++)
        {
            copy.CopyFrom(managed);
            copy.Parameters.ZeroGrad();
            ms.CopyTo(copyState);
            int start = k * chunk, end = start + chunk;
            for (int step = start; step < end; step++)
            {
                StepInput<float> input = sparse
                    ? new StepInput<float>(idx[step], batch == 1 ? default : off[step])
                    : new StepInput<float>(data.Input(step));
                (double w, double o) = LossSchedule.Weights(loss, weighting, oracle: true, SequenceTrainingMethod.Fptt, steps, step, k, chunks, start, end);
                StepTarget<float> target = leaky ? new StepTarget<float>(data.Labels, w, data.Oracle, o) : new StepTarget<float>(data.Values(step), w);
                mlearner.Observe(input, target, ms, mo);
                grad.Observe(input, target, copyState);
                tlearner.Observe(input, target, ts, to);
                CrossCheck.AssertClose(to, mo, 1e-5, $"{model} chunk {k} step {step}: readout");
            }

            grad.EndChunk();
            var expected = new float[managed.Parameters.Count][];
            for (int p = 0; p < managed.Parameters.Count; p++)
            {
                Parameter<float> par = copy.Parameters[p];
                float[] avg = mlearner.GetAverage(p);
                float[] lam = mlearner.GetLambda(p);
                expected[p] = new float[par.Length];
                for (int i = 0; i < par.Length; i++)
                {
                    expected[p][i] = (float)(par.Grad[i] + (options.Alpha * ((double)par.Data[i] - avg[i])) - lam[i]);
                }
            }

            ChunkReport mr = mlearner.EndChunk();
            ChunkReport tr = tlearner.EndChunk();
            Assert.True(mr.Updated && tr.Updated);
            Assert.Equal(mr.Loss, tr.Loss, 1e-5 * Math.Max(1, Math.Abs(mr.Loss)));
            Assert.Equal(mr.GradientNorm, tr.GradientNorm, 1e-4 * mr.GradientNorm);
            Assert.Equal(mr.Regularizer, tr.Regularizer, 1e-5 + (1e-4 * Math.Abs(mr.Regularizer)));
            AssertGradients(managed, tlearner, expected, $"{model} chunk {k}");
            for (int p = 0; p < managed.Parameters.Count; p++)
            {
                string name = managed.Parameters[p].Name;
                CrossCheck.AssertClose(CrossCheck.Values(net.Parameters[p]), managed.Parameters[p].Data, 1e-5, $"chunk {k}: W of {name}");
                CrossCheck.AssertClose(CrossCheck.Values(tlearner.Average(p)), mlearner.GetAverage(p), 1e-5, $"chunk {k}: W̄ of {name}");
                AssertLambda(CrossCheck.Values(tlearner.Lambda(p)), mlearner.GetLambda(p), managed.Parameters[p].Data, $"chunk {k}: λ of {name}");
            }

            CrossCheck.AssertBuffersMatch(managed, net, 1e-5, $"{model} after chunk {k}");
            CrossCheck.AssertStatesMatch(ms, ts, 1e-5, $"{model} after chunk {k}");
        }

        AssertStatisticsMoved(managed);
    }

    [Theory]
    [InlineData("ltc-running", 2)]
    [InlineData("ltc2-batch-dropout", 3)]
    [InlineData("ltc3-mixed-dropout", 2)]
    [InlineData("ltc2-layer-membrane-dropout", 2)]
    public void Bptt_sequences_match_the_managed_engine(string model, int batch)
    {
        const int steps = 12;
        NetworkConfig config = CrossCheck.Config(model);
        var managed = new Network<float>(config);
        using var net = new TorchNetwork(managed);
        // ε = 1e-4 keeps the update continuous in the gradient: with the default 1e-8 an element
        // whose gradient is float noise (a silent ALIF neuron's bias) moves by ±lr with the noise's
        // sign, and the two backends' summation orders pick different signs.
        var mopt = new Adamax<float>(managed.Parameters, 3e-3, epsilon: 1e-4, weightDecay: 1e-2);
        var mlearner = new BpttLearner<float>(managed, mopt, batch, steps, gradientClip: 1.0);
        using var tlearner = new TorchBpttLearner(net, TorchOptimizerOptions.FromManaged(mopt), batch, steps, gradientClip: 1.0) { CaptureGradients = true };
        var copy = new Network<float>(config);
        NetworkState<float> copyState = copy.CreateState(batch);
        var grad = new GradientOnlyLearner<float>(copy, batch, steps);
        bool leaky = config.Readout.Kind == ReadoutKind.Leaky;
        var mo = new float[batch * config.Readout.Size];
        var to = new float[batch * config.Readout.Size];

        for (int sequence = 0; sequence < 2; sequence++)
        {
            Data data = Data.Make(config, batch, steps, 60 + sequence);
            NetworkState<float> ms = managed.CreateState(batch);
            using TorchState ts = net.CreateState(batch);
            copy.CopyFrom(managed);
            copy.Parameters.ZeroGrad();
            ms.CopyTo(copyState);
            for (int t = 0; t < steps; t++)
            {
                var input = new StepInput<float>(data.Input(t));
                (double w, double o) = LossSchedule.Weights(LossPlacement.EveryStep, LossWeighting.Linear, oracle: true, SequenceTrainingMethod.Bptt, steps, t, 0, 1, 0, steps);
                StepTarget<float> target = leaky ? new StepTarget<float>(data.Labels, w, data.Oracle, o) : new StepTarget<float>(data.Values(t), w);
                mlearner.Observe(input, target, ms, mo);
                grad.Observe(input, target, copyState);
                tlearner.Observe(input, target, ts, to);
                CrossCheck.AssertClose(to, mo, 1e-5, $"{model} sequence {sequence} step {t}: readout");
            }

            grad.EndChunk();
            var expected = new float[managed.Parameters.Count][];
            for (int p = 0; p < managed.Parameters.Count; p++)
            {
                expected[p] = (float[])copy.Parameters[p].Grad.Clone();
            }

            ChunkReport mr = mlearner.EndChunk();
            ChunkReport tr = tlearner.EndChunk();
            Assert.True(mr.Updated && tr.Updated);
            Assert.Equal(mr.Loss, tr.Loss, 1e-5 * Math.Max(1, Math.Abs(mr.Loss)));
            Assert.Equal(mr.GradientNorm, tr.GradientNorm, 1e-4 * mr.GradientNorm);
            AssertGradients(managed, tlearner, expected, $"{model} sequence {sequence}");
            for (int p = 0; p < managed.Parameters.Count; p++)
            {
                // zero-initialised biases are the update itself, so they carry the gradients' 1e-4
                CrossCheck.AssertClose(CrossCheck.Values(net.Parameters[p]), managed.Parameters[p].Data, 1e-4, $"sequence {sequence}: W of {managed.Parameters[p].Name}");
            }

            CrossCheck.AssertBuffersMatch(managed, net, 1e-5, $"{model} after sequence {sequence}");
        }
    }

    /// <summary>
    /// Torch on its own: masks hold 0 with probability p and 1/(1 − p) otherwise (mean 1); inference
    /// steps ignore dropout (a network configured with dropout infers exactly like the same weights
    /// without); without dropout and normalisation a training step is an inference step, with dropout
    /// the training readouts differ.
    /// </summary>
    [Fact]
    public void Dropout_masks_are_zero_or_scaled_and_act_only_in_training_steps()
    {
        const double p = 0.4;
        NetworkConfig dropped = CrossCheck.Config("ltc-leaky") with { Dropout = p };
        NetworkConfig plain = CrossCheck.Config("ltc-leaky");
        using var net = new TorchNetwork(dropped);
        using var reference = new TorchNetwork(plain);

        const int batch = 64, size = 32, draws = 50;
        using (TorchState wide = net.CreateState(batch))
        {
            var rng = new DropoutGenerators(batch, 3);
            float keep = 1f / (1f - (float)p);
            long zeros = 0, total = 0;
            double sum = 0;
            for (int i = 0; i < draws; i++)
            {
                using TorchSharp.torch.Tensor mask = net.DropoutMask(wide, size, rng);
                Assert.Equal(new long[] { batch, size }, mask.shape);
                foreach (float v in CrossCheck.Values(mask))
                {
                    Assert.True(v == 0f || v == keep, $"mask value {v}");
                    zeros += v == 0f ? 1 : 0;
                    sum += v;
                    total++;
                }
            }

            // 102,400 draws: the standard deviation of the fraction is 0.0015
            Assert.InRange(zeros / (double)total, p - 0.01, p + 0.01);
            Assert.InRange(sum / total, 0.98, 1.02);
        }

        const int steps = 20;
        const int b = 3;
        float[] x = CrossCheck.DenseInputs(steps, b, 9);
        var a = new float[b * 4];
        var r = new float[b * 4];
        using TorchState sa = net.CreateState(b);
        using TorchState sr = reference.CreateState(b);
        using TorchState train = net.CreateState(b);
        using TorchState trainPlain = reference.CreateState(b);
        var masks = new DropoutGenerators(b, 4);
        int differing = 0;
        for (int t = 0; t < steps; t++)
        {
            var input = new StepInput<float>(x.AsSpan(t * b * CrossCheck.Inputs, b * CrossCheck.Inputs));
            net.Step(input, sa, a);
            reference.Step(input, sr, r);
            Assert.Equal(r, a);
            using (TorchSharp.torch.NewDisposeScope())
            using (TorchSharp.torch.no_grad())
            {
                float[] plainTrain = CrossCheck.Values(reference.Forward(input, trainPlain, training: true));
                Assert.Equal(r, plainTrain);
                float[] droppedTrain = CrossCheck.Values(net.Forward(input, train, training: true, masks));
                differing += droppedTrain.SequenceEqual(a) ? 0 : 1;
            }
        }

        Assert.True(differing > steps / 2, $"dropout changed the training readout at only {differing} of {steps} steps");
        Assert.Throws<ArgumentException>(() =>
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            net.Forward(new StepInput<float>(x.AsSpan(0, b * CrossCheck.Inputs)), train, training: true);
        });
    }

    private static void AssertGradients(Network<float> managed, TorchLearner learner, float[][] expected, string where)
    {
        int gains = 0;
        for (int p = 0; p < managed.Parameters.Count; p++)
        {
            string name = managed.Parameters[p].Name;
            gains += name.EndsWith("norm.weight", StringComparison.Ordinal) ? 1 : 0;
            double e = CrossCheck.NormRelativeError(learner.CapturedGradient(p), expected[p]);
            Assert.True(e <= GradientTolerance, $"{where}: gradient of {name}: relative error {e:E3}");
        }

        // every normalised layer's gain (and the normalised readout's) is a parameter and was checked
        int normalised = managed.Config.Layers.Count(l => l.InputNorm != InputNormKind.None) + (managed.Config.Readout.Norm != InputNormKind.None ? 1 : 0);
        Assert.Equal(normalised, gains);
    }

    /// <summary>Training moved the running statistics away from their initial 0 / 1 (else the buffer comparison proves little).</summary>
    private static void AssertStatisticsMoved(Network<float> managed)
    {
        foreach (Parameter<float> b in managed.Buffers)
        {
            float initial = b.Name.EndsWith("running_var", StringComparison.Ordinal) ? 1f : 0f;
            Assert.True(b.Data.Any(v => v != initial), $"{b.Name} never moved");
        }
    }

    /// <summary>λ accumulates α(W − W̄): its rounding is relative to |W| (see <see cref="FpttCrossCheckTests"/>).</summary>
    private static void AssertLambda(float[] actual, float[] expected, float[] weights, string what)
    {
        double diff = 0, scale = 1e-30;
        for (int i = 0; i < expected.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Max(Math.Abs((double)expected[i]), Math.Abs((double)weights[i])));
        }

        Assert.True(diff / scale <= 1e-5, $"{what}: error {diff / scale:E3} relative to max |W|, |λ|");
    }

    /// <summary>Dense inputs, terminal labels (one per stream), a uniform oracle and regression targets of a sequence.</summary>
    private sealed class Data
    {
        private readonly float[] _inputs;
        private readonly float[] _values;
        private readonly int _batch;
        private readonly int _classes;

        private Data(float[] inputs, float[] values, int[] labels, float[] oracle, int batch, int classes)
        {
            _inputs = inputs;
            _values = values;
            Labels = labels;
            Oracle = oracle;
            _batch = batch;
            _classes = classes;
        }

        public int[] Labels { get; }

        public float[] Oracle { get; }

        public static Data Make(NetworkConfig config, int batch, int steps, long seed)
        {
            int c = config.Readout.Size;
            var rng = new SnnRandom(seed);
            var labels = new int[batch];
            for (int b = 0; b < batch; b++)
            {
                labels[b] = rng.NextInt(c);
            }

            var values = new float[steps * batch * c];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)rng.NextDouble();
            }

            var oracle = new float[batch * c];
            Array.Fill(oracle, 1f / c);
            return new Data(CrossCheck.DenseInputs(steps, batch, seed + 1000), values, labels, oracle, batch, c);
        }

        public ReadOnlySpan<float> Input(int t) => _inputs.AsSpan(t * _batch * CrossCheck.Inputs, _batch * CrossCheck.Inputs);

        public ReadOnlySpan<float> Values(int t) => _values.AsSpan(t * _batch * _classes, _batch * _classes);
    }
}
