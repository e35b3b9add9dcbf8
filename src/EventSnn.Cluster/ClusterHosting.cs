using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NATS.Client.Core;
using Orleans.Configuration;
using StackExchange.Redis;

namespace EventSnn.Cluster;

/// <summary>Builds silos and clients of an EventSnn deployment (Orleans over Redis membership, NATS JetStream).</summary>
public static class ClusterHosting
{
    /// <summary>
    /// Makes <paramref name="builder"/> a silo: Redis membership and grain storage, the silo and
    /// gateway ports, fast failure detection (a killed silo is declared dead within seconds), the
    /// NATS connection (reconnecting forever), the models and the stream activator.
    /// </summary>
    public static IHostApplicationBuilder AddEventSnnSilo(this IHostApplicationBuilder builder, ClusterSiloOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        var context = new System.ComponentModel.DataAnnotations.ValidationContext(options);
        System.ComponentModel.DataAnnotations.Validator.ValidateObject(options, context, validateAllProperties: true);
        IPAddress advertised = IPAddress.Parse(options.AdvertisedAddress);
        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options)); // validated above
        builder.Services.AddSingleton<ClusterModels>();
        builder.Services.AddSingleton<INatsConnection>(_ => Connect(options.Nats, "eventsnn-silo-" + options.SiloPort));
        builder.UseOrleans(silo =>
        {
            silo.UseRedisClustering(o => o.ConfigurationOptions = Redis(options.Redis));
            silo.AddRedisGrainStorage(ClusterNames.GrainStorage, o => o.ConfigurationOptions = Redis(options.Redis));
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = ClusterNames.ClusterId;
            });
            silo.ConfigureEndpoints(advertised, options.SiloPort, options.GatewayPort);
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
                o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
                o.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(30);
            });
        });
        builder.Services.AddHostedService<StreamActivator>();
        return builder;
    }

    /// <summary>Makes <paramref name="builder"/> a client of the deployment whose membership is in <paramref name="redis"/>.</summary>
    public static IHostApplicationBuilder AddEventSnnClient(this IHostApplicationBuilder builder, string redis, string clusterId = ClusterNames.ClusterId)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseOrleansClient(client =>
        {
            client.UseRedisClustering(o => o.ConfigurationOptions = Redis(redis));
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = ClusterNames.ClusterId;
            });
        });
        return builder;
    }

    /// <summary>A NATS connection that retries the first connect and reconnects forever.</summary>
    public static NatsConnection Connect(string url, string name) => new(new NatsOpts
    {
        Url = url,
        Name = name,
        MaxReconnectRetry = -1,
        ReconnectWaitMin = TimeSpan.FromMilliseconds(200),
        ReconnectWaitMax = TimeSpan.FromSeconds(2),
        RetryOnInitialConnect = true,
        RequestTimeout = TimeSpan.FromSeconds(10),
    });

    private static ConfigurationOptions Redis(string endpoint)
    {
        ConfigurationOptions c = ConfigurationOptions.Parse(endpoint);
        c.AbortOnConnectFail = false;
        return c;
    }
}
