using EventSnn.Cli.Render;
using EventSnn.Events;
using EventSnn.IO;
using ScottPlot;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.PixelFormats;
using SkiaSharp;
using ImageSharpImage = SixLabors.ImageSharp.Image;

namespace EventSnn.Cli.Tests;

/// <summary>
/// `eventsnn render`: the GIF and the contact sheet are decoded and their pixels checked against
/// the events (ON and OFF in their colours at the events' sensor positions, square pixels, one
/// frame per window, a label on every frame); the audio raster marks spikes at their time and
/// channel; refusals leave nothing behind.
/// </summary>
public sealed class RenderTests : IDisposable
{
    // a 40 x 30 sensor; window k (10 ms from the first event) has 3 ON events at (2 + 7k, 3) and 2 OFF at (2 + 7k, 20)
    private const int Windows = 5, WindowUs = 10_000, SensorW = 40, SensorH = 30;

    private readonly string _dir = Directory.CreateTempSubdirectory("eventsnn-render-").FullName;

    public RenderTests()
    {
        Recording = Path.Combine(_dir, "moving.aedat4");
        using Aedat4Writer writer = Aedat4Writer.Create(Recording, new Aedat4WriterOptions { Geometry = new SensorGeometry(SensorW, SensorH) });
        for (int k = 0; k < Windows; k++)
        {
            long t = 100 + (k * WindowUs);
            writer.WriteEvent(new DvsEvent(t, (ushort)OnX(k), 3, true));
            writer.WriteEvent(new DvsEvent(t + 1, (ushort)OnX(k), 20, false));
            writer.WriteEvent(new DvsEvent(t + 2, (ushort)OnX(k), 3, true));
            writer.WriteEvent(new DvsEvent(t + 3, (ushort)OnX(k), 20, false));
            writer.WriteEvent(new DvsEvent(t + 4, (ushort)OnX(k), 3, true));
        }
    }

    private string Recording { get; }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Out(string name) => Path.Combine(_dir, name);

    private static int OnX(int k) => 2 + (7 * k);

