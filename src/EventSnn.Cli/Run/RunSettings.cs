using System.Globalization;
using EventSnn.Transforms;
using Microsoft.Extensions.Configuration;

namespace EventSnn.Cli.Run;

/// <summary>Kinds of labelled recordings a stream replays.</summary>
public enum StreamKind
{
    /// <summary>SHD-layout HDF5 spoken digits (audio spikes, labels per sample).</summary>
    Shd,

    /// <summary>DVS128-Gesture-layout recordings (AEDAT4 or AEDAT 3.1 + *_labels.csv).</summary>
    DvsGesture,
}

/// <summary>One labelled stream of the main job (bound from Run:Streams:&lt;name&gt;).</summary>
public sealed class StreamSettings
{
    public bool Enabled { get; set; } = true;

    public string Kind { get; set; } = string.Empty;

    /// <summary>Training recordings (relative to Run:Recordings): files, or a .txt list of files.</summary>
    public List<string> Train { get; set; } = [];

    /// <summary>Held-out recordings replayed after the training passes.</summary>
    public List<string> Test { get; set; } = [];

    /// <summary>Recurrent neurons of a one-layer network (Recipe:Layers overrides).</summary>
    public int Hidden { get; set; } = 128;

    /// <summary>The training recipe (the train command's recipe options; the schedule runs over the passes).</summary>
    public RecipeSettings Recipe { get; set; } = new();

    /// <summary>How the stream's samples become the network's input (default: the preset train uses for the kind).</summary>
    public PreprocessingSettings Preprocessing { get; set; } = new();

    /// <summary>Gestures: classes (labels in the CSV are 1-based).</summary>
    public int Classes { get; set; } = 10;

    internal StreamKind ParsedKind { get; private set; }

    /// <summary>The validated description (SHD: channels still to be checked against the files).</summary>
    internal Preprocessing Description { get; private set; } = PreprocessingPresets.Shd;

    /// <summary>The validated recipe.</summary>
    internal Snn.Classification.SequenceTrainerOptions RecipeOptions { get; private set; } = new();

    internal void Validate(string key, int passes, long seed)
    {
        ParsedKind = Kind.Trim().ToLowerInvariant() switch
        {
            "shd" => StreamKind.Shd,
            "dvs-gesture" or "gesture" or "gestures" => StreamKind.DvsGesture,
            _ => throw new ConfigurationException($"{key}:Kind", Kind, "must be shd or dvs-gesture"),
        };
        if (Train.Count == 0)
        {
            throw new ConfigurationException($"{key}:Train", "(empty)", "needs at least one recording");
        }

        Require(Hidden is > 0 and <= 4096, $"{key}:Hidden", Hidden, "must be in 1..4096");
        Require(Classes is >= 2 and <= 10_000, $"{key}:Classes", Classes, "must be in 2..10000");
        Description = Preprocessing.Build($"{key}:Preprocessing", ParsedKind == StreamKind.Shd ? PreprocessingPresets.Shd : PreprocessingPresets.DvsGesture, ParsedKind == StreamKind.Shd ? "shd" : "dvs-gesture");
        RecipeOptions = Recipe.Build($"{key}:Recipe", passes, (int)seed) with { Hidden = Hidden };
        int steps = Description.StepsPerSample() ?? int.MaxValue;
        Require(RecipeOptions.ChunkLength > 0 || RecipeOptions.Chunks <= steps, $"{key}:Recipe:Chunks", RecipeOptions.Chunks, "must not exceed the steps per sample");
    }

    internal static void Require(bool ok, string key, object value, string rule)
    {
        if (!ok)
        {
            throw new ConfigurationException(key, Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty, rule);
        }
    }
}

/// <summary>
/// A stream's preprocessing (bound from Run:Streams:&lt;name&gt;:Preprocessing): a preset (default:
/// the one train uses for the stream's kind, shd or dvs-gesture) and any fields of
/// <see cref="Transforms.Preprocessing"/> that differ from it, with the same names (Input, Width,
/// Height, Channels, Pooling, Polarity, Binning, BinUs, BinEvents, Frames, Value, MaxSteps, Pad).
/// </summary>
public sealed class PreprocessingSettings
{
    public string? Preset { get; set; }

    public string? Input { get; set; }

