using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace EventSnn.Cluster;

/// <summary>
/// Runs in every silo: creates the JetStream streams, then keeps an active grain for every sensor
/// stream that has published events. Grains of a silo that died are activated again on a live
/// one at the next round (Orleans places them), and they resume from their persisted state.
/// </summary>
public sealed class StreamActivator(INatsConnection nats, IGrainFactory grains, IOptions<ClusterSiloOptions> options, ILogger<StreamActivator> log) : BackgroundService
{
    private readonly ClusterSiloOptions _options = (options ?? throw new ArgumentNullException(nameof(options))).Value;

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var js = new NatsJSContext((NatsConnection)nats);
        bool ready = false;
        string? lastProblem = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!ready)
                {
                    await ClusterStreams.EnsureAsync(js, _options.MaxInputBytes, stoppingToken).ConfigureAwait(false);
                    ready = true;
                }

                foreach (string name in await ClusterStreams.PublishedStreamsAsync(js, stoppingToken).ConfigureAwait(false))
                {
                    try
                    {
                        await grains.GetGrain<IStreamGrain>(name).Ensure().WaitAsync(TimeSpan.FromSeconds(30), stoppingToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // e.g. its silo just died and membership has not declared it yet: the next round retries
                        log.LogWarning("stream {Stream}: activation failed: {Problem} (retrying)", name, ex.Message);
                    }
                }

                lastProblem = null;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                if (ex.Message != lastProblem)
                {
                    log.LogWarning("stream activation: {Problem} (retrying)", ex.Message);
                    lastProblem = ex.Message;
                }
            }

            try
            {
                await Task.Delay(_options.ActivationInterval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
