using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Transforms;

namespace EventSnn.Cli;

/// <summary>
/// A DVS reader whose events pass through an event transform (<c>--transform</c>): batches are
/// read from the inner reader, transformed by one stage (the recording is one stream and one
/// sample for the transform's draws), and handed out in pieces that fit the caller's batch
/// (a noise transform may give more events than it was given). Triggers pass unchanged with
/// the first piece of their batch. <see cref="Geometry"/> is the geometry after the transform.
/// </summary>
internal sealed class TransformedReader : IDvsEventReader
{
    private readonly IDvsEventReader _inner;
    private readonly IEventStage _stage;
    private readonly EventBatch _read = new();
    private EventBatch _transformed = new();
    private int _next;

    /// <summary>Wraps <paramref name="inner"/>; throws <see cref="TransformException"/> when the transform cannot start on its geometry.</summary>
    public TransformedReader(IDvsEventReader inner, EventTransform transform, SensorGeometry geometry, ulong seed = 0)
    {
        _inner = inner;
        _stage = transform.Start(geometry, seed);
        Geometry = transform.OutputGeometry(geometry);
    }

    /// <summary>
    /// The text form of <c>--transform</c> parsed (null when not given or "none"); errors become
    /// usage errors naming the option, the item and the parameter.
    /// </summary>
    public static EventTransform? ParseOption(string? spec)
    {
        if (spec is null)
        {
            return null;
        }

        try
        {
            EventTransform t = TransformSpec.Parse(spec);
            return t is Compose { Transforms.Count: 0 } ? null : t;
        }
        catch (TransformException ex)
        {
            throw new UsageException("option --transform: " + ex.Message);
        }
    }

    /// <summary>Wraps <paramref name="reader"/> (events from a sensor of <paramref name="geometry"/>) with <paramref name="transform"/>, or returns it when there is none.</summary>
    public static IDvsEventReader Wrap(IDvsEventReader reader, EventTransform? transform, SensorGeometry geometry)
    {
        if (transform is null)
        {
            return reader;
        }

        try
        {
            return new TransformedReader(reader, transform, geometry);
        }
        catch (TransformException ex)
        {
            reader.Dispose();
            throw new UsageException("option --transform: " + ex.Message);
        }
    }

    /// <inheritdoc />
    public SensorGeometry Geometry { get; }

    /// <inheritdoc />
    public string SourceName => _inner.SourceName;

    /// <inheritdoc />
    public EventFormat Format => _inner.Format;

    /// <inheritdoc />
    public long Position => _inner.Position;

    /// <inheritdoc />
    public IReadOnlyList<FormatWarning> Warnings => _inner.Warnings;

    /// <inheritdoc />
    public bool Read(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        if (_next >= _transformed.Count)
        {
            if (!_inner.Read(_read))
            {
                return false;
            }

            int need = Math.Max(1, _stage.MaxOutputCount(_read.Count));
            if (_transformed.Capacity < need)
            {
                _transformed.Dispose();
                _transformed = new EventBatch(need);
            }

            _transformed.Clear();
            _stage.Process(_read, _transformed);
            _next = 0;
            foreach (TriggerEvent trigger in _read.Triggers.Items)
            {
                batch.Triggers.Add(trigger);
            }
        }

        int take = Math.Min(batch.Capacity, _transformed.Count - _next);
        batch.Append(_transformed, _next, take);
        _next += take;
        return true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        (_stage as IDisposable)?.Dispose();
        _read.Dispose();
        _transformed.Dispose();
        _inner.Dispose();
    }
}
