using EventSnn.Snn;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn.Tests;

/// <summary>FPTT update equations against hand-computed values (α = 0.5, β = 0.5, SGD lr 0.1).</summary>
public class FpttTests
{
    private static Network<double> Tiny() => new(new NetworkConfig
    {
        InputSize = 1,
        Layers = [new LayerConfig { Size = 1 }],
        Readout = new ReadoutConfig { Kind = ReadoutKind.Membrane, Size = 1 },
        InitialState = InitialStateMode.Zero,
        Seed = 3,
    });

    /// <summary>
    /// Three parameter elements with chosen W, W̄, λ; the step has no task loss, so the gradient is the
    /// regulariser's alone: g = α(W − W̄) − λ.
    /// A: W 0.3, W̄ 0.1, λ 0.05 → g 0.05, W' 0.295, λ' −0.0475, W̄' 0.245
    /// B: W −1, W̄ 0, λ 0 → g −0.5, W' −0.95, λ' 0.475, W̄' −0.95
    /// C: W 2, W̄ 2, λ −0.2 → g 0.2, W' 1.98, λ' −0.19, W̄' 2.18
    /// regulariser −⟨W, λ⟩ + (α/2)‖W − W̄‖² = −0.005 + 0.25 + 0.4 = 0.645, ‖g‖ = √0.2925.
    /// </summary>
    [Fact]
    public void One_chunk_matches_hand_computed_regulariser_gradient_lambda_and_average()
    {
        Network<double> net = Tiny();
        var opt = new Sgd<double>(net.Parameters, 0.1);
        var fptt = new FpttLearner<double>(net, opt, new FpttOptions { Alpha = 0.5, Beta = 0.5, GradientClip = 0 }, 1, 4);
        Parameter<double> wTau = net.Parameters["layers.0.w_tau.weight"]; // [1, 2]
        Parameter<double> wIn = net.Parameters["layers.0.w_in.weight"];   // [1, 1]
        int iTau = net.Parameters.IndexOf(wTau.Name);
        int iIn = net.Parameters.IndexOf(wIn.Name);
        Set(fptt, wTau, iTau, 0, 0.3, 0.1, 0.05);
        Set(fptt, wTau, iTau, 1, -1, 0, 0);
        Set(fptt, wIn, iIn, 0, 2, 2, -0.2);
        fptt.Resynchronize();
        Dictionary<string, double[]> before = Snapshot(net);

        NetworkState<double> state = net.CreateState(1);
        double[] x = [0.7];
        fptt.Observe(new StepInput<double>(x), default, state);
        ChunkReport r = fptt.EndChunk();

        Assert.True(r.Updated);
        Assert.Equal(0.645, r.Regularizer, 12);
        Assert.Equal(Math.Sqrt(0.2925), r.GradientNorm, 12);
        Assert.Equal(0.295, wTau.Data[0], 12);
        Assert.Equal(-0.0475, fptt.GetLambda(iTau)[0], 12);
        Assert.Equal(0.245, fptt.GetAverage(iTau)[0], 12);
        Assert.Equal(-0.95, wTau.Data[1], 12);
        Assert.Equal(0.475, fptt.GetLambda(iTau)[1], 12);
        Assert.Equal(-0.95, fptt.GetAverage(iTau)[1], 12);
        Assert.Equal(1.98, wIn.Data[0], 12);
        Assert.Equal(-0.19, fptt.GetLambda(iIn)[0], 12);
        Assert.Equal(2.18, fptt.GetAverage(iIn)[0], 12);

        // every other parameter had W = W̄, λ = 0 and no task gradient: unchanged
        foreach (Parameter<double> p in net.Parameters)
        {
            for (int i = 0; i < p.Length; i++)
            {
                bool touched = (p == wTau) || (p == wIn);
                if (!touched)
                {
                    Assert.Equal(before[p.Name][i], p.Data[i]);
                }
            }

            // Grad now holds the next chunk's regulariser gradient α(W − W̄) − λ
            int k = net.Parameters.IndexOf(p.Name);
            for (int i = 0; i < p.Length; i++)
            {
                Assert.Equal((0.5 * (p.Data[i] - fptt.GetAverage(k)[i])) - fptt.GetLambda(k)[i], p.Grad[i], 12);
            }
        }

        // end of epoch: W ← W̄
        fptt.EndEpoch();
        Assert.Equal(0.245, wTau.Data[0], 12);
        Assert.Equal(-0.95, wTau.Data[1], 12);
        Assert.Equal(2.18, wIn.Data[0], 12);
    }

