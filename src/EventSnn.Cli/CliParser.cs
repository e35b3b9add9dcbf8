using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;
using SclCommand = System.CommandLine.Command;

namespace EventSnn.Cli;

/// <summary>
/// The tool's command line on System.CommandLine: one System.CommandLine command per
/// <see cref="Command"/> (two-word names become subcommands of a group: <c>bench</c>,
/// <c>dataset</c>, <c>repro</c>), its <see cref="OptionSpec"/>s as options (a flag is a
/// <c>bool</c> option, any other a string the command converts and checks itself), the positional
/// arguments as one zero-or-more argument, and for every command with <c>--width</c> and
/// <c>--height</c> a <c>--sensor WxH</c> option. The parse result becomes the command's
/// <see cref="ParsedArgs"/>.
/// </summary>
internal static class CliParser
{
    /// <summary>Name of the spec that lets a command take <c>--Section:Key=value</c> configuration overrides.</summary>
    public const string ConfigOverrides = "config-overrides";

    /// <summary>The global <c>--verbose</c> flag.</summary>
    public static Option<bool> Verbose { get; } = new("--verbose") { Description = "show stack traces on errors", Recursive = true };

    /// <summary>Group summaries (the first word of two-word command names).</summary>
    private static readonly Dictionary<string, string> GroupSummaries = new(StringComparer.Ordinal)
    {
        ["bench"] = "measure decoding, the pipeline, the network step and the backends",
        ["dataset"] = "make datasets, fit the spike-count baseline, train and evaluate on them",
        ["repro"] = "reproduce the paper's tasks (adding problem, sequential MNIST)",
        ["cluster"] = "scale out: Orleans silos with a grain per sensor stream, NATS JetStream ingestion, decisions back to JetStream",
    };

    /// <summary>
    /// The root command with every command of <paramref name="commands"/>; running one calls
    /// <paramref name="execute"/> with the command, its parse result and the cancellation token
    /// System.CommandLine cancels on Ctrl-C / SIGTERM.
    /// </summary>
    public static RootCommand BuildRoot(IReadOnlyList<Command> commands, Func<Command, SclCommand, ParseResult, CancellationToken, int> execute)
    {
        var root = new RootCommand("eventsnn: neuromorphic event streams and online-learning spiking networks (no command: run, with recordings/ and appsettings.json in the working folder)");
        root.Options.Add(Verbose);
        root.SetAction(ShowHelp);
        var groups = new Dictionary<string, SclCommand>(StringComparer.Ordinal);
        foreach (Command c in commands)
        {
            string[] words = c.Name.Split(' ');
            SclCommand parent = root;
            if (words.Length == 2)
            {
                if (!groups.TryGetValue(words[0], out SclCommand? group))
                {
                    group = new SclCommand(words[0], GroupSummaries.GetValueOrDefault(words[0], words[0] + " commands"));
                    group.SetAction(ShowHelp); // a group alone lists its subcommands
                    groups[words[0]] = group;
                    root.Subcommands.Add(group);
                }

                parent = group;
            }

            SclCommand sc = Build(c, words[^1]);
            // on a pool thread, so that System.CommandLine's Ctrl-C / SIGTERM handling is in place while it runs
            sc.SetAction((result, token) => Task.Run(() => execute(c, sc, result, token), CancellationToken.None));
            parent.Subcommands.Add(sc);
        }

        var helpWords = new Argument<string[]>("command") { Arity = ArgumentArity.ZeroOrMore, Description = "the command, e.g. 'bench step'" };
        var help = new SclCommand("help", "show help for a command") { helpWords };
        help.SetAction(result =>
        {
            string[] words = result.GetValue(helpWords) ?? [];
            return root.Parse([.. words, "--help"]).Invoke(result.InvocationConfiguration);
        });
        root.Subcommands.Add(help);

        var shell = new Argument<string>("shell") { Description = "bash, zsh or pwsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh", "pwsh");
        var completions = new SclCommand("completions", "print a shell completion script: eval \"$(eventsnn completions bash)\"") { shell };
        completions.SetAction(result =>
        {
            result.InvocationConfiguration.Output.Write(CompletionScripts.For(result.GetValue(shell)!));
            return CommandRunner.Ok;
        });
        root.Subcommands.Add(completions);
        return root;
    }

