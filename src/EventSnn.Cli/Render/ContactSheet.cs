using SkiaSharp;

namespace EventSnn.Cli.Render;

/// <summary>
/// A contact sheet of event frames as one PNG (SkiaSharp): a header with the title, a line of
/// details and the ON/OFF legend, then the frames as <see cref="FrameTile"/>s in a grid of
/// <see cref="Columns"/> columns, left to right and top to bottom in time order, each labelled
/// with its window.
/// </summary>
internal sealed class ContactSheet : IDisposable
{
    /// <summary>Height of the header in pixels.</summary>
    public const int HeaderHeight = 44;

    /// <summary>Space around the grid and between tiles.</summary>
    public const int Gap = 8;

    /// <summary>Largest width or height of a sheet in pixels.</summary>
    public const int MaxSide = 16_384;

    private readonly SKBitmap _bitmap;
    private readonly SKCanvas _canvas;
    private readonly SKFont _font;

    public ContactSheet(FrameTile tile, int frames, int columns, string title, string details)
    {
        ArgumentNullException.ThrowIfNull(tile);
        ArgumentOutOfRangeException.ThrowIfLessThan(frames, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        Tile = tile;
        Columns = Math.Min(columns, frames);
        Rows = (frames + Columns - 1) / Columns;
        Width = Math.Max(Gap + (Columns * (tile.Width + Gap)), 360);
        Height = HeaderHeight + (Rows * (tile.Height + Gap));
        _bitmap = FrameTile.NewBitmap(Width, Height);
        _canvas = new SKCanvas(_bitmap);
        _canvas.Clear(FrameTile.Background);
        _font = FrameTile.NewFont();
        DrawHeader(title, details);
    }

    public FrameTile Tile { get; }

    public int Columns { get; }

    public int Rows { get; }

    public int Width { get; }

    public int Height { get; }

    /// <summary>The size a sheet of <paramref name="frames"/> tiles in <paramref name="columns"/> columns takes.</summary>
    public static (long Width, long Height) SizeOf(FrameTile tile, int frames, int columns)
    {
        ArgumentNullException.ThrowIfNull(tile);
        int c = Math.Min(columns, frames);
        long rows = (frames + c - 1) / c;
        return (Math.Max(Gap + ((long)c * (tile.Width + Gap)), 360), HeaderHeight + (rows * (tile.Height + Gap)));
    }

    /// <summary>Top-left corner of tile <paramref name="index"/>.</summary>
    public (int X, int Y) TileOrigin(int index) =>
        (Gap + ((index % Columns) * (Tile.Width + Gap)), HeaderHeight + ((index / Columns) * (Tile.Height + Gap)));

    /// <summary>Draws <paramref name="frame"/> into its place.</summary>
    public void Add(Frame frame, string label)
    {
        (int x, int y) = TileOrigin(frame.Index);
        Tile.Draw(_bitmap, _canvas, x, y, frame, label, _font);
    }

    /// <summary>The sheet as PNG bytes.</summary>
    public byte[] EncodePng()
    {
        _canvas.Flush();
        using SKImage image = SKImage.FromBitmap(_bitmap);
        using SKData data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public void Dispose()
    {
        _font.Dispose();
        _canvas.Dispose();
        _bitmap.Dispose();
    }

    private void DrawHeader(string title, string details)
    {
        using var ink = new SKPaint { Color = FrameTile.Ink, IsAntialias = false };
        using var bold = new SKFont(SKTypeface.Default, 14) { Edging = SKFontEdging.Alias, Embolden = true };
        _canvas.DrawText(title, Gap, 17, SKTextAlign.Left, bold, ink);
        _canvas.DrawText(details, Gap, 35, SKTextAlign.Left, _font, ink);

        // legend at the right end of the title line
        float x = Width - Gap - 110;
        foreach ((SKColor colour, string name) in new[] { (FrameTile.On, "ON"), (FrameTile.Off, "OFF") })
        {
            using var fill = new SKPaint { Color = colour, IsAntialias = false };
            _canvas.DrawRect(x, 6, 12, 12, fill);
            _canvas.DrawText(name, x + 16, 17, SKTextAlign.Left, _font, ink);
            x += 55;
        }
    }
}
