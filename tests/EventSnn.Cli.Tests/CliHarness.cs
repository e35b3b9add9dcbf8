using EventSnn.Cli;

namespace EventSnn.Cli.Tests;

/// <summary>Runs the tool in-process and captures its output.</summary>
internal static class CliHarness
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CommandRunner.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
