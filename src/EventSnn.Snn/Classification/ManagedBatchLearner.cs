using System.Text.Json.Nodes;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn.Classification;

/// <summary>
/// <see cref="ISequenceBatchLearner"/> on the managed engine: <see cref="FpttLearner{T}"/> or
/// <see cref="BpttLearner{T}"/> with Adam or Adamax. FPTT: the T steps of a batch run in chunks of L
/// steps with the loss terms of <see cref="SequenceLearnerSetup.Loss"/>; one update per chunk, state
/// carried across chunks without gradient. BPTT: one update per batch. Buffers are allocated
/// once; nothing is allocated per step.
/// </summary>
/// <remarks>
/// <para>
/// With <see cref="SequenceLearnerSetup.Threads"/> = K &gt; 1 the learner trains data-parallel:
/// every batch is cut into K contiguous slices of streams, and K threads (the caller's and K − 1
/// workers created with the learner) each run the forward and backward pass of one slice on their
/// own replica of the network. The replicas read the trained values themselves
/// (<see cref="Parameter{T}.ShareValues"/>: no copies) and own their gradients, tapes and states.
/// Each slice's loss terms carry the weight slice/B, so the slices' gradients add up to the
/// gradient of the whole batch's mean loss; after every chunk the threads add the replicas'
/// gradients into the network's (each thread a share of the parameters), and ONE clipped
/// optimiser + FPTT step is applied, again split over the threads by parameter elements (BPTT: by
/// the calling thread). Everything that couples the streams of a batch is computed over the whole
/// batch: the statistics of the per-timestep batch norm and of the running normalisation (and the
/// batch norm's gradient terms) are summed over the slices at every step, and every stream draws its
/// dropout masks from its own generator. Initial states are drawn for the whole batch and copied
/// into the slices. The result therefore equals the single-thread one up to the order of float
/// summations.
/// </para>
/// </remarks>
public sealed class ManagedBatchLearner : ISequenceBatchLearner
{
    private const int SegmentAlignment = 64;

    private readonly Network<float> _network;
    private readonly Optimizer<float> _optimizer;
    private readonly float[] _oracle;
    private readonly FpttLearner<float>? _fptt;
    private readonly Learner<float> _learner;
    private readonly NetworkState<float> _state;
    private readonly SnnRandom _random;
    private readonly float[][] _goodWeights;
    private readonly float[][] _goodAverage;
    private readonly Worker[] _workers;
    private readonly WorkerBarrier? _barrier;
    private readonly Thread[] _threads;
    private readonly bool _ranged;

    // the current batch (written by the calling thread before the start barrier)
    private float[] _inputs = [];
    private int[] _labels = [];
    private CancellationToken _cancellation;

    // per-chunk decisions shared by the threads (written before a barrier, read after it)
    private bool _cancelRequested;
    private bool _leaderDiverged;

    // the batch's outcome (written by the calling thread)
    private double _loss;
    private double _weights;
    private int _updates;
    private bool _diverged;
    private bool _complete;

    private volatile bool _shutdown;
    private Exception? _fault;

