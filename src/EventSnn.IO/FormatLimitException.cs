namespace EventSnn.IO;

/// <summary>
/// Thrown by a writer (before it encodes anything of the batch at fault) when the data does not
/// fit its format: a coordinate beyond the address fields, a timestamp the time fields cannot
/// hold, a sensor without a matching device class. The message names the format and the limit;
/// it carries no parameter name.
/// </summary>
public sealed class FormatLimitException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public FormatLimitException(EventFormat format, string problem)
        : base(problem)
    {
        Format = format;
    }

    /// <summary>Not used; present for the standard exception constructors rule.</summary>
    public FormatLimitException()
    {
    }

    /// <summary>Not used; present for the standard exception constructors rule.</summary>
    public FormatLimitException(string message)
        : base(message)
    {
    }

    /// <summary>Not used; present for the standard exception constructors rule.</summary>
    public FormatLimitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The format whose limit was reached.</summary>
    public EventFormat Format { get; }
}
