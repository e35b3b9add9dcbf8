using System.Globalization;
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
            List<DecisionRecord> d = s.Decisions;
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

        plot.Title("Online FPTT learning: accuracy of each decision made before learning on the sample");
        plot.XLabel("decision");
        plot.YLabel("accuracy");
        plot.Axes.SetLimitsY(0, 1.05);
        plot.ShowLegend(Alignment.UpperLeft);
        string path = Path.Combine(folder, "accuracy.png");
        plot.SavePng(path, 1200, 600);
        return path;
    }

    /// <summary>The last held-out samples of a stream: their summed event frames (or spike rasters) with prediction and truth.</summary>
    public static string? Frames(string folder, StreamRunner stream)
    {
        SampleSnapshot[] samples = [.. stream.Snapshots];
        if (samples.Length == 0)
        {
            return null;
        }

        bool audio = samples[0].Raster is not null;
        int tileW, tileH;
        if (audio)
        {
            tileW = samples.Max(s => s.Steps);
            tileH = 70;
        }
        else
        {
            tileW = samples[0].Layout.Width;
            tileH = samples[0].Layout.Height;
        }

        int gap = Math.Max(1, tileW / 16);
        double[,] image = new double[tileH, (samples.Length * (tileW + gap)) - gap];
        for (int r = 0; r < image.GetLength(0); r++)
        {
            for (int c = 0; c < image.GetLength(1); c++)
            {
                image[r, c] = double.NaN;
            }
        }

        for (int k = 0; k < samples.Length; k++)
        {
            SampleSnapshot s = samples[k];
            int x0 = k * (tileW + gap);
            if (audio)
            {
                int channels = s.Sum.Length;
                int group = (channels + tileH - 1) / tileH;
                float[] raster = s.Raster!;
                int steps = raster.Length / channels;
                for (int t = 0; t < tileW; t++)
                {
                    for (int g = 0; g < tileH; g++)
                    {
                        double v = 0;
                        if (t < steps)
                        {
                            for (int ch = g * group; ch < Math.Min(channels, (g + 1) * group); ch++)
                            {
                                v += raster[(t * channels) + ch];
                            }
                        }

                        image[tileH - 1 - g, x0 + t] = Math.Log(1 + v);
                    }
                }
            }
            else
            {
                int plane = tileW * tileH;
                for (int y = 0; y < tileH; y++)
                {
                    for (int x = 0; x < tileW; x++)
                    {
                        double on = s.Sum[(y * tileW) + x], off = s.Sum[plane + (y * tileW) + x];
                        image[y, x0 + x] = Math.Log(1 + on + off);
                    }
                }
            }
        }

        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(image);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.FlipVertically = !audio;
        for (int k = 0; k < samples.Length; k++)
        {
            DecisionRecord d = samples[k].Decision;
            string mark = d.Correct ? "ok" : "x";
            var text = plot.Add.Text($"{d.Label} ({d.Confidence:P0}) {mark}\ntruth {d.Truth}", (k * (tileW + gap)) + 0.5, tileH * 1.22);
            text.LabelAlignment = Alignment.UpperLeft;
            text.LabelFontSize = 11;
            text.LabelFontColor = d.Correct ? Colors.DarkGreen : Colors.DarkRed;
        }

        plot.Title(audio
            ? $"{stream.Name}: last held-out samples (spike raster, time x channel groups) with the decision"
            : $"{stream.Name}: last held-out gestures (event counts, {tileW}x{tileH} after pooling) with the decision");
        plot.Axes.SetLimitsY(-0.5, tileH * 1.3);
        plot.HideGrid();
        string path = Path.Combine(folder, $"frames-{stream.Name}.png");
        plot.SavePng(path, Math.Min(2400, Math.Max(900, samples.Length * 180)), 420);
        return path;
    }
}
