using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EventSnn.Transforms;

/// <summary>JSON form of <see cref="Preprocessing"/> (System.Text.Json, snake_case).</summary>
/// <remarks>
/// <code>
/// {"version": 1, "input": "dvs", "width": 128, "height": 128, "pooling": 8, "polarity": "split",
///  "binning": "equal_count_frames", "frames": 20, "value": "mean", "max_steps": 0, "pad": false,
///  "features": 512}
/// {"version": 1, "input": "audio", "channels": 700, "pooling": 1, "polarity": "merge",
///  "binning": "time", "bin_us": 10000, "value": "binary", "max_steps": 100, "pad": true,
///  "features": 700}
/// </code>
/// Only the fields of the chosen kinds are written (width/height for dvs, channels for audio;
/// bin_us for time, bin_events for count, frames for the frame binnings; max_gap_steps only when
/// it is not the default). "features" is derived
/// and written for readers; when present on reading it must match. Unknown fields, missing
/// required fields and wrong types are errors naming the field.
/// </remarks>
public sealed partial record Preprocessing
{
    private static readonly HashSet<string> KnownFields =
    [
        "version", "input", "width", "height", "channels", "pooling", "polarity", "binning", "bin_us", "bin_events", "frames", "value", "max_steps", "pad", "max_gap_steps", "features",
    ];

    /// <summary>The description as a JSON object (validated first).</summary>
    public JsonObject ToJsonNode()
    {
        Validate();
        var o = new JsonObject
        {
            ["version"] = FormatVersion,
            ["input"] = PreprocessingNames.Name(Input),
        };
        if (Input == InputKind.Dvs)
        {
            o["width"] = Width;
            o["height"] = Height;
        }
        else
        {
            o["channels"] = Channels;
        }

        o["pooling"] = Pooling;
        o["polarity"] = PreprocessingNames.Name(Polarity);
        o["binning"] = PreprocessingNames.Name(Binning);
        switch (Binning)
        {
            case BinningKind.Time:
                o["bin_us"] = BinUs;
                break;
            case BinningKind.Count:
                o["bin_events"] = BinEvents;
                break;
            default:
                o["frames"] = Frames;
                break;
        }

        o["value"] = PreprocessingNames.Name(Value);
        o["max_steps"] = MaxSteps;
        o["pad"] = Pad;
        if (MaxGapSteps != DefaultMaxGapSteps)
        {
            o["max_gap_steps"] = MaxGapSteps;
        }
        o["features"] = Features;
        return o;
    }

    /// <summary>
    /// The first field (JSON name, in the order of <see cref="ToJson"/>) in which
    /// <paramref name="other"/> differs from this description, with both values as JSON text; null
    /// when they describe the same chain. For messages that name a contradiction.
    /// </summary>
    public (string Field, string Mine, string Theirs)? Difference(Preprocessing other)
    {
        ArgumentNullException.ThrowIfNull(other);
        JsonObject mine = Normalized().ToJsonNode(), theirs = other.Normalized().ToJsonNode();
        foreach (KeyValuePair<string, JsonNode?> kv in mine)
        {
            string a = kv.Value?.ToJsonString() ?? "null";
            string b = theirs[kv.Key]?.ToJsonString() ?? "(none)";
            if (a != b)
            {
                return (kv.Key, a, b);
            }
        }

        foreach (KeyValuePair<string, JsonNode?> kv in theirs)
        {
            if (!mine.ContainsKey(kv.Key))
            {
                return (kv.Key, "(none)", kv.Value?.ToJsonString() ?? "null");
            }
        }

        return null;
    }

    /// <summary>The description as compact JSON text.</summary>
    public string ToJson() => ToJsonNode().ToJsonString();

