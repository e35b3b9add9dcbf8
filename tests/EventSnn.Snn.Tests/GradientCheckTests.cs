using EventSnn.Snn;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn.Tests;

/// <summary>
/// Analytic gradients of a chunk loss against central finite differences, for every element of
/// every parameter, in double precision over multi-step chunks. Finite differences cannot see
/// through the Heaviside, so the networks run in the test-only smooth mode where H is replaced by
/// the antiderivative of the multi-Gaussian surrogate: the surrogate is then the true derivative
/// and the hand-written backward pass must match the numerical gradient to ~1e-7 relative.
/// </summary>
public class GradientCheckTests
{
    private const int Steps = 6;

    public static TheoryData<string> Cases => new() { "ltc-ltc-leaky-dense", "alif-lif-membrane-sparse", "ltc-alif-leaky-sparse", "ltc-membrane-zero", "ltc-running-norm-ltc-layer-norm-dense", "ltc-layer-norm-alif-running-norm-sparse", "ltc-step-norm-ltc-running-norm-sparse", "ltc-step-recnorm-alif-running-recnorm-sparse", "ltc-alif-liquid-dense", "ltc-step-readnorm-leaky-sparse", "ltc-running-readnorm-liquid-dense" };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Analytic_gradients_match_central_differences_for_every_parameter(string name)
    {
        (NetworkConfig config, bool sparse, bool regression) = Case(name);
        var net = new Network<double>(config) { SmoothSpikes = true };
        const int batch = 2;
        var rng = new SnnRandom(7);
        foreach (Parameter<double> b in net.Buffers)
        {
            // non-trivial running statistics
            for (int i = 0; i < b.Length; i++)
            {
                b.Data[i] = b.Name.EndsWith("running_var", StringComparison.Ordinal) ? rng.NextDouble(0.3, 2) : rng.NextDouble(-0.5, 0.5);
            }
        }

        NetworkState<double> initial = net.CreateState(batch, rng);
        Perturb(initial, rng); // non-trivial s and b entering the chunk
        var data = new ChunkData<double>(config, batch, Steps, sparse, regression, rng);

        var learner = new GradientOnlyLearner<double>(net, batch, Steps);
        NetworkState<double> state = net.CreateState(batch);
        initial.CopyTo(state);
        Run(learner, data, state);
        double lossA = learner.EndChunk().Loss;
        double lossB = LossByInference(net, initial, data);
        Assert.Equal(lossB, lossA, 12);

        int checkedCount = 0;
        foreach (Parameter<double> p in net.Parameters)
        {
            double[] analytic = (double[])p.Grad.Clone();
            Array.Clear(p.Grad);
            for (int i = 0; i < p.Length; i++)
            {
                double h = 1e-6 * Math.Max(1.0, Math.Abs(p.Data[i]));
                double keep = p.Data[i];
                p.Data[i] = keep + h;
                p.MarkChanged();
                double up = LossByInference(net, initial, data);
                p.Data[i] = keep - h;
                p.MarkChanged();
                double down = LossByInference(net, initial, data);
                p.Data[i] = keep;
                p.MarkChanged();
                double numeric = (up - down) / (2 * h);
                double tol = 1e-8 + (2e-6 * Math.Max(Math.Abs(numeric), Math.Abs(analytic[i])));
                Assert.True(
                    Math.Abs(numeric - analytic[i]) <= tol,
                    $"{name}: {p.Name}[{i}] analytic {analytic[i]:G10} vs numeric {numeric:G10}");
                checkedCount++;
            }
        }

        Assert.Equal(net.Parameters.TotalLength, checkedCount);

        // the check is not vacuous: most gradient entries are clearly non-zero
        int nonZero = 0;
        initial.CopyTo(state);
        Run(learner, data, state);
        learner.EndChunk();
        foreach (Parameter<double> p in net.Parameters)
        {
            foreach (double g in p.Grad)
            {
                if (Math.Abs(g) > 1e-9)
                {
                    nonZero++;
                }
            }
        }

        Assert.True(nonZero > checkedCount / 2, $"only {nonZero} of {checkedCount} gradients are non-zero");
    }

