using EventSnn.Snn;
using EventSnn.Torch.Native;
using TorchSharp;

namespace EventSnn.Torch.Tests;

/// <summary>
/// No native leaks over long loops: the number of live TorchSharp tensor handles
/// (<c>torch.Tensor.TotalCount</c>, which only drops when a handle is disposed or finalised) is
/// the same after 2,000 steps as after the warm-up — without any GC.Collect, so every temporary
/// must be disposed explicitly — and malloc's bytes in use (where libtorch's CPU tensors live)
/// and the resident memory stay flat (measured after a managed collection, once the handle
/// count has been taken).
/// </summary>
[Collection(SerialCollection.Name)]
public class NativeMemoryTests
{
    public NativeMemoryTests()
    {
        TorchRuntime.EnsureLoaded();
        torch.set_num_threads(1);
    }

    [Theory]
    [InlineData(false, 1, false)]
    [InlineData(true, 1, false)]
    [InlineData(true, 8, false)]
    [InlineData(false, 1, true)]
    [InlineData(true, 8, true)]
    public void Live_tensors_and_resident_memory_stay_flat_over_2000_steps(bool learn, int batch, bool recipe)
    {
        // recipe: two layers with batch and running normalisation (running statistics updated in
        // place every training step) and spike dropout (a mask tensor per layer and step)
        var config = recipe
            ? new NetworkConfig
            {
                InputSize = 256,
                Layers = [new LayerConfig { Size = 96, InputNorm = InputNormKind.Batch, NormSteps = 50 }, new LayerConfig { Size = 64, InputNorm = InputNormKind.Running }],
                Readout = new ReadoutConfig { Size = 5 },
                Dropout = 0.2,
            }
            : new NetworkConfig
            {
                InputSize = 256,
                Layers = [new LayerConfig { Size = 128 }],
                Readout = new ReadoutConfig { Size = 5 },
            };
        using var net = new TorchNetwork(config);
        using TorchState state = net.CreateState(batch);
        using var learner = learn
            ? new TorchFpttLearner(net, new TorchOptimizerOptions(), new FpttOptions(), batch, 10) { AutoUpdate = true }
            : null;
        (int[][] idx, int[][] off) = Patterns(batch, 256);
        int[] labels = new int[batch];
        var output = new float[batch * 5];

        void Run(int steps, int start)
        {
            for (int t = start; t < start + steps; t++)
            {
                int p = t % idx.Length;
                var input = new StepInput<float>(idx[p], batch == 1 ? default : off[p]);
                labels[0] = t % 5;
                if (learner is null)
                {
                    net.Step(input, state, output);
                }
                else
                {
                    learner.Observe(input, new StepTarget<float>(labels, 1.0), state, output);
                }
            }
        }

        Run(500, 0);
        long tensors0 = torch.Tensor.TotalCount;
        long rss0 = ResidentAfterCollect();
        long heap0 = NativeHeap.InUseBytes();
        Run(2000, 500);

        // handles first, before any collection could finalise a leaked one
        long tensors1 = torch.Tensor.TotalCount;
        long rss1 = ResidentAfterCollect();
        long heap1 = NativeHeap.InUseBytes();

        Assert.True(tensors1 <= tensors0, $"live tensors grew from {tensors0} to {tensors1} over 2,000 steps");
        // malloc's bytes in use (libtorch allocates tensors with malloc): flat to within allocator
        // noise (±0.5 MiB alone; up to 6.3 MiB measured while the whole suite loads both cores:
        // per-thread arenas and caches); one leaked gradient [128, 256] per chunk would add 25 MiB
        // over these 200 chunks, one leaked chunk graph more
        Assert.True(heap1 - heap0 < 12L << 20, $"native heap in use grew by {(heap1 - heap0) >> 10} KiB over 2,000 steps");

        // resident memory outside the managed heap, after malloc_trim: loose bound (page-level noise)
        Assert.True(rss1 - rss0 < 64L << 20, $"resident memory grew by {(rss1 - rss0) >> 20} MiB over 2,000 steps");
        Assert.True(output.All(float.IsFinite));
    }

    private static (int[][] Indices, int[][] Offsets) Patterns(int batch, int inputs)
    {
        var rng = new SnnRandom(5);
        var idx = new int[32][];
        var off = new int[32][];
        var list = new List<int>();
        for (int p = 0; p < idx.Length; p++)
        {
            list.Clear();
            off[p] = new int[batch + 1];
            for (int b = 0; b < batch; b++)
            {
                for (int j = 0; j < inputs; j++)
                {
                    if (rng.NextDouble() < 0.05)
                    {
                        list.Add(j);
                    }
                }

                off[p][b + 1] = list.Count;
            }

            idx[p] = [.. list];
        }

        return (idx, off);
    }

    /// <summary>
    /// Resident bytes outside the managed heap, after a full managed collection and after glibc has
    /// returned its free pages (malloc_trim): what stays is live native memory plus code, so the
    /// GC's committed-but-empty segments and the allocator's cached free pages (both sized by
    /// recent allocation rates, not by leaks) are not counted as growth.
    /// </summary>
    private static long ResidentAfterCollect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        NativeHeap.Trim();
        return Resident() - GC.GetGCMemoryInfo().TotalCommittedBytes;
    }

    private static long Resident()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }
}

/// <summary>glibc's malloc statistics (mallinfo2: bytes in use in arenas plus mmapped blocks).</summary>
internal static partial class NativeHeap
{
    public static long InUseBytes()
    {
        MallInfo2 m = MallInfo();
        return (long)(m.Uordblks + m.Hblkhd);
    }

    /// <summary>Returns glibc's free pages to the system (malloc_trim(0)).</summary>
    public static void Trim() => _ = MallocTrim(0);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallInfo2 MallInfo();

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena;
        public nuint Ordblks;
        public nuint Smblks;
        public nuint Hblks;
        public nuint Hblkhd;
        public nuint Usmblks;
        public nuint Fsmblks;
        public nuint Uordblks;
        public nuint Fordblks;
        public nuint Keepcost;
    }
}

/// <summary>Tests that read process-wide counters (live tensors, RSS) run alone, not in parallel with other classes.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "serial (process-wide counters)";
}