    /// <summary>Parses and validates a description; throws <see cref="PreprocessingException"/> naming the bad field.</summary>
    public static Preprocessing FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new PreprocessingException("(json)", "not valid JSON: " + ex.Message);
        }

        return FromJsonNode(node);
    }

    /// <summary>Reads and validates a description from a JSON object; throws <see cref="PreprocessingException"/> naming the bad field.</summary>
    public static Preprocessing FromJsonNode(JsonNode? node)
    {
        if (node is not JsonObject o)
        {
            throw new PreprocessingException("(json)", "expected a JSON object");
        }

        foreach (KeyValuePair<string, JsonNode?> field in o)
        {
            if (!KnownFields.Contains(field.Key))
            {
                throw new PreprocessingException(field.Key, "unknown field");
            }
        }

        long version = Integer(o, "version", required: false) ?? FormatVersion;
        if (version is < 1 or > FormatVersion)
        {
            throw new PreprocessingException("version", string.Create(CultureInfo.InvariantCulture, $"{version} is not supported (this build reads version 1..{FormatVersion})"));
        }

        InputKind input = PreprocessingNames.ParseInput(Text(o, "input", required: true));
        BinningKind binning = PreprocessingNames.ParseBinning(Text(o, "binning", required: true));
        bool frames = binning is BinningKind.EqualCountFrames or BinningKind.EqualTimeFrames;
        var p = new Preprocessing
        {
            Input = input,
            Width = Int(o, "width", required: input == InputKind.Dvs) ?? 0,
            Height = Int(o, "height", required: input == InputKind.Dvs) ?? 0,
            Channels = Int(o, "channels", required: input == InputKind.Audio) ?? 0,
            Pooling = Int(o, "pooling", required: false) ?? 1,
            Polarity = Text(o, "polarity", required: false) is { } polarity ? PreprocessingNames.ParsePolarity(polarity) : input == InputKind.Dvs ? PolarityMode.Split : PolarityMode.Merge,
            Binning = binning,
            BinUs = Integer(o, "bin_us", required: binning == BinningKind.Time) ?? 0,
            BinEvents = Int(o, "bin_events", required: binning == BinningKind.Count) ?? 0,
            Frames = Int(o, "frames", required: frames) ?? 0,
            Value = Text(o, "value", required: false) is { } value ? PreprocessingNames.ParseValue(value) : ValueKind.Count,
            MaxSteps = Int(o, "max_steps", required: false) ?? 0,
            Pad = Boolean(o, "pad") ?? false,
            MaxGapSteps = Int(o, "max_gap_steps", required: false) ?? DefaultMaxGapSteps,
        };
        p = p.Normalized();
        p.Validate();
        if (Integer(o, "features", required: false) is long features && features != p.Features)
        {
            throw new PreprocessingException("features", string.Create(CultureInfo.InvariantCulture, $"{features} does not match the {p.Features} features the other fields give"));
        }

        return p;
    }

    private static long? Integer(JsonObject o, string name, bool required)
    {
        if (!o.TryGetPropertyValue(name, out JsonNode? node) || node is null)
        {
            return required ? throw new PreprocessingException(name, "missing") : null;
        }

        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            if (v.TryGetValue(out long l))
            {
                return l;
            }

            if (v.TryGetValue(out double d) && d == Math.Floor(d) && Math.Abs(d) < 1e15)
            {
                return (long)d;
            }
        }

        throw new PreprocessingException(name, $"{node.ToJsonString()} is not an integer");
    }

    private static int? Int(JsonObject o, string name, bool required)
    {
        long? v = Integer(o, name, required);
        return v is long l && (l < int.MinValue || l > int.MaxValue)
            ? throw new PreprocessingException(name, string.Create(CultureInfo.InvariantCulture, $"{l} is out of range"))
            : (int?)v;
    }

    private static string? Text(JsonObject o, string name, bool required)
    {
        if (!o.TryGetPropertyValue(name, out JsonNode? node) || node is null)
        {
            return required ? throw new PreprocessingException(name, "missing") : null;
        }

        return node is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? v.GetValue<string>()
            : throw new PreprocessingException(name, $"{node.ToJsonString()} is not a string");
    }

    private static bool? Boolean(JsonObject o, string name)
    {
        if (!o.TryGetPropertyValue(name, out JsonNode? node) || node is null)
        {
            return null;
        }

        return node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False
            ? v.GetValue<bool>()
            : throw new PreprocessingException(name, $"{node.ToJsonString()} is not true or false");
    }
}