    private void AssertFolderHolds(params string[] names) =>
        Assert.Equal(names.Append("moving.aedat4").Order(StringComparer.Ordinal), Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));

    private static (byte R, byte G, byte B) Rgb(SKColor c) => (c.Red, c.Green, c.Blue);

    [Fact]
    public void Gif_has_a_frame_per_window_with_on_and_off_where_the_events_are()
    {
        string gif = Out("moving.gif");
        (int code, string stdout, string err) = CliHarness.Run("render", Recording, "--out", gif, "--window-us", WindowUs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(code == 0, err);
        Assert.Contains("5 frames", stdout, StringComparison.Ordinal);

        using var image = ImageSharpImage.Load<Rgba32>(gif);
        const int scale = 480 / SensorW; // whole image pixels per sensor pixel: square pixels, the sensor's aspect
        Assert.Equal(Windows, image.Frames.Count);
        Assert.Equal((SensorW * scale) + 2, image.Width);
        Assert.Equal(FrameTile.LabelHeight + (SensorH * scale) + 2, image.Height);
        Assert.Equal(0, SixLabors.ImageSharp.MetadataExtensions.GetGifMetadata(image.Metadata).RepeatCount); // loops

        (byte, byte, byte) At(int frame, int x, int y)
        {
            Rgba32 p = image.Frames[frame][1 + (x * scale) + (scale / 2), FrameTile.LabelHeight + 1 + (y * scale) + (scale / 2)];
            return (p.R, p.G, p.B);
        }

        for (int k = 0; k < Windows; k++)
        {
            Assert.Equal(Rgb(FrameTile.On), At(k, OnX(k), 3));
            Assert.Equal(Rgb(FrameTile.Off), At(k, OnX(k), 20));
            Assert.Equal(Rgb(FrameTile.Background), At(k, OnX(k), 10));
            Assert.Equal(Rgb(FrameTile.Background), At(k, SensorW - 1, SensorH - 1));
            if (k + 1 < Windows)
            {
                Assert.Equal(Rgb(FrameTile.Background), At(k + 1, OnX(k), 3)); // each frame is its own window
            }

            Assert.Equal(2, SixLabors.ImageSharp.MetadataExtensions.GetGifMetadata(image.Frames[k].Metadata).FrameDelay); // 10 ms windows: GIF's 20 ms floor
        }

        // every frame carries its time stamp, and the stamps differ
        string Strip(int frame)
        {
            var text = new System.Text.StringBuilder();
            for (int y = 0; y < FrameTile.LabelHeight; y++)
            {
                for (int x = 0; x < image.Width; x++)
                {
                    Rgba32 p = image.Frames[frame][x, y];
                    text.Append(p.R == FrameTile.Ink.Red && p.G == FrameTile.Ink.Green ? '#' : '.');
                }
            }

            return text.ToString();
        }

        Assert.Contains('#', Strip(0));
        Assert.NotEqual(Strip(0), Strip(1));
        AssertFolderHolds("moving.gif");
    }

    [Fact]
    public void Contact_sheet_places_the_frames_in_a_grid_in_sensor_coordinates()
    {
        string png = Out("sheet.png");
        (int code, _, string err) = CliHarness.Run("render", Recording, "--out", png, "--window-us", "10000", "--columns", "2");
        Assert.True(code == 0, err);

        using SKBitmap sheet = SKBitmap.Decode(png);
        const int scale = 256 / SensorW;
        var tile = new FrameTile(SensorW, SensorH, scale);
        (long width, long height) = ContactSheet.SizeOf(tile, Windows, 2);
        Assert.Equal(width, sheet.Width);
        Assert.Equal(height, sheet.Height);
        Assert.Equal(ContactSheet.HeaderHeight + (3 * (tile.Height + ContactSheet.Gap)), sheet.Height); // 5 frames in 2 columns: 3 rows

        (byte, byte, byte) At(int frame, int x, int y)
        {
            int left = ContactSheet.Gap + ((frame % 2) * (tile.Width + ContactSheet.Gap));
            int top = ContactSheet.HeaderHeight + ((frame / 2) * (tile.Height + ContactSheet.Gap));
            return Rgb(sheet.GetPixel(left + 1 + (x * scale) + (scale / 2), top + FrameTile.LabelHeight + 1 + (y * scale) + (scale / 2)));
        }

        for (int k = 0; k < Windows; k++)
        {
            Assert.Equal(Rgb(FrameTile.On), At(k, OnX(k), 3));
            Assert.Equal(Rgb(FrameTile.Off), At(k, OnX(k), 20));
            Assert.Equal(Rgb(FrameTile.Background), At(k, (OnX(k) + 3) % SensorW, 3));
        }
    }

    [Fact]
    public void Max_frames_cuts_the_rendering_and_says_so()
    {
        (int code, string stdout, string err) = CliHarness.Run("render", Recording, "--out", Out("two.gif"), "--window-us", "10000", "--max-frames", "2");
        Assert.True(code == 0, err);
        Assert.Contains("2 frames", stdout, StringComparison.Ordinal);
        Assert.Contains("the first 2 of 5 frames", err, StringComparison.Ordinal);
        using var image = ImageSharpImage.Load<Rgba32>(Out("two.gif"));
        Assert.Equal(2, image.Frames.Count);
    }

    [Fact]
    public void Event_frames_cut_windows_from_the_first_event_and_skip_what_is_off_the_sensor()
    {
        var frames = new List<(int Index, long Start, long Events, int On, int Off)>();
        var cutter = new EventFrames(new SensorGeometry(4, 4), pooling: 2, startUs: 1000, windowUs: 100, maxFrames: 10, f => frames.Add((f.Index, f.StartUs, f.Events, f.On.Sum(), f.Off.Sum())));
        using var batch = new EventBatch();
        batch.Add(1000, 0, 0, true);
        batch.Add(1050, 3, 3, false);
        batch.Add(1060, 9, 0, true); // off the sensor
        batch.Add(1350, 1, 1, true); // after two empty windows
        cutter.Add(batch);
        cutter.Finish(EventFrames.FramesFor(1000, 1350, 100));
        Assert.Equal([(0, 1000L, 2L, 1, 1), (1, 1100L, 0L, 0, 0), (2, 1200L, 0L, 0, 0), (3, 1300L, 1L, 1, 0)], frames);
        Assert.Equal(2, cutter.CellsW);
        Assert.Equal(4, EventFrames.FramesFor(1000, 1350, 100));
    }

    [Fact]
    public void Audio_spikes_render_as_a_raster_with_time_across_and_channels_up()
    {
        string nas = Out("tone_mono_16ch_addr2b_ts1.aedat");
        using (var writer = new NasWriter(nas, channels: 16, stereo: false, addressBytes: 2, tickNanoseconds: 1000))
        {
            for (long t = 0; t <= 100_000; t += 1_000)
            {
                writer.Write(t, 3, 0, on: true);
            }

            for (long t = 500_000; t <= 510_000; t += 1_000)
            {
                writer.Write(t, 12, 0, on: false);
            }
        }

        string png = Out("tone.png");
        (int code, string stdout, string err) = CliHarness.Run("render", nas, "--out", png, "--nas-channels", "16");
        Assert.True(code == 0, err);
        Assert.Contains("raster of 112 spikes, 16 channels", stdout, StringComparison.Ordinal);
        using (SKBitmap decoded = SKBitmap.Decode(png))
        {
            Assert.Equal(SpikeRaster.ImageSize(16), (decoded.Width, decoded.Height));
        }

        // the same raster drawn in-process, read at the plot's coordinates: marks where the spikes are, nothing elsewhere
        var raster = new SpikeRaster(16, 0, 510_001, bins: 1000);
        using (var batch = new SpikeBatch())
        using (ISpikeReader reader = (ISpikeReader)EventReaders.Open(nas, new ReaderOptions { NasChannels = 16 }))
        {
            while (reader.Read(batch))
            {
                raster.Add(batch, 16);
            }
        }

        Assert.Equal(112, raster.Spikes);
        var plot = new Plot();
        raster.Draw(plot, "tone", "channel");
        (int w, int h) = SpikeRaster.ImageSize(16);
        using SKBitmap bitmap = SKBitmap.Decode(plot.GetImageBytes(w, h, ImageFormat.Png));

        // the darkest pixel within 3 pixels across of a time on a channel's row (a single spike is a 40 % grey mark one bin wide)
        byte Darkest(double seconds, double channel)
        {
            Pixel p = plot.GetPixel(new Coordinates(seconds, channel));
            byte darkest = 255;
            for (int dx = -3; dx <= 3; dx++)
            {
                darkest = Math.Min(darkest, bitmap.GetPixel((int)p.X + dx, (int)p.Y).Red);
            }

            return darkest;
        }

        Assert.True(Darkest(0.05, 3.5) < 200, "channel 3 spikes during the first 0.1 s");
        Assert.True(Darkest(0.505, 12.5) < 200, "channel 12 spikes at 0.5 s");
        Assert.True(Darkest(0.3, 3.5) > 240, "channel 3 is silent at 0.3 s");
        Assert.True(Darkest(0.05, 12.5) > 240, "channel 12 is silent at first");
        Assert.True(Darkest(0.505, 7.5) > 240, "channel 7 never spikes");
        Assert.True(plot.GetPixel(new Coordinates(0.1, 12.5)).Y < plot.GetPixel(new Coordinates(0.1, 3.5)).Y, "higher channels are drawn higher");

        // a raster is a PNG
        (code, _, err) = CliHarness.Run("render", nas, "--out", Out("tone.gif"));
        Assert.Equal(2, code);
        Assert.Contains("raster", err, StringComparison.Ordinal);
        Assert.False(File.Exists(Out("tone.gif")));
    }

    [Theory]
    [InlineData("--out", "x.jpg", "--out x.jpg")]
    [InlineData("--window-us", "1000", "--out is required")]
    [InlineData("--out", "x.png", "--sample")]
    public void Usage_errors_name_the_option_and_write_nothing(string option, string value, string named)
    {
        string[] args = named == "--sample" ? ["render", Recording, option, Out(value), "--sample", "1"] : ["render", Recording, option, value.Contains('.', StringComparison.Ordinal) ? Out(value) : value];
        (int code, _, string err) = CliHarness.Run(args);
        Assert.Equal(2, code);
        Assert.Contains(named.Replace("x.jpg", Out("x.jpg"), StringComparison.Ordinal), err, StringComparison.Ordinal);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        AssertFolderHolds();
    }

    [Fact]
    public void An_existing_picture_is_replaced_only_with_force_and_bad_input_leaves_nothing()
    {
        string png = Out("sheet.png");
        File.WriteAllText(png, "precious");
        (int code, _, string err) = CliHarness.Run("render", Recording, "--out", png);
        Assert.Equal(2, code);
        Assert.Contains("--force", err, StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(png));
        Assert.Equal(0, CliHarness.Run("render", Recording, "--out", png, "--force").Code);
        using (SKBitmap decoded = SKBitmap.Decode(png))
        {
            Assert.NotNull(decoded);
        }

        string garbage = Out("garbage.aedat4");
        File.WriteAllBytes(garbage, [.. File.ReadAllBytes(Recording).Take(200)]);
        (code, _, err) = CliHarness.Run("render", garbage, "--out", Out("garbage.gif"), "--strict");
        Assert.Equal(2, code);
        Assert.Contains(garbage, err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
        AssertFolderHolds("sheet.png", "garbage.aedat4");
    }
}
