namespace EventSnn.Transforms;

/// <summary>
/// Channel pooling of spike inputs: channel c of <see cref="Channels"/> falls into cell c / p;
/// channels at or above <see cref="Channels"/> into cell -1 (dropped). Immutable.
/// </summary>
public sealed class ChannelPooling
{
    /// <summary>Creates the pooling of <paramref name="channels"/> channels by <paramref name="factor"/>.</summary>
    public ChannelPooling(int channels, int factor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        Channels = channels;
        Factor = factor;
        Cells = (int)(((long)channels + factor - 1) / factor);
    }

    /// <summary>Input channels.</summary>
    public int Channels { get; }

    /// <summary>Channels per cell.</summary>
    public int Factor { get; }

    /// <summary>Pooled cells.</summary>
    public int Cells { get; }

    /// <summary>Writes the cell of every channel[i] to <paramref name="cells"/>[i] (-1 out of range); returns how many were out of range.</summary>
    public int Apply(ReadOnlySpan<ushort> channel, Span<int> cells)
    {
        if (cells.Length < channel.Length)
        {
            throw new ArgumentException("cells is shorter than channel", nameof(cells));
        }

        uint n = (uint)Channels;
        int p = Factor;
        int outside = 0;
        for (int i = 0; i < channel.Length; i++)
        {
            uint c = channel[i];
            if (c >= n)
            {
                cells[i] = -1;
                outside++;
                continue;
            }

            cells[i] = (int)c / p;
        }

        return outside;
    }
}
