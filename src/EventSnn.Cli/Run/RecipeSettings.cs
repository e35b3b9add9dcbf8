using System.Globalization;
using EventSnn.Snn;
using EventSnn.Snn.Classification;

namespace EventSnn.Cli.Run;

/// <summary>
/// A stream's training recipe (bound from Run:Streams:&lt;name&gt;:Recipe): any field of
/// <see cref="SequenceTrainerOptions"/> that differs from the defaults, with the names and values
/// of the train command's options (Method fptt|bptt|tbptt|eprop|ostl, Layers "256,256", Loss chunk-end|every-step, Weighting
/// linear|uniform, Oracle, Decision last|mean|max, Norm none|running|layer, NormGain, Dropout,
/// TauBias, RhoBias, LearnableSlope, LiquidReadout, NormRecurrent, NormReadout, Optimizer adam|adamax, LearningRate, WeightDecay, Schedule constant|cosine|step,
/// ChunkLength, Chunks, Alpha, Beta, GradientClip, ExplodingLossFactor). The schedule runs over
/// the passes. Errors name the key.
/// </summary>
public sealed class RecipeSettings
{
    public string? Method { get; set; }

    public string? Layers { get; set; }

    public string? Loss { get; set; }

    public string? Weighting { get; set; }

    public bool? Oracle { get; set; }

    public string? Decision { get; set; }

    public string? Norm { get; set; }

    public double? NormGain { get; set; }

    public double? Dropout { get; set; }

    public double? TauBias { get; set; }

    public double? RhoBias { get; set; }

    public bool? LearnableSlope { get; set; }

    public bool? LiquidReadout { get; set; }

    public bool? NormRecurrent { get; set; }

    public bool? NormReadout { get; set; }

    public string? Optimizer { get; set; }

    public double? LearningRate { get; set; }

    public double? WeightDecay { get; set; }

    public string? Schedule { get; set; }

    public int? ChunkLength { get; set; }

    public int? Chunks { get; set; }

    public double? Alpha { get; set; }

    public double? Beta { get; set; }

    public double? GradientClip { get; set; }

    public double? ExplodingLossFactor { get; set; }

    /// <summary>DVS streams: augmentation of the training passes' samples (e.g. "shift:16,drop-event:0.1").</summary>
    public string? Augment { get; set; }

    /// <summary>The recipe: the defaults with the given fields; <paramref name="passes"/> sets the schedule's length.</summary>
    internal SequenceTrainerOptions Build(string key, int passes, int seed)
    {
        var r = new SequenceTrainerOptions { Epochs = Math.Max(1, passes), Seed = seed, Batch = 1 };
        r = r with
        {
            Method = Method is null ? r.Method : Parse($"{key}:Method", Method, RecipeNames.Method),
            LayerSizes = Layers is null ? r.LayerSizes : ParseLayers($"{key}:Layers", Layers),
            Loss = Loss is null ? r.Loss : Parse($"{key}:Loss", Loss, RecipeNames.Loss),
            Weighting = Weighting is null ? r.Weighting : Parse($"{key}:Weighting", Weighting, RecipeNames.Weighting),
            Oracle = Oracle ?? r.Oracle,
            Decision = Decision is null ? r.Decision : Parse($"{key}:Decision", Decision, RecipeNames.Decision),
            InputNorm = Norm is null ? r.InputNorm : Parse($"{key}:Norm", Norm, RecipeNames.Norm),
            NormGain = NormGain ?? r.NormGain,
            Dropout = Dropout ?? r.Dropout,
            TauBiasInit = TauBias ?? r.TauBiasInit,
            RhoBiasInit = RhoBias ?? r.RhoBiasInit,
            LearnableSlope = LearnableSlope ?? r.LearnableSlope,
            LiquidReadout = LiquidReadout ?? r.LiquidReadout,
            RecurrentNorm = NormRecurrent ?? r.RecurrentNorm,
            ReadoutNorm = NormReadout ?? r.ReadoutNorm,
            Optimizer = Optimizer is null ? r.Optimizer : Parse($"{key}:Optimizer", Optimizer, RecipeNames.Optimizer),
            LearningRate = LearningRate ?? r.LearningRate,
            WeightDecay = WeightDecay ?? r.WeightDecay,
            Schedule = Schedule is null ? r.Schedule : Parse($"{key}:Schedule", Schedule, RecipeNames.Schedule),
            ChunkLength = ChunkLength ?? r.ChunkLength,
            Chunks = Chunks ?? r.Chunks,
            Alpha = Alpha ?? r.Alpha,
            Beta = Beta ?? r.Beta,
            GradientClip = GradientClip ?? r.GradientClip,
            ExplodingLossFactor = ExplodingLossFactor ?? r.ExplodingLossFactor,
            Augment = Augment is null ? r.Augment : ParseAugment($"{key}:Augment", Augment),
        };
        if (r.InputNorm.PerTimestep())
        {
            throw new ConfigurationException($"{key}:Norm", RecipeNames.Name(RecipeNames.Norm, r.InputNorm), "per-timestep normalisation is offline only; streaming needs running or layer");
        }

        try
        {
            r.Validate(streaming: true);
        }
        catch (ArgumentException ex)
        {
            string field = ex.ParamName switch
            {
                nameof(SequenceTrainerOptions.InputNorm) => "Norm",
                nameof(SequenceTrainerOptions.TauBiasInit) => "TauBias",
                nameof(SequenceTrainerOptions.RhoBiasInit) => "RhoBias",
                nameof(SequenceTrainerOptions.RecurrentNorm) => "NormRecurrent",
                nameof(SequenceTrainerOptions.ReadoutNorm) => "NormReadout",
                nameof(SequenceTrainerOptions.LayerSizes) => "Layers",
                string p => p,
                null => "?",
            };
            throw new ConfigurationException($"{key}:{field}", "(invalid)", ex.Message.Split(" (Parameter", 2)[0]);
        }

        return r;
    }

    private static string ParseAugment(string key, string text)
    {
        try
        {
            string a = EventSnn.Transforms.Augmentation.Parse(text).ToString();
            return a == "none" ? string.Empty : a;
        }
        catch (EventSnn.Transforms.TransformException ex)
        {
            throw new ConfigurationException(key, text, ex.Message);
        }
    }

    private static T Parse<T>(string key, string text, IReadOnlyDictionary<string, T> names)
    {
        if (names.TryGetValue(text.Trim().ToLowerInvariant(), out T? v))
        {
            return v;
        }

        throw new ConfigurationException(key, text, "must be one of " + string.Join(", ", names.Keys));
    }

    private static int[] ParseLayers(string key, string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is < 1 or > 3)
        {
            throw new ConfigurationException(key, text, "must list 1 to 3 layer sizes, e.g. 256,256");
        }

        var sizes = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] is < 1 or > 4096)
            {
                throw new ConfigurationException(key, text, "layer sizes must be in 1..4096");
            }
        }

        return sizes;
    }
}
