using System.CommandLine;
using System.CommandLine.Invocation;
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
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        args = WithDefaultCommand(args);
        bool verbose = Array.IndexOf(args, "--verbose") >= 0;
        RootCommand root = CliParser.BuildRoot(CommandCatalog.All(), (command, sc, result, token) => Execute(command, sc, result, stdout, stderr, verbose, token));
        ParseResult parsed = root.Parse(args);
        var configuration = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            EnableDefaultExceptionHandler = false,

            // Ctrl-C / SIGTERM cancel the command's token; it finishes its chunk, saves and exits 130
            ProcessTerminationTimeout = TimeSpan.FromMinutes(1),
        };
        if (parsed.Errors.Count > 0)
        {
            // System.CommandLine's messages and "did you mean" suggestions, then exit 2 as for any usage error
            if (parsed.Action is ParseErrorAction errors)
            {
                errors.ShowHelp = false;
                errors.ShowTypoCorrections = true;
            }

            using var captured = new StringWriter();
            parsed.Invoke(new InvocationConfiguration { Output = captured, Error = captured, EnableDefaultExceptionHandler = false });
            var messages = new HashSet<string>(parsed.Errors.Select(e => e.Message), StringComparer.Ordinal);
            foreach (string line in captured.ToString().Split('\n'))
            {
                string text = line.TrimEnd('\r');
                if (text.Length > 0)
                {
                    stderr.WriteLine(messages.Contains(text) ? "error: " + text : text);
                }
            }

            var names = new List<string>();
            for (System.CommandLine.Parsing.SymbolResult? r = parsed.CommandResult; r is System.CommandLine.Parsing.CommandResult command; r = command.Parent)
            {
                if (command.Command is not RootCommand)
                {
                    names.Insert(0, command.Command.Name);
                }
            }

            stderr.WriteLine(names.Count == 0 ? "Run 'eventsnn --help'." : $"Run 'eventsnn {string.Join(' ', names)} --help'.");
            return BadInput;
        }

        return parsed.InvokeAsync(configuration).GetAwaiter().GetResult();
    }

    /// <summary>
    /// No command: <c>run</c> when the working folder has its inputs (recordings/ and
    /// appsettings.json), else the help; options without a command go to <c>run</c>.
    /// </summary>
    private static string[] WithDefaultCommand(string[] args)
    {
        if (args.Length == 0)
        {
            return Directory.Exists("recordings") && File.Exists("appsettings.json") ? ["run"] : ["--help"];
        }

        string first = args[0];
        bool builtIn = first is "-h" or "-?" or "--help" or "--version" or "--verbose" || first.StartsWith('[');
        return first.StartsWith('-') && !builtIn ? ["run", .. args] : args;
    }

    private static int Execute(Command command, System.CommandLine.Command sc, ParseResult result, TextWriter stdout, TextWriter stderr, bool verbose, CancellationToken token)
    {
        try
        {
            ParsedArgs parsed = CliParser.ToParsedArgs(command, sc, result);
            parsed.Cancellation = token;
            return command.Execute(parsed, stdout, stderr);
        }
        catch (EventFormatException ex)
        {
            // the reader could not tell the format: the option that names it
            string hint = ex.Field == "format" && ex.Offset == 0 ? " with --format <name>" : string.Empty;
            stderr.WriteLine(verbose ? ex.ToString() : "error: " + ex.Message + hint);
            return BadInput;
        }
        catch (EventSnn.Datasets.Mnist.MnistUnavailableException ex)
        {
            stderr.WriteLine(verbose ? ex.ToString() : $"error: {ex.Message}: pass --mnist <folder with the MNIST IDX files (train-images-idx3-ubyte, ...)>");
            return Failure;
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
        catch (EventSnn.Cli.Run.StreamFailedException ex)
        {
            stderr.WriteLine(verbose ? ex.ToString() : "error: " + ex.Message);
            return ex.IsBadInput ? BadInput : Failure;
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
