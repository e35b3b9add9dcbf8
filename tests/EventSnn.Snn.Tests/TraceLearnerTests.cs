using EventSnn.Snn;
using EventSnn.Snn.Internal;
using Xunit.Abstractions;

namespace EventSnn.Snn.Tests;

/// <summary>
/// The online trace learners (e-prop, OSTL): traces against hand-computed values, exactness where
/// the theory says they are exact (one step without recurrence; one neuron per layer for OSTL), the
/// approximation error against BPTT on short sequences, and memory that does not grow with the
/// sequence length.
/// </summary>
public class TraceLearnerTests
{
    private readonly ITestOutputHelper _out;

    public TraceLearnerTests(ITestOutputHelper output) => _out = output;

    private static NetworkConfig Config(NeuronModel model, int inputs, int[] sizes, ReadoutKind readout, int classes, bool recurrent = true, double adaptation = 1.8, bool slope = false, InputNormKind norm = InputNormKind.None, double dropout = 0) => new()
    {
        InputSize = inputs,
        Layers = [.. sizes.Select(n => new LayerConfig { Model = model, Size = n, Recurrent = recurrent, ThresholdAdaptation = adaptation, LearnableSlope = slope, TauMembraneMean = 8, TauMembraneStd = 1, TauAdaptationMean = 30, TauAdaptationStd = 3, InputNorm = norm })],
        Readout = new ReadoutConfig { Kind = readout, Size = classes },
        InitialState = InitialStateMode.Reference,
        Dropout = dropout,
        Seed = 5,
    };

    /// <summary>Copies of the running normalisation statistics (a forward pass in training mode moves them).</summary>
    private static double[][] Buffers(Network<double> net)
    {
        var list = new List<double[]>();
        foreach (RecurrentLayer<double> l in net.Layers)
        {
            foreach (Parameter<double> b in l.Buffers)
            {
                list.Add(b.Data);
            }
        }

        return [.. list.Select(a => (double[])a.Clone())];
    }

    private static void RestoreBuffers(Network<double> net, double[][] saved)
    {
        int k = 0;
        foreach (RecurrentLayer<double> l in net.Layers)
        {
            foreach (Parameter<double> b in l.Buffers)
            {
                saved[k++].CopyTo(b.Data, 0);
                b.MarkChanged();
            }
        }
    }

    private static double[][] Gradients(Network<double> net)
    {
        var g = new double[net.Parameters.Count][];
        for (int p = 0; p < g.Length; p++)
        {
            g[p] = (double[])net.Parameters[p].Grad.Clone();
        }

        net.Parameters.ZeroGrad();
        return g;
    }

    /// <summary>Gradient of the sequence by exact BPTT (state entering treated as a constant).</summary>
    private static double[][] Bptt(Network<double> net, NetworkState<double> initial, ChunkData<double> data)
    {
        var learner = new GradientOnlyLearner<double>(net, initial.Batch, data.Steps);
        NetworkState<double> state = net.CreateState(initial.Batch);
        initial.CopyTo(state);
        GradientCheckTests.Run(learner, data, state);
        learner.EndChunk();
        return Gradients(net);
    }

    private static double[][] Online(TraceLearner<double> learner, NetworkState<double> initial, ChunkData<double> data)
    {
        learner.GradientOnly = true;
        NetworkState<double> state = learner.Network.CreateState(initial.Batch);
        initial.CopyTo(state);
        GradientCheckTests.Run(learner, data, state);
        learner.EndChunk();
        return Gradients(learner.Network);
    }

    private static Adam<double> Opt(Network<double> net) => new(net.Parameters, 1e-3);

    private static void AssertClose(Network<double> net, double[][] expected, double[][] actual, Func<string, bool> which, string what)
    {
        int compared = 0;
        int nonZero = 0;
        for (int p = 0; p < expected.Length; p++)
        {
            string name = net.Parameters[p].Name;
            if (!which(name))
            {
                continue;
            }

            for (int i = 0; i < expected[p].Length; i++)
            {
                double tol = 1e-10 + (1e-8 * Math.Abs(expected[p][i]));
                Assert.True(Math.Abs(expected[p][i] - actual[p][i]) <= tol, $"{what}: {name}[{i}] BPTT {expected[p][i]:G12} vs {actual[p][i]:G12}");
                compared++;
                nonZero += Math.Abs(expected[p][i]) > 1e-9 ? 1 : 0;
            }
        }

        Assert.True(compared > 0 && nonZero > compared / 3, $"{what}: {nonZero} of {compared} gradients non-zero");
    }

