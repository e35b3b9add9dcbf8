using BenchmarkDotNet.Attributes;
using EventSnn.Snn;
using EventSnn.Workloads;

namespace EventSnn.Benchmarks;

/// <summary>
/// One time step of the managed engine on the bar model of <c>eventsnn bench step</c> (one LTC
/// layer of 256, 2,048 inputs at 2 %, batch 1): inference, and online FPTT learning (layer-normalised
/// input) with an update every 10 steps and every step, on one thread and on two sharing each step.
/// </summary>
[MemoryDiagnoser]
public class StepBenchmarks
{
    private ManagedStepTarget? _infer;
    private ManagedStepTarget? _learn10;
    private ManagedStepTarget? _learn1;
    private ManagedStepTarget? _learn10Shared;

    /// <summary>Builds the three networks.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _infer = new ManagedStepTarget(new StepBenchmarkOptions());
        _learn10 = new ManagedStepTarget(new StepBenchmarkOptions { Learn = true, Chunk = 10, Norm = InputNormKind.Layer });
        _learn1 = new ManagedStepTarget(new StepBenchmarkOptions { Learn = true, Chunk = 1, Norm = InputNormKind.Layer });
        _learn10Shared = new ManagedStepTarget(new StepBenchmarkOptions { Learn = true, Chunk = 10, Norm = InputNormKind.Layer }, updateThreads: 2);
    }

    /// <summary>Releases the networks.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _infer?.Dispose();
        _learn10?.Dispose();
        _learn1?.Dispose();
        _learn10Shared?.Dispose();
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

    /// <summary>Online FPTT learning step, chunk 10, two threads sharing every step and update.</summary>
    [Benchmark]
    public void LearnChunk10TwoThreads() => _learn10Shared!.Step();
}
