using System.Collections.Concurrent;
using EventSnn.Events;
using Microsoft.Extensions.Options;

namespace EventSnn.Cluster;

/// <summary>The silo's models, one per sensor size, read once and shared by its stream grains (each learns its own copy).</summary>
public sealed class ClusterModels(IOptions<ClusterSiloOptions> options)
{
    private readonly ConcurrentDictionary<SensorGeometry, Lazy<ClusterModel>> _models = new();
    private readonly ClusterSiloOptions _options = (options ?? throw new ArgumentNullException(nameof(options))).Value;

    /// <summary>The model for streams of <paramref name="geometry"/>.</summary>
    public ClusterModel For(SensorGeometry geometry) =>
        _models.GetOrAdd(geometry, g => new Lazy<ClusterModel>(() => ClusterModel.Create(g, _options.Checkpoint, _options.Hidden, _options.Classes, _options.Seed))).Value;
}