    [Fact]
    public void Clipping_applies_to_the_gradient_including_the_regulariser()
    {
        // same A/B/C values, clip 0.1: W' = W − lr · g · 0.1/(‖g‖ + 1e-6)
        Network<double> net = Tiny();
        var opt = new Sgd<double>(net.Parameters, 0.1);
        var fptt = new FpttLearner<double>(net, opt, new FpttOptions { Alpha = 0.5, Beta = 0.5, GradientClip = 0.1 }, 1, 4);
        Parameter<double> wTau = net.Parameters["layers.0.w_tau.weight"];
        Parameter<double> wIn = net.Parameters["layers.0.w_in.weight"];
        Set(fptt, wTau, net.Parameters.IndexOf(wTau.Name), 0, 0.3, 0.1, 0.05);
        Set(fptt, wTau, net.Parameters.IndexOf(wTau.Name), 1, -1, 0, 0);
        Set(fptt, wIn, net.Parameters.IndexOf(wIn.Name), 0, 2, 2, -0.2);
        fptt.Resynchronize();
        NetworkState<double> state = net.CreateState(1);
        fptt.Observe(new StepInput<double>([0.7]), default, state);
        fptt.EndChunk();
        double scale = 0.1 / (Math.Sqrt(0.2925) + 1e-6);
        Assert.Equal(0.3 - (0.1 * 0.05 * scale), wTau.Data[0], 12);
        Assert.Equal(-1 + (0.1 * 0.5 * scale), wTau.Data[1], 12);
        Assert.Equal(2 - (0.1 * 0.2 * scale), wIn.Data[0], 12);
    }

    [Fact]
    public void Update_with_a_task_loss_equals_the_equations_applied_to_the_chunk_gradient()
    {
        (NetworkConfig config, _, _) = GradientCheckTests.Case("ltc-ltc-leaky-dense");
        var rng = new SnnRandom(9);
        const int batch = 2;
        const int steps = 5;
        var data = new ChunkData<double>(config, batch, steps, sparse: false, regression: false, rng);

        // FPTT learner after W and λ were moved so that W̄ ≠ W and λ ≠ 0
        var net = new Network<double>(config);
        var opt = new Sgd<double>(net.Parameters, 0.05);
        var fptt = new FpttLearner<double>(net, opt, new FpttOptions { Alpha = 0.3, Beta = 0.4, GradientClip = 0 }, batch, steps);
        for (int k = 0; k < net.Parameters.Count; k++)
        {
            Parameter<double> p = net.Parameters[k];
            for (int i = 0; i < p.Length; i++)
            {
                p.Data[i] += 0.01 * Math.Sin(i + p.Length);
                fptt.GetLambda(k)[i] = 0.02 * Math.Cos(i);
            }
        }

        fptt.Resynchronize();

        // the task gradient of the chunk at these weights, from a separate copy
        var reference = new Network<double>(config);
        reference.Parameters.CopyFrom(net.Parameters);
        var grads = new GradientOnlyLearner<double>(reference, batch, steps);
        GradientCheckTests.Run(grads, data, reference.CreateState(batch, new SnnRandom(1)));
        double taskLoss = grads.EndChunk().Loss;

        var w = new Dictionary<string, double[]>();
        var wbar = new Dictionary<string, double[]>();
        var lam = new Dictionary<string, double[]>();
        for (int k = 0; k < net.Parameters.Count; k++)
        {
            Parameter<double> p = net.Parameters[k];
            w[p.Name] = (double[])p.Data.Clone();
            wbar[p.Name] = (double[])fptt.GetAverage(k).Clone();
            lam[p.Name] = (double[])fptt.GetLambda(k).Clone();
        }

        NetworkState<double> s1 = net.CreateState(batch, new SnnRandom(1));
        GradientCheckTests.Run(fptt, data, s1);
        ChunkReport r = fptt.EndChunk();
        Assert.Equal(taskLoss, r.Loss, 12);
        for (int k = 0; k < net.Parameters.Count; k++)
        {
            Parameter<double> p = net.Parameters[k];
            Parameter<double> pr = reference.Parameters[k];
            for (int i = 0; i < p.Length; i++)
            {
                double g = pr.Grad[i] + (0.3 * (w[p.Name][i] - wbar[p.Name][i])) - lam[p.Name][i];
                double wNew = w[p.Name][i] - (0.05 * g);
                double lamNew = lam[p.Name][i] - (0.3 * (wNew - wbar[p.Name][i]));
                double barNew = (0.6 * wbar[p.Name][i]) + (0.4 * wNew) - ((0.4 / 0.3) * lamNew);
                Assert.Equal(wNew, p.Data[i], 12);
                Assert.Equal(lamNew, fptt.GetLambda(k)[i], 12);
                Assert.Equal(barNew, fptt.GetAverage(k)[i], 12);
            }
        }
    }

