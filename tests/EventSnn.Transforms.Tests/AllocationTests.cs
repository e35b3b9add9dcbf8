namespace EventSnn.Transforms.Tests;

/// <summary>The streaming chain allocates nothing per event or per step once warmed up.</summary>
public class AllocationTests
{
    [Theory]
    [InlineData(BinningKind.Time)]
    [InlineData(BinningKind.Count)]
    [InlineData(BinningKind.EqualCountFrames)]
    [InlineData(BinningKind.EqualTimeFrames)]
    public void Streaming_a_sample_allocates_nothing(BinningKind binning)
    {
        Preprocessing p = PreprocessingPresets.DvsGesture.ForSensor(64, 48) with { Pooling = 4, Binning = binning, BinUs = 500, BinEvents = 300, Frames = 25, Value = ValueKind.LogCount };
        const int n = 50_000;
        long[] t = new long[n];
        ushort[] x = new ushort[n], y = new ushort[n];
        byte[] pol = new byte[n];
        var rng = new Random(1);
        for (int i = 0; i < n; i++)
        {
            (t[i], x[i], y[i], pol[i]) = (i * 3, (ushort)rng.Next(64), (ushort)rng.Next(48), (byte)rng.Next(2));
        }

        long steps = 0;
        float sum = 0;
        var chain = new Preprocessor(p, s =>
        {
            steps++;
            sum += s.Frame[s.Features - 1];
        });
        var windows = new WindowedPreprocessor(p, 20_000, s => steps++);
        void Sample()
        {
            chain.BeginSample(0);
            for (int i = 0; i < n; i += 997)
            {
                int k = Math.Min(997, n - i);
                chain.Push(t.AsSpan(i, k), x.AsSpan(i, k), y.AsSpan(i, k), pol.AsSpan(i, k));
                windows.Push(t.AsSpan(i, k), x.AsSpan(i, k), y.AsSpan(i, k), pol.AsSpan(i, k));
            }

            chain.EndSample();
            windows.Flush();
        }

        Sample(); // warm-up: held-event buffers grow once
        long before = GC.GetAllocatedBytesForCurrentThread();
        Sample();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(steps > 20, $"{steps} steps");
        Assert.Equal(0, allocated);
    }
}
