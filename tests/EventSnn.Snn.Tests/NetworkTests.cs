using EventSnn.Snn;
using EventSnn.Workloads;

namespace EventSnn.Snn.Tests;

public class NetworkTests
{
    private static NetworkConfig Config(NeuronModel model = NeuronModel.Ltc) => new()
    {
        InputSize = 40,
        Layers = [new LayerConfig { Model = model, Size = 24 }, new LayerConfig { Model = NeuronModel.Ltc, Size = 16 }],
        Readout = new ReadoutConfig { Size = 5 },
        Seed = 4,
    };

    [Fact]
    public void Parameter_names_shapes_and_order_are_stable()
    {
        var net = new Network<float>(new NetworkConfig
        {
            InputSize = 3,
            Layers = [new LayerConfig { Size = 4, LearnableSlope = true }, new LayerConfig { Model = NeuronModel.Alif, Size = 2 }, new LayerConfig { Model = NeuronModel.Lif, Size = 2, Recurrent = false }],
            Readout = new ReadoutConfig { Size = 2 },
        });
        string[] expected =
        [
            "layers.0.w_in.weight [4, 3]", "layers.0.w_in.bias [4]", "layers.0.w_rec.weight [4, 4]",
            "layers.0.w_tau.weight [4, 8]", "layers.0.w_tau.bias [4]", "layers.0.w_rho.weight [4, 8]", "layers.0.w_rho.bias [4]",
            "layers.0.k_tau [1]", "layers.0.k_rho [1]",
            "layers.1.w_in.weight [2, 4]", "layers.1.w_in.bias [2]", "layers.1.w_rec.weight [2, 2]", "layers.1.tau_m [2]", "layers.1.tau_adp [2]",
            "layers.2.w_in.weight [2, 2]", "layers.2.w_in.bias [2]", "layers.2.tau_m [2]",
            "readout.w_out.weight [2, 2]", "readout.w_out.bias [2]", "readout.tau_o [2]",
        ];
        Assert.Equal(expected, net.Parameters.Select(p => p.ToString()).ToArray());
        Assert.Equal(1f, net.Parameters["layers.0.k_tau"].Data[0]);
        Assert.All(net.Parameters["layers.0.w_tau.bias"].Data, v => Assert.Equal(0f, v));
        Assert.All(net.Parameters["readout.tau_o"].Data, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Initialisation_follows_the_reference()
    {
        var net = new Network<double>(new NetworkConfig { InputSize = 10, Layers = [new LayerConfig { Size = 32 }], Readout = new ReadoutConfig { Size = 3 } });
        Parameter<double> rec = net.Parameters["layers.0.w_rec.weight"];
        // orthogonal: W Wᵀ = I
        for (int i = 0; i < 32; i++)
        {
            for (int j = 0; j < 32; j++)
            {
                double dot = 0;
                for (int k = 0; k < 32; k++)
                {
                    dot += rec.Data[(i * 32) + k] * rec.Data[(j * 32) + k];
                }

                Assert.Equal(i == j ? 1.0 : 0.0, dot, 10);
            }
        }

        // Xavier-uniform bounds: sqrt(6 / (fan_in + fan_out))
        double bound = Math.Sqrt(6.0 / (10 + 32));
        Assert.All(net.Parameters["layers.0.w_in.weight"].Data, v => Assert.InRange(v, -bound, bound));
        double tauBound = Math.Sqrt(6.0 / (64 + 32));
        Assert.All(net.Parameters["layers.0.w_tau.weight"].Data, v => Assert.InRange(v, -tauBound, tauBound));
        Assert.True(net.Parameters["layers.0.w_tau.weight"].Data.Max() > 0.8 * tauBound);
        Assert.All(net.Parameters["layers.0.w_in.bias"].Data, v => Assert.Equal(0.0, v));

        NetworkState<double> s = net.CreateState(3, new SnnRandom(1));
        Assert.All(s.Layers[0].U, u => Assert.InRange(u, 0.0, 1.0));
        Assert.All(s.Layers[0].S, v => Assert.Equal(0.0, v));
        Assert.All(s.Layers[0].B, b => Assert.Equal(0.1, b));
    }

    [Fact]
    public void Sparse_and_dense_inputs_give_identical_outputs_in_inference_and_training()
    {
        var net = new Network<float>(Config());
        var rng = new SnnRandom(2);
        NetworkState<float> sDense = net.CreateState(2, new SnnRandom(5));
        NetworkState<float> sSparse = net.CreateState(2, new SnnRandom(5));
        NetworkState<float> sTrain = net.CreateState(2, new SnnRandom(5));
        var learner = new GradientOnlyLearner<float>(net, 2, 50);
        var oD = new float[10];
        var oS = new float[10];
        var oT = new float[10];
        int spikes = 0;
        for (int t = 0; t < 50; t++)
        {
            var dense = new float[80];
            var idx = new List<int>();
            int[] off = new int[3];
            for (int b = 0; b < 2; b++)
            {
                for (int j = 0; j < 40; j++)
                {
                    if (rng.NextDouble() < 0.2)
                    {
                        dense[(b * 40) + j] = 1;
                        idx.Add(j);
                    }
                }

                off[b + 1] = idx.Count;
            }

            net.Step(new StepInput<float>(dense), sDense, oD);
            net.Step(new StepInput<float>([.. idx], off), sSparse, oS);
            learner.Observe(new StepInput<float>([.. idx], off), default, sTrain, oT);
            for (int i = 0; i < 10; i++)
            {
                Assert.Equal(oD[i], oS[i], 4);
                Assert.Equal(oD[i], oT[i], 4);
            }

            spikes += (int)sDense.Layers[0].S.Sum();
        }

        Assert.True(spikes > 50, $"the layer should spike (got {spikes})");
    }

    [Fact]
    public void Per_timestep_statistics_move_only_the_current_steps_row_and_reuse_the_last()
    {
        var net = new Network<float>(new NetworkConfig
        {
            InputSize = 5,
            Layers = [new LayerConfig { Size = 4, InputNorm = InputNormKind.Timestep, NormSteps = 3, NormMomentum = 0.5 }],
            Readout = new ReadoutConfig { Size = 2 },
            Seed = 2,
        });
        RecurrentLayer<float> layer = net.Layers[0];
        Assert.Equal([3, 4], layer.RunningMean!.Shape);
        NetworkState<float> state = net.CreateState(1, new SnnRandom(1));
        var learner = new GradientOnlyLearner<float>(net, 1, 6);
        var output = new float[2];
        for (int t = 0; t < 6; t++)
        {
            float[] before = (float[])layer.RunningMean.Data.Clone();
            learner.Observe(new StepInput<float>([0, 2, 4], [0, 3]), default, state, output);
            int row = Math.Min(t, 2);
            for (int k = 0; k < 3; k++)
            {
                bool moved = false;
                for (int j = 0; j < 4; j++)
                {
                    moved |= before[(k * 4) + j] != layer.RunningMean.Data[(k * 4) + j];
                }

                Assert.True(moved == (k == row), $"step {t}: row {k} moved {moved}");
            }
        }

        // inference normalises step t with row min(t, 2) and leaves the statistics alone
        float[] frozen = (float[])layer.RunningMean.Data.Clone();
        NetworkState<float> a = net.CreateState(1, new SnnRandom(1));
        for (int t = 0; t < 5; t++)
        {
            net.Step(new StepInput<float>([1, 3], [0, 2]), a, output);
        }

        Assert.Equal(frozen, layer.RunningMean.Data);
    }

    [Fact]
    public void Inference_reads_changed_weights_and_agrees_with_the_training_path()
    {
        // inference multiplies the gates, W_rec and W_in through transposed copies rebuilt when a
        // weight's version changes; odd sizes exercise every vector remainder
        var net = new Network<float>(new NetworkConfig
        {
            InputSize = 37,
            Layers = [new LayerConfig { Size = 21 }, new LayerConfig { Size = 19 }],
            Readout = new ReadoutConfig { Size = 5 },
            Seed = 6,
        });
        var rng = new SnnRandom(3);
        NetworkState<float> sInfer = net.CreateState(1, new SnnRandom(5));
        NetworkState<float> sTrain = net.CreateState(1, new SnnRandom(5));
        var learner = new GradientOnlyLearner<float>(net, 1, 60);
        var oI = new float[5];
        var oT = new float[5];
        int spikes = 0;
        for (int t = 0; t < 60; t++)
        {
            if (t == 30)
            {
                foreach (Parameter<float> p in net.Parameters)
                {
                    if (p.Name.EndsWith(".weight", StringComparison.Ordinal))
                    {
                        for (int i = 0; i < p.Length; i++)
                        {
                            p.Data[i] *= i % 2 == 0 ? 0.5f : -1.5f;
                        }

                        p.MarkChanged();
                    }
                }
            }

            var idx = new List<int>();
            for (int j = 0; j < 37; j++)
            {
                if (rng.NextDouble() < 0.3)
                {
                    idx.Add(j);
                }
            }

            net.Step(new StepInput<float>([.. idx], [0, idx.Count]), sInfer, oI);
            learner.Observe(new StepInput<float>([.. idx], [0, idx.Count]), default, sTrain, oT);
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal(oT[i], oI[i], 4);
            }

            for (int l = 0; l < 2; l++)
            {
                for (int i = 0; i < sInfer.Layers[l].Size; i++)
                {
                    Assert.Equal(sTrain.Layers[l].S[i], sInfer.Layers[l].S[i]);
                    Assert.Equal(sTrain.Layers[l].U[i], sInfer.Layers[l].U[i], 4);
                }

                spikes += (int)sInfer.Layers[l].S.Sum();
            }
        }

        Assert.True(spikes > 30, $"the layers should spike (got {spikes})");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_training_batch_read_through_the_input_mirror_equals_its_streams_one_by_one(bool spikeIndices)
    {
        // batches of 8 or more take W_in's columns from its transposed mirror; batch 1 gathers them:
        // the two must agree exactly (same summation order), for counts and for spike indices
        const int batch = 8, inputs = 64;
        var config = new NetworkConfig
        {
            InputSize = inputs,
            Layers = [new LayerConfig { Size = 24 }, new LayerConfig { Size = 16 }],
            Readout = new ReadoutConfig { Size = 5 },
            Seed = 6,
        };
        var net = new Network<float>(config);
        NetworkState<float> all = net.CreateState(batch, new SnnRandom(3));
        var one = new NetworkState<float>[batch];
        var learners = new GradientOnlyLearner<float>[batch];
        for (int b = 0; b < batch; b++)
        {
            one[b] = net.CreateState(1);
            for (int l = 0; l < 2; l++)
            {
                int n = all.Layers[l].Size;
                all.Layers[l].U.AsSpan(b * n, n).CopyTo(one[b].Layers[l].U);
                all.Layers[l].S.AsSpan(b * n, n).CopyTo(one[b].Layers[l].S);
                all.Layers[l].B.AsSpan(b * n, n).CopyTo(one[b].Layers[l].B);
            }

            all.Readout.AsSpan(b * 5, 5).CopyTo(one[b].Readout);
            learners[b] = new GradientOnlyLearner<float>(net, 1, 40);
        }

        var batchLearner = new GradientOnlyLearner<float>(net, batch, 40);
        var rng = new SnnRandom(9);
        var outAll = new float[batch * 5];
        var outOne = new float[5];
        int spikes = 0;
        for (int t = 0; t < 40; t++)
        {
            var dense = new float[batch * inputs];
            var idx = new List<int>();
            int[] off = new int[batch + 1];
            for (int b = 0; b < batch; b++)
            {
                int active = (int)(rng.NextDouble() * 7); // at most D/8 per row: the sparse-row path
                for (int k = 0; k < active; k++)
                {
                    int j = (int)(rng.NextDouble() * inputs);
                    if (dense[(b * inputs) + j] == 0)
                    {
                        dense[(b * inputs) + j] = spikeIndices ? 1 : 1 + (int)(rng.NextDouble() * 3);
                        idx.Add(j);
                    }
                }

                off[b + 1] = idx.Count;
                idx.Sort(off[b], idx.Count - off[b], null);
            }

            int[] idxArray = [.. idx];
            StepInput<float> x = spikeIndices ? new StepInput<float>(idxArray, off) : new StepInput<float>(dense);
            batchLearner.Observe(x, default, all, outAll);
            for (int b = 0; b < batch; b++)
            {
                StepInput<float> xb = spikeIndices
                    ? new StepInput<float>(idxArray.AsSpan(off[b], off[b + 1] - off[b]), [0, off[b + 1] - off[b]])
                    : new StepInput<float>(dense.AsSpan(b * inputs, inputs));
                learners[b].Observe(xb, default, one[b], outOne);
                for (int c = 0; c < 5; c++)
                {
                    Assert.Equal(outAll[(b * 5) + c], outOne[c]);
                }

                Assert.Equal(all.Layers[0].U.AsSpan(b * 24, 24).ToArray(), one[b].Layers[0].U);
            }

            spikes += (int)all.Layers[0].S.Sum();
        }

        Assert.True(spikes > 20, $"the layer should spike (got {spikes})");
    }

    [Fact]
    public void Streams_are_independent_and_a_batch_equals_separate_streams()
    {
        var net = new Network<double>(Config(NeuronModel.Alif));
        var rng = new SnnRandom(8);
        NetworkState<double> batch = net.CreateState(2, new SnnRandom(1));
        NetworkState<double> a = net.CreateState(1);
        NetworkState<double> b = net.CreateState(1);
        for (int l = 0; l < 2; l++)
        {
            int n = batch.Layers[l].Size;
            batch.Layers[l].U.AsSpan(0, n).CopyTo(a.Layers[l].U);
            batch.Layers[l].U.AsSpan(n, n).CopyTo(b.Layers[l].U);
            batch.Layers[l].B.AsSpan(0, n).CopyTo(a.Layers[l].B);
            batch.Layers[l].B.AsSpan(n, n).CopyTo(b.Layers[l].B);
        }

        var ob = new double[10];
        var oa = new double[5];
        var o2 = new double[5];
        for (int t = 0; t < 30; t++)
        {
            var x = new double[80];
            for (int i = 0; i < 80; i++)
            {
                x[i] = rng.NextDouble() < 0.3 ? 1 : 0;
            }

            net.Step(new StepInput<double>(x), batch, ob);
            net.Step(new StepInput<double>(x.AsSpan(0, 40)), a, oa);
            net.Step(new StepInput<double>(x.AsSpan(40, 40)), b, o2);
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal(ob[i], oa[i], 10);
                Assert.Equal(ob[5 + i], o2[i], 10);
            }
        }
    }

    [Fact]
    public void Bad_inputs_are_rejected()
    {
        var net = new Network<float>(Config());
        NetworkState<float> s = net.CreateState(1);
        var o = new float[5];
        Assert.Throws<ArgumentException>(() => net.Step(new StepInput<float>(new float[39]), s, o));
        Assert.Throws<ArgumentException>(() => net.Step(StepInput.Spikes<float>([40]), s, o));
        Assert.Throws<ArgumentException>(() => net.Step(new StepInput<float>(new float[40]), s, new float[4]));
        Assert.Throws<ArgumentException>(() => new NetworkConfig { Layers = [] }.Validate());
    }

    [Fact]
    public void Adding_task_generator_matches_the_definition()
    {
        var rng = new SnnRandom(1);
        const int T = 21;
        const int B = 50;
        var x = new float[T * B * 2];
        var y = new float[B];
        AddingTask.Generate(rng, B, T, x, y);
        for (int b = 0; b < B; b++)
        {
            var marks = new List<int>();
            double sum = 0;
            for (int t = 0; t < T; t++)
            {
                float v = x[((t * B) + b) * 2];
                Assert.InRange(v, 0f, 1f);
                if (x[(((t * B) + b) * 2) + 1] == 1)
                {
                    marks.Add(t);
                    sum += v;
                }
            }

            Assert.Equal(2, marks.Count);
            Assert.InRange(marks[0], 0, (T / 2) - 1);
            Assert.InRange(marks[1], (T + 1) / 2, T - 1);
            Assert.Equal(sum, y[b], 5);
        }
    }
}