    /// <summary>
    /// Training-mode forward passes (spike dropout; per-timestep batch norm with the batch's own
    /// statistics): with the same masks (the generator restarted before every forward pass), the
    /// analytic gradient of the recorded chunk loss equals central differences of the recorded forward.
    /// </summary>
    [Theory]
    [InlineData("dropout-dense")]
    [InlineData("dropout-sparse")]
    [InlineData("batch-norm-dense")]
    [InlineData("batch-norm-dropout-sparse")]
    public void Training_mode_gradients_match_central_differences(string name)
    {
        bool sparse = name.EndsWith("sparse", StringComparison.Ordinal);
        bool batchNorm = name.StartsWith("batch-norm", StringComparison.Ordinal);
        var config = new NetworkConfig
        {
            InputSize = 5,
            Layers =
            [
                new LayerConfig { Model = NeuronModel.Ltc, Size = 5, InputNorm = batchNorm ? InputNormKind.Batch : InputNormKind.None, NormGain = 0.6, NormSteps = 4 },
                new LayerConfig { Model = NeuronModel.Ltc, Size = 4, InputNorm = batchNorm ? InputNormKind.Batch : InputNormKind.Layer, NormSteps = 3 },
            ],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 3 },
            Dropout = name.Contains("dropout", StringComparison.Ordinal) ? 0.3 : 0,
            Seed = 17,
        };
        var net = new Network<double>(config) { SmoothSpikes = true };
        const int batch = 3;
        var rng = new SnnRandom(9);
        NetworkState<double> initial = net.CreateState(batch, rng);
        Perturb(initial, rng);
        var data = new ChunkData<double>(config, batch, Steps, sparse, regression: false, rng);
        var learner = new GradientOnlyLearner<double>(net, batch, Steps);
        NetworkState<double> state = net.CreateState(batch);

        double RecordedLoss()
        {
            initial.CopyTo(state);
            learner.ReseedDropout(5);
            Run(learner, data, state);
            double loss = learner.EndChunk().Loss;
            net.Parameters.ZeroGrad();
            return loss;
        }

        initial.CopyTo(state);
        learner.ReseedDropout(5);
        Run(learner, data, state);
        double lossA = learner.EndChunk().Loss;
        double[][] analytic = new double[net.Parameters.Count][];
        for (int p = 0; p < net.Parameters.Count; p++)
        {
            analytic[p] = (double[])net.Parameters[p].Grad.Clone();
        }

        net.Parameters.ZeroGrad();
        Assert.Equal(lossA, RecordedLoss(), 12);
        Assert.NotEqual(LossByInference(net, initial, data), lossA, 6); // training mode differs from inference

        int nonZero = 0;
        for (int p = 0; p < net.Parameters.Count; p++)
        {
            Parameter<double> par = net.Parameters[p];
            for (int i = 0; i < par.Length; i++)
            {
                double h = 1e-6 * Math.Max(1.0, Math.Abs(par.Data[i]));
                double keep = par.Data[i];
                par.Data[i] = keep + h;
                par.MarkChanged();
                double up = RecordedLoss();
                par.Data[i] = keep - h;
                par.MarkChanged();
                double down = RecordedLoss();
                par.Data[i] = keep;
                par.MarkChanged();
                double numeric = (up - down) / (2 * h);
                double tol = 1e-8 + (2e-6 * Math.Max(Math.Abs(numeric), Math.Abs(analytic[p][i])));
                Assert.True(Math.Abs(numeric - analytic[p][i]) <= tol, $"{par.Name}[{i}] analytic {analytic[p][i]:G10} vs numeric {numeric:G10}");
                nonZero += Math.Abs(analytic[p][i]) > 1e-9 ? 1 : 0;
            }
        }

