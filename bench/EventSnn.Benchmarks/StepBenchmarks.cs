using BenchmarkDotNet.Attributes;
using EventSnn.Workloads;

namespace EventSnn.Benchmarks;

/// <summary>
/// One time step of the managed engine on the bar model of <c>eventsnn bench step</c> (one LTC
/// layer of 256, 2,048 inputs at 2 %, batch 1): inference, and online FPTT learning with an
/// update every 10 steps and every step.
/// </summary>
[MemoryDiagnoser]
public class StepBenchmarks
{
    private ManagedStepTarget? _infer;
    private ManagedStepTarget? _learn10;
    private ManagedStepTarget? _learn1;

    /// <summary>Builds the three networks.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _infer = new ManagedStepTarget(new StepBenchmarkOptions());
        _learn10 = new ManagedStepTarget(new StepBenchmarkOptions { Learn = true, Chunk = 10 });
        _learn1 = new ManagedStepTarget(new StepBenchmarkOptions { Learn = true, Chunk = 1 });
    }

    /// <summary>Releases the networks.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _infer?.Dispose();
        _learn10?.Dispose();
        _learn1?.Dispose();
    }

    /// <summary>Streaming inference step.</summary>
    [Benchmark(Baseline = true)]
    public void Inference() => _infer!.Step();

    /// <summary>Online FPTT learning step, chunk 10 (an update every 10th step).</summary>
    [Benchmark]
    public void LearnChunk10() => _learn10!.Step();

    /// <summary>Online FPTT learning step, chunk 1 (an update every step).</summary>
    [Benchmark]
    public void LearnChunk1() => _learn1!.Step();
}
