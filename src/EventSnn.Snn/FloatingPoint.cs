using EventSnn.Snn.Internal;

namespace EventSnn.Snn;

/// <summary>
/// How the managed engine treats subnormal floats. On x64 the engine's public entry points (network
/// steps, learners, trainers, classifiers and their worker threads) run with the SSE control
/// register's flush-to-zero and denormals-are-zero bits set, as TensorFlow's CPU kernels and
/// <c>torch.set_flush_denormal(True)</c> do, and restore the caller's register on return. Membrane
/// and adaptation states of silent neurons, and gradients through long silences, decay
/// geometrically into the subnormal range, where Intel cores take a microcode assist for every
/// operation: training on the generated spoken digits ran 2-5x slower without it. Results then
/// differ from IEEE-gradual-underflow arithmetic only in values below 1.2e-38 (float) /
/// 2.2e-308 (double) and in what those change downstream.
/// </summary>
public static class FloatingPoint
{
    private static volatile bool s_flush = true;

    /// <summary>
    /// True (default): flush subnormals to zero inside the engine (x64 only; elsewhere, and when the
    /// process may not create the small code stub that sets the register, arithmetic is unchanged).
    /// Set false before creating networks to keep IEEE gradual underflow everywhere.
    /// </summary>
    public static bool FlushDenormals
    {
        get => s_flush;
        set => s_flush = value;
    }

    /// <summary>True when this process can set the flush-to-zero mode (x64 with the register stub in place).</summary>
    public static bool CanFlushDenormals => DenormalScope.Supported;
}
