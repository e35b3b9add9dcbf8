namespace EventSnn.Transforms;

/// <summary>
/// The per-event part of the chain, pooling then polarity: maps every event of a struct-of-arrays
/// batch to its feature index (or -1 when dropped). Pure and immutable; built from a
/// <see cref="Preprocessing"/>.
/// </summary>
public sealed class FeatureMap
{
    /// <summary>Builds the map of <paramref name="preprocessing"/> (validated).</summary>
    public FeatureMap(Preprocessing preprocessing)
    {
        ArgumentNullException.ThrowIfNull(preprocessing);
        preprocessing.Validate();
        Input = preprocessing.Input;
        if (Input == InputKind.Dvs)
        {
            Spatial = new SpatialPooling(preprocessing.Width, preprocessing.Height, preprocessing.Pooling);
            Polarity = new PolarityMapping(preprocessing.Polarity, Spatial.Cells);
        }
        else
        {
            Channel = new ChannelPooling(preprocessing.Channels, preprocessing.Pooling);
            Polarity = new PolarityMapping(preprocessing.Polarity, Channel.Cells);
        }
    }

    /// <summary>DVS or audio.</summary>
    public InputKind Input { get; }

    /// <summary>The spatial pooling (DVS), else null.</summary>
    public SpatialPooling? Spatial { get; }

    /// <summary>The channel pooling (audio), else null.</summary>
    public ChannelPooling? Channel { get; }

    /// <summary>The polarity mapping.</summary>
    public PolarityMapping Polarity { get; }

    /// <summary>Number of features.</summary>
    public int Features => Polarity.Features;

    /// <summary>Maps DVS events (x, y, polarity) to features; returns how many were dropped (outside the sensor or filtered by polarity).</summary>
    public int MapEvents(ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, ReadOnlySpan<byte> polarity, Span<int> features)
    {
        if (Spatial is null)
        {
            throw new InvalidOperationException("this preprocessing takes audio spikes (channel, polarity), not DVS events");
        }

        Span<int> f = features[..x.Length];
        return Spatial.Apply(x, y, f) + Polarity.Apply(polarity, f);
    }

    /// <summary>Maps spikes (channel, polarity) to features; returns how many were dropped.</summary>
    public int MapSpikes(ReadOnlySpan<ushort> channel, ReadOnlySpan<byte> polarity, Span<int> features)
    {
        if (Channel is null)
        {
            throw new InvalidOperationException("this preprocessing takes DVS events (x, y, polarity), not audio spikes");
        }

        Span<int> f = features[..channel.Length];
        return Channel.Apply(channel, f) + Polarity.Apply(polarity, f);
    }
}
