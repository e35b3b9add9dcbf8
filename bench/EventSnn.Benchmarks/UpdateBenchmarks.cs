using BenchmarkDotNet.Attributes;
using EventSnn.Snn.Internal;

namespace EventSnn.Benchmarks;

/// <summary>
/// The fused optimiser + FPTT update pass (<c>FusedUpdate.Fptt</c>) alone, over the 855,000
/// parameters of the bar model of <c>eventsnn bench step</c>: one read and write of the weight,
/// gradient, two moments, W̄ and λ per parameter. It is a third or more of an online learning step
/// at chunk length 10 and most of it at chunk length 1. Times are per parameter
/// (<c>OperationsPerInvoke</c>).
/// </summary>
public class UpdateBenchmarks
{
    /// <summary>Parameters of the bar model (W_in 256 x 2,048, W_rec, two 256 x 512 gates, readout, biases).</summary>
    public const int Parameters = 855_000;

    private readonly float[][] _state = new float[6][];
    private FpttStepConstants _constants;
    private AdamRule _adam;
    private AdamaxRule _adamax;

    /// <summary>Fills the six arrays with small values of the magnitudes training produces.</summary>
    [GlobalSetup]
    public void Setup()
    {
        DenormalScope.EnterForThread(); // as the engine's entry points: subnormal results flush to zero
        var random = new Random(42);
        for (int a = 0; a < _state.Length; a++)
        {
            _state[a] = new float[Parameters];
            for (int i = 0; i < Parameters; i++)
            {
                _state[a][i] = (float)((random.NextDouble() - 0.5) * 0.02) + (a == 3 ? 0.001f : 0f);
            }
        }

        // the reference's FPTT constants (alpha 0.5, beta 0.5) and Adam / Adamax at learning rate 1e-3 after some steps
        _constants = new FpttStepConstants(Scale: 1f, WeightDecay: 0f, Alpha: 0.5f, OneMinusBeta: 0.5f, Beta: 0.5f, BetaOverAlpha: 1f);
        _adam = new AdamRule(0.1f, 0.999f, 0.001f, 0.3f, 1e-8f, -1e-3f);
        _adamax = new AdamaxRule(0.1f, 0.999f, 1e-8f, -1e-3f);
    }

    /// <summary>One pass with Adam.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Parameters)]
    public double Adam() =>
        FusedUpdate.Fptt(_state[0], _state[1], _state[2], _state[3], _state[4], _state[5], in _constants, in _adam, out _);

    /// <summary>One pass with Adamax.</summary>
    [Benchmark(OperationsPerInvoke = Parameters)]
    public double Adamax() =>
        FusedUpdate.Fptt(_state[0], _state[1], _state[2], _state[3], _state[4], _state[5], in _constants, in _adamax, out _);
}
