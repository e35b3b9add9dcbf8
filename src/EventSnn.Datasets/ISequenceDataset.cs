using EventSnn.Transforms;

namespace EventSnn.Datasets;

/// <summary>A dataset split that streams its samples (nothing more than one sample is held at a time unless the source is small).</summary>
public interface ISequenceDataset
{
    /// <summary>Name for messages, e.g. the file or folder.</summary>
    string Name { get; }

    /// <summary>Number of classes.</summary>
    int Classes { get; }

    /// <summary>Class names by label where the dataset knows them (else empty).</summary>
    IReadOnlyList<string> ClassNames => [];

    /// <summary>Input features per step.</summary>
    int Features { get; }

    /// <summary>Number of samples (when known without reading them; -1 otherwise).</summary>
    int Count { get; }

    /// <summary>Streams the samples in a stable order.</summary>
    IEnumerable<SpikeSequence> Samples();
}