    /// <summary>Prints the help of the command parsed (a plain action: parse errors still win over it).</summary>
    private static int ShowHelp(ParseResult result) => new HelpAction().Invoke(result);

    /// <summary>Parses <paramref name="args"/> (after the command's name) for <paramref name="command"/> alone (library and test use).</summary>
    public static ParsedArgs ParseFor(Command command, string[] args)
    {
        SclCommand sc = Build(command, command.Name.Split(' ')[^1]);
        sc.Options.Add(Verbose);
        ParseResult result = sc.Parse(args);
        if (result.Errors.Count > 0)
        {
            throw new UsageException(string.Join("; ", result.Errors.Select(e => e.Message)));
        }

        return ToParsedArgs(command, sc, result);
    }

    /// <summary>The command's <see cref="ParsedArgs"/> from a successful parse.</summary>
    public static ParsedArgs ToParsedArgs(Command command, SclCommand sc, ParseResult result)
    {
        var parsed = new ParsedArgs();
        foreach (OptionSpec spec in command.Options)
        {
            if (spec.Name == ConfigOverrides)
            {
                continue;
            }

            Option option = sc.Options.First(o => o.Name == "--" + spec.Name);
            if (result.GetResult(option) is not { Implicit: false })
            {
                continue;
            }

            if (spec.Value is null)
            {
                if (result.GetValue((Option<bool>)option))
                {
                    parsed.Set(spec.Name, null);
                }
            }
            else
            {
                parsed.Set(spec.Name, result.GetValue((Option<string>)option));
            }
        }

        if (sc.Options.FirstOrDefault(o => o.Name == "--sensor") is Option<string> sensor && !command.Options.Any(o => o.Name == "sensor") && result.GetResult(sensor) is { Implicit: false })
        {
            string value = result.GetValue(sensor)!;
            if (parsed.Has("width") || parsed.Has("height"))
            {
                throw new UsageException("--sensor and --width/--height say the same thing: give one of them");
            }

            (int w, int h) = ParseSensor(value);
            parsed.Set("width", w.ToString(CultureInfo.InvariantCulture));
            parsed.Set("height", h.ToString(CultureInfo.InvariantCulture));
        }

        if (result.GetValue(Verbose))
        {
            parsed.Set("verbose", null);
        }

        if (sc.Arguments.Count > 0)
        {
            string[] positionals = result.GetValue((Argument<string[]>)sc.Arguments[0]) ?? [];
            CheckNoUnknownOptions(command, result, positionals);
            if (positionals.Length > command.MaxArguments)
            {
                throw new UsageException($"unexpected argument '{positionals[command.MaxArguments]}' for '{command.Name}' (usage: eventsnn {command.Name} {command.Arguments} [options])");
            }

            parsed.Positionals.AddRange(positionals);
        }

        AddConfigOverrides(command, result.UnmatchedTokens, parsed);
        return parsed;
    }

    /// <summary>
    /// A token that looks like an option but is none of the command's would otherwise be taken for
    /// a positional argument (a file name): a usage error naming it and the nearest option. After
    /// <c>--</c> every token is an argument.
    /// </summary>
    private static void CheckNoUnknownOptions(Command command, ParseResult result, string[] positionals)
    {
        int literal = int.MaxValue;
        for (int i = 0; i < result.Tokens.Count; i++)
        {
            if (result.Tokens[i].Type == TokenType.DoubleDash)
            {
                literal = i;
                break;
            }
        }

        foreach (string p in positionals)
        {
            if (p.Length < 2 || p[0] != '-' || double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                continue;
            }

            for (int i = 0; i < Math.Min(literal, result.Tokens.Count); i++)
            {
                if (result.Tokens[i].Value == p)
                {
                    string? near = Nearest(p.TrimStart('-'), command.Options.Where(o => !o.Hidden).Select(o => o.Name));
                    throw new UsageException($"unknown option {p} for '{command.Name}'" + (near is null ? string.Empty : $"; did you mean --{near}?") + $" (see eventsnn {command.Name} --help)");
                }
            }
        }
    }