        Assert.True(nonZero > net.Parameters.TotalLength / 2, $"only {nonZero} non-zero gradients");
    }

    [Fact]
    public void Gradient_is_exact_in_heaviside_mode_for_parameters_that_do_not_cross_a_threshold()
    {
        // In the real (Heaviside) mode the readout parameters see no spike function between them and the loss
        // at the last step, so their finite-difference gradient must match exactly too.
        (NetworkConfig config, _, _) = Case("ltc-ltc-leaky-dense");
        var net = new Network<double>(config);
        const int batch = 2;
        var rng = new SnnRandom(3);
        NetworkState<double> initial = net.CreateState(batch, rng);
        var data = new ChunkData<double>(config, batch, Steps, sparse: false, regression: false, rng);
        var learner = new GradientOnlyLearner<double>(net, batch, Steps);
        NetworkState<double> state = net.CreateState(batch);
        initial.CopyTo(state);
        Run(learner, data, state);
        learner.EndChunk();
        foreach (Parameter<double> p in net.Readout.Parameters)
        {
            for (int i = 0; i < p.Length; i++)
            {
                double keep = p.Data[i];
                p.Data[i] = keep + 1e-6;
                double up = LossByInference(net, initial, data);
                p.Data[i] = keep - 1e-6;
                double down = LossByInference(net, initial, data);
                p.Data[i] = keep;
                double numeric = (up - down) / 2e-6;
                Assert.True(Math.Abs(numeric - p.Grad[i]) <= 1e-7 + (1e-6 * Math.Abs(numeric)), $"{p.Name}[{i}] {p.Grad[i]} vs {numeric}");
            }
        }
    }

    /// <summary>
    /// The float engine (SIMD kernels, register-blocked tiles with remainders) computes the same
    /// gradients as the double reference path on a model large enough to exercise every kernel path.
    /// </summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void Float_engine_gradients_agree_with_the_double_reference(bool sparse, bool regression)
    {
        var config = new NetworkConfig
        {
            InputSize = 37,
            Layers = [new LayerConfig { Size = 29, LearnableSlope = true }, new LayerConfig { Model = NeuronModel.Alif, Size = 18, TauMembraneMean = 5, TauAdaptationMean = 10, TauAdaptationStd = 2 }],
            Readout = new ReadoutConfig { Kind = regression ? ReadoutKind.Membrane : ReadoutKind.Leaky, Size = 5 },
            Seed = 31,
        };
        const int batch = 5;
        const int steps = 7;
        var netF = new Network<float>(config) { SmoothSpikes = true };
        var netD = new Network<double>(config) { SmoothSpikes = true };
        for (int k = 0; k < netF.Parameters.Count; k++)
        {
            for (int i = 0; i < netF.Parameters[k].Length; i++)
            {
                netD.Parameters[k].Data[i] = netF.Parameters[k].Data[i];
            }
        }

        var dataF = new ChunkData<float>(config, batch, steps, sparse, regression, new SnnRandom(4));
        var dataD = new ChunkData<double>(config, batch, steps, sparse, regression, new SnnRandom(4));
        NetworkState<float> sF = netF.CreateState(batch, new SnnRandom(6));
        NetworkState<double> sD = netD.CreateState(batch, new SnnRandom(6));
        for (int l = 0; l < sF.Layers.Count; l++)
        {
            for (int i = 0; i < sF.Layers[l].U.Length; i++)
            {
                sD.Layers[l].U[i] = sF.Layers[l].U[i];
            }
        }

        var lF = new GradientOnlyLearner<float>(netF, batch, steps);
        var lD = new GradientOnlyLearner<double>(netD, batch, steps);
        Run(lF, dataF, sF);
        Run(lD, dataD, sD);
        double lossF = lF.EndChunk().Loss;
        double lossD = lD.EndChunk().Loss;
        Assert.True(Math.Abs(lossD - lossF) <= 1e-5 * Math.Abs(lossD), $"loss float {lossF} vs double {lossD}");
        for (int k = 0; k < netF.Parameters.Count; k++)
        {
            Parameter<float> pf = netF.Parameters[k];
            Parameter<double> pd = netD.Parameters[k];
            double scale = 0;
            foreach (double g in pd.Grad)
            {
                scale = Math.Max(scale, Math.Abs(g));
            }

            Assert.True(scale > 0, pf.Name + " has no gradient");
            for (int i = 0; i < pf.Length; i++)
            {
                Assert.True(Math.Abs(pf.Grad[i] - pd.Grad[i]) <= 1e-4 * scale + 1e-6, $"{pf.Name}[{i}] float {pf.Grad[i]} vs double {pd.Grad[i]} (scale {scale})");
            }
        }
    }

    internal static (NetworkConfig Config, bool Sparse, bool Regression) Case(string name) => name switch
    {
        "ltc-ltc-leaky-dense" => (new NetworkConfig
        {
            InputSize = 3,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 5, LearnableSlope = true }, new LayerConfig { Model = NeuronModel.Ltc, Size = 4 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 3 },
            Seed = 11,
        }, false, false),
        // the liquid readout: its rate a gate of [z_t ; o_{t-1}] with a learnable slope, from a perturbed readout state
        "ltc-alif-liquid-dense" => (new NetworkConfig
        {
            InputSize = 3,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 5, LearnableSlope = true }, new LayerConfig { Model = NeuronModel.Alif, Size = 4, TauMembraneMean = 4, TauMembraneStd = 1, TauAdaptationMean = 8, TauAdaptationStd = 2 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Liquid, Size = 3 },
            Seed = 19,
        }, false, false),
        // the readout's current normalised per timestep (NormSteps 4, shorter than the chunk) with its own gain (frozen as below)
        "ltc-step-readnorm-leaky-sparse" => (new NetworkConfig
        {
            InputSize = 6,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 5, InputNorm = InputNormKind.Timestep, NormSteps = 3, NormGain = 0.8, NormMomentum = 0, LearnableSlope = true }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 3, Norm = InputNormKind.Timestep, NormSteps = 4, NormGain = 0.7, NormMomentum = 0 },
            Seed = 20,
        }, true, false),
        // a liquid head whose current is normalised with one set of running statistics (frozen)
        "ltc-running-readnorm-liquid-dense" => (new NetworkConfig
        {
            InputSize = 3,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 5, LearnableSlope = true }, new LayerConfig { Model = NeuronModel.Alif, Size = 4, TauMembraneMean = 4, TauMembraneStd = 1, TauAdaptationMean = 8, TauAdaptationStd = 2 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Liquid, Size = 3, Norm = InputNormKind.Running, NormGain = 1.4, NormMomentum = 0 },
            Seed = 21,
        }, false, false),
        "alif-lif-membrane-sparse" => (new NetworkConfig
        {
            InputSize = 6,
            Layers = [new LayerConfig { Model = NeuronModel.Alif, Size = 5, TauMembraneMean = 4, TauMembraneStd = 1, TauAdaptationMean = 8, TauAdaptationStd = 2 }, new LayerConfig { Model = NeuronModel.Lif, Size = 4, TauMembraneMean = 3, TauMembraneStd = 0.5 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Membrane, Size = 2 },
            Seed = 12,
        }, true, true),
        "ltc-alif-leaky-sparse" => (new NetworkConfig
        {
            InputSize = 7,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 4 }, new LayerConfig { Model = NeuronModel.Alif, Size = 3, Recurrent = false, TauMembraneMean = 4, TauMembraneStd = 1, TauAdaptationMean = 6, TauAdaptationStd = 1 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 4 },
            Seed = 13,
        }, true, false),
        // normalised input currents (running statistics frozen: momentum 0, as the backward treats them as constants)
        "ltc-running-norm-ltc-layer-norm-dense" => (new NetworkConfig
        {
            InputSize = 5,
            Layers =
            [
                new LayerConfig { Model = NeuronModel.Ltc, Size = 4, InputNorm = InputNormKind.Running, NormGain = 0.7, NormMomentum = 0, TauBiasInit = -1 },
                new LayerConfig { Model = NeuronModel.Ltc, Size = 3, InputNorm = InputNormKind.Layer, NormGain = 1.3 },
            ],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 3 },
            Seed = 15,
        }, false, false),
        "ltc-layer-norm-alif-running-norm-sparse" => (new NetworkConfig
        {
            InputSize = 6,
            Layers =
            [
                new LayerConfig { Model = NeuronModel.Ltc, Size = 5, InputNorm = InputNormKind.Layer, NormGain = 0.4 },
                new LayerConfig { Model = NeuronModel.Alif, Size = 3, InputNorm = InputNormKind.Running, NormMomentum = 0, TauMembraneMean = 4, TauMembraneStd = 1, TauAdaptationMean = 6, TauAdaptationStd = 1 },
            ],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 4 },
            Seed = 16,
        }, true, false),
        // running statistics per timestep (NormSteps 3, shorter than the sequence: the last set is reused; frozen as above)
        "ltc-step-norm-ltc-running-norm-sparse" => (new NetworkConfig
        {
            InputSize = 6,
            Layers =
            [
                new LayerConfig { Model = NeuronModel.Ltc, Size = 4, InputNorm = InputNormKind.Timestep, NormSteps = 3, NormGain = 0.8, NormMomentum = 0, TauBiasInit = -1 },
                new LayerConfig { Model = NeuronModel.Ltc, Size = 3, InputNorm = InputNormKind.Running, NormGain = 1.1, NormMomentum = 0 },
            ],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 3 },
            Seed = 17,
        }, true, false),
        // the recurrent current normalised as well, with statistics and a gain of its own (frozen as above)
        "ltc-step-recnorm-alif-running-recnorm-sparse" => (new NetworkConfig
        {
            InputSize = 6,
            Layers =
            [
                new LayerConfig { Model = NeuronModel.Ltc, Size = 4, InputNorm = InputNormKind.Timestep, RecurrentNorm = true, NormSteps = 3, NormGain = 0.8, NormMomentum = 0, TauBiasInit = -1, LearnableSlope = true },
                new LayerConfig { Model = NeuronModel.Alif, Size = 3, InputNorm = InputNormKind.Running, RecurrentNorm = true, NormGain = 1.2, NormMomentum = 0, TauMembraneMean = 4, TauMembraneStd = 1, TauAdaptationMean = 6, TauAdaptationStd = 1 },
            ],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 3 },
            Seed = 18,
        }, true, false),
        "ltc-membrane-zero" => (new NetworkConfig
        {
            InputSize = 2,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 6, ThresholdBase = 0.5, ThresholdAdaptation = 0 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Membrane, Size = 1 },
            InitialState = InitialStateMode.Zero,
            Seed = 14,
        }, false, true),
        _ => throw new ArgumentException(name),
    };

    internal static void Perturb(NetworkState<double> s, SnnRandom rng)
    {
        foreach (LayerState<double> l in s.Layers)
        {
            for (int i = 0; i < l.S.Length; i++)
            {
                l.S[i] = rng.NextDouble() < 0.4 ? 1 : 0;
                l.B[i] = 0.3 * rng.NextDouble();
            }
        }

        for (int i = 0; i < s.Readout.Length; i++)
        {
            s.Readout[i] = rng.NextDouble() - 0.5;
        }
    }

    internal static void Run<T>(Learner<T> learner, ChunkData<T> data, NetworkState<T> state)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        for (int t = 0; t < data.Steps; t++)
        {
            learner.Observe(data.Input(t), data.Target(t), state);
        }
    }

    internal static double LossByInference(Network<double> net, NetworkState<double> initial, ChunkData<double> data)
    {
        NetworkState<double> s = net.CreateState(initial.Batch);
        initial.CopyTo(s);
        var output = new double[initial.Batch * net.OutputSize];
        var grad = new double[output.Length];
        double loss = 0;
        for (int t = 0; t < data.Steps; t++)
        {
            net.Step(data.Input(t), s, output);
            loss += Losses.Apply<double>(output, data.Target(t), grad, initial.Batch, net.OutputSize);
        }

        return loss;
    }
}

