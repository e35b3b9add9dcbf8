using System.Globalization;
using System.Text;

namespace EventSnn.Transforms;

/// <summary>
/// Training-time augmentation of a DVS sample's events, drawn afresh for every sample and epoch
/// (each a pure function of the events and a seed): a random translation of the whole sample
/// (<see cref="Shift"/> pixels at most in x and y; events moved off the sensor are dropped),
/// Tonic's DropEvent (each event dropped with probability <see cref="DropEvent"/>), and a polarity
/// flip of the whole sample with probability <see cref="FlipPolarity"/> (a bright actor on a dark
/// background turned into a dark one). Text form: "shift:16,drop-event:0.1,flip-polarity:0.5".
/// </summary>
public sealed record Augmentation
{
    /// <summary>Largest translation in pixels (uniform in [−Shift, Shift] per axis and sample).</summary>
    public int Shift { get; init; }

    /// <summary>Probability of dropping each event.</summary>
    public double DropEvent { get; init; }

    /// <summary>Probability of flipping the polarity of a whole sample.</summary>
    public double FlipPolarity { get; init; }

    /// <summary>No augmentation.</summary>
    public static Augmentation None { get; } = new();

    /// <summary>True when nothing is changed.</summary>
    public bool IsNone => Shift == 0 && DropEvent == 0 && FlipPolarity == 0;

    /// <summary>Parses the text form; an empty text or "none" is <see cref="None"/>. Errors name the item.</summary>
    public static Augmentation Parse(string? text)
    {
        var a = new Augmentation();
        if (string.IsNullOrWhiteSpace(text) || text.Trim() == "none")
        {
            return a;
        }

        foreach (string raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = raw.IndexOf(':', StringComparison.Ordinal);
            string name = colon < 0 ? raw : raw[..colon];
            string value = colon < 0 ? string.Empty : raw[(colon + 1)..];
            a = name switch
            {
                "shift" => a with { Shift = (int)Number(raw, value, 0, 4096, integer: true) },
                "drop-event" => a with { DropEvent = Number(raw, value, 0, 0.99, integer: false) },
                "flip-polarity" => a with { FlipPolarity = Number(raw, value, 0, 1, integer: false) },
                _ => throw new PreprocessingException("augment", $"'{raw}' is not shift:<pixels>, drop-event:<p> or flip-polarity:<p>"),
            };
        }

        return a;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        if (IsNone)
        {
            return "none";
        }

        var sb = new StringBuilder();
        Append(sb, Shift != 0, string.Create(CultureInfo.InvariantCulture, $"shift:{Shift}"));
        Append(sb, DropEvent != 0, string.Create(CultureInfo.InvariantCulture, $"drop-event:{DropEvent:G6}"));
        Append(sb, FlipPolarity != 0, string.Create(CultureInfo.InvariantCulture, $"flip-polarity:{FlipPolarity:G6}"));
        return sb.ToString();
    }

    private static void Append(StringBuilder sb, bool present, string item)
    {
        if (present)
        {
            sb.Append(sb.Length == 0 ? string.Empty : ",").Append(item);
        }
    }

    private static double Number(string item, string text, double min, double max, bool integer)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v >= min && v <= max) || (integer && v != Math.Floor(v)))
        {
            throw new PreprocessingException("augment", string.Create(CultureInfo.InvariantCulture, $"'{item}': the value must be {(integer ? "an integer" : "a number")} in {min}..{max}"));
        }

        return v;
    }
}

/// <summary>
/// Applies an <see cref="Augmentation"/> to one sample's events in place (struct-of-arrays spans)
/// for a seed: the same events and seed always give the same result. Kept events
/// stay in order; the new count is returned. Allocates nothing.
/// </summary>
public static class Augmenter
{
    /// <summary>Augments the first events of the spans; returns how many remain.</summary>
    public static int Apply(Augmentation augmentation, int width, int height, Span<long> t, Span<ushort> x, Span<ushort> y, Span<byte> polarity, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(augmentation);
        int n = t.Length;
        if (x.Length < n || y.Length < n || polarity.Length < n)
        {
            throw new ArgumentException("t, x, y and polarity must have matching lengths");
        }

        if (augmentation.IsNone)
        {
            return n;
        }

        var rng = new SplitMix(seed);
        int s = augmentation.Shift;
        int dx = s == 0 ? 0 : (int)(rng.Next() % (ulong)((2 * s) + 1)) - s;
        int dy = s == 0 ? 0 : (int)(rng.Next() % (ulong)((2 * s) + 1)) - s;
        bool flip = augmentation.FlipPolarity > 0 && rng.NextDouble() < augmentation.FlipPolarity;
        double drop = augmentation.DropEvent;
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            if (drop > 0 && rng.NextDouble() < drop)
            {
                continue;
            }

            int nx = x[i] + dx, ny = y[i] + dy;
            if ((uint)nx >= (uint)width || (uint)ny >= (uint)height)
            {
                continue;
            }

            t[kept] = t[i];
            x[kept] = (ushort)nx;
            y[kept] = (ushort)ny;
            polarity[kept] = flip ? (byte)(polarity[i] == 0 ? 1 : 0) : polarity[i];
            kept++;
        }

        return kept;
    }

    /// <summary>The seed of sample <paramref name="sample"/> in epoch <paramref name="epoch"/> of a run seeded <paramref name="seed"/>.</summary>
    public static ulong SeedFor(long seed, int epoch, long sample) =>
        new SplitMix(unchecked((ulong)seed * 0x9E3779B97F4A7C15UL) ^ ((ulong)epoch << 40) ^ (ulong)sample).Next();

    private struct SplitMix(ulong state)
    {
        private ulong _state = state;

        public ulong Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));
    }
}