    public static TheoryData<string> SingleNeuronCases => new() { "ltc", "ltc-fixed-threshold", "ltc-slope", "alif", "lif", "ltc-alif", "ltc-running-norm", "alif-running-norm", "ltc-alif-dropout" };

    /// <summary>
    /// With one neuron per layer there is no recurrence through other neurons and the LTC gates see
    /// only their own neuron, so OSTL's traces are the full forward-mode derivative: with a membrane
    /// readout its gradient is exact BPTT over the whole sequence, for every parameter (this checks the
    /// reset, self-recurrence, gate and adaptation terms of the traces).
    /// </summary>
    [Theory]
    [MemberData(nameof(SingleNeuronCases))]
    public void Ostl_with_one_neuron_per_layer_equals_bptt_over_the_sequence(string name)
    {
        NetworkConfig config = name switch
        {
            "ltc" => Config(NeuronModel.Ltc, 3, [1], ReadoutKind.Membrane, 2),
            "ltc-fixed-threshold" => Config(NeuronModel.Ltc, 3, [1], ReadoutKind.Membrane, 2, adaptation: 0),
            "ltc-slope" => Config(NeuronModel.Ltc, 3, [1], ReadoutKind.Membrane, 2, slope: true),
            "alif" => Config(NeuronModel.Alif, 3, [1], ReadoutKind.Membrane, 2),
            "lif" => Config(NeuronModel.Lif, 3, [1], ReadoutKind.Membrane, 2),
            "ltc-running-norm" => Config(NeuronModel.Ltc, 3, [1], ReadoutKind.Membrane, 2, norm: InputNormKind.Running),
            "alif-running-norm" => Config(NeuronModel.Alif, 3, [1], ReadoutKind.Membrane, 2, norm: InputNormKind.Running),
            _ => new NetworkConfig
            {
                InputSize = 3,
                Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 1 }, new LayerConfig { Model = NeuronModel.Alif, Size = 1, TauMembraneMean = 8, TauAdaptationMean = 30 }],
                Readout = new ReadoutConfig { Kind = ReadoutKind.Membrane, Size = 2 },
                InitialState = InitialStateMode.Reference,
                Dropout = name.EndsWith("dropout", StringComparison.Ordinal) ? 0.3 : 0,
                Seed = 5,
            },
        };
        var net = new Network<double>(config);
        foreach (RecurrentLayer<double> l in net.Layers)
        {
            // a gain away from 1 so that a missing gain factor in the traces shows
            l.NormGain?.Data.AsSpan().Fill(0.7);
            l.NormGain?.MarkChanged();
        }

        var rng = new SnnRandom(11);
        const int batch = 2;
        NetworkState<double> initial = net.CreateState(batch, rng);
        GradientCheckTests.Perturb(initial, rng);
        var data = new ChunkData<double>(config, batch, 12, sparse: false, regression: true, rng);
        double[][] statistics = Buffers(net);
        double[][] bptt = Bptt(net, initial, data);
        RestoreBuffers(net, statistics);
        double[][] ostl = Online(new OstlLearner<double>(net, Opt(net), batch, 12), initial, data);
        if (name.StartsWith("ltc-alif", StringComparison.Ordinal))
        {
            // two layers: the lower layer's traces miss the path through the upper layer's state (OSTL drops it)
            AssertClose(net, bptt, ostl, n => !n.StartsWith("layers.0.", StringComparison.Ordinal), name);
        }
        else
        {
            AssertClose(net, bptt, ostl, _ => true, name);
        }
    }

    /// <summary>
    /// A single step from a given state (the state entering is a constant for BPTT too): no temporal
    /// term exists, and both learners' updates equal BPTT's exact gradient: OSTL for every layer of a
    /// two-layer network, e-prop with symmetric feedback for a one-layer network.
    /// </summary>
    [Theory]
    [InlineData(NeuronModel.Ltc, "ostl", 2)]
    [InlineData(NeuronModel.Alif, "ostl", 2)]
    [InlineData(NeuronModel.Ltc, "eprop", 1)]
    [InlineData(NeuronModel.Alif, "eprop", 1)]
    [InlineData(NeuronModel.Lif, "eprop", 1)]
    [InlineData(NeuronModel.Ltc, "ostl-layer-norm", 2)]
    [InlineData(NeuronModel.Ltc, "ostl-running-norm-dropout", 2)]
    [InlineData(NeuronModel.Alif, "eprop-layer-norm-dropout", 1)]
    public void One_step_update_equals_the_exact_gradient(NeuronModel model, string method, int depth)
    {
        int[] sizes = depth == 2 ? [5, 4] : [5];
        InputNormKind norm = method.Contains("layer-norm", StringComparison.Ordinal) ? InputNormKind.Layer : method.Contains("running-norm", StringComparison.Ordinal) ? InputNormKind.Running : InputNormKind.None;
        double dropout = method.EndsWith("dropout", StringComparison.Ordinal) ? 0.4 : 0;
        NetworkConfig config = Config(model, 4, sizes, ReadoutKind.Leaky, 3, recurrent: false, norm: norm, dropout: dropout);
        var net = new Network<double>(config);
        var rng = new SnnRandom(3);
        const int batch = 3;
        NetworkState<double> initial = net.CreateState(batch, rng);
        GradientCheckTests.Perturb(initial, rng);
        var data = new ChunkData<double>(config, batch, 1, sparse: false, regression: false, rng);
        double[][] statistics = Buffers(net);
        double[][] bptt = Bptt(net, initial, data);
        RestoreBuffers(net, statistics);
        TraceLearner<double> learner = method.StartsWith("ostl", StringComparison.Ordinal)
            ? new OstlLearner<double>(net, Opt(net), batch, 1)
            : new EligibilityPropLearner<double>(net, Opt(net), batch, 1, EpropFeedback.Symmetric);
        AssertClose(net, bptt, Online(learner, initial, data), _ => true, $"{model} {method}");
    }

    /// <summary>The readout parameters get their exact gradient over the whole sequence (leaky readout with its own traces).</summary>
    [Theory]
    [InlineData("ostl")]
    [InlineData("eprop")]
    [InlineData("eprop-random")]
    public void Readout_gradient_is_exact_over_the_sequence(string method)
    {
        NetworkConfig config = Config(NeuronModel.Ltc, 4, [6], ReadoutKind.Leaky, 3);
        var net = new Network<double>(config);
        var rng = new SnnRandom(21);
        const int batch = 2;
        NetworkState<double> initial = net.CreateState(batch, rng);
        GradientCheckTests.Perturb(initial, rng);
        var data = new ChunkData<double>(config, batch, 8, sparse: true, regression: false, rng);
        double[][] bptt = Bptt(net, initial, data);
        TraceLearner<double> learner = method switch
        {
            "ostl" => new OstlLearner<double>(net, Opt(net), batch, 8),
            "eprop" => new EligibilityPropLearner<double>(net, Opt(net), batch, 8),
            _ => new EligibilityPropLearner<double>(net, Opt(net), batch, 8, EpropFeedback.Random),
        };
        AssertClose(net, bptt, Online(learner, initial, data), n => n.StartsWith("readout.", StringComparison.Ordinal), method);
    }

    /// <summary>
    /// e-prop's traces on a two-neuron LIF layer are the classic ones: the reset is a constant and
    /// the decay α_j fixed, so the trace of W_in[j, i] is (1 − α_j) Σ_t' α_j^(t−t') x_i,t' (the
    /// presynaptic trace filtered with the neuron's decay), and the trace of W_rec[j, i] the same
    /// filter over s_i,t'−1; the pseudo-derivative enters through the learning signal. On ALIF the
    /// adaptation component follows ε^b_t = (1−ρ) ψ_{t−1} ε^u_{t−1} + (ρ − (1−ρ) β ψ_{t−1}) ε^b_{t−1}.
    /// </summary>
    [Theory]
    [InlineData(NeuronModel.Lif)]
    [InlineData(NeuronModel.Alif)]
    public void Eprop_traces_match_hand_computed_values_on_two_neurons(NeuronModel model)
    {
        NetworkConfig config = Config(model, 2, [2], ReadoutKind.Leaky, 2);
        var net = new Network<double>(config);
        var learner = new EligibilityPropLearner<double>(net, Opt(net), 1, 20) { GradientOnly = true };
        var layer = (SoftResetLayer<double>)net.Layers[0];
        NetworkState<double> state = net.CreateState(1);
        var rng = new SnnRandom(4);
        double beta = model == NeuronModel.Alif ? 1.8 : 0;
        double b0 = 0.1;
        var eu = new double[2, 2]; // [j, i] input weights, membrane component
        var eb = new double[2, 2];
        var ru = new double[2, 2]; // recurrent weights
        var rb = new double[2, 2];
        var psiPrev = new double[2];
        var sPrev = new double[2];
        var x = new double[2];
        int spikes = 0;
        for (int t = 0; t < 15; t++)
        {
            x[0] = rng.NextDouble(0, 3);
            x[1] = rng.NextDouble() < 0.5 ? 2.5 : 0;
            learner.Observe(new StepInput<double>(x), new StepTarget<double>([t % 2], 1.0), state);
            for (int j = 0; j < 2; j++)
            {
                double alpha = Math.Exp(-1 / layer.TauMembrane.Data[j]);
                double rho = layer.TauAdaptation is null ? 0 : Math.Exp(-1 / layer.TauAdaptation.Data[j]);
                for (int i = 0; i < 2; i++)
                {
                    // ε^b first (it uses the previous membrane component), then ε^u
                    if (beta != 0)
                    {
                        eb[j, i] = ((1 - rho) * psiPrev[j] * eu[j, i]) + ((rho - ((1 - rho) * beta * psiPrev[j])) * eb[j, i]);
                        rb[j, i] = ((1 - rho) * psiPrev[j] * ru[j, i]) + ((rho - ((1 - rho) * beta * psiPrev[j])) * rb[j, i]);
                    }

                    eu[j, i] = (alpha * eu[j, i]) + ((1 - alpha) * x[i]);
                    ru[j, i] = (alpha * ru[j, i]) + ((1 - alpha) * sPrev[i]);
                    Assert.Equal(eu[j, i], learner.Trace(layer.InputWeight, 0, 0, j, i), 12);
                    Assert.Equal(ru[j, i], learner.Trace(layer.RecurrentWeight!, 0, 0, j, i), 12);
                    if (beta != 0)
                    {
                        Assert.Equal(eb[j, i], learner.Trace(layer.InputWeight, 0, 1, j, i), 12);
                        Assert.Equal(rb[j, i], learner.Trace(layer.RecurrentWeight!, 0, 1, j, i), 12);
                    }
                }
            }

            LayerState<double> ls = state.Layers[0];
            for (int j = 0; j < 2; j++)
            {
                psiPrev[j] = Surrogate.Derivative(ls.U[j] - (b0 + (beta * ls.B[j])));
                sPrev[j] = ls.S[j];
                spikes += ls.S[j] > 0 ? 1 : 0;
            }
        }

        Assert.True(spikes > 0, "the neurons never spiked: the recurrent traces were not exercised");
        Assert.True(Math.Abs(eb[0, 0]) + Math.Abs(eb[1, 0]) > 0 || beta == 0);
    }

    /// <summary>
    /// The LTC trace after one step is the immediate derivative: for W_in[j, i] it is
    /// (τ_j + (I_j − u_j) τ_j (1 − τ_j) W_tau[j, j]) x_i on m, and (b_j − s_j) ρ_j (1 − ρ_j) W_rho[j, j] x_i on b.
    /// </summary>
    [Fact]
    public void Ltc_first_step_traces_are_the_immediate_derivative_with_the_own_gate_columns()
    {
        NetworkConfig config = Config(NeuronModel.Ltc, 2, [2], ReadoutKind.Leaky, 2);
        var net = new Network<double>(config);
        var layer = (LtcLayer<double>)net.Layers[0];
        var learner = new OstlLearner<double>(net, Opt(net), 1, 5) { GradientOnly = true };
        var rng = new SnnRandom(8);
        NetworkState<double> state = net.CreateState(1, rng);
        GradientCheckTests.Perturb(state, rng);
        NetworkState<double> before = net.CreateState(1);
        state.CopyTo(before);
        double[] x = [0.7, -1.2];
        learner.Observe(new StepInput<double>(x), default, state);
        LayerState<double> p = before.Layers[0];
        for (int j = 0; j < 2; j++)
        {
            double current = layer.InputBias.Data[j] + (layer.InputWeight.Data[j * 2] * x[0]) + (layer.InputWeight.Data[(j * 2) + 1] * x[1]);
            double currentAll0 = current;
            for (int k = 0; k < 2; k++)
            {
                current += layer.RecurrentWeight!.Data[(j * 2) + k] * p.S[k];
            }

            Assert.NotEqual(currentAll0, current, 12);
            double[] currents = new double[2];
            for (int k = 0; k < 2; k++)
            {
                currents[k] = layer.InputBias.Data[k] + (layer.InputWeight.Data[k * 2] * x[0]) + (layer.InputWeight.Data[(k * 2) + 1] * x[1])
                    + (layer.RecurrentWeight!.Data[k * 2] * p.S[0]) + (layer.RecurrentWeight.Data[(k * 2) + 1] * p.S[1]);
            }

            double za = layer.TauBias.Data[j], zr = layer.RhoBias.Data[j];
            for (int k = 0; k < 2; k++)
            {
                za += (layer.TauWeight.Data[(j * 4) + k] * currents[k]) + (layer.TauWeight.Data[(j * 4) + 2 + k] * p.U[k]);
                zr += (layer.RhoWeight.Data[(j * 4) + k] * currents[k]) + (layer.RhoWeight.Data[(j * 4) + 2 + k] * p.B[k]);
            }

            double tau = 1 / (1 + Math.Exp(-za));
            double rho = 1 / (1 + Math.Exp(-zr));
            double km = tau + ((currents[j] - p.U[j]) * tau * (1 - tau) * layer.TauWeight.Data[(j * 4) + j]);
            double kb = (p.B[j] - p.S[j]) * rho * (1 - rho) * layer.RhoWeight.Data[(j * 4) + j];
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(km * x[i], learner.Trace(layer.InputWeight, 0, 0, j, i), 12);
                Assert.Equal(kb * x[i], learner.Trace(layer.InputWeight, 0, 1, j, i), 12);
                Assert.Equal(km * p.S[i], learner.Trace(layer.RecurrentWeight!, 0, 0, j, i), 12);
            }

            // gate weights: only the immediate gate term, τ(1 − τ)(I − u) times the gate's input
            double gt = (currents[j] - p.U[j]) * tau * (1 - tau);
            Assert.Equal(gt * currents[1], learner.Trace(layer.TauWeight, 0, 0, j, 1), 12);
            Assert.Equal(gt * p.U[0], learner.Trace(layer.TauWeight, 0, 0, j, 2), 12);
            Assert.Equal(0.0, learner.Trace(layer.TauWeight, 0, 1, j, 2), 12);
            Assert.Equal((p.B[j] - p.S[j]) * rho * (1 - rho) * p.B[1], learner.Trace(layer.RhoWeight, 0, 1, j, 3), 12);
        }
    }

    /// <summary>
    /// On short sequences of a recurrent 16-neuron network the online gradients are approximations of
    /// BPTT's: their cosine similarity with the BPTT gradient of the hidden layer is well above 0 but
    /// below 1 (the dropped terms are not zero). OSTL keeps more terms than e-prop (reset, self-recurrence).
    /// </summary>
    [Theory]
    [InlineData(NeuronModel.Ltc)]
    [InlineData(NeuronModel.Alif)]
    public void Approximation_error_against_bptt_is_bounded_and_nonzero(NeuronModel model)
    {
        NetworkConfig config = Config(model, 3, [16], ReadoutKind.Membrane, 1) with { InitialState = InitialStateMode.Zero };
        var net = new Network<double>(config);
        var rng = new SnnRandom(2);
        const int batch = 4;
        NetworkState<double> initial = net.CreateState(batch);
        var data = new ChunkData<double>(config, batch, 10, sparse: false, regression: true, rng);
        double[][] bptt = Bptt(net, initial, data);
        double[][] ostl = Online(new OstlLearner<double>(net, Opt(net), batch, 10), initial, data);
        double[][] eprop = Online(new EligibilityPropLearner<double>(net, Opt(net), batch, 10), initial, data);
        double[][] random = Online(new EligibilityPropLearner<double>(net, Opt(net), batch, 10, EpropFeedback.Random), initial, data);
        double cosOstl = Cosine(net, bptt, ostl);
        double cosEprop = Cosine(net, bptt, eprop);
        double cosRandom = Cosine(net, bptt, random);
        _out.WriteLine($"{model}: cosine with BPTT (hidden layer, T = 10): OSTL {cosOstl:F4}, e-prop {cosEprop:F4}, random e-prop {cosRandom:F4}");
        Assert.InRange(cosOstl, 0.5, 1 - 1e-6);
        Assert.InRange(cosEprop, 0.3, 1 - 1e-6);
        Assert.InRange(cosRandom, -1, 1 - 1e-6);
    }

    /// <summary>
    /// With input normalisation (running statistics, or layer norm whose Jacobian the traces keep on
    /// its diagonal) and spike dropout, the online gradients of a recurrent two-layer network stay
    /// approximations of BPTT's: cosine similarity well above 0 and below 1 (e-prop: its top layer,
    /// whose learning signal is the readout's symmetric feedback).
    /// </summary>
    [Theory]
    [InlineData(InputNormKind.Running, 0.0)]
    [InlineData(InputNormKind.Layer, 0.0)]
    [InlineData(InputNormKind.Layer, 0.3)]
    public void Approximation_with_normalisation_and_dropout_stays_close_to_bptt(InputNormKind norm, double dropout)
    {
        NetworkConfig config = Config(NeuronModel.Ltc, 3, [16, 8], ReadoutKind.Membrane, 1, norm: norm, dropout: dropout) with { InitialState = InitialStateMode.Zero };
        var net = new Network<double>(config);
        var rng = new SnnRandom(2);
        const int batch = 4;
        NetworkState<double> initial = net.CreateState(batch);
        var data = new ChunkData<double>(config, batch, 10, sparse: false, regression: true, rng);
        double[][] statistics = Buffers(net);
        double[][] bptt = Bptt(net, initial, data);
        RestoreBuffers(net, statistics);
        double[][] ostl = Online(new OstlLearner<double>(net, Opt(net), batch, 10), initial, data);
        RestoreBuffers(net, statistics);
        double[][] eprop = Online(new EligibilityPropLearner<double>(net, Opt(net), batch, 10), initial, data);
        double cosOstl = Cosine(net, bptt, ostl);
        // e-prop: the top layer (the lower one learns from a fixed random feedback matrix)
        double cosEprop = Cosine(net, bptt, eprop, "layers.1.");
        _out.WriteLine($"{norm} norm, dropout {dropout}: cosine with BPTT (T = 10): OSTL {cosOstl:F4} (both layers), e-prop {cosEprop:F4} (top layer)");
        Assert.InRange(cosOstl, 0.5, 1 - 1e-6);
        Assert.InRange(cosEprop, 0.2, 1 - 1e-6);
    }

    private static double Cosine(Network<double> net, double[][] a, double[][] b, string prefix = "layers.")
    {
        double dot = 0, na = 0, nb = 0;
        for (int p = 0; p < a.Length; p++)
        {
            if (!net.Parameters[p].Name.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            for (int i = 0; i < a[p].Length; i++)
            {
                dot += a[p][i] * b[p][i];
                na += a[p][i] * a[p][i];
                nb += b[p][i] * b[p][i];
            }
        }

        return dot / Math.Sqrt(na * nb);
    }

    /// <summary>
    /// Learner memory does not depend on the sequence length: the buffers of learners built for 10 and
    /// for 1000 steps between updates are the same size, a 300-step sequence allocates nothing per step,
    /// and the trace bytes are B x parameters x state variables.
    /// </summary>
    [Theory]
    [InlineData("ostl")]
    [InlineData("eprop")]
    public void Memory_is_flat_in_the_sequence_length_and_steps_allocate_nothing(string method)
    {
        var config = new NetworkConfig
        {
            InputSize = 2,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 32 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Membrane, Size = 1 },
            InitialState = InitialStateMode.Zero,
        };
        var net = new Network<float>(config);
        var opt = new Adam<float>(net.Parameters, 1e-3);
        TraceLearner<float> Make(int steps) => method == "ostl"
            ? new OstlLearner<float>(net, opt, 4, steps)
            : new EligibilityPropLearner<float>(net, opt, 4, steps);
        TraceLearner<float> small = Make(10);
        TraceLearner<float> large = Make(1000);
        Assert.Equal(small.WorkingMemoryBytes, large.WorkingMemoryBytes);
        Assert.Equal(small.TapeBytes, large.TapeBytes);
        long layerParams = 0;
        foreach (Parameter<float> p in net.Layers[0].Parameters)
        {
            layerParams += p.Length;
        }

        Assert.True(large.TraceBytes >= 4L * 2 * layerParams * sizeof(float), $"traces {large.TraceBytes} B");
        Assert.True(large.TraceBytes < 4L * 2 * layerParams * sizeof(float) * 2, $"traces {large.TraceBytes} B");

        var x = new float[4 * 2];
        var y = new float[4];
        NetworkState<float> state = net.CreateState(4);
        var rng = new SnnRandom(1);
        void Sequence(int steps)
        {
            net.ResetState(state);
            for (int t = 0; t < steps; t++)
            {
                for (int i = 0; i < x.Length; i++)
                {
                    x[i] = rng.NextSingle();
                }

                large.Observe(new StepInput<float>(x), t == steps - 1 ? new StepTarget<float>(y, 1.0) : default, state);
            }

            large.EndChunk();
        }

        Sequence(20);
        long start = GC.GetAllocatedBytesForCurrentThread();
        Sequence(300);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - start;
        Assert.True(allocated < 1024, $"{allocated} bytes allocated over 300 steps");
        Assert.True(large.LastReport.Updated);
    }

    /// <summary>The learners train: on a short regression task (target = the input's mean over the sequence) the loss falls.</summary>
    [Theory]
    [InlineData("ostl")]
    [InlineData("eprop")]
    [InlineData("eprop-random")]
    public void Learners_reduce_the_loss_at_batch_one_and_batch_four(string method)
    {
        foreach (int batch in new[] { 1, 4 })
        {
            var config = new NetworkConfig
            {
                InputSize = 1,
                Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 16, ThresholdAdaptation = 0, ThresholdBase = 0.5 }],
                Readout = new ReadoutConfig { Kind = ReadoutKind.Membrane, Size = 1 },
                InitialState = InitialStateMode.Zero,
                Initialization = InitializationScheme.TorchDefault,
                Seed = 3,
            };
            var net = new Network<float>(config);
            var opt = new Adam<float>(net.Parameters, 1e-2);
            TraceLearner<float> learner = method switch
            {
                "ostl" => new OstlLearner<float>(net, opt, batch, 8),
                "eprop" => new EligibilityPropLearner<float>(net, opt, batch, 8),
                _ => new EligibilityPropLearner<float>(net, opt, batch, 8, EpropFeedback.Random),
            };
            var rng = new SnnRandom(6);
            NetworkState<float> state = net.CreateState(batch);
            var x = new float[batch];
            var y = new float[batch];
            var xs = new float[8 * batch];
            double first = 0, last = 0;
            for (int it = 0; it < 300; it++)
            {
                Array.Clear(y);
                for (int i = 0; i < xs.Length; i++)
                {
                    xs[i] = rng.NextSingle();
                    y[i % batch] += xs[i] / 8;
                }

                net.ResetState(state);
                for (int t = 0; t < 8; t++)
                {
                    xs.AsSpan(t * batch, batch).CopyTo(x);
                    learner.Observe(new StepInput<float>(x), t == 7 ? new StepTarget<float>(y, 1.0) : default, state);
                }

                double loss = learner.EndChunk().Loss;
                if (it < 30)
                {
                    first += loss / 30;
                }
                else if (it >= 270)
                {
                    last += loss / 30;
                }
            }

            _out.WriteLine($"{method} batch {batch}: loss {first:F4} -> {last:F4}");
            Assert.True(last < first * 0.5, $"{method} batch {batch}: loss {first:F4} -> {last:F4}");
        }
    }
}
