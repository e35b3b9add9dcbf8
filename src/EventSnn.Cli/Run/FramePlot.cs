using System.Globalization;
using ScottPlot;

namespace EventSnn.Cli.Run;

/// <summary>
/// One DVS event frame as a ScottPlot plot in sensor coordinates: x to the right, y down (origin
/// top-left, as the sensor and every reader of this library), one square per (pooled) cell, axis
/// scale locked 1:1 so pixels stay square. Split polarities are drawn in two colours, ON red and OFF
/// blue (the colour is ln(1 + ON) - ln(1 + OFF) of the cell, white where nothing happened or both
/// cancel), with a legend and a colour bar; a merged plane is drawn as one intensity with a colour bar.
/// </summary>
internal static class FramePlot
{
    /// <summary>Colour of ON events.</summary>
    public static readonly Color OnColor = Color.FromHex("#C0392B");

    /// <summary>Colour of OFF events.</summary>
    public static readonly Color OffColor = Color.FromHex("#2266BB");

    /// <summary>
    /// Draws a frame into <paramref name="plot"/>. <paramref name="off"/> and <paramref name="on"/> are
    /// cell counts (row-major, <paramref name="cellsW"/> x <paramref name="cellsH"/>); <paramref name="on"/>
    /// null means one merged plane in <paramref name="off"/>. A cell covers
    /// <paramref name="pooling"/> x <paramref name="pooling"/> sensor pixels.
    /// </summary>
    /// <returns>The heatmap (its cells cover the sensor rectangle).</returns>
    public static ScottPlot.Plottables.Heatmap Draw(Plot plot, ReadOnlySpan<float> off, ReadOnlySpan<float> on, bool split, int cellsW, int cellsH, int pooling, bool colourBar = true, bool legend = true)
    {
        ArgumentNullException.ThrowIfNull(plot);
        double[,] values = new double[cellsH, cellsW];
        double max = 0;
        for (int y = 0; y < cellsH; y++)
        {
            for (int x = 0; x < cellsW; x++)
            {
                int i = (y * cellsW) + x;
                double v = split ? Math.Log(1 + on[i]) - Math.Log(1 + off[i]) : Math.Log(1 + off[i]);
                values[y, x] = v;
                max = Math.Max(max, Math.Abs(v));
            }
        }

        max = max > 0 ? max : 1;
        var heatmap = plot.Add.Heatmap(values);
        if (split)
        {
            heatmap.Colormap = new ScottPlot.Colormaps.CustomInterpolated([OffColor, Colors.White, OnColor]);
            heatmap.ManualRange = new ScottPlot.Range(-max, max);
        }
        else
        {
            heatmap.Colormap = new ScottPlot.Colormaps.CustomInterpolated([Colors.White, Color.FromHex("#333333")]);
            heatmap.ManualRange = new ScottPlot.Range(0, max);
        }

        // row 0 of the array is the sensor's top row (y = 0); the y axis grows downwards
        double width = (double)cellsW * pooling, height = (double)cellsH * pooling;
        heatmap.Rectangle = new CoordinateRect(0, width, 0, height);
        plot.Axes.SetLimits(0, width, height, 0);
        plot.Axes.SquareUnits();
        plot.HideGrid();
        plot.XLabel("x (sensor pixels)");
        plot.YLabel("y (sensor pixels, down)");
        if (colourBar)
        {
            var bar = plot.Add.ColorBar(heatmap);
            bar.Label = split ? "ln(1+ON) - ln(1+OFF) per cell" : "ln(1 + events) per cell";
        }

        if (legend && split)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = "ON events", FillColor = OnColor, LineWidth = 0 });
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = "OFF events", FillColor = OffColor, LineWidth = 0 });
            plot.ShowLegend(Edge.Bottom); // outside the frame: it never hides events
        }

        return heatmap;
    }

    /// <summary>A plot title line: pooling and sensor size.</summary>
    public static string Describe(int cellsW, int cellsH, int pooling) =>
        pooling > 1
            ? string.Create(CultureInfo.InvariantCulture, $"{cellsW * pooling} x {cellsH * pooling} sensor, {pooling} x {pooling} pooled")
            : string.Create(CultureInfo.InvariantCulture, $"{cellsW} x {cellsH} sensor");
}
