using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing.Processors.Quantization;
using SkiaSharp;

namespace EventSnn.Cli.Render;

/// <summary>
/// An animated GIF of equally sized frames (ImageSharp): one global colour table made of
/// <see cref="FrameTile.Palette"/> (no dithering, so ON and OFF keep their exact colours), every
/// frame shown for the same delay, looping forever. The frames are kept until <see cref="Save"/>
/// (the caller bounds their number).
/// </summary>
internal sealed class GifAnimation : IDisposable
{
    private readonly int _delayCs;
    private Image<Rgba32>? _image;

    /// <param name="width">Frame width in pixels.</param>
    /// <param name="height">Frame height in pixels.</param>
    /// <param name="delayCentiseconds">How long each frame shows, in 1/100 s.</param>
    public GifAnimation(int width, int height, int delayCentiseconds)
    {
        Width = width;
        Height = height;
        _delayCs = delayCentiseconds;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Frames added so far.</summary>
    public int Frames => _image?.Frames.Count ?? 0;

    /// <summary>Appends a copy of <paramref name="bitmap"/> (RGBA 8888, <see cref="Width"/> x <see cref="Height"/>).</summary>
    public void Add(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        if (bitmap.Width != Width || bitmap.Height != Height || bitmap.ColorType != SKColorType.Rgba8888)
        {
            throw new ArgumentException($"frames are {Width} x {Height} RGBA", nameof(bitmap));
        }

        ReadOnlySpan<Rgba32> pixels = MemoryMarshal.Cast<byte, Rgba32>(bitmap.GetPixelSpan());
        ImageFrame<Rgba32> frame;
        if (_image is null)
        {
            _image = Image.LoadPixelData(pixels, Width, Height);
            frame = _image.Frames.RootFrame;
        }
        else
        {
            frame = _image.Frames.AddFrame(pixels);
        }

        GifFrameMetadata meta = frame.Metadata.GetGifMetadata();
        meta.FrameDelay = _delayCs;
        meta.DisposalMethod = GifDisposalMethod.RestoreToBackground;
    }

    /// <summary>Encodes the animation to <paramref name="stream"/>.</summary>
    public void Save(Stream stream)
    {
        Image<Rgba32> image = _image ?? throw new InvalidOperationException("no frame was added");
        image.Metadata.GetGifMetadata().RepeatCount = 0;
        var palette = new Color[FrameTile.Palette.Length];
        for (int i = 0; i < palette.Length; i++)
        {
            SKColor c = FrameTile.Palette[i];
            palette[i] = Color.FromRgb(c.Red, c.Green, c.Blue);
        }

        var encoder = new GifEncoder
        {
            ColorTableMode = GifColorTableMode.Global,
            Quantizer = new PaletteQuantizer(palette, new QuantizerOptions { Dither = null }),
        };
        image.SaveAsGif(stream, encoder);
    }

    public void Dispose() => _image?.Dispose();
}