    [Fact]
    public void Chunk_loss_weighting_and_boundaries()
    {
        Assert.Equal(0.1, Fptt.ChunkWeight(0, 10), 12);
        Assert.Equal(1.0, Fptt.ChunkWeight(9, 10), 12);
        Assert.Equal(0.9, Fptt.OracleWeight(0, 10), 12);
        Assert.Equal(0.0, Fptt.OracleWeight(9, 10), 12);
        Assert.Equal(2.1, Fptt.AddingScriptWeight(2, 10), 12);
        Assert.Equal(0, Fptt.ChunkStart(0, 205, 10));
        Assert.Equal(20, Fptt.ChunkStart(1, 205, 10));
        Assert.Equal(205, Fptt.ChunkStart(10, 205, 10));

        // the report's loss is the weighted task loss: weight (p+1)/P times the MSE of the chunk's last output
        Network<double> net = Tiny();
        var fptt = new FpttLearner<double>(net, new Sgd<double>(net.Parameters, 0.0), new FpttOptions { Alpha = 0.5 }, 1, 3);
        NetworkState<double> state = net.CreateState(1);
        var output = new double[1];
        double[] target = [1.5];
        double w = Fptt.ChunkWeight(2, 10);
        fptt.Observe(new StepInput<double>([0.2]), default, state);
        fptt.Observe(new StepInput<double>([0.9]), new StepTarget<double>(target, w), state, output);
        ChunkReport r = fptt.EndChunk();
        Assert.Equal(w * (output[0] - 1.5) * (output[0] - 1.5), r.Loss, 12);
    }

    [Fact]
    public void Classification_loss_with_oracle_term_matches_hand_computed_value()
    {
        // outputs (0, ln 3) → p = (0.25, 0.75); label 1; oracle q = (0.5, 0.5); weight 0.4, oracle weight 0.6
        // loss = 0.4 (−ln 0.75) + 0.6 · mean_c(−q_c ln p_c) = 0.4 ln(4/3) + 0.6 · (0.5 ln 4 + 0.5 ln(4/3)) / 2
        double[] o = [0, Math.Log(3)];
        double[] q = [0.5, 0.5];
        var grad = new double[2];
        double loss = Losses.Apply<double>(o, new StepTarget<double>([1], 0.4, q, 0.6), grad, 1, 2);
        double expected = (0.4 * Math.Log(4.0 / 3)) + (0.6 * ((0.5 * Math.Log(4)) + (0.5 * Math.Log(4.0 / 3))) / 2);
        Assert.Equal(expected, loss, 12);

        // d/do_c: 0.4 (p_c − y_c) + 0.6/2 (p_c Σq − q_c)
        Assert.Equal((0.4 * 0.25) + (0.3 * (0.25 - 0.5)), grad[0], 12);
        Assert.Equal((0.4 * -0.25) + (0.3 * (0.75 - 0.5)), grad[1], 12);
    }

