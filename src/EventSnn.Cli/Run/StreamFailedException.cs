namespace EventSnn.Cli.Run;

/// <summary>
/// One stream of <c>run</c> failed; the others were stopped at a sample boundary and saved. The
/// message names the stream, the cause and what was saved; <see cref="Exception.InnerException"/>
/// is the cause.
/// </summary>
public sealed class StreamFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StreamFailedException(string stream, Exception cause, IReadOnlyList<string> saved)
        : base(Describe(stream, cause, saved), cause)
    {
        Stream = stream;
    }

    /// <summary>Creates the exception.</summary>
    public StreamFailedException()
    {
        Stream = string.Empty;
    }

    /// <summary>Creates the exception.</summary>
    public StreamFailedException(string message)
        : base(message)
    {
        Stream = string.Empty;
    }

    /// <summary>Creates the exception.</summary>
    public StreamFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Stream = string.Empty;
    }

    /// <summary>The stream that failed.</summary>
    public string Stream { get; }

    /// <summary>True when the cause is bad input (a damaged or missing file), not a failure of the tool.</summary>
    public bool IsBadInput => InnerException is EventSnn.IO.EventFormatException or FileNotFoundException or DirectoryNotFoundException or EventSnn.Transforms.PreprocessingException;

    private static string Describe(string stream, Exception cause, IReadOnlyList<string> saved)
    {
        string why = cause is OutOfMemoryException ? "out of memory" : CommandRunner.UserMessage(cause);
        string rest = saved.Count == 0
            ? "no other stream was running"
            : $"the other streams stopped at a sample boundary and saved their checkpoints: {string.Join(", ", saved)}";
        return $"stream '{stream}' failed: {why}; {rest}";
    }
}