    /// <summary>Creates the network (initialised from the setup's seed), its learner and, with several threads, the replicas and worker threads.</summary>
    public ManagedBatchLearner(SequenceLearnerSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        int threads = setup.Threads;
        if (threads < 1 || threads > setup.Batch)
        {
            throw new ArgumentOutOfRangeException(nameof(setup), $"Threads = {threads} must be in 1..Batch ({setup.Batch})");
        }

        Setup = setup;
        _network = new Network<float>(setup.Network);
        _optimizer = setup.Optimizer == OptimizerKind.Adamax
            ? new Adamax<float>(_network.Parameters, setup.LearningRate, weightDecay: setup.WeightDecay)
            : new Adam<float>(_network.Parameters, setup.LearningRate, weightDecay: setup.WeightDecay);
        int classes = _network.OutputSize;
        _oracle = new float[setup.Batch * classes];
        Array.Fill(_oracle, 1f / classes);
        _random = new SnnRandom(setup.Seed);
        _state = _network.CreateState(setup.Batch, _random);

        // slices: K contiguous ranges of streams, the first B mod K one stream longer
        _workers = new Worker[threads];
        int first = 0;
        for (int k = 0; k < threads; k++)
        {
            int count = (setup.Batch / threads) + (k < setup.Batch % threads ? 1 : 0);
            Network<float> net = k == 0 ? _network : _network.CreateReplica();
            Learner<float> learner;
            if (k == 0)
            {
                if (setup.Method == SequenceTrainingMethod.Fptt)
                {
                    _fptt = new FpttLearner<float>(_network, _optimizer, setup.Fptt, count, setup.ChunkLength);
                    learner = _fptt;
                }
                else
                {
                    learner = setup.Method switch
                    {
                        SequenceTrainingMethod.Tbptt => new TruncatedBpttLearner<float>(_network, _optimizer, count, setup.ChunkLength, setup.GradientClip) { AutoUpdate = false },
                        SequenceTrainingMethod.Eprop => new EligibilityPropLearner<float>(_network, _optimizer, count, setup.ChunkLength, EpropFeedback.Symmetric, setup.GradientClip),
                        SequenceTrainingMethod.Ostl => new OstlLearner<float>(_network, _optimizer, count, setup.ChunkLength, setup.GradientClip),
                        _ => new BpttLearner<float>(_network, _optimizer, count, setup.Steps, setup.GradientClip),
                    };
                }

                _learner = learner;
            }
            else
            {
                learner = setup.Method switch
                {
                    // the online learners of the other slices keep their own eligibility traces and only add gradients
                    SequenceTrainingMethod.Eprop => new EligibilityPropLearner<float>(net, count, setup.ChunkLength, EpropFeedback.Symmetric),
                    SequenceTrainingMethod.Ostl => new OstlLearner<float>(net, count, setup.ChunkLength),
                    _ => new GradientOnlyLearner<float>(net, count, SequenceTrainingMethods.Chunked(setup.Method) ? setup.ChunkLength : setup.Steps),
                };
            }

            _workers[k] = new Worker(k, first, count, net, learner, threads == 1 ? _state : net.CreateState(count), new DecisionAccumulator(setup.Decision, count, classes));
            first += count;
        }

        _learner ??= _workers[0].Learner;
        _ranged = _fptt is not null && _fptt.SupportsRangedUpdate;
        _threads = [];
        if (threads > 1)
        {
            _barrier = new WorkerBarrier(threads);
            int widest = _network.Readout.Size; // the readout's normalisation sums too
            foreach (RecurrentLayer<float> layer in _network.Layers)
            {
                widest = Math.Max(widest, layer.Size);
            }

            var reducer = new BatchReducer(_barrier, setup.Batch, 2 * widest);
            foreach (Worker w in _workers)
            {
                w.Learner.JoinGroup(reducer, w.Index, w.First);
            }

            AssignSegments();
            _threads = new Thread[threads - 1];
            for (int k = 1; k < threads; k++)
            {
                _threads[k - 1] = new Thread(WorkerLoop)
                {
                    IsBackground = true,
                    Name = $"eventsnn-train-{k}",
                };
                _threads[k - 1].Start(_workers[k]);
            }
        }

        ParameterSet<float> ps = _network.Parameters;
        _goodWeights = new float[ps.Count][];
        _goodAverage = new float[ps.Count][];
        for (int p = 0; p < ps.Count; p++)
        {
            _goodWeights[p] = new float[ps[p].Length];
            _goodAverage[p] = new float[ps[p].Length];
        }

        Snapshot();
    }

    /// <inheritdoc/>
    public string Backend => "managed";

    /// <inheritdoc/>
    public SequenceLearnerSetup Setup { get; }

    /// <summary>The network trained (its weights are W).</summary>
    public Network<float> Network => _network;

    /// <summary>The FPTT learner (null for BPTT).</summary>
    public FpttLearner<float>? Fptt => _fptt;

    /// <summary>Threads that train a batch (data-parallel slices).</summary>
    public int Threads => _workers.Length;

    /// <summary>
    /// Working memory of the learners: the activation tapes (chunk length x batch x widths; BPTT: the
    /// whole sequence; e-prop/OSTL: one step), the gradients and eligibility traces, summed over the threads' replicas (computed from the
    /// buffers allocated, not process memory).
    /// </summary>
    public long WorkingMemoryBytes
    {
        get
        {
            long sum = 0;
            foreach (Worker w in _workers)
            {
                sum += w.Learner.WorkingMemoryBytes;
            }

            return sum;
        }
    }

