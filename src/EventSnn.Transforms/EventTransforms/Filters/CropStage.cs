using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Region of interest: keeps events with <c>0 &lt;= x - x0 &lt; width</c> and
/// <c>0 &lt;= y - y0 &lt; height</c> and maps them to <c>(x - x0, y - y0)</c>, like Tonic's
/// crops. Negative offsets pad (a box larger than the sensor, as Tonic's <c>CenterCrop</c> makes
/// it): every event moves right / down by the padding. <see cref="Center"/> gives Tonic's
/// <c>CenterCrop</c> offsets.
/// </summary>
public sealed class CropStage : IEventStage
{
    /// <summary>Creates a crop box (offsets may be negative: padding).</summary>
    public CropStage(int x0, int y0, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, 65535);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, 65535);
        X0 = x0;
        Y0 = y0;
        Width = width;
        Height = height;
    }

    /// <summary>Left edge (negative: padding).</summary>
    public int X0 { get; private set; }

    /// <summary>Top edge (negative: padding).</summary>
    public int Y0 { get; private set; }

    /// <summary>Box width.</summary>
    public int Width { get; }

    /// <summary>Box height.</summary>
    public int Height { get; }

    /// <summary>Events dropped so far.</summary>
    public long Dropped { get; private set; }

    /// <summary>
    /// Tonic's <c>CenterCrop</c>: a box of <paramref name="width"/> x <paramref name="height"/>
    /// at offsets floor((W - w) / 2), floor((H - h) / 2) (negative when the box is larger than
    /// the sensor: padding).
    /// </summary>
    public static CropStage Center(SensorGeometry geometry, int width, int height) =>
        new(FloorHalf(geometry.Width - width), FloorHalf(geometry.Height - height), width, height);

    /// <inheritdoc />
    public void Reset()
    {
    }

    /// <inheritdoc />
    public SensorGeometry OutputGeometry(SensorGeometry input) => new(Width, Height);

    /// <inheritdoc />
    public void Process(EventBatch input, EventBatch output)
    {
        var map = new ShiftMap { Dx = -X0, Dy = -Y0, Width = (uint)Width, Height = (uint)Height };
        int kept = EventLoop.Run(input, output, ref map);
        Dropped += input.Count - kept;
    }

    /// <summary>Moves the box (random crops draw their offsets per sample).</summary>
    internal void MoveTo(int x0, int y0)
    {
        X0 = x0;
        Y0 = y0;
    }

    private static int FloorHalf(int v) => (int)Math.Floor(v / 2.0);
}

/// <summary>
/// A fixed region of interest: the box of <see cref="Width"/> x <see cref="Height"/> whose
/// top-left corner is (<see cref="X"/>, <see cref="Y"/>), moved to the origin (see
/// <see cref="CropStage"/>). Text form "crop:WxH" (corner at 0,0) or "crop:WxH:x:y".
/// </summary>
public sealed class Crop : EventTransform
{
    /// <summary>Creates the transform.</summary>
    public Crop(int width, int height, int x = 0, int y = 0)
    {
        _ = new CropStage(x, y, width, height); // validates
        (Width, Height, X, Y) = (width, height, x, y);
    }

    /// <summary>Box width.</summary>
    public int Width { get; }

    /// <summary>Box height.</summary>
    public int Height { get; }

    /// <summary>Left edge.</summary>
    public int X { get; }

    /// <summary>Top edge.</summary>
    public int Y { get; }

    /// <inheritdoc />
    public override string Name => "crop";

    /// <inheritdoc />
    public override SensorGeometry OutputGeometry(SensorGeometry input) => new(Width, Height);

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => new CropStage(X, Y, Width, Height);

    /// <inheritdoc />
    public override string ToString() => X == 0 && Y == 0
        ? TransformText.Of(Name, new SensorGeometry(Width, Height))
        : TransformText.Of(Name, new SensorGeometry(Width, Height), X, Y);
}

/// <summary>
/// Tonic's <c>CenterCrop(size)</c>: the centred box of <see cref="Width"/> x <see cref="Height"/>
/// (offsets floor((W - w) / 2), floor((H - h) / 2); a box larger than the sensor pads). Text form
/// "center-crop:N" (square) or "center-crop:WxH". Needs the sensor size.
/// </summary>
public sealed class CenterCrop : EventTransform
{
    /// <summary>Creates the transform.</summary>
    public CenterCrop(int width, int height)
    {
        _ = new CropStage(0, 0, width, height); // validates
        (Width, Height) = (width, height);
    }

    /// <summary>Box width.</summary>
    public int Width { get; }

    /// <summary>Box height.</summary>
    public int Height { get; }

    /// <inheritdoc />
    public override string Name => "center-crop";

    /// <inheritdoc />
    public override SensorGeometry OutputGeometry(SensorGeometry input) => new(Width, Height);

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => CropStage.Center(Require(geometry), Width, Height);

    /// <inheritdoc />
    public override string ToString() => Width == Height ? TransformText.Of(Name, Width) : TransformText.Of(Name, new SensorGeometry(Width, Height));
}

/// <summary>
/// Tonic's <c>RandomCrop(target_size)</c>: a box of <see cref="Width"/> x <see cref="Height"/>
/// at offsets drawn per sample (per <see cref="IEventStage.Reset(ulong)"/>) as
/// <c>int(u (W - w))</c>, <c>int(u' (H - h))</c> with u, u' uniform in [0, 1). Text form
/// "random-crop:WxH". Needs the sensor size, at least as large as the box.
/// </summary>
public sealed class RandomCrop : EventTransform
{
    /// <summary>Creates the transform.</summary>
    public RandomCrop(int width, int height)
    {
        _ = new CropStage(0, 0, width, height); // validates
        (Width, Height) = (width, height);
    }

    /// <summary>Box width.</summary>
    public int Width { get; }

    /// <summary>Box height.</summary>
    public int Height { get; }

    /// <inheritdoc />
    public override string Name => "random-crop";

    /// <inheritdoc />
    public override bool IsRandom => true;

    /// <inheritdoc />
    public override SensorGeometry OutputGeometry(SensorGeometry input) => new(Width, Height);

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0)
    {
        Require(geometry);
        if (Width > geometry.Width || Height > geometry.Height)
        {
            throw new TransformException(ToString(), "target_size", $"is larger than the {geometry} sensor");
        }

        return new Stage(geometry, new CropStage(0, 0, Width, Height), seed);
    }

    /// <inheritdoc />
    public override string ToString() => TransformText.Of(Name, new SensorGeometry(Width, Height));

    private sealed class Stage : SeededStage
    {
        private readonly SensorGeometry _geometry;
        private readonly CropStage _crop;

        public Stage(SensorGeometry geometry, CropStage crop, ulong seed)
        {
            _geometry = geometry;
            _crop = crop;
            Reset(seed);
        }

        public override void Process(EventBatch input, EventBatch output) => _crop.Process(input, output);

        public override SensorGeometry OutputGeometry(SensorGeometry input) => _crop.OutputGeometry(input);

        protected override void OnReset()
        {
            int x0 = (int)(Random.NextDouble() * (_geometry.Width - _crop.Width));
            int y0 = (int)(Random.NextDouble() * (_geometry.Height - _crop.Height));
            _crop.MoveTo(x0, y0);
        }
    }
}
