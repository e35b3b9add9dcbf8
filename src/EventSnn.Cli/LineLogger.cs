using Microsoft.Extensions.Logging;

namespace EventSnn.Cli;

/// <summary>
/// The tool's ILogger for libraries that report progress while a command runs: each message
/// becomes one plain line (warnings and errors prefixed) through <paramref name="writeLine"/>, so
/// it reads like the tool's own output; debug and trace messages are dropped.
/// </summary>
internal sealed class LineLogger(Action<string> writeLine) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (!IsEnabled(logLevel))
        {
            return;
        }

        string prefix = logLevel switch
        {
            LogLevel.Warning => "warning: ",
            LogLevel.Error or LogLevel.Critical => "error: ",
            _ => string.Empty,
        };
        writeLine(prefix + formatter(state, exception));
    }
}
