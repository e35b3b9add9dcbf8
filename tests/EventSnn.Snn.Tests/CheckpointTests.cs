using EventSnn.Snn;

namespace EventSnn.Snn.Tests;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "esnn-ckpt-" + Guid.NewGuid().ToString("N"));

    public CheckpointTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static NetworkConfig Config(int hidden = 6) => new()
    {
        InputSize = 5,
        Layers = [new LayerConfig { Size = hidden, LearnableSlope = true }, new LayerConfig { Model = NeuronModel.Alif, Size = 4 }],
        Readout = new ReadoutConfig { Size = 3 },
        Seed = 21,
    };

    private static (Network<float> Net, Adam<float> Opt, FpttLearner<float> Fptt) Trained(int hidden = 6)
    {
        var net = new Network<float>(Config(hidden));
        var opt = new Adam<float>(net.Parameters, 0.01);
        var fptt = new FpttLearner<float>(net, opt, new FpttOptions { Alpha = 0.2 }, 1, 3) { AutoUpdate = true };
        NetworkState<float> state = net.CreateState(1);
        int[] label = [1];
        for (int t = 0; t < 12; t++)
        {
            int[] idx = [t % 5, (t + 2) % 5];
            fptt.Observe(StepInput.Spikes<float>(idx), new StepTarget<float>(label, 1), state);
        }

        return (net, opt, fptt);
    }

    [Fact]
    public void Round_trip_restores_weights_fptt_state_and_optimizer_state()
    {
        (Network<float> net, Adam<float> opt, FpttLearner<float> fptt) = Trained();
        string path = Path.Combine(_dir, "model.ckpt");
        Checkpoint.Save(path, net, opt, fptt);

        var net2 = new Network<float>(Config() with { Seed = 99 });
        var opt2 = new Adam<float>(net2.Parameters, 0.5);
        var fptt2 = new FpttLearner<float>(net2, opt2, new FpttOptions { Alpha = 0.2 }, 1, 3);
        CheckpointData data = Checkpoint.Load(path, net2, opt2, fptt2);
        Assert.Equal(Checkpoint.FormatVersion, data.Version);
        Assert.Equal(net.Config.LayoutKey(), data.Config.LayoutKey());
        Assert.Equal(opt.StepCount, opt2.StepCount);
        Assert.Equal(4, opt2.StepCount);
        Assert.Equal(0.01, opt2.LearningRate, 12);
        for (int i = 0; i < net.Parameters.Count; i++)
        {
            Assert.Equal(net.Parameters[i].Data, net2.Parameters[i].Data);
            Assert.Equal(fptt.GetAverage(i), fptt2.GetAverage(i));
            Assert.Equal(fptt.GetLambda(i), fptt2.GetLambda(i));
            Assert.Equal(opt.GetState(0, i), opt2.GetState(0, i));
            Assert.Equal(opt.GetState(1, i), opt2.GetState(1, i));
        }

        Network<float> net3 = Checkpoint.LoadNetwork<float>(path);
        Assert.Equal(net.Parameters["readout.w_out.weight"].Data, net3.Parameters["readout.w_out.weight"].Data);
        Assert.Equal(21, net3.Config.Seed);
    }

    [Fact]
    public void Save_is_atomic_temp_file_is_gone_and_target_replaced()
    {
        (Network<float> net, _, _) = Trained();
        string path = Path.Combine(_dir, "a.ckpt");
        File.WriteAllText(path, "old contents");
        Checkpoint.Save(path, net);
        Assert.Single(Directory.GetFiles(_dir));
        Assert.Equal("ESNNCKPT", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(path), 0, 8));
        Checkpoint.Save(path, net);
        Assert.Single(Directory.GetFiles(_dir));
        Assert.Equal(net.Parameters[0].Data, Checkpoint.LoadNetwork<float>(path).Parameters[0].Data);

        // a failed save leaves the old file and no temporary behind
        string missingDir = Path.Combine(_dir, "no-such-dir", "b.ckpt");
        var ex = Assert.Throws<CheckpointException>(() => Checkpoint.Save(missingDir, net));
        Assert.Contains("b.ckpt", ex.Message);
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Shape_mismatch_is_reported_with_the_layout()
    {
        (Network<float> net, _, _) = Trained(hidden: 6);
        string path = Path.Combine(_dir, "m.ckpt");
        Checkpoint.Save(path, net);
        var other = new Network<float>(Config(hidden: 7));
        var ex = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, other));
        Assert.Contains("m.ckpt", ex.Message);
        Assert.Contains("Ltc:6", ex.Message);
        Assert.Contains("Ltc:7", ex.Message);
    }

    [Fact]
    public void Missing_optimizer_or_fptt_state_and_wrong_optimizer_are_reported()
    {
        (Network<float> net, Adam<float> opt, _) = Trained();
        string path = Path.Combine(_dir, "w.ckpt");
        Checkpoint.Save(path, net, opt);
        var net2 = new Network<float>(Config());
        var ex = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, net2, new Sgd<float>(net2.Parameters, 0.1)));
        Assert.Contains("optimiser differs", ex.Message);
        var fptt2 = new FpttLearner<float>(net2, new Adam<float>(net2.Parameters), new FpttOptions(), 1, 2);
        ex = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, net2, null, fptt2));
        Assert.Contains("FPTT", ex.Message);
    }

    [Fact]
    public void Version_mismatch_is_reported()
    {
        (Network<float> net, _, _) = Trained();
        string path = Path.Combine(_dir, "v.ckpt");
        Checkpoint.Save(path, net);
        byte[] b = File.ReadAllBytes(path);
        b[8] = Checkpoint.FormatVersion + 1; // version field follows the 8-byte magic
        File.WriteAllBytes(path, b);
        var ex = Assert.Throws<CheckpointException>(() => Checkpoint.Read(path));
        Assert.Contains($"version {Checkpoint.FormatVersion + 1}", ex.Message);
        Assert.Contains("v.ckpt", ex.Message);
    }

    [Fact]
    public void Flipped_byte_and_truncation_are_detected()
    {
        (Network<float> net, Adam<float> opt, FpttLearner<float> fptt) = Trained();
        string path = Path.Combine(_dir, "c.ckpt");
        Checkpoint.Save(path, net, opt, fptt);
        byte[] good = File.ReadAllBytes(path);

        byte[] flipped = (byte[])good.Clone();
        flipped[good.Length / 2] ^= 0x10;
        File.WriteAllBytes(path, flipped);
        var ex = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, new Network<float>(Config())));
        Assert.Contains("checksum", ex.Message);
        Assert.Contains("c.ckpt", ex.Message);

        foreach (int cut in new[] { good.Length - 1, good.Length / 3, 20, 9 })
        {
            File.WriteAllBytes(path, good.AsSpan(0, cut).ToArray());
            Assert.Throws<CheckpointException>(() => Checkpoint.Read(path));
        }

        File.WriteAllText(path, "not a checkpoint at all");
        ex = Assert.Throws<CheckpointException>(() => Checkpoint.Read(path));
        Assert.Contains("magic", ex.Message);

        File.Delete(path);
        ex = Assert.Throws<CheckpointException>(() => Checkpoint.Read(path));
        Assert.Contains("could not be read", ex.Message);
    }
}
