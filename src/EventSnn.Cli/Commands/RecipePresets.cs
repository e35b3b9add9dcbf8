using EventSnn.Snn;
using EventSnn.Snn.Classification;

namespace EventSnn.Cli.Commands;

/// <summary>
/// The default recipe of train and dataset train per kind of dataset, chosen by measurement
/// (docs/benchmarks.md): the library defaults (a loss at every step, the decision from the mean
/// log-probability, cosine schedule, 40 epochs) with one LTC layer of 256 for the SHD layout
/// (audio, S-MNIST .h5: 128 neurons gave 87.7-92.3 % over three seeds on the generated spoken
/// digits, 256 gave 90.3-92.7 %) and of 128 otherwise; for DVS gestures 256 neurons with layer-normalised input currents, 100 epochs, and every
/// training sample shifted by up to 16 pixels and thinned by 10 % afresh each epoch — the unseen
/// users differ in position and size, which a dense network does not generalise over by itself.
/// Options given on the command line override the preset.
/// </summary>
internal static class RecipePresets
{
    /// <summary>The preset for the dataset layout.</summary>
    public static SequenceTrainerOptions For(DatasetLayout layout) => layout.Source switch
    {
        DatasetSource.DvsGesture => new SequenceTrainerOptions
        {
            Hidden = 256,
            InputNorm = InputNormKind.Layer,
            Epochs = 100,
            Augment = "shift:16,drop-event:0.1",
        },
        DatasetSource.Shd => new SequenceTrainerOptions { Hidden = 256 },
        _ => new SequenceTrainerOptions(),
    };
}
