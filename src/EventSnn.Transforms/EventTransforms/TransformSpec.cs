using System.Globalization;
using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// The text form of event transforms: items separated by commas, applied left to right
/// (<see cref="Compose"/>); an item is a name and its parameters separated by colons, each given
/// in order or by Tonic's name (<c>name=value</c>; dashes and underscores alike), e.g.
/// "denoise:10000,crop:64x64,drop-event:0.1,time-jitter:1000" or
/// "time-jitter:std=500:sort_timestamps=true". "none" or an empty text is the identity. Values:
/// numbers in invariant culture, true/false, sizes "WxH", ranges "a..b" (Tonic's tuples, drawn
/// per sample), pixels "x/y;x/y". Errors (<see cref="TransformException"/>) name the item and the
/// parameter at fault. <see cref="Names"/> lists every transform with its parameters.
/// </summary>
public static class TransformSpec
{
    private static readonly Definition[] Definitions =
    [
        new("denoise", "drop events without a direct neighbour event in the last filter_time us (Tonic Denoise)", [new("filter_time", "us, default 10000")], a => new Denoise(a.Integer("filter_time", 10_000, 0, 1L << 28))),
        new("refractory-period", "per pixel, drop events within delta us of the pixel's previous event (Tonic RefractoryPeriod)", [new("delta", "us, default 10000")], a => new RefractoryPeriod(a.Integer("delta", 10_000, 0, long.MaxValue))),
        new("crop", "keep the box WxH at x, y (default 0, 0) and move it to the origin", [new("size", "WxH"), new("x", "default 0"), new("y", "default 0")], a =>
        {
            SensorGeometry size = a.Size("size", square: false);
            return new Crop(size.Width, size.Height, (int)a.Integer("x", 0, -65535, 65535), (int)a.Integer("y", 0, -65535, 65535));
        }),
        new("center-crop", "keep the centred box N x N or WxH (Tonic CenterCrop; larger than the sensor pads)", [new("size", "N or WxH")], a =>
        {
            SensorGeometry size = a.Size("size", square: true);
            return new CenterCrop(size.Width, size.Height);
        }),
        new("random-crop", "keep a box WxH at a random place per sample (Tonic RandomCrop)", [new("target_size", "WxH")], a =>
        {
            SensorGeometry size = a.Size("target_size", square: true);
            return new RandomCrop(size.Width, size.Height);
        }),
        new("downsample", "k: pool k x k pixels (x / k); a factor below 1 or spatial_factor=f: x' = trunc(x f) (Tonic Downsample); time_factor multiplies times; target_size=WxH", [new("spatial_factor", "k >= 1 pools; f < 1 multiplies"), new("time_factor", "default 1"), new("target_size", "WxH")], DownsampleFrom),
        new("drop-pixel", "drop every event of the pixels x/y;x/y, or of those firing above hot_pixel_frequency Hz in a sample (Tonic DropPixel)", [new("coordinates", "x/y;x/y"), new("hot_pixel_frequency", "Hz")], DropPixelFrom),
        new("mask-hot-pixels", "learn the pixels above frequency Hz over the first calibration us of a stream, then drop their events", [new("frequency", "Hz"), new("calibration", "us")], a => new MaskHotPixels(a.Number("frequency", null, double.Epsilon, double.MaxValue), a.Integer("calibration", null, 1, long.MaxValue))),
        new("merge-polarities", "every polarity becomes 0 (Tonic MergePolarities)", [], _ => new MergePolarities()),
        new("only-on", "keep the ON events", [], _ => new KeepPolarity(on: true)),
        new("only-off", "keep the OFF events", [], _ => new KeepPolarity(on: false)),
        new("flip-lr", "mirror x (x' = W - 1 - x) with probability p per sample, default 1 (Tonic RandomFlipLR)", [new("p", "default 1")], a => new RandomFlipLR(a.Number("p", 1, 0, 1))),
        new("flip-ud", "mirror y (y' = H - 1 - y) with probability p per sample, default 1 (Tonic RandomFlipUD)", [new("p", "default 1")], a => new RandomFlipUD(a.Number("p", 1, 0, 1))),
        new("flip-polarity", "invert every polarity with probability p per sample, default 1 (Tonic RandomFlipPolarity)", [new("p", "default 1")], a => new RandomFlipPolarity(a.Number("p", 1, 0, 1))),
        new("random-flip-lr", "flip-lr with Tonic's default p = 0.5", [new("p", "default 0.5")], a => new RandomFlipLR(a.Number("p", 0.5, 0, 1))),
        new("random-flip-ud", "flip-ud with Tonic's default p = 0.5", [new("p", "default 0.5")], a => new RandomFlipUD(a.Number("p", 0.5, 0, 1))),
        new("random-flip-polarity", "flip-polarity with Tonic's default p = 0.5", [new("p", "default 0.5")], a => new RandomFlipPolarity(a.Number("p", 0.5, 0, 1))),
        new("drop-event", "drop int(p n + 0.5) of a sample's n events at random; p may be a range a..b (Tonic DropEvent)", [new("p", "0..1 or a..b")], a => new DropEvent(a.Range("p", null, 0, 1))),
        new("time-jitter", "t' = trunc(t + N(0, std²)); drop t' < 0 (clip_negative, default true); sort by t' (sort_timestamps, default false) (Tonic TimeJitter)", [new("std", "us"), new("clip_negative", "default true"), new("sort_timestamps", "default false")], a => new TimeJitter(a.Number("std", null, 0, 1e15), a.Bool("clip_negative", true), a.Bool("sort_timestamps", false))),
        new("spatial-jitter", "x, y plus a bivariate normal draw [[var_x, sigma_xy], [sigma_xy, var_y]]; clip_outliers drops events leaving the sensor (Tonic SpatialJitter)", [new("var_x", "default 1", "variance_x"), new("var_y", "default 1", "variance_y"), new("sigma_xy", "default 0"), new("clip_outliers", "default false")], a => new SpatialJitter(a.Number("var_x", 1, 0, 1e12), a.Number("var_y", 1, 0, 1e12), a.Number("sigma_xy", 0, -1e12, 1e12), a.Bool("clip_outliers", false))),
        new("uniform-noise", "add n events uniform over the sensor and the sample's time span, sorted in (Tonic UniformNoise); n may be a range a..b", [new("n", "events or a..b")], a => new UniformNoise(a.Range("n", null, 0, 1 << 24))),
        new("time-skew", "t' = trunc(t coefficient + offset); either may be a range a..b (Tonic TimeSkew)", [new("coefficient", "factor or a..b"), new("offset", "us, default 0")], a => new TimeSkew(a.Range("coefficient", null, -1e6, 1e6), a.Range("offset", 0, -1e18, 1e18))),
        new("shift", "translate a sample by up to pixels in x and y (drawn per sample); events leaving the sensor are dropped", [new("pixels", "0..4096")], a => new RandomShift((int)a.Integer("pixels", null, 0, 4096))),
        new("crop-time", "keep the events with min <= t <= max (Tonic CropTime)", [new("min", "us, default 0"), new("max", "us, default none")], a => new CropTime(a.Integer("min", 0, long.MinValue, long.MaxValue), a.Has("max") ? a.Integer("max", null, long.MinValue, long.MaxValue) : null)),
    ];

