using EventSnn.Transforms;

namespace EventSnn.Transforms.Tests;

public class AugmentationTests
{
    private static (long[] T, ushort[] X, ushort[] Y, byte[] P) Events(int n, int width, int height, int seed)
    {
        var rng = new Random(seed);
        var t = new long[n];
        var x = new ushort[n];
        var y = new ushort[n];
        var p = new byte[n];
        for (int i = 0; i < n; i++)
        {
            t[i] = 1000 + (i * 7);
            x[i] = (ushort)rng.Next(width);
            y[i] = (ushort)rng.Next(height);
            p[i] = (byte)rng.Next(2);
        }

        return (t, x, y, p);
    }

    [Fact]
    public void Text_form_round_trips_and_bad_items_are_named()
    {
        Augmentation a = Augmentation.Parse("shift:16, drop-event:0.1,flip-polarity:0.5");
        Assert.Equal(16, a.Shift);
        Assert.Equal(0.1, a.DropEvent);
        Assert.Equal(0.5, a.FlipPolarity);
        Assert.Equal(a, Augmentation.Parse(a.ToString()));
        Assert.True(Augmentation.Parse("none").IsNone);
        Assert.True(Augmentation.Parse(string.Empty).IsNone);
        Assert.Equal("none", Augmentation.None.ToString());
        PreprocessingException e = Assert.Throws<PreprocessingException>(() => Augmentation.Parse("shift:16,rotate:30"));
        Assert.Contains("rotate:30", e.Message);
        Assert.Contains("drop-event:1.5", Assert.Throws<PreprocessingException>(() => Augmentation.Parse("drop-event:1.5")).Message);
        Assert.Contains("shift:2.5", Assert.Throws<PreprocessingException>(() => Augmentation.Parse("shift:2.5")).Message);
    }

    [Fact]
    public void Shift_moves_every_event_by_one_offset_and_drops_those_leaving_the_sensor()
    {
        (long[] t, ushort[] x, ushort[] y, byte[] p) = Events(2000, 64, 48, 1);
        (long[] t0, ushort[] x0, ushort[] y0, byte[] p0) = ((long[])t.Clone(), (ushort[])x.Clone(), (ushort[])y.Clone(), (byte[])p.Clone());
        var a = new Augmentation { Shift = 5 };
        int kept = Augmenter.Apply(a, 64, 48, t, x, y, p, seed: 42);

        // recover the offset from the first kept event, then check every event against it
        int i0 = Array.IndexOf(t0, t[0]);
        int dx = x[0] - x0[i0], dy = y[0] - y0[i0];
        Assert.InRange(dx, -5, 5);
        Assert.InRange(dy, -5, 5);
        int expected = 0;
        for (int i = 0; i < t0.Length; i++)
        {
            int nx = x0[i] + dx, ny = y0[i] + dy;
            if (nx < 0 || nx >= 64 || ny < 0 || ny >= 48)
            {
                continue;
            }

            Assert.Equal(t0[i], t[expected]);
            Assert.Equal(nx, x[expected]);
            Assert.Equal(ny, y[expected]);
            Assert.Equal(p0[i], p[expected]);
            expected++;
        }

        Assert.Equal(expected, kept);
    }

    [Fact]
    public void The_same_seed_gives_the_same_result_and_other_seeds_differ()
    {
        var a = new Augmentation { Shift = 8, DropEvent = 0.2, FlipPolarity = 0.5 };
        string Run(ulong seed)
        {
            (long[] t, ushort[] x, ushort[] y, byte[] p) = Events(500, 128, 128, 3);
            int n = Augmenter.Apply(a, 128, 128, t, x, y, p, seed);
            return string.Join(',', x[..n]) + "|" + string.Join(',', y[..n]) + "|" + string.Join(',', p[..n]);
        }

        Assert.Equal(Run(7), Run(7));
        var distinct = new HashSet<string>();
        for (ulong s = 0; s < 8; s++)
        {
            distinct.Add(Run(Augmenter.SeedFor(1, (int)s, 0)));
        }

        Assert.True(distinct.Count >= 7);
        Assert.NotEqual(Augmenter.SeedFor(1, 1, 0), Augmenter.SeedFor(1, 2, 0));
        Assert.NotEqual(Augmenter.SeedFor(1, 1, 0), Augmenter.SeedFor(1, 1, 1));
    }

    [Fact]
    public void Drop_event_keeps_about_one_minus_p_and_flip_inverts_every_polarity()
    {
        (long[] t, ushort[] x, ushort[] y, byte[] p) = Events(20_000, 32, 32, 5);
        int kept = Augmenter.Apply(new Augmentation { DropEvent = 0.3 }, 32, 32, t, x, y, p, seed: 9);
        Assert.InRange(kept, 13_600, 14_400); // 0.7 x 20,000 = 14,000, binomial sd ~65

        (t, x, y, p) = Events(1000, 32, 32, 6);
        byte[] before = (byte[])p.Clone();
        Assert.Equal(1000, Augmenter.Apply(new Augmentation { FlipPolarity = 1 }, 32, 32, t, x, y, p, seed: 1));
        for (int i = 0; i < p.Length; i++)
        {
            Assert.Equal(1 - before[i], p[i]);
        }
    }

    [Fact]
    public void No_augmentation_changes_nothing_and_applying_allocates_nothing()
    {
        (long[] t, ushort[] x, ushort[] y, byte[] p) = Events(1000, 32, 32, 8);
        ushort[] x0 = (ushort[])x.Clone();
        Assert.Equal(1000, Augmenter.Apply(Augmentation.None, 32, 32, t, x, y, p, seed: 1));
        Assert.Equal(x0, x);
        var a = new Augmentation { Shift = 3, DropEvent = 0.1, FlipPolarity = 0.5 };
        Augmenter.Apply(a, 32, 32, t, x, y, p, seed: 2);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int k = 0; k < 100; k++)
        {
            Augmenter.Apply(a, 32, 32, t, x, y, p, seed: (ulong)k);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
