using System.Globalization;
using EventSnn.Snn.Classification;
using ScottPlot;

namespace EventSnn.Cli.Commands;

/// <summary>
/// The confusion matrix of an evaluation as a PNG: true class down, predicted class across, both
/// labelled with the class names, the share of each true class as colour (with a colour bar) and
/// the count written in every non-empty cell. Written atomically (temporary file + rename).
/// </summary>
internal static class ConfusionPlot
{
    /// <summary>Checks the target before any work: a .png name in an existing folder, not replaced without --force.</summary>
    /// <returns>The full path.</returns>
    public static string CheckTarget(string path, string option, bool force)
    {
        if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
        {
            throw new UsageException($"option {option} {path}: the plot is a PNG; give a file name ending in .png");
        }

        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(folder))
        {
            throw new UsageException($"option {option} {path}: folder {folder} does not exist");
        }

        if (Directory.Exists(full))
        {
            throw new UsageException($"option {option} {path}: is a folder");
        }

        if (File.Exists(full) && !force)
        {
            throw new UsageException($"option {option} {path}: file exists; --force replaces it");
        }

        return full;
    }

    /// <summary>Renders the matrix and writes it to <paramref name="path"/> (temporary file, then rename).</summary>
    public static void Write(string path, EvaluationResult r, IReadOnlyList<string> names, string subtitle, bool force)
    {
        byte[] png = Render(r, names, subtitle);
        using var output = new OutputFile(path, force);
        using (SizeGuardStream s = output.OpenStream(long.MaxValue))
        {
            s.Write(png);
        }

        output.Commit();
    }

    /// <summary>The PNG bytes.</summary>
    public static byte[] Render(EvaluationResult r, IReadOnlyList<string> names, string subtitle)
    {
        int c = r.Classes;
        double[,] share = new double[c, c];
        for (int y = 0; y < c; y++)
        {
            int support = r.Support(y);
            for (int p = 0; p < c; p++)
            {
                share[y, p] = support == 0 ? double.NaN : r.Confusion[(y * c) + p] / (double)support;
            }
        }

        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(share);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        heatmap.Rectangle = new CoordinateRect(0, c, 0, c); // row 0 (the first true class) at the top
        plot.Add.ColorBar(heatmap);

        double[] ticks = new double[c];
        string[] labels = new string[c];
        string[] rowLabels = new string[c];
        for (int k = 0; k < c; k++)
        {
            ticks[k] = k + 0.5;
            labels[k] = names[k];
            rowLabels[c - 1 - k] = names[k];
        }

        plot.Axes.Bottom.SetTicks(ticks, labels);
        plot.Axes.Left.SetTicks(ticks, rowLabels);
        if (c > 8)
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = -45;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
            plot.Axes.Bottom.MinimumSize = 40 + (7 * names.Max(n => Math.Min(n.Length, 16)));
        }

        if (c <= 30)
        {
            for (int y = 0; y < c; y++)
            {
                for (int p = 0; p < c; p++)
                {
                    int n = r.Confusion[(y * c) + p];
                    if (n == 0)
                    {
                        continue;
                    }

                    var text = plot.Add.Text(n.ToString(CultureInfo.InvariantCulture), p + 0.5, c - y - 0.5);
                    text.LabelAlignment = Alignment.MiddleCenter;
                    text.LabelFontSize = c <= 12 ? 14 : 9;
                    text.LabelFontColor = share[y, p] > 0.6 ? Colors.Black : Colors.White;
                }
            }
        }

        plot.Title(string.Create(CultureInfo.InvariantCulture, $"accuracy {r.Accuracy:P1} of {r.Samples} samples: {subtitle}"), size: 13);
        plot.XLabel("predicted class (colour: share of the true class)");
        plot.YLabel("true class");
        plot.Axes.SetLimits(0, c, 0, c);
        plot.HideGrid();

        // the data area is about square: the left labels and the colour bar take the extra width
        int size = Math.Clamp(300 + (c * 40), 600, 1400);
        int width = size + 100 + (7 * names.Max(n => Math.Min(n.Length, 16)));
        return plot.GetImageBytes(width, size, ImageFormat.Png);
    }
}
