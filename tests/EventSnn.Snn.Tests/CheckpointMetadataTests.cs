using System.Buffers.Binary;
using System.Text.Json.Nodes;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn.Tests;

/// <summary>Named metadata objects in checkpoints (format version 2), and version-1 files without them.</summary>
public sealed class CheckpointMetadataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("esnn-ckpt-meta-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Network<float> Net() => new(new NetworkConfig
    {
        InputSize = 4,
        Layers = [new LayerConfig { Size = 5 }],
        Readout = new ReadoutConfig { Size = 3 },
        Seed = 2,
    });

    private static JsonObject Preprocessing() => JsonNode.Parse("""{"version":1,"input":"audio","channels":4,"binning":"time","bin_us":1000}""")!.AsObject();

    [Fact]
    public void Named_objects_are_written_and_read_back()
    {
        string path = Path.Combine(_dir, "a.ckpt");
        Network<float> net = Net();
        Checkpoint.Save(path, net, null, null, null, new Dictionary<string, JsonNode> { ["preprocessing"] = Preprocessing(), ["classes"] = new JsonArray("yes", "no", "maybe") });
        CheckpointData data = Checkpoint.Read(path);
        Assert.Equal(Checkpoint.FormatVersion, data.Version);
        Assert.Equal(2, data.Version);
        Assert.Equal(Preprocessing().ToJsonString(), data.Metadata("preprocessing")!.ToJsonString());
        Assert.Equal(["yes", "no", "maybe"], data.Metadata("classes")!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Null(data.Metadata("colour"));
        Assert.Null(data.Metadata("dtype")); // reserved entries are not named objects
        Assert.Equal("float32", data.Meta["dtype"]!.GetValue<string>());
        Assert.Equal(Preprocessing().ToJsonString(), Checkpoint.ReadMetadata(path, "preprocessing")!.ToJsonString());

        // the weights load as before
        Network<float> back = Checkpoint.LoadNetwork<float>(path);
        Assert.Equal(net.Parameters[0].Data, back.Parameters[0].Data);
    }

    [Fact]
    public async Task Attached_objects_reach_every_save_in_the_scope_and_only_there()
    {
        string inside = Path.Combine(_dir, "in.ckpt"), nested = Path.Combine(_dir, "nested.ckpt"), task = Path.Combine(_dir, "task.ckpt"), outside = Path.Combine(_dir, "out.ckpt");
        Network<float> net = Net();
        using (Checkpoint.AttachMetadata("preprocessing", Preprocessing()))
        {
            using (Checkpoint.AttachMetadata("classes", new JsonArray("a", "b", "c")))
            using (Checkpoint.AttachMetadata("preprocessing", new JsonObject { ["inner"] = true }))
            {
                Checkpoint.Save(nested, net);
            }

            Checkpoint.Save(inside, net, null, null, new JsonObject { ["epoch"] = 3 });
            await Task.Run(() => Checkpoint.Save(task, net)); // the async flow carries the scope
        }

        Checkpoint.Save(outside, net);
        Assert.Equal(Preprocessing().ToJsonString(), Checkpoint.ReadMetadata(inside, "preprocessing")!.ToJsonString());
        Assert.Equal(3, Checkpoint.Read(inside).Meta["training"]!["epoch"]!.GetValue<int>());
        Assert.Null(Checkpoint.ReadMetadata(inside, "classes"));
        Assert.True(Checkpoint.ReadMetadata(nested, "preprocessing")!["inner"]!.GetValue<bool>());
        Assert.Equal(3, Checkpoint.ReadMetadata(nested, "classes")!.AsArray().Count);
        Assert.NotNull(Checkpoint.ReadMetadata(task, "preprocessing"));
        Assert.Null(Checkpoint.ReadMetadata(outside, "preprocessing"));

        // explicit objects win over attached ones
        string both = Path.Combine(_dir, "both.ckpt");
        using (Checkpoint.AttachMetadata("classes", new JsonArray("x")))
        {
            Checkpoint.Save(both, net, null, null, null, new Dictionary<string, JsonNode> { ["classes"] = new JsonArray("y", "z") });
        }

        Assert.Equal(2, Checkpoint.ReadMetadata(both, "classes")!.AsArray().Count);
    }

    [Fact]
    public void Reserved_names_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Checkpoint.AttachMetadata("training", new JsonObject()));
        Assert.Throws<ArgumentException>(() => Checkpoint.Save(Path.Combine(_dir, "r.ckpt"), Net(), null, null, null, new Dictionary<string, JsonNode> { ["optimizer"] = new JsonObject() }));
        Assert.False(File.Exists(Path.Combine(_dir, "r.ckpt")));
    }

    [Fact]
    public void A_version_1_checkpoint_still_loads_and_has_no_named_objects()
    {
        Network<float> net = Net();
        var opt = new Adam<float>(net.Parameters, 0.01);
        var fptt = new FpttLearner<float>(net, opt, new FpttOptions(), 1, 2);
        string v2 = Path.Combine(_dir, "v2.ckpt"), v1 = Path.Combine(_dir, "v1.ckpt");
        Checkpoint.Save(v2, net, opt, fptt);
        WriteWithVersion(v2, v1, 1); // the bytes a version-1 build wrote: the same layout, version 1

        CheckpointData data = Checkpoint.Read(v1);
        Assert.Equal(1, data.Version);
        Assert.Null(data.Metadata("preprocessing"));
        var net2 = new Network<float>(net.Config with { Seed = 9 });
        var opt2 = new Adam<float>(net2.Parameters, 0.5);
        Checkpoint.Load(v1, net2, opt2, new FpttLearner<float>(net2, opt2, new FpttOptions(), 1, 2));
        Assert.Equal(net.Parameters[0].Data, net2.Parameters[0].Data);

        WriteWithVersion(v2, v1, 3);
        var ex = Assert.Throws<CheckpointException>(() => Checkpoint.Read(v1));
        Assert.Contains("format version 3 is not supported (this build reads versions 1..2)", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Copies a checkpoint with another version number and a valid checksum.</summary>
    internal static void WriteWithVersion(string source, string target, uint version)
    {
        byte[] bytes = File.ReadAllBytes(source);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), version);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, bytes.Length - 4)));
        File.WriteAllBytes(target, bytes);
    }
}