    public int? Width { get; set; }

    public int? Height { get; set; }

    /// <summary>Audio: channels (default: the recordings').</summary>
    public int? Channels { get; set; }

    public int? Pooling { get; set; }

    public string? Polarity { get; set; }

    public string? Binning { get; set; }

    public long? BinUs { get; set; }

    public int? BinEvents { get; set; }

    public int? Frames { get; set; }

    public string? Value { get; set; }

    public int? MaxSteps { get; set; }

    public bool? Pad { get; set; }

    /// <summary>The description: the preset with the given fields; errors name the key (e.g. Run:Streams:gestures:Preprocessing:Pooling).</summary>
    internal Preprocessing Build(string key, Preprocessing kindPreset, string kindName)
    {
        Preprocessing p = kindPreset;
        if (Preset is not null && !PreprocessingPresets.ByName.TryGetValue(Preset, out p!))
        {
            throw new ConfigurationException($"{key}:Preset", Preset, "must be one of " + string.Join(", ", PreprocessingPresets.ByName.Keys));
        }

        string? field = null;
        try
        {
            field = "Input";
            InputKind input = Input is null ? p.Input : PreprocessingNames.ParseInput(Input);
            if (input != kindPreset.Input)
            {
                throw new ConfigurationException($"{key}:Input", PreprocessingNames.Name(input), $"must be {PreprocessingNames.Name(kindPreset.Input)} for a {kindName} stream");
            }

            field = "Polarity";
            PolarityMode polarity = Polarity is null ? p.Polarity : PreprocessingNames.ParsePolarity(Polarity);
            field = "Binning";
            BinningKind binning = Binning is null ? p.Binning : PreprocessingNames.ParseBinning(Binning);
            field = "Value";
            ValueKind value = Value is null ? p.Value : PreprocessingNames.ParseValue(Value);
            field = null;
            p = p with
            {
                Input = input,
                Width = Width ?? p.Width,
                Height = Height ?? p.Height,
                Channels = Channels ?? p.Channels,
                Pooling = Pooling ?? p.Pooling,
                Polarity = polarity,
                Binning = binning,
                BinUs = BinUs ?? p.BinUs,
                BinEvents = BinEvents ?? p.BinEvents,
                Frames = Frames ?? p.Frames,
                Value = value,
                MaxSteps = MaxSteps ?? p.MaxSteps,
                Pad = Pad ?? p.Pad,
            };
            p.Validate();
            return p.Normalized();
        }
        catch (PreprocessingException ex)
        {
            string property = field ?? ex.Property;
            object? shown = typeof(PreprocessingSettings).GetProperty(property)?.GetValue(this) ?? typeof(Preprocessing).GetProperty(property)?.GetValue(p);
            throw new ConfigurationException($"{key}:{property}", Convert.ToString(shown, CultureInfo.InvariantCulture) ?? string.Empty, ex.Problem);
        }
    }
}

/// <summary>The main job's settings (section "Run" of appsettings.json).</summary>
public sealed class RunSettings
{
    /// <summary>Folder of the recordings (relative to the configuration file's folder).</summary>
    public string Recordings { get; set; } = "recordings";

    /// <summary>Folder for plots, checkpoints and the decision log.</summary>
    public string Output { get; set; } = "out/run";

    /// <summary>Passes over the training recordings (online learning throughout).</summary>
    public int Passes { get; set; } = 3;

    /// <summary>Replay speed: 0 = as fast as possible, 1 = real time.</summary>
    public double Speed { get; set; }

    /// <summary>Keep learning during the held-out replay (prequential decisions either way); off by default, so checkpoints never learn from the held-out split unless asked.</summary>
    public bool LearnOnTest { get; set; }

    /// <summary>Load the streams' checkpoints from Output when present.</summary>
    public bool Resume { get; set; }

    /// <summary>Capacity of the bounded hand-off between the pipeline and the learner.</summary>
    public int ChannelCapacity { get; set; } = 256;

    /// <summary>Overflow policy of that hand-off: wait, drop-oldest or drop-newest.</summary>
    public string Overflow { get; set; } = "wait";

    public long Seed { get; set; } = 1;

