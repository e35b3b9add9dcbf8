namespace EventSnn.Cli;

/// <summary>Entry point of the eventsnn tool.</summary>
public static class Program
{
    /// <summary>Runs the tool and returns its exit code.</summary>
    public static int Main(string[] args) => CommandRunner.Run(args, Console.Out, Console.Error);
}
