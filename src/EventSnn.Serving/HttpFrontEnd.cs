using System.Net;
using System.Text.Json;
using System.Threading.RateLimiting;
using EventSnn.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace EventSnn.Serving;

/// <summary>
/// The HTTP side of <c>serve</c>, on ASP.NET Core (Kestrel):
/// <list type="bullet">
/// <item><c>GET /</c>: the live dashboard (static files embedded in this assembly);</item>
/// <item><c>GET /events</c>: every decision as a Server-Sent Event (<c>data: {json}</c>);
/// <c>?stream=ID</c> keeps one stream, <c>?frames=1</c> adds the streams' event frames as
/// <c>event: frame</c> (see <see cref="FramePreview"/>);</item>
/// <item><c>GET /health</c>: the health check (Microsoft.Extensions.Diagnostics.HealthChecks) as
/// the <see cref="DecisionHub.HealthJson"/> document; 503 while stopping;</item>
/// <item><c>GET /metrics</c>: <see cref="ServeMetrics"/> and <see cref="EventSnn.Pipeline.PipelineMetrics"/>
/// as Prometheus text (OpenTelemetry's Prometheus exporter);</item>
/// <item><c>GET /api/streams</c>: the streams as a JSON array.</item>
/// </list>
/// Kestrel bounds the request head (<see cref="ServeOptions.MaxRequestHeadBytes"/>: 431) and the
/// time to send it (<see cref="ServeOptions.RequestTimeout"/>: 408); a concurrency limiter answers
/// 503 beyond <see cref="ServeOptions.MaxClients"/> event streams at once (the other endpoints are
/// never starved by them). A slow event-stream client is
/// handled by <see cref="ServeOptions.SlowSubscribers"/> on its bounded queue.
/// </summary>
internal sealed class HttpFrontEnd : IAsyncDisposable
{
    private const string EventsPolicy = "events";
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);
    private static readonly byte[] Opening = ": eventsnn decisions\n\n"u8.ToArray();
    private static readonly byte[] KeepAliveComment = ": keep-alive\n\n"u8.ToArray();
    private readonly WebApplication _app;
    private readonly DecisionHub _hub;
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;

    private HttpFrontEnd(WebApplication app, DecisionHub hub, IPEndPoint endPoint)
    {
        _app = app;
        _hub = hub;
        EndPoint = endPoint;
    }

    /// <summary>Where the endpoint listens.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Extra ports reported under "ports" in /health.</summary>
    public IReadOnlyDictionary<string, int>? Ports { get; set; }

    /// <summary>Binds <paramref name="address"/>:<paramref name="port"/> (0 = ephemeral) and starts serving; a taken port fails here with a message naming it.</summary>
    public static async Task<HttpFrontEnd> StartAsync(DecisionHub hub, ServeOptions options, IPAddress address, int port, ILoggerFactory? loggerFactory)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear(); // the host's settings are ServeOptions, not the working folder's appsettings.json
        builder.Logging.ClearProviders();
        if (loggerFactory is not null)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestHeadersTotalSize = options.MaxRequestHeadBytes;
            k.Limits.MaxRequestLineSize = Math.Min(options.MaxRequestHeadBytes, 8192);
            k.Limits.RequestHeadersTimeout = options.RequestTimeout;
            k.Limits.MaxRequestBodySize = 0;
            k.Listen(address, port);
        });
        builder.Services.AddRateLimiter(r =>
        {
            // only the long-lived event streams are limited: /health and /metrics always answer
            r.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
            r.AddConcurrencyLimiter(EventsPolicy, c =>
            {
                c.PermitLimit = options.MaxClients;
                c.QueueLimit = 0;
            });
            r.OnRejected = (ctx, ct) => new ValueTask(ctx.HttpContext.Response.WriteAsync($"too many event-stream clients ({options.MaxClients})\n", ct));
        });
        builder.Services.AddHealthChecks().AddCheck("serve", new ServeHealthCheck(hub));
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(ServeMetrics.MeterName, PipelineMetrics.MeterName).AddPrometheusExporter());

        WebApplication app = builder.Build();
        HttpFrontEnd? front = null;
        app.UseStatusCodePages(ctx => ctx.HttpContext.Response.StatusCode == StatusCodes.Status404NotFound
            ? ctx.HttpContext.Response.WriteAsync("not found: try /, /events, /health, /metrics or /api/streams\n", ctx.HttpContext.RequestAborted)
            : Task.CompletedTask);
        app.UseRateLimiter();
        var files = new ManifestEmbeddedFileProvider(typeof(HttpFrontEnd).Assembly, "wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        app.MapHealthChecks("/health", new HealthCheckOptions
        {
            ResponseWriter = (ctx, _) =>
            {
                ctx.Response.ContentType = "application/json; charset=utf-8";
                return ctx.Response.WriteAsync(hub.HealthJson(front?.Ports), ctx.RequestAborted);
            },
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/api/streams", (HttpContext ctx) => WriteStreams(ctx, hub));
        app.MapGet("/events", (HttpContext ctx) => front!.Events(ctx)).RequireRateLimiting(EventsPolicy);
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new IOException($"HTTP port {address}:{port}: {ex.Message}", ex);
        }

        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var uri = new Uri(bound);
        front = new HttpFrontEnd(app, hub, new IPEndPoint(address, uri.Port));
        return front;
    }

    /// <summary>Ends the event streams (after their queues drain, bounded by <paramref name="drain"/>) and stops Kestrel.</summary>
    public async Task StopAsync(TimeSpan drain)
    {
        using var timeout = new CancellationTokenSource(drain);
        try
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            if (Volatile.Read(ref _disposed) == 0)
            {
                await _stopping.CancelAsync().ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static Task WriteStreams(HttpContext ctx, DecisionHub hub)
    {
        ctx.Response.ContentType = "application/json; charset=utf-8";
        return ctx.Response.WriteAsync(hub.StreamsJson(), ctx.RequestAborted);
    }

    private async Task Events(HttpContext ctx)
    {
        string? filter = ctx.Request.Query["stream"] is { Count: > 0 } f ? f[0] : null;
        bool frames = ctx.Request.Query["frames"] is { Count: > 0 } fr && fr[0] is "1" or "true";
        using DecisionHub.Subscription sub = _hub.Subscribe(filter, frames);
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _stopping.Token);
        HttpResponse response = ctx.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        Stream body = response.Body;
        try
        {
            await body.WriteAsync(Opening, aborted.Token).ConfigureAwait(false);
            await body.FlushAsync(aborted.Token).ConfigureAwait(false);
            byte[] buffer = new byte[64 * 1024];
            while (true)
            {
                bool more;
                using (var idle = CancellationTokenSource.CreateLinkedTokenSource(aborted.Token))
                {
                    idle.CancelAfter(KeepAlive);
                    try
                    {
                        more = await sub.Reader.WaitToReadAsync(idle.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
                    {
                        // keep-alive comment; also notices a client that went away
                        await body.WriteAsync(KeepAliveComment, aborted.Token).ConfigureAwait(false);
                        await body.FlushAsync(aborted.Token).ConfigureAwait(false);
                        continue;
                    }
                }

                if (!more)
                {
                    break;
                }

                // batch whatever is queued into one write
                int used = 0;
                while (sub.Reader.TryPeek(out byte[]? json) && (used == 0 || used + json.Length + 24 <= buffer.Length))
                {
                    sub.Reader.TryRead(out _);
                    if (json.Length + 24 > buffer.Length)
                    {
                        buffer = new byte[json.Length + 24];
                    }

                    ReadOnlySpan<byte> prefix = DecisionHub.IsFrame(json) ? "event: frame\ndata: "u8 : "data: "u8;
                    prefix.CopyTo(buffer.AsSpan(used));
                    used += prefix.Length;
                    json.CopyTo(buffer, used);
                    used += json.Length;
                    buffer[used++] = (byte)'\n';
                    buffer[used++] = (byte)'\n';
                }

                await body.WriteAsync(buffer.AsMemory(0, used), aborted.Token).ConfigureAwait(false);
                await body.FlushAsync(aborted.Token).ConfigureAwait(false);
                if (sub.DroppedForSlowness)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            if (!ctx.RequestAborted.IsCancellationRequested && !_stopping.IsCancellationRequested)
            {
                _hub.WriteLog($"http client {ctx.Connection.RemoteIpAddress}:{ctx.Connection.RemotePort}: {ex.Message}");
            }
        }
    }

    /// <summary>Healthy while serving, unhealthy (503) once the server is stopping.</summary>
    private sealed class ServeHealthCheck(DecisionHub hub) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(hub.IsCompleted ? HealthCheckResult.Unhealthy("stopping") : HealthCheckResult.Healthy($"{hub.ActiveStreams.Count} active streams"));
    }
}