    /// <summary>Test hook: bytes allocated by the training threads inside <see cref="TrainBatch"/> (each thread counts its own).</summary>
    internal long TrainingAllocatedBytes
    {
        get
        {
            long sum = 0;
            foreach (Worker w in _workers)
            {
                sum += Volatile.Read(ref w.AllocatedBytes);
            }

            return sum;
        }
    }

    /// <inheritdoc/>
    public double LearningRate
    {
        get => _optimizer.LearningRate;
        set => _optimizer.LearningRate = value;
    }

    /// <inheritdoc/>
    public BatchOutcome TrainBatch(float[] inputs, int[] labels, long stateSeed, CancellationToken cancellation)
    {
        using DenormalScope flush = DenormalScope.Enter();
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        ObjectDisposedException.ThrowIf(_shutdown, this);
        int b = Setup.Batch, d = _network.InputSize, steps = Setup.Steps;
        if (inputs.Length != steps * b * d || labels.Length != b)
        {
            throw new ArgumentException($"a batch needs {steps} x {b} x {d} inputs and {b} labels");
        }

        if (_barrier is { Faulted: true })
        {
            throw new InvalidOperationException("a data-parallel training thread failed earlier", _fault);
        }

        _random.Reseed(stateSeed);
        _network.ResetState(_state, _random);
        _inputs = inputs;
        _labels = labels;
        _cancellation = cancellation;
        _loss = 0;
        _weights = 0;
        _updates = 0;
        _diverged = false;
        _complete = true;
        if (_barrier is null)
        {
            RunSlice(_workers[0]);
        }
        else
        {
            foreach (Worker w in _workers)
            {
                CopyRows(_state, w.State, w.First, w.Count);
                if (w.Index > 0)
                {
                    w.Network.CopyBuffersFrom(_network);
                }
            }

            try
            {
                _barrier.SignalAndWait();
                RunSlice(_workers[0]);
                _barrier.SignalAndWait();
            }
            catch (WorkerFaultException)
            {
                throw new InvalidOperationException("a data-parallel training thread failed: " + _fault?.Message, _fault);
            }
            catch (Exception ex)
            {
                _fault ??= ex;
                _barrier.Fault();
                throw;
            }
        }

        int correct = 0;
        if (!_diverged && _complete)
        {
            foreach (Worker w in _workers)
            {
                correct += w.Correct;
            }
        }

        _inputs = [];
        _labels = [];
        return new BatchOutcome(_diverged ? double.NaN : _loss / Math.Max(_weights, 1e-12), correct, _updates, _diverged, _complete);
    }

    /// <inheritdoc/>
    public void EndEpoch() => _fptt?.EndEpoch();

    /// <summary>
    /// Loss weights of step <paramref name="t"/> (in chunk <paramref name="p"/> of
    /// <paramref name="chunks"/>, spanning [start, end)): the NLL weight and the oracle-term weight.
    /// </summary>
    private (double Weight, double Oracle) LossWeights(int t, int p, int chunks, int start, int end) =>
        LossSchedule.Weights(Setup.Loss, Setup.Weighting, Setup.Oracle, Setup.Method, Setup.Steps, t, p, chunks, start, end);

    /// <summary>One thread's part of a batch: its slice's chunks, each ended alone (one thread) or together with the other slices.</summary>
    private void RunSlice(Worker w)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        int b = Setup.Batch, d = _network.InputSize, steps = Setup.Steps, c = _network.OutputSize;
        int length = SequenceTrainingMethods.Chunked(Setup.Method) ? Setup.ChunkLength : steps;
        int chunks = (steps + length - 1) / length;
        double share = w.Count / (double)b;
        ReadOnlySpan<int> labels = _labels.AsSpan(w.First, w.Count);
        ReadOnlySpan<float> oracle = Setup.Oracle ? _oracle.AsSpan(w.First * c, w.Count * c) : default;
        float[] inputs = _inputs;
        w.Decisions.Reset();
        bool stop = false;
        for (int p = 0; p < chunks && !stop; p++)
        {
            int start = p * length, end = Math.Min(steps, start + length);
            double chunkWeight = 0;
            for (int t = start; t < end; t++)
            {
                (double weight, double oracleWeight) = LossWeights(t, p, chunks, start, end);
                chunkWeight += weight;
                var target = weight == 0 && oracleWeight == 0 ? default : new StepTarget<float>(labels, weight * share, oracle, oracleWeight * share);
                w.Learner.Observe(StepInput.Dense<float>(inputs.AsSpan(((t * b) + w.First) * d, w.Count * d)), target, w.State, w.Output);
                w.Decisions.Add(w.Output, w.Count);
            }

            stop = _barrier is null ? EndChunkAlone(chunkWeight, p, chunks) : EndChunkTogether(w, chunkWeight, p, chunks);
        }

