using System.Globalization;
using System.Text;

namespace EventSnn.Cli;

/// <summary>An option a command accepts.</summary>
/// <param name="Name">Long name without dashes.</param>
/// <param name="Value">Placeholder for the value, or null for a flag.</param>
/// <param name="Description">One line of help.</param>
public sealed record OptionSpec(string Name, string? Value, string Description);

/// <summary>One command of the tool.</summary>
public abstract class Command
{
    /// <summary>Name as typed, e.g. "inspect" or "bench decode".</summary>
    public abstract string Name { get; }

    /// <summary>One line for the command list.</summary>
    public abstract string Summary { get; }

    /// <summary>Positional arguments, e.g. "&lt;file&gt;".</summary>
    public virtual string Arguments => string.Empty;

    /// <summary>Options the command accepts (besides --help and --verbose).</summary>
    public virtual IReadOnlyList<OptionSpec> Options => [];

    /// <summary>Runs the command; returns the exit code.</summary>
    public abstract int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr);

    /// <summary>Full help text.</summary>
    public string Help()
    {
        var sb = new StringBuilder();
        sb.Append("usage: eventsnn ").Append(Name);
        if (Arguments.Length > 0)
        {
            sb.Append(' ').Append(Arguments);
        }

        sb.AppendLine(" [options]");
        sb.AppendLine();
        sb.AppendLine(Summary);
        sb.AppendLine();
        sb.AppendLine("options:");
        foreach (OptionSpec o in Options)
        {
            string left = "--" + o.Name + (o.Value is null ? string.Empty : " <" + o.Value + ">");
            sb.Append("  ").Append(left.PadRight(32)).AppendLine(o.Description);
        }

        sb.Append("  ").Append("--verbose".PadRight(32)).AppendLine("show stack traces on errors");
        sb.Append("  ").Append("--help".PadRight(32)).AppendLine("show this help");
        return sb.ToString();
    }
}

/// <summary>Parsed positional arguments and options of one command.</summary>
public sealed class ParsedArgs
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);

    /// <summary>Positional arguments in order.</summary>
    public List<string> Positionals { get; } = [];

    /// <summary>Parses <paramref name="args"/> against the options of <paramref name="command"/>.</summary>
    public static ParsedArgs Parse(string[] args, Command command)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(command);
        var result = new ParsedArgs();
        var specs = command.Options.ToDictionary(o => o.Name, StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                string name = a[2..];
                string? inline = null;
                int eq = name.IndexOf('=', StringComparison.Ordinal);
                if (eq >= 0)
                {
                    inline = name[(eq + 1)..];
                    name = name[..eq];
                }

                if (name is "verbose" or "help")
                {
                    result._options[name] = null;
                    continue;
                }

                if (!specs.TryGetValue(name, out OptionSpec? spec))
                {
                    // configuration overrides (--Section:Key=value) pass through for commands that take them
                    if (name.Contains(':', StringComparison.Ordinal) && specs.ContainsKey("config-overrides"))
                    {
                        result._options[name] = inline ?? (i + 1 < args.Length ? args[++i] : throw new UsageException($"option --{name} needs a value"));
                        continue;
                    }

                    throw new UsageException($"unknown option --{name} for '{command.Name}' (see eventsnn {command.Name} --help)");
                }

                if (spec.Value is null)
                {
                    if (inline is not null)
                    {
                        throw new UsageException($"option --{name} takes no value");
                    }

                    result._options[name] = null;
                }
                else
                {
                    if (inline is null)
                    {
                        if (i + 1 >= args.Length)
                        {
                            throw new UsageException($"option --{name} needs a value <{spec.Value}>");
                        }

                        inline = args[++i];
                    }

                    result._options[name] = inline;
                }
            }
            else
            {
                result.Positionals.Add(a);
            }
        }

        return result;
    }

    /// <summary>All options given, by name.</summary>
    public IReadOnlyDictionary<string, string?> All => _options;

    /// <summary>True when the option or flag was given.</summary>
    public bool Has(string name) => _options.ContainsKey(name);

    /// <summary>The option's value or null.</summary>
    public string? Get(string name) => _options.TryGetValue(name, out string? v) ? v : null;

    /// <summary>Positional argument <paramref name="index"/>, or a usage error naming it.</summary>
    public string Positional(int index, string what) =>
        index < Positionals.Count ? Positionals[index] : throw new UsageException($"missing argument {what}");

    /// <summary>An integer option.</summary>
    public int GetInt(string name, int fallback) => (int)GetLong(name, fallback);

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
