using EventSnn.Snn;
using EventSnn.Snn.Classification;

namespace EventSnn.Cli;

/// <summary>The names of the recipe's choices, one spelling for the command line and the configuration.</summary>
internal static class RecipeNames
{
    public static readonly IReadOnlyDictionary<string, LossPlacement> Loss = new Dictionary<string, LossPlacement>(StringComparer.Ordinal)
    {
        ["chunk-end"] = LossPlacement.ChunkEnd,
        ["every-step"] = LossPlacement.EveryStep,
    };

    public static readonly IReadOnlyDictionary<string, LossWeighting> Weighting = new Dictionary<string, LossWeighting>(StringComparer.Ordinal)
    {
        ["linear"] = LossWeighting.Linear,
        ["uniform"] = LossWeighting.Uniform,
    };

    public static readonly IReadOnlyDictionary<string, DecisionReadout> Decision = new Dictionary<string, DecisionReadout>(StringComparer.Ordinal)
    {
        ["last"] = DecisionReadout.Last,
        ["mean"] = DecisionReadout.Mean,
        ["max"] = DecisionReadout.Max,
    };

    public static readonly IReadOnlyDictionary<string, InputNormKind> Norm = new Dictionary<string, InputNormKind>(StringComparer.Ordinal)
    {
        ["none"] = InputNormKind.None,
        ["running"] = InputNormKind.Running,
        ["layer"] = InputNormKind.Layer,
        ["batch"] = InputNormKind.Batch,
        ["timestep"] = InputNormKind.Timestep,
    };

    public static readonly IReadOnlyDictionary<string, OptimizerKind> Optimizer = new Dictionary<string, OptimizerKind>(StringComparer.Ordinal)
    {
        ["adam"] = OptimizerKind.Adam,
        ["adamax"] = OptimizerKind.Adamax,
    };

    public static readonly IReadOnlyDictionary<string, LearningRateScheduleKind> Schedule = new Dictionary<string, LearningRateScheduleKind>(StringComparer.Ordinal)
    {
        ["constant"] = LearningRateScheduleKind.Constant,
        ["cosine"] = LearningRateScheduleKind.Cosine,
        ["step"] = LearningRateScheduleKind.Step,
    };

    public static readonly IReadOnlyDictionary<string, SequenceTrainingMethod> Method = new Dictionary<string, SequenceTrainingMethod>(StringComparer.Ordinal)
    {
        ["fptt"] = SequenceTrainingMethod.Fptt,
        ["bptt"] = SequenceTrainingMethod.Bptt,
        ["tbptt"] = SequenceTrainingMethod.Tbptt,
        ["eprop"] = SequenceTrainingMethod.Eprop,
        ["ostl"] = SequenceTrainingMethod.Ostl,
    };

    /// <summary>The name of <paramref name="value"/> in <paramref name="names"/>.</summary>
    public static string Name<T>(IReadOnlyDictionary<string, T> names, T value)
        where T : struct, Enum
    {
        foreach (KeyValuePair<string, T> kv in names)
        {
            if (EqualityComparer<T>.Default.Equals(kv.Value, value))
            {
                return kv.Key;
            }
        }

        return value.ToString().ToLowerInvariant();
    }

    /// <summary>Parses an option's value; an unknown one is a usage error naming the option and the choices.</summary>
    public static T Option<T>(ParsedArgs args, string option, IReadOnlyDictionary<string, T> names, T fallback)
    {
        string? text = args.Get(option);
        if (text is null)
        {
            return fallback;
        }

        return names.TryGetValue(text, out T? v) ? v : throw new UsageException($"option --{option}: '{text}' is not {string.Join(", ", names.Keys)}");
    }
}
