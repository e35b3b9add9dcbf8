using EventSnn.Events;

namespace EventSnn.Pipeline;

/// <summary>How a time step's events accumulate into a frame value.</summary>
public enum FrameMode
{
    /// <summary>Each input counts its events (Tonic's ToFrame).</summary>
    Counts = 0,

    /// <summary>Each input is 1 when it had at least one event, else 0.</summary>
    Binary = 1,
}

/// <summary>What a time step carries. Flags combine.</summary>
[Flags]
public enum TimeStepContent
{
    /// <summary>Only window bounds and the event count.</summary>
    None = 0,

    /// <summary>A dense float frame of <see cref="TimeStepLayout.InputCount"/> values.</summary>
    Dense = 1,

    /// <summary>The sparse list of active input indices (each at most once).</summary>
    Sparse = 2,

    /// <summary>A copy of the raw events that fell in the window.</summary>
    Events = 4,

    /// <summary>Dense frame and sparse indices.</summary>
    DenseAndSparse = Dense | Sparse,
}

/// <summary>
/// Shape of the network input a time step fills: <see cref="Channels"/> x <see cref="Height"/>
/// x <see cref="Width"/>, channel-major like Tonic's frames (T, P, H, W). For DVS events the
/// channel is the polarity (0 = OFF, 1 = ON) or a single merged channel; for audio spikes
/// Height is 1 and Width is the number of channels (times ears).
/// The input index of (c, y, x) is <c>c * Height * Width + y * Width + x</c>.
/// </summary>
public readonly record struct TimeStepLayout
{
    /// <summary>Creates a layout; every dimension must be at least 1.</summary>
    public TimeStepLayout(int channels, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if ((long)channels * height * width > int.MaxValue / 2)
        {
            throw new ArgumentOutOfRangeException(nameof(width), "layout too large");
        }

        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>Number of channels (polarities).</summary>
    public int Channels { get; }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>Columns.</summary>
    public int Width { get; }

    /// <summary>Inputs per channel (Height x Width).</summary>
    public int PlaneSize => Height * Width;

    /// <summary>Total number of inputs (network input size).</summary>
    public int InputCount => Channels * Height * Width;

    /// <summary>Layout for a DVS sensor: two polarity channels, or one when <paramref name="mergePolarities"/>.</summary>
    public static TimeStepLayout ForSensor(SensorGeometry geometry, bool mergePolarities = false)
    {
        if (!geometry.IsKnown)
        {
            throw new ArgumentException("sensor geometry must be known to lay out frames", nameof(geometry));
        }

        return new TimeStepLayout(mergePolarities ? 1 : 2, geometry.Height, geometry.Width);
    }

    /// <summary>Layout of the steps a preprocessing chain produces: planes x pooled height x pooled width (audio: planes x 1 x pooled channels).</summary>
    public static TimeStepLayout For(EventSnn.Transforms.Preprocessing preprocessing)
    {
        ArgumentNullException.ThrowIfNull(preprocessing);
        preprocessing.Validate();
        return new TimeStepLayout(preprocessing.Planes, preprocessing.PooledHeight, preprocessing.PooledWidth);
    }

    /// <summary>Layout for audio spikes: one row of <paramref name="channels"/> x <paramref name="ears"/> inputs.</summary>
    public static TimeStepLayout ForAudio(int channels, int ears = 1) => new(1, 1, checked(channels * ears));

    /// <inheritdoc />
    public override string ToString() => $"{Channels}x{Height}x{Width}";
}

/// <summary>Options shared by the operators that build <see cref="TimeStep"/>s.</summary>
public sealed record TimeStepOptions
{
    /// <summary>Shape of the input.</summary>
    public required TimeStepLayout Layout { get; init; }

    /// <summary>What each step carries (default: dense frame and sparse indices).</summary>
    public TimeStepContent Content { get; init; } = TimeStepContent.DenseAndSparse;

    /// <summary>Counts or binary frame values.</summary>
    public FrameMode Mode { get; init; } = FrameMode.Counts;
}