        int correct = 0;
        for (int k = 0; k < w.Count; k++)
        {
            correct += w.Decisions.Decide(k) == labels[k] ? 1 : 0;
        }

        w.Correct = correct;
        Volatile.Write(ref w.AllocatedBytes, w.AllocatedBytes + (GC.GetAllocatedBytesForCurrentThread() - allocated));
    }

    /// <summary>Ends chunk <paramref name="p"/> on one thread; returns true when the batch stops (divergence or cancellation).</summary>
    private bool EndChunkAlone(double chunkWeight, int p, int chunks)
    {
        ChunkReport r;
        try
        {
            r = _learner.EndChunk();
        }
        catch (InvalidOperationException)
        {
            // the FPTT guard found W̄ itself non-finite (weights overflowed in an earlier step): Rollback repairs it
            _learner.DiscardChunk();
            _diverged = true;
            return true;
        }

        Account(r, chunkWeight);
        return _diverged || Cancelled(p, chunks);
    }

    /// <summary>
    /// Ends chunk <paramref name="p"/> together with the other slices (three barriers): backward of
    /// every slice; each thread adds the replicas' gradients of its share of the parameter elements
    /// into the network's and measures their norm; one clipped step (FPTT with a fused optimiser: each
    /// thread steps its share; otherwise the calling thread steps everything). Every thread takes the
    /// same stop decision (divergence or cancellation).
    /// </summary>
    private bool EndChunkTogether(Worker w, double chunkWeight, int p, int chunks)
    {
        WorkerBarrier barrier = _barrier!;
        bool leader = w.Index == 0;
        int steps = w.Learner.BackwardRecorded();
        w.Loss = w.Learner.RecordedLoss;
        barrier.SignalAndWait();

        ParameterSet<float> ps = _network.Parameters;
        double normSq = 0;
        foreach (Segment s in w.Segments)
        {
            Span<float> g = ps[s.Parameter].Grad.AsSpan(s.Start, s.Length);
            for (int k = 1; k < _workers.Length; k++)
            {
                normSq += Kernels.AddAndClear(g, _workers[k].Network.Parameters[s.Parameter].Grad.AsSpan(s.Start, s.Length), norm: k == _workers.Length - 1);
            }
        }

        w.NormSq = normSq;
        if (leader)
        {
            _cancelRequested = p + 1 < chunks && _cancellation.IsCancellationRequested;
            if (_ranged)
            {
                // the step count and the optimiser's constants (a skipped step is undone by the divergence repair)
                _fptt!.BeginRangedStep();
            }
        }

        barrier.SignalAndWait();
        double loss = 0;
        normSq = 0;
        foreach (Worker o in _workers)
        {
            loss += o.Loss;
            normSq += o.NormSq;
        }

        var report = new ChunkReport { Steps = steps, Loss = loss, GradientNorm = Math.Sqrt(normSq) };
        bool diverged;
        if (_ranged)
        {
            diverged = _fptt!.Options.DivergenceGuard && (!double.IsFinite(loss) || !double.IsFinite(normSq));
            if (!diverged)
            {
                double scale = _fptt.ClipScaleOf(report.GradientNorm);
                double reg = 0;
                foreach (Segment s in w.Segments)
                {
                    reg += _fptt.UpdateRange(s.Parameter, s.Start, s.Length, scale, out _);
                }

                w.Regularizer = reg;
            }
            else if (leader)
            {
                try
                {
                    _fptt.CompleteChunk(_fptt.RestoreAfterDivergence(report));
                }
                catch (InvalidOperationException)
                {
                    _fptt.DiscardChunk();
                }
            }
        }
        else
        {
            if (leader)
            {
                try
                {
                    report = _learner.UpdateRecorded(report);
                    _leaderDiverged = report.Diverged || !double.IsFinite(report.Loss);
                }
                catch (InvalidOperationException)
                {
                    _learner.DiscardChunk();
                    _leaderDiverged = true;
                }
            }

            diverged = false;
        }

        barrier.SignalAndWait();
        diverged |= !_ranged && _leaderDiverged;
        if (!leader)
        {
            w.Learner.DiscardChunk();
        }
        else if (_ranged && !diverged)
        {
            double reg = 0;
            foreach (Worker o in _workers)
            {
                reg += o.Regularizer;
            }

            report = _fptt!.CompleteChunk(_fptt.CompleteRangedStep(report, reg));
            Account(report, chunkWeight);
        }
        else if (diverged)
        {
            _diverged = true;
        }
        else
        {
            Account(report, chunkWeight);
        }

        if (_cancelRequested && leader)
        {
            _complete = false;
        }

        return diverged || _cancelRequested;
    }

    private void Account(in ChunkReport r, double chunkWeight)
    {
        _loss += r.Loss;
        _weights += chunkWeight;
        _updates += r.Updated ? 1 : 0;
        _diverged = r.Diverged || !double.IsFinite(r.Loss);
    }

    private bool Cancelled(int p, int chunks)
    {
        if (p + 1 < chunks && _cancellation.IsCancellationRequested)
        {
            _complete = false;
            return true;
        }

        return false;
    }

    /// <summary>A worker thread: waits for a batch, trains its slice, waits for the others; exits on shutdown or a fault.</summary>
    private void WorkerLoop(object? state)
    {
        DenormalScope.EnterForThread(); // this thread runs engine slices only
        var w = (Worker)state!;
        WorkerBarrier barrier = _barrier!;
        try
        {
            while (true)
            {
                barrier.SignalAndWait();
                if (_shutdown)
                {
                    return;
                }

                RunSlice(w);
                barrier.SignalAndWait();
            }
        }
        catch (WorkerFaultException)
        {
            // another thread failed; the caller reports it
        }
        catch (Exception ex)
        {
            _fault ??= ex;
            barrier.Fault();
        }
    }

    /// <summary>Splits the parameters' elements into one contiguous share per thread (aligned, near-equal).</summary>
    private void AssignSegments()
    {
        ParameterSet<float> ps = _network.Parameters;
        long total = ps.TotalLength;
        int threads = _workers.Length;
        var lists = new List<Segment>[threads];
        for (int k = 0; k < threads; k++)
        {
            lists[k] = [];
        }

        long offset = 0;
        for (int p = 0; p < ps.Count; p++)
        {
            int start = 0;
            int length = ps[p].Length;
            while (start < length)
            {
                long global = offset + start;
                int k = (int)Math.Min(threads - 1, global * threads / total);
                long bound = (k + 1) * total / threads;
                int end = k == threads - 1 ? length : (int)Math.Min(length, Math.Max(start + 1, AlignUp(bound - offset)));
                lists[k].Add(new Segment(p, start, end - start));
                start = end;
            }

            offset += length;
        }

        for (int k = 0; k < threads; k++)
        {
            _workers[k].Segments = [.. lists[k]];
        }
    }

    private static long AlignUp(long x) => (x + SegmentAlignment - 1) / SegmentAlignment * SegmentAlignment;

    /// <summary>Copies streams [first, first + count) of <paramref name="source"/> into <paramref name="slice"/> (count streams).</summary>
    private static void CopyRows(NetworkState<float> source, NetworkState<float> slice, int first, int count)
    {
        for (int l = 0; l < source.Layers.Count; l++)
        {
            LayerState<float> from = source.Layers[l];
            LayerState<float> to = slice.Layers[l];
            int n = from.Size;
            from.U.AsSpan(first * n, count * n).CopyTo(to.U);
            from.S.AsSpan(first * n, count * n).CopyTo(to.S);
            from.B.AsSpan(first * n, count * n).CopyTo(to.B);
            to.Step = from.Step;
        }

        int c = source.ReadoutSize;
        source.Readout.AsSpan(first * c, count * c).CopyTo(slice.Readout);
    }

    /// <inheritdoc/>
    public bool Snapshot()
    {
        ParameterSet<float> ps = _network.Parameters;
        for (int p = 0; p < ps.Count; p++)
        {
            if (!AllFinite(ps[p].Data) || (_fptt is not null && !AllFinite(_fptt.GetAverage(p))))
            {
                return false;
            }
        }

        for (int p = 0; p < ps.Count; p++)
        {
            ps[p].Data.CopyTo(_goodWeights[p], 0);
            _fptt?.GetAverage(p).CopyTo(_goodAverage[p], 0);
        }

        return true;
    }

    /// <inheritdoc/>
    public void Rollback()
    {
        _learner.DiscardChunk();
        ParameterSet<float> ps = _network.Parameters;
        for (int p = 0; p < ps.Count; p++)
        {
            if (_fptt is not null)
            {
                _goodAverage[p].CopyTo(_fptt.GetAverage(p), 0);
                _goodAverage[p].CopyTo(ps[p].Data, 0);
                Array.Clear(_fptt.GetLambda(p));
            }
            else
            {
                _goodWeights[p].CopyTo(ps[p].Data, 0);
            }

            ps[p].MarkChanged();
        }

        ps.ZeroGrad();
        for (int k = 1; k < _workers.Length; k++)
        {
            _workers[k].Learner.DiscardChunk();
            _workers[k].Network.Parameters.ZeroGrad();
        }

        _optimizer.ResetState();
        _fptt?.Resynchronize();
    }

    /// <inheritdoc/>
    public void ExportWeights(Network<float> target)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.CopyFrom(_network);
    }

    /// <summary>
    /// Saves atomically. A BPTT checkpoint also carries an FPTT state with W̄ = W and λ = 0, so
    /// that the streaming classifiers (which adapt with FPTT) load it like an FPTT one.
    /// </summary>
    public void Save(string path, JsonObject training) =>
        Checkpoint.Save(path, _network, _optimizer, _fptt ?? new FpttLearner<float>(_network, _optimizer, Setup.Fptt, 1, 1), training);

    /// <inheritdoc/>
    public CheckpointData Load(string path)
    {
        CheckpointData data = Checkpoint.Load(path, _network, _optimizer, _fptt);
        _fptt?.Resynchronize();
        Snapshot();
        return data;
    }

    /// <summary>Stops the worker threads (data-parallel training).</summary>
    public void Dispose()
    {
        if (_shutdown)
        {
            return;
        }

        _shutdown = true;
        if (_barrier is null)
        {
            return;
        }

        if (!_barrier.Faulted)
        {
            try
            {
                _barrier.SignalAndWait();
            }
            catch (WorkerFaultException)
            {
                // the workers have exited already
            }
        }

        foreach (Thread t in _threads)
        {
            t.Join();
        }

        _barrier.Dispose();
    }

    internal static bool AllFinite(ReadOnlySpan<float> values)
    {
        float sum = 0;
        foreach (float v in values)
        {
            sum += v * 0;
        }

        // any NaN or ±Inf makes v * 0 NaN
        return !float.IsNaN(sum);
    }

    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int c = 1; c < values.Length; c++)
        {
            if (values[c] > values[best])
            {
                best = c;
            }
        }

        return best;
    }

    /// <summary>Elements [Start, Start + Length) of parameter <see cref="Parameter"/>.</summary>
    private readonly record struct Segment(int Parameter, int Start, int Length);

    /// <summary>One thread's slice of the batch and everything it owns.</summary>
    private sealed class Worker(int index, int first, int count, Network<float> network, Learner<float> learner, NetworkState<float> state, DecisionAccumulator decisions)
    {
        public long AllocatedBytes;

        public int Index { get; } = index;

        /// <summary>First stream of the slice in the batch.</summary>
        public int First { get; } = first;

        /// <summary>Streams of the slice.</summary>
        public int Count { get; } = count;

        /// <summary>The network (the trained one for slice 0, a replica sharing its values otherwise).</summary>
        public Network<float> Network { get; } = network;

        /// <summary>Records and differentiates the slice (slice 0: the learner that also updates).</summary>
        public Learner<float> Learner { get; } = learner;

        public NetworkState<float> State { get; } = state;

        public float[] Output { get; } = new float[count * network.OutputSize];

        public DecisionAccumulator Decisions { get; } = decisions;

        /// <summary>This thread's share of the parameter elements (gradient sums and the update).</summary>
        public Segment[] Segments { get; set; } = [];

        /// <summary>The slice's loss of the current chunk.</summary>
        public double Loss { get; set; }

        /// <summary>‖Grad‖² of this thread's share after the gradient sum.</summary>
        public double NormSq { get; set; }

        /// <summary>This thread's share of the next regulariser value.</summary>
        public double Regularizer { get; set; }

        /// <summary>Correct decisions of the slice in the last batch.</summary>
        public int Correct { get; set; }
    }
}
