using System.Numerics;
using System.Numerics.Tensors;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn;

/// <summary>Base of the readout heads (non-spiking, reading the last recurrent layer).</summary>
/// <typeparam name="T">Element type.</typeparam>
public abstract class Readout<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private protected Readout(int inputSize, int size)
    {
        InputSize = inputSize;
        Size = size;
        Weight = new Parameter<T>("readout.w_out.weight", size, inputSize);
        Bias = new Parameter<T>("readout.w_out.bias", size);
    }

    /// <summary>Neurons of the last recurrent layer (N).</summary>
    public int InputSize { get; }

    /// <summary>Outputs C.</summary>
    public int Size { get; }

    /// <summary>"readout.w_out.weight" [C, N].</summary>
    public Parameter<T> Weight { get; }

    /// <summary>"readout.w_out.bias" [C].</summary>
    public Parameter<T> Bias { get; }

    /// <summary>Parameters in their fixed order.</summary>
    public abstract IReadOnlyList<Parameter<T>> Parameters { get; }

    internal abstract void Initialize(SnnRandom rng, InitializationScheme scheme);

    internal ReadoutTape<T> CreateTape(int batch, int capacity) => new(batch, Size, capacity);

    /// <summary>Forward step t: output written to tape slot O[t+1] (and the state for a leaky readout).</summary>
    internal abstract void Forward(ReadOnlySpan<T> spikes, ReadOnlySpan<T> membrane, T[] state, ReadoutTape<T> tape, int t);

    /// <summary>Backward step t given dL/doutput_t; adds dL/ds_t and dL/du_t of the last layer.</summary>
    internal abstract void Backward(ReadoutTape<T> tape, int t, ReadOnlySpan<T> gOut, Span<T> gSpikes, Span<T> gMembrane);

    /// <summary>Weight gradients over a chunk (rows = steps x B of the last layer's s_t and u_t).</summary>
    internal abstract void AccumulateGradients(ReadoutTape<T> tape, int steps, ReadOnlySpan<T> spikeRows, ReadOnlySpan<T> membraneRows);

    internal void AccumulateLinear(ReadoutTape<T> tape, int rows, ReadOnlySpan<T> inputRows)
    {
        int c = Size;
        ReadOnlySpan<T> gh = tape.GH.AsSpan(0, rows * c);
        Kernels.AddProduct(gh, 1, c, inputRows, InputSize, Weight.Grad, InputSize, c, rows, InputSize);
        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Add(Bias.Grad, gh.Slice(r * c, c), Bias.Grad);
        }
    }
}