/// <summary>The indexed (sparse) path for binary recurrent spikes equals the dense products, forward and backward.</summary>
public class SparseSpikePathTests
{
    [Theory]
    [InlineData(NeuronModel.Ltc, 0.05, false)]
    [InlineData(NeuronModel.Ltc, 0.45, false)]
    [InlineData(NeuronModel.Alif, 0.05, false)]
    [InlineData(NeuronModel.Alif, 0.2, false)]
    [InlineData(NeuronModel.Ltc, 0.05, true)]
    [InlineData(NeuronModel.Ltc, 0.45, true)]
    public void Indexed_spike_path_matches_dense_products_in_heaviside_mode(NeuronModel model, double threshold, bool recurrentNorm)
    {
        InputNormKind norm = recurrentNorm ? InputNormKind.Running : InputNormKind.None;
        var config = new NetworkConfig
        {
            InputSize = 12,
            Layers = [new LayerConfig { Model = model, Size = 40, ThresholdBase = threshold, TauMembraneMean = 3, TauMembraneStd = 0.5, InputNorm = norm, RecurrentNorm = recurrentNorm, NormMomentum = 0 }, new LayerConfig { Size = 16, ThresholdBase = threshold, InputNorm = norm, RecurrentNorm = recurrentNorm, NormMomentum = 0 }],
            Readout = new ReadoutConfig { Size = 3 },
            Seed = 8,
        };
        const int batch = 3;
        const int steps = 12;
        var data = new ChunkData<double>(config, batch, steps, sparse: false, regression: false, new SnnRandom(12));
        var grads = new List<double[]>();
        var losses = new List<double>();
        int spikes = 0;
        foreach (bool dense in new[] { false, true })
        {
            var net = new Network<double>(config);
            foreach (RecurrentLayer<double> l in net.Layers)
            {
                l.DenseSpikes = dense;
            }

            var learner = new GradientOnlyLearner<double>(net, batch, steps);
            NetworkState<double> s = net.CreateState(batch, new SnnRandom(2));
            for (int t = 0; t < steps; t++)
            {
                learner.Observe(data.Input(t), data.Target(t), s);
                spikes += (int)s.Layers[0].S.Sum();
            }

            losses.Add(learner.EndChunk().Loss);
            grads.Add(net.Parameters.SelectMany(p => p.Grad).ToArray());
        }

        Assert.True(spikes > 10, $"too few spikes ({spikes}) to exercise the path");
        double rate = spikes / (2.0 * steps * batch * 40);
        Assert.True(threshold < 0.1 ? rate > 0.125 : rate < 0.125, $"spike rate {rate} should select the {(threshold < 0.1 ? "dense" : "sparse")} gradient path");
        Assert.Equal(losses[1], losses[0], 12);
        Assert.Equal(grads[1].Length, grads[0].Length);
        for (int i = 0; i < grads[0].Length; i++)
        {
            Assert.Equal(grads[1][i], grads[0][i], 10);
        }
    }
}

