using System.Runtime.InteropServices;
using EventSnn.Datasets;
using EventSnn.Snn.Classification;

namespace EventSnn.Cli.Commands;

/// <summary>A dataset folder's splits loaded for the spiking network (shared by train, eval and dataset train).</summary>
/// <param name="Folder">The folder.</param>
/// <param name="Kind">Recognised layout.</param>
/// <param name="Train">Training samples.</param>
/// <param name="Test">Test samples.</param>
/// <param name="Classes">Number of classes.</param>
internal sealed record TrainingData(string Folder, string Kind, List<ILabelledSequence> Train, List<ILabelledSequence> Test, int Classes)
{
    /// <summary>Input features per step.</summary>
    public int Features => Train.Count > 0 ? Train[0].Features : Test.Count > 0 ? Test[0].Features : 0;

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

    /// <summary>Opens <paramref name="dir"/> (SHD/SSC/S-MNIST .h5 pair, DVS128 Gesture, N-MNIST) with the spiking network's binning; usage errors name the folder.</summary>
    public static TrainingData Load(string dir)
    {
        if (!Directory.Exists(dir))
        {
            throw new UsageException($"dataset folder not found: {dir}");
        }

        ISequenceDataset trainSet, testSet;
        string kind;
        try
        {
            (trainSet, testSet, kind) = DatasetFolder.OpenForTraining(dir);
        }
        catch (FileNotFoundException ex)
        {
            throw new UsageException(ex.Message);
        }

        var train = new List<ILabelledSequence>();
        var test = new List<ILabelledSequence>();
        int classes;
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

        return new TrainingData(dir, kind, train, test, classes);
    }
}