    /// <summary>"WxH" as two positive sizes, or a usage error naming the option.</summary>
    public static (int Width, int Height) ParseSensor(string value)
    {
        if (EventSnn.Events.SensorGeometry.TryParse(value, out EventSnn.Events.SensorGeometry g))
        {
            return (g.Width, g.Height);
        }

        throw new UsageException($"option --sensor: '{value}' is not WxH (e.g. 346x260)");
    }

    private static SclCommand Build(Command c, string name)
    {
        var sc = new SclCommand(name, c.Summary);
        if (c.Arguments.Length > 0)
        {
            // System.CommandLine wraps the help name in <...> itself
            string helpName = c.Arguments.StartsWith('<') && c.Arguments.EndsWith('>') ? c.Arguments[1..^1] : c.Arguments;
            var positional = new Argument<string[]>("arguments") { Arity = ArgumentArity.ZeroOrMore, HelpName = helpName };
            sc.Arguments.Add(positional);
        }

        foreach (OptionSpec spec in c.Options)
        {
            if (spec.Name == ConfigOverrides)
            {
                // --Section:Key=value configuration overrides are not options: they stay unmatched
                sc.TreatUnmatchedTokensAsErrors = false;
                continue;
            }

            string[] aliases = [.. spec.Aliases.Select(a => "--" + a)];
            Option option = spec.Value is null
                ? new Option<bool>("--" + spec.Name, aliases) { Arity = ArgumentArity.Zero }
                : WithValueCheck(new Option<string>("--" + spec.Name, aliases) { HelpName = spec.Value }, spec);
            option.Description = spec.Description;
            option.Hidden = spec.Hidden;
            sc.Options.Add(option);
        }

        if (c.Options.Any(o => o.Name == "width") && c.Options.Any(o => o.Name == "height") && !c.Options.Any(o => o.Name == "sensor"))
        {
            sc.Options.Add(new Option<string>("--sensor") { HelpName = "WxH", Description = "sensor size in pixels, width x height, e.g. 346x260" });
        }

        return sc;
    }

    /// <summary>Value names of options that take a whole number (counts, sizes, microseconds, milliseconds, pixels).</summary>
    private static readonly HashSet<string> WholeNumberValues = new(StringComparer.Ordinal) { "n", "N", "L", "B", "D", "C", "k", "K", "us", "ms", "px" };

    /// <summary>Value names of options that take a finite number (rates, seconds, probabilities, factors).</summary>
    private static readonly HashSet<string> NumberValues = new(StringComparer.Ordinal) { "x", "s", "p", "seconds", "m", "percent", "rate", "a", "b", "c", "b0", "beta", "events/s" };

    /// <summary>The names --compression accepts (EventWriters.ParseCompression).</summary>
    internal static readonly IReadOnlyList<string> CompressionNames = ["lz4", "lz4-high", "lz4_high", "lz4high", "zstd", "zstd-high", "zstd_high", "zstdhigh", "none"];

    /// <summary>What an option's value must be, checked at parse time.</summary>
    internal enum ValueKind
    {
        /// <summary>Free text (paths, names, lists): checked by the command.</summary>
        Text,

        /// <summary>A whole number (64-bit).</summary>
        WholeNumber,

        /// <summary>A finite number.</summary>
        Number,

        /// <summary>One of <see cref="ValueCheckOf"/>'s choices.</summary>
        Choice,
    }