/// <summary>
/// Leaky-integrator readout over the last layer's spikes (reference §1):
/// o_t = o_{t-1} + (W_o s_t + c_o − o_{t-1}) τ_o with τ_o = sigmoid(p) per class, p initialised
/// to 0 (τ_o = 0.5). The output is o_t; classification uses log_softmax(o_t). Parameters in
/// order: "readout.w_out.weight" [C, N], "readout.w_out.bias" [C], "readout.tau_o" [C] (p).
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class LeakyReadout<T> : Readout<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;

    /// <summary>Creates the readout.</summary>
    public LeakyReadout(int inputSize, int size)
        : base(inputSize, size)
    {
        TauParameter = new Parameter<T>("readout.tau_o", size);
        _parameters = [Weight, Bias, TauParameter];
    }

    /// <summary>"readout.tau_o" [C]: τ_o = sigmoid(value).</summary>
    public Parameter<T> TauParameter { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    internal override void Initialize(SnnRandom rng, InitializationScheme scheme)
    {
        Init.XavierUniform(Weight, rng);
        if (scheme == InitializationScheme.TorchDefault)
        {
            Init.Uniform(Bias, rng, 1.0 / Math.Sqrt(InputSize));
        }
        else
        {
            Init.Constant(Bias, 0);
        }

        Init.Constant(TauParameter, 0);
    }

    internal override void Forward(ReadOnlySpan<T> spikes, ReadOnlySpan<T> membrane, T[] state, ReadoutTape<T> tape, int t)
    {
        int batch = tape.Batch;
        int c = Size;
        Span<T> h = tape.Slot(tape.H, t);
        Span<T> oPrev = tape.Slot(tape.O, t);
        if (t == 0)
        {
            state.CopyTo(oPrev);
        }

        for (int b = 0; b < batch; b++)
        {
            Bias.Data.CopyTo(h.Slice(b * c, c));
        }

        Kernels.MatMulABt(spikes, InputSize, Weight.Data, InputSize, h, c, batch, c, InputSize, accumulate: true);
        Span<T> o = tape.Slot(tape.O, t + 1);
        for (int b = 0; b < batch; b++)
        {
            for (int k = 0; k < c; k++)
            {
                int e = (b * c) + k;
                T tau = T.One / (T.One + T.Exp(-TauParameter.Data[k]));
                o[e] = oPrev[e] + ((h[e] - oPrev[e]) * tau);
            }
        }

        o.CopyTo(state);
    }

    internal override void Backward(ReadoutTape<T> tape, int t, ReadOnlySpan<T> gOut, Span<T> gSpikes, Span<T> gMembrane)
    {
        int batch = tape.Batch;
        int c = Size;
        ReadOnlySpan<T> h = tape.Slot(tape.H, t);
        ReadOnlySpan<T> oPrev = tape.Slot(tape.O, t);
        Span<T> gh = tape.Slot(tape.GH, t);
        Span<T> go = tape.GO;
        for (int b = 0; b < batch; b++)
        {
            for (int k = 0; k < c; k++)
            {
                int e = (b * c) + k;
                T tau = T.One / (T.One + T.Exp(-TauParameter.Data[k]));
                T g = go[e] + gOut[e];
                tape.GTau[k] += double.CreateTruncating(g * (h[e] - oPrev[e]));
                gh[e] = g * tau;
                go[e] = g * (T.One - tau);
            }
        }

        Kernels.AddProduct<T>(gh, c, 1, Weight.Data, InputSize, gSpikes, InputSize, batch, c, InputSize);
    }

    internal override void AccumulateGradients(ReadoutTape<T> tape, int steps, ReadOnlySpan<T> spikeRows, ReadOnlySpan<T> membraneRows)
    {
        AccumulateLinear(tape, steps * tape.Batch, spikeRows);
        for (int k = 0; k < Size; k++)
        {
            double tau = 1.0 / (1.0 + Math.Exp(-double.CreateTruncating(TauParameter.Data[k])));
            TauParameter.Grad[k] += T.CreateTruncating(tape.GTau[k] * tau * (1 - tau));
        }

        Array.Clear(tape.GTau);
    }
}

/// <summary>
/// Regression head on the last layer's membrane potential, y_t = W u_t + c (the adding-task
/// model of the authors' code reads <c>self.lin(mem_1)</c>, the post-reset membrane of the
/// last step). Parameters in order: "readout.w_out.weight" [C, N] (Xavier-normal like the
/// authors' code), "readout.w_out.bias" [C] (zero).
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class MembraneReadout<T> : Readout<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;

    /// <summary>Creates the readout.</summary>
    public MembraneReadout(int inputSize, int size)
        : base(inputSize, size)
    {
        _parameters = [Weight, Bias];
    }

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    internal override void Initialize(SnnRandom rng, InitializationScheme scheme)
    {
        Init.XavierNormal(Weight, rng);
        if (scheme == InitializationScheme.TorchDefault)
        {
            Init.Uniform(Bias, rng, 1.0 / Math.Sqrt(InputSize));
        }
        else
        {
            Init.Constant(Bias, 0);
        }
    }

    internal override void Forward(ReadOnlySpan<T> spikes, ReadOnlySpan<T> membrane, T[] state, ReadoutTape<T> tape, int t)
    {
        int batch = tape.Batch;
        int c = Size;
        Span<T> y = tape.Slot(tape.O, t + 1);
        for (int b = 0; b < batch; b++)
        {
            Bias.Data.CopyTo(y.Slice(b * c, c));
        }

        Kernels.MatMulABt(membrane, InputSize, Weight.Data, InputSize, y, c, batch, c, InputSize, accumulate: true);
    }

    internal override void Backward(ReadoutTape<T> tape, int t, ReadOnlySpan<T> gOut, Span<T> gSpikes, Span<T> gMembrane)
    {
        int c = Size;
        Span<T> gh = tape.Slot(tape.GH, t);
        gOut.CopyTo(gh);
        Kernels.AddProduct<T>(gh, c, 1, Weight.Data, InputSize, gMembrane, InputSize, tape.Batch, c, InputSize);
    }

    internal override void AccumulateGradients(ReadoutTape<T> tape, int steps, ReadOnlySpan<T> spikeRows, ReadOnlySpan<T> membraneRows) =>
        AccumulateLinear(tape, steps * tape.Batch, membraneRows);
}
