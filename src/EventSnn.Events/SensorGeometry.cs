namespace EventSnn.Events;

/// <summary>
/// Pixel array size of a vision sensor. <see cref="Unknown"/> (0 x 0) when a format does
/// not declare it; readers then report the geometry implied by the largest address seen.
/// </summary>
public readonly record struct SensorGeometry(int Width, int Height)
{
    /// <summary>Geometry not declared by the source.</summary>
    public static SensorGeometry Unknown => default;

    /// <summary>iniVation DVS128.</summary>
    public static SensorGeometry Dvs128 => new(128, 128);

    /// <summary>iniVation DAVIS240 (A/B/C).</summary>
    public static SensorGeometry Davis240 => new(240, 180);

    /// <summary>iniVation DAVIS346.</summary>
    public static SensorGeometry Davis346 => new(346, 260);

    /// <summary>iniVation DVXplorer.</summary>
    public static SensorGeometry DvXplorer => new(640, 480);

    /// <summary>N-MNIST (ATIS crop).</summary>
    public static SensorGeometry NMnist => new(34, 34);

    /// <summary>True when both dimensions are known.</summary>
    public bool IsKnown => Width > 0 && Height > 0;

    /// <summary>Number of pixels (0 when unknown).</summary>
    public int PixelCount => Width * Height;

    /// <summary>True when (x, y) lies on the pixel array.</summary>
    public bool Contains(int x, int y) => (uint)x < (uint)Width && (uint)y < (uint)Height;

    /// <inheritdoc />
    public override string ToString() => IsKnown ? $"{Width}x{Height}" : "unknown";

    /// <summary>Parses "WxH" (as <see cref="ToString"/> writes it; 'X' too), both sizes 1..65535.</summary>
    public static bool TryParse(string? text, out SensorGeometry geometry)
    {
        geometry = Unknown;
        string[] parts = text?.Split('x', 'X') ?? [];
        if (parts.Length == 2
            && int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int w)
            && int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int h)
            && w is > 0 and <= 65535 && h is > 0 and <= 65535)
        {
            geometry = new SensorGeometry(w, h);
            return true;
        }

        return false;
    }
}