/// <summary>Dense inputs that are mostly zero (event-bin counts) take the non-zero-columns path; it equals the dense products.</summary>
public class SparseValuedInputPathTests
{
    [Theory]
    [InlineData(NeuronModel.Ltc, false)]
    [InlineData(NeuronModel.Ltc, true)]
    [InlineData(NeuronModel.Alif, false)]
    public void Mostly_zero_dense_input_matches_dense_products_in_training_and_inference(NeuronModel model, bool normalized)
    {
        const int inputs = 96; // up to 12 non-zero values per row take the sparse path
        const int batch = 2;
        const int steps = 10;
        var config = new NetworkConfig
        {
            InputSize = inputs,
            Layers = [new LayerConfig { Model = model, Size = 24, ThresholdBase = 0.1, TauMembraneMean = 3, TauMembraneStd = 0.5, InputNorm = normalized ? InputNormKind.Layer : InputNormKind.None }],
            Readout = new ReadoutConfig { Size = 3 },
            Seed = 5,
        };
        var labels = new ChunkData<double>(config, batch, steps, sparse: false, regression: false, new SnnRandom(3));
        var rng = new SnnRandom(17);
        var x = new double[steps * batch * inputs];
        int nonZero = 0;
        for (int r = 0; r < steps * batch; r++)
        {
            int count = r % 5 == 0 ? 0 : 1 + rng.NextInt(12); // some rows all zero (an empty bin)
            for (int k = 0; k < count; k++)
            {
                x[(r * inputs) + rng.NextInt(inputs)] = 1 + rng.NextInt(4); // event counts
                nonZero++;
            }
        }

        var grads = new List<double[]>();
        var losses = new List<double>();
        var inferred = new List<double[]>();
        foreach (bool dense in new[] { false, true })
        {
            var net = new Network<double>(config);
            net.Layers[0].DenseSpikes = dense;
            var learner = new GradientOnlyLearner<double>(net, batch, steps);
            NetworkState<double> s = net.CreateState(batch, new SnnRandom(2));
            for (int t = 0; t < steps; t++)
            {
                learner.Observe(StepInput.Dense<double>(x.AsSpan(t * batch * inputs, batch * inputs)), labels.Target(t), s);
            }

            losses.Add(learner.EndChunk().Loss);
            grads.Add(net.Parameters.SelectMany(p => p.Grad).ToArray());

            NetworkState<double> si = net.CreateState(batch, new SnnRandom(2));
            var outputs = new double[steps * batch * 3];
            net.Infer(x, steps, si, outputs);
            inferred.Add(outputs);
        }

        Assert.True(nonZero > 50, "too few non-zero inputs to exercise the path");
        Assert.Equal(losses[1], losses[0], 12);
        Assert.Contains(grads[0], g => g != 0);
        for (int i = 0; i < grads[0].Length; i++)
        {
            Assert.Equal(grads[1][i], grads[0][i], 10);
        }

        for (int i = 0; i < inferred[0].Length; i++)
        {
            Assert.Equal(inferred[1][i], inferred[0][i], 10);
        }
    }
}
