using EventSnn.Events;

namespace EventSnn.Testing;

/// <summary>
/// Straight transcriptions of Tonic's slicers and functional code (tonic/slicers.py, tonic/functional/to_frame.py,
/// to_voxel_grid.py, to_timesurface.py, to_averaged_timesurface.py), written as plainly as the
/// Python reads (linear searches, lists, one event at a time), as the reference the
/// representations must match on the same small event arrays.
/// </summary>
public static class TonicTranscription
{
    public static int SearchSorted(long[] t, double value)
    {
        int i = 0;
        while (i < t.Length && t[i] < value)
        {
            i++;
        }

        return i;
    }

    public static List<(int Start, int End)> SliceByTime(long[] t, double window, double overlap, bool includeIncomplete)
    {
        double stride = window - overlap;
        double duration = t[^1] - t[0];
        int n = includeIncomplete ? (int)(Math.Ceiling((duration - window) / stride) + 1) : (int)(Math.Floor((duration - window) / stride) + 1);
        n = Math.Max(n, 1);
        var result = new List<(int, int)>();
        for (int k = 0; k < n; k++)
        {
            double start = (k * stride) + t[0];
            result.Add((SearchSorted(t, start), SearchSorted(t, start + window)));
        }

        return result;
    }

    public static List<(int Start, int End)> SliceByEventCount(int nEvents, int eventCount, int overlap, bool includeIncomplete)
    {
        int count = Math.Min(eventCount, nEvents);
        int stride = eventCount - overlap;
        int n = includeIncomplete ? (int)(Math.Ceiling((double)(nEvents - count) / stride) + 1) : (int)(Math.Floor((double)(nEvents - count) / stride) + 1);
        var result = new List<(int, int)>();
        for (int k = 0; k < n; k++)
        {
            result.Add((Math.Min(k * stride, nEvents), Math.Min((k * stride) + count, nEvents)));
        }

        return result;
    }

    public static List<(int Start, int End)> SliceByTimeBins(long[] t, int bins, double overlap)
    {
        double window = Math.Floor((double)(t[^1] - t[0]) / bins) * (1 + overlap);
        double stride = window * (1 - overlap);
        var result = new List<(int, int)>();
        for (int k = 0; k < bins; k++)
        {
            double start = (k * stride) + t[0];
            result.Add((SearchSorted(t, start), SearchSorted(t, start + window)));
        }

        return result;
    }

    public static List<(int Start, int End)> SliceByEventBins(int nEvents, int bins, double overlap)
    {
        int count = (int)((nEvents / bins) * (1 + overlap));
        int stride = (int)(count * (1 - overlap));
        var result = new List<(int, int)>();
        for (int k = 0; k < bins; k++)
        {
            result.Add((Math.Min(k * stride, nEvents), Math.Min((k * stride) + count, nEvents)));
        }

        return result;
    }

    /// <summary>to_frame_numpy: frames[i, p, y, x] += 1 for each event of slice i.</summary>
    public static int[,,,] ToFrame(DvsEvent[] events, int width, int height, List<(int Start, int End)> slices)
    {
        int[,,,] frames = new int[slices.Count, 2, height, width];
        for (int i = 0; i < slices.Count; i++)
        {
            for (int e = slices[i].Start; e < slices[i].End; e++)
            {
                frames[i, events[e].On ? 1 : 0, events[e].Y, events[e].X]++;
            }
        }

        return frames;
    }

