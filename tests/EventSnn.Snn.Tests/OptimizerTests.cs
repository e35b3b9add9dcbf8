using EventSnn.Snn;

namespace EventSnn.Snn.Tests;

/// <summary>Optimiser steps against hand-computed PyTorch-semantics values (w = 1, gradients 0.5 then −1, lr 0.1).</summary>
public class OptimizerTests
{
    private static (ParameterSet<double> Set, Parameter<double> W) One(double value = 1.0)
    {
        var w = new Parameter<double>("w", 1);
        w.Data[0] = value;
        return (new ParameterSet<double>([w]), w);
    }

    private static double[] Run(Optimizer<double> opt, Parameter<double> w, params double[] grads)
    {
        var trace = new double[grads.Length];
        for (int i = 0; i < grads.Length; i++)
        {
            w.Grad[0] = grads[i];
            opt.Step();
            trace[i] = w.Data[0];
        }

        return trace;
    }

    [Fact]
    public void Adam_matches_hand_computed_steps_with_bias_correction_and_eps_after_the_root()
    {
        // step 1: m = 0.05, v = 2.5e-4, step size lr/(1-0.9) = 1, denom = sqrt(v)/sqrt(1-0.999) + 1e-8 = 0.5 + 1e-8
        // step 2: m = -0.055, v = 1.24975e-3, step size 0.1/0.19, denom = sqrt(v)/sqrt(1.999e-3) + 1e-8
        (ParameterSet<double> set, Parameter<double> w) = One();
        double[] t = Run(new Adam<double>(set, 0.1), w, 0.5, -1.0);
        Assert.Equal(0.900000002, t[0], 12);
        Assert.Equal(0.9366103542405654, t[1], 12);
    }

    [Fact]
    public void Adam_weight_decay_is_added_to_the_gradient()
    {
        (ParameterSet<double> set, Parameter<double> w) = One();
        double[] t = Run(new Adam<double>(set, 0.1, weightDecay: 0.01), w, 0.5, -1.0);
        Assert.Equal(0.9000000019607843, t[0], 12);
        Assert.Equal(0.9355236415321513, t[1], 12);
    }

    [Fact]
    public void Adamax_matches_hand_computed_steps()
    {
        // u = max(0.999 u, |g| + eps); step 2: u = 1 + 1e-8, m = -0.055, w = 0.9 + (0.1/0.19)(0.055/(1+1e-8))
        (ParameterSet<double> set, Parameter<double> w) = One();
        double[] t = Run(new Adamax<double>(set, 0.1), w, 0.5, -1.0);
        Assert.Equal(0.900000002, t[0], 12);
        Assert.Equal(0.9289473701315789, t[1], 12);
    }

    [Fact]
    public void Sgd_momentum_nesterov_and_dampening_match_hand_computed_steps()
    {
        (ParameterSet<double> s1, Parameter<double> w1) = One();
        Assert.Equal([0.95, 1.005], Run(new Sgd<double>(s1, 0.1, momentum: 0.9), w1, 0.5, -1.0), new Tol(1e-12));
        (ParameterSet<double> s2, Parameter<double> w2) = One();
        Assert.Equal([0.905, 1.0545], Run(new Sgd<double>(s2, 0.1, momentum: 0.9, nesterov: true), w2, 0.5, -1.0), new Tol(1e-12));
        (ParameterSet<double> s3, Parameter<double> w3) = One();
        Assert.Equal([0.95, 0.995], Run(new Sgd<double>(s3, 0.1, momentum: 0.9, dampening: 0.1), w3, 0.5, -1.0), new Tol(1e-12));
        (ParameterSet<double> s4, Parameter<double> w4) = One();
        Assert.Equal([0.95, 1.05], Run(new Sgd<double>(s4, 0.1), w4, 0.5, -1.0), new Tol(1e-12));
    }

    [Fact]
    public void Gradient_scale_multiplies_the_gradient_and_reset_clears_moments()
    {
        (ParameterSet<double> set, Parameter<double> w) = One();
        var sgd = new Sgd<double>(set, 0.1);
        w.Grad[0] = 2;
        sgd.Step(0.25);
        Assert.Equal(0.95, w.Data[0], 12);

        (ParameterSet<double> set2, Parameter<double> w2) = One();
        var adam = new Adam<double>(set2, 0.1);
        Run(adam, w2, 0.5, -1.0);
        adam.ResetState();
        Assert.Equal(0, adam.StepCount);
        Assert.Equal(0.0, adam.GetState(0, 0)[0]);
        Assert.Equal(0.0, adam.GetState(1, 0)[0]);
        w2.Data[0] = 1;
        Assert.Equal(0.900000002, Run(adam, w2, 0.5)[0], 12);
    }

    [Fact]
    public void Float_adam_agrees_with_double_adam_over_many_steps()
    {
        var wf = new Parameter<float>("w", 3);
        var wd = new Parameter<double>("w", 3);
        var of = new Adam<float>(new ParameterSet<float>([wf]), 3e-3);
        var od = new Adam<double>(new ParameterSet<double>([wd]), 3e-3);
        var rng = new SnnRandom(5);
        for (int s = 0; s < 200; s++)
        {
            for (int i = 0; i < 3; i++)
            {
                double g = rng.NextNormal();
                wf.Grad[i] = (float)g;
                wd.Grad[i] = g;
            }

            of.Step();
            od.Step();
        }

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(wd.Data[i], wf.Data[i], 1e-5);
        }
    }

    [Fact]
    public void Step_and_cosine_schedules_follow_pytorch_closed_forms()
    {
        var multi = new StepSchedule(1.0, [10, 30], 0.1);
        Assert.Equal(1.0, multi.LearningRate(0), 12);
        Assert.Equal(1.0, multi.LearningRate(9), 12);
        Assert.Equal(0.1, multi.LearningRate(10), 12);
        Assert.Equal(0.1, multi.LearningRate(29), 12);
        Assert.Equal(0.01, multi.LearningRate(30), 12);
        var every = StepSchedule.Every(0.5, 5, 0.5);
        Assert.Equal(0.5, every.LearningRate(4), 12);
        Assert.Equal(0.25, every.LearningRate(5), 12);
        Assert.Equal(0.125, every.LearningRate(10), 12);
        var cos = new CosineSchedule(1.0, 100, 0.1);
        Assert.Equal(1.0, cos.LearningRate(0), 12);
        Assert.Equal(0.55, cos.LearningRate(50), 12);
        Assert.Equal(0.1, cos.LearningRate(100), 12);
        Assert.Equal(0.1 + (0.9 * (1 + Math.Cos(Math.PI / 4)) / 2), cos.LearningRate(25), 12);
    }

    private sealed class Tol(double eps) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= eps;

        public int GetHashCode(double obj) => 0;
    }
}
