using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Testing;

namespace EventSnn.Transforms.Tests;

/// <summary>
/// Offline (a whole sample at once, <see cref="SequenceBinner"/>) and streaming (batch by batch,
/// <see cref="Preprocessor"/>, <see cref="WindowedPreprocessor"/>) give identical steps, on
/// generated data of every kind and on real recordings of the shared fixtures.
/// </summary>
public class OfflineStreamingTests
{
    private static readonly Preprocessing Small = new()
    {
        Input = InputKind.Dvs,
        Width = 10,
        Height = 8,
        Pooling = 3,
        Polarity = PolarityMode.Split,
        Binning = BinningKind.Time,
        BinUs = 200,
        Value = ValueKind.Count,
    };

    public static TheoryData<string, int> Variants()
    {
        var data = new TheoryData<string, int>();
        foreach (string binning in new[] { "time", "count", "equal_count_frames", "equal_time_frames" })
        {
            for (int variant = 0; variant < 6; variant++)
            {
                data.Add(binning, variant);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Generated_events_in_random_batches_give_the_offline_steps(string binning, int variant)
    {
        var rng = new Random((binning.Length * 101) + variant);
        Preprocessing p = Small with
        {
            Binning = PreprocessingNames.ParseBinning(binning),
            BinEvents = 37,
            Frames = 9,
            Value = (ValueKind)(variant % 4),
            Polarity = (PolarityMode)((variant + 1) % 4),
            Pooling = 1 + (variant % 3),
            MaxSteps = variant >= 4 ? 15 : 0,
            Pad = variant == 5,
        };
        for (int sample = 0; sample < 8; sample++)
        {
            (long[] t, ushort[] x, ushort[] y, byte[] pol) = Generate(rng, rng.Next(0, 1500));
            long? start = sample % 3 == 0 ? null : (t.Length > 0 ? t[0] : 0) - rng.Next(0, 300);
            long? end = sample % 2 == 0 || start is null ? null : start + rng.Next(1, 40_000);

            // offline, the trainer's path: compressed rows of the whole sample
            SparseSequence offline = new SequenceBinner(p).Apply(t, x, y, pol, start, end);

            // one push and many pushes through the streaming chain
            List<StepRecord> whole = Run(p, t, x, y, pol, start, end, _ => int.MaxValue);
            List<StepRecord> streamed = Run(p, t, x, y, pol, start, end, r => r.Next(1, 60));
            Assert.Equal(whole.Select(s => s.Key), streamed.Select(s => s.Key));
            Assert.Equal(offline.Steps, streamed.Count);
            for (int s = 0; s < offline.Steps; s++)
            {
                Assert.Equal(offline.ActiveAt(s).ToArray(), streamed[s].Active);
                Assert.Equal(offline.ValuesAt(s).ToArray(), streamed[s].Values);
            }

            Assert.Equal(Enumerable.Range(0, streamed.Count), streamed.Select(s => s.Index));
            Assert.Equal([streamed.Count - 1], streamed.Select((s, i) => (s, i)).Where(z => z.s.EndsSample).Select(z => z.i));
            if (p.MaxSteps > 0)
            {
                Assert.True(streamed.Count <= p.MaxSteps);
            }

            if (p.StepsPerSample(end - start) is int known)
            {
                Assert.Equal(known, streamed.Count);
            }
        }
    }

    [Fact]
    public void Windowed_streams_equal_the_windows_cut_and_binned_offline()
    {
        var rng = new Random(5);
        (long[] t, ushort[] x, ushort[] y, byte[] pol) = Generate(rng, 4000);
        foreach (Preprocessing p in new[] { Small, Small with { Binning = BinningKind.EqualCountFrames, Frames = 4 }, Small with { Binning = BinningKind.Count, BinEvents = 50, MaxSteps = 6 } })
        {
            List<StepRecord> streamed = RunWindows(p, 1500, t, x, y, pol, r => r.Next(1, 300));
            List<StepRecord> offline = OfflineWindows(p, 1500, t, x, y, pol);
            Assert.Equal(offline.Select(s => s.Key), streamed.Select(s => s.Key));
            Assert.True(streamed.Count(s => s.EndsSample) > 3);
        }
    }

    [Theory]
    [InlineData("tonic/sample.aedat4", "dvs-gesture")]
    [InlineData("tonic/sample.aedat4", "time")]
    [InlineData("shiba24/sample.aedat4", "count")]
    [InlineData("tonic/sample_nmnist.bin", "nmnist")]
    public void A_real_recording_read_batch_by_batch_gives_the_offline_steps(string fixture, string kind)
    {
        (long[] t, ushort[] x, ushort[] y, byte[] pol, SensorGeometry geometry, List<int> batches) = ReadAll(Fixtures.Path(fixture));
        Assert.True(t.Length > 1000, $"{fixture}: {t.Length} events");
        Preprocessing p = kind switch
        {
            "dvs-gesture" => PreprocessingPresets.DvsGesture.ForSensor(geometry.Width, geometry.Height),
            "time" => PreprocessingPresets.DvsGesture.ForSensor(geometry.Width, geometry.Height) with { Binning = BinningKind.Time, BinUs = 5_000, Value = ValueKind.LogCount, MaxSteps = 400 },
            "count" => PreprocessingPresets.DvsGesture.ForSensor(geometry.Width, geometry.Height) with { Binning = BinningKind.Count, BinEvents = 2_000, Pooling = 4, Polarity = PolarityMode.Merge },
            _ => PreprocessingPresets.NMnist,
        };
        long? start = kind == "nmnist" ? 0 : null;
        SparseSequence offline = new SequenceBinner(p).Apply(t, x, y, pol, start);

        // the reader's own batches, each cut again at random
        var rng = new Random(3);
        var streamed = new List<StepRecord>();
        var chain = new Preprocessor(p, s => streamed.Add(StepRecord.Of(s)));
        chain.BeginSample(start);
        int at = 0;
        foreach (int n in batches)
        {
            for (int done = 0; done < n;)
            {
                int k = Math.Min(n - done, rng.Next(1, 5000));
                chain.Push(t.AsSpan(at + done, k), x.AsSpan(at + done, k), y.AsSpan(at + done, k), pol.AsSpan(at + done, k));
                done += k;
            }

            at += n;
        }

        chain.EndSample();
        Assert.Equal(offline.Steps, streamed.Count);
        Assert.True(offline.NonZeros > 100);
        for (int s = 0; s < offline.Steps; s++)
        {
            Assert.Equal(offline.ActiveAt(s).ToArray(), streamed[s].Active);
            Assert.Equal(offline.ValuesAt(s).ToArray(), streamed[s].Values);
        }

        Assert.True(streamed[^1].EndsSample);
        Assert.Equal(t.Length, chain.Events + chain.Dropped + chain.Truncated + chain.OutsideSample);

        // the same recording in 20 ms windows: streamed batch by batch = cut and binned offline
        Preprocessing windowed = p with { Binning = BinningKind.Time, BinUs = 4_000, MaxSteps = 0, Pad = false };
        Assert.Equal(OfflineWindows(windowed, 20_000, t, x, y, pol).Select(s => s.Key), RunWindows(windowed, 20_000, t, x, y, pol, r => r.Next(1, 5000)).Select(s => s.Key));
    }

    [Fact]
    public void A_real_audio_recording_read_batch_by_batch_gives_the_offline_steps()
    {
        string path = Fixtures.Path("pynavis/sound_mono_32ch_ONOFF_addr2b_ts02.aedat");
        var t = new List<long>();
        var ch = new List<ushort>();
        var pol = new List<byte>();
        var batches = new List<int>();
        using (var reader = new NasReader(path))
        using (var batch = new SpikeBatch(4096))
        {
            while (reader.Read(batch))
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    t.Add(batch.T[i]);
                    ch.Add(batch.Channel[i]);
                    pol.Add(batch.P[i]);
                }

                batches.Add(batch.Count);
            }

            Assert.Equal(32, reader.Channels);
        }

        foreach (Preprocessing p in new[] { PreprocessingPresets.Shd.ForChannels(32) with { Polarity = PolarityMode.Split, Pad = false, MaxSteps = 0 }, PreprocessingPresets.Shd.ForChannels(32) with { Pooling = 4, Value = ValueKind.Mean } })
        {
            SparseSequence offline = new SequenceBinner(p).ApplySpikes(t.ToArray(), ch.ToArray(), pol.ToArray());
            var streamed = new List<StepRecord>();
            var chain = new Preprocessor(p, s => streamed.Add(StepRecord.Of(s)));
            chain.BeginSample();
            int at = 0;
            foreach (int n in batches)
            {
                chain.PushSpikes(t.ToArray().AsSpan(at, n), ch.ToArray().AsSpan(at, n), pol.ToArray().AsSpan(at, n));
                at += n;
            }

            chain.EndSample();
            Assert.Equal(offline.Steps, streamed.Count);
            Assert.True(offline.NonZeros > 100);
            for (int s = 0; s < offline.Steps; s++)
            {
                Assert.Equal(offline.ActiveAt(s).ToArray(), streamed[s].Active);
                Assert.Equal(offline.ValuesAt(s).ToArray(), streamed[s].Values);
            }
        }
    }

    private static (long[] T, ushort[] X, ushort[] Y, byte[] P) Generate(Random rng, int n)
    {
        long[] t = new long[n];
        ushort[] x = new ushort[n], y = new ushort[n];
        byte[] p = new byte[n];
        long now = rng.Next(0, 1000);
        for (int i = 0; i < n; i++)
        {
            now += rng.Next(0, 40);
            t[i] = rng.Next(50) == 0 ? now - rng.Next(0, 400) : now; // a few out of order
            x[i] = (ushort)rng.Next(0, 11); // x = 10 is outside the 10 x 8 sensor
            y[i] = (ushort)rng.Next(0, 8);
            p[i] = (byte)rng.Next(2);
        }

        return (t, x, y, p);
    }

    private static List<StepRecord> Run(Preprocessing p, long[] t, ushort[] x, ushort[] y, byte[] pol, long? start, long? end, Func<Random, int> chunk)
    {
        var steps = new List<StepRecord>();
        var chain = new Preprocessor(p, s => steps.Add(StepRecord.Of(s)));
        var rng = new Random(t.Length);
        chain.BeginSample(start, end);
        for (int i = 0; i < t.Length;)
        {
            int k = Math.Min(t.Length - i, chunk(rng));
            chain.Push(t.AsSpan(i, k), x.AsSpan(i, k), y.AsSpan(i, k), pol.AsSpan(i, k));
            i += k;
        }

        chain.EndSample();
        return steps;
    }

    private static List<StepRecord> RunWindows(Preprocessing p, long windowUs, long[] t, ushort[] x, ushort[] y, byte[] pol, Func<Random, int> chunk)
    {
        var steps = new List<StepRecord>();
        var windows = new WindowedPreprocessor(p, windowUs, s => steps.Add(StepRecord.Of(s)));
        var rng = new Random(7);
        for (int i = 0; i < t.Length;)
        {
            int k = Math.Min(t.Length - i, chunk(rng));
            windows.Push(t.AsSpan(i, k), x.AsSpan(i, k), y.AsSpan(i, k), pol.AsSpan(i, k));
            i += k;
        }

        windows.Flush();
        return steps;
    }

    /// <summary>The windows cut by hand: each kept event opens or continues a window as the streaming slicer defines it; each window binned offline.</summary>
    private static List<StepRecord> OfflineWindows(Preprocessing p, long windowUs, long[] t, ushort[] x, ushort[] y, byte[] pol)
    {
        var map = new FeatureMap(p);
        int[] f = new int[t.Length];
        map.MapEvents(x, y, pol, f);
        var result = new List<StepRecord>();
        var steps = new List<StepRecord>();
        var chain = new Preprocessor(p, s => steps.Add(StepRecord.Of(s)));
        long windowStart = 0;
        bool open = false;
        var members = new List<int>();
        void Close()
        {
            // a fresh sample over the window, all its events in one push
            chain.BeginSample(windowStart, windowStart + windowUs);
            chain.PushFeatures([.. members.Select(i => t[i])], [.. members.Select(i => f[i])]);
            chain.EndSample();
            result.AddRange(steps);
            steps.Clear();
            members.Clear();
        }

        for (int i = 0; i < t.Length; i++)
        {
            if (f[i] < 0)
            {
                continue;
            }

            if (!open)
            {
                windowStart = t[i];
                open = true;
            }
            else if (t[i] - windowStart >= windowUs)
            {
                Close();
                windowStart += (t[i] - windowStart) / windowUs * windowUs;
            }

            members.Add(i);
        }

        if (open)
        {
            Close();
        }

        return result;
    }

    private static (long[] T, ushort[] X, ushort[] Y, byte[] P, SensorGeometry Geometry, List<int> Batches) ReadAll(string path)
    {
        var t = new List<long>();
        var x = new List<ushort>();
        var y = new List<ushort>();
        var p = new List<byte>();
        var batches = new List<int>();
        using IDvsEventReader reader = EventReaders.OpenDvs(path);
        using var batch = new EventBatch();
        while (reader.Read(batch))
        {
            t.AddRange(batch.Timestamps);
            x.AddRange(batch.Xs);
            y.AddRange(batch.Ys);
            p.AddRange(batch.Polarities);
            batches.Add(batch.Count);
        }

        SensorGeometry g = reader.Geometry.IsKnown ? reader.Geometry : SensorGeometry.NMnist;
        return ([.. t], [.. x], [.. y], [.. p], g, batches);
    }
}