    [Fact]
    public void Divergence_is_detected_and_parameters_restored_from_the_average()
    {
        Network<double> net = Tiny();
        var opt = new Adam<double>(net.Parameters, 0.01);
        var fptt = new FpttLearner<double>(net, opt, new FpttOptions { Alpha = 0.5 }, 1, 2);
        NetworkState<double> state = net.CreateState(1);
        fptt.Observe(new StepInput<double>([0.5]), new StepTarget<double>([1.0], 1), state);
        Assert.True(fptt.EndChunk().Updated);
        double[] average = (double[])fptt.GetAverage(0).Clone();
        ChunkReport? seen = null;
        fptt.Diverged += r => seen = r;

        net.Parameters[0].Data[0] = double.NaN; // corrupt W
        fptt.Observe(new StepInput<double>([0.5]), new StepTarget<double>([1.0], 1), state);
        ChunkReport bad = fptt.EndChunk();
        Assert.True(bad.Diverged);
        Assert.False(bad.Updated);
        Assert.NotNull(seen);
        Assert.Equal(1, fptt.DivergenceCount);
        Assert.Equal(average, net.Parameters[0].Data);
        Assert.True(net.Parameters.AllFinite());
        Assert.Equal(0, opt.StepCount);
        Assert.All(state.Layers[0].U, u => Assert.True(double.IsFinite(u)));

        // training continues normally
        fptt.Observe(new StepInput<double>([0.5]), new StepTarget<double>([1.0], 1), state);
        Assert.True(fptt.EndChunk().Updated);
    }

    [Fact]
    public void Fused_float_adam_fptt_step_matches_the_double_block_path_over_many_chunks()
    {
        (NetworkConfig config, _, _) = GradientCheckTests.Case("ltc-ltc-leaky-dense");
        config = config with { InputSize = 19, Layers = [new LayerConfig { Size = 21 }, new LayerConfig { Size = 13 }] };
        var netF = new Network<float>(config);
        var netD = new Network<double>(config);
        for (int k = 0; k < netF.Parameters.Count; k++)
        {
            for (int i = 0; i < netF.Parameters[k].Length; i++)
            {
                netD.Parameters[k].Data[i] = netF.Parameters[k].Data[i];
            }
        }

        netD.Parameters.MarkChanged();
        var options = new FpttOptions { Alpha = 0.3, Beta = 0.5, GradientClip = 0.5 };
        var fF = new FpttLearner<float>(netF, new Adam<float>(netF.Parameters, 1e-2), options, 2, 4);
        var fD = new FpttLearner<double>(netD, new Adam<double>(netD.Parameters, 1e-2), options, 2, 4);
        NetworkState<float> sF = netF.CreateState(2, new SnnRandom(1));
        NetworkState<double> sD = netD.CreateState(2, new SnnRandom(1));
        var dataF = new ChunkData<float>(config, 2, 4, sparse: true, regression: false, new SnnRandom(2));
        var dataD = new ChunkData<double>(config, 2, 4, sparse: true, regression: false, new SnnRandom(2));
        for (int chunk = 0; chunk < 6; chunk++)
        {
            GradientCheckTests.Run(fF, dataF, sF);
            GradientCheckTests.Run(fD, dataD, sD);
            ChunkReport rF = fF.EndChunk();
            ChunkReport rD = fD.EndChunk();
            Assert.Equal(rD.Regularizer, rF.Regularizer, 4);
            Assert.Equal(rD.GradientNorm, rF.GradientNorm, 3);
        }

        for (int k = 0; k < netF.Parameters.Count; k++)
        {
            for (int i = 0; i < netF.Parameters[k].Length; i++)
            {
                Assert.Equal(netD.Parameters[k].Data[i], netF.Parameters[k].Data[i], 3e-4);
                Assert.Equal(fD.GetAverage(k)[i], fF.GetAverage(k)[i], 3e-4);
                Assert.Equal(fD.GetLambda(k)[i], fF.GetLambda(k)[i], 3e-4);
            }
        }
    }

