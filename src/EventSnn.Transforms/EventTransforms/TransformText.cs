using System.Globalization;
using System.Text;
using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// A parameter Tonic lets be a number or a range to draw from per sample (a tuple there): a
/// fixed value, or uniform in [<see cref="Min"/>, <see cref="Max"/>) drawn as
/// <c>(max - min) u + min</c> as Tonic draws it. Text form "v" or "min..max".
/// </summary>
public readonly record struct ValueRange(double Min, double Max)
{
    /// <summary>A fixed value.</summary>
    public ValueRange(double value)
        : this(value, value)
    {
    }

    /// <summary>True when the value does not vary.</summary>
    public bool IsFixed => Min == Max;

    /// <summary>A fixed value.</summary>
    public static implicit operator ValueRange(double value) => new(value);

    /// <inheritdoc />
    public override string ToString() => IsFixed
        ? Min.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{Min}..{Max}");

    /// <summary>Draws a value (no draw when fixed).</summary>
    internal double Draw(ref TransformRandom random) => IsFixed ? Min : ((Max - Min) * random.NextDouble()) + Min;
}

/// <summary>Writing the text form of transforms: "name:v1:v2", values in invariant culture, named values "name=value".</summary>
internal static class TransformText
{
    /// <summary>"name" followed by the non-null values.</summary>
    public static string Of(string name, params object?[] values)
    {
        var sb = new StringBuilder(name);
        foreach (object? v in values)
        {
            if (v is not null)
            {
                sb.Append(':').Append(Format(v));
            }
        }

        return sb.ToString();
    }

    /// <summary>A value written as "name=value".</summary>
    public static object Named(string name, object value) => new NamedValue(name, value);

    /// <summary>Pixel coordinates as "x/y;x/y".</summary>
    public static string Coordinates(IReadOnlyList<(int X, int Y)> pixels)
    {
        var sb = new StringBuilder();
        foreach ((int x, int y) in pixels)
        {
            sb.Append(sb.Length == 0 ? string.Empty : ";").Append(x.ToString(CultureInfo.InvariantCulture)).Append('/').Append(y.ToString(CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    /// <summary>Checks a probability (0..1).</summary>
    public static double Probability(double p, string name = "p") =>
        p is >= 0 and <= 1 ? p : throw new ArgumentOutOfRangeException(name, p, "a probability is in 0..1");

    /// <summary>One value in the text form.</summary>
    public static string Format(object value) => value switch
    {
        NamedValue n => n.Name + "=" + Format(n.Value),
        bool b => b ? "true" : "false",
        SensorGeometry g => string.Create(CultureInfo.InvariantCulture, $"{g.Width}x{g.Height}"),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private sealed record NamedValue(string Name, object Value);
}
