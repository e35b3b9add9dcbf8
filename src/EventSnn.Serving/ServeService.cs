using System.Net;
using EventSnn.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventSnn.Serving;

/// <summary>The ports a running <see cref="ServeService"/> listens on (useful with port 0).</summary>
/// <param name="Inputs">Input listeners and their bound endpoints.</param>
/// <param name="Publish">JSON-lines publisher endpoint, or null when off.</param>
/// <param name="Http">HTTP (SSE + health) endpoint, or null when off.</param>
public sealed record ServeEndpoints(IReadOnlyList<(ServeListener Listener, IPEndPoint EndPoint)> Inputs, IPEndPoint? Publish, IPEndPoint? Http)
{
    /// <summary>Port of the first input listener of <paramref name="kind"/>, or -1.</summary>
    public int PortOf(ServeInputKind kind)
    {
        foreach ((ServeListener l, IPEndPoint ep) in Inputs)
        {
            if (l.Kind == kind)
            {
                return ep.Port;
            }
        }

        return -1;
    }

    /// <summary>Ports by name: dv, jaer_udp, jaer_tcp (first of each kind), publish, http.</summary>
    public IReadOnlyDictionary<string, int> Ports()
    {
        var d = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach ((ServeListener l, IPEndPoint ep) in Inputs)
        {
            d.TryAdd(l.Name ?? ServeListener.KindName(l.Kind).Replace('-', '_'), ep.Port);
        }

        if (Publish is not null)
        {
            d["publish"] = Publish.Port;
        }

        if (Http is not null)
        {
            d["http"] = Http.Port;
        }

        return d;
    }
}

/// <summary>
/// The whole <c>serve</c> host as one hosted service: the <see cref="StreamServer"/> inputs, the
/// <see cref="JsonLinesPublisher"/> and the HTTP front end (Kestrel: dashboard, /events, /health,
/// /metrics, /api/streams), around one
/// <see cref="DecisionHub"/>. Stopping (Ctrl-C/SIGTERM through the host) stops accepting,
/// decides every open window, saves per-stream checkpoints, then drains the subscribers.
/// Register with <see cref="ServeServiceCollectionExtensions.AddEventSnnServe(IServiceCollection, ServeOptions)"/>.
/// </summary>
public sealed class ServeService : BackgroundService
{
    private readonly ServeOptions _options;
    private readonly ILogger<ServeService>? _logger;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly TaskCompletionSource<ServeEndpoints> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private StreamServer? _server;
    private JsonLinesPublisher? _publisher;
    private HttpFrontEnd? _http;
    private ServeMetrics? _metrics;
    private ClusterDecisionFeed? _cluster;

    /// <summary>Creates the service.</summary>
    public ServeService(ServeOptions options, DecisionHub hub, ILogger<ServeService>? logger = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(hub);
        options.Validate();
        _options = options;
        Hub = hub;
        _logger = logger;
        _loggerFactory = loggerFactory;
    }

    /// <summary>The decision hub (subscribe for in-process use).</summary>
    public DecisionHub Hub { get; }

    /// <summary>Completes with the bound endpoints once every listener is up (faults if binding failed).</summary>
    public Task<ServeEndpoints> Started => _started.Task;

    /// <summary>Binds everything before returning, so that the host fails to start when a port is taken.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            IPAddress address = IPAddress.TryParse(_options.Bind, out IPAddress? ip) ? ip : IPAddress.Loopback;
            _server = new StreamServer(_options, Hub);
            _server.Start();
            if (_options.PublishPort is { } publish)
            {
                _publisher = new JsonLinesPublisher(Hub, address, publish, _options.MaxClients);
            }

            if (_options.HttpPort is { } http)
            {
                _metrics = new ServeMetrics(Hub);
                _http = await HttpFrontEnd.StartAsync(Hub, _options, address, http, _loggerFactory).ConfigureAwait(false);
            }

