using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EventSnn.Testing;

/// <summary>An ILogger that keeps every formatted message (for tests that assert what a library reported).</summary>
internal sealed class ListLogger(ConcurrentQueue<string> messages) : ILogger
{
    public ListLogger()
        : this(new ConcurrentQueue<string>())
    {
    }

    public ConcurrentQueue<string> Messages { get; } = messages;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Messages.Enqueue(formatter(state, exception));
}
