using System.Globalization;
using System.Text;

namespace EventSnn.Transforms;

/// <summary>
/// How events become the spiking network's input: ONE immutable description of the chain
/// pool -> polarity -> bin -> value, stored with every checkpoint (JSON, <see cref="ToJson"/>)
/// and rebuilt from it, so that a model always sees its input prepared the way it was trained.
/// </summary>
/// <remarks>
/// <para><b>Input.</b> <see cref="InputKind.Dvs"/>: a sensor of <see cref="Width"/> x
/// <see cref="Height"/> pixels, events (t, x, y, polarity); <see cref="InputKind.Audio"/>: spikes
/// (t, channel, polarity) on <see cref="Channels"/> channels. Events outside the sensor or the
/// channels are dropped.</para>
/// <para><b>Pooling.</b> pixel (x, y) falls into cell (x / p, y / p) of a ⌈W / p⌉ x ⌈H / p⌉
/// grid (audio: channel c into c / p); cell index = (y / p) x ⌈W / p⌉ + x / p.</para>
/// <para><b>Polarity.</b> <see cref="PolarityMode.Split"/>: feature = polarity x cells + cell
/// (polarity 0 = OFF, 1 = ON), so the DVS feature index is polarity x (h x w) + y x w + x on the
/// pooled grid; the other modes have one plane.</para>
/// <para><b>Binning.</b> A sample (a recording, a labelled segment, a decision window) starts at a
/// known time and may have a known end. Steps are emitted in order; a sample always has at least
/// one step, at most <see cref="MaxSteps"/> (0: no limit; later events are dropped), exactly
/// <see cref="MaxSteps"/> when <see cref="Pad"/> (empty steps appended). Time bins run from the
/// sample's start to its end when known (else to the last event); an event earlier than the open
/// bin is counted into it.</para>
/// <para><b>Value.</b> per feature and step from its event count n (<see cref="ValueKind"/>).
/// The values are the network's input as they are: nothing else (no log(1 + x)) is applied after
/// the chain.</para>
/// </remarks>
public sealed partial record Preprocessing
{
    /// <summary>Version of the description's JSON form.</summary>
    public const int FormatVersion = 1;

    /// <summary>Largest number of features a description may produce.</summary>
    public const int MaxFeatures = 1 << 26;

    /// <summary>DVS camera or audio/spike channels.</summary>
    public InputKind Input { get; init; }

    /// <summary>DVS: sensor width in pixels.</summary>
    public int Width { get; init; }

    /// <summary>DVS: sensor height in pixels.</summary>
    public int Height { get; init; }

    /// <summary>Audio: number of spike channels.</summary>
    public int Channels { get; init; }

    /// <summary>Spatial pooling factor (DVS: p x p pixels per cell) or channel pooling factor (audio: p channels per cell); 1 = none.</summary>
    public int Pooling { get; init; } = 1;

    /// <summary>Polarity handling.</summary>
    public PolarityMode Polarity { get; init; }

    /// <summary>How events are cut into steps.</summary>
    public BinningKind Binning { get; init; }

    /// <summary><see cref="BinningKind.Time"/>: bin width in microseconds.</summary>
    public long BinUs { get; init; }

    /// <summary><see cref="BinningKind.Count"/>: events per bin.</summary>
    public int BinEvents { get; init; }

    /// <summary><see cref="BinningKind.EqualCountFrames"/> / <see cref="BinningKind.EqualTimeFrames"/>: frames per sample.</summary>
    public int Frames { get; init; }

    /// <summary>Value of a feature in a step.</summary>
    public ValueKind Value { get; init; } = ValueKind.Count;

    /// <summary>Most steps per sample (later events are dropped); 0 = no limit.</summary>
    public int MaxSteps { get; init; }

    /// <summary>Pad every sample with empty steps to exactly <see cref="MaxSteps"/> steps (fixed-length samples).</summary>
    public bool Pad { get; init; }

    /// <summary>Default of <see cref="MaxGapSteps"/>.</summary>
    public const int DefaultMaxGapSteps = 1000;

    /// <summary>
    /// Time bins of a sample whose number of steps is not bounded (no <see cref="MaxSteps"/>, no
    /// known end): the most empty steps emitted for one gap between events. A longer gap (a clock
    /// jump, a damaged timestamp) emits this many and skips the rest (counted in
    /// <see cref="Preprocessor.SkippedSteps"/>), so it costs bounded work. 0 skips every empty bin
    /// of such a sample.
    /// </summary>
    public int MaxGapSteps { get; init; } = DefaultMaxGapSteps;

