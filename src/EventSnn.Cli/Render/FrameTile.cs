using System.Globalization;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace EventSnn.Cli.Render;

/// <summary>
/// How one event frame is drawn (SkiaSharp): a label strip on top with the window's time, then
/// a 1-pixel border around the frame, in which every cell is <see cref="Scale"/> x Scale square
/// image pixels at its sensor position (x to the right, y down, origin top-left, as the sensor
/// numbers its pixels; square pixels keep the aspect ratio). A cell with more ON than OFF events
/// is <see cref="On"/>, one with more OFF events <see cref="Off"/> (a tie shows ON), an empty cell
/// <see cref="Background"/>. Text is drawn without anti-aliasing so the tile has only the colours
/// of <see cref="Palette"/>.
/// </summary>
internal sealed class FrameTile
{
    /// <summary>ON events (as the frame plots of `run`).</summary>
    public static readonly SKColor On = new(0xC0, 0x39, 0x2B);

    /// <summary>OFF events.</summary>
    public static readonly SKColor Off = new(0x22, 0x66, 0xBB);

    /// <summary>Cells without events.</summary>
    public static readonly SKColor Background = SKColors.White;

    /// <summary>The label strip.</summary>
    public static readonly SKColor Strip = new(0xEE, 0xEE, 0xEE);

    /// <summary>Text.</summary>
    public static readonly SKColor Ink = new(0x22, 0x22, 0x22);

    /// <summary>The frame's border.</summary>
    public static readonly SKColor Border = new(0x99, 0x99, 0x99);

    /// <summary>Every colour a tile or a contact sheet uses (the GIF's palette).</summary>
    public static readonly SKColor[] Palette = [Background, On, Off, Strip, Ink, Border];

    /// <summary>Height of the label strip in image pixels.</summary>
    public const int LabelHeight = 18;

    public FrameTile(int cellsW, int cellsH, int scale)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        CellsW = cellsW;
        CellsH = cellsH;
        Scale = scale;
    }

    public int CellsW { get; }

    public int CellsH { get; }

    /// <summary>Image pixels per cell side.</summary>
    public int Scale { get; }

    /// <summary>Tile width: the frame and its border.</summary>
    public int Width => (CellsW * Scale) + 2;

    /// <summary>Tile height: label strip, frame and border.</summary>
    public int Height => LabelHeight + (CellsH * Scale) + 2;

    /// <summary>Where cell (0, 0) starts inside the tile.</summary>
    public static (int X, int Y) FrameOrigin => (1, LabelHeight + 1);

    /// <summary>A time in seconds from the recording's start, as the labels write it.</summary>
    public static string Seconds(long us) => (us / 1e6).ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>The label of a frame: its window in seconds from the recording's start.</summary>
    public static string Label(Frame frame, long originUs) =>
        $"{Seconds(frame.StartUs - originUs)}-{Seconds(frame.EndUs - originUs)} s";

    /// <summary>Draws <paramref name="frame"/> with its label at (<paramref name="left"/>, <paramref name="top"/>) of <paramref name="bitmap"/> (RGBA 8888).</summary>
    public void Draw(SKBitmap bitmap, SKCanvas canvas, int left, int top, Frame frame, string label, SKFont font)
    {
        using (var strip = new SKPaint { Color = Strip, IsAntialias = false })
        {
            canvas.DrawRect(left, top, Width, LabelHeight, strip);
        }

        using (var border = new SKPaint { Color = Border, IsAntialias = false })
        {
            canvas.DrawRect(left, top + LabelHeight, Width, Height - LabelHeight, border);
        }

        using (var ink = new SKPaint { Color = Ink, IsAntialias = false })
        {
            canvas.DrawText(label, left + 3, top + LabelHeight - 5, SKTextAlign.Left, font, ink);
        }

        canvas.Flush();
        Span<uint> pixels = MemoryMarshal.Cast<byte, uint>(bitmap.GetPixelSpan());
        int stride = bitmap.Width;
        uint on = Rgba(On), off = Rgba(Off), background = Rgba(Background);
        int x0 = left + FrameOrigin.X, y0 = top + FrameOrigin.Y, scale = Scale;
        for (int cy = 0; cy < CellsH; cy++)
        {
            for (int cx = 0; cx < CellsW; cx++)
            {
                int cell = (cy * CellsW) + cx;
                int nOn = frame.On[cell], nOff = frame.Off[cell];
                uint colour = nOn == 0 && nOff == 0 ? background : nOn >= nOff ? on : off;
                for (int dy = 0; dy < scale; dy++)
                {
                    pixels.Slice(((y0 + (cy * scale) + dy) * stride) + x0 + (cx * scale), scale).Fill(colour);
                }
            }
        }

        bitmap.NotifyPixelsChanged();
    }

    /// <summary>A new RGBA 8888 bitmap.</summary>
    public static SKBitmap NewBitmap(int width, int height) =>
        new(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));

    /// <summary>The label font (the default typeface; no text appears where the machine has no fonts).</summary>
    public static SKFont NewFont() => new(SKTypeface.Default, 12) { Edging = SKFontEdging.Alias };

    /// <summary>An opaque colour as an RGBA 8888 pixel read as a little-endian uint.</summary>
    public static uint Rgba(SKColor c) => (uint)(c.Red | (c.Green << 8) | (c.Blue << 16) | (0xFF << 24));
}
