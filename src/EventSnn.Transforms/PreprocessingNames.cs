namespace EventSnn.Transforms;

/// <summary>
/// The text names of the preprocessing kinds, as written in JSON (snake_case: "equal_count_frames")
/// and accepted from configuration files (also PascalCase or kebab-case: "EqualCountFrames",
/// "equal-count-frames").
/// </summary>
public static class PreprocessingNames
{
    /// <summary>JSON name of an input kind.</summary>
    public static string Name(InputKind kind) => kind switch
    {
        InputKind.Dvs => "dvs",
        InputKind.Audio => "audio",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>JSON name of a polarity mode.</summary>
    public static string Name(PolarityMode mode) => mode switch
    {
        PolarityMode.Split => "split",
        PolarityMode.Merge => "merge",
        PolarityMode.On => "on",
        PolarityMode.Off => "off",
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    /// <summary>JSON name of a binning kind.</summary>
    public static string Name(BinningKind kind) => kind switch
    {
        BinningKind.Time => "time",
        BinningKind.Count => "count",
        BinningKind.EqualCountFrames => "equal_count_frames",
        BinningKind.EqualTimeFrames => "equal_time_frames",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>JSON name of a value kind.</summary>
    public static string Name(ValueKind kind) => kind switch
    {
        ValueKind.Binary => "binary",
        ValueKind.Count => "count",
        ValueKind.LogCount => "log_count",
        ValueKind.Mean => "mean",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Parses an input kind; throws <see cref="PreprocessingException"/> naming "input".</summary>
    public static InputKind ParseInput(string? text) => Key(text) switch
    {
        "dvs" => InputKind.Dvs,
        "audio" or "spikes" => InputKind.Audio,
        _ => throw Bad("input", text, "dvs or audio"),
    };

    /// <summary>Parses a polarity mode; throws <see cref="PreprocessingException"/> naming "polarity".</summary>
    public static PolarityMode ParsePolarity(string? text) => Key(text) switch
    {
        "split" => PolarityMode.Split,
        "merge" => PolarityMode.Merge,
        "on" => PolarityMode.On,
        "off" => PolarityMode.Off,
        _ => throw Bad("polarity", text, "split, merge, on or off"),
    };

    /// <summary>Parses a binning kind; throws <see cref="PreprocessingException"/> naming "binning".</summary>
    public static BinningKind ParseBinning(string? text) => Key(text) switch
    {
        "time" => BinningKind.Time,
        "count" => BinningKind.Count,
        "equalcountframes" => BinningKind.EqualCountFrames,
        "equaltimeframes" => BinningKind.EqualTimeFrames,
        _ => throw Bad("binning", text, "time, count, equal_count_frames or equal_time_frames"),
    };

    /// <summary>Parses a value kind; throws <see cref="PreprocessingException"/> naming "value".</summary>
    public static ValueKind ParseValue(string? text) => Key(text) switch
    {
        "binary" => ValueKind.Binary,
        "count" => ValueKind.Count,
        "logcount" => ValueKind.LogCount,
        "mean" => ValueKind.Mean,
        _ => throw Bad("value", text, "binary, count, log_count or mean"),
    };

    private static string Key(string? text)
    {
        if (text is null)
        {
            return string.Empty;
        }

        Span<char> buffer = stackalloc char[Math.Min(text.Length, 64)];
        int n = 0;
        foreach (char c in text.AsSpan(0, Math.Min(text.Length, 64)))
        {
            if (c is '_' or '-' or ' ')
            {
                continue;
            }

            buffer[n++] = char.ToLowerInvariant(c);
        }

        return new string(buffer[..n]);
    }

    private static PreprocessingException Bad(string field, string? text, string expected) =>
        new(field, text is null ? $"missing (expected {expected})" : $"'{text}' is not {expected}");
}
