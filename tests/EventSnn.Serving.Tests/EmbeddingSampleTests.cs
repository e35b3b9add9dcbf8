using System.Collections.Concurrent;
using System.Text.Json;
using EventSnn.Events;
using EventSnn.Samples.Worker;
using EventSnn.Serving;
using EventSnn.Snn.Classification;
using EventSnn.Testing;
using Microsoft.Extensions.Logging;

namespace EventSnn.Serving.Tests;

/// <summary>The README's hosted worker (samples/EventSnn.Samples.Worker/GestureWorker.cs, compiled into this project) against a loopback source.</summary>
public class EmbeddingSampleTests
{
    [Fact]
    public async Task Sample_worker_classifies_a_loopback_jaer_stream_and_decides_the_last_window_on_stop()
    {
        using EventBatch pattern = ServingTests.Pattern(30_000, 0, seed: 21);
        List<StreamDecision> expected = ServingTests.Reference("camera", pattern, new WindowClassifierOptions());
        var log = new ListLogger();
        using var worker = new GestureWorker(new GestureWorkerSettings { Port = 0 }, log);
        await worker.StartAsync(CancellationToken.None);
        int port = await worker.Listening.Task.WaitAsync(TimeSpan.FromSeconds(10));
        ServeStreams.SendUdp(port, pattern);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (log.Messages.Count < expected.Count - 1)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{log.Messages.Count} of {expected.Count - 1} decisions");
            await Task.Delay(20);
        }

        await worker.StopAsync(CancellationToken.None);
        string[] decisions = [.. log.Messages];
        Assert.Equal(expected.Count, decisions.Length);
        for (int i = 0; i < decisions.Length; i++)
        {
            JsonElement d = JsonDocument.Parse(decisions[i]).RootElement;
            Assert.Equal("camera", d.GetProperty("stream").GetString());
            Assert.Equal(expected[i].LabelIndex, d.GetProperty("label_index").GetInt32());
            Assert.Equal(expected[i].Events, d.GetProperty("events").GetInt64());
        }
    }

    private sealed class ListLogger : ILogger<GestureWorker>
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Information)
            {
                Messages.Enqueue(formatter(state, exception));
            }
        }
    }
}
