using EventSnn.Datasets.Dvs;
using EventSnn.Events;

namespace EventSnn.Datasets.Tests;

public class DvsEmulatorTests
{
    private static readonly DvsEmulatorOptions Clean = new()
    {
        ThresholdSigma = 0,
        LeakRateHz = 0,
        ShotNoiseRateHz = 0,
        RefractoryUs = 0,
        OnThreshold = 0.2,
        OffThreshold = 0.25,
    };

    private static DvsEvent[] Drain(DvsEmulator emulator)
    {
        using var batch = new EventBatch(1 << 12);
        var all = new List<DvsEvent>();
        while (emulator.Read(batch))
        {
            all.AddRange(batch.ToArray());
        }

        return [.. all];
    }

    private static float Scaled(float i0, double logStep, double eps) => (float)(((i0 + eps) * Math.Exp(logStep)) - eps);

    [Fact]
    public void BrighteningPixel_GivesFloorOfLogStepOverThresholdOnEvents_AtInterpolatedTimes()
    {
        var geometry = new SensorGeometry(4, 3);
        using var emu = new DvsEmulator(geometry, Clean, seed: 1);
        var frame = new float[12];
        Array.Fill(frame, 0.1f);
        emu.Frame(frame, 1000);
        const double step = 1.03; // 5 ON thresholds of 0.2 fit, a sixth does not
        frame[5] = Scaled(0.1f, step, Clean.LogEpsilon); // pixel (1, 1)
        int n = emu.Frame(frame, 2000);
        Assert.Equal(5, n);
        DvsEvent[] events = Drain(emu);
        Assert.Equal(5, events.Length);
        for (int j = 0; j < 5; j++)
        {
            DvsEvent e = events[j];
            Assert.True(e.On);
            Assert.Equal(1, e.X);
            Assert.Equal(1, e.Y);
            double expected = 1000 + (1000 * 0.2 * (j + 1) / step);
            Assert.InRange(e.T, (long)expected - 2, (long)expected + 2);
            Assert.InRange(e.T, 1001, 2000);
        }

        // a darkening pixel gives OFF events with the OFF threshold (0.25): floor(0.8 / 0.25) = 3
        frame[5] = Scaled(frame[5], -0.8, Clean.LogEpsilon);
        Assert.Equal(3, emu.Frame(frame, 3000));
        DvsEvent[] off = Drain(emu);
        Assert.All(off, e => Assert.False(e.On));
        Assert.Equal(3, off.Length);
    }

    [Fact]
    public void ReferenceCarriesTheRemainderAcrossFrames()
    {
        using var emu = new DvsEmulator(new SensorGeometry(1, 1), Clean);
        float i = 0.2f;
        emu.Frame([i], 0);
        int total = 0;
        for (int k = 1; k <= 10; k++)
        {
            i = Scaled(i, 0.07, Clean.LogEpsilon); // 0.07 per frame, 0.7 in all: 3 events of 0.2
            total += emu.Frame([i], k * 1000);
        }

        Assert.Equal(3, total);
    }

    [Fact]
    public void RefractoryPeriod_IsRespected()
    {
        var options = Clean with { RefractoryUs = 300 };
        using var emu = new DvsEmulator(new SensorGeometry(2, 2), options);
        var frame = new float[4];
        Array.Fill(frame, 0.05f);
        emu.Frame(frame, 0);
        for (int p = 0; p < 4; p++)
        {
            frame[p] = Scaled(0.05f, 2.05, Clean.LogEpsilon); // 10 crossings in 1 ms, 100 us apart
        }

        emu.Frame(frame, 1000);
        DvsEvent[] events = Drain(emu);
        var last = new Dictionary<(int, int), long>();
        foreach (DvsEvent e in events)
        {
            if (last.TryGetValue((e.X, e.Y), out long t))
            {
                Assert.True(e.T - t >= 300, $"{e.T - t} us");
            }

            last[(e.X, e.Y)] = e.T;
        }

        // 10 crossings ~98 us apart; every fourth survives
        Assert.InRange(events.Length, 4 * 3, 4 * 4);
    }

    [Fact]
    public void NoiseRates_AreWithinTolerance()
    {
        var options = new DvsEmulatorOptions { LeakRateHz = 1.0, ShotNoiseRateHz = 0.5, RefractoryUs = 0 };
        var geometry = new SensorGeometry(64, 64);
        using var emu = new DvsEmulator(geometry, options, seed: 3);
        var frame = new float[geometry.PixelCount];
        Array.Fill(frame, 0.5f);
        long on = 0, total = 0;
        using var batch = new EventBatch();
        long previous = long.MinValue;
        for (int k = 0; k <= 1000; k++)
        {
            emu.Frame(frame, k * 10_000L); // 10 s of a static scene
            while (emu.Read(batch))
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    Assert.True(batch.T[i] >= previous);
                    previous = batch.T[i];
                    on += batch.P[i];
                }

                total += batch.Count;
            }
        }

        double expected = 4096 * 1.5 * 10;
        Assert.InRange(total, expected * 0.95, expected * 1.05);
        double onFraction = on / (double)total;
        Assert.InRange(onFraction, (1.25 / 1.5) - 0.02, (1.25 / 1.5) + 0.02);
    }

    [Fact]
    public void ThresholdMismatch_HasTheRequestedSpread()
    {
        var options = new DvsEmulatorOptions { OnThreshold = 0.3, ThresholdSigma = 0.05 };
        using var emu = new DvsEmulator(new SensorGeometry(100, 100), options, seed: 5);
        double mean = 0, sq = 0;
        foreach (float t in emu.OnThresholds)
        {
            mean += t;
            sq += t * (double)t;
        }

        mean /= 10000;
        double sd = Math.Sqrt((sq / 10000) - (mean * mean));
        Assert.InRange(mean, 0.29, 0.31);
        Assert.InRange(sd, 0.045, 0.055);
    }

    [Fact]
    public void SameSeed_SameEvents_DifferentSeed_DifferentNoise()
    {
        static DvsEvent[] Run(int seed)
        {
            var g = new SensorGeometry(16, 16);
            using var emu = new DvsEmulator(g, new DvsEmulatorOptions { LeakRateHz = 5, ShotNoiseRateHz = 5 }, seed);
            var frame = new float[g.PixelCount];
            var all = new List<DvsEvent>();
            for (int k = 0; k < 50; k++)
            {
                for (int p = 0; p < frame.Length; p++)
                {
                    frame[p] = (float)(0.5 + (0.4 * Math.Sin((p * 0.3) + (k * 0.2))));
                }

                emu.Frame(frame, k * 2000L);
                all.AddRange(Drain(emu));
            }

            return [.. all];
        }

        DvsEvent[] a = Run(11), b = Run(11), c = Run(12);
        Assert.True(a.Length > 500);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void ByteFrames_MatchFloatFrames()
    {
        var g = new SensorGeometry(8, 8);
        using var f = new DvsEmulator(g, Clean);
        using var b = new DvsEmulator(g, Clean);
        var fb = new byte[64];
        var ff = new float[64];
        for (int k = 0; k < 5; k++)
        {
            for (int p = 0; p < 64; p++)
            {
                fb[p] = (byte)((p * 4) + (k * 30));
                ff[p] = fb[p] / 255f;
            }

            Assert.Equal(f.Frame(ff, k * 1000L), b.Frame(fb, k * 1000L));
        }

        Assert.Equal(Drain(f), Drain(b));
    }
}