            if (_options.ClusterNats is { } nats)
            {
                _cluster = new ClusterDecisionFeed(Hub, nats, _logger);
                if (_metrics is not null)
                {
                    _metrics.Cluster = _cluster;
                }

                await _cluster.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            var endpoints = new ServeEndpoints(_server.EndPoints, _publisher?.EndPoint, _http?.EndPoint);
            if (_http is not null)
            {
                _http.Ports = endpoints.Ports();
            }

            _logger?.LogInformation("serving on {Ports}", string.Join(", ", endpoints.Ports().Select(p => p.Key + "=" + p.Value)));
            _started.TrySetResult(endpoints);
        }
        catch (Exception ex)
        {
            _started.TrySetException(ex);
            throw;
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops inputs first (open windows decided, checkpoints saved), then drains and closes the publishers.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_server is not null)
        {
            await _server.StopAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync().ConfigureAwait(false);
            _cluster = null;
        }

        Hub.Complete();
        var drain = TimeSpan.FromSeconds(3);
        if (_publisher is not null)
        {
            await _publisher.StopAsync(drain).ConfigureAwait(false);
        }

        if (_http is not null)
        {
            await _http.StopAsync(drain).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _server?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _publisher?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _http?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _metrics?.Dispose();
        base.Dispose();
    }

    /// <inheritdoc/>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}

/// <summary>Registration of the serve host in a generic host.</summary>
public static class ServeServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <see cref="DecisionHub"/> and the <see cref="ServeService"/> (as a hosted service and
    /// as itself) for <paramref name="options"/>, registered as <c>IOptions&lt;ServeOptions&gt;</c>
    /// and validated when the host starts (<c>ValidateOnStart</c>: an invalid setting fails the start
    /// with an <see cref="OptionsValidationException"/> naming it).
    /// </summary>
    public static IServiceCollection AddEventSnnServe(this IServiceCollection services, ServeOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton<IOptionsFactory<ServeOptions>>(sp => new GivenOptionsFactory(
            options,
            sp.GetServices<IConfigureOptions<ServeOptions>>(),
            sp.GetServices<IPostConfigureOptions<ServeOptions>>(),
            sp.GetServices<IValidateOptions<ServeOptions>>()));
        return AddCore(services);
    }

    /// <summary>
    /// Adds the serve host with its <see cref="ServeOptions"/> bound from <paramref name="configuration"/>
    /// (e.g. the "Serve" section of appsettings.json: <c>Listeners</c>, <c>HttpPort</c>,
    /// <c>Model</c>, ...), validated when the host starts.
    /// </summary>
    public static IServiceCollection AddEventSnnServe(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ServeOptions>().Bind(configuration);
        return AddCore(services);
    }

    private static IServiceCollection AddCore(IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<ServeOptions>, ServeOptionsValidation>();
        services.AddOptions<ServeOptions>().ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<ServeOptions>>().Value);
        services.AddSingleton(sp => new DecisionHub(sp.GetRequiredService<ServeOptions>(), sp.GetService<ILogger<DecisionHub>>()));
        services.AddSingleton(sp => new ServeService(sp.GetRequiredService<ServeOptions>(), sp.GetRequiredService<DecisionHub>(), sp.GetService<ILogger<ServeService>>(), sp.GetService<ILoggerFactory>()));
        services.AddHostedService(sp => sp.GetRequiredService<ServeService>());
        return services;
    }

    /// <summary><see cref="ServeOptions.Validate"/> as an options validator.</summary>
    private sealed class ServeOptionsValidation : IValidateOptions<ServeOptions>
    {
        public ValidateOptionsResult Validate(string? name, ServeOptions options)
        {
            try
            {
                options.Validate();
                return ValidateOptionsResult.Success;
            }
            catch (ArgumentException ex)
            {
                return ValidateOptionsResult.Fail($"ServeOptions.{ex.ParamName}: {ex.Message.Replace($" (Parameter '{ex.ParamName}')", string.Empty, StringComparison.Ordinal)}");
            }
        }
    }

    /// <summary>Options that were built by the caller: this instance rather than a fresh one, still configured and validated by the registered services.</summary>
    private sealed class GivenOptionsFactory(
        ServeOptions given,
        IEnumerable<IConfigureOptions<ServeOptions>> setups,
        IEnumerable<IPostConfigureOptions<ServeOptions>> postConfigures,
        IEnumerable<IValidateOptions<ServeOptions>> validations)
        : OptionsFactory<ServeOptions>(setups, postConfigures, validations)
    {
        protected override ServeOptions CreateInstance(string name) => given;
    }
}