    /// <summary>
    /// The check of an option's value, from its value name: whole numbers for counts, sizes, us,
    /// ms and pixels (and alternatives that are all numbers, e.g. <c>2|4</c>); finite numbers for
    /// rates, seconds, probabilities and factors; one of the listed alternatives for <c>a|b|c</c>
    /// (or <see cref="OptionSpec.Choices"/>); anything else is the command's to check.
    /// </summary>
    internal static (ValueKind Kind, IReadOnlyList<string> Choices, bool IgnoreCase) ValueCheckOf(OptionSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Value is not { } name)
        {
            return (ValueKind.Text, [], false);
        }

        if (spec.Choices is { } explicitChoices)
        {
            return (ValueKind.Choice, explicitChoices, true);
        }

        if (WholeNumberValues.Contains(name))
        {
            return (ValueKind.WholeNumber, [], false);
        }

        if (NumberValues.Contains(name))
        {
            return (ValueKind.Number, [], false);
        }

        string[] alternatives = name.Split('|');
        if (alternatives.Length < 2 || name.Contains('.', StringComparison.Ordinal) || name.Contains("name", StringComparison.Ordinal))
        {
            return (ValueKind.Text, [], false);
        }

        return alternatives.All(a => long.TryParse(a, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            ? (ValueKind.WholeNumber, [], false)
            : (ValueKind.Choice, alternatives, false);
    }

    /// <summary>
    /// The value check of every option, at parse time and in one place (<see cref="ValueCheckOf"/>).
    /// Ranges are the commands' (they differ per option); a value of the wrong kind never reaches
    /// a command, whatever else is wrong with the command line.
    /// </summary>
    private static Option<string> WithValueCheck(Option<string> option, OptionSpec spec)
    {
        (ValueKind kind, IReadOnlyList<string> choices, bool ignoreCase) = ValueCheckOf(spec);
        if (kind == ValueKind.Text)
        {
            return option;
        }

        option.Validators.Add(result =>
        {
            foreach (System.CommandLine.Parsing.Token token in result.Tokens)
            {
                string v = token.Value;
                string? error = kind switch
                {
                    ValueKind.WholeNumber when !long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) => "is not a whole number",
                    ValueKind.Number when !(double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)) => "is not a finite number",
                    ValueKind.Choice when !choices.Contains(ignoreCase ? v.Trim().ToLowerInvariant() : v, StringComparer.Ordinal) => "is not one of " + string.Join(", ", choices),
                    _ => null,
                };
                if (error is not null)
                {
                    result.AddError($"option --{spec.Name}: '{v}' {error}");
                }
            }
        });
        return option;
    }

    /// <summary>The candidate closest to <paramref name="word"/> (edit distance at most 2, or a third of its length when longer), or null.</summary>
    internal static string? Nearest(string word, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = Math.Max(2, word.Length / 3) + 1;
        foreach (string c in candidates)
        {
            int d = EditDistance(word, c);
            if (d < bestDistance)
            {
                best = c;
                bestDistance = d;
            }
        }

        return best;
    }

    private static int EditDistance(string a, string b)
    {
        int[] row = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            row[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }

        return row[b.Length];
    }

    private static void AddConfigOverrides(Command command, IReadOnlyList<string> unmatched, ParsedArgs parsed)
    {
        for (int i = 0; i < unmatched.Count; i++)
        {
            string token = unmatched[i];
            if (!token.StartsWith("--", StringComparison.Ordinal) || !token.Contains(':', StringComparison.Ordinal))
            {
                throw new UsageException($"unrecognized argument '{token}' for '{command.Name}' (see eventsnn {command.Name} --help)");
            }

            string name = token[2..];
            int eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                parsed.Set(name[..eq], name[(eq + 1)..]);
            }
            else if (i + 1 < unmatched.Count)
            {
                parsed.Set(name, unmatched[++i]);
            }
            else
            {
                throw new UsageException($"option --{name} needs a value");
            }
        }
    }
}
