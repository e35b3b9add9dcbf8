using EventSnn.Snn;
using EventSnn.Torch.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace EventSnn.Torch;

/// <summary>
/// The managed engine's networks (LTC, ALIF and LIF layers; leaky, liquid or membrane readout) written
/// with TorchSharp float32 tensors and autograd. Parameters have exactly the managed
/// <see cref="ParameterSet{T}"/>'s names, order, shapes ([out, in] row-major) and initial values
/// (a network built from a <see cref="NetworkConfig"/> is initialised by the managed engine and
/// copied), states have the managed layout (<see cref="TorchState"/>), and every equation is
/// evaluated in the managed engine's order:
/// <code>
/// LTC:  I = W_in x + bias + W_rec s   (with input normalisation: I = γ ⊙ norm(W_in x) + bias + W_rec s)
///       tau = sigmoid(k (W_tau [I; u] + c_tau));  rho = sigmoid(k (W_rho [I; b] + c_rho))
///       b' = rho b + (1 - rho) s;  theta = b0 + beta b';  m = u + (I - u) tau;  s' = H(m - theta);  u' = (1 - s') m
///       (beta = 0: the rho/b path is skipped and b is carried unchanged, as the managed engine does)
/// ALIF: alpha = exp(-1/tau_m), rho = exp(-1/tau_adp);  b' = rho b + (1 - rho) s;  theta = b0 + beta b'
///       u' = alpha u + (1 - alpha) I - theta s;  s' = H(u' - theta)        (LIF: b' = 0, theta = b0)
/// readout: leaky o' = o + (W_o s' + c_o - o) sigmoid(p), liquid (the rate sigmoid(k (W_tau [z ; o] + c_tau)) of z = W_o s' + c_o), or membrane y = W u' + c;
///          with ReadoutConfig.Norm the leaky and liquid heads use z = γ_o ⊙ norm(W_o s') + c_o (running statistics as below)
/// </code>
/// H is <see cref="TorchSurrogate.Spike"/> (Heaviside forward, multi-Gaussian surrogate backward).
/// <para>A step runs in inference mode (the default, and <see cref="Step"/>) or in training mode
/// (the learners), as the managed engine's inference and recorded training steps:
/// norm(a) (ε = 1e-5, biased variances) is, per <see cref="LayerConfig.InputNorm"/>, running:
/// (a − μ)/√(σ² + ε) with the per-neuron running statistics (buffers
/// "layers.{l}.norm.running_mean"/"running_var" [N]; a training step first moves μ toward the
/// batch mean and then σ² toward the batch's mean squared deviation from the new μ, with
/// <see cref="LayerConfig.NormMomentum"/>; the statistics are constants for autograd); layer: over
/// the neurons of each stream (differentiated); batch: per neuron over the batch with the step's
/// own statistics in training (differentiated; the running statistics of timestep
/// k = min(<see cref="TorchState.Step"/>, NormSteps − 1), buffers [NormSteps, N], move toward them)
/// and the running statistics of timestep k in inference. Spike dropout
/// (<see cref="NetworkConfig.Dropout"/> p, training only): the spikes a layer passes up (to the next
/// layer and to the leaky readout) are multiplied by a mask of 0 and 1/(1 − p) drawn from the
/// learner's generator in the managed engine's order (per step, layer by layer, row-major B x N),
/// so the same generator gives the managed masks; the recurrence sees the undropped spikes.</para>
/// Not thread-safe: one network per thread (states are separate objects).
/// </summary>
public sealed class TorchNetwork : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly string[] _names;
    private readonly Dictionary<string, Parameter> _byName = new(StringComparer.Ordinal);
    private readonly LayerConfig[] _layers;
    private readonly int[] _layerInputs;
    private readonly Tensor[] _buffers;
    private readonly string[] _bufferNames;
    private readonly Tensor?[] _runningMean;
    private readonly Tensor?[] _runningVar;

    /// <summary>Running statistics of the recurrent current per layer (null unless <see cref="LayerConfig.RecurrentNorm"/>).</summary>
    private readonly Tensor?[] _recurrentMean;

    private readonly Tensor?[] _recurrentVar;

    /// <summary>Running statistics of the readout's current (null unless <see cref="ReadoutConfig.Norm"/>).</summary>
    private readonly Tensor? _readoutMean;

    private readonly Tensor? _readoutVar;
    private bool _disposed;

    static TorchNetwork() => TorchRuntime.EnsureLoaded();

    /// <summary>Creates the network with the managed engine's initialisation for <paramref name="config"/>.</summary>
    public TorchNetwork(NetworkConfig config)
        : this(new Network<float>(config ?? throw new ArgumentNullException(nameof(config))))
    {
    }

    /// <summary>Creates the network with a copy of <paramref name="source"/>'s configuration and parameter values.</summary>
    public TorchNetwork(Network<float> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        TorchRuntime.EnsureLoaded();
        Config = source.Config;
        ParameterSet<float> ps = source.Parameters;
        _parameters = new Parameter[ps.Count];
        _names = new string[ps.Count];
        for (int i = 0; i < ps.Count; i++)
        {
            Parameter<float> p = ps[i];
            using Tensor t = FromManaged(p);
            var parameter = new Parameter(t, requires_grad: true);
            parameter.DetachFromDisposeScope();
            _parameters[i] = parameter;
            _names[i] = p.Name;
            _byName.Add(p.Name, parameter);
        }

        _layers = [.. Config.Layers];
        _layerInputs = new int[_layers.Length];
        int input = Config.InputSize;
        for (int l = 0; l < _layers.Length; l++)
        {
            _layerInputs[l] = input;
            input = _layers[l].Size;
        }

        // running statistics of the input normalisation: buffers outside autograd, in the managed order
        IReadOnlyList<Parameter<float>> buffers = source.Buffers;
        _buffers = new Tensor[buffers.Count];
        _bufferNames = new string[buffers.Count];
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < buffers.Count; i++)
        {
            _buffers[i] = FromManaged(buffers[i]);
            _bufferNames[i] = buffers[i].Name;
            byName.Add(buffers[i].Name, _buffers[i]);
        }

        _runningMean = new Tensor?[_layers.Length];
        _runningVar = new Tensor?[_layers.Length];
        _recurrentMean = new Tensor?[_layers.Length];
        _recurrentVar = new Tensor?[_layers.Length];
        for (int l = 0; l < _layers.Length; l++)
        {
            string prefix = Prefix(l);
            _runningMean[l] = byName.GetValueOrDefault(prefix + "norm.running_mean");
            _runningVar[l] = byName.GetValueOrDefault(prefix + "norm.running_var");
            _recurrentMean[l] = byName.GetValueOrDefault(prefix + "norm_rec.running_mean");
            _recurrentVar[l] = byName.GetValueOrDefault(prefix + "norm_rec.running_var");
            if (_layers[l].RecurrentNorm != (_recurrentMean[l] is not null && _recurrentVar[l] is not null))
            {
                throw new ArgumentException($"layer {l}: the running statistics of the recurrent normalisation do not match the source's buffers", nameof(source));
            }

            bool needsStatistics = _layers[l].InputNorm is InputNormKind.Running || _layers[l].InputNorm.PerTimestep();
            if (needsStatistics != (_runningMean[l] is not null && _runningVar[l] is not null))
            {
                throw new ArgumentException($"layer {l}: the running statistics of {_layers[l].InputNorm} normalisation do not match the source's buffers", nameof(source));
            }
        }

        _readoutMean = byName.GetValueOrDefault("readout.norm.running_mean");
        _readoutVar = byName.GetValueOrDefault("readout.norm.running_var");
        if ((Config.Readout.Norm != InputNormKind.None) != (_readoutMean is not null && _readoutVar is not null))
        {
            throw new ArgumentException($"the readout's running statistics ({Config.Readout.Norm} normalisation) do not match the source's buffers", nameof(source));
        }
    }

    /// <summary>Configuration (the same record as the managed network's).</summary>
    public NetworkConfig Config { get; }

    /// <summary>Parameters in the managed fixed order (owned by the network).</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Parameter names in the fixed order (the managed names, e.g. "layers.0.w_in.weight").</summary>
    public IReadOnlyList<string> ParameterNames => _names;

    /// <summary>Input dimension D.</summary>
    public int InputSize => Config.InputSize;

    /// <summary>Outputs C.</summary>
    public int OutputSize => Config.Readout.Size;

    /// <summary>
    /// Non-trainable state in the managed <see cref="Network{T}.Buffers"/> order (running statistics
    /// of the input normalisation; owned by the network, updated in place by training steps).
    /// </summary>
    public IReadOnlyList<Tensor> Buffers => _buffers;

    /// <summary>Buffer names in their order (e.g. "layers.0.norm.running_mean").</summary>
    public IReadOnlyList<string> BufferNames => _bufferNames;

    /// <summary>Parameter by its managed name.</summary>
    public Parameter this[string name] => _byName.TryGetValue(name, out Parameter? p) ? p : throw new KeyNotFoundException($"no parameter named '{name}'");

    /// <summary>Copies parameter values from a managed set with the same names and shapes.</summary>
    public void CopyFrom(ParameterSet<float> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        CheckLayout(source);
        using var noGrad = no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            _parameters[i].data<float>().CopyFrom(source[i].Data, 0, 0);
        }
    }

    /// <summary>Copies parameter values into a managed set with the same names and shapes (and marks it changed).</summary>
    public void CopyTo(ParameterSet<float> target)
    {
        ArgumentNullException.ThrowIfNull(target);
        CheckLayout(target);
        for (int i = 0; i < _parameters.Length; i++)
        {
            TorchState.ToArray(_parameters[i], target[i].Data);
        }

        target.MarkChanged();
    }

    /// <summary>Copies parameters and buffers (running statistics) from a managed network of the same layout.</summary>
    public void CopyFrom(Network<float> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        CopyFrom(source.Parameters);
        CheckBuffers(source.Buffers);
        using var noGrad = no_grad();
        for (int i = 0; i < _buffers.Length; i++)
        {
            _buffers[i].data<float>().CopyFrom(source.Buffers[i].Data, 0, 0);
        }
    }

    /// <summary>Copies parameters and buffers (running statistics) into a managed network of the same layout (and marks them changed).</summary>
    public void CopyTo(Network<float> target)
    {
        ArgumentNullException.ThrowIfNull(target);
        CopyTo(target.Parameters);
        CheckBuffers(target.Buffers);
        for (int i = 0; i < _buffers.Length; i++)
        {
            TorchState.ToArray(_buffers[i], target.Buffers[i].Data);
            target.Buffers[i].MarkChanged();
        }
    }

    /// <summary>A managed network with this configuration and a copy of the current parameter and buffer values.</summary>
    public Network<float> ToManaged()
    {
        var net = new Network<float>(Config);
        CopyTo(net);
        return net;
    }

    /// <summary>
    /// A fresh state for <paramref name="batch"/> streams, initialised exactly like the managed
    /// <see cref="Network{T}.CreateState"/> with the same generator (u ~ U[0,1), s = 0, b = b0 —
    /// 0 for LIF — and o = 0; or all zero).
    /// </summary>
    public TorchState CreateState(int batch, SnnRandom? rng = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        rng ??= new SnnRandom(Config.Seed ^ 0x5DEECE66DL);
        int layers = _layers.Length;
        var u = new Tensor[layers];
        var s = new Tensor[layers];
        var b = new Tensor[layers];
        for (int l = 0; l < layers; l++)
        {
            LayerConfig lc = _layers[l];
            int n = batch * lc.Size;
            var uv = new float[n];
            var bv = new float[n];
            if (Config.InitialState == InitialStateMode.Reference)
            {
                for (int i = 0; i < n; i++)
                {
                    uv[i] = (float)rng.NextDouble();
                }

                if (lc.Model != NeuronModel.Lif)
                {
                    Array.Fill(bv, (float)lc.ThresholdBase);
                }
            }

            u[l] = TorchState.FromArray(uv, batch, lc.Size);
            s[l] = zeros([batch, lc.Size], ScalarType.Float32);
            b[l] = TorchState.FromArray(bv, batch, lc.Size);
        }

        return new TorchState(batch, u, s, b, zeros([batch, OutputSize], ScalarType.Float32));
    }

    /// <summary>Re-initialises <paramref name="state"/> in place like <see cref="CreateState"/>.</summary>
    public void ResetState(TorchState state, SnnRandom? rng = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        using TorchState fresh = CreateState(state.Batch, rng);
        for (int l = 0; l < state.LayerCount; l++)
        {
            state.SetLayer(l, fresh.U(l).alias(), fresh.S(l).alias(), fresh.B(l).alias());
        }

        state.SetReadout(fresh.Readout.alias());
        state.Step = 0;
    }

    /// <summary>
    /// One inference-mode time step on a dense input <paramref name="x"/> ([B, D] float32): advances
    /// <paramref name="state"/> and returns the readout [B, C] (a new tensor the caller disposes).
    /// Records autograd history when gradients are enabled and the parameters require them.
    /// </summary>
    public Tensor Forward(Tensor x, TorchState state) => Forward(x, state, training: false);

    /// <summary>
    /// One time step on a dense input <paramref name="x"/> ([B, D] float32) in inference or training
    /// mode (see the class remarks; training mode updates the running statistics and, with dropout,
    /// draws the masks from <paramref name="dropout"/>); returns the readout [B, C].
    /// </summary>
    public Tensor Forward(Tensor x, TorchState state, bool training, DropoutGenerators? dropout = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        return Forward(x, null, state, training, dropout);
    }

    /// <summary>One inference-mode time step on a managed <see cref="StepInput{T}"/> (dense or sparse); see <see cref="Forward(Tensor, TorchState)"/>.</summary>
    public Tensor Forward(in StepInput<float> input, TorchState state) => Forward(input, state, training: false);

    /// <summary>One time step on a managed <see cref="StepInput{T}"/> in inference or training mode; see <see cref="Forward(Tensor, TorchState, bool, DropoutGenerators)"/>.</summary>
    public Tensor Forward(in StepInput<float> input, TorchState state, bool training, DropoutGenerators? dropout = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var scope = NewDisposeScope();
        (Tensor? dense, Tensor? index) = ToTensor(input, state);
        return Forward(dense, index, state, training, dropout).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Streaming inference: one step without autograd, readout (B x C values) written to
    /// <paramref name="output"/>. Every temporary is disposed before returning.
    /// </summary>
    public void Step(in StepInput<float> input, TorchState state, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (output.Length < state.Batch * OutputSize)
        {
            throw new ArgumentException($"output needs {state.Batch * OutputSize} values", nameof(output));
        }

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        (Tensor? dense, Tensor? index) = ToTensor(input, state);
        Tensor o = Forward(dense, index, state, training: false, dropout: null);
        o.data<float>().CopyTo(output, 0, 0);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (Parameter p in _parameters)
        {
            p.Dispose();
        }

        foreach (Tensor b in _buffers)
        {
            b.Dispose();
        }
    }

    /// <summary>Converts a step input: dense [B, D], or for one sparse stream the active indices (int64) for a column gather.</summary>
    internal (Tensor? Dense, Tensor? Index) ToTensor(in StepInput<float> input, TorchState state)
    {
        int batch = state.Batch;
        int d = InputSize;
        ValidateInput(input, batch, d);
        if (input.IsSparse && batch == 1)
        {
            int count = input.Indices.Length;
            long[] idx = state.IndexScratch(count);
            for (int k = 0; k < count; k++)
            {
                idx[k] = input.Indices[k];
            }

            Tensor index = empty([count], ScalarType.Int64);
            if (count > 0)
            {
                index.data<long>().CopyFrom(idx.AsSpan(0, count), 0, 0);
            }

            return (null, index);
        }

        float[] buffer = state.InputScratch(batch * d);
        if (input.IsSparse)
        {
            Array.Clear(buffer, 0, batch * d);
            for (int b = 0; b < batch; b++)
            {
                (int s, int e) = input.Range(b);
                for (int k = s; k < e; k++)
                {
                    buffer[(b * d) + input.Indices[k]] += 1f;
                }
            }
        }
        else
        {
            input.Dense.CopyTo(buffer);
        }

        Tensor dense = empty([batch, d], ScalarType.Float32);
        dense.data<float>().CopyFrom(buffer.AsSpan(0, batch * d), 0, 0);
        return (dense, null);
    }

    private static void ValidateInput(in StepInput<float> input, int batch, int d)
    {
        if (input.IsSparse)
        {
            if (input.Offsets.IsEmpty ? batch != 1 : input.Offsets.Length != batch + 1 || input.Offsets[0] < 0 || input.Offsets[batch] > input.Indices.Length)
            {
                throw new ArgumentException($"sparse input for batch {batch} needs {batch + 1} offsets within the index list");
            }

            foreach (int j in input.Indices)
            {
                if ((uint)j >= (uint)d)
                {
                    throw new ArgumentException($"input index {j} outside [0, {d})");
                }
            }
        }
        else if (input.Dense.Length != batch * d)
        {
            throw new ArgumentException($"dense input must have batch x inputs = {batch * d} values (has {input.Dense.Length})");
        }
    }

    private Tensor Forward(Tensor? dense, Tensor? index, TorchState state, bool training, DropoutGenerators? dropout)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (state.LayerCount != _layers.Length)
        {
            throw new ArgumentException("the state belongs to a network with another layer count", nameof(state));
        }

        bool drop = training && Config.Dropout > 0;
        if (drop && dropout is null)
        {
            throw new ArgumentException($"a training step with dropout {Config.Dropout} needs a generator for the masks", nameof(dropout));
        }

        using var scope = NewDisposeScope();
        if (dense is not null && (dense.shape.Length != 2 || dense.shape[0] != state.Batch || dense.shape[1] != InputSize))
        {
            throw new ArgumentException($"input must be [{state.Batch}, {InputSize}]");
        }

        Tensor? x = dense;
        Tensor? up = null;
        for (int l = 0; l < _layers.Length; l++)
        {
            string prefix = Prefix(l);
            Tensor current = Current(l, x, l == 0 ? index : null, state, training);
            (Tensor u, Tensor s, Tensor b) = _layers[l].Model == NeuronModel.Ltc
                ? LtcStep(prefix, _layers[l], current, state.U(l), state.S(l), state.B(l))
                : SoftResetStep(prefix, _layers[l], current, state.U(l), state.S(l), state.B(l));
            state.SetLayer(l, u, s, b);

            // the recurrence keeps the undropped spikes; the next layer and the readout see the dropped ones
            up = drop ? s.mul(DropoutMask(state, _layers[l].Size, dropout!)) : s;
            x = up;
        }

        state.Step++;
        int top = _layers.Length - 1;
        Tensor output;
        if (Config.Readout.Kind == ReadoutKind.Leaky)
        {
            Tensor h = ReadoutCurrent(up!, training, state.Step - 1);
            Tensor tauO = this["readout.tau_o"].sigmoid();
            Tensor oPrev = state.Readout;
            output = oPrev.add(h.sub(oPrev).mul(tauO));
            state.SetReadout(output.alias());
        }
        else if (Config.Readout.Kind == ReadoutKind.Liquid)
        {
            // o' = o + (z − o) sigmoid(k (W_tau [z ; o] + c_tau)), z = W_o s' + c_o
            Tensor z = ReadoutCurrent(up!, training, state.Step - 1);
            Tensor oPrev = state.Readout;
            Tensor gate = F.linear(cat([z, oPrev], 1), this["readout.w_tau.weight"], this["readout.w_tau.bias"]).mul(this["readout.k_tau"]).sigmoid();
            output = oPrev.add(z.sub(oPrev).mul(gate));
            state.SetReadout(output.alias());
        }
        else
        {
            output = F.linear(state.U(top), this["readout.w_out.weight"], this["readout.w_out.bias"]);
        }

        return output.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The readout's current z = W_o s + c_o, or with <see cref="ReadoutConfig.Norm"/>
    /// γ_o ⊙ norm(W_o s) + c_o with the readout's running statistics (timestep <paramref name="step"/>'s set).
    /// </summary>
    private Tensor ReadoutCurrent(Tensor up, bool training, int step)
    {
        ReadoutConfig rc = Config.Readout;
        if (rc.Norm == InputNormKind.None)
        {
            return F.linear(up, this["readout.w_out.weight"], this["readout.w_out.bias"]);
        }

        Tensor raw = F.linear(up, this["readout.w_out.weight"]);
        return NormalizeRunning(rc.Norm, rc.NormMomentum, rc.NormSteps, raw, _readoutMean!, _readoutVar!, training, step)
            .mul(this["readout.norm.weight"]).add(this["readout.w_out.bias"]);
    }

    /// <summary>"layers.{l}."</summary>
    private static string Prefix(int l) => "layers." + l.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".";

    /// <summary>A float32 tensor with a managed parameter's shape and values.</summary>
    private static Tensor FromManaged(Parameter<float> p)
    {
        long[] shape = new long[p.Shape.Count];
        for (int k = 0; k < shape.Length; k++)
        {
            shape[k] = p.Shape[k];
        }

        Tensor t = empty(shape, ScalarType.Float32);
        t.data<float>().CopyFrom(p.Data, 0, 0);
        return t.DetachFromDisposeScope();
    }

    /// <summary>The dropout mask [B, N] of one layer at one step: 0 with probability p, else 1/(1 − p), drawn as the managed engine draws it.</summary>
    internal Tensor DropoutMask(TorchState state, int size, DropoutGenerators rngs)
    {
        int n = state.Batch * size;
        float[] mask = state.MaskScratch(n);
        double p = Config.Dropout;
        float keep = 1f / (1f - (float)p);
        rngs.EnsureStreams(state.Batch);
        for (int b = 0; b < state.Batch; b++)
        {
            SnnRandom rng = rngs[b];
            for (int i = b * size; i < (b + 1) * size; i++)
            {
                mask[i] = rng.NextDouble() < p ? 0f : keep;
            }
        }

        Tensor t = empty([state.Batch, size], ScalarType.Float32);
        t.data<float>().CopyFrom(mask.AsSpan(0, n), 0, 0);
        return t;
    }

    /// <summary>
    /// I = W_in x + bias (+ W_rec s_{t-1}), or with input normalisation γ ⊙ norm(W_in x) + bias
    /// (+ W_rec s_{t-1}, or γ_rec ⊙ norm(W_rec s_{t-1}) with <see cref="LayerConfig.RecurrentNorm"/>);
    /// a single sparse stream gathers the active columns of W_in.
    /// </summary>
    private Tensor Current(int l, Tensor? x, Tensor? index, TorchState state, bool training)
    {
        LayerConfig lc = _layers[l];
        string prefix = Prefix(l);
        Parameter wIn = this[prefix + "w_in.weight"];
        Parameter bias = this[prefix + "w_in.bias"];
        Tensor current;
        if (lc.InputNorm == InputNormKind.None)
        {
            current = x is not null
                ? F.linear(x, wIn, bias)
                : wIn.index_select(1, index!).sum(1).add(bias).unsqueeze(0);
        }
        else
        {
            Tensor a = x is not null
                ? F.linear(x, wIn)
                : wIn.index_select(1, index!).sum(1).unsqueeze(0);
            current = Normalize(l, a, training, state.Step).mul(this[prefix + "norm.weight"]).add(bias);
        }

        if (lc.Recurrent)
        {
            Tensor r = F.linear(state.S(l), this[prefix + "w_rec.weight"]);
            if (lc.RecurrentNorm)
            {
                // γ_rec ⊙ norm(W_rec s_{t-1}) with the recurrent current's own statistics
                r = NormalizeRunning(lc.InputNorm, lc.NormMomentum, lc.NormSteps, r, _recurrentMean[l]!, _recurrentVar[l]!, training, state.Step).mul(this[prefix + "norm_rec.weight"]);
            }

            current = current.add(r);
        }

        return current;
    }

    /// <summary>norm(a) of layer <paramref name="l"/> for a [B, N] feed-forward current (see the class remarks).</summary>
    private Tensor Normalize(int l, Tensor a, bool training, int step)
    {
        const float Eps = 1e-5f;
        LayerConfig lc = _layers[l];
        float momentum = (float)lc.NormMomentum;
        switch (lc.InputNorm)
        {
            case InputNormKind.Layer:
            {
                Tensor h = a.sub(a.mean([1], keepdim: true));
                Tensor r = h.square().mean([1], keepdim: true).add(Eps).rsqrt();
                return h.mul(r);
            }

            case InputNormKind.Running:
            case InputNormKind.Timestep:
                return NormalizeRunning(lc.InputNorm, lc.NormMomentum, lc.NormSteps, a, _runningMean[l]!, _runningVar[l]!, training, step);

            case InputNormKind.Batch:
            {
                int k = Math.Min(step, lc.NormSteps - 1);
                Tensor mean = _runningMean[l]!.select(0, k);
                Tensor var = _runningVar[l]!.select(0, k);
                if (!training)
                {
                    Tensor mu = mean.detach().clone();
                    Tensor inv = var.detach().add(Eps).rsqrt();
                    return a.sub(mu).mul(inv);
                }

                Tensor batchMean = a.mean([0]);
                Tensor h = a.sub(batchMean);
                Tensor batchVar = h.square().mean([0]);
                using (no_grad())
                {
                    mean.add_(batchMean.detach().sub(mean).mul(momentum));
                    var.add_(batchVar.detach().sub(var).mul(momentum));
                }

                return h.mul(batchVar.add(Eps).rsqrt());
            }

            default:
                throw new InvalidOperationException($"unknown input normalisation {lc.InputNorm}");
        }
    }

    /// <summary>
    /// (a − μ) / √(σ² + ε) of a [B, N] current with running statistics (<paramref name="means"/>,
    /// <paramref name="vars"/>: one set, or [NormSteps, N] per timestep), which a training step
    /// first moves toward the batch's; the statistics are constants for autograd.
    /// </summary>
    private static Tensor NormalizeRunning(InputNormKind kind, double normMomentum, int normSteps, Tensor a, Tensor means, Tensor vars, bool training, int step)
    {
        const float Eps = 1e-5f;
        float momentum = (float)normMomentum;

        // one set of statistics, or this timestep's (views: updated in place)
        bool perStep = kind == InputNormKind.Timestep;
        int k = Math.Min(step, normSteps - 1);
        Tensor mean = perStep ? means.select(0, k) : means;
        Tensor var = perStep ? vars.select(0, k) : vars;
        if (training)
        {
            using var noGrad = no_grad();
            Tensor ad = a.detach();
            mean.add_(ad.mean([0]).sub(mean).mul(momentum));
            var.add_(ad.sub(mean).square().mean([0]).sub(var).mul(momentum));
        }

        // the statistics are constants of this step (copies: later steps update the buffers in place)
        Tensor mu = mean.detach().clone();
        Tensor inv = var.detach().add(Eps).rsqrt();
        return a.sub(mu).mul(inv);
    }

    private (Tensor U, Tensor S, Tensor B) LtcStep(string prefix, LayerConfig lc, Tensor current, Tensor uPrev, Tensor sPrev, Tensor bPrev)
    {
        Tensor za = F.linear(cat([current, uPrev], 1), this[prefix + "w_tau.weight"], this[prefix + "w_tau.bias"]);
        if (lc.LearnableSlope)
        {
            za = za.mul(this[prefix + "k_tau"]);
        }

        Tensor tau = za.sigmoid();
        Tensor bNew;
        Tensor? theta = null;
        if (lc.ThresholdAdaptation != 0)
        {
            Tensor zr = F.linear(cat([current, bPrev], 1), this[prefix + "w_rho.weight"], this[prefix + "w_rho.bias"]);
            if (lc.LearnableSlope)
            {
                zr = zr.mul(this[prefix + "k_rho"]);
            }

            Tensor rho = zr.sigmoid();
            bNew = rho.mul(bPrev).add(rho.neg().add(1).mul(sPrev));
            theta = bNew.mul((float)lc.ThresholdAdaptation).add((float)lc.ThresholdBase);
        }
        else
        {
            bNew = bPrev.alias();
        }

        Tensor mem = uPrev.add(current.sub(uPrev).mul(tau));
        Tensor v = theta is null ? mem.sub((float)lc.ThresholdBase) : mem.sub(theta);
        Tensor s = TorchSurrogate.Spike(v);
        Tensor u = s.neg().add(1).mul(mem);
        return (u, s, bNew);
    }

    private (Tensor U, Tensor S, Tensor B) SoftResetStep(string prefix, LayerConfig lc, Tensor current, Tensor uPrev, Tensor sPrev, Tensor bPrev)
    {
        bool adaptive = lc.Model == NeuronModel.Alif;
        Tensor alpha = this[prefix + "tau_m"].reciprocal().neg().exp();
        Tensor bNew;
        Tensor theta;
        if (adaptive)
        {
            Tensor rho = this[prefix + "tau_adp"].reciprocal().neg().exp();
            bNew = rho.mul(bPrev).add(rho.neg().add(1).mul(sPrev));
            theta = bNew.mul((float)lc.ThresholdAdaptation).add((float)lc.ThresholdBase);
        }
        else
        {
            bNew = zeros_like(bPrev);
            theta = full_like(bPrev, (float)lc.ThresholdBase);
        }

        Tensor u = alpha.mul(uPrev).add(alpha.neg().add(1).mul(current)).sub(theta.mul(sPrev));
        Tensor s = TorchSurrogate.Spike(u.sub(theta));
        return (u, s, bNew);
    }

    private void CheckBuffers(IReadOnlyList<Parameter<float>> other)
    {
        if (other.Count != _buffers.Length)
        {
            throw new ArgumentException($"buffer lists differ in size ({other.Count} vs {_buffers.Length})", nameof(other));
        }

        for (int i = 0; i < _buffers.Length; i++)
        {
            if (other[i].Name != _bufferNames[i] || other[i].Length != _buffers[i].numel())
            {
                throw new ArgumentException($"buffer {i} differs: {other[i]} vs {_bufferNames[i]}", nameof(other));
            }
        }
    }

    private void CheckLayout(ParameterSet<float> other)
    {
        if (other.Count != _parameters.Length)
        {
            throw new ArgumentException($"parameter sets differ in size ({other.Count} vs {_parameters.Length})", nameof(other));
        }

        for (int i = 0; i < _parameters.Length; i++)
        {
            if (other[i].Name != _names[i] || other[i].Length != _parameters[i].numel())
            {
                throw new ArgumentException($"parameter {i} differs: {other[i]} vs {_names[i]}", nameof(other));
            }
        }
    }
}
