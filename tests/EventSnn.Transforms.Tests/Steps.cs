using EventSnn.Events;

namespace EventSnn.Transforms.Tests;

/// <summary>A copy of one emitted step (steps are borrowed by the callback).</summary>
internal sealed record StepRecord(long Sample, int Index, long StartUs, long EndUs, int Events, bool EndsSample, int[] Active, float[] Values)
{
    public static StepRecord Of(BinnedStep s) => new(s.Sample, s.Index, s.StartUs, s.EndUs, s.EventCount, s.EndsSample, s.Active.ToArray(), s.Values.ToArray());

    public string Key => $"{Sample}/{Index} [{StartUs},{EndUs}) n={Events} end={EndsSample} {string.Join(' ', Active)} : {string.Join(' ', Values.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}";
}

/// <summary>Helpers that run the chain on small hand-made event arrays.</summary>
internal static class Steps
{
    /// <summary>Runs one sample of DVS events through a <see cref="Preprocessor"/> in one push.</summary>
    public static (List<StepRecord> Steps, Preprocessor Chain) Dvs(Preprocessing p, DvsEvent[] events, long? start = null, long? end = null)
    {
        var steps = new List<StepRecord>();
        var chain = new Preprocessor(p, s => steps.Add(StepRecord.Of(s)));
        chain.BeginSample(start, end);
        Push(chain, events);
        chain.EndSample();
        return (steps, chain);
    }

    /// <summary>Runs one sample of spikes (t, channel) through a <see cref="Preprocessor"/> in one push.</summary>
    public static (List<StepRecord> Steps, Preprocessor Chain) Spikes(Preprocessing p, long[] t, ushort[] channels, long? start = null, long? end = null)
    {
        var steps = new List<StepRecord>();
        var chain = new Preprocessor(p, s => steps.Add(StepRecord.Of(s)));
        chain.BeginSample(start, end);
        chain.PushSpikes(t, channels, Enumerable.Repeat((byte)1, t.Length).ToArray());
        chain.EndSample();
        return (steps, chain);
    }

    public static void Push(Preprocessor chain, ReadOnlySpan<DvsEvent> events)
    {
        long[] t = new long[events.Length];
        ushort[] x = new ushort[events.Length], y = new ushort[events.Length];
        byte[] p = new byte[events.Length];
        for (int i = 0; i < events.Length; i++)
        {
            (t[i], x[i], y[i], p[i]) = (events[i].T, events[i].X, events[i].Y, events[i].On ? (byte)1 : (byte)0);
        }

        chain.Push(t, x, y, p);
    }

    /// <summary>The dense Steps x Features matrix of the records.</summary>
    public static float[] Dense(List<StepRecord> steps, int features)
    {
        var dense = new float[steps.Count * features];
        for (int s = 0; s < steps.Count; s++)
        {
            for (int i = 0; i < steps[s].Active.Length; i++)
            {
                dense[(s * features) + steps[s].Active[i]] = steps[s].Values[i];
            }
        }

        return dense;
    }
}
