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

/// <summary>
/// Hands a <see cref="LineLogger"/> to the log categories named (a silent logger to every other),
/// so a host prints the library messages the tool shows and nothing of its own chatter.
/// </summary>
internal sealed class LineLoggerProvider(Action<string> writeLine, params string[] categories) : ILoggerProvider
{
    private readonly LineLogger _logger = new(writeLine);

    public ILogger CreateLogger(string categoryName) =>
        Array.IndexOf(categories, categoryName) >= 0 ? _logger : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose()
    {
    }
}
