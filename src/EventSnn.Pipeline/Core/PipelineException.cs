using EventSnn.IO;

namespace EventSnn.Pipeline;

/// <summary>
/// A failure of a pipeline source that is not a format error (I/O, socket, reader factory),
/// naming the source (file path or peer) and the byte position reached. Format errors travel as
/// <see cref="EventFormatException"/>, which names both already.
/// </summary>
public sealed class PipelineException : IOException
{
    /// <summary>Creates the exception.</summary>
    public PipelineException(string source, long position, string problem, Exception? inner = null)
        : base($"{source}: byte {position}: {problem}", inner)
    {
        SourceName = source;
        Position = position;
    }

    /// <summary>Not used; present for the standard exception constructors rule.</summary>
    public PipelineException()
        : this("<unknown>", 0, "pipeline error")
    {
    }

    /// <summary>Not used; present for the standard exception constructors rule.</summary>
    public PipelineException(string message)
        : this("<unknown>", 0, message)
    {
    }

    /// <summary>Not used; present for the standard exception constructors rule.</summary>
    public PipelineException(string message, Exception innerException)
        : this("<unknown>", 0, message, innerException)
    {
    }

    /// <summary>File path or peer.</summary>
    public string SourceName { get; }

    /// <summary>Byte position in the source when the failure happened.</summary>
    public long Position { get; }

    /// <summary>
    /// Passes <see cref="EventFormatException"/>, <see cref="PipelineException"/> and
    /// <see cref="OperationCanceledException"/> through; wraps anything else with the source and position.
    /// </summary>
    public static Exception Wrap(Exception error, string source, long position)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error is EventFormatException or PipelineException or OperationCanceledException
            ? error
            : new PipelineException(source, position, error.Message, error);
    }
}
