using EventSnn.Events;
using EventSnn.Pipeline;
using EventSnn.Serving;
using EventSnn.Snn.Classification;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EventSnn.Samples.Worker;

/// <summary>Settings of the sample worker (configuration section "Worker").</summary>
internal sealed record GestureWorkerSettings
{
    /// <summary>UDP port the camera sends to (jAER's default 8991; 0 = ephemeral).</summary>
    public int Port { get; init; } = JaerUdpSource.DefaultPort;

    /// <summary>Model checkpoint (e.g. out/run/checkpoints/gestures.ckpt from `eventsnn run`); null = untrained.</summary>
    public string? Checkpoint { get; init; }
}

/// <summary>An edge worker: socket source -> model (its own state) -> sink, in a few lines.</summary>
internal sealed class GestureWorker(GestureWorkerSettings settings, ILogger<GestureWorker> log) : BackgroundService
{
    /// <summary>Completes with the bound UDP port once the source listens.</summary>
    public TaskCompletionSource<int> Listening { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var source = new JaerUdpSource(new JaerSourceOptions { Port = settings.Port });                    // socket source (DVS128 addresses)
        var model = new WindowClassifier("camera", SensorGeometry.Dvs128, new WindowClassifierOptions { Checkpoint = settings.Checkpoint });
        void Sink(StreamDecision d) => log.LogInformation("{Decision}", d.ToJson());               // sink: one JSON object per decision

        using (source.Subscribe(batch => model.Process(batch, Sink), error => log.LogError(error, "source failed")))
        {
            Listening.TrySetResult(source.LocalEndPoint!.Port);
            await Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        model.Flush(Sink); // the receive thread has stopped: decide the last window
    }
}
