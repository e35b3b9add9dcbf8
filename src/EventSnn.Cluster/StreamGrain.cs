using System.Globalization;
using System.Text;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;
using EventSnn.Snn.Classification;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace EventSnn.Cluster;

/// <summary>
/// The grain of one sensor stream: labelled samples, or windows while the stream has no labels
/// (see <see cref="LabelledStreamProcessor"/>). On activation it loads its persisted state and
/// (re)creates its two durable JetStream consumers (event packets, label intervals) at the
/// persisted resume sequences. A grain timer then pulls: each round fetches the available
/// packets, then the labels (so every label published before a fetched packet is known when the
/// packet is processed). Decisions are published to <c>eventsnn.decisions.NAME</c> with a message
/// id, so a replay cannot duplicate them. After a round that decided something (or after many
/// packets without a decision) the state is written to Redis: the model with its FPTT and
/// optimiser state, the undecided labels, the counters and the resume points. Only then are the
/// messages before the resume point acknowledged.
/// </summary>
[KeepAlive]
public sealed class StreamGrain : Grain, IStreamGrain, IDisposable
{
    private const int FetchBatch = 256;
    private const int HeldLimit = 512;
    private static readonly TimeSpan IdleMax = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(15);

    // a pull request lost with a NATS restart is given up after this long (and fetched again)
    private static readonly TimeSpan FetchExpiry = TimeSpan.FromSeconds(2);
    private readonly IPersistentState<StreamGrainState> _state;
    private readonly INatsConnection _nats;
    private readonly ClusterModels _models;
    private readonly ClusterSiloOptions _options;
    private readonly ILogger<StreamGrain> _log;
    private readonly ILocalSiloDetails _silo;
    private readonly List<Held> _held = [];
    private readonly List<Held> _heldLabels = [];
    private readonly Queue<NatsJSMsg<byte[]>> _backlog = new();
    private readonly List<StreamDecision> _decided = [];
    private readonly EventBatch _batch = new(EventPacketCodec.MaxEvents);
    private NatsJSContext? _js;
    private INatsJSConsumer? _events;
    private INatsJSConsumer? _labels;
    private EventPacketCodec? _codec;
    private LabelledStreamProcessor? _processor;
    private string _name = string.Empty;
    private string? _error;
    private bool _restored;
    private bool _dirty;
    private bool _labelsDue = true;
    private TimeSpan _idleDelay;
    private long _idleUntil;

    /// <summary>Created by Orleans with its persisted state and the silo's services.</summary>
    public StreamGrain(
        [PersistentState("stream", ClusterNames.GrainStorage)] IPersistentState<StreamGrainState> state,
        INatsConnection nats,
        ClusterModels models,
        IOptions<ClusterSiloOptions> options,
        ILocalSiloDetails silo,
        ILogger<StreamGrain> log)
    {
        ArgumentNullException.ThrowIfNull(options);
        _state = state;
        _nats = nats;
        _models = models;
        _options = options.Value;
        _silo = silo;
        _log = log;
    }

    /// <inheritdoc/>
    public Task<StreamStatus> Ensure() => Task.FromResult(Status());

    /// <inheritdoc/>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _name = ClusterNames.Checked(this.GetPrimaryKeyString());
        _js = new NatsJSContext((NatsConnection)_nats);
        StreamGrainState s = _state.State;
        _restored = _state.RecordExists;
        if (s.Sensor.Length > 0)
        {
            Open(s.Sensor);
            if (s.Model.Length > 0 || s.SegmentStarts.Length > 0 || s.Decisions > 0)
            {
                var segments = new LabelSegment[s.SegmentStarts.Length];
                for (int i = 0; i < segments.Length; i++)
                {
                    segments[i] = new LabelSegment(s.SegmentLabels[i], s.SegmentStarts[i], s.SegmentEnds[i]);
                }

                _processor!.Restore(new StreamSnapshot(s.Model, segments, s.ResumeTimeUs, s.Decisions, s.Labelled, s.Correct, s.Events, s.WindowOriginUs));
            }
        }

