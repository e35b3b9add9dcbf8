using CsCheck;
using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Transforms.Tests;

public class TransformSpecTests
{
    [Fact]
    public void The_issue_example_parses_into_a_composition_in_order()
    {
        var c = Assert.IsType<Compose>(TransformSpec.Parse("denoise:10000,crop:64x64,drop-event:0.1,time-jitter:1000"));
        Assert.Equal(10_000, Assert.IsType<Denoise>(c.Transforms[0]).FilterTime);
        var crop = Assert.IsType<Crop>(c.Transforms[1]);
        Assert.Equal((64, 64, 0, 0), (crop.Width, crop.Height, crop.X, crop.Y));
        Assert.Equal(new ValueRange(0.1), Assert.IsType<DropEvent>(c.Transforms[2]).P);
        var jitter = Assert.IsType<TimeJitter>(c.Transforms[3]);
        Assert.Equal((1000.0, true, false), (jitter.Std, jitter.ClipNegative, jitter.SortTimestamps));
        Assert.Equal("denoise:10000,crop:64x64,drop-event:0.1,time-jitter:1000", c.ToString());
        Assert.Same(Compose.None, TransformSpec.Parse(" none "));
        Assert.Same(Compose.None, TransformSpec.Parse(null));
    }

    [Fact]
    public void Parameters_go_in_order_or_by_Tonics_names()
    {
        var j = (TimeJitter)TransformSpec.Parse("time-jitter:std=500:sort_timestamps=true");
        Assert.Equal((500.0, true, true), (j.Std, j.ClipNegative, j.SortTimestamps));
        j = (TimeJitter)TransformSpec.Parse("time-jitter:500:sort-timestamps=yes:clip_negative=false");
        Assert.Equal((500.0, false, true), (j.Std, j.ClipNegative, j.SortTimestamps));
        var s = (SpatialJitter)TransformSpec.Parse("spatial-jitter:variance_x=4:variance_y=2:sigma_xy=1");
        Assert.Equal((4.0, 2.0, 1.0, false), (s.VarX, s.VarY, s.SigmaXY, s.ClipOutliers));
        var skew = (TimeSkew)TransformSpec.Parse("time-skew:coefficient=0.8..1.2:offset=0..150");
        Assert.Equal((new ValueRange(0.8, 1.2), new ValueRange(0, 150)), (skew.Coefficient, skew.Offset));
        var pixels = (DropPixel)TransformSpec.Parse("drop-pixel:10/10;10/11");
        Assert.Equal([(10, 10), (10, 11)], pixels.Coordinates);
        Assert.Equal(60.0, ((DropPixel)TransformSpec.Parse("drop-pixel:hot_pixel_frequency=60")).HotPixelFrequency);
        Assert.Equal(0.5, ((RandomFlipLR)TransformSpec.Parse("random-flip-lr")).P);
        Assert.Equal(1.0, ((RandomFlipLR)TransformSpec.Parse("flip-lr")).P);
        var cc = (CenterCrop)TransformSpec.Parse("center-crop:32x24");
        Assert.Equal((32, 24), (cc.Width, cc.Height));
    }

    [Theory]
    [InlineData("denoise:10000")]
    [InlineData("refractory-period:500")]
    [InlineData("crop:64x48:10:20")]
    [InlineData("center-crop:32")]
    [InlineData("center-crop:32x24")]
    [InlineData("random-crop:16x16")]
    [InlineData("downsample:4")]
    [InlineData("downsample:spatial_factor=0.25:time_factor=0.001")]
    [InlineData("downsample:target_size=10x5")]
    [InlineData("drop-pixel:1/2;3/4")]
    [InlineData("drop-pixel:hot_pixel_frequency=60")]
    [InlineData("mask-hot-pixels:100:500000")]
    [InlineData("merge-polarities,only-on,only-off")]
    [InlineData("flip-lr,flip-ud:0.3,flip-polarity:0.5")]
    [InlineData("drop-event:0.1")]
    [InlineData("drop-event:0..0.5")]
    [InlineData("time-jitter:1000:false:true")]
    [InlineData("spatial-jitter:2:3:1:true")]
    [InlineData("uniform-noise:1000..3000")]
    [InlineData("time-skew:1.3:100")]
    [InlineData("shift:16")]
    [InlineData("crop-time:1000:20000")]
    public void The_text_form_round_trips(string spec)
    {
        string text = TransformSpec.Parse(spec).ToString();
        Assert.Equal(spec, text);
        Assert.Equal(text, TransformSpec.Parse(text).ToString());
    }

