using System.Globalization;
using System.Text.Json.Nodes;
using EventSnn.Transforms;

namespace EventSnn.Snn;

/// <summary>
/// What a checkpoint records about its model's input: the <see cref="Preprocessing"/> it was fed
/// with (named metadata "preprocessing") and the class names ("classes": [...]). Writers attach
/// both around their saves; readers rebuild exactly that chain.
/// </summary>
public static class ModelMetadata
{
    /// <summary>Metadata name of the preprocessing description.</summary>
    public const string PreprocessingKey = "preprocessing";

    /// <summary>Metadata name of the class names.</summary>
    public const string ClassesKey = "classes";

    /// <summary>The stored description, or null when the checkpoint has none; an invalid one is a <see cref="CheckpointException"/> naming the field.</summary>
    public static Preprocessing? ReadPreprocessing(CheckpointData checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        JsonNode? node = checkpoint.Metadata(PreprocessingKey);
        if (node is null)
        {
            return null;
        }

        try
        {
            return Preprocessing.FromJsonNode(node);
        }
        catch (PreprocessingException ex)
        {
            throw new CheckpointException(checkpoint.Path, "invalid stored " + ex.Message, ex);
        }
    }

    /// <summary>The stored class names, or null when the checkpoint has none.</summary>
    public static IReadOnlyList<string>? ReadClasses(CheckpointData checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (checkpoint.Metadata(ClassesKey) is not JsonArray array)
        {
            return null;
        }

        var names = new List<string>(array.Count);
        foreach (JsonNode? n in array)
        {
            names.Add(n is JsonValue v && v.TryGetValue(out string? s) ? s : names.Count.ToString(CultureInfo.InvariantCulture));
        }

        return names;
    }

    /// <summary>
    /// The class names to store for <paramref name="classes"/> classes: the given names, the
    /// index where a name is missing.
    /// </summary>
    public static string[] ClassNames(IReadOnlyList<string>? names, int classes)
    {
        var result = new string[Math.Max(0, classes)];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = names is not null && i < names.Count && !string.IsNullOrEmpty(names[i]) ? names[i] : i.ToString(CultureInfo.InvariantCulture);
        }

        return result;
    }

    /// <summary>
    /// Attaches the description and the class names to every checkpoint saved by this thread
    /// (or async flow) until the returned scope is disposed (see <see cref="Checkpoint.AttachMetadata"/>).
    /// </summary>
    public static IDisposable Attach(Preprocessing preprocessing, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(preprocessing);
        ArgumentNullException.ThrowIfNull(classes);
        var names = new JsonArray();
        foreach (string c in classes)
        {
            names.Add(c);
        }

        IDisposable first = Checkpoint.AttachMetadata(PreprocessingKey, preprocessing.ToJsonNode());
        IDisposable second = Checkpoint.AttachMetadata(ClassesKey, names);
        return new Both(second, first);
    }

    /// <summary>
    /// The sentence a tool prints for a checkpoint without a description: which checkpoint, why
    /// it has none, and the chain assumed instead.
    /// </summary>
    public static string MissingNotice(CheckpointData checkpoint, Preprocessing assumed)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(assumed);
        string why = checkpoint.Version < 2 ? $"format version {checkpoint.Version}, written before checkpoints stored how their input was prepared" : "its writer did not store one";
        return $"checkpoint {checkpoint.Path} has no preprocessing description ({why}); assuming {assumed.Describe()}";
    }

    private sealed class Both(IDisposable inner, IDisposable outer) : IDisposable
    {
        public void Dispose()
        {
            inner.Dispose();
            outer.Dispose();
        }
    }
}
