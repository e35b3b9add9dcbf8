using System.Text.Json;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Testing;
using EventSnn.Transforms;

namespace EventSnn.Cli.Tests;

/// <summary>`convert --transform` applies the EventSnn.Transforms classes on the way; `train --augment` takes the same text form.</summary>
public class ConvertTransformTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("eventsnn-transform-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (SensorGeometry Geometry, DvsEvent[] Events) Read(string path)
    {
        using IDvsEventReader reader = EventReaders.OpenDvs(path);
        var events = new List<DvsEvent>();
        using var batch = new EventBatch();
        while (reader.Read(batch))
        {
            events.AddRange(batch.ToArray());
        }

        return (reader.Geometry, [.. events]);
    }

    [Theory]
    [InlineData("crop:32x24:100:60")]
    [InlineData("denoise:10000,flip-lr,downsample:2")]
    [InlineData("refractory-period:1000,time-jitter:300:true:true,center-crop:200x100")]
    public void Converted_events_are_the_transform_applied_to_the_input(string spec)
    {
        string input = Fixtures.Path("tonic/sample.aedat4");
        string output = Path.Combine(_dir, "out.aedat4");
        (int code, string stdout, string err) = CliHarness.Run("convert", input, output, "--transform", spec, "--time-origin", "keep", "--json");
        Assert.True(code == 0, err);
        Assert.Equal(TransformSpec.Parse(spec).ToString(), JsonDocument.Parse(stdout).RootElement.GetProperty("transform").GetString());

        (SensorGeometry geometry, DvsEvent[] events) = Read(input);
        using EventBatch all = new(Math.Max(1, events.Length));
        foreach (DvsEvent e in events)
        {
            all.Add(e);
        }

        EventTransform t = TransformSpec.Parse(spec);
        using EventBatch expected = t.Apply(all, geometry);
        (SensorGeometry outGeometry, DvsEvent[] converted) = Read(output);
        Assert.Equal(t.OutputGeometry(geometry), outGeometry);
        Assert.NotEmpty(converted);
        if (spec.Contains("time-jitter", StringComparison.Ordinal))
        {
            // sorted per batch of the reader, the same events all the same
            Assert.Equal(expected.ToArray().OrderBy(e => e.T).ThenBy(e => e.X).ThenBy(e => e.Y), converted.OrderBy(e => e.T).ThenBy(e => e.X).ThenBy(e => e.Y));
        }
        else
        {
            Assert.Equal(expected.ToArray(), converted);
        }
    }

    [Fact]
    public void Noise_larger_than_a_batch_is_handed_out_in_pieces()
    {
        string input = Fixtures.Path("tonic/sample_ncars.dat");
        int before = Read(input).Events.Length;
        var inner = new FixedReader(Read(input).Events, new SensorGeometry(120, 100), chunk: 1000);
        using var reader = new TransformedReader(inner, TransformSpec.Parse("uniform-noise:3000"), inner.Geometry, seed: 1);
        using var batch = new EventBatch(512);
        long total = 0;
        int reads = 0;
        while (reader.Read(batch))
        {
            Assert.True(batch.Count <= 512);
            total += batch.Count;
            reads++;
        }

        int chunks = (before + 999) / 1000;
        Assert.Equal(before + (3000L * chunks), total);
        Assert.True(reads > chunks);
    }

    [Theory]
    [InlineData("time-jitter:abc", "option --transform: 'time-jitter:abc': std 'abc' is not a number")]
    [InlineData("denoise,rotate:90", "option --transform: 'rotate:90': unknown transform 'rotate'")]
    [InlineData("crop:64", "option --transform: 'crop:64': size '64' is not a size WxH (1..65535)")]
    public void A_bad_transform_is_a_usage_error_naming_item_and_parameter(string spec, string message)
    {
        string output = Path.Combine(_dir, "bad.aedat4");
        (int code, _, string err) = CliHarness.Run("convert", Fixtures.Path("tonic/sample.aedat4"), output, "--transform", spec);
        Assert.Equal(2, code);
        Assert.Contains(message, err, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Train_augment_takes_the_transforms_and_names_a_bad_item()
    {
        string data = Path.Combine(ToolProcessClassify.RepoRoot, "recordings", "gestures");
        (int code, _, string err) = CliHarness.Run("train", data, "--augment", "drop-event:0.1,time-jitter:std=x", "--epochs", "1");
        Assert.Equal(2, code);
        Assert.Contains("option --augment: 'time-jitter:std=x': std 'x' is not a number", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_augments_with_the_new_transforms_and_records_them_in_the_recipe()
    {
        string data = Path.Combine(ToolProcessClassify.RepoRoot, "recordings", "gestures");
        string ckpt = Path.Combine(_dir, "aug.ckpt");
        (int code, string stdout, string err) = CliHarness.Run("train", data, "--augment", "shift:8,time-jitter:1000,spatial-jitter:1,uniform-noise:200,random-flip-lr:0.2", "--epochs", "1", "--hidden", "16", "--checkpoint", ckpt, "--json");
        Assert.True(code == 0, err);
        JsonElement recipe = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement.GetProperty("summary").GetProperty("recipe");
        Assert.Equal("shift:8,time-jitter:1000,spatial-jitter:1,uniform-noise:200,flip-lr:0.2", recipe.GetProperty("augment").GetString());
    }

    /// <summary>Events handed out in chunks of a fixed size.</summary>
    private sealed class FixedReader(DvsEvent[] events, SensorGeometry geometry, int chunk) : IDvsEventReader
    {
        private int _next;

        public SensorGeometry Geometry => geometry;

        public string SourceName => "fixed";

        public EventFormat Format => EventFormat.Aedat4;

        public long Position => _next;

        public IReadOnlyList<FormatWarning> Warnings => [];

        public bool Read(EventBatch batch)
        {
            batch.Clear();
            if (_next >= events.Length)
            {
                return false;
            }

            int n = Math.Min(chunk, events.Length - _next);
            for (int i = 0; i < n; i++)
            {
                batch.Add(events[_next + i]);
            }

            _next += n;
            return true;
        }

        public void Dispose()
        {
        }
    }
}
