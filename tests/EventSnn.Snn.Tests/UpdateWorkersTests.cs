namespace EventSnn.Snn.Tests;

/// <summary>
/// Helper threads sharing online FPTT learning (<see cref="UpdateWorkers"/>,
/// <see cref="FpttLearner{T}.UpdateWorkers"/>): the split steps give exactly the calling thread's
/// results, and the worker group itself runs every share once, wakes from sleep, reports failures
/// and stops.
/// </summary>
public class UpdateWorkersTests
{
    private const int Inputs = 520;
    private const int Classes = 7;

    private sealed class CountingJob : IShareJob
    {
        public int[] Runs { get; } = new int[8];

        public int[] ThreadIds { get; } = new int[8];

        public int FailShare { get; set; } = -1;

        public void RunShare(int share, int shares)
        {
            Interlocked.Increment(ref Runs[share]);
            ThreadIds[share] = Environment.CurrentManagedThreadId;
            if (share == FailShare)
            {
                throw new InvalidOperationException("share " + share + " failed");
            }
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Every_share_runs_once_per_run_on_its_own_thread(int threads)
    {
        using var workers = new UpdateWorkers(threads);
        var job = new CountingJob();
        for (int run = 1; run <= 50; run++)
        {
            workers.Run(job);
            for (int s = 0; s < threads; s++)
            {
                Assert.Equal(run, job.Runs[s]);
            }
        }

        Assert.Equal(Environment.CurrentManagedThreadId, job.ThreadIds[0]);
        Assert.Equal(threads, job.ThreadIds.Take(threads).Distinct().Count());
    }

    [Fact]
    public void Sleeping_helpers_wake_for_the_next_run()
    {
        // no spinning: every helper goes to sleep between runs
        using var workers = new UpdateWorkers(3, TimeSpan.Zero);
        var job = new CountingJob();
        for (int run = 1; run <= 5; run++)
        {
            Thread.Sleep(20);
            workers.Run(job);
            Assert.Equal([run, run, run], job.Runs.Take(3));
        }
    }

    [Fact]
    public void A_helpers_exception_reaches_the_caller_and_the_group_goes_on()
    {
        using var workers = new UpdateWorkers(2);
        var job = new CountingJob { FailShare = 1 };
        var ex = Assert.Throws<InvalidOperationException>(() => workers.Run(job));
        Assert.Contains("share 1", ex.Message, StringComparison.Ordinal);
        job.FailShare = -1;
        workers.Run(job);
        Assert.Equal(2, job.Runs[1]);
    }

    [Fact]
    public void Disposed_workers_stop_and_refuse_runs()
    {
        var workers = new UpdateWorkers(2);
        workers.Dispose();
        workers.Dispose();
        Assert.Throws<ObjectDisposedException>(() => workers.Run(new CountingJob()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UpdateWorkers(1));
    }

    public static TheoryData<int, int, InputNormKind, int> Cases => new()
    {
        { 2, 1, InputNormKind.Layer, 10 },
        { 3, 1, InputNormKind.None, 10 },
        { 2, 1, InputNormKind.Running, 1 },
        { 2, 2, InputNormKind.Layer, 6 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Online_learning_with_helper_threads_gives_the_calling_threads_results(int threads, int batch, InputNormKind norm, int chunk)
    {
        // without the clip, whose norm sums the shares' partial sums in another order, the split
        // steps (update, column gathers, gate products and gradients) change no bit
        (Network<float> plain, float[] outPlain, double[] normsPlain) = Train(null, batch, norm, chunk);
        using var workers = new UpdateWorkers(threads);
        (Network<float> shared, float[] outShared, double[] normsShared) = Train(workers, batch, norm, chunk);
        Assert.Equal(outPlain, outShared);

        // the clip norm: one pass over every gradient, or the shares' row sums and tracked changes
        for (int c = 0; c < normsPlain.Length; c++)
        {
            Assert.True(normsPlain[c] > 0);
            Assert.Equal(normsPlain[c], normsShared[c], 1e-9 * normsPlain[c]);
        }

        for (int p = 0; p < plain.Parameters.Count; p++)
        {
            Assert.Equal(plain.Parameters[p].Data, shared.Parameters[p].Data);
        }
    }

    [Fact]
    public void With_the_clip_on_the_shared_steps_agree_to_rounding()
    {
        using var workers = new UpdateWorkers(2);
        (Network<float> plain, _, _) = Train(null, 1, InputNormKind.Layer, 10, clip: 1.0, chunks: 3);
        (Network<float> shared, _, _) = Train(workers, 1, InputNormKind.Layer, 10, clip: 1.0, chunks: 3);
        for (int p = 0; p < plain.Parameters.Count; p++)
        {
            float[] a = plain.Parameters[p].Data;
            float[] b = shared.Parameters[p].Data;
            for (int i = 0; i < a.Length; i++)
            {
                Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5f * (1 + Math.Abs(a[i])), $"{plain.Parameters[p].Name}[{i}]: {a[i]} vs {b[i]}");
            }
        }
    }

    private static (Network<float> Net, float[] Outputs, double[] GradientNorms) Train(UpdateWorkers? workers, int batch, InputNormKind norm, int chunk, double clip = 0, int chunks = 4)
    {
        // layer 1 is wide enough for every split (its W_in gather reads > 4,096 weights per step);
        // layer 2 takes layer 1's spikes as dense input
        var net = new Network<float>(new NetworkConfig
        {
            InputSize = Inputs,
            Layers = [new LayerConfig { Size = 70, InputNorm = norm }, new LayerConfig { Size = 37 }],
            Readout = new ReadoutConfig { Size = Classes },
            Seed = 11,
        });
        var learner = new FpttLearner<float>(net, new Adam<float>(net.Parameters, 3e-3), new FpttOptions { GradientClip = clip }, batch, chunk)
        {
            AutoUpdate = true,
            UpdateWorkers = workers,
        };
        NetworkState<float> state = net.CreateState(batch, new SnnRandom(2));
        var rng = new SnnRandom(9);
        var output = new float[batch * Classes];
        var all = new List<float>();
        var labels = new int[batch];
        var norms = new List<double>();
        for (int t = 0; t < chunks * chunk; t++)
        {
            var idx = new List<int>();
            var off = new List<int> { 0 };
            for (int b = 0; b < batch; b++)
            {
                labels[b] = (t / 3 + b) % Classes;
                for (int j = 0; j < Inputs; j++)
                {
                    // 15 % of the inputs, biased toward the label's block
                    if (rng.NextDouble() < (j / 74 == labels[b] ? 0.5 : 0.1))
                    {
                        idx.Add(j);
                    }
                }

                off.Add(idx.Count);
            }

            learner.Observe(new StepInput<float>([.. idx], [.. off]), new StepTarget<float>(labels, 1.0), state, output);
            all.AddRange(output);
            if ((t + 1) % chunk == 0)
            {
                norms.Add(learner.LastReport.GradientNorm);
            }
        }

        Assert.Equal(chunks, learner.Optimizer!.StepCount);
        return (net, [.. all], [.. norms]);
    }
}
