using System.ComponentModel.DataAnnotations;

namespace EventSnn.Cluster;

/// <summary>Settings of a silo: where Redis and NATS are, its ports, and the model its stream grains start from.</summary>
public sealed class ClusterSiloOptions
{
    /// <summary>Redis (membership and grain state), host:port.</summary>
    [Required]
    public string Redis { get; set; } = "127.0.0.1:6379";

    /// <summary>NATS server URL (JetStream enabled).</summary>
    [Required]
    public string Nats { get; set; } = "nats://127.0.0.1:4222";

    /// <summary>Silo-to-silo port.</summary>
    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>Client gateway port.</summary>
    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Address other silos and clients reach this silo at.</summary>
    [Required]
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>Orleans cluster id: silos and clients of one deployment share it.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_-]{1,64}$")]
    public string ClusterId { get; set; } = ClusterNames.ClusterId;

    /// <summary>Model every new stream starts from (null: fresh weights).</summary>
    public string? Checkpoint { get; set; }

    /// <summary>Fresh model: recurrent neurons.</summary>
    [Range(1, 4096)]
    public int Hidden { get; set; } = 128;

    /// <summary>Fresh model: classes.</summary>
    [Range(2, 1000)]
    public int Classes { get; set; } = 10;

    /// <summary>Fresh model: initialisation seed.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Number of the first class in the label intervals (1 as in DVS Gesture).</summary>
    [Range(0, 1000)]
    public int LabelBase { get; set; } = 1;

    /// <summary>A stream without labels is decided in windows of this many microseconds (0: not decided).</summary>
    [Range(0L, 3_600_000_000L)]
    public long WindowUs { get; set; } = 1_000_000;

    /// <summary>How often every silo makes sure each published stream has an active grain.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan ActivationInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest size of the input JetStream stream; publishing beyond it is refused (nothing is dropped silently).</summary>
    [Range(1L << 20, long.MaxValue)]
    public long MaxInputBytes { get; set; } = 1L << 30;
}
