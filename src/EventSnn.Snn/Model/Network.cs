using System.Numerics;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn;

/// <summary>
/// A stack of recurrent spiking layers plus a readout, sized by a <see cref="NetworkConfig"/>.
/// The network holds only parameters; all dynamic state lives in <see cref="NetworkState{T}"/>
/// objects, so one model serves many concurrent streams (each with its own state; concurrent
/// <see cref="Step"/> calls on different states are safe while the parameters are not being
/// trained).
/// </summary>
/// <typeparam name="T">float (engine) or double (reference path for tests).</typeparam>
public sealed class Network<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly RecurrentLayer<T>[] _layers;

    /// <summary>Gives every layer the helper threads of batch-1 training (null: none).</summary>
    internal void SetWorkers(UpdateWorkers? workers)
    {
        foreach (RecurrentLayer<T> layer in _layers)
        {
            layer.Workers = workers;
        }
    }

    /// <summary>Creates and initialises a network from <paramref name="config"/> (deterministic for config.Seed).</summary>
    public Network(NetworkConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        _layers = new RecurrentLayer<T>[config.Layers.Count];
        int input = config.InputSize;
        for (int l = 0; l < _layers.Length; l++)
        {
            LayerConfig lc = config.Layers[l];
            _layers[l] = lc.Model switch
            {
                NeuronModel.Ltc => new LtcLayer<T>(l, input, lc),
                NeuronModel.Alif => new AlifLayer<T>(l, input, lc),
                NeuronModel.Lif => new LifLayer<T>(l, input, lc),
                _ => throw new ArgumentException($"unknown neuron model {lc.Model}"),
            };
            input = lc.Size;
        }

        Readout = config.Readout.Kind switch
        {
            ReadoutKind.Leaky => new LeakyReadout<T>(input, config.Readout.Size, config.Readout),
            ReadoutKind.Membrane => new MembraneReadout<T>(input, config.Readout.Size),
            ReadoutKind.Liquid => new LiquidReadout<T>(input, config.Readout.Size, config.Readout),
            _ => throw new ArgumentException($"unknown readout {config.Readout.Kind}"),
        };

        var all = new List<Parameter<T>>();
        foreach (RecurrentLayer<T> layer in _layers)
        {
            all.AddRange(layer.Parameters);
        }

        all.AddRange(Readout.Parameters);
        Parameters = new ParameterSet<T>(all);
        var buffers = new List<Parameter<T>>();
        foreach (RecurrentLayer<T> layer in _layers)
        {
            buffers.AddRange(layer.Buffers);
        }

        buffers.AddRange(Readout.Buffers);
        Buffers = buffers;

        var rng = new SnnRandom(config.Seed);
        foreach (RecurrentLayer<T> layer in _layers)
        {
            layer.Initialize(rng, config.Initialization);
        }

        Readout.Initialize(rng, config.Initialization);
    }

    /// <summary>Configuration.</summary>
    public NetworkConfig Config { get; }

    /// <summary>Recurrent layers, input side first.</summary>
    public IReadOnlyList<RecurrentLayer<T>> Layers => _layers;

    /// <summary>Readout head.</summary>
    public Readout<T> Readout { get; }

    internal RecurrentLayer<T>[] LayerArray => _layers;

    /// <summary>All trainable parameters in their fixed order (see <see cref="ParameterSet{T}"/>).</summary>
    public ParameterSet<T> Parameters { get; }

    /// <summary>
    /// Non-trainable state that belongs to the model (running statistics of the input
    /// normalisation), saved in checkpoints after the parameters; not touched by optimisers or FPTT.
    /// </summary>
    public IReadOnlyList<Parameter<T>> Buffers { get; }

    /// <summary>Copies parameters and buffers from <paramref name="source"/> (same configuration).</summary>
    public void CopyFrom(Network<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        Parameters.CopyFrom(source.Parameters);
        for (int i = 0; i < Buffers.Count; i++)
        {
            source.Buffers[i].Data.CopyTo(Buffers[i].Data, 0);
            Buffers[i].MarkChanged();
        }
    }

    /// <summary>
    /// A replica for data-parallel training: the same configuration, every parameter a view of
    /// this network's values (<see cref="Parameter{T}.ShareValues"/>: no copies, its own
    /// gradients) and its own copies of the buffers (see <see cref="CopyBuffersFrom"/>).
    /// </summary>
    internal Network<T> CreateReplica()
    {
        var replica = new Network<T>(Config);
        for (int i = 0; i < Parameters.Count; i++)
        {
            replica.Parameters[i].ShareValues(Parameters[i]);
        }

        replica.CopyBuffersFrom(this);
        return replica;
    }

    /// <summary>Copies the buffers (running statistics) of <paramref name="source"/> (same configuration).</summary>
    internal void CopyBuffersFrom(Network<T> source)
    {
        for (int i = 0; i < Buffers.Count; i++)
        {
            source.Buffers[i].Data.CopyTo(Buffers[i].Data, 0);
        }
    }

    /// <summary>Input dimension D.</summary>
    public int InputSize => Config.InputSize;

    /// <summary>Outputs C.</summary>
    public int OutputSize => Readout.Size;

    /// <summary>The last recurrent layer.</summary>
    public RecurrentLayer<T> TopLayer => _layers[^1];

    /// <summary>Test-only: replaces H by the smooth antiderivative of the surrogate in every layer.</summary>
    internal bool SmoothSpikes
    {
        get => _layers[0].SmoothSpikes;
        set
        {
            foreach (RecurrentLayer<T> l in _layers)
            {
                l.SmoothSpikes = value;
            }
        }
    }

    /// <summary>A fresh state for <paramref name="batch"/> streams, initialised per <see cref="NetworkConfig.InitialState"/>.</summary>
    /// <param name="batch">Streams B.</param>
    /// <param name="rng">Generator for the random initial membrane; null uses one seeded from the config seed.</param>
    public NetworkState<T> CreateState(int batch, SnnRandom? rng = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var sizes = new int[_layers.Length];
        for (int l = 0; l < sizes.Length; l++)
        {
            sizes[l] = _layers[l].Size;
        }

        var state = new NetworkState<T>(batch, sizes, Readout.Size);
        ResetState(state, rng);
        return state;
    }

    /// <summary>Re-initialises <paramref name="state"/> (u ~ U[0,1), s = 0, b = b0, o = 0; or all zero).</summary>
    public void ResetState(NetworkState<T> state, SnnRandom? rng = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        rng ??= new SnnRandom(Config.Seed ^ 0x5DEECE66DL);
        for (int l = 0; l < _layers.Length; l++)
        {
            _layers[l].ResetState((LayerState<T>)state.Layers[l], Config.InitialState, rng);
        }

        Array.Clear(state.Readout);
    }

    /// <summary>
    /// Inference step: advances <paramref name="state"/> by one time step on
    /// <paramref name="input"/> and writes the readout (B x C) into <paramref name="output"/>.
    /// Allocates nothing after the state's first step.
    /// </summary>
    public void Step(in StepInput<T> input, NetworkState<T> state, Span<T> output)
    {
        using DenormalScope flush = DenormalScope.Enter();
        ArgumentNullException.ThrowIfNull(state);
        int batch = state.Batch;
        input.Validate(batch, InputSize);
        if (output.Length < batch * OutputSize)
        {
            throw new ArgumentException($"output needs {batch * OutputSize} values", nameof(output));
        }

        StepInput<T> x = input;
        for (int l = 0; l < _layers.Length; l++)
        {
            LayerState<T> ls = state.Layers[l];
            ls.Scratch ??= _layers[l].CreateTape(batch, 1);
            _layers[l].Forward(x, ls, ls.Scratch, 0, inference: true);
            x = new StepInput<T>(ls.S);
        }

        state.ReadoutScratch ??= Readout.CreateTape(batch, 1);
        LayerState<T> top = state.Layers[^1];
        Readout.Forward(top.S, top.U, state.Readout, state.ReadoutScratch, 0, top.Step - 1, inference: true);
        state.ReadoutScratch.Slot(state.ReadoutScratch.O, 1).CopyTo(output);
    }

    /// <summary>
    /// Inference over a dense sequence: <paramref name="inputs"/> holds steps x B x D values,
    /// <paramref name="outputs"/> receives steps x B x C values (or only the last step's B x C
    /// when it is that short).
    /// </summary>
    public void Infer(ReadOnlySpan<T> inputs, int steps, NetworkState<T> state, Span<T> outputs)
    {
        using DenormalScope flush = DenormalScope.Enter();
        ArgumentNullException.ThrowIfNull(state);
        int inRow = state.Batch * InputSize;
        int outRow = state.Batch * OutputSize;
        if (inputs.Length < steps * inRow)
        {
            throw new ArgumentException($"inputs need {steps * inRow} values", nameof(inputs));
        }

        bool all = outputs.Length >= steps * outRow;
        if (!all && outputs.Length < outRow)
        {
            throw new ArgumentException($"outputs need {outRow} or {steps * outRow} values", nameof(outputs));
        }

        for (int t = 0; t < steps; t++)
        {
            Span<T> o = all ? outputs.Slice(t * outRow, outRow) : outputs[..outRow];
            Step(new StepInput<T>(inputs.Slice(t * inRow, inRow)), state, o);
        }
    }

    /// <summary>Forward step recorded into a training tape (slot <paramref name="t"/>); applies spike dropout when configured.</summary>
    internal void ForwardRecord(in StepInput<T> input, NetworkState<T> state, ChunkTape<T> tape, int t)
    {
        StepInput<T> x = input;
        ReadOnlySpan<T> up = default;
        for (int l = 0; l < _layers.Length; l++)
        {
            LayerState<T> ls = state.Layers[l];
            LayerTape<T> lt = tape.Layers[l];
            _layers[l].Forward(x, ls, lt, t, inference: false);
            up = lt.Slot(lt.S, t + 1);
            if (tape.Dropout > 0)
            {
                up = Drop(tape, l, t, up);
            }

            x = new StepInput<T>(up);
        }

        LayerTape<T> top = tape.Layers[^1];
        Readout.Forward(up, top.Slot(top.U, t + 1), state.Readout, tape.Readout, t, state.Layers[^1].Step - 1, inference: false);
    }

    /// <summary>Draws the dropout mask of layer <paramref name="l"/> at step <paramref name="t"/> and returns the dropped spikes.</summary>
    private static ReadOnlySpan<T> Drop(ChunkTape<T> tape, int l, int t, ReadOnlySpan<T> spikes)
    {
        int row = spikes.Length;
        Span<T> mask = tape.Masks[l].AsSpan(t * row, row);
        Span<T> dropped = tape.Dropped[l].AsSpan(t * row, row);
        T keep = T.One / (T.One - T.CreateTruncating(tape.Dropout));
        double p = tape.Dropout;
        int n = row / tape.Batch;

        // every stream draws its masks from its own generator, so a batch split into slices
        // (data-parallel training) draws exactly the masks of the whole batch
        for (int b = 0; b < tape.Batch; b++)
        {
            SnnRandom rng = tape.StreamRandom[b];
            for (int i = b * n; i < (b + 1) * n; i++)
            {
                T m = rng.NextDouble() < p ? T.Zero : keep;
                mask[i] = m;
                dropped[i] = spikes[i] * m;
            }
        }

        return dropped;
    }
}
