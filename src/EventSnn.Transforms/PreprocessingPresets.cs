namespace EventSnn.Transforms;

/// <summary>
/// Named preprocessing descriptions (values, not code paths): the network's input for each dataset
/// kind, as <c>train</c>, <c>run</c>, <c>classify</c> and <c>serve</c> use it by default, and the
/// reference binnings of the public datasets (used for the spike-count baseline's published
/// numbers). The input size (sensor, channels) is the nominal one; loaders adapt it to the data
/// with <see cref="Preprocessing.ForSensor"/> / <see cref="Preprocessing.ForChannels"/>.
/// </summary>
public static class PreprocessingPresets
{
    /// <summary>SHD-layout spoken digits (also SSC): 700 channels, 100 bins of 10 ms (1 s, padded), binary.</summary>
    public static Preprocessing Shd { get; } = new()
    {
        Input = InputKind.Audio,
        Channels = 700,
        Polarity = PolarityMode.Merge,
        Binning = BinningKind.Time,
        BinUs = 10_000,
        Value = ValueKind.Binary,
        MaxSteps = 100,
        Pad = true,
    };

    /// <summary>SHD's reference binning: 250 bins of 4 ms (1 s, padded), binary.</summary>
    public static Preprocessing ShdReference { get; } = Shd with { BinUs = 4_000, MaxSteps = 250 };

    /// <summary>DVS128 Gesture: 128 x 128 pooled 8 x 8 -> 2 x 16 x 16, 20 equal-count frames per gesture, mean count of the pooled pixels.</summary>
    public static Preprocessing DvsGesture { get; } = new()
    {
        Input = InputKind.Dvs,
        Width = 128,
        Height = 128,
        Pooling = 8,
        Polarity = PolarityMode.Split,
        Binning = BinningKind.EqualCountFrames,
        Frames = 20,
        Value = ValueKind.Mean,
    };

    /// <summary>DVS128 Gesture's reference frames: 20 equal-count frames pooled 4 x 4 -> 2 x 32 x 32, mean count.</summary>
    public static Preprocessing DvsGestureReference { get; } = DvsGesture with { Pooling = 4 };

    /// <summary>N-MNIST: 34 x 34 pooled 2 x 2 -> 2 x 17 x 17, 30 bins of 10 ms from 0 (padded), log(1 + count).</summary>
    public static Preprocessing NMnist { get; } = new()
    {
        Input = InputKind.Dvs,
        Width = 34,
        Height = 34,
        Pooling = 2,
        Polarity = PolarityMode.Split,
        Binning = BinningKind.Time,
        BinUs = 10_000,
        Value = ValueKind.LogCount,
        MaxSteps = 30,
        Pad = true,
    };

    /// <summary>N-MNIST's reference frames: unpooled 2 x 34 x 34, 30 bins of 10 ms, event counts.</summary>
    public static Preprocessing NMnistReference { get; } = NMnist with { Pooling = 1, Value = ValueKind.Count };

    /// <summary>S-MNIST / PS-MNIST spike encodings (80 channels, one pixel per ms): 98 bins of 8 ms (padded), log(1 + count).</summary>
    public static Preprocessing SequentialMnist { get; } = new()
    {
        Input = InputKind.Audio,
        Channels = 80,
        Polarity = PolarityMode.Merge,
        Binning = BinningKind.Time,
        BinUs = 8_000,
        Value = ValueKind.LogCount,
        MaxSteps = 98,
        Pad = true,
    };

    /// <summary>S-MNIST / PS-MNIST for the spike-count baseline: the same bins, event counts.</summary>
    public static Preprocessing SequentialMnistReference { get; } = SequentialMnist with { Value = ValueKind.Count };

    /// <summary>The presets by name: shd, dvs-gesture, nmnist, smnist and their "-reference" variants.</summary>
    public static IReadOnlyDictionary<string, Preprocessing> ByName { get; } = new Dictionary<string, Preprocessing>(StringComparer.OrdinalIgnoreCase)
    {
        ["shd"] = Shd,
        ["shd-reference"] = ShdReference,
        ["dvs-gesture"] = DvsGesture,
        ["dvs-gesture-reference"] = DvsGestureReference,
        ["nmnist"] = NMnist,
        ["nmnist-reference"] = NMnistReference,
        ["smnist"] = SequentialMnist,
        ["smnist-reference"] = SequentialMnistReference,
    };

    /// <summary>The preset named <paramref name="name"/>; throws <see cref="PreprocessingException"/> naming "preset" otherwise.</summary>
    public static Preprocessing Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ByName.TryGetValue(name, out Preprocessing? p)
            ? p
            : throw new PreprocessingException("preset", $"'{name}' is not one of {string.Join(", ", ByName.Keys)}");
    }
}
