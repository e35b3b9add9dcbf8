using EventSnn.Snn;
using TorchSharp;
using static TorchSharp.torch;

namespace EventSnn.Torch;

/// <summary>
/// Explicit state of a <see cref="TorchNetwork"/> for B streams, in the managed engine's layout:
/// per layer u, s, b as [B, N] float32 tensors, and the leaky readout's o as [B, C]. The state
/// owns its tensors (they live outside any dispose scope); a step replaces them and disposes
/// the previous handles (an autograd graph that still needs them keeps its own references).
/// </summary>
public sealed class TorchState : IDisposable
{
    private readonly Tensor[] _u;
    private readonly Tensor[] _s;
    private readonly Tensor[] _b;
    private Tensor _o;
    private bool _disposed;
    private float[] _input = [];
    private float[] _mask = [];
    private long[] _index = [];

    internal TorchState(int batch, Tensor[] u, Tensor[] s, Tensor[] b, Tensor o)
    {
        Batch = batch;
        _u = u;
        _s = s;
        _b = b;
        _o = o;
        for (int l = 0; l < u.Length; l++)
        {
            u[l].DetachFromDisposeScope();
            s[l].DetachFromDisposeScope();
            b[l].DetachFromDisposeScope();
        }

        o.DetachFromDisposeScope();
    }

    /// <summary>Streams B.</summary>
    public int Batch { get; }

    /// <summary>Number of recurrent layers.</summary>
    public int LayerCount => _u.Length;

    /// <summary>Membrane u of layer <paramref name="layer"/> ([B, N]; owned by the state, do not dispose).</summary>
    public Tensor U(int layer) => _u[layer];

    /// <summary>Spikes s of layer <paramref name="layer"/> ([B, N]).</summary>
    public Tensor S(int layer) => _s[layer];

    /// <summary>Threshold adaptation b of layer <paramref name="layer"/> ([B, N]).</summary>
    public Tensor B(int layer) => _b[layer];

    /// <summary>Leaky readout state o ([B, C]).</summary>
    public Tensor Readout => _o;

    /// <summary>
    /// Steps the state has advanced since it was created or reset (the managed
    /// <see cref="LayerState{T}.Step"/>, equal in every layer); per-timestep batch normalisation reads it.
    /// </summary>
    public int Step { get; internal set; }

    /// <summary>Copies a managed state (same shapes) into a new torch state.</summary>
    public static TorchState FromManaged(NetworkState<float> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        int layers = state.Layers.Count;
        var u = new Tensor[layers];
        var s = new Tensor[layers];
        var b = new Tensor[layers];
        for (int l = 0; l < layers; l++)
        {
            LayerState<float> ls = state.Layers[l];
            u[l] = FromArray(ls.U, state.Batch, ls.Size);
            s[l] = FromArray(ls.S, state.Batch, ls.Size);
            b[l] = FromArray(ls.B, state.Batch, ls.Size);
        }

        return new TorchState(state.Batch, u, s, b, FromArray(state.Readout, state.Batch, state.ReadoutSize)) { Step = state.Layers[0].Step };
    }

    /// <summary>Copies this state into a managed state of the same shape.</summary>
    public void CopyTo(NetworkState<float> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (state.Batch != Batch || state.Layers.Count != LayerCount)
        {
            throw new ArgumentException("states differ in shape", nameof(state));
        }

        for (int l = 0; l < LayerCount; l++)
        {
            LayerState<float> ls = state.Layers[l];
            ToArray(_u[l], ls.U);
            ToArray(_s[l], ls.S);
            ToArray(_b[l], ls.B);
            ls.Step = Step;
        }

        ToArray(_o, state.Readout);
    }

    /// <summary>Cuts the autograd history: the state becomes a constant (the start of a new chunk).</summary>
    public void Detach()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        for (int l = 0; l < LayerCount; l++)
        {
            Replace(ref _u[l], _u[l].detach());
            Replace(ref _s[l], _s[l].detach());
            Replace(ref _b[l], _b[l].detach());
        }

        Replace(ref _o, _o.detach());
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        for (int l = 0; l < LayerCount; l++)
        {
            _u[l].Dispose();
            _s[l].Dispose();
            _b[l].Dispose();
        }

        _o.Dispose();
    }

    internal void SetLayer(int layer, Tensor u, Tensor s, Tensor b)
    {
        Replace(ref _u[layer], u);
        Replace(ref _s[layer], s);
        Replace(ref _b[layer], b);
    }

    internal void SetReadout(Tensor o) => Replace(ref _o, o);

    /// <summary>Reusable managed buffer for building dense input tensors.</summary>
    internal float[] InputScratch(int length)
    {
        if (_input.Length < length)
        {
            _input = new float[length];
        }

        return _input;
    }

    /// <summary>Reusable managed buffer for building dropout masks.</summary>
    internal float[] MaskScratch(int length)
    {
        if (_mask.Length < length)
        {
            _mask = new float[length];
        }

        return _mask;
    }

    /// <summary>Reusable managed buffer for sparse index tensors.</summary>
    internal long[] IndexScratch(int length)
    {
        if (_index.Length < length)
        {
            _index = new long[Math.Max(length, 2 * _index.Length)];
        }

        return _index;
    }

    internal static Tensor FromArray(float[] data, int rows, int cols)
    {
        Tensor t = zeros([rows, cols], ScalarType.Float32);
        t.data<float>().CopyFrom(data, 0, 0);
        return t;
    }

    internal static void ToArray(Tensor t, Span<float> dst)
    {
        using Tensor d = t.detach();
        using Tensor c = d.contiguous();
        c.data<float>().CopyTo(dst, 0, 0);
    }

    private static void Replace(ref Tensor slot, Tensor value)
    {
        if (ReferenceEquals(slot, value))
        {
            return;
        }

        value.DetachFromDisposeScope();
        slot.Dispose();
        slot = value;
    }
}
