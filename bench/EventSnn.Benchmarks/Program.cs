using BenchmarkDotNet.Running;

namespace EventSnn.Benchmarks;

/// <summary>
/// Runs the micro-benchmarks: <c>dotnet run -c Release --project bench/EventSnn.Benchmarks -- --filter '*'</c>
/// (or <c>--filter '*Decode*'</c>, <c>--list flat</c>; every BenchmarkDotNet option works).
/// </summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