    /// <summary>Columns of the pooled grid (audio: pooled channels).</summary>
    public int PooledWidth => Ceil(Input == InputKind.Dvs ? Width : Channels, Pooling);

    /// <summary>Rows of the pooled grid (audio: 1).</summary>
    public int PooledHeight => Input == InputKind.Dvs ? Ceil(Height, Pooling) : 1;

    /// <summary>Feature planes: 2 when polarities are split, else 1.</summary>
    public int Planes => Polarity == PolarityMode.Split ? 2 : 1;

    /// <summary>Cells per plane (pooled width x pooled height).</summary>
    public int PlaneSize => PooledWidth * PooledHeight;

    /// <summary>Network inputs: planes x pooled height x pooled width.</summary>
    public int Features => Planes * PlaneSize;

    /// <summary>Pixels (DVS: pooling²) or channels (audio: pooling) pooled into one cell; the divisor of <see cref="ValueKind.Mean"/>.</summary>
    public int PoolArea => Input == InputKind.Dvs ? Pooling * Pooling : Pooling;

    /// <summary>
    /// Time a sample's steps cover when it is fixed (time bins with <see cref="MaxSteps"/>:
    /// bin width x max steps), else null.
    /// </summary>
    public long? SampleSpanUs => Binning == BinningKind.Time && MaxSteps > 0 ? BinUs * MaxSteps : null;

    /// <summary>
    /// The feature of a DVS event (polarity <paramref name="on"/> at pixel (<paramref name="x"/>,
    /// <paramref name="y"/>)), or -1 when it is dropped (outside the sensor, or the wrong polarity).
    /// </summary>
    public int FeatureIndex(bool on, int x, int y)
    {
        if (Input != InputKind.Dvs || (uint)x >= (uint)Width || (uint)y >= (uint)Height)
        {
            return -1;
        }

        return PolarityMapping.Feature(Polarity, on ? (byte)1 : (byte)0, ((y / Pooling) * PooledWidth) + (x / Pooling), PlaneSize);
    }

    /// <summary>The feature of a spike on <paramref name="channel"/>, or -1 when it is dropped.</summary>
    public int FeatureIndex(bool on, int channel)
    {
        if (Input != InputKind.Audio || (uint)channel >= (uint)Channels)
        {
            return -1;
        }

        return PolarityMapping.Feature(Polarity, on ? (byte)1 : (byte)0, channel / Pooling, PlaneSize);
    }

    /// <summary>
    /// Steps a sample gets when that is known in advance: frames; fixed-length (padded) samples;
    /// time bins of a sample of known <paramref name="durationUs"/>. Null when it depends on the events.
    /// </summary>
    public int? StepsPerSample(long? durationUs = null)
    {
        int? natural = Binning switch
        {
            BinningKind.EqualCountFrames or BinningKind.EqualTimeFrames => Frames,
            BinningKind.Time when durationUs is long d && BinUs > 0 => (int)Math.Clamp((Math.Max(0, d) + BinUs - 1) / BinUs, 0, int.MaxValue),
            _ => null,
        };
        if (Pad && MaxSteps > 0)
        {
            return MaxSteps;
        }

        if (natural is int n)
        {
            n = MaxSteps > 0 ? Math.Min(n, MaxSteps) : n;
            return Math.Max(1, n);
        }

        return null;
    }

    /// <summary>The same description with the fields that do not apply to its kinds reset (what <see cref="ToJson"/> writes).</summary>
    public Preprocessing Normalized() => this with
    {
        Width = Input == InputKind.Dvs ? Width : 0,
        Height = Input == InputKind.Dvs ? Height : 0,
        Channels = Input == InputKind.Audio ? Channels : 0,
        BinUs = Binning == BinningKind.Time ? BinUs : 0,
        BinEvents = Binning == BinningKind.Count ? BinEvents : 0,
        Frames = Binning is BinningKind.EqualCountFrames or BinningKind.EqualTimeFrames ? Frames : 0,
    };

    /// <summary>The description for a DVS sensor of <paramref name="width"/> x <paramref name="height"/> (the rest unchanged).</summary>
    public Preprocessing ForSensor(int width, int height) => this with { Input = InputKind.Dvs, Width = width, Height = height, Channels = 0 };

    /// <summary>The description for <paramref name="channels"/> spike channels (the rest unchanged).</summary>
    public Preprocessing ForChannels(int channels) => this with { Input = InputKind.Audio, Channels = channels, Width = 0, Height = 0 };

