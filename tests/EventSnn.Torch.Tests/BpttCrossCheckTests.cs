using EventSnn.Snn;
using EventSnn.Torch.Native;

namespace EventSnn.Torch.Tests;

/// <summary>
/// BPTT with autograd against the managed <see cref="BpttLearner{T}"/>: two sequences, each one
/// chunk (whole sequence) with losses at several steps; the autograd gradient of every parameter
/// equals the managed hand-written gradient (GradientOnlyLearner on a copy) to ‖diff‖₂/‖managed‖₂
/// ≤ 1e-4, and after each update (clip + optimiser step) the weights agree to 1e-5.
/// </summary>
public class BpttCrossCheckTests
{
    public BpttCrossCheckTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData("ltc-leaky", 1)]
    [InlineData("ltc-leaky", 3)]
    [InlineData("alif-leaky", 2)]
    [InlineData("lif-membrane", 2)]
    public void Sequence_gradients_and_updates_match_the_managed_engine(string model, int batch)
    {
        const int steps = 16;
        NetworkConfig config = CrossCheck.Config(model);
        var managed = new Network<float>(config);
        using var net = new TorchNetwork(managed);
        var mopt = new Adam<float>(managed.Parameters, 2e-3);
        var mlearner = new BpttLearner<float>(managed, mopt, batch, steps, gradientClip: 1.0);
        using var tlearner = new TorchBpttLearner(net, TorchOptimizerOptions.FromManaged(mopt), batch, steps, gradientClip: 1.0) { CaptureGradients = true };
        bool leaky = config.Readout.Kind == ReadoutKind.Leaky;
        int c = config.Readout.Size;
        var mo = new float[batch * c];
        var to = new float[batch * c];

        for (int sequence = 0; sequence < 2; sequence++)
        {
            float[] x = CrossCheck.DenseInputs(steps, batch, 40 + sequence);
            var rng = new SnnRandom(50 + sequence);
            NetworkState<float> ms = managed.CreateState(batch);
            using TorchState ts = net.CreateState(batch);
            var copy = new Network<float>(config);
            copy.Parameters.CopyFrom(managed.Parameters);
            NetworkState<float> copyState = copy.CreateState(batch);
            var grad = new GradientOnlyLearner<float>(copy, batch, steps);
            for (int t = 0; t < steps; t++)
            {
                var input = new StepInput<float>(x.AsSpan(t * batch * CrossCheck.Inputs, batch * CrossCheck.Inputs));
                int[] labels = new int[batch];
                float[] values = new float[batch * c];
                for (int b = 0; b < batch; b++)
                {
                    labels[b] = rng.NextInt(c);
                }

                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = (float)rng.NextDouble();
                }

                bool active = t % 4 == 3;
                StepTarget<float> target = !active ? default : leaky ? new StepTarget<float>(labels, 1.0) : new StepTarget<float>(values, 1.0);
                mlearner.Observe(input, target, ms, mo);
                grad.Observe(input, target, copyState);
                tlearner.Observe(input, target, ts, to);
                CrossCheck.AssertClose(to, mo, 1e-5, $"sequence {sequence} step {t}: readout");
            }

            grad.EndChunk();
            ChunkReport mr = mlearner.EndChunk();
            ChunkReport tr = tlearner.EndChunk();
            Assert.True(mr.Updated && tr.Updated);
            Assert.Equal(mr.Loss, tr.Loss, 1e-5 * Math.Max(1, Math.Abs(mr.Loss)));
            Assert.Equal(mr.GradientNorm, tr.GradientNorm, 1e-4 * mr.GradientNorm);
            for (int p = 0; p < managed.Parameters.Count; p++)
            {
                string name = managed.Parameters[p].Name;
                double e = CrossCheck.NormRelativeError(tlearner.CapturedGradient(p), copy.Parameters[p].Grad);
                Assert.True(e <= 1e-4, $"{model} sequence {sequence}: gradient of {name}: relative error {e:E3}");
                CrossCheck.AssertClose(CrossCheck.Values(net.Parameters[p]), managed.Parameters[p].Data, 1e-5, $"sequence {sequence}: W of {name}");
            }
        }
    }
}