    private static void Set(FpttLearner<double> f, Parameter<double> p, int k, int i, double w, double wbar, double lambda)
    {
        p.Data[i] = w;
        f.GetAverage(k)[i] = wbar;
        f.GetLambda(k)[i] = lambda;
    }

    private static Dictionary<string, double[]> Snapshot(Network<double> net)
    {
        var d = new Dictionary<string, double[]>();
        foreach (Parameter<double> p in net.Parameters)
        {
            d[p.Name] = (double[])p.Data.Clone();
        }

        return d;
    }
}

public class FpttNormTrackingTests
{
    [Fact]
    public void Clip_norm_with_sparse_input_tracking_equals_the_norm_recomputed_from_dense_input()
    {
        (List<ChunkReport> sparseD, List<ChunkReport> denseD) = Compare<double>();
        for (int k = 0; k < 6; k++)
        {
            Assert.Equal(denseD[k].GradientNorm, sparseD[k].GradientNorm, 9);
            Assert.Equal(denseD[k].Loss, sparseD[k].Loss, 9);
        }

        // float: the fused Adam+FPTT pass provides the base norm
        (List<ChunkReport> sparseF, List<ChunkReport> denseF) = Compare<float>();
        for (int k = 0; k < 6; k++)
        {
            Assert.True(Math.Abs(denseF[k].GradientNorm - sparseF[k].GradientNorm) <= 1e-4 * denseF[k].GradientNorm, $"chunk {k}: {sparseF[k].GradientNorm} vs {denseF[k].GradientNorm}");
            Assert.True(Math.Abs(denseD[k].GradientNorm - denseF[k].GradientNorm) <= 1e-3 * denseD[k].GradientNorm, $"chunk {k}: float {denseF[k].GradientNorm} vs double {denseD[k].GradientNorm}");
        }
    }

    private static (List<ChunkReport> Sparse, List<ChunkReport> Dense) Compare<T>()
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var config = new NetworkConfig { InputSize = 30, Layers = [new LayerConfig { Size = 12 }], Readout = new ReadoutConfig { Size = 3 }, Seed = 5 };
        var rng = new SnnRandom(8);
        var sparse = new List<int[]>();
        var dense = new List<T[]>();
        for (int t = 0; t < 24; t++)
        {
            int[] idx = [rng.NextInt(10), rng.NextInt(10) + 10, rng.NextInt(10) + 20];
            sparse.Add(idx);
            var d = new T[30];
            foreach (int j in idx)
            {
                d[j] = T.One;
            }

            dense.Add(d);
        }

        var reports = new List<ChunkReport>[2];
        for (int mode = 0; mode < 2; mode++)
        {
            reports[mode] = [];
            var net = new Network<T>(config);
            var fptt = new FpttLearner<T>(net, new Adam<T>(net.Parameters, 0.01), new FpttOptions { Alpha = 0.2 }, 1, 4);
            NetworkState<T> s = net.CreateState(1, new SnnRandom(1));
            int[] label = [1];
            for (int t = 0; t < 24; t++)
            {
                StepInput<T> x = mode == 0 ? StepInput.Spikes<T>(sparse[t]) : new StepInput<T>(dense[t]);
                fptt.Observe(x, new StepTarget<T>(label, 1), s);
                if (fptt.StepsRecorded == 4)
                {
                    reports[mode].Add(fptt.EndChunk());
                }
            }
        }

        Assert.Equal(6, reports[0].Count);
        return (reports[0], reports[1]);
    }
}