        // the consumers restart at the persisted resume points: what came before is done with
        _events = await RecreateConsumerAsync(ClusterNames.EventsConsumer(_name), ClusterNames.Events(_name), s.ResumeSequence, cancellationToken).ConfigureAwait(true);
        _labels = await RecreateConsumerAsync(ClusterNames.LabelsConsumer(_name), ClusterNames.Labels(_name), s.LabelsSequence, cancellationToken).ConfigureAwait(true);
        _log.LogInformation("stream {Stream}: active on {Silo}, resuming at sequence {Sequence} after {Decisions} decisions{Restored}", _name, _silo.SiloAddress, s.ResumeSequence, s.Decisions, _restored ? " (persisted state)" : string.Empty);
        this.RegisterGrainTimer(static (self, token) => self.PullAsync(token), this, new GrainTimerCreationOptions(TimeSpan.Zero, TimeSpan.FromMilliseconds(20)) { Interleave = false, KeepAlive = true });
        await base.OnActivateAsync(cancellationToken).ConfigureAwait(true);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _processor?.Dispose();
        _codec?.Dispose();
        _batch.Dispose();
    }

    private StreamStatus Status() => new(
        _name,
        _silo.SiloAddress.ToString(),
        _processor?.Decisions ?? _state.State.Decisions,
        _processor?.Labelled ?? _state.State.Labelled,
        _processor?.Correct ?? _state.State.Correct,
        _processor?.Events ?? _state.State.Events,
        _state.State.ResumeSequence,
        _restored,
        _error);

    private void Open(string sensor)
    {
        SensorGeometry geometry = ParseSensor(sensor);
        _codec = new EventPacketCodec(geometry);
        _processor = new LabelledStreamProcessor(_name, _models.For(geometry), _options.LabelBase, _options.WindowUs);
        _state.State.Sensor = sensor;
    }

    private async Task<INatsJSConsumer> RecreateConsumerAsync(string name, string subject, ulong start, CancellationToken cancellation)
    {
        try
        {
            await _js!.DeleteConsumerAsync(ClusterNames.InputStream, name, cancellation).ConfigureAwait(true);
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            // first activation: there is none yet
        }

        return await _js!.CreateOrUpdateConsumerAsync(
            ClusterNames.InputStream,
            new ConsumerConfig(name)
            {
                FilterSubject = subject,
                AckPolicy = ConsumerConfigAckPolicy.Explicit,
                AckWait = TimeSpan.FromMinutes(5),
                MaxAckPending = 1_000_000,
                DeliverPolicy = start > 0 ? ConsumerConfigDeliverPolicy.ByStartSequence : ConsumerConfigDeliverPolicy.All,
                OptStartSeq = start,
            },
            cancellation).ConfigureAwait(true);
    }

    private async Task PullAsync(CancellationToken grainCancellation)
    {
        if (_events is null || _labels is null)
        {
            return;
        }

        // an idle stream is polled less and less often (up to IdleMax), a busy one every tick
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (now < _idleUntil)
        {
            return;
        }

        // a request sent just before NATS went away may never be answered: no round waits forever
        using var round = CancellationTokenSource.CreateLinkedTokenSource(grainCancellation);
        round.CancelAfter(RoundTimeout);
        CancellationToken cancellation = round.Token;

        long decisionsBefore = _processor?.Decisions ?? 0;
        try
        {
            if (_decided.Count > 0)
            {
                // decisions made before NATS went away: published (again) first
                await PublishDecisionsAsync(cancellation).ConfigureAwait(true);
            }

            if (_backlog.Count == 0)
            {
                await foreach (NatsJSMsg<byte[]> msg in _events.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = FetchBatch, Expires = FetchExpiry }, cancellationToken: cancellation).ConfigureAwait(true))
                {
                    _backlog.Enqueue(msg);
                    _labelsDue = true;
                }

                _idleDelay = _backlog.Count > 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Clamp(_idleDelay.Ticks * 2, TimeSpan.FromMilliseconds(20).Ticks, IdleMax.Ticks));
                _idleUntil = now + (long)(_idleDelay.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
            }

            // labels after the packets: any label published before one of them is fetched now
            while (_labelsDue)
            {
                int n = 0;
                await foreach (NatsJSMsg<byte[]> msg in _labels.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = FetchBatch, Expires = FetchExpiry }, cancellationToken: cancellation).ConfigureAwait(true))
                {
                    HandleLabels(msg);
                    n++;
                }

                _labelsDue = n == FetchBatch;
            }

            // fetched packets are processed in order even when NATS goes away in between
            while (_backlog.TryDequeue(out NatsJSMsg<byte[]> msg))
            {
                HandlePacket(msg);
                if (_decided.Count > 0)
                {
                    await PublishDecisionsAsync(cancellation).ConfigureAwait(true);
                }
            }
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException or OperationCanceledException && !grainCancellation.IsCancellationRequested)
        {
            // NATS is away (restart, network): the connection reconnects; the next tick fetches,
            // publishes and persists what is left (decisions keep their message ids)
            _error = "NATS: " + ex.Message;
        }
        finally
        {
            // persisted after a decision, and after many packets without one (so acknowledgements advance)
            _dirty |= (_processor?.Decisions ?? 0) != decisionsBefore
                || (_held.Count >= HeldLimit && _held[0].MaxT < (_processor?.ResumeTimeUs ?? long.MinValue));
        }

        if (_dirty && _decided.Count == 0)
        {
            try
            {
                await PersistAsync(cancellation).ConfigureAwait(true);
                _dirty = false;
            }
            catch (Exception ex) when (ex is NatsException or TimeoutException or OperationCanceledException && !grainCancellation.IsCancellationRequested)
            {
                _error = "NATS: " + ex.Message; // persisted; the acknowledgements are sent again next time
            }
            catch (Orleans.Storage.InconsistentStateException)
            {
                // a write that timed out had landed after all: take the stored version's tag, write again next round
                string sensor = _state.State.Sensor;
                await _state.ReadStateAsync(grainCancellation).ConfigureAwait(true);
                _state.State.Sensor = sensor;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !grainCancellation.IsCancellationRequested)
            {
                // the state store is away (Redis down): nothing is acknowledged, the next round writes again
                if (_error != "state: " + ex.Message)
                {
                    _error = "state: " + ex.Message;
                    _log.LogWarning("stream {Stream}: writing its state failed: {Problem} (retrying)", _name, ex.Message);
                }
            }
        }
    }

    private void HandleLabels(NatsJSMsg<byte[]> msg)
    {
        ulong seq = msg.Metadata?.Sequence.Stream ?? 0;
        try
        {
            List<LabelSegment> segments = LabelCsv.Parse(msg.Data ?? [], $"{msg.Subject} sequence {seq}");
            if (_processor is null)
            {
                // labels ahead of the first packet: kept in the state until the sensor is known
                AppendPendingLabels(segments);
            }
            else
            {
                _processor.AddLabels(segments);
            }
        }
        catch (EventFormatException ex)
        {
            _error = ex.Message;
            _log.LogWarning("stream {Stream}: {Error} (skipped)", _name, ex.Message);
        }

        _heldLabels.Add(new Held(msg, seq, long.MinValue));
    }

    private void HandlePacket(NatsJSMsg<byte[]> msg)
    {
        ulong seq = msg.Metadata?.Sequence.Stream ?? 0;
        if (Header(msg, ClusterNames.EndOfStreamHeader) is not null)
        {
            _processor?.Complete(_decided.Add);
            _held.Add(new Held(msg, seq, long.MaxValue));
            return;
        }

        string? sensor = Header(msg, ClusterNames.SensorHeader);
        if (_processor is null)
        {
            if (sensor is null)
            {
                _error = $"{msg.Subject} sequence {seq}: no {ClusterNames.SensorHeader} header (packet skipped)";
                _held.Add(new Held(msg, seq, long.MinValue));
                return;
            }

            try
            {
                Open(sensor);
            }
            catch (FormatException ex)
            {
                _error = $"{msg.Subject} sequence {seq}: {ex.Message} (packet skipped)";
                _held.Add(new Held(msg, seq, long.MinValue));
                return;
            }

            LabelSegment[] early = PendingLabels();
            if (early.Length > 0)
            {
                _processor!.AddLabels(early);
            }
        }

        long maxT = long.MinValue;
        try
        {
            Aedat4Compression compression = ParseCompression(Header(msg, ClusterNames.CompressionHeader));
            _batch.Clear();
            _codec!.Decode(msg.Data ?? [], compression, _batch, $"{msg.Subject} sequence {seq}");
            if (_batch.Count > 0)
            {
                maxT = _batch.T[_batch.Count - 1];
                _processor!.Process(_batch, _decided.Add);
            }
        }
        catch (EventFormatException ex)
        {
            _error = ex.Message;
            _log.LogWarning("stream {Stream}: {Error} (packet skipped)", _name, ex.Message);
        }

        _held.Add(new Held(msg, seq, maxT));
    }

    private async Task PublishDecisionsAsync(CancellationToken cancellation)
    {
        string subject = ClusterNames.Decisions(_name);
        string silo = _silo.SiloAddress.ToString();
        foreach (StreamDecision d in _decided)
        {
            byte[] json = (d with { Silo = silo }).ToUtf8Json();
            PubAckResponse ack = await _js!.PublishAsync(subject, json, opts: new NatsJSPubOpts { MsgId = ClusterNames.DecisionMessageId(d) }, cancellationToken: cancellation).ConfigureAwait(true);
            if (ack.Error is { } error)
            {
                throw new InvalidOperationException($"stream {_name}: publishing decision {d.Index} failed: {error.Description} ({error.Code})");
            }
        }

        _decided.Clear();
    }

    private async Task PersistAsync(CancellationToken cancellation)
    {
        StreamSnapshot snap = _processor!.Snapshot();
        ulong resume = 0;
        foreach (Held h in _held)
        {
            if (h.MaxT >= snap.ResumeTimeUs)
            {
                resume = h.Seq;
                break;
            }
        }

        if (resume == 0 && _held.Count > 0)
        {
            resume = _held[^1].Seq + 1;
        }

        StreamGrainState s = _state.State;
        s.Model = snap.Model;
        s.SegmentLabels = [.. snap.Segments.Select(x => x.Label)];
        s.SegmentStarts = [.. snap.Segments.Select(x => x.StartUs)];
        s.SegmentEnds = [.. snap.Segments.Select(x => x.EndUs)];
        s.ResumeTimeUs = snap.ResumeTimeUs;
        s.Decisions = snap.Decisions;
        s.Labelled = snap.Labelled;
        s.Correct = snap.Correct;
        s.Events = snap.Events;
        s.WindowOriginUs = snap.WindowOriginUs;
        s.ResumeSequence = Math.Max(s.ResumeSequence, resume);
        if (_heldLabels.Count > 0)
        {
            s.LabelsSequence = Math.Max(s.LabelsSequence, _heldLabels[^1].Seq + 1);
        }

        await _state.WriteStateAsync(cancellation).ConfigureAwait(true);

        // acknowledged only once persisted past them
        int done = 0;
        while (done < _held.Count && _held[done].Seq < s.ResumeSequence)
        {
            await _held[done].Message.AckAsync(cancellationToken: cancellation).ConfigureAwait(true);
            done++;
        }

        _held.RemoveRange(0, done);
        foreach (Held h in _heldLabels)
        {
            await h.Message.AckAsync(cancellationToken: cancellation).ConfigureAwait(true);
        }

        _heldLabels.Clear();
    }

    private void AppendPendingLabels(List<LabelSegment> segments)
    {
        StreamGrainState s = _state.State;
        s.SegmentLabels = [.. s.SegmentLabels, .. segments.Select(x => x.Label)];
        s.SegmentStarts = [.. s.SegmentStarts, .. segments.Select(x => x.StartUs)];
        s.SegmentEnds = [.. s.SegmentEnds, .. segments.Select(x => x.EndUs)];
    }

    private LabelSegment[] PendingLabels()
    {
        StreamGrainState s = _state.State;
        var result = new LabelSegment[s.SegmentStarts.Length];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = new LabelSegment(s.SegmentLabels[i], s.SegmentStarts[i], s.SegmentEnds[i]);
        }

        return result;
    }

    private static string? Header(NatsJSMsg<byte[]> msg, string name) =>
        msg.Headers is { } h && h.TryGetValue(name, out Microsoft.Extensions.Primitives.StringValues v) && v.Count > 0 ? v[^1] : null;

    internal static SensorGeometry ParseSensor(string text) =>
        SensorGeometry.TryParse(text, out SensorGeometry g) ? g : throw new FormatException($"{ClusterNames.SensorHeader} '{text}' is not WIDTHxHEIGHT");

    internal static Aedat4Compression ParseCompression(string? text) => text switch
    {
        null or "lz4" => Aedat4Compression.Lz4,
        "none" => Aedat4Compression.None,
        "zstd" => Aedat4Compression.Zstd,
        _ => throw new EventFormatException("packet", 0, $"unknown compression '{text}'", ClusterNames.CompressionHeader),
    };

    private readonly record struct Held(NatsJSMsg<byte[]> Message, ulong Seq, long MaxT);
}
