using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Transforms.Tests;

public class AugmentationTests
{
    private static EventBatch Events(int n, int width, int height, int seed)
    {
        var rng = new Random(seed);
        var b = new EventBatch(n);
        for (int i = 0; i < n; i++)
        {
            b.Add(1000 + (i * 7), rng.Next(width), rng.Next(height), rng.Next(2) == 1);
        }

        return b;
    }

    private static DvsEvent[] Augment(Augmentation a, EventBatch input, int width, int height, ulong seed)
    {
        var augmenter = new Augmenter(a, new SensorGeometry(width, height));
        using var output = new EventBatch(Math.Max(1, augmenter.MaxOutputCount(input.Count)));
        augmenter.Apply(input, output, seed);
        return output.ToArray();
    }

    [Fact]
    public void Text_form_round_trips_and_bad_items_are_named()
    {
        Augmentation a = Augmentation.Parse("shift:16, drop-event:0.1,flip-polarity:0.5");
        Assert.Equal("shift:16,drop-event:0.1,flip-polarity:0.5", a.ToString());
        var parts = ((Compose)a.Transform).Transforms;
        Assert.Equal(16, Assert.IsType<RandomShift>(parts[0]).MaxShift);
        Assert.Equal(0.1, Assert.IsType<DropEvent>(parts[1]).P.Min);
        Assert.Equal(0.5, Assert.IsType<RandomFlipPolarity>(parts[2]).P);
        Assert.Equal(a, Augmentation.Parse(a.ToString()));
        Assert.True(Augmentation.Parse("none").IsNone);
        Assert.True(Augmentation.Parse(string.Empty).IsNone);
        Assert.Equal("none", Augmentation.None.ToString());

        // the new augmentations come through the same text form
        Augmentation all = Augmentation.Parse("time-jitter:1000,spatial-jitter:2:2,uniform-noise:50,time-skew:1.1:10,random-flip-lr,random-flip-ud:0.3");
        Assert.Equal("time-jitter:1000,spatial-jitter:2:2,uniform-noise:50,time-skew:1.1:10,flip-lr:0.5,flip-ud:0.3", all.ToString());

        TransformException e = Assert.Throws<TransformException>(() => Augmentation.Parse("shift:16,rotate:30"));
        Assert.Equal("rotate:30", e.Item);
        Assert.Contains("'rotate:30'", e.Message);
        e = Assert.Throws<TransformException>(() => Augmentation.Parse("drop-event:1.5"));
        Assert.Equal(("drop-event:1.5", "p"), (e.Item, e.Parameter));
        Assert.Equal("'drop-event:1.5': p 1.5 is out of range (0..1)", e.Message);
        e = Assert.Throws<TransformException>(() => Augmentation.Parse("shift:2.5"));
        Assert.Equal(("shift:2.5", "pixels"), (e.Item, e.Parameter));
    }

    [Fact]
    public void Shift_moves_every_event_by_one_offset_and_drops_those_leaving_the_sensor()
    {
        using EventBatch input = Events(2000, 64, 48, 1);
        DvsEvent[] before = input.ToArray();
        DvsEvent[] after = Augment(Augmentation.Parse("shift:5"), input, 64, 48, seed: 42);

        // recover the offset from the first kept event, then check every event against it
        DvsEvent first = Array.Find(before, e => e.T == after[0].T);
        int dx = after[0].X - first.X, dy = after[0].Y - first.Y;
        Assert.InRange(dx, -5, 5);
        Assert.InRange(dy, -5, 5);
        var expected = new List<DvsEvent>();
        foreach (DvsEvent e in before)
        {
            int nx = e.X + dx, ny = e.Y + dy;
            if (nx is >= 0 and < 64 && ny is >= 0 and < 48)
            {
                expected.Add(e with { X = (ushort)nx, Y = (ushort)ny });
            }
        }

        Assert.Equal(expected, after);
        Assert.Equal(before, input.ToArray()); // the input is not touched
    }

    [Fact]
    public void The_same_seed_gives_the_same_result_and_other_seeds_differ()
    {
        var a = Augmentation.Parse("shift:8,drop-event:0.2,flip-polarity:0.5,time-jitter:50,spatial-jitter:1,uniform-noise:20");
        using EventBatch input = Events(500, 128, 128, 3);
        Assert.Equal(Augment(a, input, 128, 128, 7), Augment(a, input, 128, 128, 7));
        var distinct = new HashSet<string>();
        for (int s = 0; s < 8; s++)
        {
            distinct.Add(string.Join(';', Augment(a, input, 128, 128, Augmenter.SeedFor(1, s, 0))));
        }

        Assert.Equal(8, distinct.Count);
        Assert.NotEqual(Augmenter.SeedFor(1, 1, 0), Augmenter.SeedFor(1, 2, 0));
        Assert.NotEqual(Augmenter.SeedFor(1, 1, 0), Augmenter.SeedFor(1, 1, 1));
    }

    [Fact]
    public void One_augmenter_re_seeded_per_sample_repeats_a_fresh_one()
    {
        var a = Augmentation.Parse("drop-event:0.3,time-jitter:20,random-flip-lr");
        using EventBatch input = Events(300, 32, 32, 4);
        var augmenter = new Augmenter(a, new SensorGeometry(32, 32));
        using var output = new EventBatch(300);
        for (ulong seed = 0; seed < 5; seed++)
        {
            augmenter.Apply(input, output, seed);
            Assert.Equal(Augment(a, input, 32, 32, seed), output.ToArray());
        }
    }

    [Fact]
    public void Drop_event_drops_Tonics_exact_count_and_flip_inverts_every_polarity()
    {
        using EventBatch input = Events(20_000, 32, 32, 5);
        Assert.Equal(14_000, Augment(Augmentation.Parse("drop-event:0.3"), input, 32, 32, seed: 9).Length); // int(0.3 x 20000 + 0.5) dropped

        using EventBatch small = Events(1000, 32, 32, 6);
        DvsEvent[] flipped = Augment(Augmentation.Parse("flip-polarity:1"), small, 32, 32, seed: 1);
        Assert.Equal(small.ToArray().Select(e => e with { On = !e.On }), flipped);
    }

    [Fact]
    public void No_augmentation_changes_nothing_and_applying_allocates_nothing()
    {
        using EventBatch input = Events(1000, 32, 32, 8);
        Assert.Equal(input.ToArray(), Augment(Augmentation.None, input, 32, 32, seed: 1));
        var a = Augmentation.Parse("shift:3,drop-event:0.1,flip-polarity:0.5,time-jitter:30:true:true,spatial-jitter:1,uniform-noise:100,random-flip-ud");
        var augmenter = new Augmenter(a, new SensorGeometry(32, 32));
        using var output = new EventBatch(augmenter.MaxOutputCount(1000));
        void Run()
        {
            for (int k = 0; k < 100; k++)
            {
                augmenter.Apply(input, output, (ulong)k);
            }
        }

        Run(); // warm-up: scratch batches grow, pooled arrays are rented once, every code path is compiled
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run();

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
