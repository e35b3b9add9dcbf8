using System.Diagnostics;
using System.Text.Json;
using EventSnn.Events;

namespace EventSnn.Serving;

/// <summary>
/// The live picture of one stream for the dashboard: ON and OFF event counts per cell of the
/// sensor (cells of <see cref="Scale"/> x Scale pixels, so the frame is at most 160 cells wide
/// or tall), accumulated over the batches received since the last frame and published at most
/// every <see cref="Interval"/> of wall time as one JSON object
/// <c>{"type":"frame","stream","width","height","scale","sensor_width","sensor_height","t_us","events","on","off"}</c>
/// where on/off are base64 of one byte per cell (counts saturate at 255), row-major from the
/// sensor's top-left corner (y down, as the sensor numbers its rows). Only fed while someone
/// subscribed to frames. Not thread-safe: one stream's thread feeds it.
/// </summary>
internal sealed class FramePreview
{
    private const int MaxSide = 160;
    private readonly byte[] _on;
    private readonly byte[] _off;
    private long _lastPublish;
    private long _lastT;
    private long _total;

    public FramePreview(string stream, SensorGeometry geometry, TimeSpan interval)
    {
        Stream = stream;
        SensorWidth = geometry.Width;
        SensorHeight = geometry.Height;
        Scale = Math.Max(1, (Math.Max(geometry.Width, geometry.Height) + MaxSide - 1) / MaxSide);
        Width = (geometry.Width + Scale - 1) / Scale;
        Height = (geometry.Height + Scale - 1) / Scale;
        _on = new byte[Width * Height];
        _off = new byte[Width * Height];
        Interval = interval;
        _lastPublish = Stopwatch.GetTimestamp();
    }

    public string Stream { get; }

    public int SensorWidth { get; }

    public int SensorHeight { get; }

    public int Scale { get; }

    public int Width { get; }

    public int Height { get; }

    public TimeSpan Interval { get; }

    /// <summary>Adds the events of <paramref name="batch"/> (those outside the sensor are skipped).</summary>
    public void Add(EventBatch batch)
    {
        ReadOnlySpan<ushort> xs = batch.Xs;
        ReadOnlySpan<ushort> ys = batch.Ys;
        ReadOnlySpan<byte> ps = batch.Polarities;
        int w = SensorWidth, h = SensorHeight, scale = Scale, width = Width;
        for (int i = 0; i < xs.Length; i++)
        {
            int x = xs[i], y = ys[i];
            if (x >= w || y >= h)
            {
                continue;
            }

            int cell = ((y / scale) * width) + (x / scale);
            byte[] plane = ps[i] != 0 ? _on : _off;
            if (plane[cell] != byte.MaxValue)
            {
                plane[cell]++;
            }
        }

        _total += xs.Length;
        if (batch.Count > 0)
        {
            _lastT = batch.Timestamps[^1];
        }
    }

    /// <summary>The frame as JSON when <see cref="Interval"/> has passed since the last one (the counts restart), else null.</summary>
    public byte[]? TakeIfDue()
    {
        long now = Stopwatch.GetTimestamp();
        if (Stopwatch.GetElapsedTime(_lastPublish, now) < Interval)
        {
            return null;
        }

        _lastPublish = now;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(2 * ((_on.Length * 4 / 3) + 8) + 256);
        using (var j = new Utf8JsonWriter(buffer))
        {
            j.WriteStartObject();
            j.WriteString("type", "frame");
            j.WriteString("stream", Stream);
            j.WriteNumber("width", Width);
            j.WriteNumber("height", Height);
            j.WriteNumber("scale", Scale);
            j.WriteNumber("sensor_width", SensorWidth);
            j.WriteNumber("sensor_height", SensorHeight);
            j.WriteNumber("t_us", _lastT);
            j.WriteNumber("events", _total);
            j.WriteBase64String("on", _on);
            j.WriteBase64String("off", _off);
            j.WriteEndObject();
        }

        Array.Clear(_on);
        Array.Clear(_off);
        return buffer.WrittenSpan.ToArray();
    }
}
