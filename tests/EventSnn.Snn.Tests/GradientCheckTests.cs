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

    public static TheoryData<string> Cases => new() { "ltc-ltc-leaky-dense", "alif-lif-membrane-sparse", "ltc-alif-leaky-sparse", "ltc-membrane-zero" };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Analytic_gradients_match_central_differences_for_every_parameter(string name)
    {
        (NetworkConfig config, bool sparse, bool regression) = Case(name);
        var net = new Network<double>(config) { SmoothSpikes = true };
        const int batch = 2;
        var rng = new SnnRandom(7);
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

    internal static (NetworkConfig Config, bool Sparse, bool Regression) Case(string name) => name switch
    {
        "ltc-ltc-leaky-dense" => (new NetworkConfig
        {
            InputSize = 3,
            Layers = [new LayerConfig { Model = NeuronModel.Ltc, Size = 5, LearnableSlope = true }, new LayerConfig { Model = NeuronModel.Ltc, Size = 4 }],
            Readout = new ReadoutConfig { Kind = ReadoutKind.Leaky, Size = 3 },
            Seed = 11,
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
