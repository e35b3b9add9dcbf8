using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn.Tests;

/// <summary>Toggles the process-wide <see cref="FloatingPoint.FlushDenormals"/>: runs alone.</summary>
[CollectionDefinition(nameof(FloatingPointTests), DisableParallelization = true)]
public sealed class FloatingPointCollection;

/// <summary>
/// The engine's flush-to-zero scope: subnormal results become zero inside the engine, the caller's
/// floating-point mode is restored on return, and <see cref="FloatingPoint.FlushDenormals"/> = false
/// keeps IEEE gradual underflow.
/// </summary>
[Collection(nameof(FloatingPointTests))]
public sealed class FloatingPointTests
{
    // not constant-folded: the product of two normal floats whose exact value is subnormal
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Tiny(float a, float b) => a * b;

    [Fact]
    public void Subnormal_results_are_flushed_inside_a_scope_and_not_after_it()
    {
        if (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64)
        {
            Assert.True(FloatingPoint.CanFlushDenormals, "the register stub must work on x64 Linux");
        }

        if (!FloatingPoint.CanFlushDenormals)
        {
            Assert.True(Tiny(1e-20f, 1e-20f) > 0, "without the stub arithmetic is unchanged");
            return;
        }

        Assert.False(DenormalScope.IsFlushing);
        float before = Tiny(1e-20f, 1e-20f);
        Assert.True(before > 0 && float.IsSubnormal(before), $"IEEE gradual underflow outside (got {before})");
        using (DenormalScope.Enter())
        {
            Assert.True(DenormalScope.IsFlushing);
            Assert.Equal(0f, Tiny(1e-20f, 1e-20f));
            Assert.Equal(0.0, 1e-160 * Math.Sqrt(1e-300)); // double too
            using (DenormalScope.Enter())
            {
                Assert.True(DenormalScope.IsFlushing);
            }

            Assert.True(DenormalScope.IsFlushing); // a nested scope leaves the outer one's mode
        }

        Assert.False(DenormalScope.IsFlushing);
        Assert.Equal(before, Tiny(1e-20f, 1e-20f));
    }

    [Fact]
    public void The_engine_leaves_the_callers_mode_as_it_was()
    {
        var net = new Network<float>(new NetworkConfig
        {
            InputSize = 8,
            Layers = [new LayerConfig { Size = 6 }],
            Readout = new ReadoutConfig { Size = 3 },
        });
        NetworkState<float> state = net.CreateState(1);
        var output = new float[3];
        var learner = new GradientOnlyLearner<float>(net, 1, 4);
        net.Step(new StepInput<float>(new float[8]), state, output);
        learner.Observe(new StepInput<float>(new float[8]), default, state, output);
        Assert.False(DenormalScope.IsFlushing);
        Assert.True(Tiny(1e-20f, 1e-20f) > 0);
    }

    [Fact]
    public void Turning_the_flush_off_keeps_gradual_underflow_in_the_engine()
    {
        Assert.True(FloatingPoint.FlushDenormals);
        FloatingPoint.FlushDenormals = false;
        try
        {
            using (DenormalScope.Enter())
            {
                Assert.False(DenormalScope.IsFlushing);
                Assert.True(Tiny(1e-20f, 1e-20f) > 0);
            }
        }
        finally
        {
            FloatingPoint.FlushDenormals = true;
        }

        using (DenormalScope.Enter())
        {
            Assert.Equal(FloatingPoint.CanFlushDenormals, DenormalScope.IsFlushing);
        }
    }
}
