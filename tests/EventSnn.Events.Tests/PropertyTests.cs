using CsCheck;
using EventSnn.Events;

namespace EventSnn.Events.Tests;

/// <summary>Properties over random batches (CsCheck).</summary>
public class PropertyTests
{
    [Fact]
    public void ShiftTime_subtracts_the_origin_from_every_event_and_trigger_and_nothing_else()
    {
        Gen<((long T, int X, int Y, bool On)[] Events, long[] Triggers, long Origin)> gen =
            Gen.Select(
                Gen.Select(Gen.Long[-(1L << 60), 1L << 60], Gen.Int[0, ushort.MaxValue], Gen.Int[0, ushort.MaxValue], Gen.Bool).Array[0, 300],
                Gen.Long[-(1L << 60), 1L << 60].Array[0, 16],
                Gen.Long[-(1L << 60), 1L << 60]);
        gen.Sample(c =>
        {
            using var batch = new EventBatch(Math.Max(1, c.Events.Length));
            foreach ((long t, int x, int y, bool on) in c.Events)
            {
                batch.Add(t, x, y, on);
            }

            foreach (long t in c.Triggers)
            {
                batch.Triggers.Add(new TriggerEvent(t, TriggerKind.ExternalRising, 3));
            }

            DvsEvent[] before = batch.ToArray();
            TriggerEvent[] triggersBefore = batch.Triggers.Items.ToArray();
            batch.ShiftTime(c.Origin);
            Assert.Equal(before.Select(e => e with { T = e.T - c.Origin }), batch.ToArray());
            Assert.Equal(triggersBefore.Select(t => t with { T = t.T - c.Origin }), batch.Triggers.Items.ToArray());
            batch.ShiftTime(-c.Origin);
            Assert.Equal(before, batch.ToArray());
        }, iter: 500, threads: 1);
    }
}
