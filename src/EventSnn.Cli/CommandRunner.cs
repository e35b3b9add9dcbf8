using EventSnn.IO;

namespace EventSnn.Cli;

/// <summary>Dispatches the command line to a command and maps failures to exit codes.</summary>
public static class CommandRunner
{
    /// <summary>Exit code for success.</summary>
    public const int Ok = 0;

    /// <summary>Exit code for a failure inside a command (not the input's fault).</summary>
    public const int Failure = 1;

    /// <summary>Exit code for bad input or bad usage.</summary>
    public const int BadInput = 2;

    /// <summary>Exit code after Ctrl-C / SIGTERM (128 + SIGINT).</summary>
    public const int Interrupted = 130;

    /// <summary>Runs the tool.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        bool verbose = Array.IndexOf(args, "--verbose") >= 0;
        try
        {
            var commands = CommandCatalog.All();
            if (args.Length > 0 && (args[0] is "--help" or "-h" or "help"))
            {
                PrintHelp(commands, stdout);
                return Ok;
            }

            (Command? command, int consumed) = Find(commands, args);
            if (command is null)
            {
                if (args.Length == 0 || args[0].StartsWith('-'))
                {
                    command = commands.FirstOrDefault(c => c.Name == "run");
                    consumed = 0;
                }

                if (command is null)
                {
                    stderr.WriteLine($"eventsnn: unknown command '{string.Join(' ', args.Take(2))}'. Run 'eventsnn --help'.");
                    return BadInput;
                }
            }

            var parsed = ParsedArgs.Parse(args.AsSpan(consumed).ToArray(), command);
            if (parsed.Has("help"))
            {
                stdout.WriteLine(command.Help());
                return Ok;
            }

            return command.Execute(parsed, stdout, stderr);
        }
        catch (EventFormatException ex)
        {
            stderr.WriteLine(verbose ? ex.ToString() : "error: " + ex.Message);
            return BadInput;
        }
        catch (UsageException ex)
        {
            stderr.WriteLine("error: " + ex.Message);
            return BadInput;
        }
        catch (EventSnn.Transforms.PreprocessingException ex)
        {
            stderr.WriteLine(verbose ? ex.ToString() : "error: " + ex.Message);
            return BadInput;
        }
        catch (FileNotFoundException ex)
        {
            stderr.WriteLine(verbose ? ex.ToString() : $"error: {ex.FileName ?? ex.Message}: file not found");
            return BadInput;
        }
        catch (DirectoryNotFoundException ex)
        {
            stderr.WriteLine(verbose ? ex.ToString() : "error: " + ex.Message);
            return BadInput;
        }
        catch (FormatLimitException ex)
        {
            stderr.WriteLine(verbose ? ex.ToString() : "error: " + ex.Message);
            return BadInput;
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("cancelled");
            return Interrupted;
        }
        catch (Exception ex)
        {
            stderr.WriteLine(verbose ? ex.ToString() : $"error: {UserMessage(ex)} (run with --verbose for details)");
            return Failure;
        }
    }

    /// <summary>An exception's message for the user: without the "(Parameter 'name')" suffix of argument exceptions.</summary>
    public static string UserMessage(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        string message = ex.Message;
        if (ex is ArgumentException { ParamName: { } name })
        {
            message = message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal);
        }

        int cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return cut >= 0 && message.EndsWith("')", StringComparison.Ordinal) ? message[..cut] : message;
    }

    private static (Command?, int) Find(IReadOnlyList<Command> commands, string[] args)
    {
        if (args.Length >= 2)
        {
            string two = args[0] + " " + args[1];
            foreach (Command c in commands)
            {
                if (c.Name == two)
                {
                    return (c, 2);
                }
            }
        }

        if (args.Length >= 1)
        {
            foreach (Command c in commands)
            {
                if (c.Name == args[0])
                {
                    return (c, 1);
                }
            }

            // a group name alone ("bench") gets the group's help
            var group = commands.Where(c => c.Name.StartsWith(args[0] + " ", StringComparison.Ordinal)).ToList();
            if (group.Count > 0)
            {
                throw new UsageException($"'{args[0]}' needs a subcommand: {string.Join(", ", group.Select(c => c.Name))}");
            }
        }

        return (null, 0);
    }

    private static void PrintHelp(IReadOnlyList<Command> commands, TextWriter stdout)
    {
        stdout.WriteLine("eventsnn — neuromorphic event streams and online-learning spiking networks");
        stdout.WriteLine();
        stdout.WriteLine("usage: eventsnn <command> [arguments] [options]   (no command = run)");
        stdout.WriteLine();
        int width = commands.Max(c => c.Name.Length) + 2;
        foreach (Command c in commands)
        {
            stdout.WriteLine("  " + c.Name.PadRight(width) + c.Summary);
        }

        stdout.WriteLine();
        stdout.WriteLine("Every command accepts --help and --verbose (stack traces on errors).");
    }
}

/// <summary>Bad usage of the command line: printed as one line, exit code 2.</summary>
public sealed class UsageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public UsageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public UsageException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
