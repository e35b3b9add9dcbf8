using EventSnn.Snn;
using EventSnn.Torch.Native;
using TorchSharp;

namespace EventSnn.Torch.Tests;

/// <summary>Shared models, inputs and error measures of the cross-check tests.</summary>
internal static class CrossCheck
{
    /// <summary>The model variants every cross-check runs on.</summary>
    public static readonly string[] Models =
    [
        "ltc-leaky",        // adaptive LTC (beta 1.8) + leaky readout, reference init
        "ltc2-slope-leaky", // two LTC layers with learnable slopes + leaky readout
        "ltc-liquid",       // LTC + liquid readout (its rate a gate of [z; o] with a learnable slope)
        "ltc-fixed-membrane", // LTC with beta = 0 (rho/b path skipped) + membrane readout, torch-default init, zero state
        "alif-leaky",       // ALIF + leaky readout
        "lif-membrane",     // LIF + membrane readout
    ];

    /// <summary>
    /// The training-recipe variants: input normalisation of every kind (with gains and gate-bias
    /// initialisation), stacks of 1 to 3 layers with a norm per layer, spike dropout.
    /// </summary>
    public static readonly string[] RecipeModels =
    [
        "ltc-running",          // running statistics, gain 0.8, gate biases c_tau -0.5 / c_rho 0.4
        "ltc2-layer",           // two layers, layer norm in both
        "ltc2-batch",           // two layers, per-timestep batch norm (NormSteps 4 and 3: the last timestep's statistics are reused)
        "ltc3-mixed-dropout",   // LTC running / ALIF layer norm / LTC without norm, dropout 0.25
        "ltc2-batch-dropout",   // batch norm then running norm, dropout 0.3
        "ltc2-layer-membrane-dropout", // layer norms, membrane readout (reads u: the top layer's mask is drawn but unused), dropout 0.2
        "ltc2-step",            // running statistics per timestep (NormSteps 4 and 3: the last timestep's reused), then running norm
        "ltc2-recnorm",         // the recurrent current normalised too: per timestep, then running statistics
        "ltc-step-readnorm-liquid", // the readout's current normalised per timestep (NormSteps 3) in a liquid head
        "ltc-running-readnorm",     // the readout's current normalised with running statistics in a leaky head
    ];

    public const int Inputs = 12;

    static CrossCheck() => TorchRuntime.EnsureLoaded();

