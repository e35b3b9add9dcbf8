using EventSnn.Datasets;
using EventSnn.Events;
using EventSnn.Snn;
using EventSnn.Snn.Classification;
using EventSnn.Transforms;

namespace EventSnn.Serving;

/// <summary>
/// The model streams of one sensor size are classified with: the checkpoint (or the options'
/// fresh seeded weights) read ONCE, its preprocessing, class names and shape, and a frozen copy of
/// its decision weights (<see cref="OnlineSequenceClassifier.CreateDecisionNetwork"/>). Streams that
/// only classify share that copy read-only, each with its own network state, so a stream costs its
/// state and buffers, not a model. A stream that learns gets its own
/// <see cref="OnlineSequenceClassifier"/> from <see cref="CreateLearner"/>. Thread-safe.
/// </summary>
public sealed class WindowModel
{
    private readonly CheckpointData? _data;

    private WindowModel(SensorGeometry geometry, WindowClassifierOptions options, string? path)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!geometry.IsKnown)
        {
            throw new ArgumentException("the sensor size must be known", nameof(geometry));
        }

        Options = options;
        CheckpointPath = path;
        _data = path is null ? null : Checkpoint.Read(path);
        Preprocessing? stored = _data is null ? null : ModelMetadata.ReadPreprocessing(_data);
        PreprocessingStored = stored is not null;
        Preprocessing = stored ?? options.Preprocessing ?? options.PreprocessingFor(geometry);
        if (Preprocessing.Input != InputKind.Dvs)
        {
            throw new PreprocessingException("input", $"the model takes {PreprocessingNames.Name(Preprocessing.Input)} input, not DVS events");
        }

        NetworkConfig? shape = _data?.Config;
        if (shape is not null && shape.InputSize != Preprocessing.Features)
        {
            throw new CheckpointException(path!, $"the model takes {shape.InputSize} inputs; its preprocessing ({Preprocessing.Describe()}) gives {Preprocessing.Features}");
        }

        int classes = shape?.Readout.Size ?? options.Classes;
        StepsPerWindow = Math.Max(1, Preprocessing.StepsPerSample(options.WindowUs) ?? (Preprocessing.MaxSteps > 0 ? Preprocessing.MaxSteps : options.StepsPerWindow));
        ClassNames = ModelMetadata.ClassNames(options.ClassNames.Count > 0 ? options.ClassNames : _data is null ? null : ModelMetadata.ReadClasses(_data), classes);
        ClassifierOptions = new OnlineClassifierOptions
        {
            Inputs = Preprocessing.Features,
            Classes = classes,
            Steps = StepsPerWindow,
            Recipe = _data is null
                ? new SequenceTrainerOptions { Hidden = options.Hidden, Chunks = Math.Clamp(options.Chunks, 1, StepsPerWindow), Seed = (int)options.Seed, Batch = 1 }
                : SequenceTrainerOptions.ForCheckpoint(_data),
        };
        Decision = CreateLearner().CreateDecisionNetwork();
    }

    /// <summary>Windows and model settings.</summary>
    public WindowClassifierOptions Options { get; }

    /// <summary>The checkpoint the model was read from (null: fresh seeded weights).</summary>
    public string? CheckpointPath { get; }

    /// <summary>How every window is prepared for the model.</summary>
    public Preprocessing Preprocessing { get; }

    /// <summary>True when <see cref="Preprocessing"/> came from the checkpoint; false when it was configured or assumed.</summary>
    public bool PreprocessingStored { get; }

    /// <summary>Steps of one window.</summary>
    public int StepsPerWindow { get; }

    /// <summary>Class names (index = class).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Shape and recipe of the classifier.</summary>
    public OnlineClassifierOptions ClassifierOptions { get; }

    /// <summary>The frozen decision weights, shared read-only by every stream that does not learn.</summary>
    public Network<float> Decision { get; }

    /// <summary>
    /// Reads the model from <paramref name="checkpoint"/>, else <see cref="WindowClassifierOptions.Checkpoint"/>,
    /// else builds the options' fresh seeded model, for streams of <paramref name="geometry"/>.
    /// </summary>
    /// <exception cref="CheckpointException">The checkpoint does not load or does not fit its preprocessing.</exception>
    /// <exception cref="PreprocessingException">The preprocessing is not for DVS events.</exception>
    public static WindowModel Load(SensorGeometry geometry, WindowClassifierOptions options, string? checkpoint = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new WindowModel(geometry, options, checkpoint ?? options.Checkpoint);
    }

    /// <summary>A classifier of its own (own weights, FPTT and optimiser state) starting from this model.</summary>
    public OnlineSequenceClassifier CreateLearner()
    {
        var learner = new OnlineSequenceClassifier(ClassifierOptions) { Learning = false };
        if (CheckpointPath is not null)
        {
            learner.Load(CheckpointPath);
        }

        return learner;
    }
}
