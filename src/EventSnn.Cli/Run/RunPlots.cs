using System.Globalization;
using EventSnn.Snn.Classification;
using ScottPlot;

namespace EventSnn.Cli.Run;

/// <summary>PNG plots of the main job: accuracy over time and event frames with their decisions.</summary>
internal static class RunPlots
{
    /// <summary>Rolling accuracy of every stream over its decisions, with chance levels and the start of the held-out replay.</summary>
    public static string Accuracy(string folder, IReadOnlyList<StreamRunner> streams)
    {
        var plot = new Plot();
        Color[] palette = [Colors.C0, Colors.C1, Colors.C2, Colors.C3];
        int colour = 0;
        foreach (StreamRunner s in streams)
        {
            List<StreamDecision> d = s.Decisions;
            if (d.Count == 0)
            {
                continue;
            }

            int window = Math.Max(10, d.Count / 15);
            var xs = new List<double>();
            var ys = new List<double>();
            int correct = 0;
            for (int i = 0; i < d.Count; i++)
            {
                correct += d[i].Correct ? 1 : 0;
                if (i >= window)
                {
                    correct -= d[i - window].Correct ? 1 : 0;
                }

                if (i >= window - 1)
                {
                    xs.Add(i + 1);
                    ys.Add(correct / (double)window);
                }
            }

            Color c = palette[colour++ % palette.Length];
            if (xs.Count > 0)
            {
                var line = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray());
                line.Color = c;
                line.LineWidth = 2;
                line.LegendText = string.Create(CultureInfo.InvariantCulture, $"{s.Name} (rolling {window})");
            }

            var chance = plot.Add.HorizontalLine(1.0 / s.Classes);
            chance.Color = c.WithAlpha(0.6);
            chance.LinePattern = LinePattern.Dashed;
            chance.LegendText = $"{s.Name} chance";
            int testStart = d.FindIndex(r => r.Phase == "test");
            if (testStart >= 0)
            {
                var v = plot.Add.VerticalLine(testStart + 1);
                v.Color = c.WithAlpha(0.4);
                v.LinePattern = LinePattern.Dotted;
                v.LegendText = $"{s.Name} held-out starts";
            }
        }

        plot.Title("Online learning: accuracy of each decision made before learning on the sample");
        plot.XLabel("decision number (all passes, in order; not a time axis)");
        plot.YLabel("accuracy");
        plot.Axes.SetLimitsY(0, 1.05);
        plot.ShowLegend(Alignment.UpperLeft);
        string path = Path.Combine(folder, "accuracy.png");
        plot.SavePng(path, 1200, 600);
        return path;
    }

    /// <summary>
    /// The last held-out samples of a stream, one panel each with its decision: DVS samples as the
    /// event frame of the whole sample in sensor coordinates (<see cref="FramePlot"/>), audio samples
    /// as a spike raster over time in seconds.
    /// </summary>
    public static string? Frames(string folder, StreamRunner stream)
    {
        SampleSnapshot[] samples = [.. stream.Snapshots];
        if (samples.Length == 0)
        {
            return null;
        }

        bool audio = samples[0].Raster is not null;
        var plots = new List<Plot>();
        for (int k = 0; k < samples.Length; k++)
        {
            SampleSnapshot s = samples[k];
            var plot = new Plot();
            if (audio)
            {
                Raster(plot, s, stream.Preprocessing.Binning == EventSnn.Transforms.BinningKind.Time ? stream.Preprocessing.BinUs : null, colourBar: true);
            }
            else
            {
                int plane = s.Layout.PlaneSize;
                bool split = s.Layout.Channels == 2;
                FramePlot.Draw(
                    plot,
                    s.Sum.AsSpan(0, plane),
                    split ? s.Sum.AsSpan(plane, plane) : default,
                    split,
                    s.Layout.Width,
                    s.Layout.Height,
                    Math.Max(1, stream.Preprocessing.Pooling),
                    colourBar: true, // every panel has its own scale
                    legend: k == 0);
            }

            StreamDecision d = s.Decision;
            plot.Title(string.Create(CultureInfo.InvariantCulture, $"{d.Label} ({d.Confidence:P0}) {(d.Correct ? "right" : "wrong")}\ntruth {d.Truth}"), size: 13);
            plot.Axes.Title.Label.ForeColor = d.Correct ? Colors.DarkGreen : Colors.DarkRed;
            plots.Add(plot);
        }

        var multi = new Multiplot(plots[0]);
        foreach (Plot plot in plots.Skip(1))
        {
            multi.AddPlot(plot);
        }

        multi.Layout = new ScottPlot.MultiplotLayouts.Columns();
        string path = Path.Combine(folder, $"frames-{stream.Name}.png");
        multi.SavePng(path, Math.Min(4000, Math.Max(1000, samples.Length * 470)), 460);
        return path;
    }

    /// <summary>A spike raster: time in seconds across, channel groups up, ln(1 + spikes) as colour.</summary>
    private static void Raster(Plot plot, SampleSnapshot s, long? binUs, bool colourBar)
    {
        int channels = s.Sum.Length;
        const int groups = 70;
        int group = (channels + groups - 1) / groups;
        int rows = (channels + group - 1) / group;
        float[] raster = s.Raster!;
        int steps = raster.Length / channels;
        double[,] image = new double[rows, Math.Max(1, steps)];
        for (int t = 0; t < steps; t++)
        {
            for (int g = 0; g < rows; g++)
            {
                double v = 0;
                for (int ch = g * group; ch < Math.Min(channels, (g + 1) * group); ch++)
                {
                    v += raster[(t * channels) + ch];
                }

                image[rows - 1 - g, t] = Math.Log(1 + v); // channel 0 at the bottom
            }
        }

        var heatmap = plot.Add.Heatmap(image);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        double seconds = binUs is > 0 ? steps * binUs.Value / 1e6 : steps;
        heatmap.Rectangle = new CoordinateRect(0, seconds, 0, channels);
        plot.Axes.SetLimits(0, seconds, 0, channels);
        plot.XLabel(binUs is > 0 ? "time (s)" : "time step");
        plot.YLabel(string.Create(CultureInfo.InvariantCulture, $"channel (groups of {group})"));
        plot.HideGrid();
        if (colourBar)
        {
            plot.Add.ColorBar(heatmap).Label = "ln(1 + spikes)";
        }
    }
}
