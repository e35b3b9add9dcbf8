namespace EventSnn.Events;

/// <summary>Running summary of an audio spike stream, accumulated batch by batch.</summary>
public sealed class SpikeStatistics
{
    private readonly long[] _perChannel;

    /// <summary>Creates statistics with per-channel counts for up to <paramref name="maxChannels"/> channels.</summary>
    public SpikeStatistics(int maxChannels = 4096)
    {
        _perChannel = new long[maxChannels];
    }

    /// <summary>Number of spikes.</summary>
    public long Events { get; private set; }

    /// <summary>Number of ON spikes.</summary>
    public long On { get; private set; }

    /// <summary>First timestamp in stream order.</summary>
    public long TFirst { get; private set; }

    /// <summary>Last timestamp in stream order.</summary>
    public long TLast { get; private set; }

    /// <summary>Smallest timestamp.</summary>
    public long TMin { get; private set; } = long.MaxValue;

    /// <summary>Largest timestamp.</summary>
    public long TMax { get; private set; } = long.MinValue;

    /// <summary>Largest channel index (-1 when empty).</summary>
    public int ChannelMax { get; private set; } = -1;

    /// <summary>Largest ear index (-1 when empty).</summary>
    public int EarMax { get; private set; } = -1;

    /// <summary>Spike count per channel.</summary>
    public ReadOnlySpan<long> PerChannel => _perChannel;

    /// <summary>Duration covered, TMax - TMin.</summary>
    public long DurationUs => Events == 0 ? 0 : TMax - TMin;

    /// <summary>Adds every spike of <paramref name="batch"/>.</summary>
    public void Add(SpikeBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int n = batch.Count;
        if (n == 0)
        {
            return;
        }

        if (Events == 0)
        {
            TFirst = batch.T[0];
        }

        TLast = batch.T[n - 1];
        for (int i = 0; i < n; i++)
        {
            long t = batch.T[i];
            TMin = Math.Min(TMin, t);
            TMax = Math.Max(TMax, t);
            int c = batch.Channel[i];
            ChannelMax = Math.Max(ChannelMax, c);
            EarMax = Math.Max(EarMax, batch.Ear[i]);
            if (c < _perChannel.Length)
            {
                _perChannel[c]++;
            }

            On += batch.P[i];
        }

        Events += n;
    }
}
