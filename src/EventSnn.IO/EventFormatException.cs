namespace EventSnn.IO;

/// <summary>
/// The one exception readers throw for bad input: names the source (file path or network
/// peer), the byte offset where the problem was found and, where it applies, the field.
/// </summary>
public sealed class EventFormatException : IOException
{
    /// <summary>Creates the exception.</summary>
    public EventFormatException(string source, long offset, string problem, string? field = null, Exception? inner = null)
        : base(Format(source, offset, problem, field), inner)
    {
        SourceName = source;
        Offset = offset;
        Problem = problem;
        Field = field;
    }

    /// <summary>Not used; present for the standard exception constructors rule.</summary>
    public EventFormatException()
        : this("<unknown>", 0, "format error")
    {
    }

    /// <summary>Not used; present for the standard exception constructors rule.</summary>
    public EventFormatException(string message)
        : this("<unknown>", 0, message)
    {
    }

    /// <summary>Not used; present for the standard exception constructors rule.</summary>
    public EventFormatException(string message, Exception innerException)
        : this("<unknown>", 0, message, null, innerException)
    {
    }

    /// <summary>File path or peer address.</summary>
    public string SourceName { get; }

    /// <summary>Byte offset in the source where the problem was found.</summary>
    public long Offset { get; }

    /// <summary>What was wrong, without source and offset.</summary>
    public string Problem { get; }

    /// <summary>Field name, when one field is at fault.</summary>
    public string? Field { get; }

    /// <summary>True when the input simply ended inside a record/packet (a truncated file).</summary>
    public bool IsTruncation { get; init; }

    private static string Format(string source, long offset, string problem, string? field) =>
        field is null ? $"{source}: byte {offset}: {problem}" : $"{source}: byte {offset}: field {field}: {problem}";
}

/// <summary>A non-fatal problem met while reading (tolerant mode): where and what.</summary>
public readonly record struct FormatWarning(long Offset, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"byte {Offset}: {Message}";
}