    /// <summary>Throws <see cref="PreprocessingException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Input))
        {
            throw new PreprocessingException("input", $"{(int)Input} is not dvs or audio");
        }

        if (Input == InputKind.Dvs)
        {
            Range("width", Width, 1, 65_535);
            Range("height", Height, 1, 65_535);
        }
        else
        {
            Range("channels", Channels, 1, 1 << 20);
        }

        Range("pooling", Pooling, 1, 65_535);
        if (!Enum.IsDefined(Polarity))
        {
            throw new PreprocessingException("polarity", $"{(int)Polarity} is not split, merge, on or off");
        }

        switch (Binning)
        {
            case BinningKind.Time:
                Range("bin_us", BinUs, 1, 1_000_000_000_000);
                break;
            case BinningKind.Count:
                Range("bin_events", BinEvents, 1, 1 << 30);
                break;
            case BinningKind.EqualCountFrames or BinningKind.EqualTimeFrames:
                Range("frames", Frames, 1, 1_000_000);
                break;
            default:
                throw new PreprocessingException("binning", $"{(int)Binning} is not time, count, equal_count_frames or equal_time_frames");
        }

        if (!Enum.IsDefined(Value))
        {
            throw new PreprocessingException("value", $"{(int)Value} is not binary, count, log_count or mean");
        }

        Range("max_steps", MaxSteps, 0, 10_000_000);
        Range("max_gap_steps", MaxGapSteps, 0, 10_000_000);
        if (Pad && MaxSteps == 0)
        {
            throw new PreprocessingException("pad", "true needs max_steps > 0 (the length to pad to)");
        }

        long features = (long)Planes * Ceil(Input == InputKind.Dvs ? Width : Channels, Pooling) * (Input == InputKind.Dvs ? Ceil(Height, Pooling) : 1);
        if (features > MaxFeatures)
        {
            throw new PreprocessingException("features", $"{features} is more than {MaxFeatures} (pool more)");
        }
    }

    /// <summary>One line of text: input, pooling, polarity, binning, steps, values and the feature count.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        if (Input == InputKind.Dvs)
        {
            sb.Append(c, $"DVS {Width}x{Height}");
            if (Pooling > 1)
            {
                sb.Append(c, $" pooled {Pooling}");
            }

            sb.Append(c, $" -> {Planes}x{PooledHeight}x{PooledWidth} = {Features} features");
        }
        else
        {
            sb.Append(c, $"audio {Channels} channels");
            if (Pooling > 1)
            {
                sb.Append(c, $" pooled {Pooling}");
            }

            sb.Append(c, $" -> {Features} features");
        }

        sb.Append(Polarity switch
        {
            PolarityMode.Split => " (OFF, ON planes)",
            PolarityMode.Merge => Input == InputKind.Dvs ? " (polarities merged)" : string.Empty,
            PolarityMode.On => " (ON events only)",
            _ => " (OFF events only)",
        });
        sb.Append("; ");
        sb.Append(Binning switch
        {
            BinningKind.Time => Duration(BinUs) + " bins",
            BinningKind.Count => string.Create(c, $"bins of {BinEvents} events"),
            BinningKind.EqualCountFrames => string.Create(c, $"{Frames} equal-count frames"),
            _ => string.Create(c, $"{Frames} equal-time frames"),
        });
        if (MaxSteps > 0)
        {
            if (Pad)
            {
                sb.Append(c, $", exactly {MaxSteps} steps (padded)");
            }
            else
            {
                sb.Append(c, $", at most {MaxSteps} steps");
            }
        }

        sb.Append("; ");
        sb.Append(Value switch
        {
            ValueKind.Binary => "binary",
            ValueKind.Count => "event counts",
            ValueKind.LogCount => "log(1 + count)",
            _ => string.Create(c, $"mean (count / {PoolArea})"),
        });
        return sb.ToString();
    }

    /// <summary>A duration in microseconds as short text (10000 -> "10 ms").</summary>
    internal static string Duration(long us) => us % 1_000_000 == 0 ? string.Create(CultureInfo.InvariantCulture, $"{us / 1_000_000} s")
        : us % 1000 == 0 ? string.Create(CultureInfo.InvariantCulture, $"{us / 1000} ms")
        : string.Create(CultureInfo.InvariantCulture, $"{us} us");

    private static int Ceil(int n, int p) => p <= 0 ? 0 : (int)(((long)Math.Max(0, n) + p - 1) / p);

    private static void Range(string field, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            throw new PreprocessingException(field, string.Create(CultureInfo.InvariantCulture, $"{value} is not in {min}..{max}"));
        }
    }
}