    /// <summary>Every transform's text form and what it does, one per line (for help and documentation).</summary>
    public static IReadOnlyList<string> Names { get; } = Array.ConvertAll(Definitions, d => d.Usage + "  " + d.Summary);

    /// <summary>
    /// Parses the text form into a transform: one item gives that transform, several a
    /// <see cref="Compose"/>, "none" or an empty text <see cref="Compose.None"/>.
    /// </summary>
    public static EventTransform Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Trim() == "none")
        {
            return Compose.None;
        }

        var items = new List<EventTransform>();
        foreach (string raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            items.Add(ParseItem(raw));
        }

        return items.Count == 1 ? items[0] : new Compose(items);
    }

    private static EventTransform ParseItem(string item)
    {
        string[] parts = item.Split(':', StringSplitOptions.TrimEntries);
        string name = parts[0].ToLowerInvariant();
        Definition? definition = Array.Find(Definitions, d => d.Name == name);
        if (definition is null)
        {
            throw new TransformException(item, null, $"unknown transform '{name}'; known: {string.Join(", ", Array.ConvertAll(Definitions, d => d.Name))}");
        }

        var args = new Arguments(item, definition, parts.AsSpan(1));
        try
        {
            EventTransform t = definition.Create(args);
            args.CheckAllUsed();
            return t;
        }
        catch (ArgumentException ex) when (ex is not TransformException)
        {
            // a constructor's own check (e.g. a covariance that is not one)
            throw new TransformException(item, null, ex.Message.Split(" (Parameter", 2)[0]);
        }
    }

    private static Downsample DownsampleFrom(Arguments a)
    {
        if (a.Has("target_size"))
        {
            if (a.Has("spatial_factor"))
            {
                throw a.Error("target_size", "and spatial_factor exclude each other");
            }

            return Downsample.ToSize(a.Size("target_size", square: false), a.Number("time_factor", 1, double.Epsilon, 1e9));
        }

        double f = a.Number("spatial_factor", 1, double.Epsilon, 1e9);
        if (a.IsPositional("spatial_factor") && f >= 1)
        {
            if (f != Math.Floor(f) || f > 65535)
            {
                throw a.Error("spatial_factor", $"'{a.Raw("spatial_factor")}' must be a whole pooling factor k >= 1 or a factor below 1 (use spatial_factor=<f> for Tonic's multiplier)");
            }

            if (a.Has("time_factor"))
            {
                throw a.Error("time_factor", "cannot go with a pooling factor; give spatial_factor=<f> instead");
            }

            return Downsample.Pool((int)f);
        }

        return new Downsample(f, a.Number("time_factor", 1, double.Epsilon, 1e9));
    }

    private static DropPixel DropPixelFrom(Arguments a)
    {
        if (a.IsPositional("coordinates") && !a.Raw("coordinates")!.Contains('/', StringComparison.Ordinal))
        {
            // a lone number: the frequency
            a.Rename("coordinates", "hot_pixel_frequency");
        }

        if (a.Has("coordinates") == a.Has("hot_pixel_frequency"))
        {
            throw a.Error(null, "needs either coordinates (x/y;x/y) or hot_pixel_frequency=<Hz>");
        }

        return a.Has("hot_pixel_frequency")
            ? new DropPixel(a.Number("hot_pixel_frequency", null, double.Epsilon, double.MaxValue))
            : new DropPixel(a.Coordinates("coordinates"));
    }

    private sealed record Parameter(string Name, string Help, params string[] Aliases);

    private sealed record Definition(string Name, string Summary, Parameter[] Parameters, Func<Arguments, EventTransform> Create)
    {
        public string Usage => Parameters.Length == 0 ? Name : Name + ":" + string.Join(":", Array.ConvertAll(Parameters, p => $"<{p.Name}>"));
    }

    /// <summary>One item's parameters, positional or named, read and checked by the definition.</summary>
    private sealed class Arguments
    {
        private readonly string _item;
        private readonly Definition _definition;
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
        private readonly HashSet<string> _positional = new(StringComparer.Ordinal);
        private readonly HashSet<string> _used = new(StringComparer.Ordinal);

        public Arguments(string item, Definition definition, ReadOnlySpan<string> parts)
        {
            _item = item;
            _definition = definition;
            int position = 0;
            bool named = false;
            foreach (string part in parts)
            {
                int eq = part.IndexOf('=', StringComparison.Ordinal);
                if (eq < 0)
                {
                    if (named)
                    {
                        throw Error(null, $"'{part}': a parameter given in order cannot follow a named one");
                    }

                    if (position >= definition.Parameters.Length)
                    {
                        throw Error(null, definition.Parameters.Length == 0
                            ? "takes no parameters"
                            : $"takes at most {definition.Parameters.Length} parameter{(definition.Parameters.Length == 1 ? string.Empty : "s")} ({Usage()})");
                    }

                    string name = definition.Parameters[position++].Name;
                    _values[name] = part;
                    _positional.Add(name);
                }
                else
                {
                    named = true;
                    string key = part[..eq].Trim().Replace('-', '_').ToLowerInvariant();
                    Parameter? p = Array.Find(definition.Parameters, q => q.Name == key || Array.IndexOf(q.Aliases, key) >= 0)
                        ?? throw Error(null, $"has no parameter '{part[..eq]}' ({(definition.Parameters.Length == 0 ? "it takes none" : Usage())})");
                    if (!_values.TryAdd(p.Name, part[(eq + 1)..].Trim()))
                    {
                        throw Error(p.Name, "is given twice");
                    }
                }
            }
        }

        public bool Has(string name) => _values.ContainsKey(name);

        public bool IsPositional(string name) => _positional.Contains(name);

        public string? Raw(string name) => _values.TryGetValue(name, out string? v) ? v : null;

        public void Rename(string from, string to)
        {
            _values[to] = _values[from];
            _values.Remove(from);
            _positional.Remove(from);
        }

        public TransformException Error(string? parameter, string problem) => new(_item, parameter, problem);

        public void CheckAllUsed()
        {
            foreach (string key in _values.Keys)
            {
                if (!_used.Contains(key))
                {
                    throw Error(key, "does not apply here");
                }
            }
        }

        public double Number(string name, double? fallback, double min, double max)
        {
            if (Text(name, fallback is null) is not string text)
            {
                return fallback!.Value;
            }

            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            {
                throw Error(name, $"'{text}' is not a number");
            }

            if (v < min || v > max)
            {
                throw Error(name, $"{text} is out of range ({Bounds(min, max)})");
            }

            return v;
        }

        public long Integer(string name, long? fallback, long min, long max)
        {
            if (Text(name, fallback is null) is not string text)
            {
                return fallback!.Value;
            }

            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
            {
                throw Error(name, $"'{text}' is not a whole number");
            }

            if (v < min || v > max)
            {
                throw Error(name, $"{text} is out of range ({Bounds(min, max)})");
            }

            return v;
        }

        public bool Bool(string name, bool fallback)
        {
            if (Text(name, required: false) is not string text)
            {
                return fallback;
            }

            return text.ToLowerInvariant() switch
            {
                "true" or "1" or "yes" => true,
                "false" or "0" or "no" => false,
                _ => throw Error(name, $"'{text}' is not true or false"),
            };
        }

        public ValueRange Range(string name, double? fallback, double min, double max)
        {
            if (Text(name, fallback is null) is not string text)
            {
                return fallback!.Value;
            }

            int dots = text.IndexOf("..", StringComparison.Ordinal);
            if (dots < 0)
            {
                return One(text);
            }

            double a = One(text[..dots]), b = One(text[(dots + 2)..]);
            if (b < a)
            {
                throw Error(name, $"'{text}': the range's end is below its start");
            }

            return new ValueRange(a, b);

            double One(string s)
            {
                if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                {
                    throw Error(name, $"'{text}' is not a number or a range a..b");
                }

                if (v < min || v > max)
                {
                    throw Error(name, $"{text} is out of range ({Bounds(min, max)})");
                }

                return v;
            }
        }

        public SensorGeometry Size(string name, bool square)
        {
            string text = Text(name, required: true)!;
            if (square && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is > 0 and <= 65535)
            {
                return new SensorGeometry(n, n);
            }

            return SensorGeometry.TryParse(text, out SensorGeometry g)
                ? g
                : throw Error(name, $"'{text}' is not a size {(square ? "N or " : string.Empty)}WxH (1..65535)");
        }

        public List<(int X, int Y)> Coordinates(string name)
        {
            string text = Text(name, required: true)!;
            var result = new List<(int, int)>();
            foreach (string pair in text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                string[] xy = pair.Split('/');
                if (xy.Length != 2
                    || !int.TryParse(xy[0], NumberStyles.None, CultureInfo.InvariantCulture, out int x)
                    || !int.TryParse(xy[1], NumberStyles.None, CultureInfo.InvariantCulture, out int y))
                {
                    throw Error(name, $"'{pair}' is not a pixel x/y");
                }

                result.Add((x, y));
            }

            return result.Count > 0 ? result : throw Error(name, "lists no pixel (x/y;x/y)");
        }

        private static string Bounds(double min, double max)
        {
            string low = min == double.Epsilon ? "> 0" : string.Create(CultureInfo.InvariantCulture, $">= {min}");
            return max >= 1e9 ? low
                : min <= -1e9 ? string.Create(CultureInfo.InvariantCulture, $"<= {max}")
                : min == double.Epsilon ? string.Create(CultureInfo.InvariantCulture, $"> 0 and <= {max}")
                : string.Create(CultureInfo.InvariantCulture, $"{min}..{max}");
        }

        private static string Bounds(long min, long max) =>
            max == long.MaxValue ? string.Create(CultureInfo.InvariantCulture, $">= {min}")
            : string.Create(CultureInfo.InvariantCulture, $"{min}..{max}");

        private string Usage() => _definition.Usage;

        private string? Text(string name, bool required)
        {
            _used.Add(name);
            if (_values.TryGetValue(name, out string? text) && text.Length > 0)
            {
                return text;
            }

            return required ? throw Error(name, $"is missing ({Usage()})") : null;
        }
    }
}
