using System.Globalization;
using EventSnn.Cli.Render;
using EventSnn.Events;
using EventSnn.IO;
using ScottPlot;
using SkiaSharp;

namespace EventSnn.Cli.Commands;

/// <summary>
/// `eventsnn render`: a recording as pictures. DVS events become event frames of consecutive
/// time windows (ON and OFF in two colours, square pixels in sensor coordinates, each frame
/// labelled with its window), written as an animated GIF (<c>.gif</c>) or a contact sheet
/// (<c>.png</c>); audio spikes become a raster plot, time across and channel up (<c>.png</c>).
/// The picture is written to a temporary file and renamed; an existing file is replaced only
/// with --force.
/// </summary>
internal sealed class RenderCommand : Command
{
    /// <summary>Frames made by default when --window-us is not given: GIF, contact sheet.</summary>
    public const int DefaultGifFrames = 60, DefaultSheetFrames = 16;

    /// <summary>Most frames by default: GIF, contact sheet.</summary>
    public const int MaxGifFrames = 300, MaxSheetFrames = 64;

    public override string Name => "render";

    public override string Summary => "render a recording: DVS event frames as an animated GIF or a PNG contact sheet, audio spikes as a PNG raster";

    public override string Arguments => "<recording>";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("out", "path.gif|path.png", ".gif: animated event frames; .png: a contact sheet of event frames, or the raster of audio spikes (required)"),
        new("window-us", "us", $"time window of one frame (default: the recording cut into {DefaultGifFrames} frames for a GIF, {DefaultSheetFrames} for a contact sheet)"),
        new("max-frames", "n", $"most frames to draw; later events are left out with a note (default {MaxGifFrames} for a GIF, {MaxSheetFrames} for a contact sheet)"),
        new("scale", "n", "image pixels per sensor pixel (default: fit about 480 pixels for a GIF, 256 per contact-sheet frame; large sensors are pooled instead)"),
        new("columns", "n", "contact sheet: frames per row (default: a square-ish grid)"),
        new("sample", "n", "SHD/SSC files: the sample to draw (default 0)"),
        new("force", null, "replace an existing output file"),
        .. ReaderOptionParsing.Specs,
    ];

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string input = args.Positional(0, "<recording>");
        string output = args.Get("out") ?? throw new UsageException("option --out is required: a .gif (animated event frames) or .png (contact sheet, or a raster of audio spikes)");
        string extension = Path.GetExtension(output).ToLowerInvariant();
        if (extension is not (".gif" or ".png"))
        {
            throw new UsageException($"option --out {output}: render writes .gif (animated event frames) or .png (a contact sheet of event frames, or the raster of audio spikes)");
        }

        bool force = args.Has("force");
        if (!File.Exists(input))
        {
            throw new UsageException($"{input}: file not found");
        }

        if (Path.GetFullPath(input) == Path.GetFullPath(output))
        {
            throw new UsageException($"option --out {output}: is the recording itself");
        }

        if (Directory.Exists(output))
        {
            throw new UsageException($"option --out {output}: is a folder; name the output file");
        }

        string folder = Path.GetDirectoryName(Path.GetFullPath(output)) ?? ".";
        if (!Directory.Exists(folder))
        {
            throw new UsageException($"option --out {output}: the folder {folder} does not exist");
        }

        if (File.Exists(output) && !force)
        {
            throw new UsageException($"option --out {output}: file exists; pass --force to overwrite it");
        }

        ReaderOptions options = ReaderOptionParsing.From(args);
        EventFormat format = EventReaders.ResolveFormat(input, options);
        options = options with { Format = format };
        try
        {
            if (EventFormats.IsAudio(format))
            {
                if (extension == ".gif")
                {
                    throw new UsageException($"option --out {output}: {input} holds audio spikes ({EventFormats.Name(format)}), drawn as a raster: name a .png");
                }

                foreach (string dvsOnly in new[] { "window-us", "max-frames", "scale", "columns" })
                {
                    if (args.Has(dvsOnly))
                    {
                        throw new UsageException($"option --{dvsOnly}: applies to event frames; {input} holds audio spikes ({EventFormats.Name(format)}), drawn as one raster");
                    }
                }

                RenderRaster(input, output, options, args, stdout);
            }
            else
            {
                if (args.Has("sample"))
                {
                    throw new UsageException($"option --sample: applies to SHD/SSC files; {input} holds DVS events ({EventFormats.Name(format)})");
                }

                RenderFrames(input, output, extension == ".gif", options, args, stdout, stderr);
            }
        }
        catch (OperationCanceledException) when (args.Cancellation.IsCancellationRequested)
        {
            stderr.WriteLine($"interrupted: {output} was not written");
            return CommandRunner.Interrupted;
        }
        catch (EventFormatException ex)
        {
            throw new EventFormatException(ex.SourceName, ex.Offset, $"{ex.Problem}; {output} was not written", ex.Field, ex) { IsTruncation = ex.IsTruncation };
        }

        return CommandRunner.Ok;
    }

    private static void RenderFrames(string input, string output, bool gif, ReaderOptions options, ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        CancellationToken cancel = args.Cancellation;
        long? windowOption = args.Has("window-us") ? args.GetPositiveLong("window-us", 1) : null;
        int maxFrames = args.GetPositiveInt("max-frames", gif ? MaxGifFrames : MaxSheetFrames);
        int? scaleOption = args.Has("scale") ? args.GetPositiveInt("scale", 1) : null;
        int? columnsOption = args.Has("columns") ? args.GetPositiveInt("columns", 1) : null;
        if (gif && columnsOption is not null)
        {
            throw new UsageException("option --columns: applies to a contact sheet (.png)");
        }

        // first pass: the time span and, when the file does not declare it, the sensor
        var stats = new EventStatistics();
        SensorGeometry geometry;
        using (IDvsEventReader probe = EventReaders.OpenDvs(input, options))
        using (var pass = new EventBatch())
        {
            geometry = probe.Geometry;
            while (probe.Read(pass))
            {
                cancel.ThrowIfCancellationRequested();
                stats.Add(pass);
            }
        }

        if (stats.Events == 0)
        {
            throw new UsageException($"{input}: no events to render");
        }

        if (!geometry.IsKnown)
        {
            geometry = new SensorGeometry(stats.XMax + 1, stats.YMax + 1);
        }

        long start = stats.TMin;
        long span = stats.TMax - start + 1;
        long window = windowOption ?? Math.Max(1, (span + (gif ? DefaultGifFrames : DefaultSheetFrames) - 1) / (gif ? DefaultGifFrames : DefaultSheetFrames));
        long needed = EventFrames.FramesFor(start, stats.TMax, window);
        int frames = (int)Math.Min(needed, maxFrames);

        // square pixels: a whole number of image pixels per sensor pixel, or sensor pixels per image pixel for large sensors
        int side = Math.Max(geometry.Width, geometry.Height);
        int fit = gif ? 480 : 256;
        int pooling = 1, scale;
        if (scaleOption is { } s)
        {
            scale = s;
        }
        else if (side > fit * 4 / 3)
        {
            scale = 1;
            pooling = (side + fit - 1) / fit;
        }
        else
        {
            scale = Math.Max(1, fit / side);
        }

        var tile = new FrameTile((geometry.Width + pooling - 1) / pooling, (geometry.Height + pooling - 1) / pooling, scale);
        int columns = columnsOption ?? (int)Math.Ceiling(Math.Sqrt(frames * (double)tile.Height / tile.Width));
        (long sheetW, long sheetH) = ContactSheet.SizeOf(tile, frames, columns);
        if (gif ? (long)tile.Width * tile.Height * 4 * frames > 2L << 30 : sheetW > ContactSheet.MaxSide || sheetH > ContactSheet.MaxSide)
        {
            string size = gif ? $"{frames} frames of {tile.Width} x {tile.Height} pixels" : $"{sheetW} x {sheetH} pixels";
            throw new UsageException($"option --out {output}: the picture would be {size}; draw fewer frames (--max-frames, a longer --window-us) or smaller ones (--scale{(gif ? string.Empty : ", --columns")})");
        }

        string name = Path.GetFileName(input);
        string pixels = pooling > 1 ? $"1 image pixel = {pooling} x {pooling} sensor pixels" : scale > 1 ? $"{scale} x {scale} image pixels per sensor pixel" : "1 image pixel per sensor pixel";
        string details = string.Create(CultureInfo.InvariantCulture, $"{geometry.Width} x {geometry.Height} sensor (x right, y down), {pixels}; frames of {window:N0} us; times from the first event at {start:N0} us");

        using var target = new OutputFile(output, args.Has("force"));
        long drawn;
        if (gif)
        {
            int delay = (int)Math.Clamp((window + 5_000) / 10_000, 2, 100); // real time where GIF players allow (20 ms .. 1 s a frame)
            using var animation = new GifAnimation(tile.Width, tile.Height, delay);
            using SKBitmap bitmap = FrameTile.NewBitmap(tile.Width, tile.Height);
            using var canvas = new SKCanvas(bitmap);
            using SKFont font = FrameTile.NewFont();
            drawn = Draw(input, options, geometry, pooling, start, window, frames, frame =>
            {
                tile.Draw(bitmap, canvas, 0, 0, frame, FrameTile.Label(frame, start), font);
                animation.Add(bitmap);
            }, cancel);
            using SizeGuardStream stream = target.OpenStream(long.MaxValue);
            animation.Save(stream);
        }
        else
        {
            using var sheet = new ContactSheet(tile, frames, columns, name, details);
            drawn = Draw(input, options, geometry, pooling, start, window, frames, frame => sheet.Add(frame, FrameTile.Label(frame, start)), cancel);
            using SizeGuardStream stream = target.OpenStream(long.MaxValue);
            stream.Write(sheet.EncodePng());
        }

        cancel.ThrowIfCancellationRequested();
        target.Commit();
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{input} -> {output}: {frames} frames of {window:N0} us, {geometry.Width} x {geometry.Height} sensor, {drawn:N0} of {stats.Events:N0} events"));
        if (needed > frames)
        {
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"note: {output}: the first {frames} of {needed:N0} frames ({FrameTile.Seconds(frames * window)} s of {FrameTile.Seconds(span)} s); pass --max-frames or a longer --window-us for the rest"));
        }
    }

    /// <summary>Second pass: the frames, handed to <paramref name="draw"/> in time order. Returns the events drawn.</summary>
    private static long Draw(string input, ReaderOptions options, SensorGeometry geometry, int pooling, long start, long window, int frames, Action<Frame> draw, CancellationToken cancel)
    {
        var cutter = new EventFrames(geometry, pooling, start, window, frames, draw);
        using IDvsEventReader reader = EventReaders.OpenDvs(input, options);
        using var batch = new EventBatch();
        while (!cutter.Full && reader.Read(batch))
        {
            cancel.ThrowIfCancellationRequested();
            cutter.Add(batch);
        }

        cutter.Finish(frames);
        return cutter.EventsCounted;
    }

    private static void RenderRaster(string input, string output, ReaderOptions options, ParsedArgs args, TextWriter stdout)
    {
        CancellationToken cancel = args.Cancellation;
        using var reader = (ISpikeReader)EventReaders.Open(input, options);
        int? sample = null;
        string title;
        ShdFile? shd = (reader as ShdReader)?.File;
        if (shd is not null)
        {
            int k = args.GetInt("sample", 0);
            if (k < 0 || k >= shd.Count)
            {
                throw new UsageException($"option --sample: {input} holds samples 0..{shd.Count - 1}");
            }

            sample = k;
            int label = shd.Label(k);
            string key = label >= 0 && label < shd.Keys.Count ? $" '{shd.Keys[label]}'" : string.Empty;
            title = string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(input)}: sample {k} of {shd.Count}, label {label}{key}");
        }
        else if (args.Has("sample"))
        {
            throw new UsageException($"option --sample: applies to SHD/SSC files; {input} is {EventFormats.Name(reader.Format)}");
        }
        else
        {
            title = Path.GetFileName(input);
        }

        // first pass: time span and channels
        long tMin = long.MaxValue, tMax = long.MinValue, spikes = 0;
        int maxRow = -1;
        int perEar = Math.Max(1, reader.Channels);
        using (var batch = new SpikeBatch())
        {
            ForEachBatch(reader, shd, sample, batch, b =>
            {
                ReadOnlySpan<long> ts = b.Timestamps;
                ReadOnlySpan<ushort> ch = b.Channels;
                for (int i = 0; i < ts.Length; i++)
                {
                    tMin = Math.Min(tMin, ts[i]);
                    tMax = Math.Max(tMax, ts[i]);
                    maxRow = Math.Max(maxRow, (b.Ear[i] * perEar) + ch[i]);
                }

                spikes += ts.Length;
            }, cancel);
        }

        int rows = Math.Max(reader.Channels > 0 ? reader.Channels * Math.Max(1, reader.Ears) : 0, maxRow + 1);
        if (spikes == 0 || rows == 0)
        {
            throw new UsageException(sample is null ? $"{input}: no spikes to render" : $"{input}: sample {sample} has no spikes to render");
        }

        // SHD times start at the sample's start (0); a NAS recording's at its first spike
        long start = shd is not null ? Math.Min(0, tMin) : tMin;
        var raster = new SpikeRaster(rows, start, tMax + 1, bins: 1000);
        using (var batch = new SpikeBatch())
        {
            if (shd is not null)
            {
                ForEachBatch(reader, shd, sample, batch, b => raster.Add(b, perEar), cancel);
            }
            else
            {
                using var again = (ISpikeReader)EventReaders.Open(input, options);
                ForEachBatch(again, null, null, batch, b => raster.Add(b, perEar), cancel);
            }
        }

        string channelLabel = reader.Ears > 1 ? $"channel (left 0..{perEar - 1}, right {perEar}..{(2 * perEar) - 1})" : "channel";
        var plot = new Plot();
        raster.Draw(plot, string.Create(CultureInfo.InvariantCulture, $"{title}: {spikes:N0} spikes, {rows} channels"), channelLabel);
        (int width, int height) = SpikeRaster.ImageSize(rows);
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        cancel.ThrowIfCancellationRequested();
        using (var target = new OutputFile(output, args.Has("force")))
        {
            using (SizeGuardStream stream = target.OpenStream(long.MaxValue))
            {
                stream.Write(png);
            }

            target.Commit();
        }

        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{input} -> {output}: raster of {spikes:N0} spikes, {rows} channels, {FrameTile.Seconds(tMax + 1 - start)} s"));
    }

    /// <summary>Every batch of spikes: of one SHD sample (read directly), or of the whole recording.</summary>
    private static void ForEachBatch(ISpikeReader reader, ShdFile? shd, int? sample, SpikeBatch batch, Action<SpikeBatch> each, CancellationToken cancel)
    {
        if (shd is not null && sample is { } k)
        {
            int total = shd.SampleSpikeCount(k);
            int offset = 0;
            while (offset < total)
            {
                cancel.ThrowIfCancellationRequested();
                int n = shd.ReadSample(k, batch, offset);
                if (n == 0)
                {
                    break;
                }

                each(batch);
                offset += n;
            }

            return;
        }

        while (reader.Read(batch))
        {
            cancel.ThrowIfCancellationRequested();
            each(batch);
        }
    }
}
