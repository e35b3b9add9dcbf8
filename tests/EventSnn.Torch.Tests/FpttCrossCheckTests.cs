using EventSnn.Snn;
using EventSnn.Torch.Native;

namespace EventSnn.Torch.Tests;

/// <summary>
/// The managed engine's hand-written BPTT against TorchSharp autograd: the managed FPTT learner
/// and the torch FPTT learner train the same network in lockstep over several chunks. Per
/// chunk, the gradient of the full FPTT chunk loss l_k − ⟨W, λ⟩ + (α/2)‖W − W̄‖² computed by
/// autograd must equal, for EVERY parameter, the managed task gradient (GradientOnlyLearner on
/// a copy of the network and the chunk's starting state) plus the regulariser gradient
/// α(W − W̄) − λ, to ‖diff‖₂/‖managed‖₂ ≤ 1e-4; after the update W, W̄ and λ must agree, and
/// the loss, regulariser and gradient norm in the reports too.
/// </summary>
public class FpttCrossCheckTests
{
    private const double GradientTolerance = 1e-4;

    public FpttCrossCheckTests() => TorchRuntime.EnsureLoaded();

    public static TheoryData<string, int, bool, string> Cases()
    {
        var data = new TheoryData<string, int, bool, string>();
        foreach (string m in CrossCheck.Models)
        {
            data.Add(m, 1, false, "adam");
            data.Add(m, 4, false, "adam");
        }

        data.Add("ltc-leaky", 1, true, "adam");
        data.Add("ltc-leaky", 3, true, "sgd");
        data.Add("alif-leaky", 2, false, "adamax");
        data.Add("ltc2-slope-leaky", 2, true, "sgd");
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Chunk_gradients_and_updates_match_the_managed_engine(string model, int batch, bool sparse, string optimizer)
    {
        const int chunk = 6;
        const int chunks = 3;
        NetworkConfig config = CrossCheck.Config(model);
        var managed = new Network<float>(config);
        using var net = new TorchNetwork(managed);
        Optimizer<float> mopt = optimizer switch
        {
            "adam" => new Adam<float>(managed.Parameters, 1e-3),
            "adamax" => new Adamax<float>(managed.Parameters, 2e-3),
            _ => new Sgd<float>(managed.Parameters, 0.05, momentum: 0.9),
        };
        var options = new FpttOptions { Alpha = 0.5, Beta = 0.5, GradientClip = 1.0 };
        var mlearner = new FpttLearner<float>(managed, mopt, options, batch, chunk);
        using var tlearner = new TorchFpttLearner(net, TorchOptimizerOptions.FromManaged(mopt), options, batch, chunk) { CaptureGradients = true };

        NetworkState<float> ms = managed.CreateState(batch);
        using TorchState ts = net.CreateState(batch);
        float[] dense = CrossCheck.DenseInputs(chunk * chunks, batch, 21);
        (int[][] idx, int[][] off) = CrossCheck.SparseInputs(chunk * chunks, batch, 22);
        bool leaky = config.Readout.Kind == ReadoutKind.Leaky;
        int c = config.Readout.Size;
        var rng = new SnnRandom(23);
        var mo = new float[batch * c];
        var to = new float[batch * c];

        for (int k = 0; k < chunks; k++)
        {
            // reference task gradient: a copy of the network and of the chunk's starting state
            var copy = new Network<float>(config);
            copy.Parameters.CopyFrom(managed.Parameters);
            NetworkState<float> copyState = copy.CreateState(batch);
            ms.CopyTo(copyState);
            var grad = new GradientOnlyLearner<float>(copy, batch, chunk);

            for (int t = 0; t < chunk; t++)
            {
                int step = (k * chunk) + t;
                StepInput<float> input = sparse
                    ? new StepInput<float>(idx[step], batch == 1 ? default : off[step])
                    : new StepInput<float>(dense.AsSpan(step * batch * CrossCheck.Inputs, batch * CrossCheck.Inputs));
                int[] labels = new int[batch];
                float[] values = new float[batch * c];
                float[] oracle = new float[batch * c];
                for (int b = 0; b < batch; b++)
                {
                    labels[b] = rng.NextInt(c);
                }

                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = (float)rng.NextDouble();
                    oracle[i] = 1f / c;
                }

                // a loss at every other step (steps without loss must not contribute), weighted like FPTT, with an oracle term
                bool active = t % 2 == 1 || t == chunk - 1;
                double weight = Fptt.ChunkWeight(k, chunks);
                StepTarget<float> target = !active
                    ? default
                    : leaky
                        ? new StepTarget<float>(labels, weight, oracle, Fptt.OracleWeight(k, chunks))
                        : new StepTarget<float>(values, weight);
                mlearner.Observe(input, target, ms, mo);
                grad.Observe(input, target, copyState);
                tlearner.Observe(input, target, ts, to);
                CrossCheck.AssertClose(to, mo, 1e-5, $"chunk {k} step {t}: readout");
            }

            grad.EndChunk();
            var expected = new float[managed.Parameters.Count][];
            for (int p = 0; p < managed.Parameters.Count; p++)
            {
                Parameter<float> par = copy.Parameters[p];
                float[] avg = mlearner.GetAverage(p);
                float[] lam = mlearner.GetLambda(p);
                expected[p] = new float[par.Length];
                for (int i = 0; i < par.Length; i++)
                {
                    expected[p][i] = (float)(par.Grad[i] + (options.Alpha * ((double)par.Data[i] - avg[i])) - lam[i]);
                }
            }

            ChunkReport mr = mlearner.EndChunk();
            ChunkReport tr = tlearner.EndChunk();
            Assert.True(mr.Updated && tr.Updated);
            Assert.Equal(mr.Loss, tr.Loss, 1e-5 * Math.Max(1, Math.Abs(mr.Loss)));
            Assert.Equal(mr.GradientNorm, tr.GradientNorm, 1e-4 * mr.GradientNorm);
            Assert.Equal(mr.Regularizer, tr.Regularizer, 1e-5 + (1e-4 * Math.Abs(mr.Regularizer)));
            for (int p = 0; p < managed.Parameters.Count; p++)
            {
                string name = managed.Parameters[p].Name;
                double e = CrossCheck.NormRelativeError(tlearner.CapturedGradient(p), expected[p]);
                Assert.True(e <= GradientTolerance, $"{model} chunk {k}: gradient of {name}: relative error {e:E3}");
            }

            // one FPTT update: W, W̄, λ
            for (int p = 0; p < managed.Parameters.Count; p++)
            {
                string name = managed.Parameters[p].Name;
                CrossCheck.AssertClose(CrossCheck.Values(net.Parameters[p]), managed.Parameters[p].Data, 1e-5, $"chunk {k}: W of {name}");
                CrossCheck.AssertClose(CrossCheck.Values(tlearner.Average(p)), mlearner.GetAverage(p), 1e-5, $"chunk {k}: W̄ of {name}");
                AssertLambda(CrossCheck.Values(tlearner.Lambda(p)), mlearner.GetLambda(p), managed.Parameters[p].Data, $"chunk {k}: λ of {name}");
            }

            CrossCheck.AssertStatesMatch(ms, ts, 1e-5, $"after chunk {k}");
        }
    }

    /// <summary>
    /// λ accumulates α(W − W̄), a difference of nearly equal weights: its float rounding is relative
    /// to |W|, not to |λ|, so the error is measured against max |W| (documented policy).
    /// </summary>
    private static void AssertLambda(float[] actual, float[] expected, float[] weights, string what)
    {
        double diff = 0, scale = 1e-30;
        for (int i = 0; i < expected.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Max(Math.Abs((double)expected[i]), Math.Abs((double)weights[i])));
        }

        Assert.True(diff / scale <= 1e-5, $"{what}: error {diff / scale:E3} relative to max |W|, |λ|");
    }
}