    [Theory]
    [InlineData("time-jitter:abc", "time-jitter:abc", "std", "'time-jitter:abc': std 'abc' is not a number")]
    [InlineData("denoise:1:2", "denoise:1:2", null, "'denoise:1:2': takes at most 1 parameter (denoise:<filter_time>)")]
    [InlineData("time-jitter:std=1:foo=2", "time-jitter:std=1:foo=2", null, "'time-jitter:std=1:foo=2': has no parameter 'foo' (time-jitter:<std>:<clip_negative>:<sort_timestamps>)")]
    [InlineData("time-jitter", "time-jitter", "std", "'time-jitter': std is missing (time-jitter:<std>:<clip_negative>:<sort_timestamps>)")]
    [InlineData("time-jitter:100:maybe", "time-jitter:100:maybe", "clip_negative", "'time-jitter:100:maybe': clip_negative 'maybe' is not true or false")]
    [InlineData("crop:64", "crop:64", "size", "'crop:64': size '64' is not a size WxH (1..65535)")]
    [InlineData("merge-polarities:1", "merge-polarities:1", null, "'merge-polarities:1': takes no parameters")]
    [InlineData("drop-event:-0.1", "drop-event:-0.1", "p", "'drop-event:-0.1': p -0.1 is out of range (0..1)")]
    [InlineData("drop-event:0.5..0.2", "drop-event:0.5..0.2", "p", "'drop-event:0.5..0.2': p '0.5..0.2': the range's end is below its start")]
    [InlineData("denoise:-5", "denoise:-5", "filter_time", "'denoise:-5': filter_time -5 is out of range (0..268435456)")]
    [InlineData("time-jitter:std=1:std=2", "time-jitter:std=1:std=2", "std", "'time-jitter:std=1:std=2': std is given twice")]
    [InlineData("drop-pixel:1/1:hot_pixel_frequency=3", "drop-pixel:1/1:hot_pixel_frequency=3", null, "'drop-pixel:1/1:hot_pixel_frequency=3': needs either coordinates (x/y;x/y) or hot_pixel_frequency=<Hz>")]
    [InlineData("drop-pixel:1/x", "drop-pixel:1/x", "coordinates", "'drop-pixel:1/x': coordinates '1/x' is not a pixel x/y")]
    [InlineData("downsample:2.5", "downsample:2.5", "spatial_factor", "'downsample:2.5': spatial_factor '2.5' must be a whole pooling factor k >= 1 or a factor below 1 (use spatial_factor=<f> for Tonic's multiplier)")]
    [InlineData("downsample:2:0.5", "downsample:2:0.5", "time_factor", "'downsample:2:0.5': time_factor cannot go with a pooling factor; give spatial_factor=<f> instead")]
    [InlineData("spatial-jitter:1:1:2", "spatial-jitter:1:1:2", null, "'spatial-jitter:1:1:2': must satisfy sigma_xy² <= var_x x var_y (a covariance)")]
    [InlineData("rotate:30", "rotate:30", null, "'rotate:30': unknown transform 'rotate'; known: denoise, refractory-period, crop, center-crop, random-crop, downsample, drop-pixel, mask-hot-pixels, merge-polarities, only-on, only-off, flip-lr, flip-ud, flip-polarity, random-flip-lr, random-flip-ud, random-flip-polarity, drop-event, time-jitter, spatial-jitter, uniform-noise, time-skew, shift, crop-time")]
    [InlineData("uniform-noise:p=3", "uniform-noise:p=3", null, "'uniform-noise:p=3': has no parameter 'p' (uniform-noise:<n>)")]
    [InlineData("time-jitter:std=1:2", "time-jitter:std=1:2", null, "'time-jitter:std=1:2': '2': a parameter given in order cannot follow a named one")]
    public void Errors_name_the_item_and_the_parameter(string spec, string item, string? parameter, string message)
    {
        TransformException e = Assert.Throws<TransformException>(() => TransformSpec.Parse(spec));
        Assert.Equal(item, e.Item);
        Assert.Equal(parameter, e.Parameter);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Every_transform_is_listed_with_its_parameters()
    {
        string all = string.Join('\n', TransformSpec.Names);
        foreach (string name in new[] { "denoise:<filter_time>", "refractory-period:<delta>", "crop:<size>:<x>:<y>", "center-crop:<size>", "random-crop:<target_size>", "downsample:", "drop-pixel:<coordinates>:<hot_pixel_frequency>", "mask-hot-pixels:", "merge-polarities", "only-on", "only-off", "flip-lr:<p>", "flip-ud:<p>", "flip-polarity:<p>", "random-flip-lr:<p>", "drop-event:<p>", "time-jitter:<std>:<clip_negative>:<sort_timestamps>", "spatial-jitter:<var_x>:<var_y>:<sigma_xy>:<clip_outliers>", "uniform-noise:<n>", "time-skew:<coefficient>:<offset>", "shift:<pixels>", "crop-time:<min>:<max>" })
        {
            Assert.Contains(name, all);
        }

        // every listed name parses (with its required parameters)
        foreach (string line in TransformSpec.Names)
        {
            string name = line.Split(':', ' ')[0];
            string? example = name switch
            {
                "crop" or "center-crop" or "random-crop" => name + ":4x4",
                "mask-hot-pixels" => name + ":10:1000",
                "drop-pixel" => name + ":1/1",
                "drop-event" => name + ":0.1",
                "time-jitter" => name + ":10",
                "uniform-noise" => name + ":10",
                "time-skew" => name + ":1.1",
                "shift" => name + ":2",
                _ => name,
            };
            EventTransform t = TransformSpec.Parse(example);
            Assert.Equal(name.StartsWith("random-flip", StringComparison.Ordinal) ? name["random-".Length..] : name, t.Name);
            Assert.Equal(t.OutputGeometry(new SensorGeometry(8, 8)), t.Start(new SensorGeometry(8, 8)).OutputGeometry(new SensorGeometry(8, 8)));
        }
    }

    [Fact]
    public void Streams_cut_into_any_batches_give_the_events_of_one_batch()
    {
        // every transform whose definition is per event or per pixel history (not per batch count)
        const string spec = "mask-hot-pixels:2000:20000,denoise:300,refractory-period:40,time-jitter:200:false,spatial-jitter:2:1:0.5,flip-lr,crop:30x20:2:3,time-skew:1.5:7,flip-polarity:0.5,crop-time:100";
        var g = new SensorGeometry(40, 30);
        Gen.Select(Gen.Int[0, 1_000_000], Gen.Int[1, 3000], Gen.Int[1, 500].Array[1, 20]).Sample((seed, n, cuts) =>
        {
            DvsEvent[] events = Ev.Random(seed, n, 40, 30, 30);
            DvsEvent[] whole = Ev.Run(spec, g, (ulong)seed, events);

            IEventStage stage = TransformSpec.Parse(spec).Start(g, (ulong)seed);
            var pieces = new List<DvsEvent>();
            int at = 0, c = 0;
            while (at < n)
            {
                int size = Math.Min(cuts[c++ % cuts.Length], n - at);
                using EventBatch input = Ev.Batch(events[at..(at + size)]);
                using var output = new EventBatch(Math.Max(1, stage.MaxOutputCount(size)));
                stage.Process(input, output);
                pieces.AddRange(output.ToArray());
                at += size;
            }

            Assert.Equal(whole, pieces);
        }, iter: 60);
    }
}