    public static NetworkConfig Config(string model) => model switch
    {
        "ltc-leaky" => new NetworkConfig
        {
            InputSize = Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 16 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 4 },
            Seed = 11,
        },
        "ltc2-slope-leaky" => new NetworkConfig
        {
            InputSize = Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 12, LearnableSlope = true }, new LayerConfig { Model = NeuronModel.Ltc, Size = 10, LearnableSlope = true }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 3 },
            Seed = 12,
        },
        "ltc-liquid" => new NetworkConfig
        {
            InputSize = Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 14, LearnableSlope = true }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Liquid, Size = 4 },
            Seed = 19,
        },
        "ltc-fixed-membrane" => new NetworkConfig
        {
            InputSize = Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 16, ThresholdAdaptation = 0 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Membrane, Size = 2 },
            Initialization = InitializationScheme.TorchDefault,
            InitialState = InitialStateMode.Zero,
            Seed = 13,
        },
        "alif-leaky" => new NetworkConfig
        {
            InputSize = Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Alif, Size = 16, TauMembraneMean = 4, TauMembraneStd = 1, TauAdaptationMean = 20, TauAdaptationStd = 5 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 4 },
            Seed = 14,
        },
        "lif-membrane" => new NetworkConfig
        {
            InputSize = Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Lif, Size = 16, TauMembraneMean = 4, TauMembraneStd = 1 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Membrane, Size = 2 },
            Seed = 15,
        },
        "ltc-running" => new NetworkConfig
        {
            InputSize = Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 16, InputNorm = InputNormKind.Running, NormGain = 0.8, NormMomentum = 0.2, TauBiasInit = -0.5, RhoBiasInit = 0.4 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 4 },
            Seed = 21,
        },
        "ltc2-layer" => new NetworkConfig
        {
            InputSize = Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 12, InputNorm = InputNormKind.Layer, NormGain = 1.2 }, new LayerConfig { Model = NeuronModel.Ltc, Size = 10, InputNorm = InputNormKind.Layer, NormGain = 0.9 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 3 },
            Seed = 22,
        },
        "ltc2-batch" => new NetworkConfig
        {
            InputSize = Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 12, InputNorm = InputNormKind.Batch, NormSteps = 4, NormMomentum = 0.3 }, new LayerConfig { Model = NeuronModel.Ltc, Size = 10, InputNorm = InputNormKind.Batch, NormSteps = 3, NormGain = 0.7 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 3 },
            Seed = 23,
        },
        "ltc3-mixed-dropout" => new NetworkConfig
        {
            InputSize = Inputs,
            Layers =
            [
                new LayerConfig { Model = NeuronModel.Ltc, Size = 12, InputNorm = InputNormKind.Running, NormMomentum = 0.1, TauBiasInit = 0.3 },
                new LayerConfig { Model = NeuronModel.Alif, Size = 10, InputNorm = InputNormKind.Layer, TauMembraneMean = 4, TauMembraneStd = 1, TauAdaptationMean = 20, TauAdaptationStd = 5 },
                new LayerConfig { Model = NeuronModel.Ltc, Size = 8, LearnableSlope = true },
            ],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 3 },
            Dropout = 0.25,
            Seed = 24,
        },
        "ltc2-batch-dropout" => new NetworkConfig
        {
            InputSize = Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 12, InputNorm = InputNormKind.Batch, NormSteps = 5, NormMomentum = 0.2 }, new LayerConfig { Model = NeuronModel.Ltc, Size = 10, InputNorm = InputNormKind.Running, NormMomentum = 0.2, TauBiasInit = -1 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 3 },
            Dropout = 0.3,
            Seed = 25,
        },
        "ltc2-layer-membrane-dropout" => new NetworkConfig
        {
            InputSize = Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 12, InputNorm = InputNormKind.Layer }, new LayerConfig { Model = NeuronModel.Ltc, Size = 8, InputNorm = InputNormKind.Layer, NormGain = 0.6 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Membrane, Size = 2 },
            Dropout = 0.2,
            Seed = 26,
        },
        "ltc2-step" => new NetworkConfig
        {
            InputSize = Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 12, InputNorm = InputNormKind.Timestep, NormSteps = 4, NormMomentum = 0.3, NormGain = 0.9 }, new LayerConfig { Model = NeuronModel.Ltc, Size = 10, InputNorm = InputNormKind.Timestep, NormSteps = 3, NormMomentum = 0.2, TauBiasInit = -1 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 3 },
            Seed = 27,
        },
        "ltc2-recnorm" => new NetworkConfig
        {
            InputSize = Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 12, InputNorm = InputNormKind.Timestep, RecurrentNorm = true, NormSteps = 4, NormMomentum = 0.3, NormGain = 0.9, LearnableSlope = true }, new LayerConfig { Model = NeuronModel.Ltc, Size = 10, InputNorm = InputNormKind.Running, RecurrentNorm = true, NormMomentum = 0.2, TauBiasInit = -1 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 3 },
            Seed = 28,
        },
        "ltc-step-readnorm-liquid" => new NetworkConfig
        {
            InputSize = Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 12, InputNorm = InputNormKind.Timestep, NormSteps = 4, NormMomentum = 0.3, LearnableSlope = true }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Liquid, Size = 4, Norm = InputNormKind.Timestep, NormSteps = 3, NormMomentum = 0.25, NormGain = 0.6 },
            Seed = 29,
        },
        "ltc-running-readnorm" => new NetworkConfig
        {
            InputSize = Inputs,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 12, InputNorm = InputNormKind.Running, NormMomentum = 0.2 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 3, Norm = InputNormKind.Running, NormMomentum = 0.2, NormGain = 1.3 },
            Seed = 30,
        },
        _ => throw new ArgumentException(model),
    };

    /// <summary>Running statistics away from their initial 0 / 1 (means in ±0.5, variances in [0.5, 2)), so inference-mode normalisation is not trivial.</summary>
    public static void RandomizeBuffers(Network<float> network, long seed)
    {
        var rng = new SnnRandom(seed);
        foreach (Parameter<float> b in network.Buffers)
        {
            bool variance = b.Name.EndsWith("running_var", StringComparison.Ordinal);
            for (int i = 0; i < b.Length; i++)
            {
                b.Data[i] = variance ? (float)rng.NextDouble(0.5, 2.0) : (float)rng.NextDouble(-0.5, 0.5);
            }

            b.MarkChanged();
        }
    }

    /// <summary>Checks that the torch network's buffers equal the managed network's (relative error per buffer).</summary>
    public static void AssertBuffersMatch(Network<float> managed, TorchNetwork net, double tolerance, string where)
    {
        Assert.Equal(managed.Buffers.Count, net.Buffers.Count);
        for (int i = 0; i < managed.Buffers.Count; i++)
        {
            Assert.Equal(managed.Buffers[i].Name, net.BufferNames[i]);
            AssertClose(Values(net.Buffers[i]), managed.Buffers[i].Data, tolerance, $"{where}: {managed.Buffers[i].Name}");
        }
    }

    /// <summary>Dense inputs: steps x B x D values, a mix of strong and weak drive so that neurons spike.</summary>
    public static float[] DenseInputs(int steps, int batch, long seed)
    {
        var rng = new SnnRandom(seed);
        var x = new float[steps * batch * Inputs];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = rng.NextDouble() < 0.3 ? (float)(rng.NextDouble() * 3) : 0f;
        }

        return x;
    }

    /// <summary>Sparse binary inputs: per step, the active indices of every stream and B + 1 offsets.</summary>
    public static (int[][] Indices, int[][] Offsets) SparseInputs(int steps, int batch, long seed)
    {
        var rng = new SnnRandom(seed);
        var indices = new int[steps][];
        var offsets = new int[steps][];
        var list = new List<int>();
        for (int t = 0; t < steps; t++)
        {
            list.Clear();
            offsets[t] = new int[batch + 1];
            for (int b = 0; b < batch; b++)
            {
                for (int j = 0; j < Inputs; j++)
                {
                    if (rng.NextDouble() < 0.35)
                    {
                        list.Add(j);
                    }
                }

                offsets[t][b + 1] = list.Count;
            }

            indices[t] = [.. list];
        }

        return (indices, offsets);
    }

    /// <summary>max |a − b| / max |b| (0 when both are zero): the relative error of a whole tensor.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }

        return diff == 0 ? 0 : diff / Math.Max(scale, 1e-30);
    }

    /// <summary>‖a − b‖₂ / ‖b‖₂ (0 when both are zero).</summary>
    public static double NormRelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = (double)actual[i] - expected[i];
            diff += d * d;
            scale += (double)expected[i] * expected[i];
        }

        return diff == 0 ? 0 : Math.Sqrt(diff / Math.Max(scale, 1e-60));
    }

    public static float[] Values(torch.Tensor t)
    {
        var a = new float[t.numel()];
        TorchState.ToArray(t, a);
        return a;
    }

    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double tolerance, string what)
    {
        double e = RelativeError(actual, expected);
        Assert.True(e <= tolerance, $"{what}: relative error {e:E3} > {tolerance:E1}");
    }

    /// <summary>Checks that two states match: spikes exactly, u, b and readout within the tolerance.</summary>
    public static void AssertStatesMatch(NetworkState<float> managed, TorchState torchState, double tolerance, string where)
    {
        for (int l = 0; l < managed.Layers.Count; l++)
        {
            LayerState<float> ls = managed.Layers[l];
            Assert.True(ls.Step == torchState.Step, $"{where}: layer {l} counts {ls.Step} steps, the torch state {torchState.Step}");
            Assert.True(ls.S.AsSpan().SequenceEqual(Values(torchState.S(l))), $"{where}: spikes of layer {l} differ");
            AssertClose(Values(torchState.U(l)), ls.U, tolerance, $"{where}: u of layer {l}");
            AssertClose(Values(torchState.B(l)), ls.B, tolerance, $"{where}: b of layer {l}");
        }

        AssertClose(Values(torchState.Readout), managed.Readout, tolerance, $"{where}: readout state");
    }
}
