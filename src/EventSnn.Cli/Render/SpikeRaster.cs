using EventSnn.Events;
using ScottPlot;

namespace EventSnn.Cli.Render;

/// <summary>
/// A spike raster of audio spikes (ScottPlot): time in seconds from <see cref="StartUs"/> across,
/// channel up (channel 0 at the bottom; a stereo recording's right-ear channels above the left
/// ear's), a grey mark wherever a channel spiked within a time bin, darker with more spikes
/// (a single spike is 40 % grey, the busiest bin black, logarithmic between). Spikes are binned as they are
/// read (<see cref="Bins"/> bins across, one row per channel): memory does not grow with the
/// recording.
/// </summary>
internal sealed class SpikeRaster
{
    private readonly int[] _cells;

    public SpikeRaster(int channels, long startUs, long endUs, int bins)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        Channels = channels;
        StartUs = startUs;
        EndUs = Math.Max(endUs, startUs + 1);
        Bins = bins;
        _cells = new int[channels * bins];
    }

    /// <summary>Rows of the raster (channels of all ears).</summary>
    public int Channels { get; }

    public long StartUs { get; }

    /// <summary>End of the time axis (exclusive).</summary>
    public long EndUs { get; }

    public int Bins { get; }

    /// <summary>Spikes marked so far.</summary>
    public long Spikes { get; private set; }

    /// <summary>Marks the spikes of <paramref name="batch"/>; ear e's channel c is row e·<paramref name="channelsPerEar"/> + c.</summary>
    public void Add(SpikeBatch batch, int channelsPerEar)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ReadOnlySpan<long> ts = batch.Timestamps;
        ReadOnlySpan<ushort> channels = batch.Channels;
        byte[] ears = batch.Ear;
        double perBin = Bins / (double)(EndUs - StartUs);
        for (int i = 0; i < ts.Length; i++)
        {
            int row = (ears[i] * channelsPerEar) + channels[i];
            long dt = ts[i] - StartUs;
            if ((uint)row >= (uint)Channels || dt < 0 || ts[i] >= EndUs)
            {
                continue;
            }

            int bin = Math.Min(Bins - 1, (int)(dt * perBin));
            _cells[(row * Bins) + bin]++;
            Spikes++;
        }
    }

    /// <summary>Spikes of channel row <paramref name="row"/> in bin <paramref name="bin"/>.</summary>
    public int this[int row, int bin] => _cells[(row * Bins) + bin];

    /// <summary>Draws the raster into <paramref name="plot"/> with the axes labelled.</summary>
    public void Draw(Plot plot, string title, string channelLabel)
    {
        ArgumentNullException.ThrowIfNull(plot);
        double[,] image = new double[Channels, Bins];
        int max = 1;
        foreach (int n in _cells)
        {
            max = Math.Max(max, n);
        }

        double scale = 0.6 / Math.Log(max + 1.0);
        for (int row = 0; row < Channels; row++)
        {
            for (int bin = 0; bin < Bins; bin++)
            {
                int n = _cells[(row * Bins) + bin];
                image[Channels - 1 - row, bin] = n == 0 ? 0 : max == 1 ? 1 : 0.4 + (scale * Math.Log(n)); // channel 0 at the bottom
            }
        }

        var heatmap = plot.Add.Heatmap(image);
        heatmap.Colormap = new ScottPlot.Colormaps.CustomInterpolated([Colors.White, Color.FromHex("#111111")]);
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        double seconds = (EndUs - StartUs) / 1e6;
        heatmap.Rectangle = new CoordinateRect(0, seconds, 0, Channels);
        plot.Axes.SetLimits(0, seconds, 0, Channels);
        plot.HideGrid();
        plot.Title(title, size: 14);
        plot.XLabel("time (s)");
        plot.YLabel(channelLabel);
    }

    /// <summary>The PNG size for <paramref name="channels"/> rows: 1200 wide, a pixel row per channel where it fits.</summary>
    public static (int Width, int Height) ImageSize(int channels) => (1200, Math.Clamp(channels + 180, 480, 1200));
}