    /// <summary>to_voxel_grid_numpy, line by line.</summary>
    public static double[,,] ToVoxelGrid(DvsEvent[] events, int width, int height, int nTimeBins)
    {
        double[] grid = new double[nTimeBins * height * width];
        long t0 = events[0].T, tl = events[^1].T;
        foreach (DvsEvent e in events)
        {
            double ts = nTimeBins * (double)(e.T - t0) / (tl - t0);
            int pol = e.On ? 1 : -1;
            int ti = (int)ts;
            double dt = ts - ti;
            double left = pol * (1.0 - dt), right = pol * dt;
            if (ti < nTimeBins)
            {
                grid[e.X + (e.Y * width) + (ti * width * height)] += left;
            }

            if (ti + 1 < nTimeBins)
            {
                grid[e.X + (e.Y * width) + ((ti + 1) * width * height)] += right;
            }
        }

        double[,,] result = new double[nTimeBins, height, width];
        for (int b = 0; b < nTimeBins; b++)
        {
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    result[b, y, x] = grid[x + (y * width) + (b * width * height)];
                }
            }
        }

        return result;
    }

    /// <summary>to_timesurface_numpy, line by line.</summary>
    public static double[,,,] ToTimeSurface(DvsEvent[] events, int width, int height, double dt, double tau, double overlap, bool includeIncomplete)
    {
        long[] t = events.Select(e => e.T).ToArray();
        List<(int Start, int End)> slices = SliceByTime(t, dt, overlap, includeIncomplete);
        double[,,] memory = new double[2, height, width];
        for (int p = 0; p < 2; p++)
        {
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    memory[p, y, x] = double.NegativeInfinity;
                }
            }
        }

        double[,,,] all = new double[slices.Count, 2, height, width];
        long startT = events[0].T;
        for (int i = 0; i < slices.Count; i++)
        {
            for (int e = slices[i].Start; e < slices[i].End; e++)
            {
                memory[events[e].On ? 1 : 0, events[e].Y, events[e].X] = events[e].T;
            }

            for (int p = 0; p < 2; p++)
            {
                for (int y = 0; y < height; y++)
                {
                    for (int x = 0; x < width; x++)
                    {
                        double diff = -(((i + 1) * dt) + startT - memory[p, y, x]);
                        all[i, p, y, x] = Math.Exp(diff / tau);
                    }
                }
            }
        }

        return all;
    }

    /// <summary>to_averaged_timesurface_numpy with _map_to_locmems and _get_ts, line by line.</summary>
    public static double[,,,] ToAveragedTimeSurface(DvsEvent[] events, int width, int height, int cellSize, int surfaceSize, double timeWindow, double tau, bool exponential)
    {
        int wgrid = (int)Math.Ceiling((double)width / cellSize), hgrid = (int)Math.Ceiling((double)height / cellSize);
        int ncells = wgrid * hgrid;
        var locmems = new List<DvsEvent>[ncells, 2];
        for (int c = 0; c < ncells; c++)
        {
            locmems[c, 0] = [];
            locmems[c, 1] = [];
        }

        foreach (DvsEvent e in events)
        {
            locmems[(e.Y / cellSize * wgrid) + (e.X / cellSize), e.On ? 1 : 0].Add(e);
        }

        int rho = surfaceSize / 2;
        double[,,,] hist = new double[ncells, 2, surfaceSize, surfaceSize];
        for (int c = 0; c < ncells; c++)
        {
            for (int p = 0; p < 2; p++)
            {
                List<DvsEvent> mem = locmems[c, p];
                for (int i = 0; i < mem.Count; i++)
                {
                    DvsEvent ev = mem[i];
                    double tStart = Math.Max(0, ev.T - timeWindow);
                    for (int j = 0; j < i; j++)
                    {
                        int tsx = mem[j].X - ev.X, tsy = mem[j].Y - ev.Y;
                        if (Math.Abs(tsx) <= rho && Math.Abs(tsy) <= rho && mem[j].T >= tStart)
                        {
                            hist[c, p, tsy + rho, tsx + rho] += exponential ? Math.Exp(-(ev.T - mem[j].T) / tau) : (-(ev.T - mem[j].T) / (3 * tau)) + 1;
                        }
                    }

                    hist[c, p, rho, rho] += 1;
                }

                for (int y = 0; y < surfaceSize; y++)
                {
                    for (int x = 0; x < surfaceSize; x++)
                    {
                        hist[c, p, y, x] /= Math.Max(1, mem.Count);
                    }
                }
            }
        }

        return hist;
    }
}
