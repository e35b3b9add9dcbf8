using System.Globalization;

namespace EventSnn.Cli;

/// <summary>An option a command accepts.</summary>
/// <param name="Name">Long name without dashes.</param>
/// <param name="Value">Placeholder for the value, or null for a flag.</param>
/// <param name="Description">One line of help.</param>
public sealed record OptionSpec(string Name, string? Value, string Description)
{
    /// <summary>Other accepted names without dashes (former names of the option, listed in help after the name).</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>Accepted but not listed in help (kept for scripts written against an older name).</summary>
    public bool Hidden { get; init; }

    /// <summary>
    /// The accepted values (compared ignoring case) when the value name does not list them all;
    /// null: taken from a value name of alternatives (<c>a|b|c</c>, compared exactly).
    /// </summary>
    public IReadOnlyList<string>? Choices { get; init; }
}

/// <summary>One command of the tool.</summary>
public abstract class Command
{
    /// <summary>Name as typed, e.g. "inspect" or "bench decode".</summary>
    public abstract string Name { get; }

    /// <summary>One line for the command list.</summary>
    public abstract string Summary { get; }

    /// <summary>Positional arguments, e.g. "&lt;file&gt;".</summary>
    public virtual string Arguments => string.Empty;

    /// <summary>Most positional arguments the command takes: by default one per top-level &lt;...&gt; in <see cref="Arguments"/>.</summary>
    public virtual int MaxArguments
    {
        get
        {
            int count = 0, depth = 0;
            foreach (char ch in Arguments)
            {
                if (ch == '<' && depth++ == 0)
                {
                    count++;
                }
                else if (ch == '>')
                {
                    depth--;
                }
            }

            return count;
        }
    }

    /// <summary>Options the command accepts (besides --help and --verbose).</summary>
    public virtual IReadOnlyList<OptionSpec> Options => [];

    /// <summary>Runs the command; returns the exit code.</summary>
    public abstract int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr);
}

/// <summary>Parsed positional arguments and options of one command.</summary>
public sealed class ParsedArgs
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);

    /// <summary>Positional arguments in order.</summary>
    public List<string> Positionals { get; } = [];

    /// <summary>
    /// Parses <paramref name="args"/> (the arguments after the command's name) against
    /// <paramref name="command"/>'s options with System.CommandLine, as the tool does; a parse
    /// error is a <see cref="UsageException"/> with System.CommandLine's message.
    /// </summary>
    public static ParsedArgs Parse(string[] args, Command command)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(command);
        return CliParser.ParseFor(command, args);
    }

    /// <summary>Cancelled on Ctrl-C / SIGTERM (System.CommandLine's process-termination handling): commands stop gracefully.</summary>
    public CancellationToken Cancellation { get; internal set; }

    /// <summary>Sets an option (parser use).</summary>
    internal void Set(string name, string? value) => _options[name] = value;

    /// <summary>All options given, by name.</summary>
    public IReadOnlyDictionary<string, string?> All => _options;

    /// <summary>True when the option or flag was given.</summary>
    public bool Has(string name) => _options.ContainsKey(name);

    /// <summary>The option's value or null.</summary>
    public string? Get(string name) => _options.TryGetValue(name, out string? v) ? v : null;

    /// <summary>Positional argument <paramref name="index"/>, or a usage error naming it.</summary>
    public string Positional(int index, string what) =>
        index < Positionals.Count ? Positionals[index] : throw new UsageException($"missing argument {what}");

    /// <summary>An integer option (a value outside the 32-bit range is a usage error).</summary>
    public int GetInt(string name, int fallback)
    {
        long v = GetLong(name, fallback);
        return v is >= int.MinValue and <= int.MaxValue ? (int)v : throw new UsageException($"option --{name}: {v} is out of range (at most {int.MaxValue})");
    }

    /// <summary>An integer option that must be at least 1.</summary>
    public int GetPositiveInt(string name, int fallback)
    {
        int v = GetInt(name, fallback);
        return v >= 1 ? v : throw new UsageException($"option --{name}: {v} must be at least 1");
    }

    /// <summary>A 64-bit integer option that must be at least 1.</summary>
    public long GetPositiveLong(string name, long fallback)
    {
        long v = GetLong(name, fallback);
        return v >= 1 ? v : throw new UsageException($"option --{name}: {v} must be at least 1");
    }

    /// <summary>A duration in seconds that must be finite and not negative (0 usually means "no limit").</summary>
    public double GetSeconds(string name, double fallback)
    {
        double v = GetDouble(name, fallback);
        return double.IsFinite(v) && v >= 0 ? v : throw new UsageException($"option --{name}: '{Get(name)}' must be a number of seconds >= 0");
    }

    /// <summary>Refuses more than <paramref name="max"/> positional arguments, naming the first extra one.</summary>
    public void AtMostPositionals(int max, string usage)
    {
        if (Positionals.Count > max)
        {
            throw new UsageException($"unexpected argument '{Positionals[max]}' (usage: {usage})");
        }
    }

    /// <summary>A 64-bit integer option.</summary>
    public long GetLong(string name, long fallback)
    {
        string? v = Get(name);
        if (v is null)
        {
            return fallback;
        }

        return long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long r)
            ? r
            : throw new UsageException($"option --{name}: '{v}' is not an integer");
    }

    /// <summary>A floating-point option.</summary>
    public double GetDouble(string name, double fallback)
    {
        string? v = Get(name);
        if (v is null)
        {
            return fallback;
        }

        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double r)
            ? r
            : throw new UsageException($"option --{name}: '{v}' is not a number");
    }
}
