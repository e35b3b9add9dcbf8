using System.Globalization;
using EventSnn.Datasets;
using EventSnn.Pipeline;
using EventSnn.Snn;
using EventSnn.Transforms;

namespace EventSnn.Cli.Commands;

/// <summary>
/// What a checkpoint given to eval, classify or serve says about its input: the stored
/// preprocessing description and class names, and the checks that command-line options and the
/// data agree with them (a contradiction is a usage error naming the field and both values).
/// </summary>
internal sealed class CheckpointInput
{
    private CheckpointInput(CheckpointData data)
    {
        Data = data;
        Stored = ModelMetadata.ReadPreprocessing(data);
        Classes = ModelMetadata.ReadClasses(data);
    }

    /// <summary>The checkpoint.</summary>
    public CheckpointData Data { get; }

    /// <summary>The file.</summary>
    public string Path => Data.Path;

    /// <summary>The stored description, or null (an older checkpoint).</summary>
    public Preprocessing? Stored { get; }

    /// <summary>The stored class names, or null.</summary>
    public IReadOnlyList<string>? Classes { get; }

    /// <summary>Reads <paramref name="path"/>; a missing or invalid checkpoint is a usage error naming it.</summary>
    public static CheckpointInput Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new UsageException($"--checkpoint {path}: file not found");
        }

        try
        {
            return new CheckpointInput(Checkpoint.Read(path));
        }
        catch (CheckpointException ex)
        {
            throw new UsageException("--checkpoint " + ex.Message, ex);
        }
    }

    /// <summary>The stored description; without one, <paramref name="assumed"/> after a notice on <paramref name="stderr"/> saying so.</summary>
    public Preprocessing Resolve(Preprocessing assumed, TextWriter stderr)
    {
        if (Stored is not null)
        {
            return Stored;
        }

        stderr.WriteLine("warning: " + ModelMetadata.MissingNotice(Data, assumed));
        return assumed;
    }

    /// <summary>Throws when option --<paramref name="option"/> was given with a value other than the checkpoint's <paramref name="field"/>.</summary>
    public void CheckOption(ParsedArgs args, string option, string field, long stored)
    {
        if (args.Get(option) is { } text && (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long given) || given != stored))
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"--{option} {text} contradicts the checkpoint {Path}: its {field} = {stored}"));
        }
    }

    /// <summary>Throws when the data's <paramref name="field"/> (<paramref name="have"/>) differs from the checkpoint's (<paramref name="want"/>).</summary>
    public void CheckData(string source, string field, object have, object want)
    {
        if (!Equals(have, want))
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"{source} does not fit the checkpoint {Path}: {field} = {have} here, {want} in the checkpoint"));
        }
    }
}
