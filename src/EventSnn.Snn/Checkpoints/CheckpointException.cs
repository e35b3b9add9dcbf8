namespace EventSnn.Snn;

/// <summary>A checkpoint could not be written, read or applied; the message names the file and what is wrong.</summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CheckpointException(string path, string problem, Exception? inner = null)
        : base($"checkpoint '{path}': {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>Creates the exception.</summary>
    public CheckpointException()
        : this(string.Empty, "unknown problem")
    {
    }

    /// <summary>Creates the exception.</summary>
    public CheckpointException(string message)
        : this(string.Empty, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public CheckpointException(string message, Exception innerException)
        : this(string.Empty, message, innerException)
    {
    }

    /// <summary>The checkpoint file.</summary>
    public string FilePath { get; }

    /// <summary>What was wrong.</summary>
    public string Problem { get; }
}
