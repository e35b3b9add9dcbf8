namespace EventSnn.Transforms;

/// <summary>
/// A preprocessing description is invalid, or does not fit the data or model it is used with.
/// The message names the field (its JSON name) and the value; <see cref="Property"/> is the
/// matching property of <see cref="Preprocessing"/> (for configuration keys).
/// </summary>
public sealed class PreprocessingException : ArgumentException
{
    /// <summary>Creates the exception for <paramref name="field"/> (JSON name).</summary>
    public PreprocessingException(string field, string message)
        : base($"preprocessing {field}: {message}", field)
    {
        Field = field;
        Property = PropertyOf(field);
        Problem = message;
    }

    /// <summary>Creates the exception.</summary>
    public PreprocessingException()
        : this("(unknown)", "invalid")
    {
    }

    /// <summary>Creates the exception.</summary>
    public PreprocessingException(string message)
        : base(message)
    {
        Field = string.Empty;
        Property = string.Empty;
        Problem = message;
    }

    /// <summary>Creates the exception.</summary>
    public PreprocessingException(string message, Exception innerException)
        : base(message, innerException)
    {
        Field = string.Empty;
        Property = string.Empty;
        Problem = message;
    }

    /// <summary>What is wrong with the field (the message without the "preprocessing field:" prefix).</summary>
    public string Problem { get; } = string.Empty;

    /// <summary>The field at fault, as named in JSON (e.g. "max_steps").</summary>
    public string Field { get; }

    /// <summary>The property at fault (e.g. "MaxSteps"), as named in configuration files.</summary>
    public string Property { get; }

    /// <summary>The property name of a JSON field name (snake_case to PascalCase).</summary>
    public static string PropertyOf(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        Span<char> buffer = stackalloc char[field.Length];
        int n = 0;
        bool upper = true;
        foreach (char c in field)
        {
            if (c == '_')
            {
                upper = true;
                continue;
            }

            buffer[n++] = upper ? char.ToUpperInvariant(c) : c;
            upper = false;
        }

        return new string(buffer[..n]);
    }
}
