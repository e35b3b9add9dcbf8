using EventSnn.Cli.Run;
using ScottPlot;
using SkiaSharp;

namespace EventSnn.Cli.Tests;

/// <summary>Event-frame plots: sensor coordinates (x right, y down), square pixels, ON and OFF in two colours.</summary>
public class FramePlotTests
{
    [Fact]
    public void Frame_is_drawn_in_sensor_coordinates_with_square_pixels_and_on_off_colours()
    {
        // a 4 x 3 cell frame, 2 x 2 pooling (an 8 x 6 sensor): ON events in the top-right cell, OFF in the bottom-left
        const int w = 4, h = 3, pooling = 2;
        float[] off = new float[w * h], on = new float[w * h];
        on[(0 * w) + 3] = 9;
        off[(2 * w) + 0] = 9;
        var plot = new Plot();
        FramePlot.Draw(plot, off, on, split: true, w, h, pooling);
        byte[] png = plot.GetImageBytes(700, 500, ImageFormat.Png);
        using SKBitmap bitmap = SKBitmap.Decode(png);
        Assert.Equal(700, bitmap.Width);

        SKColor At(double x, double y)
        {
            Pixel p = plot.GetPixel(new Coordinates(x, y));
            return bitmap.GetPixel((int)p.X, (int)p.Y);
        }

        // sensor (7, 1) is in the ON cell, (1, 5) in the OFF cell, (3, 3) in an empty one
        SKColor onPixel = At(7, 1), offPixel = At(1, 5), empty = At(3, 3);
        Assert.True(onPixel.Red > 150 && onPixel.Blue < 100, $"ON cell is {onPixel}");
        Assert.True(offPixel.Blue > 150 && offPixel.Red < 100, $"OFF cell is {offPixel}");
        Assert.True(empty.Red > 240 && empty.Green > 240 && empty.Blue > 240, $"empty cell is {empty}");

        // y grows downwards on the image (row 0 is the sensor's top row), x to the right
        Pixel top = plot.GetPixel(new Coordinates(0, 0)), bottom = plot.GetPixel(new Coordinates(0, 6)), right = plot.GetPixel(new Coordinates(8, 0));
        Assert.True(bottom.Y > top.Y);
        Assert.True(right.X > top.X);

        // square pixels: a sensor pixel is as wide as it is high on the image
        double pxPerX = (right.X - top.X) / 8.0, pxPerY = (bottom.Y - top.Y) / 6.0;
        Assert.Equal(1.0, pxPerX / pxPerY, 2);

        // a legend names the two colours
        Assert.Equal(["ON events", "OFF events"], plot.Legend.ManualItems.Select(i => i.LabelText));
        Assert.Equal([FramePlot.OnColor, FramePlot.OffColor], plot.Legend.ManualItems.Select(i => i.FillColor));
    }
}
