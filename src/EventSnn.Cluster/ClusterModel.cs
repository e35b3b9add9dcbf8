using EventSnn.Datasets;
using EventSnn.Events;
using EventSnn.Snn;
using EventSnn.Snn.Classification;
using EventSnn.Transforms;

namespace EventSnn.Cluster;

/// <summary>
/// The model every stream grain of a silo starts from: a checkpoint (with the preprocessing and
/// class names it stores) or fresh seeded weights over the DVS Gesture chain for the stream's
/// sensor. Each grain then learns its own copy online.
/// </summary>
public sealed class ClusterModel
{
    private ClusterModel(string? checkpoint, Preprocessing preprocessing, IReadOnlyList<string> classNames, OnlineClassifierOptions options)
    {
        CheckpointPath = checkpoint;
        Preprocessing = preprocessing;
        ClassNames = classNames;
        Options = options;
    }

    /// <summary>The checkpoint read (null: fresh weights).</summary>
    public string? CheckpointPath { get; }

    /// <summary>How a labelled sample becomes the network's steps.</summary>
    public Preprocessing Preprocessing { get; }

    /// <summary>Class names (index = class).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Shape and recipe of the classifier.</summary>
    public OnlineClassifierOptions Options { get; }

    /// <summary>
    /// The model for streams of <paramref name="geometry"/>: read from <paramref name="checkpoint"/>
    /// (its stored preprocessing must fit the sensor), else fresh with <paramref name="hidden"/>
    /// neurons, <paramref name="classes"/> classes and <paramref name="seed"/>.
    /// </summary>
    /// <exception cref="CheckpointException">The checkpoint does not load or does not fit its preprocessing.</exception>
    public static ClusterModel Create(SensorGeometry geometry, string? checkpoint, int hidden = 128, int classes = 10, int seed = 1)
    {
        if (!geometry.IsKnown)
        {
            throw new ArgumentException("the sensor size must be known", nameof(geometry));
        }

        Preprocessing assumed = PreprocessingPresets.DvsGesture.ForSensor(geometry.Width, geometry.Height);
        if (checkpoint is null)
        {
            int steps = assumed.StepsPerSample() ?? assumed.Frames;
            return new ClusterModel(null, assumed, ModelMetadata.ClassNames(null, classes), new OnlineClassifierOptions
            {
                Inputs = assumed.Features,
                Classes = classes,
                Steps = steps,
                Recipe = new SequenceTrainerOptions { Hidden = hidden, Chunks = Math.Clamp(5, 1, steps), Seed = seed, Batch = 1 },
            });
        }

        CheckpointData data = Checkpoint.Read(checkpoint);
        Preprocessing preprocessing = ModelMetadata.ReadPreprocessing(data) ?? assumed;
        if (preprocessing.Input != InputKind.Dvs)
        {
            throw new CheckpointException(checkpoint, "the model takes audio spikes, not DVS events");
        }

        if (preprocessing.Width != geometry.Width || preprocessing.Height != geometry.Height)
        {
            throw new CheckpointException(checkpoint, $"the model was trained on a {preprocessing.Width}x{preprocessing.Height} sensor, the stream's is {geometry.Width}x{geometry.Height}");
        }

        if (data.Config.InputSize != preprocessing.Features)
        {
            throw new CheckpointException(checkpoint, $"the model takes {data.Config.InputSize} inputs; its preprocessing ({preprocessing.Describe()}) gives {preprocessing.Features}");
        }

        int n = data.Config.Readout.Size;
        int stepsPerSample = preprocessing.StepsPerSample() ?? (preprocessing.MaxSteps > 0 ? preprocessing.MaxSteps : 20);
        return new ClusterModel(checkpoint, preprocessing, ModelMetadata.ClassNames(ModelMetadata.ReadClasses(data), n), new OnlineClassifierOptions
        {
            Inputs = preprocessing.Features,
            Classes = n,
            Steps = stepsPerSample,
            // learning online goes on at the recipe's base rate (a trained schedule has decayed it to ~0)
            Recipe = SequenceTrainerOptions.ForCheckpoint(data) with { Schedule = LearningRateScheduleKind.Constant },
        });
    }

    /// <summary>A classifier of its own (weights, FPTT and optimiser state) starting from this model, learning.</summary>
    public OnlineSequenceClassifier CreateClassifier()
    {
        var classifier = new OnlineSequenceClassifier(Options) { Learning = true };
        if (CheckpointPath is not null)
        {
            classifier.Load(CheckpointPath);
        }

        return classifier;
    }
}
