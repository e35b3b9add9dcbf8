using System.Text.Json.Nodes;

namespace EventSnn.Transforms.Tests;

/// <summary>The description: derived sizes, the feature convention, JSON round trip, validation messages, text.</summary>
public class PreprocessingTests
{
    public static TheoryData<string> PresetNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in PreprocessingPresets.ByName.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PresetNames))]
    public void Every_preset_is_valid_and_survives_a_JSON_round_trip(string name)
    {
        Preprocessing p = PreprocessingPresets.Get(name);
        p.Validate();
        string json = p.ToJson();
        Preprocessing back = Preprocessing.FromJson(json);
        Assert.Equal(p, back);
        Assert.Equal(json, back.ToJson());
        Assert.Equal(p.Features, JsonNode.Parse(json)!["features"]!.GetValue<int>());
    }

    [Fact]
    public void Presets_reproduce_the_trainer_inputs()
    {
        Preprocessing shd = PreprocessingPresets.Shd;
        Assert.Equal((InputKind.Audio, 700, 700, BinningKind.Time, 10_000L, 100, true, ValueKind.Binary), (shd.Input, shd.Channels, shd.Features, shd.Binning, shd.BinUs, shd.MaxSteps, shd.Pad, shd.Value));
        Preprocessing g = PreprocessingPresets.DvsGesture;
        Assert.Equal((128, 128, 8, 2, 16, 16, 512, BinningKind.EqualCountFrames, 20, ValueKind.Mean, 64), (g.Width, g.Height, g.Pooling, g.Planes, g.PooledHeight, g.PooledWidth, g.Features, g.Binning, g.Frames, g.Value, g.PoolArea));
        Assert.Equal(2 * 17 * 17, PreprocessingPresets.NMnist.Features);
        Assert.Equal(30, PreprocessingPresets.NMnist.StepsPerSample());
        Assert.Equal(80, PreprocessingPresets.SequentialMnist.Features);
        Assert.Equal(98, PreprocessingPresets.SequentialMnist.StepsPerSample());
        Assert.Equal(2 * 32 * 32, PreprocessingPresets.DvsGestureReference.Features);
        Assert.Equal(250, PreprocessingPresets.ShdReference.MaxSteps);
    }

    [Fact]
    public void Feature_index_is_polarity_times_plane_plus_row_times_width_plus_column()
    {
        Preprocessing p = PreprocessingPresets.DvsGesture; // 16 x 16 cells, OFF plane first
        Assert.Equal((3 * 16) + 2, p.FeatureIndex(on: false, x: 16, y: 24));
        Assert.Equal(256 + (3 * 16) + 2, p.FeatureIndex(on: true, x: 23, y: 31));
        Assert.Equal(-1, p.FeatureIndex(on: true, x: 128, y: 0));
        Assert.Equal(-1, p.FeatureIndex(on: true, channel: 3)); // not audio
        Preprocessing on = p with { Polarity = PolarityMode.On };
        Assert.Equal(256, on.Features);
        Assert.Equal(-1, on.FeatureIndex(on: false, x: 0, y: 0));
        Assert.Equal(0, on.FeatureIndex(on: true, x: 0, y: 0));
        Preprocessing audio = PreprocessingPresets.Shd with { Pooling = 10, Polarity = PolarityMode.Split };
        Assert.Equal(140, audio.Features);
        Assert.Equal(70 + 69, audio.FeatureIndex(on: true, channel: 699));
        Assert.Equal(-1, audio.FeatureIndex(on: true, channel: 700));
    }

    [Fact]
    public void Steps_per_sample_follow_frames_padding_and_duration()
    {
        Preprocessing time = PreprocessingPresets.Shd with { Pad = false };
        Assert.Null(time.StepsPerSample());
        Assert.Equal(30, time.StepsPerSample(295_000));
        Assert.Equal(100, time.StepsPerSample(5_000_000)); // capped by max_steps
        Assert.Equal(100, PreprocessingPresets.Shd.StepsPerSample(30_000)); // padded
        Assert.Equal(20, PreprocessingPresets.DvsGesture.StepsPerSample());
        Assert.Equal(5, (PreprocessingPresets.DvsGesture with { MaxSteps = 5 }).StepsPerSample());
        Assert.Null((PreprocessingPresets.DvsGesture with { Binning = BinningKind.Count, BinEvents = 10 }).StepsPerSample(1_000_000));
        Assert.Equal(1_000_000, PreprocessingPresets.Shd.SampleSpanUs);
        Assert.Null(PreprocessingPresets.DvsGesture.SampleSpanUs);
    }

    [Fact]
    public void Json_has_snake_case_fields_of_the_chosen_kinds_only()
    {
        JsonObject o = (PreprocessingPresets.DvsGesture with { Channels = 99, BinUs = 5 }).ToJsonNode();
        Assert.Equal(
            ["version", "input", "width", "height", "pooling", "polarity", "binning", "frames", "value", "max_steps", "pad", "features"],
            o.Select(kv => kv.Key).ToArray());
        Assert.Equal(7, (PreprocessingPresets.DvsGesture with { MaxGapSteps = 7 }).ToJsonNode()["max_gap_steps"]!.GetValue<int>());
        Assert.Equal("equal_count_frames", o["binning"]!.GetValue<string>());
        Assert.Equal("mean", o["value"]!.GetValue<string>());
        Assert.Equal("split", o["polarity"]!.GetValue<string>());

        JsonObject a = PreprocessingPresets.Shd.ToJsonNode();
        Assert.Equal(
            ["version", "input", "channels", "pooling", "polarity", "binning", "bin_us", "value", "max_steps", "pad", "features"],
            a.Select(kv => kv.Key).ToArray());
        Assert.Equal("""{"version":1,"input":"audio","channels":700,"pooling":1,"polarity":"merge","binning":"time","bin_us":10000,"value":"binary","max_steps":100,"pad":true,"features":700}""", a.ToJsonString());

        // the other kinds round-trip too
        foreach (Preprocessing p in new[]
        {
            PreprocessingPresets.DvsGesture with { Binning = BinningKind.Count, BinEvents = 1000, Value = ValueKind.LogCount, Polarity = PolarityMode.Off },
            PreprocessingPresets.DvsGesture with { Binning = BinningKind.EqualTimeFrames, Polarity = PolarityMode.Merge, MaxSteps = 12, Pad = true },
            PreprocessingPresets.Shd with { Pad = false, MaxSteps = 0, MaxGapSteps = 7 },
        })
        {
            Assert.Equal(p.Normalized(), Preprocessing.FromJson(p.ToJson()));
        }
    }

    [Theory]
    [InlineData("""{"input":"dvs","width":128,"height":128,"binning":"time","bin_us":1000,"colour":true}""", "colour", "unknown field")]
    [InlineData("""{"input":"dvs","height":128,"binning":"time","bin_us":1000}""", "width", "missing")]
    [InlineData("""{"input":"audio","binning":"time","bin_us":1000}""", "channels", "missing")]
    [InlineData("""{"input":"dvs","width":"wide","height":128,"binning":"time","bin_us":1000}""", "width", "not an integer")]
    [InlineData("""{"input":"dvs","width":128,"height":128,"binning":"time"}""", "bin_us", "missing")]
    [InlineData("""{"input":"dvs","width":128,"height":128,"binning":"count"}""", "bin_events", "missing")]
    [InlineData("""{"input":"dvs","width":128,"height":128,"binning":"equal_count_frames"}""", "frames", "missing")]
    [InlineData("""{"input":"dvs","width":128,"height":128,"binning":"hourly"}""", "binning", "'hourly' is not")]
    [InlineData("""{"input":"retina","width":128,"height":128,"binning":"time","bin_us":1}""", "input", "'retina' is not")]
    [InlineData("""{"input":"dvs","width":128,"height":128,"binning":"time","bin_us":1,"value":"sqrt"}""", "value", "'sqrt' is not")]
    [InlineData("""{"input":"dvs","width":128,"height":128,"binning":"time","bin_us":1,"polarity":"both"}""", "polarity", "'both' is not")]
    [InlineData("""{"input":"dvs","width":128,"height":128,"binning":"time","bin_us":1,"pooling":0}""", "pooling", "0 is not in 1..")]
    [InlineData("""{"input":"dvs","width":128,"height":128,"binning":"time","bin_us":0}""", "bin_us", "0 is not in 1..")]
    [InlineData("""{"input":"dvs","width":128,"height":128,"binning":"time","bin_us":1,"max_steps":-1}""", "max_steps", "-1 is not in 0..")]
    [InlineData("""{"input":"dvs","width":128,"height":128,"binning":"time","bin_us":1,"pad":true}""", "pad", "needs max_steps")]
    [InlineData("""{"input":"dvs","width":128,"height":128,"binning":"time","bin_us":1,"max_gap_steps":-5}""", "max_gap_steps", "-5 is not in 0..")]
    [InlineData("""{"input":"dvs","width":128,"height":128,"binning":"time","bin_us":1,"pad":"yes"}""", "pad", "not true or false")]
    [InlineData("""{"input":"dvs","width":128,"height":128,"binning":"time","bin_us":1,"features":100}""", "features", "does not match the 32768")]
    [InlineData("""{"version":2,"input":"dvs","width":128,"height":128,"binning":"time","bin_us":1}""", "version", "2 is not supported")]
    [InlineData("""{"input":"dvs","width":70000,"height":128,"binning":"time","bin_us":1}""", "width", "70000 is not in 1..65535")]
    [InlineData("""[1, 2]""", "(json)", "expected a JSON object")]
    [InlineData("""{"input":""", "(json)", "not valid JSON")]
    public void Json_errors_name_the_field(string json, string field, string message)
    {
        var ex = Assert.Throws<PreprocessingException>(() => Preprocessing.FromJson(json));
        Assert.Equal(field, ex.Field);
        Assert.StartsWith($"preprocessing {field}: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_names_the_field_and_its_property()
    {
        var ex = Assert.Throws<PreprocessingException>(() => (PreprocessingPresets.Shd with { MaxSteps = 0 }).Validate());
        Assert.Equal("pad", ex.Field);
        ex = Assert.Throws<PreprocessingException>(() => (PreprocessingPresets.DvsGesture with { Frames = 0 }).Validate());
        Assert.Equal("frames", ex.Field);
        Assert.Equal("Frames", ex.Property);
        ex = Assert.Throws<PreprocessingException>(() => (PreprocessingPresets.Shd with { BinUs = -5 }).Validate());
        Assert.Equal("BinUs", ex.Property);
        ex = Assert.Throws<PreprocessingException>(() => (PreprocessingPresets.Shd with { Channels = 0 }).Validate());
        Assert.Equal("channels", ex.Field);
        ex = Assert.Throws<PreprocessingException>(() => (PreprocessingPresets.DvsGesture with { Width = 60_000, Height = 60_000, Pooling = 1 }).Validate());
        Assert.Equal("features", ex.Field);
        ex = Assert.Throws<PreprocessingException>(() => PreprocessingPresets.Get("cifar"));
        Assert.Equal("preset", ex.Field);
        Assert.Contains("dvs-gesture", ex.Message, StringComparison.Ordinal);
        Assert.Equal("MaxSteps", PreprocessingException.PropertyOf("max_steps"));
    }

    [Fact]
    public void Names_parse_json_pascal_and_kebab_spellings()
    {
        Assert.Equal(BinningKind.EqualCountFrames, PreprocessingNames.ParseBinning("equal_count_frames"));
        Assert.Equal(BinningKind.EqualCountFrames, PreprocessingNames.ParseBinning("EqualCountFrames"));
        Assert.Equal(BinningKind.EqualTimeFrames, PreprocessingNames.ParseBinning("equal-time-frames"));
        Assert.Equal(ValueKind.LogCount, PreprocessingNames.ParseValue("LogCount"));
        Assert.Equal(PolarityMode.Off, PreprocessingNames.ParsePolarity("OFF"));
        Assert.Equal(InputKind.Audio, PreprocessingNames.ParseInput("audio"));
        Assert.Equal("log_count", PreprocessingNames.Name(ValueKind.LogCount));
    }

    [Fact]
    public void Describe_is_one_line_naming_input_binning_steps_and_values()
    {
        Assert.Equal("audio 700 channels -> 700 features; 10 ms bins, exactly 100 steps (padded); binary", PreprocessingPresets.Shd.Describe());
        Assert.Equal("DVS 128x128 pooled 8 -> 2x16x16 = 512 features (OFF, ON planes); 20 equal-count frames; mean (count / 64)", PreprocessingPresets.DvsGesture.Describe());
        Assert.Equal(
            "DVS 34x34 -> 1x34x34 = 1156 features (ON events only); bins of 500 events, at most 7 steps; log(1 + count)",
            (PreprocessingPresets.NMnist with { Pooling = 1, Polarity = PolarityMode.On, Binning = BinningKind.Count, BinEvents = 500, MaxSteps = 7, Pad = false }).Describe());
        Assert.DoesNotContain('\n', PreprocessingPresets.NMnist.Describe());
    }

    [Fact]
    public void For_sensor_and_for_channels_adapt_the_input_size_only()
    {
        Preprocessing g = PreprocessingPresets.DvsGesture.ForSensor(64, 48);
        Assert.Equal(2 * 8 * 6, g.Features);
        Assert.Equal(PreprocessingPresets.DvsGesture with { Width = 64, Height = 48 }, g);
        Preprocessing s = PreprocessingPresets.Shd.ForChannels(24);
        Assert.Equal(24, s.Features);
        Assert.Equal(PreprocessingPresets.Shd.BinUs, s.BinUs);
    }
}