    public Dictionary<string, StreamSettings> Streams { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Folder the relative paths are resolved against.</summary>
    internal string BaseDirectory { get; set; } = Directory.GetCurrentDirectory();

    /// <summary>Binds and validates the "Run" section; throws <see cref="ConfigurationException"/> naming the key.</summary>
    public static RunSettings Bind(IConfiguration configuration, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        IConfigurationSection section = configuration.GetSection("Run");
        if (!section.Exists())
        {
            throw new ConfigurationException("Run", "(missing)", "the configuration has no Run section");
        }

        var settings = new RunSettings { BaseDirectory = baseDirectory };
        try
        {
            section.Bind(settings, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationException("Run", "(invalid)", FirstLine(ex));
        }

        settings.Validate();
        return settings;
    }

    internal void Validate()
    {
        StreamSettings.Require(Passes is > 0 and <= 1000, "Run:Passes", Passes, "must be in 1..1000");
        StreamSettings.Require(Speed >= 0 && double.IsFinite(Speed), "Run:Speed", Speed, "must be >= 0 (0 = as fast as possible)");
        StreamSettings.Require(ChannelCapacity is > 0 and <= 1_000_000, "Run:ChannelCapacity", ChannelCapacity, "must be in 1..1000000");
        StreamSettings.Require(Overflow is "wait" or "drop-oldest" or "drop-newest", "Run:Overflow", Overflow, "must be wait, drop-oldest or drop-newest");
        StreamSettings.Require(!string.IsNullOrWhiteSpace(Output), "Run:Output", Output, "must be a folder");
        string recordings = ResolvePath(Recordings);
        StreamSettings.Require(Directory.Exists(recordings), "Run:Recordings", recordings, "folder not found");
        int enabled = 0;
        foreach ((string name, StreamSettings stream) in Streams)
        {
            if (!stream.Enabled)
            {
                continue;
            }

            string key = $"Run:Streams:{name}";
            stream.Validate(key, Passes, Seed);
            foreach ((string listKey, List<string> files) in new[] { ("Train", stream.Train), ("Test", stream.Test) })
            {
                for (int i = 0; i < files.Count; i++)
                {
                    string path = Path.Combine(recordings, files[i]);
                    StreamSettings.Require(File.Exists(path), $"{key}:{listKey}:{i}", path, "file not found");
                }
            }

            enabled++;
        }

        StreamSettings.Require(enabled > 0, "Run:Streams", Streams.Count, "needs at least one enabled stream");
    }

    /// <summary>A path relative to the configuration file's folder.</summary>
    internal string ResolvePath(string path) => Path.GetFullPath(Path.Combine(BaseDirectory, path));

    /// <summary>The recording files of a stream's list (expanding .txt lists of file names).</summary>
    internal List<string> Files(IEnumerable<string> entries)
    {
        string recordings = ResolvePath(Recordings);
        var result = new List<string>();
        foreach (string entry in entries)
        {
            string path = Path.Combine(recordings, entry);
            if (Path.GetExtension(path).Equals(".txt", StringComparison.OrdinalIgnoreCase))
            {
                string dir = Path.GetDirectoryName(path)!;
                foreach (string line in File.ReadLines(path))
                {
                    string name = line.Trim();
                    if (name.Length > 0 && !name.StartsWith('#'))
                    {
                        string file = Path.Combine(dir, name);
                        if (!File.Exists(file))
                        {
                            throw new ConfigurationException(entry, name, $"{path} lists {file}, which does not exist");
                        }

                        result.Add(file);
                    }
                }
            }
            else
            {
                result.Add(path);
            }
        }

        return result;
    }

    private static string FirstLine(Exception ex) => (ex.Message.Split('\n')[0]).Trim();
}

/// <summary>A configuration value that is missing or out of range; names the key.</summary>
public sealed class ConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ConfigurationException(string key, string value, string rule)
        : base($"configuration {key} = {value}: {rule}")
    {
        Key = key;
    }

    /// <summary>Creates the exception.</summary>
    public ConfigurationException()
    {
        Key = string.Empty;
    }

    /// <summary>Creates the exception.</summary>
    public ConfigurationException(string message)
        : base(message)
    {
        Key = string.Empty;
    }

    /// <summary>Creates the exception.</summary>
    public ConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Key = string.Empty;
    }

    /// <summary>The configuration key at fault.</summary>
    public string Key { get; }
}
