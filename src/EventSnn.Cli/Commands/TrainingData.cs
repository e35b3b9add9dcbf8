using EventSnn.Datasets;
using EventSnn.Snn.Classification;
using EventSnn.Transforms;

namespace EventSnn.Cli.Commands;

/// <summary>A dataset folder's splits prepared for the spiking network (shared by train, eval and dataset train).</summary>
/// <param name="Folder">The folder.</param>
/// <param name="Kind">Recognised layout.</param>
/// <param name="Train">Training samples.</param>
/// <param name="Test">Test samples.</param>
/// <param name="Classes">Number of classes.</param>
/// <param name="ClassNames">Class names (the index where the dataset has none).</param>
/// <param name="Preprocessing">How every sample was prepared (stored with the checkpoints).</param>
internal sealed record TrainingData(string Folder, string Kind, List<ILabelledSequence> Train, List<ILabelledSequence> Test, int Classes, IReadOnlyList<string> ClassNames, Preprocessing Preprocessing)
{
    /// <summary>Input features per step.</summary>
    public int Features => Preprocessing.Features;

    /// <summary>Longest sequence of the training split.</summary>
    public int Steps
    {
        get
        {
            int steps = 0;
            foreach (ILabelledSequence s in Train)
            {
                steps = Math.Max(steps, s.Steps);
            }

            return steps;
        }
    }

    /// <summary>The layout of <paramref name="dir"/>; usage errors name the folder.</summary>
    public static DatasetLayout Layout(string dir)
    {
        if (!Directory.Exists(dir))
        {
            throw new UsageException($"dataset folder not found: {dir}");
        }

        try
        {
            return DatasetFolder.Recognise(dir);
        }
        catch (FileNotFoundException ex)
        {
            throw new UsageException(CommandRunner.UserMessage(ex));
        }
    }

    /// <summary>
    /// Opens <paramref name="dir"/> (SHD/SSC/S-MNIST .h5 pair, DVS128 Gesture, N-MNIST) prepared by
    /// <paramref name="preprocessing"/>; usage errors name the folder, and a description that does
    /// not fit the data names the field and both values (prefixed by <paramref name="context"/>).
    /// </summary>
    public static TrainingData Load(string dir, DatasetLayout layout, Preprocessing preprocessing, string? context = null)
    {
        ISequenceDataset trainSet, testSet;
        try
        {
            (trainSet, testSet) = DatasetFolder.Open(dir, layout, preprocessing);
        }
        catch (FileNotFoundException ex)
        {
            throw new UsageException(CommandRunner.UserMessage(ex));
        }
        catch (PreprocessingException ex)
        {
            throw new UsageException($"{context}{dir}: {ex.Message}", ex);
        }

        var train = new List<ILabelledSequence>();
        var test = new List<ILabelledSequence>();
        int classes;
        IReadOnlyList<string> names;
        try
        {
            int maxLabel = -1;
            foreach (SpikeSequence s in trainSet.Samples())
            {
                train.Add(s);
                maxLabel = Math.Max(maxLabel, s.Label);
            }

            foreach (SpikeSequence s in testSet.Samples())
            {
                test.Add(s);
                maxLabel = Math.Max(maxLabel, s.Label);
            }

            classes = Math.Max(Math.Max(trainSet.Classes, testSet.Classes), Math.Max(maxLabel + 1, 2));
            names = EventSnn.Snn.ModelMetadata.ClassNames(trainSet.ClassNames.Count >= testSet.ClassNames.Count ? trainSet.ClassNames : testSet.ClassNames, classes);
        }
        catch (PreprocessingException ex)
        {
            throw new UsageException($"{context}{dir}: {ex.Message}", ex);
        }
        finally
        {
            (trainSet as IDisposable)?.Dispose();
            (testSet as IDisposable)?.Dispose();
        }

        if (train.Count == 0 || test.Count == 0)
        {
            throw new UsageException($"{dir}: the {(train.Count == 0 ? "train" : "test")} split is empty");
        }

        return new TrainingData(dir, layout.Kind, train, test, classes, names, preprocessing);
    }
}
